//! A notification on demand: its kind found by key, a well-formed body made from the kind's
//! skeleton (with the instance's id and `wid`, the time, a fresh `idMessage` and the caller's
//! fields), then queued if the instance's settings enable it, or recorded as suppressed with
//! the reason. Also the optional restart notifications (`--notify-restarts`).

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use super::core::{BodyContext, NotificationInfo};
use super::worker;
use crate::state::Shared;

/// What happened to a triggered notification.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Outcome {
    /// Queued for delivery (to the webhook, or for `receiveNotification`).
    Queued {
        /// Its receipt id.
        receipt_id: u64,
    },
    /// Not sent: the settings do not enable it.
    Suppressed {
        /// Which settings it needs and which of them are off.
        reason: String,
    },
}

/// A triggered notification: what happened, and the body that was (or would have been) sent.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Triggered {
    /// Queued or suppressed.
    pub outcome: Outcome,
    /// The body.
    pub body: Value,
}

impl Triggered {
    /// `{"outcome": "queued", "receiptId": N, "reason": null, "body": {...}}` or
    /// `{"outcome": "suppressed", "reason": "...", "body": {...}}`.
    pub fn to_json_value(&self) -> Value {
        match &self.outcome {
            Outcome::Queued { receipt_id } => json!({
                "outcome": "queued",
                "receiptId": receipt_id,
                "reason": null,
                "body": self.body,
            }),
            Outcome::Suppressed { reason } => json!({
                "outcome": "suppressed",
                "reason": reason,
                "body": self.body,
            }),
        }
    }
}

/// The kind `key` names (`incomingCall`, `incomingMessageReceived:editedMessage`); the error
/// lists the known keys.
pub(crate) fn kind(key: &str) -> Result<&'static NotificationInfo, String> {
    NotificationInfo::find(key).ok_or_else(|| {
        format!(
            "unknown notification type; known types (TYPE or TYPE:VARIANT): {}",
            NotificationInfo::keys().join(", ")
        )
    })
}

/// The `wid` the sandbox gives instance `id` (as its getSettings shows).
pub(crate) fn wid(id: u64) -> String {
    format!("7{id:010}@c.us")
}

/// A fresh `idMessage`: 16 upper-case hex digits, as the API's look, unique in this process
/// and unlikely to repeat one of an earlier run (the counter starts at the clock).
fn id_message() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let _ = NEXT.compare_exchange(0, unix_millis(), Ordering::SeqCst, Ordering::SeqCst);
    format!("{:016X}", NEXT.fetch_add(1, Ordering::SeqCst))
}

fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Triggers `kind` on instance `id` with `fields` merged into its body. Errors: `NotFound`
/// (instance not served), `InvalidInput` (fields the kind refuses; nothing is queued), or the
/// state file's (the notification is queued, but not yet in the file).
pub(crate) async fn trigger(
    shared: &Arc<Shared>,
    id: u64,
    kind: &'static NotificationInfo,
    fields: &Map<String, Value>,
) -> io::Result<Triggered> {
    let Some(settings) = shared.current_settings(id) else {
        return Err(io::Error::new(io::ErrorKind::NotFound, "unknown instance"));
    };
    let wid = wid(id);
    let id_message = id_message();
    let ctx = BodyContext {
        id_instance: id,
        wid: &wid,
        timestamp: unix_millis() / 1000,
        id_message: &id_message,
    };
    let body = kind
        .body(&ctx, fields)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let slot = shared.notifications.slot(id);
    if let Some(reason) = kind.why_suppressed(&settings) {
        slot.suppress(kind.key(), reason.clone());
        return Ok(Triggered {
            outcome: Outcome::Suppressed { reason },
            body,
        });
    }
    let receipt_id = slot.enqueue(kind.key(), body.clone());
    if !settings.webhook_url.is_empty() {
        worker::wake(shared, id, &slot);
    }
    shared.persist().await.map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("queued as receipt {receipt_id}, but the state file was not written: {e}"),
        )
    })?;
    Ok(Triggered {
        outcome: Outcome::Queued { receipt_id },
        body,
    })
}

/// With `--notify-restarts`: stateInstanceChanged `starting` now and `authorized` once the
/// restart is over (now if it takes no time, otherwise from a timer), each if the settings
/// enable it then. Not documented by the API.
pub(crate) async fn on_restart(shared: &Arc<Shared>, id: u64) {
    if !shared.notifications.config.restarts {
        return;
    }
    let Some(kind) = NotificationInfo::find("stateInstanceChanged") else {
        return;
    };
    let state = |s: &str| {
        let mut fields = Map::new();
        fields.insert("stateInstance".into(), Value::from(s));
        fields
    };
    // Failures to write the state file are the setSettings answer's to report, not these.
    let _ = trigger(shared, id, kind, &state("starting")).await;
    let restart = shared.config.restart_duration;
    if restart.is_zero() {
        let _ = trigger(shared, id, kind, &state("authorized")).await;
        return;
    }
    let later = Arc::clone(shared);
    let task = tokio::spawn(async move {
        tokio::time::sleep(restart).await;
        let _ = trigger(&later, id, kind, &state("authorized")).await;
    });
    shared.notifications.keep(task.abort_handle());
}
