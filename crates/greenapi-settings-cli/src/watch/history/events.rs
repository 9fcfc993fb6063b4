//! What one instance record changes in the history, worked out without the database: the
//! events to append and the new open state (open drifts, unreachable since when), from the
//! open state before it. The open state is the idempotence key: a drift that is still open
//! with the same values, or an outage of the same kind, adds nothing, so a loop that observes
//! the same state again (every cycle, or after a restart) writes no event.

use std::collections::HashSet;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::watch::record::{InstanceRecord, InstanceState, RepairStage};

/// The stable names of the event kinds, as stored and shown.
pub mod kind {
    /// A field read differently from the desired value (first seen now).
    pub const DRIFT_DETECTED: &str = "driftDetected";
    /// An open drift now reads another value, or another value is wanted (its first-seen
    /// time is kept).
    pub const DRIFT_CHANGED: &str = "driftChanged";
    /// An open drift reads right again: `outcome` says whether a repair did it (`repaired`:
    /// a repair that converged, or one that sent the field and then read right later) or it
    /// did by itself (`itself`); `duration_ms` is how long it lasted.
    pub const DRIFT_RESOLVED: &str = "driftResolved";
    /// A repair sent these fields.
    pub const REPAIR_SENT: &str = "repairSent";
    /// What the repair came to (`outcome`), after `duration_ms`.
    pub const REPAIR_OUTCOME: &str = "repairOutcome";
    /// The instance could not be read (it could before, or failed in another way).
    pub const UNREACHABLE: &str = "unreachable";
    /// The instance could be read again after `duration_ms`.
    pub const REACHABLE: &str = "reachable";
}

/// How a drift resolved.
pub const BY_REPAIR: &str = "repaired";
/// How a drift resolved.
pub const BY_ITSELF: &str = "itself";

/// Milliseconds since the Unix epoch (before it: 0).
pub fn ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// An open drift of one field, values in stored form (JSON text, or a keyed hash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenDrift {
    /// API name.
    pub field: String,
    /// The wanted value, stored form.
    pub desired: String,
    /// The value read, stored form.
    pub observed: String,
    /// When it was first read.
    pub first_seen_ms: i64,
    /// When a repair last sent it without seeing it converge (failed, not saved, not
    /// verified, interrupted): if it then reads right, the repair did it.
    pub repair_sent_ms: Option<i64>,
}

/// What is open for one instance.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpenState {
    /// Its open drifts, by field.
    pub drifts: Vec<OpenDrift>,
    /// Unreachable: with which error kind, since when.
    pub unreachable: Option<(String, i64)>,
}

impl OpenState {
    /// Nothing open.
    pub fn is_empty(&self) -> bool {
        self.drifts.is_empty() && self.unreachable.is_none()
    }
}

/// One event to append (the instance and cycle are the record's).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewEvent {
    /// See [`kind`].
    pub kind: &'static str,
    /// When.
    pub at_ms: i64,
    /// The setting (drift events).
    pub field: Option<String>,
    /// Wanted value, stored form (drift detected / changed).
    pub desired: Option<String>,
    /// Value read, stored form (drift detected / changed).
    pub observed: Option<String>,
    /// When the drift was first seen.
    pub first_seen_ms: Option<i64>,
    /// How long the drift, outage or repair lasted.
    pub duration_ms: Option<i64>,
    /// Repair outcome, or how a drift resolved.
    pub outcome: Option<String>,
    /// Error kind (unreachable; a failed repair; the outage that ended).
    pub error_kind: Option<String>,
    /// The fields a repair sent, comma-separated.
    pub fields: Option<String>,
    /// The fields still wrong after a repair, comma-separated.
    pub still_wrong: Option<String>,
    /// Re-sends during a repair.
    pub resends: Option<i64>,
    /// The error message (unreachable), already free of secrets.
    pub message: Option<String>,
}

/// Longest error message kept.
const MAX_MESSAGE: usize = 512;

/// The events `r` adds to an instance whose open state is `before`, and its open state
/// after. `store(field, value)` gives a value's stored form (secrets hashed).
pub fn apply(
    before: &OpenState,
    r: &InstanceRecord,
    store: impl Fn(&str, &serde_json::Value, bool) -> String,
) -> (Vec<NewEvent>, OpenState) {
    let at = ms(r.at);
    let mut after = before.clone();
    let mut out = Vec::new();
    match r.state {
        // Not contacted: nothing was learnt.
        InstanceState::Parked => {}
        InstanceState::Unreachable => {
            let kind = r.error_kind.unwrap_or("unknown");
            if before.unreachable.as_ref().map(|(k, _)| k.as_str()) != Some(kind) {
                out.push(NewEvent {
                    kind: kind::UNREACHABLE,
                    at_ms: at,
                    error_kind: Some(kind.to_owned()),
                    message: r.error.as_deref().map(clip),
                    ..NewEvent::default()
                });
                // A change of kind is a new event, but the outage goes on from its start.
                let since = before.unreachable.as_ref().map_or(at, |(_, s)| *s);
                after.unreachable = Some((kind.to_owned(), since));
            }
        }
        InstanceState::InSync | InstanceState::Drifted => {
            if let Some((kind, since)) = after.unreachable.take() {
                out.push(NewEvent {
                    kind: kind::REACHABLE,
                    at_ms: at,
                    duration_ms: Some((at - since).max(0)),
                    error_kind: Some(kind),
                    ..NewEvent::default()
                });
            }
            read(&mut after, &mut out, r, at, store);
        }
    }
    (out, after)
}

/// The drift and repair events of an instance that was read.
fn read(
    after: &mut OpenState,
    out: &mut Vec<NewEvent>,
    r: &InstanceRecord,
    at: i64,
    store: impl Fn(&str, &serde_json::Value, bool) -> String,
) {
    for d in &r.drifts {
        let desired = store(d.field, &d.desired, d.secret);
        let observed = store(d.field, &d.observed, d.secret);
        match after.drifts.iter_mut().find(|o| o.field == d.field) {
            Some(o) if o.desired == desired && o.observed == observed => {}
            Some(o) => {
                out.push(NewEvent {
                    kind: kind::DRIFT_CHANGED,
                    at_ms: at,
                    field: Some(d.field.to_owned()),
                    desired: Some(desired.clone()),
                    observed: Some(observed.clone()),
                    first_seen_ms: Some(o.first_seen_ms),
                    ..NewEvent::default()
                });
                o.desired = desired;
                o.observed = observed;
            }
            None => {
                out.push(NewEvent {
                    kind: kind::DRIFT_DETECTED,
                    at_ms: at,
                    field: Some(d.field.to_owned()),
                    desired: Some(desired.clone()),
                    observed: Some(observed.clone()),
                    first_seen_ms: Some(at),
                    ..NewEvent::default()
                });
                after.drifts.push(OpenDrift {
                    field: d.field.to_owned(),
                    desired,
                    observed,
                    first_seen_ms: at,
                    repair_sent_ms: None,
                });
            }
        }
    }
    let mut fixed: HashSet<&str> = HashSet::new();
    let mut done_at = at;
    if let Some(rep) = &r.repair {
        let sent = |out: &mut Vec<NewEvent>, sent_at: i64| {
            out.push(NewEvent {
                kind: kind::REPAIR_SENT,
                at_ms: sent_at,
                fields: Some(rep.fields.join(",")),
                ..NewEvent::default()
            });
        };
        let took = i64::try_from(rep.took.as_millis()).unwrap_or(i64::MAX);
        // When the fields were sent, and when the outcome was known.
        let (sent_at, done) = match rep.stage {
            RepairStage::Whole => {
                sent(out, at);
                (at, Some(at.saturating_add(took)))
            }
            RepairStage::Sent => {
                sent(out, at);
                (at, None)
            }
            // Its send was recorded by the `Sent` record before it.
            RepairStage::Finished => (at.saturating_sub(took), Some(at)),
        };
        if let Some(end) = done {
            done_at = end;
            let still: Vec<&str> = rep.still_wrong.iter().map(|d| d.field).collect();
            out.push(NewEvent {
                kind: kind::REPAIR_OUTCOME,
                at_ms: done_at,
                duration_ms: Some(done_at - sent_at),
                outcome: Some(rep.outcome.to_owned()),
                error_kind: rep.error_kind.map(str::to_owned),
                fields: Some(rep.fields.join(",")),
                still_wrong: (!still.is_empty()).then(|| still.join(",")),
                resends: Some(i64::from(rep.resends)),
                ..NewEvent::default()
            });
            if matches!(rep.outcome, "converged" | "notConverged") {
                fixed = rep
                    .fields
                    .iter()
                    .copied()
                    .filter(|f| !still.contains(f))
                    .collect();
            }
        }
        for o in after.drifts.iter_mut() {
            if rep.fields.contains(&o.field.as_str()) && !fixed.contains(o.field.as_str()) {
                o.repair_sent_ms = Some(sent_at);
            }
        }
    }
    let seen: HashSet<&str> = r.drifts.iter().map(|d| d.field).collect();
    after.drifts.retain(|o| {
        let (how, when) = if fixed.contains(o.field.as_str()) {
            (BY_REPAIR, done_at)
        } else if !seen.contains(o.field.as_str()) {
            // Reads right without a repair this cycle: an earlier repair's write that landed
            // late (the API applies within minutes), or a change from outside.
            let how = if o.repair_sent_ms.is_some() {
                BY_REPAIR
            } else {
                BY_ITSELF
            };
            (how, at)
        } else {
            return true;
        };
        out.push(NewEvent {
            kind: kind::DRIFT_RESOLVED,
            at_ms: when,
            field: Some(o.field.clone()),
            first_seen_ms: Some(o.first_seen_ms),
            duration_ms: Some((when - o.first_seen_ms).max(0)),
            outcome: Some(how.to_owned()),
            ..NewEvent::default()
        });
        false
    });
}

fn clip(s: &str) -> String {
    match s.char_indices().nth(MAX_MESSAGE) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}
