//! Fleet mode: the same desired settings on many instances, with bounded concurrency, a
//! progress line, per-instance results, a JSON report, and `--resume` to retry failures only.
//!
//! This module is the public API the commands (and the loopback benchmark) use: [`Instance`],
//! [`FleetRun`], [`run`] / [`run_until`] (a plan or apply across the fleet, carrying over the
//! results of a resumed report), and re-exports of the parts below:
//!
//! - `csv`: reading and checking the instances file ([`parse_instances`]);
//! - `report`: each instance's [`Status`] and [`InstanceResult`], the [`Report`] (an
//!   [`Envelope`](crate::envelope::Envelope) with `before` / `after` per instance), its path
//!   check and [`load_resume`] (which reads version 1 reports too);
//! - `workers`: running an operation on every instance with bounded concurrency, Ctrl-C
//!   handling and each instance's [`Outcome`] ([`for_each`], [`for_each_until`]);
//! - `progress`: the progress line on a terminal (indicatif), and [`suspended`] for lines
//!   printed while it is shown;
//! - `fds`: making room for `--concurrency` under `RLIMIT_NOFILE` ([`ensure_open_files`]);
//! - `select`, `controls`, `options`: which instances a run works on ([`Selection`]:
//!   `--only`, `--limit`), its batches and failure budget ([`Controls`]: `--batch`,
//!   `--batch-pause`, `--max-failures`), and those options on the command line;
//! - `confirm`: asking on a terminal before a fleet apply ([`confirm::confirm`]).

pub mod confirm;
mod controls;
mod csv;
mod fds;
pub mod options;
mod progress;
mod report;
mod result;
mod select;
mod workers;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use std::sync::Arc;

use greenapi_settings::{ApiToken, ApplyOptions, Client, SettingsPatch, Verification};

use crate::creds::ConnArgs;
use crate::exit::CliError;
use crate::layers::{FleetDesired, Resolved};

pub use controls::{Batch, Controls, Ended};
pub use csv::parse_instances;
pub use fds::{ensure_open_files, needed as open_files_needed, RESERVE as OPEN_FILES_RESERVE};
pub use progress::suspended;
pub use report::{check_report_path, load_resume, InstanceResult, Report, Status, VerifySummary};
pub use select::Selection;
pub(crate) use workers::pool;
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

/// The keyed hash of what instance `token` is to be brought to: HMAC-SHA-256 (ring, already
/// in the tree through rustls), keyed with the instance's API token, of its resolved desired
/// settings as sent (environment values and the webhook token included), 128 bits in hex.
/// A report keeps it per instance, so `--resume` skips an instance only if what it was
/// brought to is what it is to get now: after a `${VAR}` value or the webhook token changed,
/// it is contacted again. Keyed with the token, which no report holds, the hash cannot be
/// used to guess the secret values it covers.
pub fn desired_hash(token: &ApiToken, desired: &SettingsPatch) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, token.expose().as_bytes());
    let body = serde_json::to_vec(desired).unwrap_or_default();
    let tag = ring::hmac::sign(&key, &body);
    tag.as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
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
    /// The setSettings was answered `saveSettings: false` (see [`not_saved`]).
    pub not_saved: bool,
}

/// The error kind of an instance whose setSettings was answered `saveSettings: false`.
pub const NOT_SAVED_KIND: &str = "notSaved";
/// What is said of it, in single and fleet runs alike.
pub const NOT_SAVED_TEXT: &str =
    "the server answered saveSettings: false (the settings were not saved)";

/// The one rule for single and fleet runs: a setSettings that was sent and answered
/// `saveSettings: false` did not apply. It is a failure (exit 1; in a fleet, `failed` with
/// [`NOT_SAVED_KIND`], which `--resume` retries) and there is nothing to verify.
pub fn not_saved(applied: &greenapi_settings::Applied) -> bool {
    applied.response.as_ref().is_some_and(|r| !r.save_settings)
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
/// not kept); the results carry the changed fields' values before and after and the warnings
/// whole (`change_values`, `warning_details`: what the envelope and the report show, and what
/// `--undo` restores).
pub async fn run_until(
    opts: FleetRun<'_>,
    per_instance: FleetDesired,
    interrupts: tokio::sync::mpsc::UnboundedReceiver<()>,
    on_result: impl FnMut(&InstanceResult),
) -> Result<Report, CliError> {
    run_controlled(
        opts,
        Controls::default(),
        per_instance,
        interrupts,
        on_result,
    )
    .await
}

/// [`run_until`] with batches and a failure budget (`apply --batch`, `--max-failures`; see
/// [`Controls`]): instances the run did not start are `notStarted`, and the report says
/// whether the failure budget stopped it ([`Report::stopped_after_failures`]).
pub async fn run_controlled(
    opts: FleetRun<'_>,
    controls: Controls,
    per_instance: FleetDesired,
    interrupts: tokio::sync::mpsc::UnboundedReceiver<()>,
    mut on_result: impl FnMut(&InstanceResult),
) -> Result<Report, CliError> {
    let started = Instant::now();
    let started_at = std::time::SystemTime::now();
    let mut done = opts.done;
    // A result from a previous run counts only for the same instance at the same URL, brought
    // to the same resolved desired settings (see `desired_hash`).
    if !done.is_empty() {
        let by_id: BTreeMap<u64, &Instance> = opts.instances.iter().map(|i| (i.id, i)).collect();
        done.retain(|id, r| {
            by_id.get(id).is_some_and(|i| {
                let want = per_instance.get(*id);
                let want = want.as_ref().map_or(opts.desired, |r| &r.patch);
                same_url(&i.api_url, &r.api_url)
                    && r.desired_hash.as_deref() == Some(desired_hash(&i.token, want).as_str())
            })
        });
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
    let ended = workers::run_each(
        &todo,
        opts.concurrency,
        opts.conn,
        opts.min_interval,
        controls,
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
                        not_saved: false,
                    }
                } else {
                    let applied = client.apply(want).await?;
                    match verify {
                        _ if not_saved(&applied) => Work {
                            plan: applied.plan,
                            verification: None,
                            not_saved: true,
                        },
                        None => Work {
                            plan: applied.plan,
                            verification: Some(Verification::NotVerified),
                            not_saved: false,
                        },
                        Some(options) => {
                            let v = client.verify(applied, want, &options).await?;
                            Work {
                                plan: v.applied.plan,
                                verification: Some(v.verification),
                                not_saved: false,
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
            let inst = &todo[index];
            let mut r = result_of(inst, outcome, took);
            if !dry_run {
                let want = per_instance.get(inst.id);
                let want = want.as_ref().map_or(opts.desired, |r| &r.patch);
                r.desired_hash = Some(desired_hash(&inst.token, want));
            }
            // `notStarted` ones are listed in the report and the summary, not line by line.
            if r.status != Status::NotStarted {
                on_result(&r);
            }
            let failed = r.status == Status::Failed;
            results.push(r);
            failed
        },
    )
    .await?;
    let results = sorted_by_id(results);
    let mut desired = opts.desired.to_json_value();
    greenapi_settings::redact::secret_settings(&mut desired);
    Ok(Report {
        mode: if opts.dry_run { "plan" } else { "apply" },
        started_at,
        settings_file: None,
        desired,
        results,
        duration: started.elapsed(),
        interrupted: ended.interrupted,
        stopped_after_failures: ended.max_failures,
        connections_opened: Some(ended.connections_opened),
        selection: None,
    })
}

/// `results` stably sorted by id, each result moved once: sorting the results themselves
/// moved each (a few hundred bytes) many times, ~2% of a fleet's CPU.
fn sorted_by_id(results: Vec<InstanceResult>) -> Vec<InstanceResult> {
    // (id, position): the position breaks ties as a stable sort would.
    let mut order: Vec<(u64, usize)> = results.iter().map(|r| r.id).zip(0..).collect();
    order.sort_unstable();
    let mut slots: Vec<Option<InstanceResult>> = results.into_iter().map(Some).collect();
    order
        .into_iter()
        .filter_map(|(_, at)| slots[at].take())
        .collect()
}

/// Whether two API URLs are the same (a trailing `/` aside): how `--resume` and `--undo`
/// match a report's instance with the instances file.
pub(crate) fn same_url(a: &str, b: &str) -> bool {
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
    result_from(id, api_url, plan, dry_run, resolved, true)
}

/// [`result_of_plan`], with the changes' values and the whole warnings only if `details`.
fn result_from(
    id: u64,
    api_url: &str,
    plan: &greenapi_settings::Plan,
    dry_run: bool,
    resolved: Option<&Resolved>,
    details: bool,
) -> InstanceResult {
    let hidden: Vec<Cow<'_, greenapi_settings::Violation>> = plan
        .warnings
        .iter()
        .map(|w| resolved.map_or(Cow::Borrowed(w), |r| Cow::Owned(r.hide(w))))
        .collect();
    let warnings = hidden.iter().map(|w| warning_text(w)).collect();
    InstanceResult {
        desired_hash: None,
        id,
        api_url: api_url.to_string(),
        status: match (plan.is_noop(), dry_run) {
            (true, _) => Status::Unchanged,
            (false, true) => Status::Planned,
            (false, false) => Status::Applied,
        },
        changes: plan.changes.iter().map(|c| c.field.to_string()).collect(),
        warnings,
        error: None,
        duration_ms: 0,
        from_previous_run: false,
        change_values: if details {
            plan.changes.clone()
        } else {
            Vec::new()
        },
        warning_details: if details {
            hidden.into_iter().map(Cow::into_owned).collect()
        } else {
            Vec::new()
        },
        verification: None,
    }
}

/// `w.to_string()`, remembering this thread's last few: a fleet's instances nearly all have
/// the same warnings (from the same desired settings), and formatting each instance's was a
/// few per cent of a fleet's CPU. The text depends on nothing but the warning, so a
/// remembered one for an equal warning is the same text.
fn warning_text(w: &greenapi_settings::Violation) -> String {
    const KEEP: usize = 16;
    thread_local! {
        static LAST: std::cell::RefCell<Vec<(greenapi_settings::Violation, String)>> =
            const { std::cell::RefCell::new(Vec::new()) };
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if let Some((_, text)) = last.iter().find(|(seen, _)| seen == w) {
            return text.clone();
        }
        let text = w.to_string();
        if last.len() == KEEP {
            last.remove(0);
        }
        last.push((w.clone(), text.clone()));
        text
    })
}

/// What a finished instance's result holds (its id, URL and time are set by [`result_of`]):
/// everything [`result_of_plan`] makes, the changed fields' values included (the report's
/// `before` / `after`, which `--undo` restores).
fn reduce(work: &Work, dry_run: bool, resolved: Option<&Resolved>) -> InstanceResult {
    let mut r = result_from(0, "", &work.plan, dry_run, resolved, true);
    if work.not_saved {
        r.status = Status::Failed;
        r.error = Some((NOT_SAVED_KIND.to_string(), NOT_SAVED_TEXT.to_string()));
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
        desired_hash: None,
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
                desired_hash: None,
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
                "stopped (Ctrl-C or SIGTERM) while in progress: the change may or may not have been sent; --resume retries it".into(),
            ))
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use greenapi_settings::{Plan, Settings, Violation};

    /// Desired settings with warnings (rules across fields) and changes, against defaults.
    fn plan() -> Plan {
        let desired = SettingsPatch::new()
            .poll_message_webhook(true)
            .outgoing_api_message_webhook(false)
            .outgoing_message_webhook(false)
            .incoming_webhook(false)
            .delay_send_messages_milliseconds(5000);
        Plan::new(Settings::default(), &desired)
    }

    #[test]
    fn results_are_sorted_by_id_as_a_stable_sort_would() {
        let mut seed = 7u64;
        for n in [0, 1, 2, 5, 100, 1000] {
            let results: Vec<InstanceResult> = (0..n)
                .map(|i| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    let mut r = result_of_plan(seed >> 60, "", &plan(), true, None);
                    r.duration_ms = i; // tells equal ids apart
                    r
                })
                .collect();
            let mut expected = results.clone();
            expected.sort_by_key(|r| r.id);
            let got = sorted_by_id(results);
            assert_eq!(format!("{got:?}"), format!("{expected:?}"));
        }
    }

    #[test]
    fn remembered_warning_texts_are_each_warnings_own() {
        let mut all: Vec<Violation> = plan().warnings;
        assert!(!all.is_empty());
        // More distinct warnings than are remembered, some equal but for one part.
        for i in 0..40 {
            all.push(Violation::warning(
                Some("webhookUrl"),
                Some(serde_json::json!(i % 20)),
                "unused",
                format!("w{}", i % 25),
            ));
            all.push(Violation::warning(
                None,
                None,
                "unused",
                format!("w{}", i % 3),
            ));
        }
        for _ in 0..3 {
            for w in all.iter().chain(all.iter().rev()) {
                assert_eq!(warning_text(w), w.to_string());
            }
        }
    }

    #[test]
    fn an_apply_result_keeps_the_values_before_and_after_like_a_plan_result() {
        let plan = plan();
        assert!(!plan.warnings.is_empty() && !plan.changes.is_empty());
        for dry_run in [true, false] {
            let work = Work {
                plan: plan.clone(),
                verification: None,
                not_saved: false,
            };
            let full = result_of_plan(0, "", &plan, dry_run, None);
            assert_eq!(full.change_values, plan.changes);
            assert_eq!(full.warning_details, plan.warnings);
            let texts: Vec<String> = plan.warnings.iter().map(ToString::to_string).collect();
            assert_eq!(full.warnings, texts);
            let reduced = reduce(&work, dry_run, None);
            assert_eq!(format!("{reduced:?}"), format!("{full:?}"));
        }
    }
}
