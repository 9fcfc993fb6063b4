//! The history of a `watch`: every cycle and every event (drift detected, changed and
//! resolved; repair sent and its outcome; unreachable and reachable again) in an SQLite
//! database (rusqlite's bundled SQLite: nothing to install), which `greenapi-settings
//! history` reads.
//!
//! - **Crash-safe**: WAL, each instance record one transaction, so kill -9 at any moment
//!   leaves a database that opens and continues ([`schema`] says why `synchronous=NORMAL`).
//! - **Idempotent**: drifts open per (instance, field) and outages per instance are tables;
//!   a record is compared with them ([`events::apply`]), so a drift that persists is one
//!   event with its first-seen time, and observing the same state again (the next cycle, or
//!   after a restart) writes nothing. An in-sync instance with nothing open costs no write at
//!   all: the open state is mirrored in memory. Replaying a record already committed (same
//!   instance, same read time) is recognised and skipped.
//! - **No secrets**: no API token ever reaches this module; `webhookUrlToken` values are
//!   stored only as a keyed hash whose key is in a separate file ([`secret`]).
//!
//! ```no_run
//! # fn main() -> Result<(), greenapi_settings_cli::exit::CliError> {
//! use std::time::{Duration, SystemTime};
//! use greenapi_settings_cli::watch::history::History;
//! use greenapi_settings_cli::watch::record::{CycleSummary, InstanceRecord, InstanceState};
//!
//! let mut h = History::open(&History::default_path()?)?;
//! let cycle = h.start_cycle(SystemTime::now())?;
//! h.record(cycle, &InstanceRecord {
//!     id: 1101000001, at: SystemTime::now(), state: InstanceState::InSync,
//!     drifts: vec![], error_kind: None, error: None, repair: None,
//! })?;
//! h.finish_cycle(cycle, &CycleSummary { instances: 1, in_sync: 1, ..Default::default() })?;
//! h.prune(Duration::from_secs(30 * 86_400), SystemTime::now())?;
//! # Ok(()) }
//! ```

pub mod events;
pub mod query;
pub mod schema;
pub mod secret;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rusqlite::{params, Connection};

use crate::exit::CliError;
use crate::watch::record::{CycleSummary, InstanceRecord};
use events::{ms, NewEvent, OpenDrift, OpenState};
use schema::db_error;
use secret::KeyFile;

/// The outcome of what was open for an instance that left the instances file.
pub const REMOVED: &str = "instanceRemoved";

/// A cycle's row id in the history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CycleId(pub i64);

/// The history, open for writing (by one `watch` at a time: a second one is refused).
pub struct History {
    conn: Connection,
    path: PathBuf,
    key: KeyFile,
    /// The open state of every instance with something open (the database's `open_drifts`
    /// and `unreachable` tables), so a record that changes nothing needs no read.
    open: HashMap<u64, OpenState>,
}

impl std::fmt::Debug for History {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("History")
            .field("path", &self.path)
            .field("open_instances", &self.open.len())
            .finish_non_exhaustive()
    }
}

impl Drop for History {
    /// Leaves the database in rollback-journal mode (WAL is set again by the next
    /// [`History::open`]): the WAL is checkpointed and removed, so a `history` reader, which
    /// opens read-only, finds a plain file and creates nothing beside it. If a reader holds
    /// it open this fails and the database stays in WAL mode, which readers also handle.
    fn drop(&mut self) {
        let _ = self
            .conn
            .pragma_update_and_check(None, "journal_mode", "DELETE", |_| Ok(()));
    }
}

/// The history file used when `--history` is not given:
/// `$XDG_DATA_HOME/greenapi-settings/history.sqlite3`, else
/// `~/.local/share/greenapi-settings/history.sqlite3`.
pub fn default_path() -> Result<PathBuf, CliError> {
    let base = match std::env::var_os("XDG_DATA_HOME").filter(|v| Path::new(v).is_absolute()) {
        Some(d) => PathBuf::from(d),
        None => match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
            Some(home) => PathBuf::from(home).join(".local").join("share"),
            None => {
                return Err(CliError::usage(
                    "no default history path: neither XDG_DATA_HOME nor HOME is set; give --history PATH",
                ))
            }
        },
    };
    Ok(base.join("greenapi-settings").join("history.sqlite3"))
}

fn id_sql(id: u64) -> Result<i64, CliError> {
    i64::try_from(id).map_err(|_| CliError::usage("an instance id above 2^63 cannot be recorded"))
}

impl History {
    /// [`default_path`].
    pub fn default_path() -> Result<PathBuf, CliError> {
        default_path()
    }

    /// Opens the history at `path` for writing, creating it (directory 0700, file 0600, key
    /// file 0600 beside it) and migrating its schema if need be. Refuses a file that is not a
    /// history, one from a newer version, and one another `watch` is writing.
    pub fn open(path: &Path) -> Result<History, CliError> {
        let conn = schema::open_for_writing(path)?;
        let key = KeyFile::open(path)?;
        let open = load_open(&conn).map_err(|e| db_error(path, e))?;
        Ok(History {
            conn,
            path: path.to_owned(),
            key,
            open,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The open state of `instance` (drifts not yet resolved, an outage not yet over).
    pub fn open_state(&self, instance: u64) -> Option<&OpenState> {
        self.open.get(&instance)
    }

    fn err(&self, e: rusqlite::Error) -> CliError {
        db_error(&self.path, e)
    }

    /// Records the start of a cycle.
    pub fn start_cycle(&mut self, started: SystemTime) -> Result<CycleId, CliError> {
        self.conn
            .execute(
                "INSERT INTO cycles (started_ms) VALUES (?1)",
                params![ms(started)],
            )
            .map_err(|e| self.err(e))?;
        Ok(CycleId(self.conn.last_insert_rowid()))
    }

    /// Records one instance's part of a cycle, in one transaction. Writes only what changed
    /// against the open state: nothing for an instance that stays in sync, stays drifted the
    /// same way, or stays unreachable with the same error kind.
    pub fn record(&mut self, cycle: CycleId, r: &InstanceRecord) -> Result<(), CliError> {
        let instance = id_sql(r.id)?;
        let empty = OpenState::default();
        let before = self.open.get(&r.id).unwrap_or(&empty);
        let key = &self.key;
        let (new, after) = events::apply(before, r, |field, value, secret| {
            // An empty value is not a secret: it shows that none is set.
            if secret && value.as_str() != Some("") {
                key.hash(r.id, field, value)
            } else {
                value.to_string()
            }
        });
        if new.is_empty() && after == *before {
            return Ok(());
        }
        match self.write(cycle, instance, r, &new, before, &after) {
            // A replay: the database (and so the mirror) already holds its effect.
            Ok(false) => Ok(()),
            Ok(true) => {
                if after.is_empty() {
                    self.open.remove(&r.id);
                } else {
                    self.open.insert(r.id, after);
                }
                Ok(())
            }
            Err(e) => Err(self.err(e)),
        }
    }

    fn write(
        &self,
        cycle: CycleId,
        instance: i64,
        r: &InstanceRecord,
        new: &[NewEvent],
        before: &OpenState,
        after: &OpenState,
    ) -> rusqlite::Result<bool> {
        let tx = self.conn.unchecked_transaction()?;
        // A replay of a record already committed (the same instance read at the same
        // millisecond: a loop restarted after kill -9 re-recording its last records) is
        // skipped. Every record that adds events adds one at its own read time.
        let at = ms(r.at);
        let replay: bool = tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM events WHERE instance = ?1 AND record_ms = ?2)",
            )?
            .query_row(params![instance, at], |row| row.get(0))?;
        if replay {
            return Ok(false);
        }
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO events (cycle, instance, at_ms, kind, field, desired, observed,
                    first_seen_ms, duration_ms, outcome, error_kind, fields, still_wrong, resends,
                    message, record_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
            )?;
            for e in new {
                insert.execute(params![
                    cycle.0,
                    instance,
                    e.at_ms,
                    e.kind,
                    e.field,
                    e.desired,
                    e.observed,
                    e.first_seen_ms,
                    e.duration_ms,
                    e.outcome,
                    e.error_kind,
                    e.fields,
                    e.still_wrong,
                    e.resends,
                    e.message,
                    at
                ])?;
            }
        }
        for gone in before
            .drifts
            .iter()
            .filter(|b| !after.drifts.iter().any(|a| a.field == b.field))
        {
            tx.prepare_cached("DELETE FROM open_drifts WHERE instance = ?1 AND field = ?2")?
                .execute(params![instance, gone.field])?;
        }
        for d in after.drifts.iter().filter(|a| !before.drifts.contains(a)) {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO open_drifts (instance, field, desired, observed, first_seen_ms,
                    repair_sent_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                instance,
                d.field,
                d.desired,
                d.observed,
                d.first_seen_ms,
                d.repair_sent_ms
            ])?;
        }
        if before.unreachable != after.unreachable {
            match &after.unreachable {
                Some((kind, since)) => tx
                    .prepare_cached(
                        "INSERT OR REPLACE INTO unreachable (instance, error_kind, since_ms) VALUES (?1, ?2, ?3)",
                    )?
                    .execute(params![instance, kind, since])?,
                None => tx
                    .prepare_cached("DELETE FROM unreachable WHERE instance = ?1")?
                    .execute(params![instance])?,
            };
        }
        tx.commit()?;
        Ok(true)
    }

    /// Records how a cycle ended.
    pub fn finish_cycle(&mut self, cycle: CycleId, s: &CycleSummary) -> Result<(), CliError> {
        let n = |v: usize| i64::try_from(v).unwrap_or(i64::MAX);
        self.conn
            .execute(
                "UPDATE cycles SET finished_ms = ?2, instances = ?3, in_sync = ?4, drifted = ?5,
                    unreachable = ?6, parked = ?7, repaired = ?8, interrupted = ?9
                 WHERE id = ?1",
                params![
                    cycle.0,
                    ms(s.finished.unwrap_or_else(SystemTime::now)),
                    n(s.instances),
                    n(s.in_sync),
                    n(s.drifted),
                    n(s.unreachable),
                    n(s.parked),
                    n(s.repaired),
                    s.interrupted
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Closes what is open (drifts, an outage) for the instances not in `watched`: they left
    /// the instances file, so nothing will ever read them right again. Each open drift gets a
    /// `driftResolved` event with the outcome `instanceRemoved`, each outage a `reachable`
    /// event with the same outcome, in one transaction; returns how many instances were
    /// closed.
    pub fn forget_others(
        &mut self,
        cycle: CycleId,
        watched: &std::collections::BTreeSet<u64>,
        now: SystemTime,
    ) -> Result<usize, CliError> {
        let mut gone: Vec<u64> = self
            .open
            .keys()
            .filter(|id| !watched.contains(id))
            .copied()
            .collect();
        if gone.is_empty() {
            return Ok(0);
        }
        gone.sort_unstable();
        let at = ms(now);
        let result = (|| -> rusqlite::Result<()> {
            let tx = self.conn.unchecked_transaction()?;
            for id in &gone {
                let instance = id_sql(*id).map_err(|_| rusqlite::Error::InvalidQuery)?;
                let state = &self.open[id];
                let mut insert = tx.prepare_cached(
                    "INSERT INTO events (cycle, instance, at_ms, kind, field, first_seen_ms,
                        duration_ms, outcome, error_kind, record_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?3)",
                )?;
                for d in &state.drifts {
                    insert.execute(params![
                        cycle.0,
                        instance,
                        at,
                        events::kind::DRIFT_RESOLVED,
                        d.field,
                        d.first_seen_ms,
                        (at - d.first_seen_ms).max(0),
                        REMOVED,
                        Option::<String>::None
                    ])?;
                }
                if let Some((kind, since)) = &state.unreachable {
                    insert.execute(params![
                        cycle.0,
                        instance,
                        at,
                        events::kind::REACHABLE,
                        Option::<String>::None,
                        Option::<i64>::None,
                        (at - since).max(0),
                        REMOVED,
                        kind
                    ])?;
                }
                tx.execute(
                    "DELETE FROM open_drifts WHERE instance = ?1",
                    params![instance],
                )?;
                tx.execute(
                    "DELETE FROM unreachable WHERE instance = ?1",
                    params![instance],
                )?;
            }
            tx.commit()
        })();
        result.map_err(|e| self.err(e))?;
        for id in &gone {
            self.open.remove(id);
        }
        Ok(gone.len())
    }

    /// Deletes events and cycles older than `keep` before `now` (`--keep`), in one
    /// transaction, and gives the freed pages back to the file system; returns the number of
    /// events deleted. What is still open (drifts, outages) is kept whatever its age: it is
    /// the current state, not history.
    pub fn prune(&mut self, keep: Duration, now: SystemTime) -> Result<u64, CliError> {
        let cutoff = ms(now.checked_sub(keep).unwrap_or(SystemTime::UNIX_EPOCH));
        let deleted = (|| -> rusqlite::Result<usize> {
            let tx = self.conn.unchecked_transaction()?;
            let n = tx.execute("DELETE FROM events WHERE at_ms < ?1", params![cutoff])?;
            tx.execute("DELETE FROM cycles WHERE started_ms < ?1", params![cutoff])?;
            tx.commit()?;
            self.conn.execute_batch("PRAGMA incremental_vacuum")?;
            Ok(n)
        })()
        .map_err(|e| self.err(e))?;
        Ok(deleted as u64)
    }
}

/// The open state of every instance with something open.
fn load_open(conn: &Connection) -> rusqlite::Result<HashMap<u64, OpenState>> {
    let mut open: HashMap<u64, OpenState> = HashMap::new();
    let mut st = conn.prepare(
        "SELECT instance, field, desired, observed, first_seen_ms, repair_sent_ms FROM open_drifts
         ORDER BY instance, field",
    )?;
    let rows = st.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            OpenDrift {
                field: r.get(1)?,
                desired: r.get(2)?,
                observed: r.get(3)?,
                first_seen_ms: r.get(4)?,
                repair_sent_ms: r.get(5)?,
            },
        ))
    })?;
    for row in rows {
        let (id, d) = row?;
        open.entry(id as u64).or_default().drifts.push(d);
    }
    let mut st = conn.prepare("SELECT instance, error_kind, since_ms FROM unreachable")?;
    let rows = st.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    for row in rows {
        let (id, kind, since) = row?;
        open.entry(id as u64).or_default().unreachable = Some((kind, since));
    }
    Ok(open)
}
