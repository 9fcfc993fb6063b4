//! Fleet input: checked whole before anything is sent; report path first; resume; Ctrl-C.

use super::*;

#[test]
fn a_first_line_with_a_bad_id_is_an_error_not_a_skipped_header() {
    let sb = fast(2);
    let ids = sb.instance_ids();
    let good = fleet_csv("typo-good.csv", "", &sb, &ids[1..]);
    let text = format!(
        "l{},{},{}\n{}",
        ids[0],
        generated_token(ids[0]),
        sb.url(),
        std::fs::read_to_string(&good).unwrap()
    );
    let csv = tmp("typo.csv", &text);
    let r = cli(&["apply", s(&desired()), "--instances", s(&csv)]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr
            .contains("typo.csv:1: the instance id must be a number"),
        "{}",
        r.stderr
    );
    assert_eq!(calls(&sb), 0, "nothing was sent");

    // A byte order mark before the first id is removed, not taken for a header.
    let bom = tmp(
        "bom.csv",
        &format!(
            "\u{feff}{}",
            std::fs::read_to_string(fleet_csv("bom-src.csv", "", &sb, &ids)).unwrap()
        ),
    );
    let r = cli(&["apply", s(&desired()), "--instances", s(&bom)]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("2 instance(s): 2 applied"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_bad_line_3_fails_before_lines_1_and_2_are_sent() {
    let sb = fast(3);
    let ids = sb.instance_ids();
    let bad_lines = [
        format!(
            "{},{},{}/x?y=1\n",
            ids[2],
            generated_token(ids[2]),
            sb.url()
        ),
        format!("{},to ken,{}\n", ids[2], sb.url()),
        format!("{},{},ftp://127.0.0.1\n", ids[2], generated_token(ids[2])),
    ];
    for (i, bad) in bad_lines.iter().enumerate() {
        let head =
            std::fs::read_to_string(fleet_csv("line3-head.csv", "", &sb, &ids[..2])).unwrap();
        let csv = tmp(&format!("line3-{i}.csv"), &format!("{head}{bad}"));
        let r = cli(&["apply", s(&desired()), "--instances", s(&csv)]);
        assert_eq!(r.code, 2, "{bad}\n{}", r.all());
        assert!(
            r.stderr.contains(&format!("line3-{i}.csv:3: the "))
                && r.stderr.contains(&format!("of instance {}", ids[2])),
            "names the line and the instance: {}",
            r.stderr
        );
        assert_eq!(calls(&sb), 0, "nothing was sent to lines 1 and 2");
    }
}

#[test]
fn an_unwritable_report_path_fails_before_anything_is_sent() {
    let sb = fast(1);
    let csv = fleet_csv("report-check.csv", "", &sb, &sb.instance_ids());
    for report in [dir(), dir().join("no-such-dir").join("report.json")] {
        let r = cli(&[
            "apply",
            s(&desired()),
            "--instances",
            s(&csv),
            "--report",
            s(&report),
        ]);
        assert_eq!(r.code, 2, "{}", r.all());
        assert!(r.stderr.contains("cannot write the report"), "{}", r.stderr);
    }
    assert_eq!(calls(&sb), 0, "nothing was sent");
}

#[test]
fn resume_contacts_an_instance_again_when_its_api_url_changed() {
    let a = fast(2);
    let b = fast(2);
    let ids = a.instance_ids();
    assert_eq!(
        ids,
        b.instance_ids(),
        "same ids and tokens in both sandboxes"
    );
    let csv = fleet_csv("moved.csv", "", &a, &ids);
    let report = dir().join("moved-report.json");
    let r = cli(&[
        "apply",
        s(&desired()),
        "--instances",
        s(&csv),
        "--report",
        s(&report),
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    // The second instance moves to another server.
    let moved = format!(
        "{},{},{}\n{},{},{}\n",
        ids[0],
        generated_token(ids[0]),
        a.url(),
        ids[1],
        generated_token(ids[1]),
        b.url()
    );
    let csv = tmp("moved.csv", &moved);
    let report2 = dir().join("moved-report2.json");
    let r = cli(&[
        "apply",
        s(&desired()),
        "--instances",
        s(&csv),
        "--resume",
        s(&report),
        "--report",
        s(&report2),
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        b.stats(ids[1]).unwrap().restarts,
        1,
        "applied at its new URL"
    );
    assert_eq!(calls(&b), 2, "only the moved instance was contacted there");
    assert_eq!(a.stats(ids[0]).unwrap().restarts, 1, "not applied twice");
    let v: Value = common::read_json(&report2);
    assert_eq!(v["results"][0]["fromPreviousRun"], true);
    assert_eq!(v["results"][1]["fromPreviousRun"], false);
    assert_eq!(v["results"][1]["apiUrl"], b.url());
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_a_fleet_run_writes_the_report_and_resume_finishes_it() {
    a_signal_stops_a_fleet_run_writes_the_report_and_resume_finishes_it("-INT", 130);
}

/// Issue 19: SIGTERM (systemd, Kubernetes, `timeout`, CI cancellation) used to kill a fleet
/// apply with exit 143 and no report, although instances were changed.
#[cfg(unix)]
#[test]
fn sigterm_stops_a_fleet_run_like_ctrl_c_with_exit_143_and_the_report_written() {
    a_signal_stops_a_fleet_run_writes_the_report_and_resume_finishes_it("-TERM", 143);
}

#[cfg(unix)]
fn a_signal_stops_a_fleet_run_writes_the_report_and_resume_finishes_it(signal: &str, code: i32) {
    const N: usize = 12;
    let sb = BlockingSandbox::start(
        SandboxConfig::instances_generated(N)
            .rate_limit(None)
            .latency(Duration::from_millis(700)),
    )
    .unwrap();
    let ids = sb.instance_ids();
    let csv = fleet_csv("sigint.csv", "", &sb, &ids);
    let report = dir().join("sigint-report.json");
    let mut child = common::std_bin()
        .args([
            "--color",
            "never",
            "apply",
            s(&desired()),
            "--instances",
            s(&csv),
        ])
        .args(["--concurrency", "2", "--report", s(&report)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rx = lines_of(&mut child);
    // Lines come as instances finish, not all at the end.
    let first = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("a line per finished instance");
    assert!(first.contains("applied"), "{first}");
    let killed = std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut status = None;
    for _ in 0..600 {
        if let Some(st) = child.try_wait().unwrap() {
            status = Some(st);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let Some(status) = status else {
        let _ = child.kill();
        panic!("the run did not stop within 60 s of {signal}");
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(code), "{stderr}");
    assert!(stderr.contains("--resume"), "{stderr}");
    let v: Value = common::read_json(&report);
    assert_eq!(v["interrupted"], true);
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), N, "every instance is in the report");
    let not_started = results
        .iter()
        .filter(|r| r["status"] == "notStarted")
        .count();
    assert!(not_started >= 1, "{v}");
    for r in results {
        let id = r["idInstance"].as_u64().unwrap();
        let stats = sb.stats(id).unwrap();
        match r["status"].as_str().unwrap() {
            "applied" => assert_eq!(stats.restarts, 1, "{r}"),
            "notStarted" => assert_eq!(
                stats.get_settings_calls + stats.set_settings_calls,
                0,
                "{r}"
            ),
            // In flight past the grace period: may or may not have been applied.
            "failed" => assert_eq!(r["error"]["kind"], "interrupted", "{r}"),
            other => panic!("unexpected status {other}: {r}"),
        }
    }
    // `--resume` carries on: the rest are applied, nothing is applied twice.
    let report2 = dir().join("sigint-report2.json");
    let r = cli(&[
        "apply",
        s(&desired()),
        "--instances",
        s(&csv),
        "--concurrency",
        "8",
        "--resume",
        s(&report),
        "--report",
        s(&report2),
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    for id in &ids {
        assert_eq!(
            sb.stats(*id).unwrap().restarts,
            1,
            "{id} applied exactly once"
        );
    }
}

/// Issue 19: `get --instances` stopped by SIGTERM still prints its document, with the
/// instances not read listed as such, and exits 143.
#[cfg(unix)]
#[test]
fn sigterm_during_get_instances_prints_what_was_read_and_exits_143() {
    const N: usize = 6;
    let sb = BlockingSandbox::start(
        SandboxConfig::instances_generated(N)
            .rate_limit(None)
            .latency(Duration::from_millis(700)),
    )
    .unwrap();
    let ids = sb.instance_ids();
    let csv = fleet_csv("sigterm-get.csv", "", &sb, &ids);
    let child = common::std_bin()
        .args(["get", "--instances", s(&csv), "--concurrency", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the first instance is being read (the handlers are installed by then).
    for _ in 0..300 {
        if ids
            .iter()
            .any(|id| sb.stats(*id).unwrap().get_settings_calls > 0)
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(143), "{stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["interrupted"], true, "{v}");
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), N);
    assert!(
        results.iter().any(|r| r["error"]["kind"] == "notStarted"),
        "{v}"
    );
}
