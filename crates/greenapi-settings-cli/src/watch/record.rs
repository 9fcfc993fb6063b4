//! What one cycle of `watch` learns about one instance, as the loop hands it to the history
//! and the metrics: the loop ([`super`]) produces these, [`super::history`] stores them.

use std::time::{Duration, SystemTime};

use greenapi_settings::reconcile::Drift;

/// An instance's state at the end of its part of a cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InstanceState {
    /// Every desired field showed its value (possibly after a repair in this cycle).
    InSync,
    /// Some desired fields showed other values and were not (or not yet) repaired.
    Drifted,
    /// The settings could not be read.
    Unreachable,
    /// Not contacted this cycle: backing off after failures, or parked after an auth error
    /// until the settings file or the instances file changes.
    Parked,
}

impl InstanceState {
    /// A short, stable name: `inSync`, `drifted`, `unreachable`, `parked`.
    pub fn as_str(self) -> &'static str {
        match self {
            InstanceState::InSync => "inSync",
            InstanceState::Drifted => "drifted",
            InstanceState::Unreachable => "unreachable",
            InstanceState::Parked => "parked",
        }
    }
}

/// Which part of a repair a record tells.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RepairStage {
    /// The whole repair in one record: sent at the record's `at`, ended `took` later.
    #[default]
    Whole,
    /// The fields were about to be sent at the record's `at` (the outcome follows in a
    /// `Finished` record): recorded first, so a process killed during a repair that takes
    /// minutes still leaves the send in the history.
    Sent,
    /// The repair ended at the record's `at`, `took` after it was sent.
    Finished,
}

/// What a repair sent and came to.
#[derive(Clone, Debug)]
pub struct RepairRecord {
    /// Which part of the repair this record tells.
    pub stage: RepairStage,
    /// The fields sent (API names): only the drifted ones.
    pub fields: Vec<&'static str>,
    /// `converged`, `notConverged`, `notVerified`, `notSaved`, `interrupted` or `failed`
    /// ([`greenapi_settings::reconcile::Repair::kind`]); `sent` in a [`RepairStage::Sent`]
    /// record.
    pub outcome: &'static str,
    /// Re-sends of still-wrong fields during verification.
    pub resends: u32,
    /// From the first setSettings to the outcome.
    pub took: Duration,
    /// Fields still reading wrong when the outcome is `notConverged`.
    pub still_wrong: Vec<Drift>,
    /// The error kind when the outcome is `failed` ([`greenapi_settings::Error::kind`]).
    pub error_kind: Option<&'static str>,
}

/// One instance's part of one cycle.
#[derive(Clone, Debug)]
pub struct InstanceRecord {
    /// The instance id.
    pub id: u64,
    /// When its settings were read (or, for a parked instance, when it was skipped).
    pub at: SystemTime,
    /// Its state after this cycle's work (a repaired instance that converged is `InSync`).
    pub state: InstanceState,
    /// The drifted fields the read showed (empty when in sync, unreachable or parked). Secret
    /// values (`drift.secret`) must never be stored or shown in clear.
    pub drifts: Vec<Drift>,
    /// The error kind when unreachable or parked ([`greenapi_settings::Error::kind`]).
    pub error_kind: Option<&'static str>,
    /// The error's message (already free of the API token and the webhook secret).
    pub error: Option<String>,
    /// The repair made this cycle, with `--repair`.
    pub repair: Option<RepairRecord>,
}

/// A whole cycle, when it ends (or is stopped).
#[derive(Clone, Debug, Default)]
pub struct CycleSummary {
    /// When the cycle started.
    pub started: Option<SystemTime>,
    /// When its last instance finished (or the cycle was stopped).
    pub finished: Option<SystemTime>,
    /// Instances in the cycle.
    pub instances: usize,
    /// Instances in sync at the end (repaired ones included).
    pub in_sync: usize,
    /// Instances left drifted.
    pub drifted: usize,
    /// Instances that could not be read.
    pub unreachable: usize,
    /// Instances not contacted (backing off or parked).
    pub parked: usize,
    /// Instances repaired this cycle (converged).
    pub repaired: usize,
    /// Whether the cycle was stopped by a signal before every instance was done.
    pub interrupted: bool,
}
