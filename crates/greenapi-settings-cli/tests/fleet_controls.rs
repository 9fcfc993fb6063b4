//! Issue 19: the controls of a fleet run people expect from cargo, gh and terraform: a canary
//! without editing the file (`--only`, `--limit`), batches with a pause (`--batch`,
//! `--batch-pause`), a failure budget (`--max-failures`), a confirmation on a terminal
//! (`--yes`), and the progress line (indicatif) fitted to the terminal. Every case runs the
//! real binary against the real sandbox and reads the sandbox's counters.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::{cli, csv, dir, fast, fleet_csv, lines_of, read_json, s, set_calls, tmp, Run};
use greenapi_settings_sandbox::BlockingSandbox;
use serde_json::Value;

fn desired() -> PathBuf {
    tmp("desired.toml", "incomingWebhook = \"yes\"\n")
}

/// setSettings calls instance `id` got.
fn sets_of(sb: &BlockingSandbox, id: u64) -> u64 {
    sb.stats(id).unwrap().set_settings_calls
}

/// getSettings and setSettings calls instance `id` got.
fn calls_of(sb: &BlockingSandbox, id: u64) -> u64 {
    let st = sb.stats(id).unwrap();
    st.get_settings_calls + st.set_settings_calls
}

/// The ids of a report's results, in order.
fn reported(v: &Value) -> Vec<u64> {
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["idInstance"].as_u64().unwrap())
        .collect()
}

fn statuses(v: &Value) -> Vec<(u64, String)> {
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["idInstance"].as_u64().unwrap(),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn apply(file: &Path, inst: &Path, more: &[&str]) -> Run {
    let mut args = vec!["apply", s(file), "--instances", s(inst)];
    args.extend_from_slice(more);
    cli(&args)
}

// ---- --only and --limit ---------------------------------------------------------------------

#[test]
fn only_applies_to_the_listed_instances_and_the_report_holds_them_alone() {
    let sb = fast(5);
    let ids = sb.instance_ids();
    let inst = csv("only.csv", &sb);
    let report = dir().join("only.json");
    let only = format!("{},{}", ids[3], ids[1]);
    let r = apply(
        &desired(),
        &inst,
        &["--only", &only, "--report", s(&report)],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    for (i, id) in ids.iter().enumerate() {
        let want = u64::from(i == 1 || i == 3);
        assert_eq!(sets_of(&sb, *id), want, "{id}: {}", r.all());
        if want == 0 {
            assert_eq!(calls_of(&sb, *id), 0, "{id} is not even read");
        }
    }
    let v = read_json(&report);
    assert_eq!(reported(&v), [ids[1], ids[3]], "{v}");
    assert_eq!(v["summary"]["total"], 2, "{v}");
    assert_eq!(
        v["selection"],
        serde_json::json!({"only": [ids[3], ids[1]], "limit": null, "selected": 2, "inFile": 5})
    );
    assert!(
        r.stdout.contains("2 instance(s): 2 applied"),
        "{}",
        r.stdout
    );
    let text = common::read(&report);
    for id in &ids {
        let token = greenapi_settings_sandbox::generated_token(*id);
        assert!(
            !text.contains(&token) && !r.all().contains(&token),
            "a token leaked"
        );
    }
}

#[test]
fn limit_is_a_canary_in_file_order_and_resume_carries_on_with_the_rest() {
    let sb = fast(5);
    let ids = sb.instance_ids();
    let inst = csv("limit.csv", &sb);
    let first = dir().join("canary.json");
    // --limit after --only: the first two of the three listed, in file order.
    let only = format!("{},{},{}", ids[4], ids[2], ids[0]);
    let r = apply(
        &desired(),
        &inst,
        &["--only", &only, "--limit", "2", "--report", s(&first)],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    let v = read_json(&first);
    assert_eq!(reported(&v), [ids[0], ids[2]], "{v}");
    assert_eq!(v["selection"]["limit"], 2, "{v}");
    assert_eq!(common::set_calls(&sb), 2);
    // The rest of the fleet, carrying on from the canary's report: nothing applied twice.
    let second = dir().join("rest.json");
    let r = apply(
        &desired(),
        &inst,
        &["--resume", s(&first), "--report", s(&second)],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    for id in &ids {
        assert_eq!(sb.stats(*id).unwrap().restarts, 1, "{id}: {}", r.all());
    }
    let v = read_json(&second);
    assert_eq!(reported(&v).len(), 5, "{v}");
    assert!(v.get("selection").is_none(), "{v}");
    // A limit counts the instances done earlier: the first 3 are 2 done and 1 new.
    let sb = fast(5);
    let ids = sb.instance_ids();
    let inst = csv("limit2.csv", &sb);
    let first = dir().join("limit2.json");
    assert_eq!(
        apply(&desired(), &inst, &["--limit", "2", "--report", s(&first)]).code,
        0
    );
    let r = apply(&desired(), &inst, &["--limit", "3", "--resume", s(&first)]);
    assert_eq!(r.code, 0, "{}", r.all());
    let restarts: Vec<u64> = ids
        .iter()
        .map(|id| sb.stats(*id).unwrap().restarts)
        .collect();
    assert_eq!(restarts, [1, 1, 1, 0, 0]);
}

#[test]
fn an_only_id_not_in_the_file_is_named_with_exit_2_and_nothing_is_sent() {
    let sb = fast(2);
    let inst = csv("missing.csv", &sb);
    let first = sb.instance_ids()[0].to_string();
    for cmd in ["plan", "apply"] {
        let r = cli(&[
            cmd,
            s(&desired()),
            "--instances",
            s(&inst),
            "--only",
            &format!("{first},4242"),
        ]);
        assert_eq!(r.code, 2, "{cmd}: {}", r.all());
        assert!(
            r.stderr.contains("--only: 1 id is not in") && r.stderr.contains(": 4242;"),
            "{}",
            r.stderr
        );
    }
    let r = cli(&["get", "--instances", s(&inst), "--only", "4242"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("4242"), "{}", r.stderr);
    assert_eq!(common::calls(&sb), 0, "nothing was sent");
}

#[test]
fn plan_get_and_export_take_the_selection_too() {
    let sb = fast(3);
    let ids = sb.instance_ids();
    let inst = csv("sel.csv", &sb);
    let r = cli(&[
        "plan",
        s(&desired()),
        "--instances",
        s(&inst),
        "--limit",
        "1",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains(&ids[0].to_string()), "{}", r.stdout);
    assert!(!r.stdout.contains(&ids[1].to_string()), "{}", r.stdout);
    assert!(r.stdout.contains("1 instance(s)"), "{}", r.stdout);
    let only = ids[2].to_string();
    let r = cli(&["get", "--instances", s(&inst), "--only", &only]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(reported(&r.json()), [ids[2]]);
    let r = cli(&["export", "--instances", s(&inst), "--only", &only]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains(&only), "{}", r.stdout);
    assert!(!r.stdout.contains(&ids[0].to_string()), "{}", r.stdout);
    // The first instance was planned once; the second never read; the third read twice.
    let reads: Vec<u64> = ids.iter().map(|id| calls_of(&sb, *id)).collect();
    assert_eq!(reads, [1, 0, 2]);
}

// ---- refusals -------------------------------------------------------------------------------

#[test]
fn fleet_controls_that_do_not_apply_or_bad_values_are_refused_with_exit_2_and_nothing_sent() {
    let sb = fast(2);
    let inst = csv("refuse.csv", &sb);
    let file = desired();
    let f = s(&file);
    let i = s(&inst);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        // Without --instances: named, with how to fix it.
        (
            vec!["apply", f, "--only", "1"],
            "--only only apply to a fleet run: add --instances",
        ),
        (
            vec!["plan", f, "--limit", "1"],
            "--limit only apply to a fleet run",
        ),
        (
            vec!["apply", f, "--batch", "2"],
            "--batch only apply to a fleet run",
        ),
        (
            vec!["apply", f, "--max-failures", "2"],
            "--max-failures only apply to a fleet run",
        ),
        (vec!["apply", f, "--yes"], "--yes only apply to a fleet run"),
        (
            vec!["get", "--only", "1"],
            "--only only apply to a fleet run",
        ),
        // --batch-pause needs --batch.
        (
            vec!["apply", f, "--instances", i, "--batch-pause", "5s"],
            "--batch",
        ),
        // Values.
        (
            vec!["apply", f, "--instances", i, "--only", ""],
            "--only: expected instance ids",
        ),
        (
            vec!["apply", f, "--instances", i, "--only", ","],
            "--only: expected instance ids",
        ),
        (
            vec!["apply", f, "--instances", i, "--limit", "0"],
            "--limit: expected a whole number from 1",
        ),
        (
            vec!["apply", f, "--instances", i, "--batch", "0"],
            "--batch: expected a whole number from 1",
        ),
        (
            vec!["apply", f, "--instances", i, "--max-failures", "0"],
            "--max-failures: expected a whole number from 1",
        ),
        (
            vec![
                "apply",
                f,
                "--instances",
                i,
                "--batch",
                "2",
                "--batch-pause",
                "soon",
            ],
            "--batch-pause: expected a duration",
        ),
        // Options only a fleet apply has are not plan's.
        (vec!["plan", f, "--instances", i, "--batch", "2"], "--batch"),
        (vec!["plan", f, "--instances", i, "--yes"], "--yes"),
    ];
    for (args, needle) in cases {
        let r = cli(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.all());
        assert!(r.stderr.contains(needle), "{args:?}: {}", r.stderr);
    }
    // A token pasted into --only is not echoed.
    let r = cli(&[
        "apply",
        f,
        "--instances",
        i,
        "--only",
        "1,sekrit-token-4711",
    ]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("--only: item 2 is not an instance id"),
        "{}",
        r.stderr
    );
    assert!(!r.all().contains("sekrit"), "{}", r.all());
    assert_eq!(common::calls(&sb), 0, "nothing was sent");
}

// ---- batches --------------------------------------------------------------------------------

#[test]
fn batches_go_one_after_the_other_with_a_note_between_them() {
    let sb = fast(5);
    let inst = csv("batch.csv", &sb);
    let r = apply(
        &desired(),
        &inst,
        &[
            "--batch",
            "2",
            "--batch-pause",
            "100ms",
            "--concurrency",
            "32",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(set_calls(&sb), 5);
    assert!(
        r.stderr
            .contains("batch 1/3 done (2 of 5 instances); the next starts in 100ms"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("batch 2/3 done (4 of 5 instances)"),
        "{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("batch 3/3"),
        "no pause after the last: {}",
        r.stderr
    );
    // Not a terminal: no progress line.
    assert!(!r.stderr.contains(" done, "), "{}", r.stderr);
}

/// Ctrl-C or SIGTERM during the pause between batches stops the run at once: the report is
/// written with the instances of the next batches `notStarted` (never contacted although
/// `--concurrency` would have allowed them), and `--resume` carries on.
#[cfg(unix)]
#[test]
fn sigterm_during_a_batch_pause_stops_at_once_and_the_rest_are_not_started() {
    const N: usize = 6;
    let sb = fast(N);
    let ids = sb.instance_ids();
    let inst = fleet_csv("pause.csv", "", &sb, &ids);
    let report = dir().join("pause.json");
    let file = desired();
    let mut child = common::std_bin()
        .args([
            "--color",
            "never",
            "apply",
            s(&file),
            "--instances",
            s(&inst),
        ])
        .args([
            "--batch",
            "2",
            "--batch-pause",
            "10m",
            "--concurrency",
            "32",
        ])
        .args(["--report", s(&report)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rx = lines_of(&mut child);
    for _ in 0..2 {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("a line per instance of the first batch");
        assert!(line.contains("applied"), "{line}");
    }
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    // Within 10 s, not the 10 minutes of the pause.
    let mut status = None;
    for _ in 0..100 {
        if let Some(st) = child.try_wait().unwrap() {
            status = Some(st);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let Some(status) = status else {
        let _ = child.kill();
        panic!("the run did not stop within 10 s of SIGTERM during the pause");
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(143), "{stderr}");
    assert!(stderr.contains("--resume"), "{stderr}");
    let v = read_json(&report);
    assert_eq!(v["interrupted"], true, "{v}");
    let st = statuses(&v);
    assert_eq!(st.len(), N);
    for (i, (id, status)) in st.iter().enumerate() {
        let want = if i < 2 { "applied" } else { "notStarted" };
        assert_eq!(status, want, "{v}");
        if i >= 2 {
            assert_eq!(calls_of(&sb, *id), 0, "{id} was contacted");
        }
    }
    let r = apply(&file, &inst, &["--resume", s(&report)]);
    assert_eq!(r.code, 0, "{}", r.all());
    for id in &ids {
        assert_eq!(sb.stats(*id).unwrap().restarts, 1, "{id}");
    }
}

// ---- --max-failures -------------------------------------------------------------------------

#[test]
fn max_failures_stops_starting_instances_says_why_and_resume_carries_on() {
    let sb = fast(6);
    let ids = sb.instance_ids();
    // The first two instances' tokens are wrong: they fail (401).
    let mut text = String::new();
    for (i, id) in ids.iter().enumerate() {
        let token = if i < 2 {
            "wrong-token-0123456789".to_string()
        } else {
            greenapi_settings_sandbox::generated_token(*id)
        };
        text.push_str(&format!("{id},{token},{}\n", sb.url()));
    }
    let inst = tmp("budget.csv", &text);
    let report = dir().join("budget.json");
    let r = apply(
        &desired(),
        &inst,
        &[
            "--max-failures",
            "2",
            "--concurrency",
            "1",
            "--report",
            s(&report),
        ],
    );
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains("stopped after 2 failure(s) (--max-failures 2): 4 instance(s) not started; run again with --resume"),
        "{}",
        r.stderr
    );
    assert!(
        r.stdout.contains("2 failed, 4 not started")
            && r.stdout
                .contains("(stopped after 2 failure(s): --max-failures 2)"),
        "{}",
        r.stdout
    );
    let v = read_json(&report);
    assert_eq!(v["stoppedAfterFailures"], 2, "{v}");
    assert_eq!(v["interrupted"], false, "{v}");
    assert_eq!(v["summary"]["notStarted"], 4, "{v}");
    for (i, id) in ids.iter().enumerate().skip(2) {
        assert_eq!(calls_of(&sb, *id), 0, "instance {i} was contacted");
    }
    // The tokens fixed, --resume applies to every instance not done, each once.
    let fixed = csv("budget-fixed.csv", &sb);
    let r = apply(&desired(), &fixed, &["--resume", s(&report)]);
    assert_eq!(r.code, 0, "{}", r.all());
    for id in &ids {
        assert_eq!(sb.stats(*id).unwrap().restarts, 1, "{id}");
    }
}

/// The instances in flight when the budget runs out finish (they are not cut off): the third
/// instance, started with the two failing ones and slower than them (1 request/second
/// between its read and its write), is applied.
#[test]
fn instances_in_flight_when_the_failure_budget_runs_out_finish() {
    let sb = fast(5);
    let ids = sb.instance_ids();
    let mut text = String::new();
    for (i, id) in ids.iter().enumerate() {
        let token = if i < 2 {
            "wrong-token-0123456789".to_string()
        } else {
            greenapi_settings_sandbox::generated_token(*id)
        };
        text.push_str(&format!("{id},{token},{}\n", sb.url()));
    }
    let inst = tmp("inflight.csv", &text);
    let report = dir().join("inflight.json");
    let r = apply(
        &desired(),
        &inst,
        &[
            "--max-failures",
            "2",
            "--concurrency",
            "3",
            "--report",
            s(&report),
        ],
    );
    assert_eq!(r.code, 1, "{}", r.all());
    let v = read_json(&report);
    let st = statuses(&v);
    assert_eq!(st[2].1, "applied", "{v}");
    assert_eq!(v["summary"]["failed"], 2, "{v}");
    assert!(v["summary"]["notStarted"].as_u64().unwrap() >= 1, "{v}");
    for (id, status) in &st {
        match status.as_str() {
            "applied" => assert_eq!(sb.stats(*id).unwrap().restarts, 1),
            "notStarted" => assert_eq!(calls_of(&sb, *id), 0),
            "failed" => assert!(ids[..2].contains(id), "{v}"),
            other => panic!("{other}: {v}"),
        }
    }
}

#[test]
fn without_a_terminal_a_fleet_apply_never_asks() {
    let sb = fast(2);
    let inst = csv("notty.csv", &sb);
    let mut c = common::bin(common::Color::Never);
    c.args(["apply", s(&desired()), "--instances", s(&inst)])
        .write_stdin("n\n");
    let r = common::run(c);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(!r.all().contains("Continue?"), "{}", r.all());
    assert_eq!(set_calls(&sb), 2);
}

// ---- on a terminal ----------------------------------------------------------------------------

/// Runs `args` of the binary on a terminal of `cols` columns (util-linux `script`), `input`
/// typed at it; the exit code and everything the terminal showed.
#[cfg(target_os = "linux")]
fn on_terminal(args: &[&str], cols: u16, input: &str) -> (i32, String) {
    use std::io::Write;
    let line = format!(
        "stty rows 24 cols {cols}; {} --color never {}",
        common::CLI,
        args.join(" ")
    );
    let mut c = std::process::Command::new("script");
    c.args(["-qec", &line, "/dev/null"]);
    for v in common::CLEARED_ENV {
        c.env_remove(v);
    }
    // The same shell on every machine (`script` runs `$SHELL -c`).
    c.env("SHELL", "/bin/sh")
        .env("GREENAPI_SETTINGS_PROFILES", "/nonexistent/profiles.toml")
        // A known terminal type whatever the caller's environment (unset TERM: no progress line).
        .env("TERM", "xterm")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c
        .spawn()
        .expect("util-linux `script` runs the binary on a terminal");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[cfg(target_os = "linux")]
#[test]
fn on_a_terminal_answering_n_shows_the_plans_counts_and_sends_nothing() {
    let sb = fast(3);
    let ids = sb.instance_ids();
    common::client(&sb, ids[1])
        .apply(&greenapi_settings::SettingsPatch::new().incoming_webhook(true))
        .unwrap();
    let before = set_calls(&sb);
    let inst = csv("ask.csv", &sb);
    let report = dir().join("ask.json");
    let (code, text) = on_terminal(
        &[
            "apply",
            s(&desired()),
            "--instances",
            s(&inst),
            "--report",
            s(&report),
        ],
        120,
        "n\n",
    );
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("apply to 3 instance(s): 2 would change (2 field(s)), 1 already as desired. Continue? [y/N]"),
        "{text}"
    );
    // The plan's lines: the instances that would change.
    assert!(
        text.contains("planned") && text.contains(&ids[0].to_string()),
        "{text}"
    );
    assert!(text.contains("nothing was sent"), "{text}");
    assert_eq!(set_calls(&sb), before, "nothing was sent");
    assert!(!report.exists(), "no report of a run that did not happen");
}

#[cfg(target_os = "linux")]
#[test]
fn on_a_terminal_answering_y_applies_and_yes_does_not_ask() {
    for (extra, input) in [(None, "y\n"), (Some("--yes"), "")] {
        let sb = fast(3);
        let inst = csv("ask-y.csv", &sb);
        let file = desired();
        let mut args = vec!["apply", s(&file), "--instances", s(&inst)];
        args.extend(extra);
        let (code, text) = on_terminal(&args, 120, input);
        assert_eq!(code, 0, "{extra:?}: {text}");
        assert_eq!(text.contains("Continue? [y/N]"), extra.is_none(), "{text}");
        assert_eq!(set_calls(&sb), 3, "{extra:?}: {text}");
        assert!(text.contains("3 instance(s): 3 applied"), "{text}");
    }
}

/// Runs a fleet apply of two instances on a terminal (util-linux `script`, with `/bin/sh` as
/// its shell whatever the machine's `SHELL`), the command line prefixed with `wrap` and
/// followed by `; echo exit=$?` (so the shell forks it, as in a script). Once the question
/// shows (or at once, if `keys` is `None`), `keys` are typed at the terminal. Returns what the
/// terminal showed and `script`'s exit code (the shell's), or `None` if the run had not ended
/// 30 s later.
#[cfg(target_os = "linux")]
fn apply_at_the_terminal(
    sb: &BlockingSandbox,
    wrap: &str,
    keys: Option<&[u8]>,
) -> Option<(String, Option<i32>)> {
    use std::io::{Read, Write};
    use std::sync::{Arc, Mutex};
    let inst = csv("ask-signal.csv", sb);
    let file = desired();
    let line = format!(
        "stty rows 24 cols 120; {wrap} {} --color never apply {} --instances {}; echo exit=$?",
        common::CLI,
        s(&file),
        s(&inst)
    );
    let mut c = std::process::Command::new("script");
    c.args(["-qec", &line, "/dev/null"]);
    for v in common::CLEARED_ENV {
        c.env_remove(v);
    }
    c.env("SHELL", "/bin/sh")
        .env("GREENAPI_SETTINGS_PROFILES", "/nonexistent/profiles.toml")
        // A known terminal type whatever the caller's environment (unset TERM: no progress line).
        .env("TERM", "xterm")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = c.spawn().expect("util-linux `script`");
    let shown = Arc::new(Mutex::new(String::new()));
    let mut stdout = child.stdout.take().unwrap();
    let reader = {
        let shown = shown.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = stdout.read(&mut buf) {
                shown
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        })
    };
    // Standard input stays open (no answer, no end of input) until the run has ended.
    let mut stdin = child.stdin.take().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut typed = keys.is_none();
    let mut ended = None;
    while std::time::Instant::now() < deadline {
        if !typed && shown.lock().unwrap().contains("Continue? [y/N]") {
            // A moment for the question's read to start.
            std::thread::sleep(Duration::from_millis(200));
            stdin.write_all(keys.unwrap()).unwrap();
            stdin.flush().unwrap();
            typed = true;
        }
        if let Some(status) = child.try_wait().unwrap() {
            ended = Some(status.code());
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(stdin);
    let Some(code) = ended else {
        let _ = child.kill();
        let _ = child.wait();
        return None;
    };
    reader.join().unwrap();
    let text = shown.lock().unwrap().clone();
    Some((text, code))
}

/// SIGTERM while the question waits for an answer: exit 143, nothing sent, and the process
/// does not hang on the unanswered read.
#[cfg(target_os = "linux")]
#[test]
fn sigterm_at_the_question_exits_143_and_sends_nothing() {
    let sb = fast(2);
    // `--foreground`: the command stays in the terminal's foreground, as when typed.
    let (text, _) = apply_at_the_terminal(
        &sb,
        "timeout --foreground --preserve-status -s TERM 3",
        None,
    )
    .expect("the run ends within 30 s of SIGTERM at the question");
    assert!(text.contains("exit=143"), "{text}");
    assert!(text.contains("Continue? [y/N]"), "{text}");
    assert!(
        text.contains("interrupted (SIGTERM): nothing was sent"),
        "{text}"
    );
    assert_eq!(set_calls(&sb), 0, "{text}");
}

/// Ctrl-C typed at the question (the terminal turns it into SIGINT): exit 130, nothing sent.
#[cfg(target_os = "linux")]
#[test]
fn ctrl_c_typed_at_the_question_exits_130_and_sends_nothing() {
    let sb = fast(2);
    // `exec`: the shell, which Ctrl-C would stop too, becomes the command; its exit code is
    // `script`'s.
    let (text, code) = apply_at_the_terminal(&sb, "exec", Some(b"\x03"))
        .expect("the run ends within 30 s of Ctrl-C at the question");
    assert_eq!(code, Some(130), "{text}");
    assert!(
        text.contains("interrupted (Ctrl-C): nothing was sent"),
        "{text}"
    );
    assert_eq!(set_calls(&sb), 0, "{text}");
}

/// Regression (CI, 2026-12-07): under `timeout` without `--foreground` (or started with `&`)
/// the command has a process group of its own, not the terminal's foreground one; the
/// question's read stopped it (SIGTTIN), and stopped, it did not act on timeout's SIGTERM.
/// Such a run is refused before the plan: exit 2, why, what to do, nothing sent.
#[cfg(target_os = "linux")]
#[test]
fn in_the_background_of_a_terminal_a_fleet_apply_is_refused_instead_of_stopping() {
    let sb = fast(2);
    let (text, _) = apply_at_the_terminal(&sb, "timeout -s TERM 20", None)
        .expect("the run ends at once: it neither asks nor stops");
    assert!(text.contains("exit=2"), "{text}");
    assert!(
        text.contains("not in the foreground of its terminal") && text.contains("--yes"),
        "{text}"
    );
    assert!(!text.contains("Continue?"), "{text}");
    assert_eq!(set_calls(&sb), 0, "{text}");
    let calls: u64 = sb.instance_ids().iter().map(|&id| calls_of(&sb, id)).sum();
    assert_eq!(calls, 0, "not even planned: {text}");
}

/// The text of a terminal's output with escape sequences taken out, cut into what each
/// carriage return or line feed starts.
#[cfg(target_os = "linux")]
fn screen_lines(text: &str) -> Vec<String> {
    let mut plain = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // CSI: ESC [ parameters final-byte.
            if chars.peek() == Some(&'[') {
                chars.next();
                for d in chars.by_ref() {
                    if ('@'..='~').contains(&d) {
                        break;
                    }
                }
            }
            continue;
        }
        plain.push(c);
    }
    plain
        .split(['\r', '\n'])
        .map(str::to_string)
        .filter(|l| !l.is_empty())
        .collect()
}

/// Issue 19: the progress line wrapped on a narrow terminal (each redraw a new line). On 40
/// columns it still shows done and failed, and never more than 39 columns.
#[cfg(target_os = "linux")]
#[test]
fn on_a_narrow_terminal_the_progress_line_fits_and_agrees_with_the_summary() {
    let sb = BlockingSandbox::start(
        greenapi_settings_sandbox::SandboxConfig::instances_generated(3)
            .rate_limit(None)
            .latency(Duration::from_millis(300)),
    )
    .unwrap();
    let ids = sb.instance_ids();
    let mut text = String::new();
    for (i, id) in ids.iter().enumerate() {
        let token = if i == 0 {
            "wrong-token-0123456789".to_string()
        } else {
            greenapi_settings_sandbox::generated_token(*id)
        };
        text.push_str(&format!("{id},{token},{}\n", sb.url()));
    }
    let inst = tmp("narrow.csv", &text);
    let file = desired();
    let args = [
        "apply",
        s(&file),
        "--instances",
        s(&inst),
        "--concurrency",
        "1",
        "--yes",
    ];
    let (code, out) = on_terminal(&args, 40, "");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("3 instance(s): 2 applied, 0 unchanged, 0 planned, 1 failed"),
        "{out}"
    );
    let bars: Vec<String> = screen_lines(&out)
        .into_iter()
        .filter(|l| l.contains("/3 done"))
        // indicatif pads the line with spaces to the width (which does not wrap).
        .map(|l| l.trim_end().to_string())
        .collect();
    assert!(!bars.is_empty(), "a progress line was drawn: {out:?}");
    for b in &bars {
        assert!(
            b.chars().count() < 40,
            "{b:?} is wider than the terminal: {out:?}"
        );
        assert!(
            !b.contains("0 failed") || b.starts_with("0/3"),
            "{b:?}: {out:?}"
        );
    }
    assert!(bars.iter().any(|b| b.contains("1 failed")), "{bars:?}");
    // A wide terminal gets the bar, the rate and the ETA too.
    let sb2 = fast(2);
    let inst2 = csv("wide.csv", &sb2);
    let args = [
        "apply",
        s(&file),
        "--instances",
        s(&inst2),
        "--concurrency",
        "1",
        "--yes",
    ];
    let (code, out) = on_terminal(&args, 120, "");
    assert_eq!(code, 0, "{out}");
    assert!(
        screen_lines(&out)
            .iter()
            .any(|l| l.starts_with('[') && l.contains(" in flight, ") && l.contains("/s, ETA ")),
        "{out:?}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn quiet_hides_the_progress_line_on_a_terminal() {
    let sb = fast(2);
    let inst = csv("quiet.csv", &sb);
    let file = desired();
    let args = [
        "--quiet",
        "apply",
        s(&file),
        "--instances",
        s(&inst),
        "--concurrency",
        "1",
        "--yes",
    ];
    let (code, out) = on_terminal(&args, 120, "");
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("/2 done"), "{out:?}");
    assert_eq!(set_calls(&sb), 2);
}
