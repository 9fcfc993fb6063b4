//! One instance's part of a fleet run: its [`Status`], its [`InstanceResult`] (what the
//! report and the per-instance lines say of it) and the [`VerifySummary`] of `apply --wait`.

use std::fmt;

use serde_json::{json, Map, Value};

/// What became of one instance, as the report and the per-instance lines name it
/// ([`Status::as_str`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// `apply` sent the changes.
    Applied,
    /// The instance already had the desired settings: nothing was (or would be) sent.
    Unchanged,
    /// `plan` found changes to send (plan mode sends nothing).
    Planned,
    /// The instance could not be read or changed (or was stopped by Ctrl-C while in progress).
    Failed,
    /// The run was interrupted before this instance was contacted.
    NotStarted,
}

impl Status {
    /// Every status, in the order of the report's summary.
    pub const ALL: [Status; 5] = [
        Status::Applied,
        Status::Unchanged,
        Status::Planned,
        Status::Failed,
        Status::NotStarted,
    ];

    /// The name used in the report (`status` and the summary's keys) and in each instance's
    /// line: `applied`, `unchanged`, `planned`, `failed`, `notStarted`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Applied => "applied",
            Status::Unchanged => "unchanged",
            Status::Planned => "planned",
            Status::Failed => "failed",
            Status::NotStarted => "notStarted",
        }
    }

    /// The status named `name` (as [`Status::as_str`] spells it), if any.
    pub fn from_name(name: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether the instance is at the desired settings, so that `--resume` need not contact
    /// it again (`applied` or `unchanged`).
    pub fn is_done(self) -> bool {
        matches!(self, Status::Applied | Status::Unchanged)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `status == "applied"`: a status compares equal to its name.
impl PartialEq<&str> for Status {
    fn eq(&self, name: &&str) -> bool {
        self.as_str() == *name
    }
}

/// What happened to one instance.
#[derive(Clone, Debug, PartialEq)]
pub struct InstanceResult {
    /// The instance id.
    pub id: u64,
    /// Its API URL.
    pub api_url: String,
    /// What became of it.
    pub status: Status,
    /// API names of the changed (or to-be-changed) settings.
    pub changes: Vec<String>,
    /// Warning lines.
    pub warnings: Vec<String>,
    /// `(kind, message)` when failed.
    pub error: Option<(String, String)>,
    /// Time spent on this instance.
    pub duration_ms: u64,
    /// Carried over from the report given to `--resume` (not contacted again).
    pub from_previous_run: bool,
    /// The changes with their values (for `plan --json`; secrets are hidden when shown).
    pub change_values: Vec<greenapi_settings::Change>,
    /// The warnings, whole (for `plan --json`).
    pub warning_details: Vec<greenapi_settings::Violation>,
    /// After `apply`: what reading the settings back showed (`notVerified` without `--wait`).
    pub verification: Option<VerifySummary>,
    /// After `apply`: the keyed hash of the instance's resolved desired settings
    /// ([`crate::fleet::desired_hash`]), which `--resume` compares with what the instance is
    /// to get now.
    pub desired_hash: Option<String>,
}

/// What reading an instance's settings back after `apply` showed, for lines and the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifySummary {
    /// `notVerified`, `converged`, `notConverged` or `interrupted`.
    pub outcome: &'static str,
    /// Re-sends of still-wrong fields.
    pub resends: u32,
    /// The still-wrong fields as `field: read -> desired` (secrets hidden).
    pub fields: Vec<String>,
    /// The outcome in words: `converged after 1 re-send`, `not verified`, ...
    pub text: String,
}

impl VerifySummary {
    /// The summary of a verification.
    pub fn of(v: &greenapi_settings::Verification) -> VerifySummary {
        use greenapi_settings::Verification as V;
        let fields = match v {
            V::NotConverged { fields, .. } | V::Interrupted { fields, .. } => {
                fields.iter().map(ToString::to_string).collect()
            }
            _ => Vec::new(),
        };
        VerifySummary {
            outcome: v.kind(),
            resends: v.resends(),
            fields,
            text: v.to_string(),
        }
    }

    pub(super) fn to_json(&self) -> Value {
        json!({
            "outcome": self.outcome,
            "resends": self.resends,
            "fields": self.fields,
        })
    }
}

impl InstanceResult {
    pub(super) fn to_json(&self) -> Value {
        let (before, after) = self.before_after();
        let mut out = json!({
            "idInstance": self.id,
            "apiUrl": self.api_url,
            "status": self.status.as_str(),
            "changes": self.changes,
            "before": before,
            "after": after,
            "warnings": self.warnings_json(),
            "error": self.error.as_ref().map(|(k, m)| json!({"kind": k, "message": m})),
            "durationMs": self.duration_ms,
            "fromPreviousRun": self.from_previous_run,
        });
        if let Some(h) = &self.desired_hash {
            out["desiredHash"] = Value::from(h.as_str());
        }
        if let Some(v) = &self.verification {
            out["verification"] = v.to_json();
        }
        out
    }

    /// `before` (the values read before the change) and `after` (the values sent, or to be
    /// sent) of the changed fields, each an object by API name. A secret setting is
    /// `<redacted>` (`""` when empty): a report never holds it, and `--undo` says so.
    pub fn before_after(&self) -> (Value, Value) {
        let (mut before, mut after) = (Map::new(), Map::new());
        for c in &self.change_values {
            before.insert(c.field.to_string(), c.current.clone());
            after.insert(c.field.to_string(), c.desired.clone());
        }
        let (mut before, mut after) = (Value::Object(before), Value::Object(after));
        for (v, values) in [
            (&mut before, &self.change_values),
            (&mut after, &self.change_values),
        ] {
            greenapi_settings::redact::secret_settings(v);
            // A secret the spec does not list by this name is still not shown.
            for c in values.iter().filter(|c| c.secret) {
                if let Some(x) = v.get_mut(c.field).filter(|x| x.as_str() != Some("")) {
                    *x = Value::String(greenapi_settings::redact::REDACTED.into());
                }
            }
        }
        (before, after)
    }

    /// The warnings as `{field, rule, message}` (only the message for a result read back
    /// from an older report).
    pub(super) fn warnings_json(&self) -> Value {
        if self.warning_details.len() == self.warnings.len() {
            self.warning_details
                .iter()
                .zip(&self.warnings)
                .map(|(w, text)| json!({"field": w.field, "rule": w.rule, "message": text}))
                .collect()
        } else {
            self.warnings
                .iter()
                .map(|text| json!({"field": null, "rule": null, "message": text}))
                .collect()
        }
    }

    pub(super) fn from_json(v: &Value) -> Option<InstanceResult> {
        // An unknown status is a failure: `--resume` retries that instance.
        let status = Status::from_name(v.get("status")?.as_str()?).unwrap_or(Status::Failed);
        let strings = |k: &str| -> Vec<String> {
            v.get(k)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        Some(InstanceResult {
            desired_hash: v
                .get("desiredHash")
                .and_then(Value::as_str)
                .map(str::to_string),
            id: v.get("idInstance")?.as_u64()?,
            api_url: v
                .get("apiUrl")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            status,
            changes: strings("changes"),
            warnings: v
                .get("warnings")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|w| w.as_str().or_else(|| w.get("message")?.as_str()))
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            error: None,
            duration_ms: v.get("durationMs").and_then(Value::as_u64).unwrap_or(0),
            from_previous_run: true,
            change_values: Self::changes_from_json(v),
            warning_details: Vec::new(),
            verification: None,
        })
    }

    /// The `before` / `after` of a version 2 report, read back (so a resumed run's report
    /// keeps them for the instances it carries over, and `--undo` of it restores those too).
    pub(super) fn changes_from_json(v: &Value) -> Vec<greenapi_settings::Change> {
        let (Some(before), Some(after)) = (
            v.get("before").and_then(Value::as_object),
            v.get("after").and_then(Value::as_object),
        ) else {
            return Vec::new();
        };
        greenapi_settings::FIELDS
            .iter()
            .filter_map(|f| {
                Some(greenapi_settings::Change {
                    field: f.name,
                    current: before.get(f.name)?.clone(),
                    desired: after.get(f.name)?.clone(),
                    secret: f.secret,
                })
            })
            .collect()
    }
}
