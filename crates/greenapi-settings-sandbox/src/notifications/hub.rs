//! The notifications of every instance: per instance a slot (its queue and records behind a
//! mutex, and the wake-ups of its delivery worker and of its `receiveNotification` callers),
//! made on first use so that a sandbox of many instances that never notify costs nothing.
//!
//! Lock order: the state's instance map before a slot, never the other way round (the state
//! file's snapshot reads the queues while holding the map). No lock is held across an await.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde_json::Value;
use tokio::sync::Notify;
use tokio::task::AbortHandle;

use super::config::NotifyConfig;
use super::queue::{Queue, Queued};
use super::records::{Delivered, NotificationLog, QueuedInfo, Records, Suppressed, Via};
use super::saved::SavedQueue;
use super::sender::Sender;
use crate::state::lock;

/// One instance's queue and records.
#[derive(Debug)]
pub(crate) struct SlotState {
    pub(crate) queue: Queue,
    pub(crate) records: Records,
}

/// One instance.
#[derive(Debug)]
pub(crate) struct Slot {
    pub(crate) state: Mutex<SlotState>,
    /// Wakes the delivery worker (a stored permit: a wake-up sent while it works is not lost).
    pub(crate) wake: Notify,
    /// Wakes the `receiveNotification` calls waiting for a notification.
    pub(crate) arrived: Notify,
    /// Whether the delivery worker was started.
    pub(crate) worker: AtomicBool,
}

/// What the worker sends next.
pub(crate) struct Head {
    pub(crate) receipt_id: u64,
    pub(crate) kind: String,
    pub(crate) body: Value,
}

impl Slot {
    fn new(queue: Queue) -> Self {
        Slot {
            state: Mutex::new(SlotState {
                queue,
                records: Records::default(),
            }),
            wake: Notify::new(),
            arrived: Notify::new(),
            worker: AtomicBool::new(false),
        }
    }

    /// Queues a notification and wakes whoever waits for one; returns its receipt id.
    pub(crate) fn enqueue(&self, kind: String, body: Value) -> u64 {
        let receipt_id = {
            let mut state = lock(&self.state);
            let (receipt_id, dropped) = state.queue.push(kind, body, SystemTime::now());
            // A dropped head that was failing is not failing any more: it is gone.
            if let Some(dropped) = dropped {
                state.records.forget_failing(dropped.receipt_id);
            }
            receipt_id
        };
        self.wake.notify_one();
        self.arrived.notify_waiters();
        receipt_id
    }

    /// Records a notification the settings did not enable.
    pub(crate) fn suppress(&self, kind: String, reason: String) {
        lock(&self.state).records.suppressed(Suppressed {
            kind,
            reason,
            at: SystemTime::now(),
        });
    }

    /// The head of the queue, for the worker.
    pub(crate) fn head(&self) -> Option<Head> {
        lock(&self.state).queue.front().map(|q| Head {
            receipt_id: q.receipt_id,
            kind: q.kind.clone(),
            body: q.body.clone(),
        })
    }

    /// The receiver took `receipt_id`: it leaves the queue (if it is still there: a reset or
    /// `deleteNotification` may have removed it meanwhile). Returns whether it was there.
    pub(crate) fn delivered(&self, receipt_id: u64, took: Duration) -> bool {
        let mut state = lock(&self.state);
        let Some(item) = state.queue.remove(receipt_id) else {
            return false;
        };
        let attempts = state.records.failed_attempts(receipt_id) + 1;
        state.records.delivered(Delivered {
            receipt_id,
            kind: item.kind,
            attempts,
            via: Via::Webhook,
            at: SystemTime::now(),
            took,
        });
        true
    }

    /// A POST of `receipt_id` failed; not recorded if it left the queue meanwhile (dropped
    /// from a full queue, deleted, reset).
    pub(crate) fn failed(&self, receipt_id: u64, kind: &str, error: String) {
        let mut state = lock(&self.state);
        if state.queue.iter().any(|q| q.receipt_id == receipt_id) {
            state
                .records
                .failed(receipt_id, kind, error, SystemTime::now());
        }
    }

    /// The head for `receiveNotification` (counted as received once more).
    pub(crate) fn receive(&self) -> Option<(u64, Value)> {
        let mut state = lock(&self.state);
        let head = state.queue.front_mut()?;
        head.received = head.received.saturating_add(1);
        Some((head.receipt_id, head.body.clone()))
    }

    /// `deleteNotification`: removes `receipt_id`; whether it was queued.
    pub(crate) fn delete(&self, receipt_id: u64) -> bool {
        let mut state = lock(&self.state);
        let Some(item) = state.queue.remove(receipt_id) else {
            return false;
        };
        state.records.delivered(Delivered {
            receipt_id,
            kind: item.kind,
            attempts: item.received,
            via: Via::DeleteNotification,
            at: SystemTime::now(),
            took: Duration::ZERO,
        });
        true
    }

    fn log(&self, id_instance: u64) -> NotificationLog {
        let state = lock(&self.state);
        let (delivered, suppressed) = state.records.lists();
        NotificationLog {
            id_instance,
            queued: state.queue.iter().map(queued_info).collect(),
            failing: state.records.failing.clone(),
            delivered,
            suppressed,
            dropped: state.queue.dropped(),
            capacity: state.queue.capacity(),
        }
    }
}

fn queued_info(q: &Queued) -> QueuedInfo {
    QueuedInfo {
        receipt_id: q.receipt_id,
        kind: q.kind.clone(),
        queued_at: q.queued_at,
        received: q.received,
    }
}

/// Every instance's slot, and the tasks working for them.
#[derive(Debug)]
pub(crate) struct Hub {
    pub(crate) config: NotifyConfig,
    /// The HTTP client of every delivery.
    pub(crate) sender: Sender,
    slots: Mutex<HashMap<u64, Arc<Slot>>>,
    /// Whether any slot exists: every accepted setSettings asks for its instance's slot, and
    /// a sandbox that never notifies answers without taking the lock.
    any: AtomicBool,
    tasks: Mutex<Vec<AbortHandle>>,
    stopped: AtomicBool,
}

impl Hub {
    /// No slot yet; `saved` queues (from the state file) fill theirs.
    pub(crate) fn new(config: NotifyConfig, saved: Vec<(u64, SavedQueue)>) -> Self {
        let slots: HashMap<u64, Arc<Slot>> = saved
            .into_iter()
            .map(|(id, s)| {
                let queue = Queue::restored(config.queue, s.items, s.next_receipt, s.dropped);
                (id, Arc::new(Slot::new(queue)))
            })
            .collect();
        let any = AtomicBool::new(!slots.is_empty());
        Hub {
            config,
            sender: Sender::default(),
            slots: Mutex::new(slots),
            any,
            tasks: Mutex::new(Vec::new()),
            stopped: AtomicBool::new(false),
        }
    }

    /// The slot of instance `id` (the caller checked that it is served), made if needed.
    pub(crate) fn slot(&self, id: u64) -> Arc<Slot> {
        let mut slots = lock(&self.slots);
        self.any.store(true, Ordering::SeqCst);
        let queue = self.config.queue;
        Arc::clone(
            slots
                .entry(id)
                .or_insert_with(|| Arc::new(Slot::new(Queue::new(queue)))),
        )
    }

    /// The slot of instance `id` if it has one.
    pub(crate) fn existing(&self, id: u64) -> Option<Arc<Slot>> {
        if !self.any.load(Ordering::SeqCst) {
            return None;
        }
        lock(&self.slots).get(&id).cloned()
    }

    /// Ids of the instances with a non-empty queue.
    pub(crate) fn with_queued(&self) -> Vec<u64> {
        lock(&self.slots)
            .iter()
            .filter(|(_, s)| !lock(&s.state).queue.is_empty())
            .map(|(id, _)| *id)
            .collect()
    }

    /// What instance `id`'s state file entry keeps (`None`: nothing was ever queued).
    pub(crate) fn saved(&self, id: u64) -> Option<SavedQueue> {
        let slot = self.existing(id)?;
        let state = lock(&slot.state);
        Some(SavedQueue {
            items: state.queue.iter().cloned().collect(),
            next_receipt: state.queue.next_receipt(),
            dropped: state.queue.dropped(),
        })
    }

    /// Instance `id`'s log (empty if nothing happened yet).
    pub(crate) fn log(&self, id: u64) -> NotificationLog {
        match self.existing(id) {
            Some(slot) => slot.log(id),
            None => Slot::new(Queue::new(self.config.queue)).log(id),
        }
    }

    /// Every queue and record emptied (the workers stay, idle). Receipt ids go on: a
    /// delivery in flight during the reset must not take a new notification's receipt for
    /// its own.
    pub(crate) fn reset(&self) {
        let queue = self.config.queue;
        for slot in lock(&self.slots).values() {
            let mut state = lock(&slot.state);
            let next = state.queue.next_receipt();
            state.queue = Queue::restored(queue, Vec::new(), next, 0);
            state.records = Records::default();
        }
    }

    /// Keeps `task` to stop it with the sandbox; refused (and aborted) once stopped.
    pub(crate) fn keep(&self, task: AbortHandle) {
        let mut tasks = lock(&self.tasks);
        if self.stopped.load(Ordering::SeqCst) {
            task.abort();
            return;
        }
        tasks.retain(|t| !t.is_finished());
        tasks.push(task);
    }

    /// Stops every worker and pending timer: no delivery after the sandbox stopped.
    pub(crate) fn stop(&self) {
        let mut tasks = lock(&self.tasks);
        self.stopped.store(true, Ordering::SeqCst);
        for task in tasks.drain(..) {
            task.abort();
        }
    }

    /// Whether [`stop`](Self::stop) was called.
    pub(crate) fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }
}
