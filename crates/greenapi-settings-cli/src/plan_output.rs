//! What `plan` reports beyond the diff: the machine-readable plan (`plan --json`, versioned by
//! [`PLAN_FORMAT_VERSION`]) and the drift summary of a fleet (how many instances differ from
//! the settings file, on which fields).
//!
//! ```json
//! {"formatVersion": 1, "settingsFile": "desired.toml",
//!  "summary": {"instances": 2, "withChanges": 1, "unchanged": 1, "failed": 0, "notStarted": 0,
//!              "fields": {"webhookUrl": 1}},
//!  "instances": [{"idInstance": 1101000001, "apiUrl": "…", "status": "planned",
//!                 "changes": [{"field": "webhookUrl", "current": "", "desired": "https://…"}],
//!                 "warnings": [{"field": "…", "rule": "…", "message": "…"}], "error": null}]}
//! ```
//!
//! Secret settings (`webhookUrlToken`) are shown as `"<redacted>"` (`""` when empty).

use greenapi_settings::redact;
use greenapi_settings::{Change, Violation, FIELDS};
use serde_json::{json, Map, Value};

use crate::fleet::{InstanceResult, Status};
use crate::style::Style;

/// The version of the `plan --json` document; bumped on any incompatible change.
pub const PLAN_FORMAT_VERSION: u64 = 1;

/// The plan document for these results.
pub fn plan_json(settings_file: &str, results: &[InstanceResult], interrupted: bool) -> Value {
    let drift = Drift::of(results);
    json!({
        "formatVersion": PLAN_FORMAT_VERSION,
        "settingsFile": settings_file,
        "interrupted": interrupted,
        "summary": drift.to_json(),
        "instances": results.iter().map(instance_json).collect::<Vec<_>>(),
    })
}

fn instance_json(r: &InstanceResult) -> Value {
    json!({
        "idInstance": r.id,
        "apiUrl": r.api_url,
        "status": r.status.as_str(),
        "changes": r.change_values.iter().map(change_json).collect::<Vec<_>>(),
        "warnings": r.warning_details.iter().map(warning_json).collect::<Vec<_>>(),
        "error": r.error.as_ref().map(|(k, m)| json!({"kind": k, "message": m})),
    })
}

/// One change; a secret setting's values go through [`redact::secret_settings`].
fn change_json(c: &Change) -> Value {
    let shown = |v: &Value| {
        let mut one = json!({ c.field: v });
        if c.secret {
            redact::secret_settings(&mut one);
            // A secret the spec does not list by this name is still not shown.
            if one[c.field] == *v && v.as_str() != Some("") {
                one[c.field] = Value::String(redact::REDACTED.into());
            }
        }
        one[c.field].clone()
    };
    json!({"field": c.field, "current": shown(&c.current), "desired": shown(&c.desired)})
}

fn warning_json(w: &Violation) -> Value {
    json!({"field": w.field, "rule": w.rule, "message": w.message})
}

/// How a fleet differs from its settings file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Drift {
    /// Instances in the run.
    pub instances: usize,
    /// Instances with at least one change pending (or sent).
    pub with_changes: usize,
    /// Instances already as desired.
    pub unchanged: usize,
    /// Instances that could not be read.
    pub failed: usize,
    /// Instances not started (Ctrl-C).
    pub not_started: usize,
    /// Each differing setting (API name) with the number of instances it differs on, most
    /// first, then in spec order.
    pub fields: Vec<(String, usize)>,
}

impl Drift {
    /// The drift of these results.
    pub fn of(results: &[InstanceResult]) -> Drift {
        let mut d = Drift {
            instances: results.len(),
            ..Drift::default()
        };
        for r in results {
            match r.status {
                Status::Planned | Status::Applied => d.with_changes += 1,
                Status::Unchanged => d.unchanged += 1,
                Status::Failed => d.failed += 1,
                Status::NotStarted => d.not_started += 1,
            }
            for f in &r.changes {
                match d.fields.iter_mut().find(|(name, _)| name == f) {
                    Some((_, n)) => *n += 1,
                    None => d.fields.push((f.clone(), 1)),
                }
            }
        }
        let order = |name: &str| {
            FIELDS
                .iter()
                .position(|f| f.name == name)
                .unwrap_or(usize::MAX)
        };
        d.fields
            .sort_by(|a, b| b.1.cmp(&a.1).then_with(|| order(&a.0).cmp(&order(&b.0))));
        d
    }

    /// The `summary` of the plan document.
    pub fn to_json(&self) -> Value {
        let fields: Map<String, Value> = self
            .fields
            .iter()
            .map(|(f, n)| (f.clone(), Value::from(*n)))
            .collect();
        json!({
            "instances": self.instances,
            "withChanges": self.with_changes,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "notStarted": self.not_started,
            "fields": fields,
        })
    }

    /// The human summary: `drift: 2 of 5 instance(s) differ from FILE`, then one line per
    /// setting with the number of instances it differs on.
    pub fn render(&self, settings_file: &str, style: Style) -> String {
        let mut out = format!(
            "drift: {} of {} instance(s) differ from {settings_file}",
            self.with_changes, self.instances
        );
        if self.failed > 0 {
            out.push_str(&format!(" ({} could not be read)", self.failed));
        }
        out.push('\n');
        let width = self.fields.iter().map(|(f, _)| f.len()).max().unwrap_or(0);
        for (f, n) in &self.fields {
            out.push_str(&format!(
                "  {}  {n} instance(s)\n",
                style.yellow(&format!("{f:width$}"))
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(id: u64, status: Status, changes: &[&str]) -> InstanceResult {
        InstanceResult {
            desired_hash: None,
            id,
            api_url: "http://127.0.0.1:1".into(),
            status,
            changes: changes.iter().map(|c| c.to_string()).collect(),
            warnings: Vec::new(),
            error: (status == Status::Failed).then(|| ("auth".into(), "401".into())),
            duration_ms: 0,
            from_previous_run: false,
            change_values: Vec::new(),
            warning_details: Vec::new(),
            verification: None,
        }
    }

    #[test]
    fn drift_counts_instances_and_fields_most_first() {
        let rs = [
            result(1, Status::Planned, &["incomingWebhook", "webhookUrl"]),
            result(2, Status::Planned, &["webhookUrl"]),
            result(3, Status::Unchanged, &[]),
            result(4, Status::Failed, &[]),
        ];
        let d = Drift::of(&rs);
        assert_eq!(
            (d.instances, d.with_changes, d.unchanged, d.failed),
            (4, 2, 1, 1)
        );
        assert_eq!(
            d.fields,
            [
                ("webhookUrl".to_string(), 2),
                ("incomingWebhook".to_string(), 1)
            ]
        );
        let text = d.render("f.toml", Style::plain());
        assert!(
            text.starts_with(
                "drift: 2 of 4 instance(s) differ from f.toml (1 could not be read)\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("  webhookUrl       2 instance(s)\n"),
            "{text}"
        );
    }

    #[test]
    fn secret_changes_are_redacted_and_an_empty_secret_stays_visible() {
        let c = Change {
            field: "webhookUrlToken",
            current: json!(""),
            desired: json!("s3cret"),
            secret: true,
        };
        assert_eq!(
            change_json(&c),
            json!({"field": "webhookUrlToken", "current": "", "desired": "<redacted>"})
        );
        let mut r = result(1, Status::Planned, &["webhookUrlToken"]);
        r.change_values.push(c);
        let doc = plan_json("f.toml", &[r], false);
        assert_eq!(doc["formatVersion"], 1);
        assert_eq!(doc["summary"]["fields"]["webhookUrlToken"], 1);
        assert!(!doc.to_string().contains("s3cret"));
    }
}
