//! Fleet mode: the same desired settings on many instances, with bounded concurrency, a
//! progress line, per-instance results, a JSON report, and `--resume` to retry failures only.
//!
//! This module is the public API the commands (and the loopback benchmark) use: [`Instance`],
//! [`FleetRun`], [`run`] / [`run_until`] (a plan or apply across the fleet, carrying over the
//! results of a resumed report), and re-exports of the parts below:
//!
//! - `csv`: reading and checking the instances file ([`parse_instances`]);
//! - `report`: each instance's [`Status`] and [`InstanceResult`], the JSON [`Report`], its
//!   path check and [`load_resume`];
//! - `workers`: running an operation on every instance with bounded concurrency, Ctrl-C
//!   handling and each instance's [`Outcome`] ([`for_each`], [`for_each_until`]);
//! - `progress`: the progress line on a terminal;
//! - `fds`: making room for `--concurrency` under `RLIMIT_NOFILE` ([`ensure_open_files`]).

mod csv;
mod fds;
mod progress;
mod report;
mod workers;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use std::sync::Arc;

use greenapi_settings::{ApiToken, ApplyOptions, Client, SettingsPatch, Verification};

use crate::creds::ConnArgs;
use crate::exit::CliError;
use crate::layers::{FleetDesired, Resolved};

pub use csv::parse_instances;
pub use fds::{ensure_open_files, needed as open_files_needed, RESERVE as OPEN_FILES_RESERVE};
pub use progress::clear_progress_line;
pub use report::{check_report_path, load_resume, InstanceResult, Report, Status, VerifySummary};
pub use workers::{for_each, for_each_until, Outcome, INTERRUPT_GRACE};

/// One line of the instances file: `id,token,api_url`.
#[derive(Clone, Debug)]
pub struct Instance {
    /// The instance id.
    pub id: u64,
    /// Its API token (never printed).
    pub token: ApiToken,
    /// Its API URL.
    pub api_url: String,
}

/// Options of a fleet run.
pub struct FleetRun<'a> {
    /// Desired settings (already validated).
    pub desired: &'a SettingsPatch,
    /// The instances.
    pub instances: Vec<Instance>,
    /// Most instances worked on at once.
    pub concurrency: usize,
    /// `true` for `plan` (read only), `false` for `apply`.
    pub dry_run: bool,
    /// Results carried over from a previous report (those instances are not contacted).
    pub done: BTreeMap<u64, InstanceResult>,
    /// Timeout and retries.
    pub conn: &'a ConnArgs,
    /// Least time between two requests to the same instance (the API allows 1 per second).
    pub min_interval: Option<Duration>,
    /// `apply --wait`: read each instance back and repair what did not take (its cancel flag
    /// is set on Ctrl-C). `None`: apply without verifying.
    pub verify: Option<ApplyOptions>,
}

/// What one instance's operation produced: its plan and, after `apply --wait`, what reading
/// back showed.
#[derive(Clone, Debug)]
pub struct Work {
    /// The plan (carried out, for apply).
    pub plan: greenapi_settings::Plan,
    /// The verification, for apply (`notVerified` without `--wait`).
    pub verification: Option<Verification>,
}

/// Runs the fleet plan or apply. Per-instance failures are results, not errors.
pub async fn run(opts: FleetRun<'_>) -> Result<Report, CliError> {
    let (_never, interrupts) = tokio::sync::mpsc::unbounded_channel();
    run_until(opts, FleetDesired::default(), interrupts, |_| {}).await
}

/// [`run`], interruptible: at the first message on `interrupts` no more instances are started,
/// those in flight finish (see [`for_each_until`]), and the rest are `notStarted` in the report,
/// which `--resume` then retries. `on_result` sees each result as it is known: first those
/// carried over from a previous report, then each instance as it finishes.
///
/// An instance listed in `per_instance` (a layered settings file, resolved) is brought to its
/// own desired settings instead of `opts.desired`, and its warnings hide environment values.
///
/// Each instance's outcome is reduced to its [`InstanceResult`] as it arrives (its plan is
/// not kept); only a plan's results carry the changes' values and the warnings whole
/// (`change_values`, `warning_details`: what `plan --json` prints), an apply's do not.
pub async fn run_until(
    opts: FleetRun<'_>,
    per_instance: FleetDesired,
    interrupts: tokio::sync::mpsc::UnboundedReceiver<()>,
    mut on_result: impl FnMut(&InstanceResult),
) -> Result<Report, CliError> {
    let started = Instant::now();
    let mut done = opts.done;
    // A result from a previous run counts only for the same instance at the same URL.
    if !done.is_empty() {
        let urls: BTreeMap<u64, &str> = opts
            .instances
            .iter()
            .map(|i| (i.id, i.api_url.as_str()))
            .collect();
        done.retain(|id, r| urls.get(id).is_some_and(|u| same_url(u, &r.api_url)));
    }
    let (todo, carried): (Vec<Instance>, Vec<Instance>) = opts
        .instances
        .into_iter()
        .partition(|i| !done.contains_key(&i.id));
    let mut results: Vec<InstanceResult> = Vec::with_capacity(todo.len() + carried.len());
    for i in &carried {
        if let Some(r) = done.remove(&i.id) {
            on_result(&r);
            results.push(r);
        }
    }
    drop(carried);
    let desired = Arc::new(opts.desired.clone());
    let dry_run = opts.dry_run;
    let verify = opts.verify.clone();
    let per_instance = Arc::new(per_instance);
    let lookup = per_instance.clone();
    let interrupted = workers::run_each(
        &todo,
        opts.concurrency,
        opts.conn,
        opts.min_interval,
        move |client: Client| {
            let resolved = lookup.get(client.id_instance()).cloned();
            let desired = desired.clone();
            let verify = verify.clone();
            async move {
                let want = resolved.as_ref().map_or(&*desired, |r| &r.patch);
                let work = if dry_run {
                    let plan = client.plan(want).await?;
                    Work {
                        plan,
                        verification: None,
                    }
                } else {
                    let applied = client.apply(want).await?;
                    match verify {
                        None => Work {
                            plan: applied.plan,
                            verification: Some(Verification::NotVerified),
                        },
                        Some(options) => {
                            let v = client.verify(applied, want, &options).await?;
                            Work {
                                plan: v.applied.plan,
                                verification: Some(v.verification),
                            }
                        }
                    }
                };
                // Reduced here, in the instance's task: the plan (current settings, desired,
                // changes) is dropped as soon as the instance is done.
                Ok(reduce(&work, dry_run, resolved.as_deref()))
            }
        },
        interrupts,
        |index, outcome, took| {
            let r = result_of(&todo[index], outcome, took);
            // `notStarted` ones are listed in the report and the summary, not line by line.
            if r.status != Status::NotStarted {
                on_result(&r);
            }
            results.push(r);
        },
    )
    .await?;
    results.sort_by_key(|r| r.id);
    let mut desired = opts.desired.to_json_value();
    greenapi_settings::redact::secret_settings(&mut desired);
    Ok(Report {
        mode: if opts.dry_run { "plan" } else { "apply" },
        desired,
        results,
        duration: started.elapsed(),
        interrupted,
    })
}

fn same_url(a: &str, b: &str) -> bool {
    a.trim().trim_end_matches('/') == b.trim().trim_end_matches('/')
}

/// One instance's result from its plan (`dry_run`) or applied plan; `resolved` hides the
/// environment values of its warnings.
pub fn result_of_plan(
    id: u64,
    api_url: &str,
    plan: &greenapi_settings::Plan,
    dry_run: bool,
    resolved: Option<&Resolved>,
) -> InstanceResult {
    let warning_details: Vec<greenapi_settings::Violation> = plan
        .warnings
        .iter()
        .map(|w| resolved.map_or_else(|| w.clone(), |r| r.hide(w)))
        .collect();
    InstanceResult {
        id,
        api_url: api_url.to_string(),
        status: match (plan.is_noop(), dry_run) {
            (true, _) => Status::Unchanged,
            (false, true) => Status::Planned,
            (false, false) => Status::Applied,
        },
        changes: plan.changes.iter().map(|c| c.field.to_string()).collect(),
        warnings: warning_details.iter().map(ToString::to_string).collect(),
        error: None,
        duration_ms: 0,
        from_previous_run: false,
        change_values: plan.changes.clone(),
        warning_details,
        verification: None,
    }
}

/// What a finished instance's result holds (its id, URL and time are set by [`result_of`]):
/// everything [`result_of_plan`] makes, minus the changes' values and whole warnings of an
/// apply (which nothing prints).
fn reduce(work: &Work, dry_run: bool, resolved: Option<&Resolved>) -> InstanceResult {
    let mut r = result_of_plan(0, "", &work.plan, dry_run, resolved);
    if !dry_run {
        r.change_values = Vec::new();
        r.warning_details = Vec::new();
    }
    if let Some(v) = &work.verification {
        r.verification = Some(VerifySummary::of(v));
        // Sent but not seen to take: a failure, so that `--resume` tries it again.
        if matches!(
            v,
            Verification::NotConverged { .. } | Verification::Interrupted { .. }
        ) {
            r.status = Status::Failed;
            r.error = Some((v.kind().to_string(), v.to_string()));
        }
    }
    r
}

fn result_of(inst: &Instance, outcome: Outcome<InstanceResult>, took: Duration) -> InstanceResult {
    let mut r = InstanceResult {
        id: inst.id,
        api_url: inst.api_url.clone(),
        status: Status::Failed,
        changes: Vec::new(),
        warnings: Vec::new(),
        error: None,
        duration_ms: took.as_millis() as u64,
        from_previous_run: false,
        change_values: Vec::new(),
        warning_details: Vec::new(),
        verification: None,
    };
    match outcome {
        Outcome::Done(Ok(done)) => {
            r = InstanceResult {
                id: r.id,
                api_url: r.api_url,
                duration_ms: r.duration_ms,
                ..done
            };
        }
        Outcome::Done(Err(e)) => {
            r.error = Some((e.kind().to_string(), inst.token.scrub(&e.to_string())))
        }
        Outcome::NotStarted => r.status = Status::NotStarted,
        Outcome::Interrupted => {
            r.error = Some((
                "interrupted".into(),
                "stopped by Ctrl-C while in progress: the change may or may not have been sent; --resume retries it".into(),
            ))
        }
    }
    r
}
