//! Asking before a fleet apply on a terminal (issue 19): the fleet is planned first (every
//! instance read, nothing sent), the instances that would change are listed, and the prompt
//! shows the plan's counts (`apply to 500 instance(s): 46 would change (120 field(s)), 454
//! already as desired. Continue? [y/N]`). Only `y` or `yes` goes on; anything else, an end of
//! input, Ctrl-C or SIGTERM sends nothing. `--yes` skips it, and so does a run whose standard
//! input or error is not a terminal (cron, CI, pipes: unattended runs are unchanged).
//!
//! Declining exits 1, as `terraform apply` does when its prompt is not answered `yes` (`gh`
//! uses 2, which here means invalid input); Ctrl-C or SIGTERM at the prompt exit 130 / 143.

use std::io::IsTerminal;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use super::{FleetRun, InstanceResult, Report, Status};
use crate::exit::{CliError, Exit};
use crate::layers::FleetDesired;
use crate::signals::Signals;

/// Whether a fleet apply asks first: not with `--yes`, and only when both standard input (the
/// answer) and standard error (the question) are a terminal.
///
/// A run on a terminal that is not in its foreground (started with `&`, or under `timeout`
/// without `--foreground`, which gives the command a process group of its own) is refused
/// before anything is read or sent: the question would stop it (SIGTTIN) where nobody can
/// answer, and a stopped process does not act on SIGTERM.
pub fn wanted(assume_yes: bool) -> Result<bool, CliError> {
    if assume_yes || !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Ok(false);
    }
    if !in_foreground() {
        return Err(CliError::usage(
            "cannot ask before a fleet apply: this process is not in the foreground of its \
             terminal (started with `&`, or under `timeout` without --foreground), where the \
             question would stop it; nothing was sent",
        )
        .with_hint(
            "pass --yes to apply without asking, run it in the foreground, or use `timeout --foreground`",
        ));
    }
    Ok(true)
}

/// Whether this process's group is the foreground process group of the terminal on standard
/// input (the only group that may read it without being stopped).
#[cfg(unix)]
fn in_foreground() -> bool {
    match rustix::termios::tcgetpgrp(std::io::stdin()) {
        Ok(group) => group == rustix::process::getpgrp(),
        // No controlling terminal of ours: a read would not be answered either.
        Err(_) => false,
    }
}

#[cfg(not(unix))]
fn in_foreground() -> bool {
    true
}

/// Plans the fleet `opts` describes (which must be a plan: `dry_run`), printing with `line`
/// each instance that would change or could not be read (the caller prints them on stderr,
/// with the question), then asks. `Ok(None)`: go on with
/// the apply; `Ok(Some(exit))`: stop there, nothing was sent (declined: 1; Ctrl-C or SIGTERM
/// during the plan or at the prompt: 130 or 143). A plan in which nothing would change and
/// nothing failed goes on without asking.
pub async fn confirm(
    opts: FleetRun<'_>,
    per_instance: FleetDesired,
    mut line: impl FnMut(&InstanceResult),
) -> Result<Option<Exit>, CliError> {
    debug_assert!(opts.dry_run, "the confirmation plans, it never applies");
    let (signals, interrupts) = Signals::listen(Arc::new(AtomicBool::new(false)));
    let plan = super::run_until(opts, per_instance, interrupts, |r| {
        if !r.from_previous_run && matches!(r.status, Status::Planned | Status::Failed) {
            line(r);
        }
    })
    .await?;
    if plan.interrupted {
        crate::errln!(
            "interrupted ({}) while planning: nothing was sent",
            signals.name()
        );
        return Ok(Some(signals.exit().unwrap_or(Exit::Interrupted)));
    }
    drop(signals);
    if plan.count(Status::Planned) == 0 && plan.count(Status::Failed) == 0 {
        return Ok(None);
    }
    crate::err!("{} Continue? [y/N] ", question(&plan));
    let (signals, mut interrupts) = Signals::listen(Arc::new(AtomicBool::new(false)));
    let answer = tokio::select! {
        answer = read_answer() => answer,
        _ = interrupts.recv() => {
            crate::errln!();
            crate::errln!("interrupted ({}): nothing was sent", signals.name());
            return Ok(Some(signals.exit().unwrap_or(Exit::Interrupted)));
        }
    };
    if is_yes(answer.as_deref()) {
        return Ok(None);
    }
    if answer.is_none() {
        crate::errln!();
    }
    crate::errln!("not applied (the answer was not y or yes): nothing was sent");
    Ok(Some(Exit::Failed))
}

/// The plan's counts, as the prompt shows them.
pub fn question(plan: &Report) -> String {
    let fresh = |s: Status| {
        plan.results
            .iter()
            .filter(|r| r.status == s && !r.from_previous_run)
            .count()
    };
    let fields: usize = plan
        .results
        .iter()
        .filter(|r| r.status == Status::Planned)
        .map(|r| r.changes.len())
        .sum();
    let mut text = format!(
        "apply to {} instance(s): {} would change ({fields} field(s)), {} already as desired",
        plan.results.len(),
        plan.count(Status::Planned),
        fresh(Status::Unchanged),
    );
    match plan.count(Status::Failed) {
        0 => {}
        n => text.push_str(&format!(", {n} could not be read")),
    }
    match plan.results.iter().filter(|r| r.from_previous_run).count() {
        0 => {}
        n => text.push_str(&format!(", {n} done in the previous run")),
    }
    text.push('.');
    text
}

/// Whether `answer` (a line, `None` at the end of input) says to go on: `y` or `yes`, in any
/// case, spaces around allowed.
fn is_yes(answer: Option<&str>) -> bool {
    answer.is_some_and(|a| matches!(a.trim().to_ascii_lowercase().as_str(), "y" | "yes"))
}

/// One line of standard input (`None` at its end or on an error), read on a thread of its
/// own: blocking there, it neither stops the runtime from seeing Ctrl-C nor keeps the process
/// alive after a Ctrl-C (a blocking task of the runtime would be waited for at exit).
async fn read_answer() -> Option<String> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("confirm".into())
        .spawn(move || {
            let mut line = String::new();
            let got = match std::io::stdin().read_line(&mut line) {
                Ok(0) | Err(_) => None,
                Ok(_) => Some(line),
            };
            let _ = tx.send(got);
        });
    match spawned {
        Ok(_) => rx.await.ok().flatten(),
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn result(id: u64, status: Status, changes: usize, previous: bool) -> InstanceResult {
        InstanceResult {
            desired_hash: None,
            id,
            api_url: "https://api.example".into(),
            status,
            changes: (0..changes).map(|i| format!("f{i}")).collect(),
            warnings: Vec::new(),
            error: None,
            duration_ms: 0,
            from_previous_run: previous,
            change_values: Vec::new(),
            warning_details: Vec::new(),
            verification: None,
        }
    }

    fn plan(results: Vec<InstanceResult>) -> Report {
        Report {
            mode: "plan",
            started_at: std::time::SystemTime::now(),
            settings_file: None,
            desired: serde_json::json!({}),
            results,
            duration: Duration::ZERO,
            interrupted: false,
            stopped_after_failures: None,
            connections_opened: None,
            selection: None,
        }
    }

    #[test]
    fn the_question_shows_the_plans_counts() {
        let p = plan(vec![
            result(1, Status::Planned, 3, false),
            result(2, Status::Planned, 1, false),
            result(3, Status::Unchanged, 0, false),
        ]);
        assert_eq!(
            question(&p),
            "apply to 3 instance(s): 2 would change (4 field(s)), 1 already as desired."
        );
        let p = plan(vec![
            result(1, Status::Planned, 2, false),
            result(2, Status::Failed, 0, false),
            result(3, Status::Applied, 2, true),
            result(4, Status::Unchanged, 0, true),
        ]);
        assert_eq!(
            question(&p),
            "apply to 4 instance(s): 1 would change (2 field(s)), 0 already as desired, 1 could not be read, 2 done in the previous run."
        );
    }

    #[test]
    fn only_y_or_yes_goes_on() {
        for yes in ["y", "Y\n", " yes \r\n", "YES"] {
            assert!(is_yes(Some(yes)), "{yes:?}");
        }
        for no in ["", "\n", "n", "no", "yess", "y es", "ok", "1"] {
            assert!(!is_yes(Some(no)), "{no:?}");
        }
        assert!(!is_yes(None));
    }
}
