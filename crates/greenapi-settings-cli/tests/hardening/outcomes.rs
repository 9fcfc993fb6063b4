//! One outcome logic for single and fleet runs (issue 18 item 2): a setSettings answered 200
//! `{"saveSettings": false}` is a failure everywhere, and `--resume` retries it.

use super::*;

/// A server that answers getSettings with the sandbox's default settings and setSettings with
/// `{"saveSettings": false}`; it records every request.
fn never_saves() -> (
    String,
    std::sync::Arc<std::sync::Mutex<Vec<common::Request>>>,
) {
    let sb = common::single();
    let current = common::default_client(&sb).get_settings().unwrap();
    let body = serde_json::to_string(&current).unwrap();
    common::server(32, move |req| {
        if req.line.contains("/setSettings/") {
            common::http("200 OK", "", r#"{"saveSettings":false}"#)
        } else {
            common::http("200 OK", "", &body)
        }
    })
}

const TOKEN: &str = "0123456789abcdef0123456789abcdef";

fn sets(seen: &std::sync::Mutex<Vec<common::Request>>) -> usize {
    let seen = seen.lock().unwrap();
    seen.iter()
        .filter(|r| r.line.contains("/setSettings/"))
        .count()
}

#[test]
fn save_settings_false_fails_a_single_apply_and_a_fleet_apply_alike_and_resume_retries_it() {
    let (url, seen) = never_saves();
    let file = desired();
    let mut c = bin(Color::Never);
    c.env("GREEN_API_URL", &url)
        .env("GREEN_API_ID_INSTANCE", "1101000001")
        .env("GREEN_API_TOKEN", TOKEN)
        .args(["apply", s(&file)]);
    let r = run(c);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stdout
            .contains("Not saved: the server answered saveSettings: false"),
        "{}",
        r.all()
    );

    let inst = tmp(
        "never.csv",
        &format!("id,token,api_url\n1101000001,{TOKEN},{url}\n"),
    );
    for wait in [None, Some("--wait=20s")] {
        let report = dir().join("report.json");
        let mut args = vec![
            "apply",
            s(&file),
            "--instances",
            s(&inst),
            "--report",
            s(&report),
        ];
        args.extend(wait);
        let before = sets(&seen);
        let r = cli(&args);
        assert_eq!(r.code, 1, "{args:?}: {}", r.all());
        assert!(r.stdout.contains("saveSettings: false"), "{}", r.all());
        let doc = common::read_json(&report);
        let result = &doc["results"][0];
        assert_eq!(result["status"], "failed", "{doc}");
        assert_eq!(result["error"]["kind"], "notSaved", "{doc}");
        assert_eq!(
            sets(&seen),
            before + 1,
            "one setSettings, no verification re-sends"
        );
        // --resume does not skip it: the instance is contacted again.
        let r = cli(&[
            "apply",
            s(&file),
            "--instances",
            s(&inst),
            "--resume",
            s(&report),
        ]);
        assert_eq!(r.code, 1, "{}", r.all());
        assert_eq!(sets(&seen), before + 2, "--resume retried the instance");
    }
}

/// Issue 18 item 6: `apply … | head -1` made the run panic (exit 101) at the next line, with
/// no report although instances were changed.
#[test]
fn a_closed_stdout_stops_the_lines_not_the_run_and_the_report_is_written() {
    use std::io::BufRead;
    let sb = fast(4);
    let report = dir().join("report.json");
    let mut child = common::std_bin()
        .args(["--color", "never", "apply", s(&desired())])
        .args([
            "--instances",
            s(&common::csv("f.csv", &sb)),
            "--concurrency",
            "1",
        ])
        .args(["--report", s(&report)])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Read one line, then close the pipe (what `head -1` does).
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(!first.is_empty());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let doc = common::read_json(&report);
    assert_eq!(doc["results"].as_array().unwrap().len(), 4, "{doc}");
    assert_eq!(common::set_calls(&sb), 4);
}

/// Issue 18 item 7: `--resume` compared the settings file unresolved and redacted, so after a
/// `${VAR}` value (here the webhook token) changed it skipped instances still at the old value.
#[test]
fn resume_contacts_again_the_instances_whose_resolved_settings_changed_since_the_report() {
    let sb = fast(3);
    let inst = common::csv("f.csv", &sb);
    let file = tmp(
        "hook.toml",
        "webhookUrl = \"https://hooks.example.com/x\"\nwebhookUrlToken = \"${HOOK_SECRET}\"\n",
    );
    let report = dir().join("report.json");
    let apply = |secret: &str, extra: &[&str]| {
        let mut c = bin(Color::Never);
        c.env("HOOK_SECRET", secret)
            .args(["apply", s(&file), "--instances", s(&inst)])
            .args(extra);
        run(c)
    };
    let r = apply("old-secret-1", &["--report", s(&report)]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(common::set_calls(&sb), 3);
    let text = common::read(&report);
    assert!(
        text.contains("desiredHash") && !text.contains("old-secret-1"),
        "{text}"
    );
    // The same resolved settings: nothing is contacted again.
    let resumed = dir().join("resumed.json");
    let r = apply(
        "old-secret-1",
        &["--resume", s(&report), "--report", s(&resumed)],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(common::set_calls(&sb), 3, "{}", r.all());
    // The token changed: every instance is brought to the new one.
    let r = apply("new-secret-2", &["--resume", s(&report)]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(common::set_calls(&sb), 6, "{}", r.all());
    for id in sb.instance_ids() {
        let s = common::client(&sb, id).get_settings().unwrap();
        assert_eq!(s.webhook_url_token, "new-secret-2");
    }
}

/// Issue 19: the progress line said "0 failed" while the lines and the summary counted the
/// instances that were answered `saveSettings: false` (or did not converge) as failed. Runs
/// the binary on a terminal (util-linux `script`), where the progress line is drawn.
#[cfg(target_os = "linux")]
#[test]
fn the_progress_line_counts_failed_instances_as_the_summary_does() {
    let (url, _seen) = never_saves();
    let file = desired();
    let mut csv = String::from("id,token,api_url\n");
    for id in 1101000001..=1101000003u64 {
        csv.push_str(&format!("{id},{TOKEN},{url}\n"));
    }
    let inst = tmp("progress.csv", &csv);
    let line = format!(
        "{} --color never apply {} --instances {} --concurrency 1 --yes",
        common::CLI,
        s(&file),
        s(&inst)
    );
    let mut c = std::process::Command::new("script");
    c.args(["-qec", &line, "/dev/null"]);
    for v in common::CLEARED_ENV {
        c.env_remove(v);
    }
    c.env("GREENAPI_SETTINGS_PROFILES", "/nonexistent/profiles.toml")
        // A known terminal type whatever the caller's environment (unset TERM: no progress line).
        .env("TERM", "xterm");
    let out = c
        .output()
        .expect("util-linux `script` runs the binary on a terminal");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("3 failed"), "the summary: {text}");
    assert!(
        text.contains("1/3 done, 1 failed"),
        "the progress line: {text:?}"
    );
    assert!(
        !text.contains("1/3 done, 0 failed") && !text.contains("2/3 done, 0 failed"),
        "the progress line: {text:?}"
    );
}
