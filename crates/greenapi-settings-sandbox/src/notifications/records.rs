//! What happened to an instance's notifications, for `GET /sandbox/instances/{id}/notifications`
//! and [`SandboxHandle::notifications`](crate::SandboxHandle::notifications): the last
//! [`RECORDS_KEPT`] delivered and suppressed ones, the one failing now, what is queued and how
//! many were dropped. Nothing here holds a token: bodies never contain `webhookUrlToken`, and
//! failures are described by kind, with the token scrubbed from any text a library gave.

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

use serde_json::{json, Value};

/// Delivered and suppressed notifications remembered per instance (older ones are forgotten).
pub const RECORDS_KEPT: usize = 100;

/// How a notification left the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Via {
    /// Its receiver answered 200 to the POST to `webhookUrl`.
    Webhook,
    /// `deleteNotification` removed it (after `receiveNotification`, the HTTP API way).
    DeleteNotification,
}

impl Via {
    /// `"webhook"` or `"deleteNotification"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Webhook => "webhook",
            Via::DeleteNotification => "deleteNotification",
        }
    }
}

/// A notification that was delivered.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Delivered {
    /// Its receipt id.
    pub receipt_id: u64,
    /// Its kind (`incomingCall`, `incomingMessageReceived:editedMessage`).
    pub kind: String,
    /// POSTs it took (webhook), or times `receiveNotification` returned it.
    pub attempts: u32,
    /// How it left the queue.
    pub via: Via,
    /// When.
    pub at: SystemTime,
    /// How long the successful POST took (zero for `deleteNotification`).
    pub took: Duration,
}

/// A notification the settings did not enable.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Suppressed {
    /// Its kind.
    pub kind: String,
    /// Why, e.g. "incomingCall needs incomingWebhook and incomingCallWebhook: incomingCallWebhook is off".
    pub reason: String,
    /// When it was triggered.
    pub at: SystemTime,
}

/// The notification at the head of the queue whose delivery is failing.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Failing {
    /// Its receipt id.
    pub receipt_id: u64,
    /// Its kind.
    pub kind: String,
    /// POSTs so far, all failed.
    pub attempts: u32,
    /// What the last one got: "HTTP 500", "redirect refused (HTTP 302)", "no answer within
    /// 200 ms", "cannot connect: …".
    pub last_error: String,
    /// When the first attempt was made.
    pub since: SystemTime,
}

/// A notification still in the queue.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct QueuedInfo {
    /// Its receipt id.
    pub receipt_id: u64,
    /// Its kind.
    pub kind: String,
    /// When it was queued.
    pub queued_at: SystemTime,
    /// Times `receiveNotification` returned it.
    pub received: u32,
}

/// Everything the sandbox knows of one instance's notifications. Lists are oldest first.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct NotificationLog {
    /// The instance.
    pub id_instance: u64,
    /// Waiting in the queue, the head first.
    pub queued: Vec<QueuedInfo>,
    /// The head of the queue, if its delivery failed at least once.
    pub failing: Option<Failing>,
    /// The last [`RECORDS_KEPT`] delivered.
    pub delivered: Vec<Delivered>,
    /// The last [`RECORDS_KEPT`] suppressed.
    pub suppressed: Vec<Suppressed>,
    /// Notifications dropped because the queue was full.
    pub dropped: u64,
    /// Most notifications the queue keeps.
    pub capacity: usize,
}

/// RFC 3339 with milliseconds; a time it cannot show (after the year 9999) is shown empty
/// rather than panicking in `to_string`.
fn time(t: SystemTime) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    if write!(out, "{}", humantime::format_rfc3339_millis(t)).is_err() {
        out.clear();
    }
    out
}

impl NotificationLog {
    /// The inspection JSON: `idInstance`, `queued`, `failing`, `delivered`, `suppressed`,
    /// `dropped`, `capacity` (times in RFC 3339, UTC).
    pub fn to_json_value(&self) -> Value {
        let queued: Vec<Value> = self
            .queued
            .iter()
            .map(|q| {
                json!({
                    "receiptId": q.receipt_id,
                    "type": q.kind,
                    "queuedAt": time(q.queued_at),
                    "received": q.received,
                })
            })
            .collect();
        let delivered: Vec<Value> = self
            .delivered
            .iter()
            .map(|d| {
                json!({
                    "receiptId": d.receipt_id,
                    "type": d.kind,
                    "attempts": d.attempts,
                    "via": d.via.as_str(),
                    "at": time(d.at),
                    "tookMs": u64::try_from(d.took.as_millis()).unwrap_or(u64::MAX),
                })
            })
            .collect();
        let suppressed: Vec<Value> = self
            .suppressed
            .iter()
            .map(|s| json!({"type": s.kind, "reason": s.reason, "at": time(s.at)}))
            .collect();
        let failing = self.failing.as_ref().map(|f| {
            json!({
                "receiptId": f.receipt_id,
                "type": f.kind,
                "attempts": f.attempts,
                "lastError": f.last_error,
                "since": time(f.since),
            })
        });
        json!({
            "idInstance": self.id_instance,
            "queued": queued,
            "failing": failing,
            "delivered": delivered,
            "suppressed": suppressed,
            "dropped": self.dropped,
            "capacity": self.capacity,
        })
    }
}

/// The records of one instance.
#[derive(Clone, Debug, Default)]
pub(crate) struct Records {
    delivered: VecDeque<Delivered>,
    suppressed: VecDeque<Suppressed>,
    /// The head's failed attempts (cleared when it leaves the queue).
    pub(crate) failing: Option<Failing>,
}

fn keep_last<T>(list: &mut VecDeque<T>, item: T) {
    if list.len() >= RECORDS_KEPT {
        list.pop_front();
    }
    list.push_back(item);
}

impl Records {
    /// Records a delivery; the failing record goes if it was this notification's.
    pub(crate) fn delivered(&mut self, record: Delivered) {
        self.forget_failing(record.receipt_id);
        keep_last(&mut self.delivered, record);
    }

    /// Forgets the failing record if it is `receipt_id`'s (it left the queue undelivered).
    pub(crate) fn forget_failing(&mut self, receipt_id: u64) {
        if self
            .failing
            .as_ref()
            .is_some_and(|f| f.receipt_id == receipt_id)
        {
            self.failing = None;
        }
    }

    /// Records a suppressed notification.
    pub(crate) fn suppressed(&mut self, record: Suppressed) {
        keep_last(&mut self.suppressed, record);
    }

    /// Failed POSTs of `receipt_id` so far (0 if it never failed).
    pub(crate) fn failed_attempts(&self, receipt_id: u64) -> u32 {
        self.failing
            .as_ref()
            .filter(|f| f.receipt_id == receipt_id)
            .map_or(0, |f| f.attempts)
    }

    /// Records a failed POST of `receipt_id`.
    pub(crate) fn failed(&mut self, receipt_id: u64, kind: &str, error: String, now: SystemTime) {
        match &mut self.failing {
            Some(f) if f.receipt_id == receipt_id => {
                f.attempts += 1;
                f.last_error = error;
            }
            _ => {
                self.failing = Some(Failing {
                    receipt_id,
                    kind: kind.to_string(),
                    attempts: 1,
                    last_error: error,
                    since: now,
                })
            }
        }
    }

    /// The delivered and suppressed lists, oldest first.
    pub(crate) fn lists(&self) -> (Vec<Delivered>, Vec<Suppressed>) {
        (
            self.delivered.iter().cloned().collect(),
            self.suppressed.iter().cloned().collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_keep_only_the_last_records() {
        let mut r = Records::default();
        for n in 0..(RECORDS_KEPT as u64 + 5) {
            r.suppressed(Suppressed {
                kind: format!("k{n}"),
                reason: String::new(),
                at: SystemTime::UNIX_EPOCH,
            });
        }
        let (_, suppressed) = r.lists();
        assert_eq!(suppressed.len(), RECORDS_KEPT);
        assert_eq!(suppressed[0].kind, "k5");
    }

    #[test]
    fn a_delivery_ends_the_failing_record_of_the_same_notification_only() {
        let mut r = Records::default();
        r.failed(7, "incomingCall", "HTTP 500".into(), SystemTime::UNIX_EPOCH);
        r.failed(7, "incomingCall", "HTTP 502".into(), SystemTime::UNIX_EPOCH);
        assert_eq!(r.failed_attempts(7), 2);
        assert_eq!(r.failed_attempts(8), 0);
        let record = |receipt_id| Delivered {
            receipt_id,
            kind: "incomingCall".into(),
            attempts: 3,
            via: Via::Webhook,
            at: SystemTime::UNIX_EPOCH,
            took: Duration::ZERO,
        };
        r.delivered(record(6));
        assert!(r.failing.is_some());
        r.delivered(record(7));
        assert!(r.failing.is_none());
    }
}
