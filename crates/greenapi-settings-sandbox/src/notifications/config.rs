//! How notifications behave: the queue's size, the delivery timings (the API's, scaled for
//! tests), the `receiveTimeout` scale and the optional restart notifications. The builder
//! methods live here, on [`SandboxConfig`], next to the settings they fill.

use std::time::Duration;

use super::core::DELIVERY;
use crate::config::SandboxConfig;

/// Notifications kept per instance unless [`SandboxConfig::notify_queue`] sets another number.
pub const DEFAULT_NOTIFY_QUEUE: usize = 1000;

/// The notification settings of a sandbox (part of [`SandboxConfig`]).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct NotifyConfig {
    /// Notifications kept per instance, at least 1; when full the oldest is dropped.
    pub(crate) queue: usize,
    /// How long a receiver has to answer one delivery.
    pub(crate) response_timeout: Duration,
    /// Pause after a failed delivery before the same notification is sent again.
    pub(crate) retry_pause: Duration,
    /// Factor applied to `receiveTimeout` (1: the seconds the caller asked for).
    pub(crate) receive_scale: f64,
    /// Whether a setSettings restart sends stateInstanceChanged `starting` → `authorized`.
    pub(crate) restarts: bool,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            queue: DEFAULT_NOTIFY_QUEUE,
            response_timeout: Duration::from_secs(DELIVERY.response_timeout_secs),
            retry_pause: Duration::from_secs(DELIVERY.retry_pause_secs),
            receive_scale: 1.0,
            restarts: false,
        }
    }
}

impl SandboxConfig {
    /// Notifications kept per instance ([`DEFAULT_NOTIFY_QUEUE`]; 0 counts as 1): not yet
    /// delivered to the webhook, or not yet deleted with `deleteNotification`. When the queue
    /// is full, a new notification drops the oldest, which is counted (`dropped`).
    pub fn notify_queue(mut self, notifications: usize) -> Self {
        self.notify.queue = notifications.max(1);
        self
    }

    /// How long a webhook receiver has to answer (the API waits
    /// [`DELIVERY`](greenapi_settings::DELIVERY)`.response_timeout_secs`, 180 s); no answer in
    /// time is a failed delivery. At least 1 ms.
    pub fn notify_timeout(mut self, timeout: Duration) -> Self {
        self.notify.response_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// Pause after a failed delivery before the same notification is sent again (the API's
    /// is 60 s).
    pub fn notify_retry(mut self, pause: Duration) -> Self {
        self.notify.retry_pause = pause;
        self
    }

    /// Factor (0.0–1.0, clamped; NaN means 1) applied to `receiveNotification`'s
    /// `receiveTimeout`: 0.01 makes the default 5 s wait 50 ms, for tests.
    pub fn notify_receive_scale(mut self, scale: f64) -> Self {
        self.notify.receive_scale = if scale.is_nan() {
            1.0
        } else {
            scale.clamp(0.0, 1.0)
        };
        self
    }

    /// Not documented by the API: each `setSettings` restart sends stateInstanceChanged
    /// `starting`, then `authorized` once the restart is over (after the
    /// [`restart_duration`](Self::restart_duration)), each if the settings enable it.
    pub fn notify_restarts(mut self, on: bool) -> Self {
        self.notify.restarts = on;
        self
    }
}
