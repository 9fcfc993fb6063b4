//! The delivery worker of one instance: while the instance has a `webhookUrl` and a queued
//! notification, it POSTs the head of the queue (one at a time, in order) until the receiver
//! answers 200, pausing [`retry_pause`](super::config::NotifyConfig) after each failure and
//! sending the same notification again, as the API does. Each attempt reads the settings
//! anew, so it goes to the URL (and with the token) set now. Each instance has its own task,
//! so a receiver that hangs holds up its own instance only.
//!
//! The worker is started with the instance's first notification and sleeps while there is
//! nothing to do; [`wake`] rouses it (a new notification, a settings change).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::hub::Slot;
use crate::state::Shared;

/// Starts instance `id`'s worker unless it runs (or the sandbox stopped), then wakes it.
pub(crate) fn wake(shared: &Arc<Shared>, id: u64, slot: &Arc<Slot>) {
    if !slot.worker.swap(true, Ordering::SeqCst) && !shared.notifications.is_stopped() {
        let task = tokio::spawn(run(Arc::clone(shared), id, Arc::clone(slot)));
        shared.notifications.keep(task.abort_handle());
    }
    slot.wake.notify_one();
}

/// Wakes instance `id`'s worker (and its `receiveNotification` callers) now and, when
/// settings change later by themselves (the apply delay, a scheduled drift), again then: a
/// `webhookUrl` set or emptied by this change is then used.
///
/// The later wake-ups are set even for an instance with no notification yet: one triggered
/// while this change is pending must go out when the change takes effect (`wake_now` does
/// nothing for an instance that still has none then).
pub(crate) fn settings_changed(shared: &Arc<Shared>, id: u64) {
    wake_now(shared, id);
    let apply = shared.config.apply_delay;
    let drift = shared
        .config
        .drift
        .after
        .map(|after| apply.saturating_add(after));
    for delay in [Some(apply).filter(|d| !d.is_zero()), drift]
        .into_iter()
        .flatten()
    {
        let later = Arc::clone(shared);
        let task = tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            wake_now(&later, id);
        });
        shared.notifications.keep(task.abort_handle());
    }
}

/// Wakes instance `id`'s receivers, and its worker if it runs or has something to send.
fn wake_now(shared: &Arc<Shared>, id: u64) {
    let Some(slot) = shared.notifications.existing(id) else {
        return;
    };
    slot.arrived.notify_waiters();
    if slot.worker.load(Ordering::SeqCst) || !is_empty(&slot) {
        wake(shared, id, &slot);
    }
}

fn is_empty(slot: &Slot) -> bool {
    crate::state::lock(&slot.state).queue.is_empty()
}

/// Where instance `id` delivers now: its `webhookUrl` and `webhookUrlToken`, if the URL is set.
pub(crate) fn target(shared: &Shared, id: u64) -> Option<(String, String)> {
    let settings = shared.current_settings(id)?;
    (!settings.webhook_url.is_empty()).then_some((settings.webhook_url, settings.webhook_url_token))
}

async fn run(shared: Arc<Shared>, id: u64, slot: Arc<Slot>) {
    let config = shared.notifications.config.clone();
    loop {
        let next = target(&shared, id).and_then(|t| slot.head().map(|h| (t, h)));
        let Some(((url, token), head)) = next else {
            slot.wake.notified().await;
            continue;
        };
        let body = serde_json::to_vec(&head.body).unwrap_or_default();
        let started = Instant::now();
        let verdict = shared
            .notifications
            .sender
            .deliver(&url, &token, body, config.response_timeout)
            .await;
        match verdict {
            Ok(()) => {
                if slot.delivered(head.receipt_id, started.elapsed()) {
                    // A failed write is not a failed delivery; the next change writes again.
                    let _ = shared.persist().await;
                }
            }
            Err(failure) => {
                slot.failed(head.receipt_id, &head.kind, failure.to_string());
                pause(config.retry_pause).await;
            }
        }
    }
}

async fn pause(d: Duration) {
    if !d.is_zero() {
        tokio::time::sleep(d).await;
    }
}
