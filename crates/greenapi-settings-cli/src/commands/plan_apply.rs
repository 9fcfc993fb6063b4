//! `plan` and `apply`: bring one instance, or (`--instances`) a fleet, to a settings file,
//! showing the diff and sending only what changed. The fleet variant prints one line per
//! instance, handles Ctrl-C, and writes the report (the run itself is [`crate::fleet`]'s).
//!
//! The settings file may be layered (defaults plus per-instance overrides, `{idInstance}`,
//! `${NAME}`): every instance's settings are resolved and validated before anything is sent
//! ([`crate::layers`]). `--json` prints the envelope ([`crate::envelope`], as `--report` writes it);
//! `plan --detailed-exitcode` exits 0 when nothing would change, 2 when changes are pending
//! and 1 on any error (invalid input included).

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use clap::ArgMatches;
use greenapi_settings::{ApplyOptions, Client, Plan, SettingsPatch, Verification};

use crate::args;
use crate::creds::ConnArgs;
use crate::exit::{CliError, Exit};
use crate::fleet::{InstanceResult, Status};
use crate::layers;
use crate::plan_output::Drift;
use crate::settings_file::{self, SettingsFile};
use crate::signals::Signals;
use crate::style::Style;
use crate::template::process_env;
use crate::{fleet, input, render};

/// How `plan` and `apply` report.
#[derive(Clone, Copy, Debug, Default)]
struct Output {
    /// `--output json` / `--json`: the envelope on stdout, everything else on stderr.
    json: bool,
    /// `--detailed-exitcode`: 0 no changes, 2 changes pending, 1 error.
    detailed: bool,
}

/// Runs `plan` (`dry_run`) or `apply`.
pub(crate) async fn run(
    conn: &ConnArgs,
    m: &ArgMatches,
    style: Style,
    dry_run: bool,
) -> Result<Exit, CliError> {
    let flag = |name: &str| dry_run && m.try_get_one::<bool>(name).ok().flatten() == Some(&true);
    let out = Output {
        json: args::json_output_wanted(m),
        detailed: flag("detailed-exitcode"),
    };
    let result = run_inner(conn, m, style, dry_run, out).await;
    match result {
        // Under --detailed-exitcode, 2 means "changes pending": invalid input is an error (1).
        Err(mut e) if out.detailed && e.exit == Exit::Usage => {
            e.exit = Exit::Failed;
            Err(e)
        }
        other => other,
    }
}

async fn run_inner(
    conn: &ConnArgs,
    m: &ArgMatches,
    style: Style,
    dry_run: bool,
    out: Output,
) -> Result<Exit, CliError> {
    if let Some(report) = m.get_one::<PathBuf>("undo") {
        return super::undo::run(conn, m, style, report, dry_run).await;
    }
    let path = m
        .get_one::<PathBuf>("file")
        .ok_or_else(|| CliError::usage("missing FILE"))?;
    // A single apply writes its report too (the envelope `--json` prints); plan's is --json.
    args::refuse_fleet_options_alone_except(m, if dry_run { &[] } else { &["report"] })?;
    let file = settings_file::load(path)?;
    // Checked before anything is sent, like every other input.
    let verify = if dry_run {
        None
    } else {
        args::apply_options(m)?
    };
    if let Some(csv) = m.get_one::<PathBuf>("instances") {
        conn.refuse_in_fleet()?;
        return fleet_command(conn, m, style, &file, csv, dry_run, out, verify).await;
    }
    let report_path = m.get_one::<PathBuf>("report").filter(|_| !dry_run);
    if let Some(path) = report_path {
        fleet::check_report_path(path)?;
    }
    let purpose = if dry_run {
        crate::creds::Purpose::Read
    } else {
        crate::creds::Purpose::Change
    };
    let target = conn.resolve_for(purpose).await?;
    let client = &target.client;
    let id = client.id_instance();
    let resolved = layers::resolve_all(&file, &[id], &process_env)?
        .remove(&id)
        .ok_or_else(|| CliError::failed("internal: instance not resolved"))?;
    // On stderr under --json (see `out`).
    crate::outln!(
        "{}",
        style.bold(&format!("instance {id} at {}", client.api_url()))
    );
    let mut plan = match client.plan(&resolved.patch).await {
        Ok(plan) => plan,
        Err(e) if out.json => return Ok(single_failed_json(&file, client, e, dry_run)),
        Err(e) => return Err(e.into()),
    };
    plan.warnings = plan.warnings.iter().map(|w| resolved.hide(w)).collect();
    let result = fleet::result_of_plan(id, client.api_url(), &plan, dry_run, Some(&resolved));
    if out.json && (dry_run || plan.is_noop()) {
        let report = single_report(&file, dry_run, result);
        report.print();
        write_single(report_path, &report)?;
        return Ok(plan_exit(out, !plan.is_noop()));
    }
    crate::out!("{}", render::plan_diff(&plan, style));
    if plan.is_noop() {
        crate::outln!(
            "No changes: the instance already matches {}. Nothing {}.",
            path.display(),
            if dry_run { "to send" } else { "sent" }
        );
        write_single(report_path, &single_report(&file, dry_run, result))?;
        return Ok(Exit::Ok);
    }
    if dry_run {
        crate::outln!("Plan: {} change(s). `apply` sends them in one setSettings call (the instance restarts).", plan.changes.len());
        return Ok(plan_exit(out, true));
    }
    let started = std::time::Instant::now();
    let (exit, mut result) =
        apply_single(client, plan, &resolved.patch, verify, style, result).await?;
    result.duration_ms = started.elapsed().as_millis() as u64;
    let report = single_report(&file, false, result);
    if out.json {
        report.print();
    }
    write_single(report_path, &report)?;
    Ok(exit)
}

/// `apply FILE --report R` of one instance: the same report as a fleet's, one result.
fn write_single(path: Option<&PathBuf>, report: &fleet::Report) -> Result<(), CliError> {
    if let Some(path) = path {
        report.write(path)?;
        crate::note!("report written to {}", path.display());
    }
    Ok(())
}

/// The report (envelope) of a plan or apply of one instance: the same document as a fleet's,
/// with one result.
fn single_report(file: &SettingsFile, dry_run: bool, result: InstanceResult) -> fleet::Report {
    let started = crate::envelope::Started::of_command().0;
    fleet::Report {
        mode: if dry_run { "plan" } else { "apply" },
        started_at: started,
        settings_file: Some(file.shown.clone()),
        desired: file.document(),
        duration: started.elapsed().unwrap_or_default(),
        interrupted: result
            .verification
            .as_ref()
            .is_some_and(|v| v.outcome == "interrupted"),
        results: vec![result],
        stopped_after_failures: None,
        connections_opened: None,
        selection: None,
    }
}

/// The exit code of a plan that ran: under `--detailed-exitcode`, 2 when changes are pending.
fn plan_exit(out: Output, changes_pending: bool) -> Exit {
    if out.detailed && changes_pending {
        Exit::Usage // 2: the code Terraform's `plan -detailed-exitcode` uses for "changes".
    } else {
        Exit::Ok
    }
}

/// `--json` of one instance that could not be read: the envelope with its error, exit 1.
fn single_failed_json(
    file: &SettingsFile,
    client: &Client,
    e: greenapi_settings::Error,
    dry_run: bool,
) -> Exit {
    let message = e.to_string();
    crate::errln!("error: {message}");
    let r = InstanceResult {
        desired_hash: None,
        id: client.id_instance(),
        api_url: client.api_url().to_string(),
        status: Status::Failed,
        changes: Vec::new(),
        warnings: Vec::new(),
        error: Some((e.kind().to_string(), message)),
        duration_ms: 0,
        from_previous_run: false,
        change_values: Vec::new(),
        warning_details: Vec::new(),
        verification: None,
    };
    single_report(file, dry_run, r).print();
    Exit::Failed
}

/// Sends a plan that has changes to one instance; with `--wait`, reads the settings back and
/// repairs what did not take (Ctrl-C stops the wait and reports what is known: exit 130).
/// `result` (the plan's) comes back as the envelope shows the outcome.
async fn apply_single(
    client: &Client,
    plan: Plan,
    desired: &SettingsPatch,
    verify: Option<ApplyOptions>,
    style: Style,
    mut result: InstanceResult,
) -> Result<(Exit, InstanceResult), CliError> {
    let n = plan.changes.len();
    let applied = client.apply_plan(plan).await?;
    if fleet::not_saved(&applied) {
        crate::outln!("{} {}", style.red("Not saved:"), fleet::NOT_SAVED_TEXT);
        result.status = Status::Failed;
        result.error = Some((fleet::NOT_SAVED_KIND.into(), fleet::NOT_SAVED_TEXT.into()));
        return Ok((Exit::Failed, result));
    }
    crate::outln!(
        "{} {n} change(s) (the instance restarts; settings apply within 5 minutes).",
        style.green("Applied")
    );
    let Some(options) = verify else {
        crate::outln!(
            "{} add --wait to read the settings back and re-send what did not take.",
            style.dim("Not verified:")
        );
        result.verification = Some(fleet::VerifySummary::of(&Verification::NotVerified));
        return Ok((Exit::Ok, result));
    };
    let stop = Arc::new(AtomicBool::new(false));
    let (signals, _each) = Signals::listen(stop.clone());
    crate::outln!("Verifying: reading the settings back (1 request per second)...");
    let verified = client
        .verify(applied, desired, &options.cancel_flag(stop))
        .await;
    let verified = verified?;
    let v = &verified.verification;
    result.verification = Some(fleet::VerifySummary::of(v));
    if matches!(
        v,
        Verification::NotConverged { .. } | Verification::Interrupted { .. }
    ) {
        result.status = Status::Failed;
        result.error = Some((v.kind().to_string(), v.to_string()));
    }
    let text = crate::terminal::text(&verified.verification.to_string()).into_owned();
    let exit = match &verified.verification {
        Verification::Converged { .. } => {
            crate::outln!("{} {text}", style.green("Verified:"));
            Exit::Ok
        }
        Verification::Interrupted { .. } => {
            crate::outln!("{} {text} ({})", style.yellow("Stopped:"), signals.name());
            signals.exit().unwrap_or(Exit::Interrupted)
        }
        _ => {
            crate::outln!("{} {text}", style.red("Not converged:"));
            Exit::Failed
        }
    };
    Ok((exit, result))
}

/// Fleet `plan` / `apply`: every input is checked (instances file, every instance's resolved
/// settings, report path, resume report) before anything is sent; each instance's line is
/// printed as it finishes; Ctrl-C stops starting instances, lets those in flight finish,
/// writes the report and exits 130. A fleet plan ends with the drift summary.
// Every argument is one input of the run, each checked by the caller before anything is sent.
#[allow(clippy::too_many_arguments)]
async fn fleet_command(
    conn: &ConnArgs,
    m: &ArgMatches,
    style: Style,
    file: &SettingsFile,
    csv: &Path,
    dry_run: bool,
    out: Output,
    verify: Option<ApplyOptions>,
) -> Result<Exit, CliError> {
    let shown = csv.display().to_string();
    let concurrency = args::concurrency(m)?;
    let selection = fleet::options::selection(m)?;
    let controls = fleet::options::controls(m)?;
    let text = input::read_capped(csv, input::FLEET_FILE_CAP)?;
    let instances = fleet::parse_instances(&text, &shown)?;
    let ids: Vec<u64> = instances.iter().map(|i| i.id).collect();
    // Overrides are checked against the whole file (the inventory), then only the selected
    // instances are resolved and run.
    layers::check_overrides_known(file, &ids, &shown)?;
    let in_file = instances.len();
    let instances = selection.apply(instances, &shown)?;
    let ids: Vec<u64> = instances.iter().map(|i| i.id).collect();
    let per_instance = layers::resolve_fleet(file, &ids, &process_env)?;
    drop(ids);
    let desired_doc = file.document();
    let done = match m.try_get_one::<PathBuf>("resume").ok().flatten() {
        Some(p) => fleet::load_resume(p, &desired_doc)?,
        None => Default::default(),
    };
    // Results carried over from --resume for instances this run's selection leaves out stay
    // in the new report as they were: the chain of reports keeps them for --undo and for a
    // later --resume (which checks each against the instances file again).
    let left_out: Vec<InstanceResult> = {
        let selected: std::collections::HashSet<u64> = instances.iter().map(|i| i.id).collect();
        done.values()
            .filter(|r| !selected.contains(&r.id))
            .cloned()
            .map(|mut r| {
                r.from_previous_run = true;
                r
            })
            .collect()
    };
    let report_path = m.get_one::<PathBuf>("report");
    if let Some(path) = report_path {
        fleet::check_report_path(path)?;
    }
    // On a terminal, a fleet apply is planned and confirmed first (nothing is sent before).
    if !dry_run && fleet::confirm::wanted(fleet::options::assume_yes(m))? {
        let plan = fleet::FleetRun {
            desired: &SettingsPatch::new(),
            instances: instances.clone(),
            concurrency,
            dry_run: true,
            done: done.clone(),
            conn,
            min_interval: None,
            verify: None,
        };
        // On stderr with the question they are about: stdout stays the run's results.
        let line = |r: &InstanceResult| crate::errln!("{}", fleet_line(r, style));
        if let Some(exit) = fleet::confirm::confirm(plan, per_instance.clone(), line).await? {
            return Ok(exit);
        }
    }
    // `apply --wait`: the first Ctrl-C or SIGTERM also stops the waits in flight (they report
    // what is known) as well as the starting of new instances.
    let stop = Arc::new(AtomicBool::new(false));
    let verify = verify.map(|o| o.cancel_flag(stop.clone()));
    let (signals, interrupts) = Signals::listen(stop);
    // Every instance is in `per_instance`; this is never sent.
    let unused = SettingsPatch::new();
    let selected = instances.len();
    let report = fleet::run_controlled(
        fleet::FleetRun {
            desired: &unused,
            instances,
            concurrency,
            dry_run,
            done,
            conn,
            min_interval: None,
            verify,
        },
        controls,
        per_instance,
        interrupts,
        |r| {
            if crate::out::quiet() && r.status == Status::Unchanged {
                // --quiet: only instances where something happened (or would) get a line.
            } else if out.json {
                crate::errln!("{}", fleet_line(r, Style::plain()));
            } else {
                crate::outln!("{}", fleet_line(r, style));
            }
        },
    )
    .await;
    let mut report = report?;
    if !left_out.is_empty() {
        report.results.extend(left_out);
        report.results.sort_by_key(|r| r.id);
    }
    report.desired = desired_doc;
    report.selection = selection.describe(selected, in_file);
    report.settings_file = Some(file.shown.clone());
    let summary = style.bold(&report.summary());
    if out.json {
        crate::errln!("{}", report.summary());
        if dry_run {
            crate::err!(
                "{}",
                Drift::of(&report.results).render(&file.shown, Style::plain())
            );
        }
        report.print();
    } else {
        crate::outln!("{summary}");
        if dry_run {
            crate::out!("{}", Drift::of(&report.results).render(&file.shown, style));
        }
    }
    if let Some(path) = report_path {
        report.write(path)?;
        let line = format!("report written to {}", path.display());
        if out.json {
            crate::note!("{line}");
        } else if !crate::out::quiet() {
            crate::outln!("{line}");
        }
    }
    Ok(if report.interrupted {
        let how = match report_path {
            Some(p) => format!("run again with --resume {} to carry on", p.display()),
            None => "no --report was given, so there is no report to --resume from".into(),
        };
        crate::errln!(
            "interrupted ({}): {} instance(s) not started; {how}",
            signals.name(),
            report.count(Status::NotStarted)
        );
        signals.exit().unwrap_or(Exit::Interrupted)
    } else if let Some(n) = report.stopped_after_failures {
        let how = match report_path {
            Some(p) => format!("run again with --resume {} to carry on", p.display()),
            None => "no --report was given, so there is no report to --resume from".into(),
        };
        crate::errln!(
            "stopped after {n} failure(s) (--max-failures {n}): {} instance(s) not started; {how}",
            report.count(Status::NotStarted)
        );
        Exit::Failed
    } else if report.any_failed() {
        Exit::Failed
    } else {
        plan_exit(out, report.count(Status::Planned) > 0)
    })
}

/// One instance's line of a fleet run.
fn fleet_line(r: &fleet::InstanceResult, style: Style) -> String {
    let name = r.status.as_str();
    let status = match r.status {
        Status::Failed => style.red(name),
        Status::Applied => style.green(name),
        Status::Planned => style.yellow(name),
        Status::Unchanged | Status::NotStarted => style.dim(name),
    };
    let mut detail = match &r.error {
        Some((kind, msg)) => format!("{kind}: {msg}"),
        None if r.changes.is_empty() => String::new(),
        None => r.changes.join(", "),
    };
    if let Some(v) = r.verification.as_ref().filter(|_| r.error.is_none()) {
        if r.status == Status::Applied {
            detail.push_str(&format!(" — {}", v.text));
        }
    }
    let prev = if r.from_previous_run {
        style.dim(" (previous run)")
    } else {
        String::new()
    };
    // The detail quotes the server (errors) and field names: escaped for the terminal.
    let detail = crate::terminal::text(&detail);
    format!("{:>12}  {status:<9}  {detail}{prev}", r.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fleet_line_shows_the_status_name_and_what_changed() {
        let mut r = fleet::InstanceResult {
            desired_hash: None,
            id: 1101000001,
            api_url: "https://a.example".into(),
            status: Status::Applied,
            changes: vec!["webhookUrl".into(), "delaySendMessagesMilliseconds".into()],
            warnings: Vec::new(),
            error: None,
            duration_ms: 0,
            from_previous_run: false,
            change_values: Vec::new(),
            warning_details: Vec::new(),
            verification: None,
        };
        let plain = Style::plain();
        assert_eq!(
            fleet_line(&r, plain),
            "  1101000001  applied    webhookUrl, delaySendMessagesMilliseconds"
        );
        r.status = Status::NotStarted;
        r.changes.clear();
        r.from_previous_run = true;
        assert_eq!(
            fleet_line(&r, plain),
            "  1101000001  notStarted   (previous run)"
        );
        r.status = Status::Failed;
        r.from_previous_run = false;
        r.error = Some(("http".into(), "boom".into()));
        assert_eq!(fleet_line(&r, plain), "  1101000001  failed     http: boom");
        r.status = Status::Planned;
        assert!(fleet_line(&r, Style::from_choice("always")).contains("\x1b[33mplanned\x1b[0m"));
    }
}
