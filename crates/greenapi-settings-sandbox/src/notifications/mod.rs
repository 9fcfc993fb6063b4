//! Notifications (issue 21): the sandbox sends what the settings switch on, as the API does.
//!
//! Per instance a bounded FIFO queue ([`queue`]) feeds either the delivery worker
//! ([`worker`], one per instance: POST to `webhookUrl` through [`sender`], one at a time, in
//! order, the same notification again after a failure) or, while `webhookUrl` is empty, the
//! API's `receiveNotification` / `deleteNotification` ([`api`]). Notifications are made on
//! demand ([`trigger`], `POST /sandbox/instances/{id}/notify` in [`routes`]) and, with
//! `--notify-restarts`, around each setSettings restart. What happened is kept in bounded
//! [`records`]; the queues go to the state file ([`saved`]). [`hub`] holds every instance's
//! slot, [`config`] and [`options`] the knobs.
//!
//! The sandbox makes outbound requests for this only, and only to the `webhookUrl` an
//! instance's settings hold: never following a redirect, never to another address.

pub(crate) mod api;
pub(crate) mod config;
pub(crate) mod hub;
pub(crate) mod options;
pub(crate) mod queue;
pub(crate) mod records;
pub(crate) mod routes;
pub(crate) mod saved;
pub(crate) mod sender;
pub(crate) mod trigger;
pub(crate) mod worker;

/// The core's notification facts, generated from the spec.
use greenapi_settings::notifications as core;

pub use config::DEFAULT_NOTIFY_QUEUE;
pub use records::{Delivered, Failing, NotificationLog, QueuedInfo, Suppressed, Via, RECORDS_KEPT};
pub use trigger::{Outcome, Triggered};
