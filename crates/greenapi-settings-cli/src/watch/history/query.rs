//! Reading a history (`greenapi-settings history`): opened read-only (nothing created or
//! migrated), the events that match a filter, what is open now, and the summaries built from
//! those events (which settings drift most, how long each instance took to converge), so the
//! summaries always agree with the events listed beside them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection};
use serde_json::Value;

use super::events::kind;
use super::schema::{self, db_error};
use super::secret::shown;
use crate::exit::CliError;

/// The most events `history` reads at once (about 100 MB in memory at most): more is an
/// error asking for a narrower filter, not an answer that never comes.
pub const MAX_EVENTS: u64 = 500_000;

/// Which events to read.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Only this instance.
    pub instance: Option<u64>,
    /// Only this setting (API name): its drift events and the repairs that sent it.
    pub setting: Option<&'static str>,
    /// Only events at or after this time (ms since the Unix epoch).
    pub since_ms: Option<i64>,
}

/// One stored event, values as shown (secrets `<redacted>`).
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Row id (the order of recording).
    pub id: i64,
    /// The cycle that recorded it.
    pub cycle: i64,
    /// The instance.
    pub instance: u64,
    /// When (ms since the Unix epoch).
    pub at_ms: i64,
    /// See [`kind`].
    pub kind: String,
    /// The setting, for drift events.
    pub field: Option<String>,
    /// The wanted value (drift detected / changed).
    pub desired: Option<Value>,
    /// The value read (drift detected / changed).
    pub observed: Option<Value>,
    /// When the drift was first seen.
    pub first_seen_ms: Option<i64>,
    /// How long the drift, outage or repair lasted.
    pub duration_ms: Option<i64>,
    /// Repair outcome, or how a drift resolved (`repaired`, `itself`).
    pub outcome: Option<String>,
    /// Error kind.
    pub error_kind: Option<String>,
    /// The fields a repair sent.
    pub fields: Vec<String>,
    /// The fields still wrong after a repair.
    pub still_wrong: Vec<String>,
    /// Re-sends during a repair.
    pub resends: Option<i64>,
    /// The error message of an outage.
    pub message: Option<String>,
}

/// A drift open now.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenDriftNow {
    /// The instance.
    pub instance: u64,
    /// The setting.
    pub field: String,
    /// The wanted value, as shown.
    pub desired: Value,
    /// The value read, as shown.
    pub observed: Value,
    /// First seen (ms since the Unix epoch).
    pub first_seen_ms: i64,
}

/// An outage open now.
#[derive(Clone, Debug, PartialEq)]
pub struct OutageNow {
    /// The instance.
    pub instance: u64,
    /// The error kind.
    pub error_kind: String,
    /// Since when (ms since the Unix epoch).
    pub since_ms: i64,
}

/// The last cycle and how many there were.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cycles {
    /// Cycles started in the time asked for.
    pub count: i64,
    /// The most recent one: started, finished (none if it never finished: a crash or still
    /// running), instances, in sync, drifted, unreachable, parked, repaired, interrupted.
    pub last: Option<LastCycle>,
}

/// The most recent cycle.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LastCycle {
    /// Started (ms).
    pub started_ms: i64,
    /// Finished (ms), if it did.
    pub finished_ms: Option<i64>,
    /// Counts from its summary (absent if it never finished).
    pub counts: Option<[i64; 6]>,
    /// Stopped by a signal.
    pub interrupted: bool,
}

/// How often one setting drifted.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SettingSummary {
    /// The setting.
    pub field: String,
    /// Drift events (detected).
    pub drifts: u64,
    /// Distinct instances.
    pub instances: u64,
    /// Resolved by a repair.
    pub resolved_by_repair: u64,
    /// Resolved by itself.
    pub resolved_by_itself: u64,
    /// Open now.
    pub open_now: u64,
    /// Median time from first seen to resolved.
    pub median_duration_ms: Option<i64>,
}

/// How one instance's repairs went.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct InstanceRepairs {
    /// The instance.
    pub instance: u64,
    /// Repairs sent.
    pub repairs: u64,
    /// Repairs that converged.
    pub converged: u64,
    /// Repairs that did not (any other outcome).
    pub not_converged: u64,
    /// Median time to converge.
    pub median_converge_ms: Option<i64>,
    /// Longest time to converge.
    pub max_converge_ms: Option<i64>,
    /// The last outcome.
    pub last_outcome: String,
}

/// Everything `history` shows.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Cycles.
    pub cycles: Cycles,
    /// Events, oldest first.
    pub events: Vec<Event>,
    /// Settings, most drifts first.
    pub settings: Vec<SettingSummary>,
    /// Instances with repairs, by id.
    pub repairs: Vec<InstanceRepairs>,
    /// Drifts open now.
    pub open_drifts: Vec<OpenDriftNow>,
    /// Outages open now.
    pub unreachable: Vec<OutageNow>,
}

/// A history opened read-only.
#[derive(Debug)]
pub struct HistoryReader {
    conn: Connection,
    path: PathBuf,
}

fn split(list: Option<String>) -> Vec<String> {
    list.map(|s| s.split(',').map(str::to_owned).collect())
        .unwrap_or_default()
}

fn median(mut v: Vec<i64>) -> Option<i64> {
    v.sort_unstable();
    v.get(v.len().saturating_sub(1) / 2).copied()
}

impl HistoryReader {
    /// Opens the history at `path` read-only; a missing file or one that is not a history
    /// of this schema is an error (exit 2).
    pub fn open(path: &Path) -> Result<HistoryReader, CliError> {
        Ok(HistoryReader {
            conn: schema::open_read_only(path)?,
            path: path.to_owned(),
        })
    }

    fn err(&self, e: rusqlite::Error) -> CliError {
        db_error(&self.path, e)
    }

    /// The events that match `f`, oldest first.
    pub fn events(&self, f: &Filter) -> Result<Vec<Event>, CliError> {
        let instance = f.instance.map(|i| i64::try_from(i).unwrap_or(-1));
        let run = || -> rusqlite::Result<Vec<Event>> {
            let mut st = self.conn.prepare(
                "SELECT id, cycle, instance, at_ms, kind, field, desired, observed, first_seen_ms,
                        duration_ms, outcome, error_kind, fields, still_wrong, resends, message
                 FROM events
                 WHERE (?1 IS NULL OR instance = ?1) AND (?2 IS NULL OR at_ms >= ?2)
                   AND (?3 IS NULL OR field = ?3
                        OR instr(',' || fields || ',', ',' || ?3 || ',') > 0)
                 ORDER BY at_ms, id",
            )?;
            let rows = st.query_map(params![instance, f.since_ms, f.setting], |r| {
                Ok(Event {
                    id: r.get(0)?,
                    cycle: r.get(1)?,
                    instance: r.get::<_, i64>(2)? as u64,
                    at_ms: r.get(3)?,
                    kind: r.get(4)?,
                    field: r.get(5)?,
                    desired: r.get::<_, Option<String>>(6)?.map(|s| shown(&s)),
                    observed: r.get::<_, Option<String>>(7)?.map(|s| shown(&s)),
                    first_seen_ms: r.get(8)?,
                    duration_ms: r.get(9)?,
                    outcome: r.get(10)?,
                    error_kind: r.get(11)?,
                    fields: split(r.get(12)?),
                    still_wrong: split(r.get(13)?),
                    resends: r.get(14)?,
                    message: r.get(15)?,
                })
            })?;
            rows.collect()
        };
        run().map_err(|e| self.err(e))
    }

    /// How many events match `f`.
    pub fn count(&self, f: &Filter) -> Result<u64, CliError> {
        let instance = f.instance.map(|i| i64::try_from(i).unwrap_or(-1));
        self.conn
            .query_row(
                "SELECT count(*) FROM events
                 WHERE (?1 IS NULL OR instance = ?1) AND (?2 IS NULL OR at_ms >= ?2)
                   AND (?3 IS NULL OR field = ?3
                        OR instr(',' || fields || ',', ',' || ?3 || ',') > 0)",
                params![instance, f.since_ms, f.setting],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n.max(0) as u64)
            .map_err(|e| self.err(e))
    }

    /// Drifts and outages open now, for the instance and setting of `f`.
    pub fn open_now(&self, f: &Filter) -> Result<(Vec<OpenDriftNow>, Vec<OutageNow>), CliError> {
        let instance = f.instance.map(|i| i64::try_from(i).unwrap_or(-1));
        let run = || -> rusqlite::Result<(Vec<OpenDriftNow>, Vec<OutageNow>)> {
            let mut st = self.conn.prepare(
                "SELECT instance, field, desired, observed, first_seen_ms FROM open_drifts
                 WHERE (?1 IS NULL OR instance = ?1) AND (?2 IS NULL OR field = ?2)
                 ORDER BY instance, field",
            )?;
            let drifts = st
                .query_map(params![instance, f.setting], |r| {
                    Ok(OpenDriftNow {
                        instance: r.get::<_, i64>(0)? as u64,
                        field: r.get(1)?,
                        desired: shown(&r.get::<_, String>(2)?),
                        observed: shown(&r.get::<_, String>(3)?),
                        first_seen_ms: r.get(4)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut outages = Vec::new();
            if f.setting.is_none() {
                let mut st = self.conn.prepare(
                    "SELECT instance, error_kind, since_ms FROM unreachable
                     WHERE (?1 IS NULL OR instance = ?1) ORDER BY instance",
                )?;
                outages = st
                    .query_map(params![instance], |r| {
                        Ok(OutageNow {
                            instance: r.get::<_, i64>(0)? as u64,
                            error_kind: r.get(1)?,
                            since_ms: r.get(2)?,
                        })
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
            }
            Ok((drifts, outages))
        };
        run().map_err(|e| self.err(e))
    }

    /// Cycles started since `since_ms`, and the last one.
    pub fn cycles(&self, since_ms: Option<i64>) -> Result<Cycles, CliError> {
        let run = || -> rusqlite::Result<Cycles> {
            let count: i64 = self.conn.query_row(
                "SELECT count(*) FROM cycles WHERE (?1 IS NULL OR started_ms >= ?1)",
                params![since_ms],
                |r| r.get(0),
            )?;
            let mut st = self.conn.prepare(
                "SELECT started_ms, finished_ms, instances, in_sync, drifted, unreachable, parked,
                        repaired, interrupted
                 FROM cycles WHERE (?1 IS NULL OR started_ms >= ?1) ORDER BY id DESC LIMIT 1",
            )?;
            let mut rows = st.query(params![since_ms])?;
            let last = match rows.next()? {
                None => None,
                Some(r) => {
                    let finished_ms: Option<i64> = r.get(1)?;
                    let counts = match finished_ms {
                        None => None,
                        Some(_) => {
                            let mut c = [0i64; 6];
                            for (i, slot) in c.iter_mut().enumerate() {
                                *slot = r.get::<_, Option<i64>>(2 + i)?.unwrap_or(0);
                            }
                            Some(c)
                        }
                    };
                    Some(LastCycle {
                        started_ms: r.get(0)?,
                        finished_ms,
                        counts,
                        interrupted: r.get(8)?,
                    })
                }
            };
            Ok(Cycles { count, last })
        };
        run().map_err(|e| self.err(e))
    }

    /// Everything `history` shows for `f`, refused (exit 2) when more than [`MAX_EVENTS`]
    /// events match: they are read into memory for the summaries.
    pub fn report(&self, f: &Filter) -> Result<Report, CliError> {
        self.report_capped(f, MAX_EVENTS)
    }

    /// [`report`](Self::report) with the cap `cap`.
    pub fn report_capped(&self, f: &Filter, cap: u64) -> Result<Report, CliError> {
        let matching = self.count(f)?;
        if matching > cap {
            return Err(CliError::usage(format!(
                "{matching} events match, more than the {cap} `history` reads at once; narrow them with --since, --instance or --setting (or drop old ones with watch --keep)"
            )));
        }
        let events = self.events(f)?;
        let (open_drifts, unreachable) = self.open_now(f)?;
        let cycles = self.cycles(f.since_ms)?;
        let settings = settings_summary(&events, &open_drifts);
        let repairs = repairs_summary(&events);
        Ok(Report {
            cycles,
            events,
            settings,
            repairs,
            open_drifts,
            unreachable,
        })
    }
}

/// Per setting, from the drift events; most drifts first.
fn settings_summary(events: &[Event], open: &[OpenDriftNow]) -> Vec<SettingSummary> {
    let mut by: BTreeMap<&str, (SettingSummary, BTreeSet<u64>, Vec<i64>)> = BTreeMap::new();
    for e in events {
        let Some(field) = e.field.as_deref() else {
            continue;
        };
        let entry = by.entry(field).or_default();
        entry.0.field = field.to_owned();
        match e.kind.as_str() {
            kind::DRIFT_DETECTED => {
                entry.0.drifts += 1;
                entry.1.insert(e.instance);
            }
            kind::DRIFT_RESOLVED => {
                match e.outcome.as_deref() {
                    Some(super::events::BY_REPAIR) => entry.0.resolved_by_repair += 1,
                    _ => entry.0.resolved_by_itself += 1,
                }
                entry.2.extend(e.duration_ms);
            }
            _ => {}
        }
    }
    for o in open {
        let entry = by.entry(o.field.as_str()).or_default();
        entry.0.field = o.field.clone();
        entry.0.open_now += 1;
    }
    let mut out: Vec<SettingSummary> = by
        .into_values()
        .map(|(mut s, instances, durations)| {
            s.instances = instances.len() as u64;
            s.median_duration_ms = median(durations);
            s
        })
        .collect();
    out.sort_by(|a, b| b.drifts.cmp(&a.drifts).then(a.field.cmp(&b.field)));
    out
}

/// Per instance with repairs, from the repair outcomes.
fn repairs_summary(events: &[Event]) -> Vec<InstanceRepairs> {
    let mut by: BTreeMap<u64, (InstanceRepairs, Vec<i64>)> = BTreeMap::new();
    for e in events.iter().filter(|e| e.kind == kind::REPAIR_OUTCOME) {
        let entry = by.entry(e.instance).or_default();
        entry.0.instance = e.instance;
        entry.0.repairs += 1;
        let outcome = e.outcome.clone().unwrap_or_default();
        if outcome == "converged" {
            entry.0.converged += 1;
            entry.1.extend(e.duration_ms);
        } else {
            entry.0.not_converged += 1;
        }
        entry.0.last_outcome = outcome;
    }
    by.into_values()
        .map(|(mut r, took)| {
            r.max_converge_ms = took.iter().copied().max();
            r.median_converge_ms = median(took);
            r
        })
        .collect()
}
