//! An instance's queue in the state file: its notifications (receipt id, kind, body, when
//! queued), the next receipt id and the dropped count, under the instance's
//! `"notifications"` key. Files written before notifications existed have no such key: an
//! empty queue. Bodies never hold `webhookUrlToken`, so neither does this.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::queue::Queued;

/// What the state file keeps of one instance's queue.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SavedQueue {
    pub(crate) items: Vec<Queued>,
    pub(crate) next_receipt: u64,
    pub(crate) dropped: u64,
}

fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The JSON written for `saved`.
pub(crate) fn to_json(saved: &SavedQueue) -> Value {
    let items: Vec<Value> = saved
        .items
        .iter()
        .map(|q| {
            json!({
                "receiptId": q.receipt_id,
                "type": q.kind,
                "queuedAtMs": millis(q.queued_at),
                "received": q.received,
                "body": q.body,
            })
        })
        .collect();
    json!({
        "nextReceiptId": saved.next_receipt,
        "dropped": saved.dropped,
        "queue": items,
    })
}

/// Reads what [`to_json`] wrote; the error names the part that is wrong.
pub(crate) fn from_json(value: &Value) -> Result<SavedQueue, String> {
    let next_receipt = value.get("nextReceiptId").and_then(Value::as_u64);
    let dropped = value.get("dropped").and_then(Value::as_u64);
    let list = value.get("queue").and_then(Value::as_array);
    let (Some(next_receipt), Some(dropped), Some(list)) = (next_receipt, dropped, list) else {
        return Err("needs integer `nextReceiptId` and `dropped` and a `queue` array".into());
    };
    if next_receipt == u64::MAX {
        return Err("`nextReceiptId` out of range".into());
    }
    let items = list
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let receipt_id = item.get("receiptId").and_then(Value::as_u64);
            let kind = item.get("type").and_then(Value::as_str);
            let at = item.get("queuedAtMs").and_then(Value::as_u64);
            let received = item.get("received").and_then(Value::as_u64);
            let body = item.get("body").filter(|b| b.is_object());
            match (receipt_id, kind, at, received, body) {
                (Some(u64::MAX), ..) => Err(format!("queue[{i}]: `receiptId` out of range")),
                (_, _, Some(at), ..) if at > MAX_QUEUED_AT_MS => Err(format!(
                    "queue[{i}]: `queuedAtMs` is after the year 9999"
                )),
                (Some(receipt_id), Some(kind), Some(at), Some(received), Some(body)) => Ok(Queued {
                    receipt_id,
                    kind: kind.to_string(),
                    body: body.clone(),
                    queued_at: UNIX_EPOCH + Duration::from_millis(at),
                    received: u32::try_from(received).unwrap_or(u32::MAX),
                }),
                _ => Err(format!(
                    "queue[{i}]: needs integer `receiptId`, `queuedAtMs` and `received`, a string `type` and an object `body`"
                )),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SavedQueue {
        items,
        next_receipt,
        dropped,
    })
}

/// The latest `queuedAtMs` read back: the end of the year 9999 (times are shown in RFC 3339,
/// which has four-digit years).
const MAX_QUEUED_AT_MS: u64 = 253_402_300_799_999;

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (review of issue 21): a receipt id of u64::MAX overflowed (a panic at start
    /// in a debug build) and a time past the year 9999 panicked the listing.
    #[test]
    fn out_of_range_receipt_ids_and_times_are_refused_not_panicked_on() {
        let one = |item: Value| json!({"nextReceiptId": 1, "dropped": 0, "queue": [item]});
        let item = |id: u64, at: u64| {
            json!({"receiptId": id, "type": "incomingCall", "queuedAtMs": at, "received": 0,
                   "body": {"typeWebhook": "incomingCall"}})
        };
        assert!(from_json(&one(item(u64::MAX, 1)))
            .unwrap_err()
            .contains("receiptId"));
        assert!(from_json(&one(item(1, 300_000_000_000_000)))
            .unwrap_err()
            .contains("9999"));
        let max = json!({"nextReceiptId": u64::MAX, "dropped": 0, "queue": []});
        assert!(from_json(&max).unwrap_err().contains("nextReceiptId"));
        assert!(from_json(&one(item(u64::MAX - 1, MAX_QUEUED_AT_MS))).is_ok());
    }

    #[test]
    fn a_saved_queue_reads_back_the_same() {
        let saved = SavedQueue {
            items: vec![Queued {
                receipt_id: 4,
                kind: "incomingCall".into(),
                body: json!({"typeWebhook": "incomingCall"}),
                queued_at: UNIX_EPOCH + Duration::from_millis(1_700_000_000_123),
                received: 2,
            }],
            next_receipt: 5,
            dropped: 3,
        };
        assert_eq!(from_json(&to_json(&saved)), Ok(saved));
        let err =
            from_json(&json!({"nextReceiptId": 1, "dropped": 0, "queue": [{"receiptId": 1}]}))
                .unwrap_err();
        assert!(err.starts_with("queue[0]"), "{err}");
    }
}
