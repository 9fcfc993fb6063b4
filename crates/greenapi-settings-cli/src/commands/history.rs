//! `history`: what the history of `watch` says (read-only: nothing is created or migrated):
//! the events oldest first (drifts with what was read and wanted, repairs and their outcome,
//! outages), how long each instance's repairs took to converge, which settings drift most,
//! and what is open now. `--json` prints the same as a versioned document:
//!
//! ```json
//! {"formatVersion": 1, "command": "history", "database": "…/history.sqlite3",
//!  "filters": {"instance": null, "setting": "incomingWebhook", "since": "24h",
//!              "sinceTime": "2026-12-06T15:00:00.000Z"},
//!  "results": {
//!    "cycles": {"count": 144, "last": {"startedAt": "…", "finishedAt": "…", "instances": 200,
//!               "inSync": 199, "drifted": 1, "unreachable": 0, "parked": 0, "repaired": 2,
//!               "interrupted": false}},
//!    "events": [{"id": 1, "cycle": 3, "instance": 1101000001, "at": "…", "kind": "driftDetected",
//!                "setting": "incomingWebhook", "observed": "no", "desired": "yes",
//!                "firstSeen": "…", "durationMs": null, "outcome": null, "errorKind": null,
//!                "fields": [], "stillWrong": [], "resends": null, "message": null}],
//!    "repairs": [{"instance": 1101000001, "repairs": 1, "converged": 1, "notConverged": 0,
//!                 "medianConvergeMs": 2100, "maxConvergeMs": 2100, "lastOutcome": "converged"}],
//!    "settings": [{"setting": "incomingWebhook", "drifts": 1, "instances": 1,
//!                  "resolvedByRepair": 1, "resolvedByItself": 0, "openNow": 0,
//!                  "medianDurationMs": 2100}],
//!    "open": {"drifts": [], "unreachable": []}}}
//! ```
//!
//! `webhookUrlToken` values are shown as `"<redacted>"` (the history holds only a keyed hash).

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::ArgMatches;
use greenapi_settings::FieldInfo;
use serde_json::{json, Value};

use crate::exit::{CliError, Exit};
use crate::input::clip;
use crate::numbers;
use crate::terminal::text;
use crate::watch::history::default_path;
use crate::watch::history::events::{kind, ms, BY_REPAIR};
use crate::watch::history::query::{Event, Filter, HistoryReader, Report};

/// The version of the `history --json` document; bumped on any incompatible change.
pub const HISTORY_FORMAT_VERSION: u64 = 1;

pub(crate) fn run(m: &ArgMatches) -> Result<Exit, CliError> {
    let path = match m.get_one::<PathBuf>("history") {
        Some(p) => p.clone(),
        None => default_path()?,
    };
    let since = m
        .get_one::<String>("since")
        .map(|v| numbers::age("--since", v).map(|d| (v.clone(), d)))
        .transpose()?;
    let filter = Filter {
        instance: m
            .get_one::<String>("instance")
            .map(|v| numbers::id_instance("--instance", v))
            .transpose()?,
        setting: m
            .get_one::<String>("setting")
            .map(|v| setting(v))
            .transpose()?,
        since_ms: since
            .as_ref()
            .map(|(_, d)| ms(SystemTime::now().checked_sub(*d).unwrap_or(UNIX_EPOCH))),
    };
    let report = HistoryReader::open(&path)?.report(&filter)?;
    let shown = path.display().to_string();
    if m.get_flag("json") {
        let doc = document(
            &shown,
            &filter,
            since.as_ref().map(|(v, _)| v.as_str()),
            &report,
        );
        crate::outln!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        print_text(&shown, &filter, &report);
    }
    Ok(Exit::Ok)
}

/// `--setting NAME`: a writable setting of the spec, by API or snake_case name.
fn setting(name: &str) -> Result<&'static str, CliError> {
    if let Some(f) = FieldInfo::find(name.trim()) {
        return Ok(f.name);
    }
    let mut e = CliError::usage(format!(
        "--setting: no setting is called {} (give an API or snake_case name; `greenapi-settings docs` lists them)",
        clip(name)
    ));
    if let Some(best) = FieldInfo::suggest(name.trim()).first() {
        e = e.with_hint(format!("did you mean `{best}`?"));
    }
    Err(e)
}

/// The last millisecond RFC 3339 can write (9999-12-31T23:59:59.999Z): humantime's
/// formatter fails (and `to_string` would panic) past it, and a database is outside data.
const LAST_WRITABLE_MS: i64 = 253_402_300_799_999;

/// A stored time, kept within what RFC 3339 can write.
fn stored(ms: i64) -> std::time::SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms.clamp(0, LAST_WRITABLE_MS) as u64)
}

/// A time as RFC 3339 (UTC, milliseconds).
fn time(ms: i64) -> String {
    humantime::format_rfc3339_millis(stored(ms)).to_string()
}

/// A time as RFC 3339 to the second, for text.
fn time_s(ms: i64) -> String {
    humantime::format_rfc3339_seconds(stored(ms)).to_string()
}

/// A duration for people: `850ms`, `2.1s`, `3m 20s`.
fn took(ms: i64) -> String {
    let ms = ms.max(0) as u64;
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else {
        humantime::format_duration(Duration::from_secs(ms / 1000)).to_string()
    }
}

fn opt_time(v: Option<i64>) -> Value {
    v.map_or(Value::Null, |m| Value::String(time(m)))
}

fn document(path: &str, f: &Filter, since: Option<&str>, r: &Report) -> Value {
    let last = r.cycles.last.as_ref().map(|c| {
        let n = |i: usize| c.counts.map_or(Value::Null, |v| json!(v[i]));
        json!({
            "startedAt": time(c.started_ms), "finishedAt": opt_time(c.finished_ms),
            "instances": n(0), "inSync": n(1), "drifted": n(2), "unreachable": n(3),
            "parked": n(4), "repaired": n(5), "interrupted": c.interrupted,
        })
    });
    json!({
        "formatVersion": HISTORY_FORMAT_VERSION,
        "command": "history",
        "database": path,
        "filters": {
            "instance": f.instance,
            "setting": f.setting,
            "since": since,
            "sinceTime": opt_time(f.since_ms),
        },
        "results": {
            "cycles": {"count": r.cycles.count, "last": last},
            "events": r.events.iter().map(event_json).collect::<Vec<_>>(),
            "repairs": r.repairs.iter().map(|x| json!({
                "instance": x.instance, "repairs": x.repairs, "converged": x.converged,
                "notConverged": x.not_converged, "medianConvergeMs": x.median_converge_ms,
                "maxConvergeMs": x.max_converge_ms, "lastOutcome": x.last_outcome,
            })).collect::<Vec<_>>(),
            "settings": r.settings.iter().map(|s| json!({
                "setting": s.field, "drifts": s.drifts, "instances": s.instances,
                "resolvedByRepair": s.resolved_by_repair, "resolvedByItself": s.resolved_by_itself,
                "openNow": s.open_now, "medianDurationMs": s.median_duration_ms,
            })).collect::<Vec<_>>(),
            "open": {
                "drifts": r.open_drifts.iter().map(|d| json!({
                    "instance": d.instance, "setting": d.field, "observed": d.observed,
                    "desired": d.desired, "firstSeen": time(d.first_seen_ms),
                })).collect::<Vec<_>>(),
                "unreachable": r.unreachable.iter().map(|u| json!({
                    "instance": u.instance, "errorKind": u.error_kind, "since": time(u.since_ms),
                })).collect::<Vec<_>>(),
            },
        },
    })
}

fn event_json(e: &Event) -> Value {
    json!({
        "id": e.id, "cycle": e.cycle, "instance": e.instance, "at": time(e.at_ms),
        "kind": e.kind, "setting": e.field, "observed": e.observed, "desired": e.desired,
        "firstSeen": opt_time(e.first_seen_ms), "durationMs": e.duration_ms,
        "outcome": e.outcome, "errorKind": e.error_kind, "fields": e.fields,
        "stillWrong": e.still_wrong, "resends": e.resends, "message": e.message,
    })
}

/// A value read from the history, for a terminal.
fn val(v: Option<&Value>) -> String {
    text(&v.map_or_else(|| "?".to_owned(), Value::to_string)).into_owned()
}

fn opt(s: Option<&str>) -> String {
    text(s.unwrap_or("?")).into_owned()
}

/// What one event says, after its time, instance and name.
fn describe(e: &Event) -> (&'static str, String) {
    let field = opt(e.field.as_deref());
    let fields = text(&e.fields.join(", ")).into_owned();
    match e.kind.as_str() {
        kind::DRIFT_DETECTED => (
            "drift",
            format!(
                "{field}: {}, wanted {}",
                val(e.observed.as_ref()),
                val(e.desired.as_ref())
            ),
        ),
        kind::DRIFT_CHANGED => (
            "drift",
            format!(
                "{field}: now {}, wanted {} (first seen {})",
                val(e.observed.as_ref()),
                val(e.desired.as_ref()),
                e.first_seen_ms.map_or("?".into(), time_s)
            ),
        ),
        kind::DRIFT_RESOLVED => (
            "resolved",
            format!(
                "{field} {} after {}",
                if e.outcome.as_deref() == Some(BY_REPAIR) {
                    "by the repair"
                } else {
                    "by itself"
                },
                e.duration_ms.map_or("?".into(), took)
            ),
        ),
        kind::REPAIR_SENT => ("repair", format!("sent {fields}")),
        kind::REPAIR_OUTCOME => {
            let after = e.duration_ms.map_or("?".into(), took);
            let resends = match e.resends.unwrap_or(0) {
                0 => String::new(),
                1 => " (1 re-send)".into(),
                n => format!(" ({n} re-sends)"),
            };
            let what = match e.outcome.as_deref() {
                Some("converged") => format!("converged after {after}{resends}"),
                Some("notConverged") => format!(
                    "not converged after {after}{resends}: {} still wrong",
                    text(&e.still_wrong.join(", "))
                ),
                Some("failed") => format!("failed after {after}: {}", opt(e.error_kind.as_deref())),
                other => format!("{} after {after}", opt(other)),
            };
            ("repair", what)
        }
        kind::UNREACHABLE => (
            "unreachable",
            match &e.message {
                Some(m) => format!("{}: {}", opt(e.error_kind.as_deref()), text(m)),
                None => opt(e.error_kind.as_deref()),
            },
        ),
        kind::REACHABLE => (
            "reachable",
            format!(
                "again after {} (was {})",
                e.duration_ms.map_or("?".into(), took),
                opt(e.error_kind.as_deref())
            ),
        ),
        _ => ("event", text(&e.kind).into_owned()),
    }
}

fn print_text(path: &str, f: &Filter, r: &Report) {
    let mut scope = Vec::new();
    if let Some(s) = f.since_ms {
        scope.push(format!("since {}", time_s(s)));
    }
    if let Some(i) = f.instance {
        scope.push(format!("instance {i}"));
    }
    if let Some(s) = f.setting {
        scope.push(format!("setting {s}"));
    }
    let scope = if scope.is_empty() {
        String::new()
    } else {
        format!(" ({})", scope.join(", "))
    };
    crate::outln!("History {}{scope}", text(path));
    match &r.cycles.last {
        None => crate::outln!("Cycles: none recorded"),
        Some(c) => {
            let end = match (c.finished_ms, c.counts) {
                (Some(fin), Some(n)) => format!(
                    "finished {}{}: {} instances, {} in sync, {} drifted, {} unreachable, {} parked, {} repaired",
                    time_s(fin),
                    if c.interrupted { " (interrupted)" } else { "" },
                    n[0], n[1], n[2], n[3], n[4], n[5]
                ),
                _ => "not finished".to_owned(),
            };
            crate::outln!(
                "Cycles: {}; the last started {}, {end}",
                r.cycles.count,
                time_s(c.started_ms)
            );
        }
    }
    crate::outln!();
    crate::outln!("Events (oldest first):");
    if r.events.is_empty() {
        crate::outln!("  none");
    }
    for e in &r.events {
        let (name, what) = describe(e);
        crate::outln!(
            "  {}  {:<12} {:<11} {what}",
            time_s(e.at_ms),
            e.instance,
            name
        );
    }
    crate::outln!();
    crate::outln!("Repairs by instance:");
    if r.repairs.is_empty() {
        crate::outln!("  none");
    } else {
        crate::outln!(
            "  {:<12} {:>7} {:>9} {:>13}  {:<18} {:<10} last outcome",
            "instance",
            "repairs",
            "converged",
            "not converged",
            "median to converge",
            "longest"
        );
    }
    for x in &r.repairs {
        crate::outln!(
            "  {:<12} {:>7} {:>9} {:>13}  {:<18} {:<10} {}",
            x.instance,
            x.repairs,
            x.converged,
            x.not_converged,
            x.median_converge_ms.map_or("-".into(), took),
            x.max_converge_ms.map_or("-".into(), took),
            text(&x.last_outcome)
        );
    }
    crate::outln!();
    crate::outln!("Settings that drift most:");
    let w = r
        .settings
        .iter()
        .map(|s| text(&s.field).chars().count())
        .max()
        .unwrap_or(0)
        .max("setting".len());
    if r.settings.is_empty() {
        crate::outln!("  none");
    } else {
        crate::outln!(
            "  {:<w$} {:>6} {:>9} {:>9} {:>9} {:>8}  median duration",
            "setting",
            "drifts",
            "instances",
            "by repair",
            "by itself",
            "open now"
        );
    }
    for s in &r.settings {
        crate::outln!(
            "  {:<w$} {:>6} {:>9} {:>9} {:>9} {:>8}  {}",
            text(&s.field),
            s.drifts,
            s.instances,
            s.resolved_by_repair,
            s.resolved_by_itself,
            s.open_now,
            s.median_duration_ms.map_or("-".into(), took)
        );
    }
    crate::outln!();
    crate::outln!(
        "Open now: {} drift{}, {} unreachable instance{}",
        r.open_drifts.len(),
        if r.open_drifts.len() == 1 { "" } else { "s" },
        r.unreachable.len(),
        if r.unreachable.len() == 1 { "" } else { "s" }
    );
    for d in &r.open_drifts {
        crate::outln!(
            "  {:<12} {}: {}, wanted {}, since {}",
            d.instance,
            text(&d.field),
            val(Some(&d.observed)),
            val(Some(&d.desired)),
            time_s(d.first_seen_ms)
        );
    }
    for u in &r.unreachable {
        crate::outln!(
            "  {:<12} unreachable ({}) since {}",
            u.instance,
            text(&u.error_kind),
            time_s(u.since_ms)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_past_year_9999_or_before_1970_are_written_not_panicked_on() {
        assert_eq!(time(253_402_300_800_000), "9999-12-31T23:59:59.999Z");
        assert_eq!(time_s(i64::MAX), "9999-12-31T23:59:59Z");
        assert_eq!(time(-5), "1970-01-01T00:00:00.000Z");
    }
}
