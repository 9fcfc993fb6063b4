//! `plan` and `apply`: bring one instance, or (`--instances`) a fleet, to a settings file,
//! showing the diff and sending only what changed. The fleet variant prints one line per
//! instance, handles Ctrl-C, and writes the report (the run itself is [`crate::fleet`]'s).

use std::path::{Path, PathBuf};

use clap::ArgMatches;
use greenapi_settings::SettingsPatch;

use super::validate::load_valid;
use crate::args;
use crate::creds::ConnArgs;
use crate::exit::{CliError, Exit};
use crate::fleet::Status;
use crate::style::Style;
use crate::{fleet, input, render};

/// Runs `plan` (`dry_run`) or `apply`.
pub(crate) async fn run(
    conn: &ConnArgs,
    m: &ArgMatches,
    style: Style,
    dry_run: bool,
) -> Result<Exit, CliError> {
    let path = m
        .get_one::<PathBuf>("file")
        .ok_or_else(|| CliError::usage("missing FILE"))?;
    let (desired, _) = load_valid(path)?;
    if let Some(csv) = m.get_one::<PathBuf>("instances") {
        return fleet_command(conn, m, style, &desired, csv, dry_run).await;
    }
    let target = conn.resolve().await?;
    let client = &target.client;
    println!(
        "{}",
        style.bold(&format!(
            "instance {} at {}",
            client.id_instance(),
            client.api_url()
        ))
    );
    let plan = client.plan(&desired).await?;
    print!("{}", render::plan_diff(&plan, style));
    if plan.is_noop() {
        println!(
            "No changes: the instance already matches {}. Nothing {}.",
            path.display(),
            if dry_run { "to send" } else { "sent" }
        );
        return Ok(Exit::Ok);
    }
    if dry_run {
        println!("Plan: {} change(s). `apply` sends them in one setSettings call (the instance restarts).", plan.changes.len());
        return Ok(Exit::Ok);
    }
    let n = plan.changes.len();
    let applied = client.apply_plan(plan).await?;
    match applied.response {
        Some(r) if r.save_settings => {
            println!(
                "{} {n} change(s) (the instance restarts; settings apply within 5 minutes).",
                style.green("Applied")
            );
            Ok(Exit::Ok)
        }
        _ => {
            println!(
                "{} the server answered saveSettings: false",
                style.red("not saved:")
            );
            Ok(Exit::Failed)
        }
    }
}

/// Fleet `plan` / `apply`: every input is checked (instances file, report path, resume report)
/// before anything is sent; each instance's line is printed as it finishes; Ctrl-C stops
/// starting instances, lets those in flight finish, writes the report and exits 130.
async fn fleet_command(
    conn: &ConnArgs,
    m: &ArgMatches,
    style: Style,
    desired: &SettingsPatch,
    csv: &Path,
    dry_run: bool,
) -> Result<Exit, CliError> {
    let shown = csv.display().to_string();
    let concurrency = args::concurrency(m)?;
    let text = input::read_capped(csv, input::FLEET_FILE_CAP)?;
    let instances = fleet::parse_instances(&text, &shown)?;
    let done = match m.try_get_one::<PathBuf>("resume").ok().flatten() {
        Some(p) => fleet::load_resume(p, desired)?,
        None => Default::default(),
    };
    let report_path = m.get_one::<PathBuf>("report");
    if let Some(path) = report_path {
        fleet::check_report_path(path)?;
    }
    let (tx, interrupts) = tokio::sync::mpsc::unbounded_channel();
    let ctrl_c = tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            if tx.send(()).is_err() {
                break;
            }
        }
    });
    let report = fleet::run_until(
        fleet::FleetRun {
            desired,
            instances,
            concurrency,
            dry_run,
            done,
            conn,
            min_interval: None,
        },
        interrupts,
        |r| {
            fleet::clear_progress_line();
            println!("{}", fleet_line(r, style));
        },
    )
    .await;
    ctrl_c.abort();
    let report = report?;
    println!("{}", style.bold(&report.summary()));
    if let Some(path) = report_path {
        report.write(path)?;
        println!("report written to {}", path.display());
    }
    Ok(if report.interrupted {
        let how = match report_path {
            Some(p) => format!("run again with --resume {} to carry on", p.display()),
            None => "no --report was given, so there is no report to --resume from".into(),
        };
        eprintln!(
            "interrupted: {} instance(s) not started; {how}",
            report.count(Status::NotStarted)
        );
        Exit::Interrupted
    } else if report.any_failed() {
        Exit::Failed
    } else {
        Exit::Ok
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
    let detail = match &r.error {
        Some((kind, msg)) => format!("{kind}: {msg}"),
        None if r.changes.is_empty() => String::new(),
        None => r.changes.join(", "),
    };
    let prev = if r.from_previous_run {
        style.dim(" (previous run)")
    } else {
        String::new()
    };
    format!("{:>12}  {status:<9}  {detail}{prev}", r.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fleet_line_shows_the_status_name_and_what_changed() {
        let mut r = fleet::InstanceResult {
            id: 1101000001,
            api_url: "https://a.example".into(),
            status: Status::Applied,
            changes: vec!["webhookUrl".into(), "delaySendMessagesMilliseconds".into()],
            warnings: Vec::new(),
            error: None,
            duration_ms: 0,
            from_previous_run: false,
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
