//! The `watch` history: `greenapi-settings history` (text and `--json`) on databases filled
//! through the `History` API, and kill -9 at random moments of a writer (this test binary
//! re-invoked as the writer), after which the database opens, passes `PRAGMA
//! integrity_check`, holds no event twice, and ends up exactly as an uninterrupted run's.

#[path = "common/mod.rs"]
mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{bin, dir, run, s, Color};
use greenapi_settings::reconcile::Drift;
use greenapi_settings::Change;
use greenapi_settings_cli::watch::history::query::{Filter, HistoryReader};
use greenapi_settings_cli::watch::history::History;
use greenapi_settings_cli::watch::record::{
    CycleSummary, InstanceRecord, InstanceState, RepairRecord,
};
use serde_json::{json, Value};

const TOKEN: &str = "SEKRIT-webhook-token-6f1d0c";

fn drift(field: &'static str, observed: Value, desired: Value) -> Drift {
    Drift::from(&Change {
        field,
        current: observed,
        desired,
        secret: field == "webhookUrlToken",
    })
}

fn record(id: u64, at: SystemTime, state: InstanceState, drifts: Vec<Drift>) -> InstanceRecord {
    InstanceRecord {
        id,
        at,
        state,
        drifts,
        error_kind: None,
        error: None,
        repair: None,
    }
}

fn repair(fields: Vec<&'static str>, outcome: &'static str, took_ms: u64) -> RepairRecord {
    RepairRecord {
        stage: Default::default(),
        fields,
        outcome,
        resends: 1,
        took: Duration::from_millis(took_ms),
        still_wrong: vec![],
        error_kind: None,
    }
}

/// A history of two cycles, an hour and a minute ago: instance 1 drifts on incomingWebhook
/// (repaired, 2.5 s) and on webhookUrlToken (left open); instance 2 drifts on incomingWebhook
/// and comes back by itself; instance 3 is unreachable (with a hostile message).
fn filled() -> PathBuf {
    let path = dir().join("history.sqlite3");
    let now = SystemTime::now();
    let hour_ago = now - Duration::from_secs(3600);
    let minute_ago = now - Duration::from_secs(60);
    let mut h = History::open(&path).unwrap();
    let c = h.start_cycle(hour_ago).unwrap();
    h.record(
        c,
        &InstanceRecord {
            repair: Some(repair(vec!["incomingWebhook"], "converged", 2500)),
            ..record(
                1,
                hour_ago,
                InstanceState::InSync,
                vec![drift("incomingWebhook", json!("no"), json!("yes"))],
            )
        },
    )
    .unwrap();
    h.record(
        c,
        &record(
            2,
            hour_ago,
            InstanceState::Drifted,
            vec![drift("incomingWebhook", json!("no"), json!("yes"))],
        ),
    )
    .unwrap();
    h.record(
        c,
        &InstanceRecord {
            error_kind: Some("server"),
            error: Some("bad gateway \x1b[2J here".into()),
            ..record(3, hour_ago, InstanceState::Unreachable, vec![])
        },
    )
    .unwrap();
    h.finish_cycle(
        c,
        &CycleSummary {
            started: Some(hour_ago),
            finished: Some(hour_ago + Duration::from_secs(5)),
            instances: 3,
            in_sync: 1,
            drifted: 1,
            unreachable: 1,
            repaired: 1,
            ..CycleSummary::default()
        },
    )
    .unwrap();
    let c = h.start_cycle(minute_ago).unwrap();
    h.record(
        c,
        &record(
            1,
            minute_ago,
            InstanceState::Drifted,
            vec![drift("webhookUrlToken", json!("other-value"), json!(TOKEN))],
        ),
    )
    .unwrap();
    h.record(c, &record(2, minute_ago, InstanceState::InSync, vec![]))
        .unwrap();
    h.finish_cycle(
        c,
        &CycleSummary {
            started: Some(minute_ago),
            finished: Some(minute_ago + Duration::from_secs(2)),
            instances: 3,
            in_sync: 1,
            drifted: 1,
            unreachable: 1,
            ..CycleSummary::default()
        },
    )
    .unwrap();
    path
}

fn history(args: &[&str]) -> common::Run {
    let mut c = bin(Color::Never);
    c.arg("history").args(args);
    run(c)
}

#[test]
fn history_text_shows_drifts_repairs_convergence_and_the_settings_that_drift_most() {
    let path = filled();
    let r = history(&["--history", s(&path)]);
    assert_eq!(r.code, 0, "{}", r.all());
    let out = &r.stdout;
    for want in [
        "Cycles: 2; the last started",
        "3 instances, 1 in sync, 1 drifted, 1 unreachable",
        "drift       incomingWebhook: \"no\", wanted \"yes\"",
        "repair      sent incomingWebhook",
        "repair      converged after 2.5s (1 re-send)",
        "resolved    incomingWebhook by the repair after 2.5s",
        "resolved    incomingWebhook by itself after 59m",
        "drift       webhookUrlToken: \"<redacted>\", wanted \"<redacted>\"",
        "unreachable server: bad gateway \\x1b[2J here",
        "Repairs by instance:",
        "Settings that drift most:",
        "Open now: 1 drift, 1 unreachable instance",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    // incomingWebhook drifted twice, webhookUrlToken once: the first is listed first.
    let table = &out[out.find("Settings that drift most:").unwrap()..];
    assert!(
        table.find("incomingWebhook").unwrap() < table.find("webhookUrlToken").unwrap(),
        "{table}"
    );
    assert!(
        !r.all().contains("SEKRIT") && !r.all().contains('\x1b'),
        "{}",
        r.all()
    );
}

#[test]
fn history_json_is_a_versioned_document_that_agrees_with_the_database() {
    let path = filled();
    let r = history(&["--history", s(&path), "--json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["formatVersion"], 1);
    assert_eq!(doc["command"], "history");
    assert_eq!(doc["database"], s(&path));
    let res = &doc["results"];
    assert_eq!(res["cycles"]["count"], 2);
    assert_eq!(res["cycles"]["last"]["instances"], 3);
    let stored = HistoryReader::open(&path)
        .unwrap()
        .events(&Filter::default())
        .unwrap();
    let events = res["events"].as_array().unwrap();
    assert_eq!(events.len(), stored.len());
    for (j, e) in events.iter().zip(&stored) {
        assert_eq!(j["id"], e.id);
        assert_eq!(j["kind"], e.kind.as_str());
        assert_eq!(j["instance"], e.instance);
    }
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "driftDetected",
            "repairSent",
            "driftDetected",
            "unreachable",
            "repairOutcome",
            "driftResolved",
            "driftDetected",
            "driftResolved"
        ]
    );
    assert_eq!(res["settings"][0]["setting"], "incomingWebhook");
    assert_eq!(res["settings"][0]["drifts"], 2);
    assert_eq!(res["settings"][0]["resolvedByRepair"], 1);
    assert_eq!(res["settings"][0]["resolvedByItself"], 1);
    assert_eq!(res["repairs"][0]["instance"], 1);
    assert_eq!(res["repairs"][0]["medianConvergeMs"], 2500);
    assert_eq!(res["open"]["drifts"][0]["setting"], "webhookUrlToken");
    assert_eq!(res["open"]["drifts"][0]["desired"], "<redacted>");
    assert_eq!(res["open"]["unreachable"][0]["errorKind"], "server");
    assert!(!r.stdout.contains("SEKRIT"));
    // Neither the database nor its key file holds the token.
    for f in [path.clone(), PathBuf::from(format!("{}.key", s(&path)))] {
        let bytes = std::fs::read(&f).unwrap();
        assert!(!bytes.windows(6).any(|w| w == b"SEKRIT"), "{}", f.display());
    }
}

#[test]
fn history_filters_by_instance_setting_and_since() {
    let path = filled();
    let json = |args: &[&str]| -> Value {
        let mut all = vec!["--history", s(&path), "--json"];
        all.extend_from_slice(args);
        let r = history(&all);
        assert_eq!(r.code, 0, "{}", r.all());
        serde_json::from_str(&r.stdout).unwrap()
    };
    let doc = json(&["--instance", "2"]);
    let ev = doc["results"]["events"].as_array().unwrap();
    assert_eq!(ev.len(), 2);
    assert!(ev.iter().all(|e| e["instance"] == 2));
    // snake_case names are accepted; the repair that sent the setting is included.
    let doc = json(&["--setting", "incoming_webhook"]);
    assert_eq!(doc["filters"]["setting"], "incomingWebhook");
    let kinds: Vec<&str> = doc["results"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"repairSent") && !kinds.contains(&"unreachable"),
        "{kinds:?}"
    );
    assert!(doc["results"]["open"]["unreachable"]
        .as_array()
        .unwrap()
        .is_empty());
    let doc = json(&["--since", "10m"]);
    assert_eq!(doc["filters"]["since"], "10m");
    assert_eq!(doc["results"]["cycles"]["count"], 1);
    let ev = doc["results"]["events"].as_array().unwrap();
    assert_eq!(ev.len(), 2, "{ev:?}");
}

#[test]
fn history_of_a_missing_database_is_an_error_naming_it_and_creates_nothing() {
    let d = dir();
    let path = d.join("no/such/history.sqlite3");
    let r = history(&["--history", s(&path)]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("no history at"), "{}", r.stderr);
    assert!(r.stderr.contains(s(&path)), "{}", r.stderr);
    assert!(r.stdout.is_empty());
    assert!(!d.join("no").exists());
    // The default path is under XDG_DATA_HOME.
    let mut c = bin(Color::Never);
    c.env("XDG_DATA_HOME", &d).arg("history");
    let r = run(c);
    assert_eq!(r.code, 2, "{}", r.all());
    let want = d.join("greenapi-settings/history.sqlite3");
    assert!(r.stderr.contains(s(&want)), "{}", r.stderr);
    assert!(!d.join("greenapi-settings").exists());
}

#[test]
fn history_reads_a_default_path_history_under_xdg_data_home() {
    let path = filled();
    let d = dir();
    std::fs::create_dir_all(d.join("greenapi-settings")).unwrap();
    std::fs::copy(&path, d.join("greenapi-settings/history.sqlite3")).unwrap();
    let mut c = bin(Color::Never);
    c.env("XDG_DATA_HOME", &d).args(["history", "--json"]);
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.all());
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["results"]["cycles"]["count"], 2);
}

#[test]
fn history_refuses_bad_options_with_exit_2_and_a_suggestion() {
    let path = filled();
    let r = history(&["--history", s(&path), "--setting", "incomingWebhok"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("--setting: no setting is called"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("did you mean `incomingWebhook`?"),
        "{}",
        r.stderr
    );
    let r = history(&["--history", s(&path), "--since", "soon"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("--since: expected a duration"),
        "{}",
        r.stderr
    );
    let r = history(&["--history", s(&path), "--instance", "abc"]);
    assert_eq!(r.code, 2, "{}", r.all());
    let r = history(&["--history", s(&path), "--api-url", "http://127.0.0.1:1"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("does not apply to `history`"),
        "{}",
        r.stderr
    );
    // Not a history: refused, left alone.
    let text = common::tmp("notes.txt", &"not a database\n".repeat(50));
    let r = history(&["--history", s(&text)]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("is not a greenapi-settings history"),
        "{}",
        r.stderr
    );
}

// ---- kill -9 -------------------------------------------------------------------------------

/// The writer's script: `STEPS` cycles of `N` instances, each state a function of the
/// instance and the step (held for 3 steps, so drifts and outages persist across cycles),
/// read at a time that is also a function of them, so that a re-run replays exactly.
const STEPS: u64 = 40;
const N: u64 = 100;
const T0_MS: u64 = 1_800_000_000_000;
const CHILD_ENV: &str = "GS_HISTORY_CRASH_CHILD";

fn at(step: u64, i: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(T0_MS + step * 60_000 + i)
}

fn mix(mut x: u64) -> u64 {
    // splitmix64
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// What the loop hands the history for instance `i` at `step`.
fn script(i: u64, step: u64) -> InstanceRecord {
    let h = mix(i * 1_000 + step / 3);
    let id = 1_101_000_000 + i;
    let t = at(step, i);
    match h % 10 {
        0..=4 => record(id, t, InstanceState::InSync, vec![]),
        5 | 6 => record(
            id,
            t,
            InstanceState::Drifted,
            vec![drift("incomingWebhook", json!("no"), json!("yes"))],
        ),
        7 => record(
            id,
            t,
            InstanceState::Drifted,
            vec![drift(
                "webhookUrlToken",
                json!(format!("{TOKEN}-{}", (h / 10) % 2)),
                json!(TOKEN),
            )],
        ),
        8 => InstanceRecord {
            error_kind: Some(if (h / 10).is_multiple_of(2) {
                "timeout"
            } else {
                "server"
            }),
            error: Some("failed".into()),
            ..record(id, t, InstanceState::Unreachable, vec![])
        },
        _ => InstanceRecord {
            repair: Some(repair(vec!["webhookUrl"], "converged", 1500)),
            ..record(
                id,
                t,
                InstanceState::InSync,
                vec![drift(
                    "webhookUrl",
                    json!(""),
                    json!("https://hooks.example.com/x"),
                )],
            )
        },
    }
}

/// The same state observed again later: a repaired instance then reads in sync.
fn observed_again(i: u64, step: u64) -> InstanceRecord {
    let mut r = script(i, step);
    r.at += Duration::from_secs(30);
    if r.repair.take().is_some() {
        r.drifts.clear();
    }
    r
}

/// The step of the last cycle started, and whether it finished.
fn last_cycle(path: &Path) -> Option<(u64, bool)> {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    conn.query_row(
        "SELECT started_ms, finished_ms FROM cycles ORDER BY id DESC LIMIT 1",
        [],
        |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Option<i64>>(1)?)),
    )
    .ok()
    .map(|(started, finished)| ((started as u64 - T0_MS) / 60_000, finished.is_some()))
}

/// The step to resume at: that of the last cycle started, or the next one if it finished.
fn resume_step(path: &Path) -> u64 {
    last_cycle(path).map_or(0, |(step, finished)| step + u64::from(finished))
}

/// Ends cycle `c` of `step` as the script does.
fn finish(h: &mut History, c: greenapi_settings_cli::watch::history::CycleId, step: u64) {
    h.finish_cycle(
        c,
        &CycleSummary {
            finished: Some(at(step, N)),
            instances: N as usize,
            ..CycleSummary::default()
        },
    )
    .unwrap();
}

/// Runs the script from the last cycle started (re-recording it: a restarted loop).
fn write_script(path: &Path) {
    let start = if path.exists() { resume_step(path) } else { 0 };
    let mut h = History::open(path).unwrap();
    // Tells a parent that kills this process that the writing starts.
    println!("open");
    for step in start..STEPS {
        let c = h.start_cycle(at(step, 0)).unwrap();
        for i in 0..N {
            h.record(c, &script(i, step)).unwrap();
        }
        finish(&mut h, c, step);
    }
}

/// The child: writes the script into the history named by [`CHILD_ENV`] (a no-op test
/// otherwise).
#[test]
fn crash_child() {
    if let Some(path) = std::env::var_os(CHILD_ENV) {
        write_script(Path::new(&path));
    }
}

/// Every event, without its row and cycle ids, sorted.
type Row = (
    i64,
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
);

fn all_events(path: &Path) -> Vec<Row> {
    let mut v: Vec<Row> = HistoryReader::open(path)
        .unwrap()
        .events(&Filter::default())
        .unwrap()
        .into_iter()
        .map(|e| {
            (
                e.instance as i64,
                e.at_ms,
                e.kind,
                e.field,
                e.observed.map(|v| v.to_string()),
                e.outcome,
                e.duration_ms,
                e.error_kind,
            )
        })
        .collect();
    v.sort();
    v
}

fn assert_sound(path: &Path) -> usize {
    let n = common::assert_history_sound(path) as usize;
    assert_eq!(n, all_events(path).len());
    n
}

#[test]
fn kill_9_at_random_moments_leaves_a_history_that_opens_and_records_no_event_twice() {
    let d = dir();
    // The uninterrupted run, in this process: what the killed runs must add up to.
    let reference = d.join("reference.sqlite3");
    let began = Instant::now();
    write_script(&reference);
    let full_run = began.elapsed();
    let want = all_events(&reference);
    assert!(want.len() > 100, "{}", want.len());

    let path = d.join("history.sqlite3");
    let seed = std::env::var("GS_HISTORY_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .subsec_nanos() as u64
        });
    eprintln!("kill -9 test: seed {seed} (GS_HISTORY_CRASH_SEED)");
    let mut rng = seed;
    let deadline = Instant::now() + Duration::from_secs(120);
    let child = || {
        std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "crash_child",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env(CHILD_ENV, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    // Each run resumes where the last one was cut; a kill comes within a twentieth of a whole
    // run after the child has opened the history, so that 20 of them cut the script all
    // along. Every fifth kill comes instead at a random moment of the start (opening,
    // creating, migrating).
    let mut window = full_run / 20;
    let mut last_cut = 0;
    let mut killed = 0;
    let mut progress = Vec::new();
    for n in 0..20 {
        rng = mix(rng);
        let mut c = child();
        if n % 5 == 0 {
            std::thread::sleep(Duration::from_micros(rng % 3000));
        } else {
            let mut line = String::new();
            let _ = BufReader::new(c.stdout.as_mut().unwrap()).read_line(&mut line);
            std::thread::sleep(window.mul_f64((rng % 1000) as f64 / 1000.0));
        }
        if c.try_wait().unwrap().is_none() {
            c.kill().unwrap(); // SIGKILL
            killed += 1;
        }
        c.wait().unwrap();
        assert!(
            Instant::now() < deadline,
            "the kill -9 test ran out of time"
        );
        if !path.exists() {
            continue;
        }
        // It opens read-only, as `history` does (unless the kill came before the schema was
        // committed: then it is refused as empty, and the writer's open creates the schema),
        // even when the WAL a killed writer left has to be recovered first.
        let read = match HistoryReader::open(&path) {
            Ok(r) => Some(r.events(&Filter::default()).unwrap().len()),
            Err(e) => {
                assert!(e.message.contains("it is empty"), "{}", e.message);
                None
            }
        };
        // Reading adds and loses nothing (checked below: what the reader read is what the
        // database holds). The file's bytes may change all the same: a writer killed while it
        // switched the file from WAL back to rollback mode on close leaves that switch half
        // done, and SQLite finishes it on the next open (copying the WAL the writer had
        // committed into the file), which only a connection that may write can do.
        if read.is_none() {
            drop(History::open(&path).unwrap());
        }
        let before = assert_sound(&path);
        assert!(read.is_none_or(|n| n == before));
        // Re-recording the cycle that was cut (as a restarted loop does), then observing the
        // same states again later, adds no event twice, and the second adds none at all.
        let cut = resume_step(&path);
        progress.push(cut);
        // Adapt to the machine's speed: kills that cut nothing new come later, kills that let
        // a run go far come sooner.
        if cut == last_cut {
            window = (window * 2).min(full_run);
        } else if cut > last_cut + 4 {
            window /= 2;
        }
        last_cut = cut;
        // Re-record the last cycle started, cut or not: a restarted loop's replay.
        let Some((step, _)) = last_cycle(&path) else {
            continue;
        };
        let mut h = History::open(&path).unwrap();
        let c = h.start_cycle(at(step, 0)).unwrap();
        for i in 0..N {
            h.record(c, &script(i, step)).unwrap();
        }
        finish(&mut h, c, step);
        let replayed = {
            drop(h);
            assert_sound(&path)
        };
        assert!(replayed >= before);
        let mut h = History::open(&path).unwrap();
        let c = h
            .start_cycle(at(step, 0) + Duration::from_secs(30))
            .unwrap();
        for i in 0..N {
            h.record(c, &observed_again(i, step)).unwrap();
        }
        finish(&mut h, c, step);
        drop(h);
        assert_eq!(
            assert_sound(&path),
            replayed,
            "re-observing the same states added events"
        );
    }
    eprintln!("kill -9 test: {killed} of 20 runs killed, at steps {progress:?} of {STEPS}");
    // The loop continues to the end, and the history is the uninterrupted run's.
    let status = child().wait().unwrap();
    assert!(status.success());
    assert_sound(&path);
    assert_eq!(all_events(&path), want);
}
