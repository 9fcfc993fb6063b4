//! The history database's file: how it is opened (for writing by `watch`, read-only by
//! `history`), recognised as ours, and brought to the current schema.
//!
//! A history is an SQLite file whose header carries our `application_id` and whose
//! `user_version` is the schema version: the number of [`MIGRATIONS`] applied. Migrations
//! run in one transaction (all or none); a file from a newer version is refused, never
//! "downgraded", and a file that is not an SQLite database, or is another program's, is
//! refused without being touched.

use std::path::Path;

use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::exit::CliError;

/// `PRAGMA application_id` of a history database ("GAPS": GREEN-API settings).
pub const APPLICATION_ID: i32 = 0x4741_5053;

/// How long a statement waits for another connection's lock (a `history` reader during a
/// checkpoint) before failing.
pub const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The schema, one step per version: version N is the first N steps applied.
pub const MIGRATIONS: &[&str] = &[
    // 1: cycles, events, and the open state that makes recording idempotent.
    "CREATE TABLE cycles (
        id INTEGER PRIMARY KEY,
        started_ms INTEGER NOT NULL,
        finished_ms INTEGER,
        instances INTEGER,
        in_sync INTEGER,
        drifted INTEGER,
        unreachable INTEGER,
        parked INTEGER,
        repaired INTEGER,
        interrupted INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX cycles_started ON cycles (started_ms);
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        cycle INTEGER NOT NULL,
        instance INTEGER NOT NULL,
        at_ms INTEGER NOT NULL,
        kind TEXT NOT NULL,
        field TEXT,
        desired TEXT,
        observed TEXT,
        first_seen_ms INTEGER,
        duration_ms INTEGER,
        outcome TEXT,
        error_kind TEXT,
        fields TEXT,
        still_wrong TEXT,
        resends INTEGER,
        message TEXT
    );
    CREATE INDEX events_instance_at ON events (instance, at_ms);
    CREATE INDEX events_at ON events (at_ms);
    CREATE TABLE open_drifts (
        instance INTEGER NOT NULL,
        field TEXT NOT NULL,
        desired TEXT NOT NULL,
        observed TEXT NOT NULL,
        first_seen_ms INTEGER NOT NULL,
        repair_sent_ms INTEGER,
        PRIMARY KEY (instance, field)
    ) WITHOUT ROWID;
    CREATE TABLE unreachable (
        instance INTEGER PRIMARY KEY,
        error_kind TEXT NOT NULL,
        since_ms INTEGER NOT NULL
    );",
    // 2: the read time of the record each event came from, the key that tells a replayed
    // record from a new one (an event's own time may be later: a repair's outcome is at its
    // end, which may fall on the millisecond of the instance's next read).
    "ALTER TABLE events ADD COLUMN record_ms INTEGER;
    UPDATE events SET record_ms = at_ms;
    CREATE INDEX events_instance_record ON events (instance, record_ms);",
];

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

fn shown(path: &Path) -> String {
    crate::terminal::text(&path.display().to_string()).into_owned()
}

/// An error of the database at `path`, as the CLI reports it.
pub fn db_error(path: &Path, e: rusqlite::Error) -> CliError {
    if e.sqlite_error_code() == Some(ErrorCode::NotADatabase) {
        return not_ours(path, "it is not an SQLite database");
    }
    CliError::failed(format!("history {}: {e}", shown(path)))
}

fn not_ours(path: &Path, why: &str) -> CliError {
    CliError::usage(format!(
        "{} is not a greenapi-settings history: {why}; nothing was changed (give another --history path)",
        shown(path)
    ))
}

/// What the header of an existing file says.
enum Identity {
    /// An empty database (a new or zero-length file).
    Empty,
    /// Ours, at this schema version.
    Ours(i64),
}

fn identity(conn: &Connection, path: &Path) -> Result<Identity, CliError> {
    let err = |e| db_error(path, e);
    let app: i32 = conn
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .map_err(err)?;
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(err)?;
    if app == APPLICATION_ID {
        if version > SCHEMA_VERSION {
            return Err(CliError::usage(format!(
                "history {} has schema version {version}, written by a newer greenapi-settings (this one knows up to {SCHEMA_VERSION}); upgrade greenapi-settings or use another --history path. Nothing was changed",
                shown(path)
            )));
        }
        return Ok(Identity::Ours(version));
    }
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
        .map_err(err)?;
    if app == 0 && version == 0 && tables == 0 {
        Ok(Identity::Empty)
    } else {
        Err(not_ours(
            path,
            "it is an SQLite database of another program",
        ))
    }
}

/// Opens (creating it if need be) the history at `path` for writing: WAL, synchronous
/// NORMAL, a busy timeout, the schema migrated to [`SCHEMA_VERSION`].
///
/// `synchronous = NORMAL` in WAL mode: a commit is in the WAL file (the OS has it) when it
/// returns, so a killed process (kill -9, OOM, panic) loses nothing committed; only a power
/// loss or kernel crash may lose the last commits, and never corrupts the database. FULL
/// would add an fsync to every commit, one per drifted instance, for protection a drift
/// history does not need (the next cycle observes the state again).
pub fn open_for_writing(path: &Path) -> Result<Connection, CliError> {
    create_file(path)?;
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| db_error(path, e))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| db_error(path, e))?;
    let err = |e| db_error(path, e);
    let identity = identity(&conn, path)?;
    if let Identity::Empty = identity {
        // Only before the first table: lets `prune` give freed pages back to the system.
        conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")
            .map_err(err)?;
    }
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .map_err(err)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(CliError::failed(format!(
            "history {}: cannot use write-ahead logging (journal mode stays {mode}); put the history on a local file system",
            shown(path)
        )));
    }
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(err)?;
    migrate(conn, path)
}

/// Applies the missing migrations in one transaction, re-reading the version inside it (a
/// second process may have migrated meanwhile).
fn migrate(mut conn: Connection, path: &Path) -> Result<Connection, CliError> {
    let err = |e| db_error(path, e);
    {
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(err)?;
        let version = match identity(&tx, path)? {
            Identity::Empty => 0,
            Identity::Ours(v) => v,
        };
        if version < SCHEMA_VERSION {
            for step in &MIGRATIONS[version as usize..] {
                tx.execute_batch(step).map_err(err)?;
            }
            tx.pragma_update(None, "application_id", APPLICATION_ID)
                .map_err(err)?;
            tx.pragma_update(None, "user_version", SCHEMA_VERSION)
                .map_err(err)?;
        }
        tx.commit().map_err(err)?;
    }
    Ok(conn)
}

/// Opens an existing history read-only: nothing is created or migrated. A missing file, a
/// file that is not ours, and a schema other than this build's are errors (exit 2).
pub fn open_read_only(path: &Path) -> Result<Connection, CliError> {
    if !path.exists() {
        return Err(CliError::usage(format!(
            "no history at {}: `watch --history {}` records one (or give the path of an existing one with --history)",
            shown(path),
            shown(path)
        )));
    }
    let read_only = || -> rusqlite::Result<Connection> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // Reads the header: fails here, not at the first query, if the WAL needs recovery.
        conn.pragma_query_value(None, "application_id", |r| r.get::<_, i32>(0))?;
        Ok(conn)
    };
    let conn = match read_only() {
        Ok(c) => c,
        // A writer killed with its WAL not checkpointed: the WAL's index must be rebuilt
        // (SQLITE_READONLY_RECOVERY), which a read-only connection cannot do.
        Err(e) if e.sqlite_error_code() == Some(ErrorCode::ReadOnly) => {
            recovering(path).map_err(|_| db_error(path, e))?
        }
        Err(e) => return Err(db_error(path, e)),
    };
    match identity(&conn, path)? {
        Identity::Ours(v) if v == SCHEMA_VERSION => Ok(conn),
        Identity::Ours(v) => Err(CliError::usage(format!(
            "history {} has schema version {v}; this greenapi-settings reads {SCHEMA_VERSION} (the next `watch` on it migrates it)",
            shown(path)
        ))),
        Identity::Empty => Err(not_ours(path, "it is empty")),
    }
}

/// A connection that may rebuild the WAL's index (in the `-shm` file that the killed writer
/// left) but adds nothing: the file must exist (no CREATE), `query_only` refuses every
/// write, and closing it does not checkpoint the WAL into the database. SQLite may still
/// finish what the killed writer was doing when it died on close (switching the file from
/// WAL back to rollback mode copies the WAL it had committed into the file): the data stays
/// what the writer committed.
fn recovering(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
        true,
    )?;
    conn.pragma_update(None, "query_only", true)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(conn)
}

/// Creates the directory (0700) and the file (0600) if missing, so the database, its WAL
/// and its shared-memory file (SQLite gives them the database's mode) are the owner's only.
fn create_file(path: &Path) -> Result<(), CliError> {
    let io_err = |what: &str, e: std::io::Error| {
        CliError::failed(format!("history {}: cannot {what}: {e}", shown(path)))
    };
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            b.mode(0o700);
        }
        b.create(dir)
            .map_err(|e| io_err("create its directory", e))?;
    }
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    match o.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io_err("create it", e)),
    }
}
