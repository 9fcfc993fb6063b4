//! How a fleet run paces itself and when it stops starting instances on its own: batches with
//! a pause between them (`--batch`, `--batch-pause`) and a failure budget (`--max-failures`).
//! The workers ([`super::workers`]) carry them out; [`Ended`] says how a run ended.

use std::time::Duration;

/// A run's pacing and failure budget; the default (no batches, no budget) starts instances
/// as fast as `--concurrency` allows until the end or Ctrl-C.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Controls {
    /// `--batch`: instances go in batches, the next one started after the previous one has
    /// finished and the pause.
    pub batch: Option<Batch>,
    /// `--max-failures`: once this many instances have failed, no new instance is started.
    pub max_failures: Option<usize>,
}

/// `--batch N --batch-pause DURATION`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Batch {
    /// Instances per batch (at least 1).
    pub size: usize,
    /// The pause after a batch has finished, before the next one starts.
    pub pause: Duration,
}

/// How a run ended: whether it was stopped early, and by what. Instances not started are
/// `notStarted` in either case, and `--resume` carries on with them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ended {
    /// Ctrl-C or SIGTERM stopped it.
    pub interrupted: bool,
    /// `--max-failures N` stopped it: `Some(N)`.
    pub max_failures: Option<usize>,
    /// Connections the run's shared pool opened (for `https://` hosts, TLS handshakes).
    pub connections_opened: u64,
}
