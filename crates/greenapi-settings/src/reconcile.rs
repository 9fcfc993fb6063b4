//! The building blocks of a controller that keeps instances at a desired state (what the CLI's
//! `watch` loop is made of, usable without it): [`Client::observe`] reads an instance once and
//! says whether it is in sync, which fields drifted, or why it could not be read;
//! [`Client::repair`] re-sends only the drifted fields and verifies them exactly as
//! [`Client::apply_verified`] does.
//!
//! Users of the API report settings that are acknowledged and then lost, and settings that
//! change by themselves after the phone logs out and in again: a write that stuck once is no
//! proof that it still holds an hour later. Observing on a schedule and repairing what drifted
//! is how a fleet stays right.
//!
//! ```no_run
//! use std::time::Duration;
//! use greenapi_settings::reconcile::{Observation, Repair};
//! use greenapi_settings::{ApplyOptions, Client, SettingsPatch};
//!
//! # async fn cycle(client: &Client) -> Result<(), greenapi_settings::Error> {
//! let desired = SettingsPatch::new().incoming_webhook(true);
//! match client.observe(&desired).await {
//!     Observation::InSync => {}
//!     Observation::Drifted { drifts, plan } => {
//!         for d in &drifts {
//!             println!("{d}"); // secrets are shown as <redacted>
//!         }
//!         let options = ApplyOptions::default().wait(Duration::from_secs(300));
//!         match client.repair(*plan, &desired, &options).await {
//!             Repair::Converged { resends, .. } => println!("repaired ({resends} re-sends)"),
//!             other => println!("not repaired: {}", other.kind()),
//!         }
//!     }
//!     Observation::Unreachable(e) => println!("unreachable: {}", e.kind()),
//! }
//! # Ok(())
//! # }
//! ```

use std::fmt;

use serde_json::Value;

use crate::client::{Client, Error, Plan};
use crate::redact::REDACTED;
use crate::settings::SettingsPatch;
use crate::validation::Change;
use crate::ApplyOptions;
use crate::Verification;

/// One drifted field: what the instance shows and what is wanted, both in wire form.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct Drift {
    /// API name of the setting.
    pub field: &'static str,
    /// The value wanted.
    pub desired: Value,
    /// The value the instance shows.
    pub observed: Value,
    /// Whether the values are secrets (`webhookUrlToken`): `Display` and `Debug` hide them,
    /// and a caller that stores drifts must not store them in clear.
    pub secret: bool,
}

impl From<&Change> for Drift {
    fn from(c: &Change) -> Drift {
        Drift {
            field: c.field,
            desired: c.desired.clone(),
            observed: c.current.clone(),
            secret: c.secret,
        }
    }
}

impl fmt::Display for Drift {
    /// `field: observed -> desired`, secrets as `<redacted>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.secret {
            write!(f, "{}: {REDACTED} -> {REDACTED}", self.field)
        } else {
            write!(f, "{}: {} -> {}", self.field, self.observed, self.desired)
        }
    }
}

impl fmt::Debug for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |v: &Value| {
            if self.secret {
                Value::String(REDACTED.into())
            } else {
                v.clone()
            }
        };
        f.debug_struct("Drift")
            .field("field", &self.field)
            .field("desired", &shown(&self.desired))
            .field("observed", &shown(&self.observed))
            .field("secret", &self.secret)
            .finish()
    }
}

/// What one read of an instance showed, compared with the desired state. Exhaustive on
/// purpose: a read shows the instance in sync, drifted, or not at all.
#[derive(Debug)]
pub enum Observation {
    /// Every desired field shows its value.
    InSync,
    /// Some desired fields show other values.
    Drifted {
        /// The drifted fields, in spec order.
        drifts: Vec<Drift>,
        /// The plan made from this read: what [`Client::repair`] sends (only the drifted
        /// fields), without reading again. Boxed: it holds every setting twice.
        plan: Box<Plan>,
    },
    /// The settings could not be read (the error says why; its `kind()` is stable).
    Unreachable(Error),
}

impl Observation {
    /// A short, stable name: `inSync`, `drifted`, `unreachable`.
    pub fn kind(&self) -> &'static str {
        match self {
            Observation::InSync => "inSync",
            Observation::Drifted { .. } => "drifted",
            Observation::Unreachable(_) => "unreachable",
        }
    }

    /// Of a plan made from a fresh read.
    pub fn of_plan(plan: Plan) -> Observation {
        if plan.is_noop() {
            Observation::InSync
        } else {
            Observation::Drifted {
                drifts: plan.changes.iter().map(Drift::from).collect(),
                plan: Box::new(plan),
            }
        }
    }
}

/// What a repair came to.
#[derive(Debug)]
#[non_exhaustive]
pub enum Repair {
    /// Every drifted field reads back right.
    Converged {
        /// Re-sends of fields that still read wrong after the settle time.
        resends: u32,
        /// getSettings calls made while verifying.
        reads: u32,
    },
    /// Sent, but the wait ran out with these fields still reading wrong.
    NotConverged {
        /// The fields still reading wrong (what they read and what is wanted).
        drifts: Vec<Drift>,
        /// Re-sends made.
        resends: u32,
    },
    /// Sent, but nothing was read back: no wait was asked for ([`ApplyOptions::no_wait`]).
    NotVerified,
    /// The server answered `saveSettings: false`: the settings were not saved.
    NotSaved,
    /// Stopped by the options' cancel flag before every field read back.
    Interrupted,
    /// The setSettings (or a read back) failed.
    Failed(Error),
}

impl Repair {
    /// A short, stable name: `converged`, `notConverged`, `notVerified`, `notSaved`,
    /// `interrupted`, `failed`.
    pub fn kind(&self) -> &'static str {
        match self {
            Repair::Converged { .. } => "converged",
            Repair::NotConverged { .. } => "notConverged",
            Repair::NotVerified => "notVerified",
            Repair::NotSaved => "notSaved",
            Repair::Interrupted => "interrupted",
            Repair::Failed(_) => "failed",
        }
    }
}

impl Client {
    /// Reads the instance's settings once (one getSettings, paced like every request) and
    /// compares them with `desired`. Never sends anything. An error is an observation
    /// ([`Observation::Unreachable`]), not a failure of the call: a controller records it and
    /// goes on with the other instances.
    pub async fn observe(&self, desired: &SettingsPatch) -> Observation {
        match self.plan(desired).await {
            Ok(plan) => Observation::of_plan(plan),
            Err(e) => Observation::Unreachable(e),
        }
    }

    /// Sends the drifted fields of `plan` (a plan from [`observe`](Self::observe): only the
    /// fields that differ) and verifies them as [`apply_verified`](Self::apply_verified)
    /// does: reads back until every field shows, re-sending only what still reads wrong after
    /// the settle time, at most `max_resends` times, within `options`' wait.
    pub async fn repair(
        &self,
        plan: Plan,
        desired: &SettingsPatch,
        options: &ApplyOptions,
    ) -> Repair {
        let applied = match self.apply_plan(plan).await {
            Ok(a) => a,
            Err(e) => return Repair::Failed(e),
        };
        if applied.response.as_ref().is_some_and(|r| !r.save_settings) {
            return Repair::NotSaved;
        }
        let verified = match self.verify(applied, desired, options).await {
            Ok(v) => v,
            Err(e) => return Repair::Failed(e),
        };
        match verified.verification {
            Verification::Converged { resends } => Repair::Converged {
                resends,
                reads: verified.reads,
            },
            Verification::NotConverged { fields, resends } => Repair::NotConverged {
                drifts: fields.iter().map(Drift::from).collect(),
                resends,
            },
            Verification::Interrupted { .. } => Repair::Interrupted,
            _ => Repair::NotVerified,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_drift_never_shows_its_values() {
        let d = Drift {
            field: "webhookUrlToken",
            desired: Value::String("SEKRIT-desired".into()),
            observed: Value::String("SEKRIT-observed".into()),
            secret: true,
        };
        let shown = format!("{d} {d:?}");
        assert!(!shown.contains("SEKRIT"), "{shown}");
        assert!(shown.contains(REDACTED), "{shown}");
        let plain = Drift {
            field: "incomingWebhook",
            desired: Value::String("yes".into()),
            observed: Value::String("no".into()),
            secret: false,
        };
        assert_eq!(plain.to_string(), "incomingWebhook: \"no\" -> \"yes\"");
    }
}
