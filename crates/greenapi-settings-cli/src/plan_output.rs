//! What `plan` reports beyond the diff: the drift summary of a fleet (how many instances
//! differ from the settings file, on which fields). The machine-readable plan is the
//! envelope of [`crate::envelope`] (`plan --json`), whose summary holds the drift's
//! `withChanges` and `fields`.

use greenapi_settings::FIELDS;
use serde_json::{json, Map, Value};

use crate::fleet::{InstanceResult, Status};
use crate::style::Style;

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
}
