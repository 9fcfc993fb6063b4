//! The result of a fleet run: the JSON [`Report`] of every instance's result (written
//! atomically, its path checked before the run), and reading an earlier report back for
//! `--resume`. One instance's part is in `result.rs`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::envelope::{Envelope, Started};
use crate::exit::CliError;
use crate::input::{read_capped, FLEET_FILE_CAP};

pub use super::result::{InstanceResult, Status, VerifySummary};

/// Checks, before a run, that the report can be written where asked (so a long run does not
/// end in "cannot write the report").
pub fn check_report_path(path: &Path) -> Result<(), CliError> {
    let shown = path.display();
    if path.is_dir() {
        return Err(CliError::usage(format!(
            "cannot write the report {shown}: it is a directory; nothing was sent"
        )));
    }
    // A temporary file beside it, created and removed: nothing at a predictable name is
    // opened or truncated (see `atomic_file`).
    crate::atomic_file::check_writable(path).map_err(|e| {
        CliError::usage(format!(
            "cannot write the report {shown}: {e}; nothing was sent"
        ))
    })
}

/// The outcome of a plan or apply (a fleet's, or one instance's): printed with `--json` and
/// written by `--report`, as an [`Envelope`](crate::envelope::Envelope).
#[derive(Clone, Debug)]
pub struct Report {
    /// `apply` or `plan`: the envelope's `command`.
    pub mode: &'static str,
    /// When the run started.
    pub started_at: std::time::SystemTime,
    /// The settings file, as named on the command line (`settingsFile`).
    pub settings_file: Option<String>,
    /// The desired settings, wire form.
    pub desired: Value,
    /// One result per instance, by id.
    pub results: Vec<InstanceResult>,
    /// Wall time of the run.
    pub duration: Duration,
    /// Whether the run was interrupted (Ctrl-C): instances not started are `notStarted`.
    pub interrupted: bool,
    /// `--max-failures N` stopped the run: `Some(N)`; instances not started are
    /// `notStarted` (the report's `stoppedAfterFailures`).
    pub stopped_after_failures: Option<usize>,
    /// A fleet run: the connections its shared pool opened, each a TLS handshake for an
    /// `https://` host (the summary's `connectionsOpened`). `None` for one instance.
    pub connections_opened: Option<u64>,
    /// `--only` / `--limit`: which instances of the file were selected (the report's
    /// `selection`; only those are in `results`). `None`: all of them.
    pub selection: Option<Value>,
}

impl Report {
    /// How many results have `status` (a [`Status`], or its name: `count("applied")`).
    pub fn count<S>(&self, status: S) -> usize
    where
        Status: PartialEq<S>,
    {
        self.results.iter().filter(|r| r.status == status).count()
    }

    /// Whether any instance failed.
    pub fn any_failed(&self) -> bool {
        self.count(Status::Failed) > 0
    }

    /// The one-line summary.
    pub fn summary(&self) -> String {
        let not_started = match self.count(Status::NotStarted) {
            0 => String::new(),
            n => format!(", {n} not started"),
        };
        let verified = if self.waited() {
            format!(
                " ({} converged, {} not converged, {} re-send(s))",
                self.verified("converged"),
                self.verified("notConverged"),
                self.resends()
            )
        } else {
            String::new()
        };
        format!(
            "{} instance(s): {} applied, {} unchanged, {} planned, {} failed{not_started}{verified} in {:.1} s{}",
            self.results.len(),
            self.count(Status::Applied),
            self.count(Status::Unchanged),
            self.count(Status::Planned),
            self.count(Status::Failed),
            self.duration.as_secs_f64(),
            match (self.interrupted, self.stopped_after_failures) {
                (true, _) => " (interrupted)".to_string(),
                (false, Some(n)) => format!(" (stopped after {n} failure(s): --max-failures {n})"),
                (false, None) => String::new(),
            }
        )
    }

    /// The report as JSON (no tokens in it).
    pub fn to_json(&self) -> Value {
        let results: Vec<Value> = self.results.iter().map(InstanceResult::to_json).collect();
        self.envelope(results).to_value()
    }

    /// The report as an envelope whose `results` are `results`; it finishes when the run did.
    fn envelope<R>(&self, results: R) -> Envelope<R> {
        let mut env = Envelope::new(
            self.mode,
            Started(self.started_at),
            results,
            self.summary_json(),
        )
        .with(
            "settingsFile",
            self.settings_file
                .clone()
                .map_or(Value::Null, Value::String),
        )
        .with("desired", self.desired.clone());
        if let Some(n) = self.stopped_after_failures {
            env = env.with("stoppedAfterFailures", n.into());
        }
        if let Some(sel) = &self.selection {
            env = env.with("selection", sel.clone());
        }
        env.finished_at = self.started_at + self.duration;
        env.interrupted = self.interrupted;
        env
    }

    /// Prints the report's envelope on stdout (`--json`).
    pub fn print(&self) {
        let mut out = Vec::new();
        if self.write_to(&mut out).is_ok() {
            crate::out::envelope(String::from_utf8_lossy(&out).trim_end());
        }
    }

    /// How many results were verified with `outcome`, and the re-sends made in all.
    pub fn verified(&self, outcome: &str) -> usize {
        self.results
            .iter()
            .filter(|r| {
                r.verification
                    .as_ref()
                    .is_some_and(|v| v.outcome == outcome)
            })
            .count()
    }

    /// Re-sends of still-wrong fields made across the fleet (`apply --wait`).
    pub fn resends(&self) -> u64 {
        self.results
            .iter()
            .filter_map(|r| r.verification.as_ref())
            .map(|v| u64::from(v.resends))
            .sum()
    }

    fn waited(&self) -> bool {
        self.results.iter().any(|r| {
            r.verification
                .as_ref()
                .is_some_and(|v| v.outcome != "notVerified")
        })
    }

    /// The report's `summary`: the total, the count of each status, the wall time; after
    /// `apply --wait` also how many converged, did not, and the re-sends.
    fn summary_json(&self) -> Value {
        let mut summary = serde_json::Map::new();
        summary.insert("total".into(), self.results.len().into());
        for status in Status::ALL {
            summary.insert(status.as_str().into(), self.count(status).into());
        }
        if self.waited() {
            for outcome in ["converged", "notConverged", "interrupted"] {
                summary.insert(outcome.into(), self.verified(outcome).into());
            }
            summary.insert("resends".into(), self.resends().into());
        }
        let drift = crate::plan_output::Drift::of(&self.results).to_json();
        for key in ["withChanges", "fields"] {
            summary.insert(key.into(), drift[key].clone());
        }
        if let Some(n) = self.connections_opened {
            summary.insert("connectionsOpened".into(), n.into());
        }
        summary.insert(
            "durationMs".into(),
            (self.duration.as_millis() as u64).into(),
        );
        Value::Object(summary)
    }

    /// Writes the report atomically (an unpredictable temporary file, then a rename: see
    /// `atomic_file`): the text of [`to_json`](Report::to_json), pretty-printed, written as it
    /// is serialised (the report of a large fleet is never built as one JSON value or one
    /// string).
    pub fn write(&self, path: &Path) -> Result<(), CliError> {
        crate::atomic_file::write(path, 0o644, |out| self.write_to(out)).map_err(|e| {
            CliError::failed(format!("cannot write the report {}: {e}", path.display()))
        })
    }

    /// The report's text (pretty-printed JSON and a newline) to `out`.
    fn write_to(&self, out: &mut (impl std::io::Write + ?Sized)) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, &ReportText(self)).map_err(std::io::Error::from)?;
        out.write_all(b"\n")
    }
}

/// [`Report::to_json`] as a `Serialize`: the same keys in the same order, serialised
/// straight to the writer.
struct ReportText<'a>(&'a Report);

impl serde::Serialize for ReportText<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        struct Results<'a>(&'a [InstanceResult]);
        impl serde::Serialize for Results<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut seq = s.serialize_seq(Some(self.0.len()))?;
                for r in self.0 {
                    seq.serialize_element(&ResultText(r))?;
                }
                seq.end()
            }
        }
        self.0.envelope(Results(&self.0.results)).serialize(s)
    }
}

/// [`InstanceResult::to_json`] as a `Serialize`.
struct ResultText<'a>(&'a InstanceResult);

impl serde::Serialize for ResultText<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        struct Error<'a>(&'a (String, String));
        impl serde::Serialize for Error<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut map = s.serialize_map(Some(2))?;
                map.serialize_entry("kind", &self.0 .0)?;
                map.serialize_entry("message", &self.0 .1)?;
                map.end()
            }
        }
        struct Verification<'a>(&'a VerifySummary);
        impl serde::Serialize for Verification<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut map = s.serialize_map(Some(3))?;
                map.serialize_entry("outcome", self.0.outcome)?;
                map.serialize_entry("resends", &self.0.resends)?;
                map.serialize_entry("fields", &self.0.fields)?;
                map.end()
            }
        }
        let r = self.0;
        let mut map = s.serialize_map(Some(
            10 + usize::from(r.verification.is_some()) + usize::from(r.desired_hash.is_some()),
        ))?;
        let (before, after) = r.before_after();
        map.serialize_entry("idInstance", &r.id)?;
        map.serialize_entry("apiUrl", &r.api_url)?;
        map.serialize_entry("status", r.status.as_str())?;
        map.serialize_entry("changes", &r.changes)?;
        map.serialize_entry("before", &before)?;
        map.serialize_entry("after", &after)?;
        map.serialize_entry("warnings", &r.warnings_json())?;
        map.serialize_entry("error", &r.error.as_ref().map(Error))?;
        map.serialize_entry("durationMs", &r.duration_ms)?;
        map.serialize_entry("fromPreviousRun", &r.from_previous_run)?;
        if let Some(h) = &r.desired_hash {
            map.serialize_entry("desiredHash", h)?;
        }
        if let Some(v) = &r.verification {
            map.serialize_entry("verification", &Verification(v))?;
        }
        map.end()
    }
}

/// Reads a previous report (at most [`FLEET_FILE_CAP`] bytes) made for the same `desired`
/// document (see [`crate::settings_file::SettingsFile::document`]): the results of instances
/// already done (`applied` / `unchanged`). [`run`](super::run) contacts them again if their `api_url`
/// changed since.
pub fn load_resume(
    path: &Path,
    desired: &Value,
) -> Result<BTreeMap<u64, InstanceResult>, CliError> {
    let shown = path.display().to_string();
    let text = read_capped(path, FLEET_FILE_CAP)?;
    let v: Value = serde_json::from_str(&text)
        .map_err(|e| CliError::usage(format!("{shown}: not a fleet report: {e}")))?;
    // A newer build's report may mean other things by the same keys (standard input too).
    crate::envelope::refuse_unknown_version(&v, &shown)?;
    // Version 2 (the envelope) names the command; version 1 reports had `mode`.
    let command = v.get("command").or_else(|| v.get("mode"));
    if command.and_then(Value::as_str) != Some("apply") {
        return Err(CliError::usage(format!(
            "{shown}: not the report of a fleet apply"
        )));
    }
    if v.get("desired") != Some(desired) {
        return Err(CliError::usage(format!(
            "{shown}: the report was made for different desired settings; resume only with the same settings file"
        )));
    }
    let results = v
        .get("results")
        .and_then(Value::as_array)
        .ok_or_else(|| CliError::usage(format!("{shown}: no results")))?;
    Ok(results
        .iter()
        .filter_map(InstanceResult::from_json)
        .filter(|r| r.status.is_done())
        .map(|r| (r.id, r))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use greenapi_settings::SettingsPatch;
    use serde_json::json;

    fn result(id: u64, status: Status) -> InstanceResult {
        InstanceResult {
            desired_hash: None,
            id,
            api_url: format!("https://{id}.example"),
            status,
            changes: if status == Status::Applied {
                vec!["webhookUrl".into()]
            } else {
                Vec::new()
            },
            warnings: Vec::new(),
            error: (status == Status::Failed).then(|| ("http".into(), "boom".into())),
            duration_ms: id,
            from_previous_run: false,
            change_values: Vec::new(),
            warning_details: Vec::new(),
            verification: None,
        }
    }

    fn report() -> Report {
        Report {
            mode: "apply",
            started_at: std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            settings_file: Some("f.toml".into()),
            desired: json!({"webhookUrl": "https://hook.example"}),
            results: Status::ALL
                .into_iter()
                .zip(1..)
                .map(|(s, id)| result(id, s))
                .collect(),
            duration: Duration::from_millis(1500),
            interrupted: true,
            stopped_after_failures: None,
            connections_opened: None,
            selection: None,
        }
    }

    #[test]
    fn every_status_has_one_name_that_reads_back() {
        let names: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            names,
            ["applied", "unchanged", "planned", "failed", "notStarted"]
        );
        for s in Status::ALL {
            assert_eq!(Status::from_name(s.as_str()), Some(s));
            assert_eq!(s.to_string(), s.as_str());
            assert!(s == s.as_str());
        }
        assert_eq!(Status::from_name("Applied"), None);
        assert_eq!(
            Status::ALL
                .into_iter()
                .filter(|s| s.is_done())
                .collect::<Vec<_>>(),
            [Status::Applied, Status::Unchanged]
        );
    }

    #[test]
    fn the_report_is_the_envelope_with_before_and_after_and_the_secret_redacted() {
        let mut r = report();
        r.results[0].change_values = vec![
            greenapi_settings::Change {
                field: "webhookUrl",
                current: json!(""),
                desired: json!("https://hook.example"),
                secret: false,
            },
            greenapi_settings::Change {
                field: "webhookUrlToken",
                current: json!("old-s3cret"),
                desired: json!("new-s3cret"),
                secret: true,
            },
        ];
        r.results[0].changes = vec!["webhookUrl".into(), "webhookUrlToken".into()];
        let text = serde_json::to_string(&r.to_json()).unwrap();
        assert!(!text.contains("s3cret"), "{text}");
        let expected = concat!(
            r#"{"formatVersion":2,"command":"apply","startedAt":"2023-11-14T22:13:20.000Z","finishedAt":"2023-11-14T22:13:21.500Z","#,
            r#""interrupted":true,"settingsFile":"f.toml","desired":{"webhookUrl":"https://hook.example"},"#,
            r#""summary":{"total":5,"applied":1,"unchanged":1,"planned":1,"failed":1,"notStarted":1,"withChanges":2,"fields":{"webhookUrl":1,"webhookUrlToken":1},"durationMs":1500},"#,
            r#""results":["#,
            r#"{"idInstance":1,"apiUrl":"https://1.example","status":"applied","changes":["webhookUrl","webhookUrlToken"],"#,
            r#""before":{"webhookUrl":"","webhookUrlToken":"<redacted>"},"after":{"webhookUrl":"https://hook.example","webhookUrlToken":"<redacted>"},"#,
            r#""warnings":[],"error":null,"durationMs":1,"fromPreviousRun":false},"#,
            r#"{"idInstance":2,"apiUrl":"https://2.example","status":"unchanged","changes":[],"before":{},"after":{},"warnings":[],"error":null,"durationMs":2,"fromPreviousRun":false},"#,
            r#"{"idInstance":3,"apiUrl":"https://3.example","status":"planned","changes":[],"before":{},"after":{},"warnings":[],"error":null,"durationMs":3,"fromPreviousRun":false},"#,
            r#"{"idInstance":4,"apiUrl":"https://4.example","status":"failed","changes":[],"before":{},"after":{},"warnings":[],"error":{"kind":"http","message":"boom"},"durationMs":4,"fromPreviousRun":false},"#,
            r#"{"idInstance":5,"apiUrl":"https://5.example","status":"notStarted","changes":[],"before":{},"after":{},"warnings":[],"error":null,"durationMs":5,"fromPreviousRun":false}"#,
            r#"],"error":null}"#
        );
        assert_eq!(text, expected);
        assert_eq!(
            report().summary(),
            "5 instance(s): 1 applied, 1 unchanged, 1 planned, 1 failed, 1 not started in 1.5 s (interrupted)"
        );
    }

    #[test]
    fn resume_still_reads_a_version_1_report() {
        let dir = std::env::temp_dir().join(format!("fleet-report-v1-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("v1.json");
        let desired = json!({"webhookUrl": "https://hook.example"});
        let v1 = json!({"mode": "apply", "desired": desired, "summary": {}, "interrupted": false,
        "results": [
            {"idInstance": 1, "apiUrl": "https://1.example", "status": "applied", "changes": ["webhookUrl"], "warnings": ["w"], "error": null, "durationMs": 1, "fromPreviousRun": false},
            {"idInstance": 2, "apiUrl": "https://2.example", "status": "failed", "changes": [], "warnings": [], "error": {"kind": "http", "message": "x"}, "durationMs": 1, "fromPreviousRun": false}
        ]});
        std::fs::write(&path, v1.to_string()).unwrap();
        let done = load_resume(&path, &desired).unwrap();
        assert_eq!(done.keys().copied().collect::<Vec<_>>(), [1]);
        assert_eq!(done[&1].warnings, ["w"]);
        assert!(done[&1].change_values.is_empty(), "version 1 had no values");
        // Version 2: before / after come back with the carried-over result.
        let mut r = report();
        r.desired = desired.clone();
        r.results[0].change_values = vec![greenapi_settings::Change {
            field: "webhookUrl",
            current: json!(""),
            desired: json!("https://hook.example"),
            secret: false,
        }];
        r.write(&path).unwrap();
        let done = load_resume(&path, &desired).unwrap();
        assert_eq!(done[&1].change_values, r.results[0].change_values);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_report_is_written_as_to_json_prints_it() {
        let mut r = report();
        r.desired = json!({"webhookUrl": "https://h.example/\u{e9}\"q\"", "delaySendMessagesMilliseconds": 900, "z": null, "a": [1, {"b": true}]});
        r.results[0].warnings = vec!["w \u{2028} \t".into(), "two".into()];
        r.results[0].changes = vec!["webhookUrl".into(), "incomingWebhook".into()];
        r.results[1].verification = Some(VerifySummary {
            outcome: "notConverged",
            resends: 3,
            fields: vec!["webhookUrl: \"a\" -> \"b\"".into()],
            text: "not converged".into(),
        });
        r.results[2].verification = Some(VerifySummary {
            outcome: "converged",
            resends: 0,
            fields: Vec::new(),
            text: "converged".into(),
        });
        r.results[3].error = Some(("http\n".into(), "boom \u{0} \\ \u{1F600}".into()));
        r.results[4].id = u64::MAX;
        r.results[4].duration_ms = u64::MAX;
        let mut stopped = report();
        stopped.interrupted = false;
        stopped.stopped_after_failures = Some(3);
        stopped.selection =
            Some(json!({"only": [1, 2], "limit": null, "selected": 2, "inFile": 9}));
        assert!(stopped
            .summary()
            .ends_with(" (stopped after 3 failure(s): --max-failures 3)"));
        for report in [r, report(), stopped] {
            let mut written = Vec::new();
            report.write_to(&mut written).unwrap();
            let expected = serde_json::to_string_pretty(&report.to_json()).unwrap() + "\n";
            assert_eq!(String::from_utf8(written).unwrap(), expected);
        }
    }

    #[test]
    fn counts_take_a_status_or_its_name() {
        let r = report();
        for s in Status::ALL {
            assert_eq!(r.count(s), 1);
            assert_eq!(r.count(s.as_str()), 1);
        }
        assert_eq!(r.count("bogus"), 0);
        assert!(r.any_failed());
    }

    #[test]
    fn a_report_reads_back_with_unknown_statuses_as_failed() {
        let mut v = report().to_json();
        let back: Vec<Status> = v["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(InstanceResult::from_json)
            .map(|r| r.status)
            .collect();
        assert_eq!(back, Status::ALL);
        v["results"][0]["status"] = json!("exploded");
        let r = InstanceResult::from_json(&v["results"][0]).unwrap();
        assert_eq!((r.status, r.from_previous_run), (Status::Failed, true));
    }

    #[test]
    fn resume_keeps_only_the_instances_already_done() {
        let dir = std::env::temp_dir().join(format!("fleet-report-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("report.json");
        let desired = SettingsPatch::from_json_value(&json!({})).unwrap();
        let mut r = report();
        r.desired = desired.to_json_value();
        check_report_path(&path).unwrap();
        r.write(&path).unwrap();
        let done = load_resume(&path, &desired.to_json_value()).unwrap();
        assert_eq!(done.keys().copied().collect::<Vec<_>>(), [1, 2]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
