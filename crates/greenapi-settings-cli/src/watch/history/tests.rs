//! Unit tests of the history: the file (creation, modes, migrations, refusals), the events
//! (one per drift, idempotent across cycles, restarts and replays), secrets, pruning.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use greenapi_settings::reconcile::Drift;
use serde_json::{json, Value};

use super::events::kind;
use super::query::{Filter, HistoryReader};
use super::*;
use crate::exit::Exit;
use crate::watch::record::{InstanceState, RepairRecord, RepairStage};

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("gs-history-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn t(s: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000 + s)
}

fn drift(field: &'static str, observed: Value, desired: Value) -> Drift {
    Drift::from(&greenapi_settings::Change {
        field,
        current: observed,
        desired,
        secret: field == "webhookUrlToken",
    })
}

fn rec(id: u64, at: u64, state: InstanceState, drifts: Vec<Drift>) -> InstanceRecord {
    InstanceRecord {
        id,
        at: t(at),
        state,
        drifts,
        error_kind: None,
        error: None,
        repair: None,
    }
}

fn in_sync(id: u64, at: u64) -> InstanceRecord {
    rec(id, at, InstanceState::InSync, vec![])
}

fn drifted(id: u64, at: u64, observed: &str) -> InstanceRecord {
    rec(
        id,
        at,
        InstanceState::Drifted,
        vec![drift("incomingWebhook", json!(observed), json!("yes"))],
    )
}

fn unreachable(id: u64, at: u64, kind: &'static str) -> InstanceRecord {
    InstanceRecord {
        error_kind: Some(kind),
        error: Some(format!("{kind} happened")),
        ..rec(id, at, InstanceState::Unreachable, vec![])
    }
}

fn repaired(id: u64, at: u64, outcome: &'static str, took_ms: u64) -> InstanceRecord {
    InstanceRecord {
        repair: Some(RepairRecord {
            stage: Default::default(),
            fields: vec!["incomingWebhook"],
            outcome,
            resends: 1,
            took: Duration::from_millis(took_ms),
            still_wrong: if outcome == "notConverged" {
                vec![drift("incomingWebhook", json!("no"), json!("yes"))]
            } else {
                vec![]
            },
            error_kind: (outcome == "failed").then_some("server"),
        }),
        state: if outcome == "converged" {
            InstanceState::InSync
        } else {
            InstanceState::Drifted
        },
        ..drifted(id, at, "no")
    }
}

/// Events of the history at `path`, as (instance, kind, field, outcome).
fn kinds(path: &Path) -> Vec<(u64, String, Option<String>, Option<String>)> {
    HistoryReader::open(path)
        .unwrap()
        .events(&Filter::default())
        .unwrap()
        .into_iter()
        .map(|e| (e.instance, e.kind, e.field, e.outcome))
        .collect()
}

fn events_of(path: &Path) -> Vec<super::query::Event> {
    HistoryReader::open(path)
        .unwrap()
        .events(&Filter::default())
        .unwrap()
}

#[cfg(unix)]
#[test]
fn a_new_history_is_0600_in_a_0700_directory_with_wal_and_the_current_schema() {
    use std::os::unix::fs::PermissionsExt;
    let d = scratch("new");
    let path = d.join("sub/dir/history.sqlite3");
    let h = History::open(&path).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&d.join("sub/dir")), 0o700);
    assert_eq!(mode(&d.join("sub")), 0o700);
    assert_eq!(mode(&secret::key_path(&path)), 0o600);
    let q = |p: &str| -> String {
        h.conn
            .pragma_query_value(None, p, |r| r.get::<_, rusqlite::types::Value>(0))
            .map(|v| format!("{v:?}"))
            .unwrap()
    };
    assert_eq!(q("journal_mode"), "Text(\"wal\")");
    assert_eq!(q("synchronous"), "Integer(1)"); // NORMAL
    assert_eq!(
        q("user_version"),
        format!("Integer({})", schema::SCHEMA_VERSION)
    );
    assert_eq!(
        q("application_id"),
        format!("Integer({})", schema::APPLICATION_ID)
    );
    assert_eq!(q("auto_vacuum"), "Integer(2)"); // INCREMENTAL
}

#[test]
fn an_empty_file_is_migrated_and_reopening_changes_nothing() {
    let d = scratch("empty");
    let path = d.join("h.sqlite3");
    std::fs::write(&path, b"").unwrap();
    {
        let mut h = History::open(&path).unwrap();
        let c = h.start_cycle(t(0)).unwrap();
        h.record(c, &drifted(1, 0, "no")).unwrap();
    }
    let h = History::open(&path).unwrap();
    let v: i64 = h
        .conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(v, schema::SCHEMA_VERSION);
    assert_eq!(h.open_state(1).unwrap().drifts.len(), 1);
    assert_eq!(kinds(&path).len(), 1);
}

#[test]
fn a_history_from_a_newer_version_is_refused_and_left_untouched() {
    let d = scratch("newer");
    let path = d.join("h.sqlite3");
    drop(History::open(&path).unwrap());
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.pragma_update(None, "user_version", schema::SCHEMA_VERSION + 1)
            .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let e = History::open(&path).unwrap_err();
    assert_eq!(e.exit, Exit::Usage);
    assert!(
        e.message.contains("newer greenapi-settings"),
        "{}",
        e.message
    );
    assert!(e
        .message
        .contains(&format!("version {}", schema::SCHEMA_VERSION + 1)));
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let e = HistoryReader::open(&path).unwrap_err();
    assert!(
        e.message.contains("newer greenapi-settings"),
        "{}",
        e.message
    );
}

#[test]
fn a_file_that_is_not_a_history_is_refused_and_left_untouched() {
    let d = scratch("notours");
    let text = d.join("notes.txt");
    let content = "this is a text file, not a database\n".repeat(40);
    std::fs::write(&text, &content).unwrap();
    for e in [
        History::open(&text).unwrap_err(),
        HistoryReader::open(&text).unwrap_err(),
    ] {
        assert_eq!(e.exit, Exit::Usage);
        assert!(
            e.message
                .contains("is not a greenapi-settings history: it is not an SQLite database"),
            "{}",
            e.message
        );
    }
    assert_eq!(std::fs::read_to_string(&text).unwrap(), content);
    let other = d.join("other.db");
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    let before = std::fs::read(&other).unwrap();
    let e = History::open(&other).unwrap_err();
    assert!(e.message.contains("another program"), "{}", e.message);
    assert_eq!(std::fs::read(&other).unwrap(), before);
}

#[test]
fn a_persisting_drift_is_one_event_with_its_first_seen_time() {
    let d = scratch("persist");
    let path = d.join("h.sqlite3");
    let mut h = History::open(&path).unwrap();
    for cycle in 0..5 {
        let c = h.start_cycle(t(cycle * 60)).unwrap();
        h.record(c, &drifted(7, cycle * 60, "no")).unwrap();
    }
    // The value read changes: one event, first seen kept.
    let c = h.start_cycle(t(300)).unwrap();
    h.record(c, &drifted(7, 300, "maybe")).unwrap();
    h.record(c, &drifted(7, 360, "maybe")).unwrap();
    // It reads right by itself.
    h.record(c, &in_sync(7, 420)).unwrap();
    h.record(c, &in_sync(7, 480)).unwrap();
    let ev = events_of(&path);
    let k: Vec<&str> = ev.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        k,
        [
            kind::DRIFT_DETECTED,
            kind::DRIFT_CHANGED,
            kind::DRIFT_RESOLVED
        ]
    );
    let first = super::events::ms(t(0));
    assert_eq!(ev[0].first_seen_ms, Some(first));
    assert_eq!(ev[0].observed, Some(json!("no")));
    assert_eq!(ev[0].desired, Some(json!("yes")));
    assert_eq!(ev[1].first_seen_ms, Some(first));
    assert_eq!(ev[1].observed, Some(json!("maybe")));
    assert_eq!(ev[2].outcome.as_deref(), Some("itself"));
    assert_eq!(ev[2].duration_ms, Some(420_000));
    assert!(h.open_state(7).is_none());
}

#[test]
fn an_in_sync_or_unchanged_instance_costs_no_write() {
    let d = scratch("nowrite");
    let path = d.join("h.sqlite3");
    let mut h = History::open(&path).unwrap();
    let c = h.start_cycle(t(0)).unwrap();
    h.record(c, &drifted(1, 0, "no")).unwrap();
    h.record(c, &unreachable(2, 0, "timeout")).unwrap();
    let before = h.conn.total_changes();
    for i in 0..1000 {
        h.record(c, &in_sync(100 + i, 1)).unwrap();
        h.record(c, &drifted(1, 1 + i, "no")).unwrap();
        h.record(c, &unreachable(2, 1 + i, "timeout")).unwrap();
        h.record(
            c,
            &InstanceRecord {
                error_kind: Some("auth"),
                ..rec(3, 1 + i, InstanceState::Parked, vec![])
            },
        )
        .unwrap();
    }
    assert_eq!(h.conn.total_changes(), before);
}

#[test]
fn observing_the_same_state_after_a_restart_adds_no_event() {
    let d = scratch("restart");
    let path = d.join("h.sqlite3");
    {
        let mut h = History::open(&path).unwrap();
        let c = h.start_cycle(t(0)).unwrap();
        h.record(c, &drifted(1, 0, "no")).unwrap();
        h.record(c, &unreachable(2, 0, "timeout")).unwrap();
        h.record(c, &repaired(3, 0, "notConverged", 5000)).unwrap();
    }
    let n = events_of(&path).len();
    let mut h = History::open(&path).unwrap();
    let c = h.start_cycle(t(600)).unwrap();
    h.record(c, &drifted(1, 600, "no")).unwrap();
    h.record(c, &unreachable(2, 600, "timeout")).unwrap();
    h.record(c, &drifted(3, 600, "no")).unwrap();
    assert_eq!(events_of(&path).len(), n);
}

#[test]
fn replaying_a_committed_record_with_a_repair_adds_nothing() {
    let d = scratch("replay");
    let path = d.join("h.sqlite3");
    let r = repaired(4, 10, "converged", 1500);
    {
        let mut h = History::open(&path).unwrap();
        let c = h.start_cycle(t(0)).unwrap();
        h.record(c, &r).unwrap();
    }
    let before = kinds(&path);
    assert_eq!(
        before.iter().map(|k| k.1.as_str()).collect::<Vec<_>>(),
        [
            kind::DRIFT_DETECTED,
            kind::REPAIR_SENT,
            kind::REPAIR_OUTCOME,
            kind::DRIFT_RESOLVED
        ]
    );
    let mut h = History::open(&path).unwrap();
    let c = h.start_cycle(t(0)).unwrap();
    h.record(c, &r).unwrap();
    assert_eq!(kinds(&path), before);
}

#[test]
fn a_repair_resolves_the_fields_it_fixed_and_records_how_long_it_took() {
    let d = scratch("repair");
    let path = d.join("h.sqlite3");
    let mut h = History::open(&path).unwrap();
    let c = h.start_cycle(t(0)).unwrap();
    h.record(c, &repaired(1, 0, "converged", 2500)).unwrap();
    h.record(c, &repaired(2, 0, "notConverged", 300_000))
        .unwrap();
    h.record(c, &repaired(3, 0, "failed", 100)).unwrap();
    let ev = events_of(&path);
    let resolved: Vec<_> = ev
        .iter()
        .filter(|e| e.kind == kind::DRIFT_RESOLVED)
        .collect();
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0].instance, 1);
    assert_eq!(resolved[0].outcome.as_deref(), Some("repaired"));
    assert_eq!(resolved[0].duration_ms, Some(2500));
    let outcome = |i: u64| {
        ev.iter()
            .find(|e| e.instance == i && e.kind == kind::REPAIR_OUTCOME)
            .unwrap()
    };
    assert_eq!(outcome(1).duration_ms, Some(2500));
    assert_eq!(outcome(2).still_wrong, ["incomingWebhook"]);
    assert_eq!(outcome(3).error_kind.as_deref(), Some("server"));
    assert!(h.open_state(1).is_none());
    assert_eq!(h.open_state(2).unwrap().drifts.len(), 1);
    assert_eq!(h.open_state(3).unwrap().drifts.len(), 1);
    let report = HistoryReader::open(&path)
        .unwrap()
        .report(&Filter::default())
        .unwrap();
    assert_eq!(report.repairs.len(), 3);
    assert_eq!(report.repairs[0].median_converge_ms, Some(2500));
    assert_eq!(report.settings[0].drifts, 3);
    assert_eq!(report.settings[0].open_now, 2);
}

#[test]
fn a_field_a_repair_sent_that_reads_right_later_was_resolved_by_the_repair() {
    let d = scratch("late");
    let path = d.join("h.sqlite3");
    let mut h = History::open(&path).unwrap();
    let c = h.start_cycle(t(0)).unwrap();
    h.record(c, &repaired(1, 0, "interrupted", 100)).unwrap();
    h.record(c, &drifted(2, 0, "no")).unwrap();
    drop(h);
    // Across a restart too.
    let mut h = History::open(&path).unwrap();
    let c = h.start_cycle(t(60)).unwrap();
    h.record(c, &in_sync(1, 60)).unwrap();
    h.record(c, &in_sync(2, 60)).unwrap();
    let how: Vec<(u64, Option<String>)> = events_of(&path)
        .into_iter()
        .filter(|e| e.kind == kind::DRIFT_RESOLVED)
        .map(|e| (e.instance, e.outcome))
        .collect();
    assert_eq!(
        how,
        [(1, Some("repaired".into())), (2, Some("itself".into()))]
    );
}

#[test]
fn an_outage_is_recorded_when_it_starts_or_changes_kind_not_every_cycle() {
    let d = scratch("outage");
    let path = d.join("h.sqlite3");
    let mut h = History::open(&path).unwrap();
    let c = h.start_cycle(t(0)).unwrap();
    for s in 0..3 {
        h.record(c, &unreachable(9, s, "timeout")).unwrap();
    }
    h.record(c, &unreachable(9, 3, "server")).unwrap();
    h.record(c, &unreachable(9, 4, "server")).unwrap();
    h.record(c, &in_sync(9, 10)).unwrap();
    h.record(c, &in_sync(9, 11)).unwrap();
    let ev = events_of(&path);
    let k: Vec<(&str, Option<&str>)> = ev
        .iter()
        .map(|e| (e.kind.as_str(), e.error_kind.as_deref()))
        .collect();
    assert_eq!(
        k,
        [
            (kind::UNREACHABLE, Some("timeout")),
            (kind::UNREACHABLE, Some("server")),
            (kind::REACHABLE, Some("server"))
        ]
    );
    // The outage lasted from its start, whatever its kinds.
    assert_eq!(ev[2].duration_ms, Some(10_000));
    assert_eq!(ev[0].message.as_deref(), Some("timeout happened"));
}

#[test]
fn webhook_token_values_are_in_neither_the_database_nor_its_wal() {
    let d = scratch("secret");
    let path = d.join("h.sqlite3");
    let token = |n: u32| json!(format!("SEKRIT-webhook-token-{n}-0123456789"));
    let secret_rec = |at: u64, observed: Value| {
        rec(
            5,
            at,
            InstanceState::Drifted,
            vec![drift("webhookUrlToken", observed, token(1))],
        )
    };
    let mut h = History::open(&path).unwrap();
    let c = h.start_cycle(t(0)).unwrap();
    h.record(c, &secret_rec(0, token(2))).unwrap();
    // The same values: no event; another value: one, telling "changed" without showing it.
    h.record(c, &secret_rec(1, token(2))).unwrap();
    h.record(c, &secret_rec(2, token(3))).unwrap();
    let ev = events_of(&path);
    assert_eq!(ev.len(), 2, "{ev:?}");
    assert_eq!(ev[1].kind, kind::DRIFT_CHANGED);
    assert_eq!(ev[0].observed, Some(json!("<redacted>")));
    let mut files = vec![path.clone(), d.join("h.sqlite3-wal")];
    assert!(
        files[1].exists(),
        "the WAL is there while the writer is open"
    );
    files.push(d.join("h.sqlite3-shm"));
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        let found = bytes.windows(6).any(|w| w == b"SEKRIT");
        assert!(!found, "{} holds the token", f.display());
    }
    drop(h);
    let bytes = std::fs::read(&path).unwrap();
    assert!(!bytes.windows(6).any(|w| w == b"SEKRIT"));
    // The key is not in the database.
    let key = std::fs::read(secret::key_path(&path)).unwrap();
    assert!(!bytes.windows(key.len()).any(|w| w == key));
}

#[test]
fn prune_deletes_old_events_and_cycles_but_keeps_what_is_open() {
    let d = scratch("prune");
    let path = d.join("h.sqlite3");
    let mut h = History::open(&path).unwrap();
    let c0 = h.start_cycle(t(0)).unwrap();
    h.record(c0, &drifted(1, 0, "no")).unwrap();
    h.record(c0, &drifted(2, 0, "no")).unwrap();
    h.finish_cycle(c0, &CycleSummary::default()).unwrap();
    let c1 = h.start_cycle(t(7200)).unwrap();
    h.record(c1, &in_sync(2, 7200)).unwrap();
    h.finish_cycle(c1, &CycleSummary::default()).unwrap();
    let n = h.prune(Duration::from_secs(3600), t(7300)).unwrap();
    assert_eq!(n, 2);
    let ev = events_of(&path);
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].kind, kind::DRIFT_RESOLVED);
    drop(h);
    let h = History::open(&path).unwrap();
    // Instance 1's drift is still open, with its first-seen time.
    assert_eq!(
        h.open_state(1).unwrap().drifts[0].first_seen_ms,
        super::events::ms(t(0))
    );
    let cycles = HistoryReader::open(&path).unwrap().cycles(None).unwrap();
    assert_eq!(cycles.count, 1);
}

#[test]
fn a_second_writer_is_refused_while_the_first_holds_the_history() {
    let d = scratch("lock");
    let path = d.join("h.sqlite3");
    let h = History::open(&path).unwrap();
    let e = History::open(&path).unwrap_err();
    assert_eq!(e.exit, Exit::Usage);
    assert!(
        e.message.contains("in use by another `watch`"),
        "{}",
        e.message
    );
    // Reading is not writing.
    HistoryReader::open(&path).unwrap();
    drop(h);
    History::open(&path).unwrap();
}

#[test]
fn reading_creates_nothing_and_a_missing_history_is_an_error_naming_it() {
    let d = scratch("readonly");
    let missing = d.join("nope/history.sqlite3");
    let e = HistoryReader::open(&missing).unwrap_err();
    assert_eq!(e.exit, Exit::Usage);
    assert!(e.message.contains("no history at"), "{}", e.message);
    assert!(e.message.contains("nope/history.sqlite3"), "{}", e.message);
    assert!(!d.join("nope").exists());
    let path = d.join("h.sqlite3");
    {
        let mut h = History::open(&path).unwrap();
        let c = h.start_cycle(t(0)).unwrap();
        h.record(c, &drifted(1, 0, "no")).unwrap();
    }
    let listing = || {
        let mut v: Vec<_> = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        v.sort();
        v
    };
    let before_files = listing();
    let before = std::fs::read(&path).unwrap();
    let r = HistoryReader::open(&path).unwrap();
    assert_eq!(r.events(&Filter::default()).unwrap().len(), 1);
    drop(r);
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(listing(), before_files);
}

/// Database growth per 1,000 drift events (printed for the record; not asserted beyond
/// sanity): each drift is detected, then resolved by a repair.
#[test]
fn database_growth_per_1000_drift_events_is_measured() {
    let d = scratch("growth");
    let path = d.join("h.sqlite3");
    let mut h = History::open(&path).unwrap();
    let size = |h: &History| -> i64 {
        h.conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .unwrap();
        std::fs::metadata(&path).unwrap().len() as i64
    };
    let start = size(&h);
    let c = h.start_cycle(t(0)).unwrap();
    for i in 0..1000u64 {
        h.record(c, &drifted(1_101_000_000 + i, 0, "no")).unwrap();
    }
    let detected = size(&h);
    for i in 0..1000u64 {
        h.record(c, &repaired(1_101_000_000 + i, 60, "converged", 2000))
            .unwrap();
    }
    let repaired_size = size(&h);
    eprintln!(
        "history growth: 1,000 drifts detected (+ open-drift rows): {} bytes; then 1,000 repairs (sent, outcome, resolved): {} bytes more; {:.0} bytes per event",
        detected - start,
        repaired_size - detected,
        (repaired_size - start) as f64 / 4000.0
    );
    assert!(repaired_size > detected && detected > start);
}

#[test]
fn a_read_on_the_millisecond_a_repair_ended_is_recorded_not_taken_for_a_replay() {
    let d = scratch("same-ms");
    let path = d.join("h.sqlite3");
    let mut h = History::open(&path).unwrap();
    let c = h.start_cycle(t(0)).unwrap();
    // The repair's outcome is stored at its end: 0 s + 2000 ms.
    h.record(c, &repaired(1, 0, "notConverged", 2000)).unwrap();
    let c = h.start_cycle(t(2)).unwrap();
    // The next read, at that very millisecond, finds the field right.
    h.record(c, &in_sync(1, 2)).unwrap();
    let resolved: Vec<_> = events_of(&path)
        .into_iter()
        .filter(|e| e.kind == kind::DRIFT_RESOLVED)
        .collect();
    assert_eq!(resolved.len(), 1, "{resolved:?}");
    assert!(h.open_state(1).is_none());
}

#[test]
fn a_repair_sent_and_cut_short_by_a_restart_is_in_the_history_and_resolves_by_the_repair() {
    let d = scratch("sent-then-crash");
    let path = d.join("h.sqlite3");
    let mut h = History::open(&path).unwrap();
    let c = h.start_cycle(t(0)).unwrap();
    h.record(c, &drifted(1, 0, "no")).unwrap();
    let mut sent = repaired(1, 1, "sent", 0);
    sent.state = InstanceState::Drifted;
    if let Some(r) = sent.repair.as_mut() {
        r.stage = RepairStage::Sent;
    }
    h.record(c, &sent).unwrap();
    // Killed before the outcome; the next run reads the field right.
    drop(h);
    let mut h = History::open(&path).unwrap();
    let c = h.start_cycle(t(60)).unwrap();
    h.record(c, &in_sync(1, 60)).unwrap();
    let ev = events_of(&path);
    let kinds: Vec<&str> = ev.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            kind::DRIFT_DETECTED,
            kind::REPAIR_SENT,
            kind::DRIFT_RESOLVED
        ]
    );
    assert_eq!(ev[2].outcome.as_deref(), Some("repaired"));
}

#[test]
fn a_repair_told_in_two_records_is_one_send_and_one_outcome() {
    let d = scratch("two-records");
    let path = d.join("h.sqlite3");
    let mut h = History::open(&path).unwrap();
    let c = h.start_cycle(t(0)).unwrap();
    h.record(c, &drifted(1, 0, "no")).unwrap();
    let mut sent = repaired(1, 1, "sent", 0);
    sent.state = InstanceState::Drifted;
    sent.repair.as_mut().unwrap().stage = RepairStage::Sent;
    h.record(c, &sent).unwrap();
    let mut done = repaired(1, 4, "converged", 3000);
    done.repair.as_mut().unwrap().stage = RepairStage::Finished;
    h.record(c, &done).unwrap();
    let ev = events_of(&path);
    let kinds: Vec<&str> = ev.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            kind::DRIFT_DETECTED,
            kind::REPAIR_SENT,
            kind::REPAIR_OUTCOME,
            kind::DRIFT_RESOLVED
        ]
    );
    // Sent at 1 s, known at 4 s; the drift lasted from 0 s to 4 s.
    let zero = ev[0].at_ms;
    assert_eq!(ev[1].at_ms - zero, 1000);
    assert_eq!((ev[2].at_ms - zero, ev[2].duration_ms), (4000, Some(3000)));
    assert_eq!(ev[3].duration_ms, Some(4000));
    assert!(h.open_state(1).is_none());
}

#[test]
fn a_history_too_large_to_read_at_once_is_a_clear_error_asking_to_narrow_it() {
    let d = scratch("cap");
    let path = d.join("h.sqlite3");
    let mut h = History::open(&path).unwrap();
    let c = h.start_cycle(t(0)).unwrap();
    for id in 1..=4 {
        h.record(c, &drifted(id, 0, "no")).unwrap();
    }
    drop(h);
    let reader = HistoryReader::open(&path).unwrap();
    assert_eq!(reader.count(&Filter::default()).unwrap(), 4);
    let e = reader.report_capped(&Filter::default(), 3).unwrap_err();
    assert_eq!(e.exit, Exit::Usage);
    assert!(
        e.message.starts_with("4 events match, more than the 3"),
        "{}",
        e.message
    );
    assert!(e.message.contains("--since"), "{}", e.message);
    let narrow = Filter {
        instance: Some(1),
        ..Filter::default()
    };
    assert_eq!(reader.report_capped(&narrow, 3).unwrap().events.len(), 1);
}

#[test]
fn an_instance_that_left_the_instances_file_has_nothing_open_any_more() {
    let d = scratch("forget");
    let path = d.join("h.sqlite3");
    let mut h = History::open(&path).unwrap();
    let c = h.start_cycle(t(0)).unwrap();
    h.record(c, &drifted(1, 0, "no")).unwrap();
    h.record(c, &drifted(2, 0, "no")).unwrap();
    h.record(c, &unreachable(3, 0, "transport")).unwrap();
    let c = h.start_cycle(t(60)).unwrap();
    let watched: std::collections::BTreeSet<u64> = [1].into();
    assert_eq!(h.forget_others(c, &watched, t(60)).unwrap(), 2);
    assert!(h.open_state(2).is_none() && h.open_state(3).is_none());
    assert!(h.open_state(1).is_some());
    // Again: nothing left to close.
    assert_eq!(h.forget_others(c, &watched, t(61)).unwrap(), 0);
    drop(h);
    let reader = HistoryReader::open(&path).unwrap();
    let (drifts, outages) = reader.open_now(&Filter::default()).unwrap();
    assert_eq!(drifts.iter().map(|d| d.instance).collect::<Vec<_>>(), [1]);
    assert!(outages.is_empty(), "{outages:?}");
    let closed: Vec<(u64, String, Option<String>)> = events_of(&path)
        .into_iter()
        .filter(|e| e.outcome.as_deref() == Some(REMOVED))
        .map(|e| (e.instance, e.kind, e.field))
        .collect();
    assert_eq!(
        closed,
        [
            (
                2,
                kind::DRIFT_RESOLVED.to_string(),
                Some("incomingWebhook".into())
            ),
            (3, kind::REACHABLE.to_string(), None)
        ]
    );
    // Reopened, the mirror agrees with the tables.
    let h = History::open(&path).unwrap();
    assert!(h.open_state(2).is_none() && h.open_state(3).is_none());
}
