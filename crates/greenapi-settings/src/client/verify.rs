//! `apply` that verifies and repairs: after setSettings, read the settings back (within the
//! client's pacing) until every desired field shows its value; re-send only the fields that
//! still do not after a settle time, a bounded number of times.
//!
//! Why: `{"saveSettings": true}` is not the end of the story. Users of the API report settings
//! acknowledged but never persisted, and the API's own advice is to call setSettings again.
//! Each setSettings restarts the instance (getSettings answers "starting" meanwhile) and the
//! API applies a change "within 5 minutes", so the loop tolerates both.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::{Applied, Client, Error};
use crate::settings::{facts, SettingsPatch};
use crate::validation::Change;

/// How often a wait with a cancel flag looks at the flag while a request is in flight.
const CANCEL_POLL: Duration = Duration::from_millis(50);

/// How [`Client::apply_verified`] waits and repairs.
#[derive(Clone, Debug)]
pub struct ApplyOptions {
    wait: Option<Duration>,
    settle: Duration,
    max_resends: u32,
    cancel: Option<Arc<AtomicBool>>,
}

impl Default for ApplyOptions {
    /// Wait up to the API's documented apply window (5 minutes), re-send missing fields after
    /// a settle time of 60 s, at most twice.
    fn default() -> Self {
        ApplyOptions {
            wait: Some(Duration::from_secs(
                facts::SET_SETTINGS_APPLIES_WITHIN_SECONDS,
            )),
            settle: Duration::from_secs(60),
            max_resends: 2,
            cancel: None,
        }
    }
}

impl ApplyOptions {
    /// Do not read back at all: the outcome is [`Verification::NotVerified`].
    #[must_use]
    pub fn no_wait() -> Self {
        ApplyOptions {
            wait: None,
            ..ApplyOptions::default()
        }
    }

    /// The longest time to wait, from the first setSettings, for every field to read back.
    #[must_use]
    pub fn wait(mut self, d: Duration) -> Self {
        self.wait = Some(d);
        self
    }

    /// How long after a setSettings fields may still read wrong before they are re-sent
    /// (the API may show a change late; re-sending restarts the instance again).
    #[must_use]
    pub fn settle(mut self, d: Duration) -> Self {
        self.settle = d;
        self
    }

    /// The most re-sends of the still-wrong fields (default 2; 0 only verifies).
    #[must_use]
    pub fn max_resends(mut self, n: u32) -> Self {
        self.max_resends = n;
        self
    }

    /// A flag that stops the waiting (e.g. set from a Ctrl-C handler); the outcome is then
    /// [`Verification::Interrupted`] with what is known.
    #[must_use]
    pub fn cancel_flag(mut self, flag: Arc<AtomicBool>) -> Self {
        self.cancel = Some(flag);
        self
    }

    fn cancelled(&self) -> bool {
        self.cancel
            .as_ref()
            .is_some_and(|f| f.load(Ordering::SeqCst))
    }

    /// Runs `fut` to its end, or until the cancel flag is seen set (looked at every
    /// [`CANCEL_POLL`]): then `None`, and `fut` (a request in flight) is dropped, which aborts it.
    async fn unless_cancelled<T>(&self, fut: impl std::future::Future<Output = T>) -> Option<T> {
        let mut fut = std::pin::pin!(fut);
        if self.cancel.is_none() {
            return Some(fut.await);
        }
        loop {
            if self.cancelled() {
                return None;
            }
            if let Ok(out) = tokio::time::timeout(CANCEL_POLL, &mut fut).await {
                return Some(out);
            }
        }
    }
}

/// What reading back showed.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Verification {
    /// Nothing was read back (no wait was asked for).
    NotVerified,
    /// Every desired field reads back, after `resends` re-sends of the fields that did not.
    Converged {
        /// How many times still-wrong fields were re-sent (0: the first setSettings took).
        resends: u32,
    },
    /// The wait ran out with fields still reading wrong.
    NotConverged {
        /// Each still-wrong field: what it read (`current`) and what is wanted.
        fields: Vec<Change>,
        /// Re-sends made.
        resends: u32,
    },
    /// Stopped by the cancel flag before every field read back.
    Interrupted {
        /// Fields not yet seen reading right (empty if no read succeeded yet: then unknown).
        fields: Vec<Change>,
        /// Re-sends made.
        resends: u32,
    },
}

impl Verification {
    /// A short, stable name: `notVerified`, `converged`, `notConverged`, `interrupted`.
    pub fn kind(&self) -> &'static str {
        match self {
            Verification::NotVerified => "notVerified",
            Verification::Converged { .. } => "converged",
            Verification::NotConverged { .. } => "notConverged",
            Verification::Interrupted { .. } => "interrupted",
        }
    }

    /// Re-sends made (0 when nothing was verified).
    pub fn resends(&self) -> u32 {
        match self {
            Verification::NotVerified => 0,
            Verification::Converged { resends }
            | Verification::NotConverged { resends, .. }
            | Verification::Interrupted { resends, .. } => *resends,
        }
    }
}

impl std::fmt::Display for Verification {
    /// `converged`, `converged after 2 re-sends`, `not converged: a, b`, `not verified`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names = |fields: &[Change]| {
            fields
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        };
        match self {
            Verification::NotVerified => f.write_str("not verified"),
            Verification::Converged { resends: 0 } => f.write_str("converged"),
            Verification::Converged { resends: 1 } => f.write_str("converged after 1 re-send"),
            Verification::Converged { resends } => write!(f, "converged after {resends} re-sends"),
            Verification::NotConverged { fields, resends } if fields.is_empty() => write!(
                f,
                "not converged after {resends} re-send(s): the settings could not be read back"
            ),
            Verification::NotConverged { fields, resends } => write!(
                f,
                "not converged after {resends} re-send(s): {}",
                names(fields)
            ),
            Verification::Interrupted { fields, .. } if fields.is_empty() => {
                f.write_str("interrupted before the settings could be read back")
            }
            Verification::Interrupted { fields, .. } => {
                write!(f, "interrupted; still reading wrong: {}", names(fields))
            }
        }
    }
}

/// The result of [`Client::apply_verified`].
#[derive(Clone, Debug, PartialEq)]
pub struct VerifiedApply {
    /// The first plan and what its setSettings answered (nothing sent when already in place).
    pub applied: Applied,
    /// What reading back showed.
    pub verification: Verification,
    /// Each re-send, in order: only the fields that still read wrong at that time.
    pub resent: Vec<SettingsPatch>,
    /// getSettings calls made while verifying.
    pub reads: u32,
}

impl Client {
    /// [`apply`](Self::apply), then (unless [`ApplyOptions::no_wait`]) read the settings back
    /// until every desired field shows its value. Fields still wrong after the settle time are
    /// re-sent — only those fields — at most `max_resends` times. "Instance is starting"
    /// answers during the restart are expected and waited out. Every request goes through the
    /// client's pacing (1 request per second per instance by default).
    ///
    /// An instance already in the desired state gets no setSettings and is `Converged` at once
    /// (the plan's read is the verification).
    pub async fn apply_verified(
        &self,
        desired: &SettingsPatch,
        options: &ApplyOptions,
    ) -> Result<VerifiedApply, Error> {
        let applied = self.apply(desired).await?;
        self.verify(applied, desired, options).await
    }

    /// The verifying half of [`apply_verified`](Self::apply_verified), for a caller that
    /// showed the plan and applied it itself: reads back (and repairs) what `applied` sent.
    pub async fn verify(
        &self,
        applied: Applied,
        desired: &SettingsPatch,
        options: &ApplyOptions,
    ) -> Result<VerifiedApply, Error> {
        let mut out = VerifiedApply {
            verification: Verification::NotVerified,
            resent: Vec::new(),
            reads: 0,
            applied,
        };
        if !out.applied.sent() {
            out.verification = Verification::Converged { resends: 0 };
            return Ok(out);
        }
        let Some(wait) = options.wait else {
            return Ok(out);
        };
        let start = Instant::now();
        let deadline = start + wait;
        let mut last_send = start;
        let mut still_wrong: Vec<Change> = Vec::new();
        loop {
            // Paced by the client: at most one read per `min_interval`. A cancel drops the
            // read in flight (with its retries and their waits) instead of waiting it out.
            let Some(read) = options.unless_cancelled(self.get_settings()).await else {
                return Ok(interrupted(out, still_wrong));
            };
            out.reads += 1;
            match read {
                Ok(current) => {
                    let pending = desired.changed_only(&current);
                    if pending.is_empty() {
                        out.verification = Verification::Converged {
                            resends: out.resent.len() as u32,
                        };
                        return Ok(out);
                    }
                    still_wrong = pending.changes(&current);
                    let now = Instant::now();
                    if now >= deadline {
                        break;
                    }
                    if now.duration_since(last_send) >= options.settle
                        && (out.resent.len() as u32) < options.max_resends
                    {
                        tracing::info!(
                            target: "greenapi_settings",
                            id_instance = self.id_instance(),
                            fields = pending.len(),
                            "re-sending settings that did not read back"
                        );
                        let checked = pending.check()?;
                        let Some(sent) =
                            options.unless_cancelled(self.send_checked(&checked)).await
                        else {
                            // The re-send may or may not have reached the server.
                            return Ok(interrupted(out, still_wrong));
                        };
                        sent?;
                        out.resent.push(pending);
                        last_send = Instant::now();
                    }
                }
                // The restart after setSettings, and passing trouble: keep waiting.
                Err(Error::InstanceNotReady { .. }) => {}
                Err(e) if e.is_retryable() => {}
                Err(e) => return Err(e),
            }
            if Instant::now() >= deadline {
                break;
            }
            if self.inner.min_interval.is_zero() {
                // Unpaced clients (tests, own pacing) still must not spin.
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        out.verification = Verification::NotConverged {
            fields: still_wrong,
            resends: out.resent.len() as u32,
        };
        Ok(out)
    }
}

/// `out` stopped by the cancel flag, with the fields not yet seen reading right.
fn interrupted(mut out: VerifiedApply, fields: Vec<Change>) -> VerifiedApply {
    out.verification = Verification::Interrupted {
        fields,
        resends: out.resent.len() as u32,
    };
    out
}
