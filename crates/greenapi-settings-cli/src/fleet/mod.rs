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
//! - `progress`: the progress line on a terminal.

mod csv;
mod progress;
mod report;
mod workers;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use std::sync::Arc;

use greenapi_settings::{ApiToken, ApplyOptions, Client, SettingsPatch, Verification};

use crate::creds::ConnArgs;
use crate::exit::CliError;
use crate::layers::Resolved;

pub use csv::parse_instances;
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
    run_until(opts, BTreeMap::new(), interrupts, |_| {}).await
}

/// [`run`], interruptible: at the first message on `interrupts` no more instances are started,
/// those in flight finish (see [`for_each_until`]), and the rest are `notStarted` in the report,
/// which `--resume` then retries. `on_result` sees each result as it is known: first those
/// carried over from a previous report, then each instance as it finishes.
///
/// An instance listed in `per_instance` (a layered settings file, resolved) is brought to its
/// own desired settings instead of `opts.desired`, and its warnings hide environment values.
pub async fn run_until(
    opts: FleetRun<'_>,
    per_instance: BTreeMap<u64, Resolved>,
    interrupts: tokio::sync::mpsc::UnboundedReceiver<()>,
    mut on_result: impl FnMut(&InstanceResult),
) -> Result<Report, CliError> {
    let started = Instant::now();
    let mut done = opts.done;
    // A result from a previous run counts only for the same instance at the same URL.
    done.retain(|id, r| {
        opts.instances
            .iter()
            .any(|i| i.id == *id && same_url(&i.api_url, &r.api_url))
    });
    let todo: Vec<Instance> = opts
        .instances
        .iter()
        .filter(|i| !done.contains_key(&i.id))
        .cloned()
        .collect();
    let carried: Vec<InstanceResult> = opts
        .instances
        .iter()
        .filter_map(|i| done.remove(&i.id))
        .collect();
    for r in &carried {
        on_result(r);
    }
    let (desired, dry_run) = (opts.desired.clone(), opts.dry_run);
    let verify = opts.verify.clone();
    let per_instance = Arc::new(per_instance);
    let lookup = per_instance.clone();
    let (outcomes, interrupted) = for_each_until(
        &todo,
        opts.concurrency,
        opts.conn,
        opts.min_interval,
        move |client: Client| {
            let desired = lookup
                .get(&client.id_instance())
                .map_or_else(|| desired.clone(), |r| r.patch.clone());
            let verify = verify.clone();
            async move {
                if dry_run {
                    return client.plan(&desired).await.map(|plan| Work {
                        plan,
                        verification: None,
                    });
                }
                let applied = client.apply(&desired).await?;
                match verify {
                    None => Ok(Work {
                        plan: applied.plan,
                        verification: Some(Verification::NotVerified),
                    }),
                    Some(options) => {
                        let v = client.verify(applied, &desired, &options).await?;
                        Ok(Work {
                            plan: v.applied.plan,
                            verification: Some(v.verification),
                        })
                    }
                }
            }
        },
        interrupts,
        |inst, outcome| {
            // `notStarted` ones are listed in the report and the summary, not line by line.
            if !matches!(outcome, Outcome::NotStarted) {
                on_result(&result_of(
                    inst,
                    outcome,
                    Duration::ZERO,
                    dry_run,
                    per_instance.get(&inst.id),
                ));
            }
        },
    )
    .await?;
    let mut results = carried;
    for (inst, outcome, took) in &outcomes {
        results.push(result_of(
            inst,
            outcome,
            *took,
            dry_run,
            per_instance.get(&inst.id),
        ));
    }
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

fn result_of(
    inst: &Instance,
    outcome: &Outcome<Work>,
    took: Duration,
    dry_run: bool,
    resolved: Option<&Resolved>,
) -> InstanceResult {
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
        Outcome::Done(Ok(work)) => {
            r = InstanceResult {
                duration_ms: r.duration_ms,
                ..result_of_plan(inst.id, &inst.api_url, &work.plan, dry_run, resolved)
            };
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
        }
        Outcome::Done(Err(e)) => r.error = Some((e.kind().to_string(), inst.token.scrub(&e.to_string()))),
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
