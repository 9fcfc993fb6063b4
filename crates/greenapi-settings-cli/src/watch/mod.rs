//! `watch`: a long-running loop that keeps instances at a settings file. Every `--every` it
//! reads every instance (the reads spread over the interval), compares them with the resolved
//! desired state (the same files, layering and validation as `apply`), records what it saw,
//! and with `--repair` re-sends only the drifted fields, verified as `apply --wait` does (the
//! core's [`greenapi_settings::reconcile`]).
//!
//! - `cycle`: one cycle (spread, concurrency, stop with a grace period);
//! - `backoff`: per-instance backoff, and parking after auth errors until the files change;
//! - `record`: what a cycle learns about an instance, for the history and the metrics;
//! - `history`: the SQLite history of cycles and events (`--history`), read by `history`;
//! - `metrics`: `--metrics ADDR` (Prometheus text format, `/healthz`);
//! - `log`: one line per event on stderr, text or JSON lines.
//!
//! Signals: SIGTERM and SIGINT start nothing new, give the instances in flight a bounded time,
//! write what is known, and exit 0 (SIGTERM: a service stopped on purpose) or 130 (Ctrl-C).
//! SIGHUP re-reads FILE and the instances file; a file that does not validate is refused and
//! the loop goes on with the old one. A change of either file is noticed at the next cycle
//! the same way (and un-parks instances parked after an auth error).

pub mod backoff;
pub mod cycle;
pub mod history;
pub mod log;
pub mod metrics;
pub mod record;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use clap::ArgMatches;
use greenapi_settings::{ApplyOptions, Client, SettingsPatch};
use tokio::sync::watch as channel;

use crate::creds::{ConnArgs, Purpose, Target};
use crate::exit::{CliError, Exit};
use crate::signals::Signals;
use crate::template::process_env;
use crate::{args, fleet, input, layers, numbers, settings_file};

use backoff::Backoff;
use cycle::{CycleRun, Job};
use metrics::Metrics;
use record::{CycleSummary, InstanceRecord, InstanceState, RepairStage};

/// Where the loop's records go besides the metrics and the log: the history database, or
/// nothing. Implemented by the SQLite history; a test can collect records in memory.
pub trait Sink {
    /// A cycle starts; returns its id.
    fn start_cycle(&mut self, started: SystemTime) -> Result<i64, CliError>;
    /// One instance's record of cycle `cycle`.
    fn record(&mut self, cycle: i64, record: &InstanceRecord) -> Result<(), CliError>;
    /// Cycle `cycle` ended (or was stopped).
    fn finish_cycle(&mut self, cycle: i64, summary: &CycleSummary) -> Result<(), CliError>;
    /// Drops what is older than `keep` (`--keep`); returns how many rows went.
    fn prune(&mut self, _keep: Duration, _now: SystemTime) -> Result<u64, CliError> {
        Ok(0)
    }
    /// Closes what is open for instances not in `watched` (they left the instances file);
    /// returns how many instances were closed.
    fn forget_others(
        &mut self,
        _cycle: i64,
        _watched: &std::collections::BTreeSet<u64>,
        _now: SystemTime,
    ) -> Result<usize, CliError> {
        Ok(0)
    }
}

/// No history (`--no-history`).
#[derive(Debug, Default)]
pub struct NoHistory {
    cycles: i64,
}

impl Sink for NoHistory {
    fn start_cycle(&mut self, _started: SystemTime) -> Result<i64, CliError> {
        self.cycles += 1;
        Ok(self.cycles)
    }
    fn record(&mut self, _cycle: i64, _record: &InstanceRecord) -> Result<(), CliError> {
        Ok(())
    }
    fn finish_cycle(&mut self, _cycle: i64, _summary: &CycleSummary) -> Result<(), CliError> {
        Ok(())
    }
}

/// Default `--repair-wait`: the API applies a change within 5 minutes.
const DEFAULT_REPAIR_WAIT: Duration = Duration::from_secs(300);
/// Default `--settle` (as `apply --wait`'s), at most half the repair wait.
const DEFAULT_SETTLE: Duration = Duration::from_secs(60);

impl Sink for history::History {
    fn start_cycle(&mut self, started: SystemTime) -> Result<i64, CliError> {
        history::History::start_cycle(self, started).map(|c| c.0)
    }
    fn record(&mut self, cycle: i64, record: &InstanceRecord) -> Result<(), CliError> {
        history::History::record(self, history::CycleId(cycle), record)
    }
    fn finish_cycle(&mut self, cycle: i64, summary: &CycleSummary) -> Result<(), CliError> {
        history::History::finish_cycle(self, history::CycleId(cycle), summary)
    }
    fn prune(&mut self, keep: Duration, now: SystemTime) -> Result<u64, CliError> {
        history::History::prune(self, keep, now)
    }
    fn forget_others(
        &mut self,
        cycle: i64,
        watched: &std::collections::BTreeSet<u64>,
        now: SystemTime,
    ) -> Result<usize, CliError> {
        history::History::forget_others(self, history::CycleId(cycle), watched, now)
    }
}

/// The history `watch` records into: `--history PATH`, else the default path, or none with
/// `--no-history`. Opened (created, migrated, locked) before anything is sent.
pub(crate) fn open_sink(m: &ArgMatches) -> Result<Box<dyn Sink>, CliError> {
    if m.get_flag("no-history") {
        return Ok(Box::new(NoHistory::default()));
    }
    let path = match m.get_one::<PathBuf>("history") {
        Some(p) => p.clone(),
        None => history::default_path()?,
    };
    Ok(Box::new(history::History::open(&path)?))
}

/// Longest `--every` and `--spread` (a day).
const MAX_EVERY_SECS: f64 = 86_400.0;
/// Longest `--keep` (ten years).
const MAX_KEEP_SECS: f64 = 10.0 * 366.0 * 86_400.0;

/// The loop's options, checked.
struct Options {
    file: PathBuf,
    instances: Option<PathBuf>,
    every: Duration,
    spread: Duration,
    once: bool,
    repair: Option<ApplyOptions>,
    concurrency: usize,
    keep: Option<Duration>,
    metrics: Option<std::net::SocketAddr>,
}

fn options(m: &ArgMatches) -> Result<Options, CliError> {
    let file = m
        .get_one::<PathBuf>("file")
        .cloned()
        .ok_or_else(|| CliError::usage("missing FILE"))?;
    let instances = m.get_one::<PathBuf>("instances").cloned();
    for p in std::iter::once(&file).chain(instances.iter()) {
        if p.as_os_str() == "-" {
            return Err(CliError::usage(
                "watch re-reads its files (SIGHUP, or when they change): give a path, not - (standard input)",
            ));
        }
    }
    let text = |id: &str| m.get_one::<String>(id).map(String::as_str);
    let every = text("every").map_or(Ok(Duration::from_secs(600)), |v| {
        numbers::duration_within("--every", v, MAX_EVERY_SECS)
    })?;
    let once = m.get_flag("once");
    let spread = match text("spread") {
        Some("0") => Duration::ZERO,
        Some(v) => numbers::duration_within("--spread", v, MAX_EVERY_SECS)?,
        // One cycle for cron reads at once; a loop spreads its reads over half the interval.
        None if once => Duration::ZERO,
        None => every / 2,
    };
    if spread > every {
        return Err(CliError::usage(format!(
            "--spread ({}) is longer than --every ({}): a cycle's reads must fit in its interval",
            humantime::format_duration(spread),
            humantime::format_duration(every)
        )));
    }
    let repair = if m.get_flag("repair") {
        // A repair is read back for at most one interval (and the API's 5-minute apply
        // window): one instance that does not converge must not hold up the cycle; the next
        // cycle sees it again and repairs what still differs.
        let wait = match text("repair-wait") {
            Some(v) => numbers::duration("--repair-wait", v)?,
            None => every.min(DEFAULT_REPAIR_WAIT),
        };
        let settle = match text("settle") {
            Some(v) => numbers::duration("--settle", v)?,
            None => (wait / 2).min(DEFAULT_SETTLE),
        };
        let mut o = ApplyOptions::default().wait(wait).settle(settle);
        if let Some(v) = text("max-resends") {
            o = o.max_resends(numbers::whole("--max-resends", v, 0, 10)?);
        }
        Some(o)
    } else {
        None
    };
    let keep = text("keep")
        .map(|v| numbers::duration_within("--keep", v, MAX_KEEP_SECS))
        .transpose()?;
    let metrics = text("metrics").map(metrics::parse_addr).transpose()?;
    let concurrency = if instances.is_some() {
        args::concurrency(m)?
    } else {
        1
    };
    Ok(Options {
        file,
        instances,
        every,
        spread,
        once,
        repair,
        concurrency,
        keep,
        metrics,
    })
}

/// What the files say, loaded and checked: one job per instance, and what the files looked
/// like when read (to notice a change).
struct Fleet {
    members: Vec<(u64, Job)>,
    stamp: Stamp,
    /// The embedded sandbox of `--sandbox`, kept alive with the fleet.
    _target: Option<Target>,
}

/// Size and modification time of the settings file and the instances file.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Stamp(Vec<Option<(u64, SystemTime)>>);

fn stamp(o: &Options) -> Stamp {
    let of = |p: &Path| {
        std::fs::metadata(p)
            .ok()
            .map(|md| (md.len(), md.modified().unwrap_or(SystemTime::UNIX_EPOCH)))
    };
    Stamp(
        std::iter::once(o.file.as_path())
            .chain(o.instances.as_deref())
            .map(of)
            .collect(),
    )
}

async fn load(o: &Options, conn: &ConnArgs) -> Result<Fleet, CliError> {
    let stamp = stamp(o);
    let file = settings_file::load(&o.file)?;
    let Some(csv) = &o.instances else {
        let target = conn.resolve_for(Purpose::Change).await?;
        let id = target.client.id_instance();
        let resolved = layers::resolve_all(&file, &[id], &process_env)?
            .remove(&id)
            .ok_or_else(|| CliError::failed("internal: instance not resolved"))?;
        let job = Job {
            client: target.client.clone(),
            desired: Arc::new(resolved.patch),
        };
        return Ok(Fleet {
            members: vec![(id, job)],
            stamp,
            _target: Some(target),
        });
    };
    let shown = csv.display().to_string();
    let text = input::read_capped(csv, input::FLEET_FILE_CAP)?;
    let instances = fleet::parse_instances(&text, &shown)?;
    let ids: Vec<u64> = instances.iter().map(|i| i.id).collect();
    layers::check_overrides_known(&file, &ids, &shown)?;
    let desired = layers::resolve_fleet(&file, &ids, &process_env)?;
    // One connection pool for the fleet, as fleet runs have; each client paces itself.
    let base = fleet::pool(conn, o.concurrency)?;
    // Shared resolutions stay shared (one patch for a fleet without overrides).
    let mut patches: BTreeMap<*const layers::Resolved, Arc<SettingsPatch>> = BTreeMap::new();
    let mut members = Vec::with_capacity(instances.len());
    for inst in instances {
        let resolved = desired
            .get(inst.id)
            .ok_or_else(|| CliError::failed("internal: instance not resolved"))?;
        let patch = patches
            .entry(Arc::as_ptr(resolved))
            .or_insert_with(|| Arc::new(resolved.patch.clone()))
            .clone();
        let client = conn
            .tune(Client::builder())
            .share_connections_with(&base)
            .api_url(&inst.api_url)
            .id_instance(inst.id)
            .api_token(inst.token)
            .build()?;
        members.push((
            inst.id,
            Job {
                client,
                desired: patch,
            },
        ));
    }
    Ok(Fleet {
        members,
        stamp,
        _target: None,
    })
}

/// Runs `watch`.
pub(crate) async fn run(conn: &ConnArgs, m: &ArgMatches) -> Result<Exit, CliError> {
    match run_checked(conn, m).await {
        // Under --once, 2 means "drift left" (as plan --detailed-exitcode): invalid input or
        // usage is an error (1), so a cron job cannot read a broken setup as drift.
        Err(mut e) if m.get_flag("once") && e.exit == Exit::Usage => {
            e.exit = Exit::Failed;
            Err(e)
        }
        other => other,
    }
}

async fn run_checked(conn: &ConnArgs, m: &ArgMatches) -> Result<Exit, CliError> {
    let o = options(m)?;
    if o.instances.is_some() {
        conn.refuse_in_fleet()?;
    }
    log::init(m.get_one::<String>("log-format").map(String::as_str))?;
    // Every input is read and checked before the history is created or anything is sent.
    let fleet = load(&o, conn).await?;
    let mut sink = open_sink(m)?;
    run_with(conn, o, fleet, sink.as_mut()).await
}

/// [`run`], recording into `sink`.
async fn run_with(
    conn: &ConnArgs,
    o: Options,
    mut fleet: Fleet,
    sink: &mut dyn Sink,
) -> Result<Exit, CliError> {
    let metrics = Metrics::new();
    if let Some(addr) = o.metrics {
        // Alive: a sign of life within two intervals (a cycle may take one whole interval).
        let alive_within = o.every * 2 + cycle::STOP_GRACE;
        let bound = metrics::serve(addr, metrics.clone(), alive_within).await?;
        log::event(log::Event::MetricsListening { addr: bound });
    }
    let cancel = Arc::new(AtomicBool::new(false));
    let (signals, mut interrupts) = Signals::listen(cancel.clone());
    // Each signal raises the stop level: the first stops starting instances, the second
    // abandons those in flight (see `cycle::STOP`).
    let (stop_tx, stop_rx) = channel::channel(0u8);
    tokio::spawn(async move {
        while interrupts.recv().await.is_some() {
            stop_tx.send_modify(|level| *level = level.saturating_add(1));
        }
    });
    let hup = Arc::new(tokio::sync::Notify::new());
    listen_hup(hup.clone());
    let mut backoff: BTreeMap<u64, Backoff> = BTreeMap::new();
    let mut refused_stamp: Option<Stamp> = None;
    log::event(log::Event::Started {
        instances: fleet.members.len(),
        every: o.every,
        repair: o.repair.is_some(),
    });
    let mut last;
    let mut members_checked = false;
    loop {
        let started = SystemTime::now();
        let cycle_start = tokio::time::Instant::now();
        let cycle_id = sink.start_cycle(started)?;
        // At the first cycle and after each reload: what is open for instances that left the
        // instances file is closed, not reported open forever.
        if !members_checked {
            let watched = fleet.members.iter().map(|(id, _)| *id).collect();
            sink.forget_others(cycle_id, &watched, started)?;
            members_checked = true;
        }
        let mut summary = CycleSummary {
            started: Some(started),
            instances: fleet.members.len(),
            ..CycleSummary::default()
        };
        let mut jobs = Vec::new();
        for (id, job) in &fleet.members {
            let b = backoff.entry(*id).or_default();
            if b.due() {
                jobs.push(job.clone());
            } else {
                let r = InstanceRecord {
                    id: *id,
                    at: started,
                    state: InstanceState::Parked,
                    drifts: Vec::new(),
                    error_kind: Some(b.parked().unwrap_or("backoff")),
                    error: None,
                    repair: None,
                };
                count(&mut summary, r.state);
                sink.record(cycle_id, &r)?;
                log::record(&r);
            }
        }
        let mut sink_error = None;
        // Each instance's state after its last record of the cycle (a read, then a repair).
        let mut states: BTreeMap<u64, InstanceState> = BTreeMap::new();
        let stopped = cycle::run(
            CycleRun {
                jobs,
                spread: o.spread,
                concurrency: o.concurrency,
                repair: o.repair.clone(),
            },
            stop_rx.clone(),
            cancel.clone(),
            || metrics.beat(),
            |r| {
                let failure = match (&r.state, &r.repair) {
                    (InstanceState::Unreachable, _) => r.error_kind,
                    (_, Some(rep)) => rep.error_kind,
                    _ => None,
                };
                // A drifted read with --repair is followed by the repair's record, which
                // says whether the instance failed: the read alone would reset the backoff
                // of an instance whose repairs fail every cycle.
                let repair_follows =
                    (o.repair.is_some() && r.repair.is_none() && r.state == InstanceState::Drifted)
                        || r.repair
                            .as_ref()
                            .is_some_and(|x| x.stage == RepairStage::Sent);
                if !repair_follows {
                    backoff.entry(r.id).or_default().after(failure);
                }
                states.insert(r.id, r.state);
                if r.repair.as_ref().is_some_and(|x| x.outcome == "converged") {
                    summary.repaired += 1;
                }
                metrics.record(&r);
                log::record(&r);
                if let Err(e) = sink.record(cycle_id, &r) {
                    sink_error.get_or_insert(e);
                }
            },
        )
        .await;
        if let Some(e) = sink_error {
            return Err(e);
        }
        for state in states.into_values() {
            count(&mut summary, state);
        }
        summary.finished = Some(SystemTime::now());
        summary.interrupted = stopped;
        sink.finish_cycle(cycle_id, &summary)?;
        metrics.cycle(&summary);
        log::cycle(cycle_id, &summary);
        if let Some(keep) = o.keep {
            sink.prune(keep, SystemTime::now())?;
        }
        last = summary;
        if stopped || o.once {
            break;
        }
        // Until the next cycle: a stop ends the loop, SIGHUP reloads at once.
        let next = cycle_start + o.every;
        let mut stop = stop_rx.clone();
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(next) => break,
                _ = stop.wait_for(|s| *s >= cycle::STOP) => break,
                () = hup.notified() => {
                    if reload(&o, conn, &mut fleet, &mut backoff, &mut refused_stamp, true).await {
                        members_checked = false;
                    }
                }
                () = tokio::time::sleep(Duration::from_secs(5)) => metrics.beat(),
            }
        }
        if *stop_rx.borrow() >= cycle::STOP {
            break;
        }
        if stamp(&o) != fleet.stamp {
            reload(
                &o,
                conn,
                &mut fleet,
                &mut backoff,
                &mut refused_stamp,
                false,
            )
            .await;
        }
    }
    let exit = match signals.exit() {
        // `--once` stopped is not "in sync": 143 as other commands stopped by SIGTERM.
        Some(Exit::Terminated) if o.once => Exit::Terminated,
        // A service stopped on purpose (systemd, Kubernetes): a clean stop.
        Some(Exit::Terminated) => Exit::Ok,
        Some(e) => e,
        None if o.once => once_exit(&last),
        None => Exit::Ok,
    };
    log::event(log::Event::Stopped {
        by: signals.exit().map(|_| signals.name()),
    });
    Ok(exit)
}

/// `--once`: `plan --detailed-exitcode`'s codes: 1 when an instance could not be read (or
/// was parked), else 2 when drift is left, else 0.
fn once_exit(s: &CycleSummary) -> Exit {
    if s.unreachable > 0 || s.parked > 0 {
        Exit::Failed
    } else if s.drifted > 0 {
        Exit::Usage
    } else {
        Exit::Ok
    }
}

fn count(s: &mut CycleSummary, state: InstanceState) {
    match state {
        InstanceState::InSync => s.in_sync += 1,
        InstanceState::Drifted => s.drifted += 1,
        InstanceState::Unreachable => s.unreachable += 1,
        InstanceState::Parked => s.parked += 1,
    }
}

/// Re-reads the files. A failure keeps the old fleet and is logged once per version of the
/// files (not every cycle); a success starts every instance's backoff afresh (un-parking
/// those parked after an auth error). Returns whether the files took effect.
async fn reload(
    o: &Options,
    conn: &ConnArgs,
    fleet: &mut Fleet,
    backoff: &mut BTreeMap<u64, Backoff>,
    refused: &mut Option<Stamp>,
    asked: bool,
) -> bool {
    let now = stamp(o);
    if !asked && refused.as_ref() == Some(&now) {
        return false;
    }
    match load(o, conn).await {
        Ok(new) => {
            log::event(log::Event::Reloaded {
                instances: new.members.len(),
            });
            *fleet = new;
            backoff.clear();
            *refused = None;
            true
        }
        Err(e) => {
            log::event(log::Event::ReloadRefused {
                why: e.message.clone(),
                problems: e.details.len(),
            });
            *refused = Some(now);
            // The old files' stamp stays, so an unchanged broken file is not retried.
            false
        }
    }
}

/// SIGHUP wakes `hup` (Unix only; elsewhere a change of the files is still noticed).
fn listen_hup(hup: Arc<tokio::sync::Notify>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut s) = signal(SignalKind::hangup()) {
            tokio::spawn(async move {
                while s.recv().await.is_some() {
                    hup.notify_one();
                }
            });
        }
    }
    #[cfg(not(unix))]
    drop(hup);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn once_exits_like_plan_detailed_exitcode() {
        let s = |in_sync, drifted, unreachable| CycleSummary {
            in_sync,
            drifted,
            unreachable,
            ..CycleSummary::default()
        };
        assert_eq!(once_exit(&s(3, 0, 0)), Exit::Ok);
        assert_eq!(once_exit(&s(2, 1, 0)), Exit::Usage);
        assert_eq!(once_exit(&s(1, 1, 1)), Exit::Failed);
    }
}
