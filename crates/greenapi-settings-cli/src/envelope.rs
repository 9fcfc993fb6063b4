//! The one JSON document every result-producing command prints with `--output json` (or
//! `--json`), and that `--report` files hold: the *envelope*.
//!
//! ```json
//! {"formatVersion": 2, "command": "apply",
//!  "startedAt": "2026-12-07T15:10:49.120Z", "finishedAt": "2026-12-07T15:10:51.004Z",
//!  "interrupted": false,
//!  "…command-specific keys…": "settingsFile, desired, output, undoOf",
//!  "summary": {"total": 1, "…": "a count per status"},
//!  "results": [{"idInstance": 1101000001, "apiUrl": "…", "status": "applied",
//!               "…": "values, or changes with before / after", "error": null}],
//!  "error": null}
//! ```
//!
//! - `formatVersion` is [`FORMAT_VERSION`]; version 1 was the `plan --json` document and the
//!   fleet report (which had no version key, `mode` instead of `command`): reports of version 1
//!   are still read by `--resume` (not by `--undo`: they hold no `before` values).
//! - `results` has one entry per instance, a single-instance command included (one entry);
//!   each has `idInstance`, `status` (the command's word for the outcome) and `error`
//!   (`{kind, message}` or `null`), plus the command's values.
//! - `error` (top level) is the failure of the command as a whole (invalid input, no
//!   credentials): `{kind, message, problems}`, with `results` empty; it is `null` otherwise.
//! - Timestamps are RFC 3339 in UTC with milliseconds (`humantime`).
//! - Secret settings (`webhookUrlToken`) are `<redacted>` (`""` when empty) unless the
//!   command's explicit secret option asks otherwise; the API token is never in it.
//!
//! A new command (`doctor`) builds an [`Envelope`] with its own `command` name and result
//! entries: nothing here knows a command.

use std::time::SystemTime;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{json, Map, Value};

use crate::exit::CliError;

/// The version of the envelope; bumped on any incompatible change.
pub const FORMAT_VERSION: u64 = 2;

/// When a command started: taken once, at the start of `main`.
#[derive(Clone, Copy, Debug)]
pub struct Started(pub SystemTime);

impl Started {
    /// Now.
    pub fn now() -> Started {
        Started(SystemTime::now())
    }

    /// When this process's command started ([`Started::mark`]; now if never marked).
    pub fn of_command() -> Started {
        *COMMAND_STARTED.get_or_init(Started::now)
    }

    /// Marks now as the start of this process's command (the first call counts).
    pub fn mark() {
        COMMAND_STARTED.get_or_init(Started::now);
    }
}

static COMMAND_STARTED: std::sync::OnceLock<Started> = std::sync::OnceLock::new();

/// `t` as RFC 3339 in UTC, with milliseconds.
pub fn timestamp(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

/// One envelope. `R` is the `results` array: a `Vec<Value>`, or a type that serialises the
/// results as it goes (a fleet report is never built as one JSON value).
pub struct Envelope<R> {
    /// The command's name: `get`, `set`, `plan`, `apply`, `undo`, `export`, `validate`,
    /// `spec-check` (later `doctor`).
    pub command: &'static str,
    /// When the command started.
    pub started_at: SystemTime,
    /// When it finished (taken when the envelope was made).
    pub finished_at: SystemTime,
    /// Whether Ctrl-C or SIGTERM stopped it early.
    pub interrupted: bool,
    /// Command-specific keys, written after `interrupted` in this order.
    pub extra: Vec<(&'static str, Value)>,
    /// Counts of the results (see [`status_summary`]) and what else the command sums up.
    pub summary: Value,
    /// One entry per instance.
    pub results: R,
    /// The failure of the command as a whole.
    pub error: Option<Value>,
}

impl<R> Envelope<R> {
    /// An envelope of `command` started at `started`, finished now.
    pub fn new(command: &'static str, started: Started, results: R, summary: Value) -> Self {
        Envelope {
            command,
            started_at: started.0,
            finished_at: SystemTime::now(),
            interrupted: false,
            extra: Vec::new(),
            summary,
            results,
            error: None,
        }
    }

    /// Adds a command-specific key.
    pub fn with(mut self, key: &'static str, value: Value) -> Self {
        self.extra.push((key, value));
        self
    }
}

impl Envelope<Vec<Value>> {
    /// An envelope whose summary counts the results' statuses.
    pub fn of_results(command: &'static str, started: Started, results: Vec<Value>) -> Self {
        let summary = status_summary(&results);
        Envelope::new(command, started, results, summary)
    }

    /// The envelope of a command that failed as a whole: no results, the error at the top.
    pub fn of_error(command: &'static str, started: Started, e: &CliError) -> Self {
        let kind = match e.exit {
            crate::exit::Exit::Usage => "invalidInput",
            crate::exit::Exit::Interrupted | crate::exit::Exit::Terminated => "interrupted",
            _ => "failed",
        };
        let mut env = Envelope::of_results(command, started, Vec::new());
        env.error = Some(json!({"kind": kind, "message": e.message, "problems": e.details}));
        env
    }
}

impl<R: Serialize> Envelope<R> {
    /// The envelope as one JSON value.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Prints the envelope, pretty, on stdout (the only thing a `--json` command prints there).
    pub fn print(&self) {
        let text = serde_json::to_string_pretty(self).unwrap_or_default();
        crate::out::envelope(&text);
    }
}

impl<R: Serialize> Serialize for Envelope<R> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("formatVersion", &FORMAT_VERSION)?;
        map.serialize_entry("command", self.command)?;
        map.serialize_entry("startedAt", &timestamp(self.started_at))?;
        map.serialize_entry("finishedAt", &timestamp(self.finished_at))?;
        map.serialize_entry("interrupted", &self.interrupted)?;
        for (k, v) in &self.extra {
            map.serialize_entry(k, v)?;
        }
        map.serialize_entry("summary", &self.summary)?;
        map.serialize_entry("results", &self.results)?;
        map.serialize_entry("error", &self.error)?;
        map.end()
    }
}

/// `{"total": N, STATUS: count, …}` of results that each have a `status`, statuses in the
/// order first seen.
pub fn status_summary(results: &[Value]) -> Value {
    let mut summary = Map::new();
    summary.insert("total".into(), results.len().into());
    for r in results {
        if let Some(status) = r.get("status").and_then(Value::as_str) {
            let n = summary.get(status).and_then(Value::as_u64).unwrap_or(0);
            summary.insert(status.to_string(), (n + 1).into());
        }
    }
    Value::Object(summary)
}

/// The `error` of one result: `{kind, message}`.
pub fn result_error(kind: &str, message: &str) -> Value {
    json!({"kind": kind, "message": message})
}

/// `settings` (wire JSON, an object) with its secret settings `<redacted>` unless `reveal`.
pub fn values(mut settings: Value, reveal: bool) -> Value {
    if !reveal {
        greenapi_settings::redact::secret_settings(&mut settings);
    }
    settings
}

/// Whether an envelope (or any JSON) is one of the [`FORMAT_VERSION`] this build writes. A
/// later version is not: it may mean something else by the same keys (see
/// [`refuse_unknown_version`]).
pub fn is_envelope(v: &Value) -> bool {
    v.get("formatVersion").and_then(Value::as_u64) == Some(FORMAT_VERSION)
}

/// Refuses (exit 2) a report with a `formatVersion` this build does not read: a newer build's
/// report may use the same keys differently, and `--undo` or `--resume` would act on a guess.
/// A report without the key is of version 1 (the caller decides whether it reads those).
pub fn refuse_unknown_version(v: &Value, shown: &str) -> Result<(), CliError> {
    match v.get("formatVersion") {
        None => Ok(()),
        Some(n) if n.as_u64() == Some(FORMAT_VERSION) => Ok(()),
        Some(n) => Err(CliError::usage(format!(
            "{shown}: a report of formatVersion {}, which this build does not read: it reads formatVersion {FORMAT_VERSION} (and, for --resume, the version-1 reports without formatVersion); use the greenapi-settings that wrote it; nothing was sent",
            match n {
                Value::Number(n) => n.to_string(),
                // Whatever else the file holds there, shown short and escaped.
                other => crate::terminal::text(&crate::input::clip(&other.to_string())).into_owned(),
            }
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn an_envelope_has_its_keys_in_order_with_utc_timestamps() {
        let started = Started(UNIX_EPOCH + Duration::from_millis(1_700_000_000_123));
        let mut env = Envelope::of_results(
            "get",
            started,
            vec![
                json!({"idInstance": 1, "status": "read"}),
                json!({"idInstance": 2, "status": "failed"}),
            ],
        )
        .with("output", Value::Null);
        env.finished_at = started.0 + Duration::from_secs(2);
        let text = serde_json::to_string(&env).unwrap();
        assert_eq!(
            text,
            concat!(
                r#"{"formatVersion":2,"command":"get","startedAt":"2023-11-14T22:13:20.123Z","#,
                r#""finishedAt":"2023-11-14T22:13:22.123Z","interrupted":false,"output":null,"#,
                r#""summary":{"total":2,"read":1,"failed":1},"#,
                r#""results":[{"idInstance":1,"status":"read"},{"idInstance":2,"status":"failed"}],"error":null}"#
            )
        );
        assert!(is_envelope(&env.to_value()));
        assert!(!is_envelope(&json!({"mode": "apply"})));
    }

    #[test]
    fn a_report_of_a_later_format_version_is_not_an_envelope_this_build_reads() {
        let v3 = json!({"formatVersion": 3, "command": "apply", "results": []});
        assert!(!is_envelope(&v3));
        let e = refuse_unknown_version(&v3, "r.json").unwrap_err();
        assert_eq!(e.exit, crate::exit::Exit::Usage);
        assert!(e.message.contains("formatVersion 3"), "{}", e.message);
        assert!(e.message.contains("reads formatVersion 2"), "{}", e.message);
        assert!(refuse_unknown_version(&json!({"formatVersion": "2"}), "r.json").is_err());
        assert!(refuse_unknown_version(&json!({"formatVersion": 2}), "r.json").is_ok());
        assert!(refuse_unknown_version(&json!({"mode": "apply"}), "r.json").is_ok());
    }

    #[test]
    fn a_command_that_failed_as_a_whole_has_no_results_and_its_error_at_the_top() {
        let e = CliError::usage("2 problem(s)").with_problems(vec!["a".into(), "b".into()]);
        let v = Envelope::of_error("validate", Started::now(), &e).to_value();
        assert_eq!(v["results"], json!([]));
        assert_eq!(v["summary"], json!({"total": 0}));
        assert_eq!(
            v["error"],
            json!({"kind": "invalidInput", "message": "2 problem(s)", "problems": ["a", "b"]})
        );
    }

    #[test]
    fn values_hide_the_webhook_token_unless_revealed() {
        let s = json!({"webhookUrlToken": "s3cret", "webhookUrl": ""});
        assert_eq!(values(s.clone(), false)["webhookUrlToken"], "<redacted>");
        assert_eq!(values(s, true)["webhookUrlToken"], "s3cret");
    }
}
