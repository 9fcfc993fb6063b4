//! One instance's queue: a bounded FIFO of notifications, each with its receipt id, that
//! drops (and counts) the oldest when full. The same queue feeds the webhook and
//! `receiveNotification`, as the API's does.

use std::collections::VecDeque;
use std::time::SystemTime;

use serde_json::Value;

/// A notification waiting to be delivered or deleted.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Queued {
    /// Its receipt id: unique per instance, increasing, kept across restarts.
    pub(crate) receipt_id: u64,
    /// Its kind's key (`incomingCall`, `incomingMessageReceived:editedMessage`).
    pub(crate) kind: String,
    /// The body, as it is sent.
    pub(crate) body: Value,
    /// When it was queued.
    pub(crate) queued_at: SystemTime,
    /// Times `receiveNotification` returned it.
    pub(crate) received: u32,
}

/// The queue of one instance.
#[derive(Clone, Debug)]
pub(crate) struct Queue {
    items: VecDeque<Queued>,
    capacity: usize,
    /// The receipt id the next notification gets (ids start at 1).
    next_receipt: u64,
    dropped: u64,
}

impl Queue {
    /// An empty queue holding at most `capacity` (at least 1) notifications.
    pub(crate) fn new(capacity: usize) -> Self {
        Queue {
            items: VecDeque::new(),
            capacity: capacity.max(1),
            next_receipt: 1,
            dropped: 0,
        }
    }

    /// A queue as saved: its notifications (the newest kept when there are more than
    /// `capacity`, the others counted as dropped), the next receipt id and the dropped count.
    pub(crate) fn restored(
        capacity: usize,
        items: Vec<Queued>,
        next_receipt: u64,
        dropped: u64,
    ) -> Self {
        let mut queue = Queue::new(capacity);
        queue.dropped = dropped;
        let newest = items
            .iter()
            .map(|q| q.receipt_id.saturating_add(1))
            .max()
            .unwrap_or(1);
        queue.next_receipt = next_receipt.max(newest);
        for item in items {
            queue.push_item(item);
        }
        queue
    }

    /// Queues a notification; returns its receipt id and the notification dropped to make
    /// room, if the queue was full.
    pub(crate) fn push(
        &mut self,
        kind: String,
        body: Value,
        now: SystemTime,
    ) -> (u64, Option<Queued>) {
        let receipt_id = self.next_receipt;
        // u64 ids do not run out; saturating keeps a hand-edited state file from panicking.
        self.next_receipt = self.next_receipt.saturating_add(1);
        let dropped = self.push_item(Queued {
            receipt_id,
            kind,
            body,
            queued_at: now,
            received: 0,
        });
        (receipt_id, dropped)
    }

    fn push_item(&mut self, item: Queued) -> Option<Queued> {
        let dropped = if self.items.len() >= self.capacity {
            self.dropped += 1;
            self.items.pop_front()
        } else {
            None
        };
        self.items.push_back(item);
        dropped
    }

    /// The oldest notification.
    pub(crate) fn front(&self) -> Option<&Queued> {
        self.items.front()
    }

    /// The oldest notification, to count a `receiveNotification` of it.
    pub(crate) fn front_mut(&mut self) -> Option<&mut Queued> {
        self.items.front_mut()
    }

    /// Removes the notification with this receipt id, wherever it is.
    pub(crate) fn remove(&mut self, receipt_id: u64) -> Option<Queued> {
        let at = self.items.iter().position(|q| q.receipt_id == receipt_id)?;
        self.items.remove(at)
    }

    /// Every notification, oldest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Queued> {
        self.items.iter()
    }

    /// Notifications dropped because the queue was full.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The receipt id the next notification gets.
    pub(crate) fn next_receipt(&self) -> u64 {
        self.next_receipt
    }

    /// Most notifications kept.
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Whether nothing is queued.
    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn push(q: &mut Queue, n: u64) -> (u64, Option<u64>) {
        let (id, dropped) = q.push(
            "stateInstanceChanged".into(),
            json!({"n": n}),
            SystemTime::UNIX_EPOCH,
        );
        (id, dropped.map(|d| d.receipt_id))
    }

    #[test]
    fn a_full_queue_drops_the_oldest_and_counts_it() {
        let mut q = Queue::new(2);
        assert_eq!(push(&mut q, 1), (1, None));
        assert_eq!(push(&mut q, 2), (2, None));
        assert_eq!(push(&mut q, 3), (3, Some(1)));
        assert_eq!(q.dropped(), 1);
        let left: Vec<u64> = q.iter().map(|i| i.receipt_id).collect();
        assert_eq!(left, [2, 3]);
    }

    #[test]
    fn removal_by_receipt_keeps_the_order_and_ids_are_never_reused() {
        let mut q = Queue::new(10);
        for n in 0..3 {
            push(&mut q, n);
        }
        assert_eq!(q.remove(2).map(|i| i.receipt_id), Some(2));
        assert!(q.remove(2).is_none());
        assert_eq!(q.front().map(|i| i.receipt_id), Some(1));
        assert_eq!(push(&mut q, 9).0, 4);
    }

    #[test]
    fn a_restored_queue_continues_its_receipts_and_keeps_the_newest_that_fit() {
        let mut q = Queue::new(10);
        for n in 0..3 {
            push(&mut q, n);
        }
        let items: Vec<Queued> = q.iter().cloned().collect();
        let r = Queue::restored(2, items, 1, 5);
        assert_eq!(r.iter().map(|i| i.receipt_id).collect::<Vec<_>>(), [2, 3]);
        assert_eq!(r.dropped(), 6);
        assert_eq!(r.next_receipt(), 4);
    }
}
