//! `apply --undo REPORT` (and `plan --undo REPORT`, which sends nothing): put back the values
//! an earlier `apply` found (its report's `before`), instance by instance.
//!
//! The rules, in the order they are applied:
//! - The report must be an envelope (formatVersion 2, not a later one) of `apply` or of an
//!   earlier undo: only those hold `before` / `after`. Each instance is in it once; its
//!   fields are read under their API names (a snake_case spelling is the same field; one
//!   field spelled twice is a broken report). A fleet report needs `--instances CSV` (the
//!   report holds no token) naming every instance to undo; a one-instance report works with
//!   the usual credentials, for that instance only.
//! - An instance is undone only at the `apiUrl` the report read it at: another environment
//!   may have the same ids (and tokens), and production's `before` values do not belong
//!   there. A CSV (or credentials) with another URL for an instance of the report refuses the
//!   whole run (exit 2), like every other input problem.
//! - The fleet run's selection, batches, failure budget and `--yes` are refused (exit 2): an
//!   undo restores every instance of its report in one run, and asks no question first.
//! - Everything is checked before anything is sent: the options, the report, the instances
//!   file, and the `before` values as the settings they would be sent as.
//! - Per field, the instance's current value decides: still the report's `after` → restored;
//!   already the `before` → nothing to do; anything else → someone changed it since: a
//!   conflict, left alone (status `conflict`, exit 1). A secret setting (`webhookUrlToken`) is never in a report,
//!   so it is never restored: said per instance (`notRestored`, exit 1), to be given in a
//!   settings file; so is a value setSettings does not accept (a fresh instance's delay of 0).
//!   An instance with such fields (and no conflict) is `incomplete`.
//! - An instance with nothing to restore gets no request but the read.
//! - The undo's own envelope (`--json`, `--report`) has the same `before` / `after` shape, so
//!   an undo can itself be undone.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use clap::ArgMatches;
use greenapi_settings::{Client, FieldInfo, Plan, SettingsPatch, FIELDS};
use serde_json::{json, Map, Value};

use crate::args;
use crate::creds::{ConnArgs, Purpose};
use crate::envelope::{self, Envelope, Started};
use crate::exit::{CliError, Exit};
use crate::fleet::{self, Outcome};
use crate::input;
use crate::signals::Signals;
use crate::style::Style;

/// Why `webhookUrlToken` is never restored.
const SECRET_NOT_STORED: &str =
    "a secret setting is never stored in a report: give it in a settings file (apply FILE)";

/// The fleet options an undo refuses, even with `--instances`: it restores every instance of
/// its report in one run (no selection, batches or failure budget) and asks no question.
const NOT_WITH_UNDO: [&str; 6] = [
    "only",
    "limit",
    "batch",
    "batch-pause",
    "max-failures",
    "yes",
];

/// One instance of the report to undo.
#[derive(Clone, Debug)]
struct Entry {
    id: u64,
    api_url: String,
    /// Field → the value the report read before its change.
    before: Map<String, Value>,
    /// Field → the value the report sent.
    after: Map<String, Value>,
    /// `(field, why)` of the fields that cannot be restored: a secret (never stored in a
    /// report), or a value a setSettings call does not accept (a fresh instance's delay of 0).
    not_restored: Vec<(String, String)>,
}

/// What undoing one instance did (or, for `plan --undo`, would do).
#[derive(Debug, Default)]
struct Undone {
    /// Field → the value found now, of the fields restored.
    before: Map<String, Value>,
    /// Field → the value restored.
    after: Map<String, Value>,
    /// `{field, report, now}` of each field changed since the report.
    conflicts: Vec<Value>,
    /// The setSettings was answered `saveSettings: false`.
    not_saved: bool,
}

/// Runs `apply --undo REPORT` (`dry_run`: `plan --undo REPORT`).
pub(crate) async fn run(
    conn: &ConnArgs,
    m: &ArgMatches,
    style: Style,
    report: &Path,
    dry_run: bool,
) -> Result<Exit, CliError> {
    for id in ["resume", "wait", "detailed-exitcode"] {
        if m.try_get_raw(id).ok().flatten().is_some()
            && m.value_source(id) == Some(clap::parser::ValueSource::CommandLine)
        {
            return Err(CliError::usage(format!(
                "--{id} does not apply to --undo; nothing was sent"
            )));
        }
    }
    let given: Vec<String> = NOT_WITH_UNDO
        .iter()
        .filter(|id| {
            m.try_contains_id(id).unwrap_or(false)
                && m.value_source(id) == Some(clap::parser::ValueSource::CommandLine)
        })
        .map(|id| format!("--{id}"))
        .collect();
    if !given.is_empty() {
        return Err(CliError::usage(format!(
            "{} {} not apply to --undo: an undo restores every instance of its report in one run (no selection, batches or failure budget) and asks no question; nothing was sent",
            given.join(", "),
            if given.len() == 1 { "does" } else { "do" }
        )));
    }
    // --concurrency (and a plan's --report) only mean something for a fleet report.
    args::refuse_fleet_options_alone_except(m, &["report"])?;
    let json_out = args::json_output_wanted(m);
    let entries = load(report)?;
    let report_path = m.get_one::<PathBuf>("report");
    if let Some(path) = report_path {
        fleet::check_report_path(path)?;
    }
    let (results, interrupted, signals) = match m.get_one::<PathBuf>("instances") {
        Some(csv) => {
            conn.refuse_in_fleet()?;
            let concurrency = args::concurrency(m)?;
            let text = input::read_capped(csv, input::FLEET_FILE_CAP)?;
            let shown = csv.display().to_string();
            let instances = fleet::parse_instances(&text, &shown)?;
            let missing: Vec<String> = entries
                .iter()
                .filter(|e| !instances.iter().any(|i| i.id == e.id))
                .map(|e| e.id.to_string())
                .collect();
            if !missing.is_empty() {
                return Err(CliError::usage(format!(
                    "{shown} lacks {} instance(s) of the report ({}): their tokens are needed to undo; nothing was sent",
                    missing.len(),
                    missing.join(", ")
                )));
            }
            // Neither URL is quoted: a misplaced token may sit in the CSV's api_url column.
            let moved: Vec<String> = entries
                .iter()
                .filter(|e| {
                    instances
                        .iter()
                        .any(|i| i.id == e.id && !crate::fleet::same_url(&i.api_url, &e.api_url))
                })
                .map(|e| e.id.to_string())
                .collect();
            if !moved.is_empty() {
                return Err(moved_error(&format!(
                    "{shown} gives {} instance(s) of the report ({}) another api_url than the report's apiUrl",
                    moved.len(),
                    moved.join(", ")
                )));
            }
            let todo: Vec<fleet::Instance> = instances
                .into_iter()
                .filter(|i| entries.iter().any(|e| e.id == i.id))
                .collect();
            let by_id: Arc<Vec<Entry>> = Arc::new(entries);
            let lookup = by_id.clone();
            let (signals, interrupts) = Signals::listen(Arc::new(AtomicBool::new(false)));
            let (outcomes, interrupted) = fleet::for_each_until(
                &todo,
                concurrency,
                conn,
                None,
                move |client: Client| {
                    let entry = lookup
                        .iter()
                        .find(|e| e.id == client.id_instance())
                        .cloned();
                    async move {
                        match entry {
                            Some(e) => undo_one(&client, &e, dry_run).await,
                            None => Ok(Undone::default()),
                        }
                    }
                },
                interrupts,
                |_, _| {},
            )
            .await?;
            let results = outcomes
                .into_iter()
                .map(|(inst, outcome, took)| {
                    let entry = by_id.iter().find(|e| e.id == inst.id);
                    let outcome = match outcome {
                        Outcome::Done(Ok(u)) => Ok(u),
                        Outcome::Done(Err(e)) => Err(envelope::result_error(
                            e.kind(),
                            &inst.token.scrub(&e.to_string()),
                        )),
                        Outcome::NotStarted => Err(envelope::result_error(
                            "notStarted",
                            "not started: the run was stopped",
                        )),
                        Outcome::Interrupted => Err(envelope::result_error(
                            "interrupted",
                            "stopped while in progress: the restore may or may not have been sent",
                        )),
                    };
                    let mut r = result(inst.id, &inst.api_url, entry, outcome, dry_run);
                    r["durationMs"] = (took.as_millis() as u64).into();
                    r
                })
                .collect();
            (results, interrupted, Some(signals))
        }
        None => {
            let purpose = if dry_run {
                Purpose::Read
            } else {
                Purpose::Change
            };
            let target = conn.resolve_for(purpose).await?;
            let client = &target.client;
            let entry = match entries.as_slice() {
                [one] if one.id == client.id_instance()
                    && !crate::fleet::same_url(client.api_url(), &one.api_url) =>
                {
                    return Err(moved_error(&format!(
                        "the credentials give instance {} another API URL than the report's apiUrl",
                        one.id
                    )))
                }
                [one] if one.id == client.id_instance() => one,
                [one] => {
                    return Err(CliError::usage(format!(
                        "the report is of instance {}, the credentials are of instance {}; nothing was sent",
                        one.id,
                        client.id_instance()
                    )))
                }
                many => {
                    return Err(CliError::usage(format!(
                        "the report has {} instances: give --instances CSV with their tokens; nothing was sent",
                        many.len()
                    )))
                }
            };
            let outcome = undo_one(client, entry, dry_run)
                .await
                .map_err(|e| envelope::result_error(e.kind(), &e.to_string()));
            let r = result(
                client.id_instance(),
                client.api_url(),
                Some(entry),
                outcome,
                dry_run,
            );
            (vec![r], false, None)
        }
    };
    for r in &results {
        // --quiet: only instances where something happened (or would) get a line.
        if !(crate::out::quiet() && r["status"] == "unchanged") {
            crate::outln!("{}", line(r, style));
        }
    }
    let mut env = Envelope::of_results(
        if dry_run { "planUndo" } else { "undo" },
        Started::of_command(),
        results,
    )
    .with("undoOf", Value::String(report.display().to_string()));
    env.interrupted = interrupted;
    let summary = summary_line(&env.summary);
    crate::outln!("{}", style.bold(&summary));
    if json_out {
        env.print();
    }
    if let Some(path) = report_path {
        let text = serde_json::to_string_pretty(&env).unwrap_or_default() + "\n";
        crate::atomic_file::write(path, 0o644, |out| out.write_all(text.as_bytes())).map_err(
            |e| CliError::failed(format!("cannot write the report {}: {e}", path.display())),
        )?;
        crate::note!("report written to {}", path.display());
    }
    let bad = ["conflict", "incomplete", "failed", "notStarted"]
        .iter()
        .any(|s| env.summary.get(*s).is_some_and(|n| n.as_u64() > Some(0)));
    Ok(match signals.filter(|_| interrupted) {
        Some(s) => s.exit().unwrap_or(Exit::Interrupted),
        None if bad => Exit::Failed,
        None => Exit::Ok,
    })
}

/// Reads the report and checks every `before` value as a setting, before anything is sent.
fn load(path: &Path) -> Result<Vec<Entry>, CliError> {
    let shown = path.display().to_string();
    let text = input::read_capped(path, input::FLEET_FILE_CAP)?;
    let v: Value = serde_json::from_str(&text)
        .map_err(|e| CliError::usage(format!("{shown}: not a report: {e}")))?;
    envelope::refuse_unknown_version(&v, &shown)?;
    if !envelope::is_envelope(&v) {
        return Err(CliError::usage(format!(
            "{shown}: not a report of formatVersion 2: older reports hold no `before` values, so they cannot be undone; nothing was sent"
        )));
    }
    let command = v.get("command").and_then(Value::as_str).unwrap_or("");
    if !matches!(command, "apply" | "undo") {
        return Err(CliError::usage(format!(
            "{shown}: the report of `{}`, not of an apply: only an apply's (or an undo's) report can be undone; nothing was sent",
            input::clip(command)
        )));
    }
    let results = v
        .get("results")
        .and_then(Value::as_array)
        .ok_or_else(|| CliError::usage(format!("{shown}: no results")))?;
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for r in results {
        let Some(id) = r.get("idInstance").and_then(Value::as_u64) else {
            problems.push(format!("{shown}: a result without idInstance"));
            continue;
        };
        if !seen.insert(id) {
            // Which of the two would be undone is a guess: neither is.
            problems.push(format!(
                "instance {id} is in the report twice (a report has one result per instance)"
            ));
            continue;
        }
        let (mut before, mut after) = (
            canonical(r, "before", id, &mut problems),
            canonical(r, "after", id, &mut problems),
        );
        if before.is_empty() {
            continue; // nothing was changed there
        }
        let Some(api_url) = r.get("apiUrl").and_then(Value::as_str) else {
            problems.push(format!(
                "instance {id}: no apiUrl (an undo goes only to where the report read)"
            ));
            continue;
        };
        // Under API names (see `canonical`), so a secret spelled in snake_case is one too.
        let mut not_restored: Vec<(String, String)> = FIELDS
            .iter()
            .filter(|f| f.secret && before.contains_key(f.name))
            .map(|f| (f.name.to_string(), SECRET_NOT_STORED.to_string()))
            .collect();
        for f in FIELDS.iter().filter(|f| f.secret) {
            before.remove(f.name);
            after.remove(f.name);
        }
        // Field by field: a value of the wrong kind or an unknown field is a broken report
        // (exit 2); a value of the right kind that setSettings refuses cannot be put back.
        for (field, value) in before.clone() {
            let one = Value::Object(Map::from_iter([(field.clone(), value)]));
            match SettingsPatch::from_json_value(&one) {
                Ok(patch) => {
                    if let Err(e) = patch.check() {
                        let why: Vec<String> =
                            e.violations.iter().map(ToString::to_string).collect();
                        before.remove(&field);
                        after.remove(&field);
                        not_restored.push((
                            field,
                            format!(
                                "setSettings does not accept the value before: {}",
                                why.join("; ")
                            ),
                        ));
                    }
                }
                Err(violations) => {
                    for v in &violations {
                        problems.push(format!(
                            "instance {id}: {}",
                            crate::terminal::text(&v.to_string())
                        ));
                    }
                }
            }
        }
        let missing_after: Vec<&String> =
            before.keys().filter(|k| !after.contains_key(*k)).collect();
        if !missing_after.is_empty() {
            problems.push(format!(
                "instance {id}: no `after` value of {:?}",
                missing_after
            ));
        }
        entries.push(Entry {
            id,
            api_url: api_url.to_string(),
            before,
            after,
            not_restored,
        });
    }
    if !problems.is_empty() {
        return Err(CliError::usage(format!(
            "{shown}: {} problem(s); nothing was sent",
            problems.len()
        ))
        .with_problems(problems));
    }
    Ok(entries)
}

/// The report's `before` or `after` (`key`) of one result, every known field under its API
/// name, as `settings_file` reads a settings file: the secret filter and the reads of the
/// instance's values then see one spelling. A field given under both spellings is a problem
/// (which one counts would be a guess). Unknown names stay as they are, for the check of the
/// values to report.
fn canonical(r: &Value, key: &str, id: u64, problems: &mut Vec<String>) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in r.get(key).and_then(Value::as_object).into_iter().flatten() {
        let name = FieldInfo::find(k).map_or(k.as_str(), |f| f.name);
        if out.insert(name.to_string(), v.clone()).is_some() {
            problems.push(format!(
                "instance {id}: `{key}` gives {name} twice (under its API and its snake_case name)"
            ));
        }
    }
    out
}

/// The refusal of an undo whose instance is at another URL than its report's.
fn moved_error(what: &str) -> CliError {
    CliError::usage(format!(
        "{what}: an undo puts values back only where the report read them (another environment may have the same ids); nothing was sent"
    ))
}

/// Reads the instance and restores each field still at the report's `after`.
async fn undo_one(
    client: &Client,
    e: &Entry,
    dry_run: bool,
) -> Result<Undone, greenapi_settings::Error> {
    let current = client.get_settings().await?;
    let mut undone = Undone::default();
    let mut restore = Map::new();
    for (field, before) in &e.before {
        // `load` leaves none; a secret's value read here must never reach a conflict's `now`.
        if FieldInfo::find(field).is_none_or(|f| f.secret) {
            continue;
        }
        let now = current.get_json(field).unwrap_or(Value::Null);
        if &now == before {
            continue;
        }
        if Some(&now) == e.after.get(field) {
            restore.insert(field.clone(), before.clone());
            undone.before.insert(field.clone(), now);
            undone.after.insert(field.clone(), before.clone());
        } else {
            undone
                .conflicts
                .push(json!({"field": field, "report": e.after.get(field), "now": now}));
        }
    }
    if restore.is_empty() || dry_run {
        return Ok(undone);
    }
    // Checked in `load`: these are the report's `before` values, which passed.
    let patch = SettingsPatch::from_json_value(&Value::Object(restore)).map_err(|violations| {
        greenapi_settings::Error::Validation(greenapi_settings::ValidationError { violations })
    })?;
    let applied = client.apply_plan(Plan::new(current, &patch)).await?;
    undone.not_saved = fleet::not_saved(&applied);
    Ok(undone)
}

/// One instance's entry of the undo envelope.
fn result(
    id: u64,
    api_url: &str,
    entry: Option<&Entry>,
    outcome: Result<Undone, Value>,
    dry_run: bool,
) -> Value {
    let not_restored: Vec<Value> = entry
        .map(|e| e.not_restored.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|(field, why)| json!({"field": field, "reason": why}))
        .collect();
    let api_url = if api_url.is_empty() {
        entry.map_or("", |e| e.api_url.as_str())
    } else {
        api_url
    };
    let u = match outcome {
        Ok(u) => u,
        Err(error) => {
            let status = if error["kind"] == "notStarted" {
                "notStarted"
            } else {
                "failed"
            };
            return json!({"idInstance": id, "apiUrl": api_url, "status": status, "changes": [],
                "before": {}, "after": {}, "conflicts": [], "notRestored": not_restored, "error": error});
        }
    };
    let changes: Vec<&String> = u.after.keys().collect();
    let (status, error) = if u.not_saved {
        (
            "failed",
            envelope::result_error(fleet::NOT_SAVED_KIND, fleet::NOT_SAVED_TEXT),
        )
    } else if !u.conflicts.is_empty() {
        (
            "conflict",
            envelope::result_error(
                "conflict",
                &format!(
                    "{} field(s) changed since the report (left alone), {} field(s) that cannot be restored",
                    u.conflicts.len(),
                    not_restored.len()
                ),
            ),
        )
    } else if !not_restored.is_empty() {
        (
            "incomplete",
            envelope::result_error(
                "notRestored",
                &format!("{} field(s) cannot be restored", not_restored.len()),
            ),
        )
    } else if changes.is_empty() {
        ("unchanged", Value::Null)
    } else if dry_run {
        ("planned", Value::Null)
    } else {
        ("applied", Value::Null)
    };
    json!({"idInstance": id, "apiUrl": api_url, "status": status, "changes": changes,
        "before": u.before, "after": u.after, "conflicts": u.conflicts,
        "notRestored": not_restored, "error": error})
}

/// One instance's line: its status and the fields restored, in conflict or not restored.
fn line(r: &Value, style: Style) -> String {
    let status = r["status"].as_str().unwrap_or("");
    let shown = match status {
        "applied" => style.green(status),
        "planned" => style.yellow(status),
        "conflict" | "incomplete" | "failed" => style.red(status),
        _ => style.dim(status),
    };
    let names = |k: &str| -> Vec<String> {
        r[k].as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|c| c.get("field").or(Some(c)).and_then(Value::as_str))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut detail = names("changes").join(", ");
    for (k, what) in [
        ("conflicts", "changed since the report, left alone"),
        (
            "notRestored",
            "cannot be restored (see notRestored in --json)",
        ),
    ] {
        let n = names(k);
        if !n.is_empty() {
            detail.push_str(&format!(
                "{}{}: {what}",
                if detail.is_empty() { "" } else { "; " },
                n.join(", ")
            ));
        }
    }
    if let Some(m) = r["error"]["message"]
        .as_str()
        .filter(|_| status == "failed" || status == "notStarted")
    {
        detail = format!("{}: {m}", r["error"]["kind"].as_str().unwrap_or(""));
    }
    format!(
        "{:>12}  {shown:<9}  {}",
        r["idInstance"],
        crate::terminal::text(&detail)
    )
}

fn summary_line(summary: &Value) -> String {
    let n = |k: &str| summary.get(k).and_then(Value::as_u64).unwrap_or(0);
    format!(
        "undo: {} instance(s): {} restored, {} planned, {} unchanged, {} conflict, {} incomplete, {} failed",
        n("total"),
        n("applied"),
        n("planned"),
        n("unchanged"),
        n("conflict"),
        n("incomplete"),
        n("failed") + n("notStarted")
    )
}
