//! The built `greenapi-settings` binary against the real sandbox over loopback.

mod common;

use std::collections::HashSet;
use std::path::Path;

use common::{against, bin, run, tmp, Color, Run};
use greenapi_settings::SettingsPatch;
use greenapi_settings_sandbox::{
    generated_token, BlockingSandbox, SandboxConfig, DEFAULT_INSTANCE_ID, DEFAULT_TOKEN,
};
use serde_json::Value;

fn quiet_sandbox() -> BlockingSandbox {
    BlockingSandbox::start(SandboxConfig::default()).unwrap()
}

#[test]
fn demo_shows_plan_apply_get_and_a_second_apply_that_sends_nothing() {
    let mut c = bin(Color::Unset);
    c.args(["demo", "--color", "never"]);
    let r = run(c);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    for step in [
        "1. plan",
        "2. apply",
        "3. get",
        "4. apply the same settings again",
    ] {
        assert!(r.stdout.contains(step), "{step}: {}", r.stdout);
    }
    assert!(
        r.stdout
            .contains("~ delaySendMessagesMilliseconds: 0 -> 5000"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("nothing sent (setSettings calls so far: 1, restarts: 1)"),
        "{}",
        r.stdout
    );
}

#[test]
fn get_prints_a_table_and_json_without_the_token() {
    let sb = quiet_sandbox();
    let r = against(&sb, &["get"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("delaySendMessagesMilliseconds") && r.stdout.contains("(read-only)"),
        "{}",
        r.stdout
    );
    let r = against(&sb, &["get", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["results"][0]["values"]["incomingWebhook"], "no");
    assert!(!format!("{}{}", r.stdout, r.stderr).contains(DEFAULT_TOKEN));
}

#[test]
fn set_flags_come_from_the_spec_and_are_sent_after_validation() {
    let sb = quiet_sandbox();
    let r = against(
        &sb,
        &[
            "set",
            "--incoming-webhook",
            "yes",
            "--delay-send-messages-milliseconds",
            "900",
            "--webhook-url",
            "https://x.example/hook",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("saved 3 setting(s)"), "{}", r.stdout);
    let s = sb.stats(DEFAULT_INSTANCE_ID).unwrap().settings;
    assert!(s.incoming_webhook);
    assert_eq!(s.delay_send_messages_milliseconds, 900);
}

#[test]
fn set_accepts_a_json_object_or_file() {
    let sb = quiet_sandbox();
    let r = against(
        &sb,
        &[
            "set",
            "--json",
            r#"{"stateWebhook": "yes", "incoming_webhook": true}"#,
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let file = tmp("set.json", r#"{"delaySendMessagesMilliseconds": 1500}"#);
    let r = against(&sb, &["set", "--json", &format!("@{}", file.display())]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let s = sb.stats(DEFAULT_INSTANCE_ID).unwrap().settings;
    assert!(s.state_webhook && s.incoming_webhook);
    assert_eq!(s.delay_send_messages_milliseconds, 1500);
    let r = against(&sb, &["set", "--json", r#"{"stateWebhok": "yes"}"#]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("did you mean `stateWebhook`"),
        "{}",
        r.stderr
    );
}

#[test]
fn invalid_set_exits_2_listing_every_problem_and_sends_nothing() {
    let sb = quiet_sandbox();
    let r = against(
        &sb,
        &[
            "set",
            "--delay-send-messages-milliseconds",
            "100",
            "--webhook-url",
            "ftp://x",
        ],
    );
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("delaySendMessagesMilliseconds: 100 is out of range"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("webhookUrl: \"ftp://x\""), "{}", r.stderr);
    let r = against(&sb, &["set", "--incoming-webhook", "maybe"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("--incoming-webhook: expected yes or no"),
        "{}",
        r.stderr
    );
    let stats = sb.stats(DEFAULT_INSTANCE_ID).unwrap();
    assert_eq!(stats.set_settings_calls + stats.get_settings_calls, 0);
}

#[test]
fn validate_checks_a_file_offline() {
    let good = tmp(
        "good.toml",
        "incoming_webhook = true\noutgoingWebhook = \"yes\"\ndeviceWebhook = \"no\"\n",
    );
    let mut c = bin(Color::Unset);
    c.args(["validate", good.to_str().unwrap(), "--color", "never"]);
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("3 setting(s), 1 warning(s)"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("deviceWebhook"), "{}", r.stdout);

    let bad = tmp(
        "bad.json",
        r#"{"delaySendMessagesMilliseconds": 100, "webhookUrl": "ftp://x", "incomingWebhok": "yes"}"#,
    );
    let mut c = bin(Color::Unset);
    c.args(["validate", bad.to_str().unwrap()]);
    let r = run(c);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("did you mean `incomingWebhook`"),
        "{}",
        r.stderr
    );
    let bad = tmp(
        "bad2.json",
        r#"{"delaySendMessagesMilliseconds": 100, "webhookUrl": "ftp://x"}"#,
    );
    let mut c = bin(Color::Unset);
    c.args(["validate", bad.to_str().unwrap()]);
    let r = run(c);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("2 problem(s)")
            && r.stderr.contains("webhookUrl")
            && r.stderr.contains("delaySendMessagesMilliseconds"),
        "{}",
        r.stderr
    );
}

#[test]
fn plan_and_apply_send_only_changes_and_nothing_the_second_time() {
    let sb = quiet_sandbox();
    let file = tmp("desired.toml", "[settings]\nincomingWebhook = \"yes\"\nincoming_call_webhook = true\ndelay_send_messages_milliseconds = 5000\n");
    let f = file.to_str().unwrap();
    let r = against(&sb, &["plan", f]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("~ incomingWebhook: no -> yes"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("Plan: 3 change(s)"), "{}", r.stdout);
    assert_eq!(sb.stats(DEFAULT_INSTANCE_ID).unwrap().set_settings_calls, 0);

    let r = against(&sb, &["apply", f]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("Applied 3 change(s)"), "{}", r.stdout);
    let r = against(&sb, &["apply", f]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("No changes") && r.stdout.contains("Nothing sent"),
        "{}",
        r.stdout
    );
    assert_eq!(sb.stats(DEFAULT_INSTANCE_ID).unwrap().set_settings_calls, 1);
}

#[test]
fn api_failures_are_one_line_with_exit_1_and_never_show_the_token() {
    let sb = quiet_sandbox();
    let secret = "wrong-SECRET-token-77";
    let mut c = bin(Color::Unset);
    c.args([
        "--api-url",
        &sb.url(),
        "--id-instance",
        &DEFAULT_INSTANCE_ID.to_string(),
        "--api-token",
        secret,
        "get",
    ]);
    let r = run(c);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr.lines().next().unwrap(),
        "error: authentication failed (HTTP 401): the API token was not accepted"
    );
    let mut c = bin(Color::Unset);
    c.args([
        "--api-url",
        &sb.url(),
        "--id-instance",
        &DEFAULT_INSTANCE_ID.to_string(),
        "--api-token",
        secret,
        "--verbose",
        "get",
    ]);
    let r = run(c);
    assert!(
        r.stderr.contains("hint: check the API token"),
        "{}",
        r.stderr
    );
    assert!(!format!("{}{}", r.stdout, r.stderr).contains(secret));
}

#[test]
fn no_credentials_use_an_embedded_sandbox_and_say_so() {
    let mut c = bin(Color::Unset);
    c.args(["get", "--json"]);
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("using an embedded sandbox"),
        "{}",
        r.stderr
    );
    assert!(serde_json::from_str::<Value>(&r.stdout).is_ok());
}

#[test]
fn incomplete_credentials_and_bad_usage_exit_2() {
    let mut c = bin(Color::Unset);
    c.args(["--id-instance", "5", "get"]);
    let r = run(c);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(
            "incomplete credentials: the command line gives --id-instance but not --api-url, --api-token"
        ),
        "{}",
        r.stderr
    );
    let mut c = bin(Color::Unset);
    c.args(["get", "--no-such-flag"]);
    assert_eq!(run(c).code, 2);
}

#[test]
fn credentials_can_come_from_a_profile_file() {
    let sb = quiet_sandbox();
    let profiles = tmp("profiles.toml", &format!("[profiles.work]\napi_url = \"{}\"\nid_instance = {DEFAULT_INSTANCE_ID}\napi_token = \"{DEFAULT_TOKEN}\"\n", sb.url()));
    let mut c = bin(Color::Unset);
    c.env("GREENAPI_SETTINGS_PROFILES", &profiles)
        .args(["--profile", "work", "get", "--json"]);
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(sb.stats(DEFAULT_INSTANCE_ID).unwrap().get_settings_calls, 1);
    let mut c = bin(Color::Unset);
    c.env("GREENAPI_SETTINGS_PROFILES", &profiles)
        .args(["--profile", "home", "get"]);
    let r = run(c);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("no profile [profiles.home]"),
        "{}",
        r.stderr
    );
}

#[test]
fn docs_prints_the_reference_generated_from_the_spec() {
    let mut c = bin(Color::Unset);
    c.arg("docs");
    let r = run(c);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout.contains("### delaySendMessagesMilliseconds")
            && r.stdout.contains("pollNeedsMessageWebhook")
    );
}

/// `apply DESIRED --instances CSV --report REPORT` plus `extra` flags, without colours.
fn fleet_apply(desired: &Path, csv: &Path, report: &Path, extra: &[&str]) -> Run {
    let mut c = bin(Color::Never);
    c.args(["apply"])
        .arg(desired)
        .arg("--instances")
        .arg(csv)
        .arg("--report")
        .arg(report)
        .args(extra);
    run(c)
}

fn report(path: &Path) -> Value {
    common::read_json(path)
}

#[test]
fn fleet_apply_over_200_instances_with_faults_reports_exactly_and_resumes_failures_only() {
    const N: usize = 200;
    let sb =
        BlockingSandbox::start(SandboxConfig::instances_generated(N).error_rate(0.12)).unwrap();
    let ids = sb.instance_ids();
    let csv = common::fleet_csv("fleet.csv", common::CSV_HEADER, &sb, &ids);
    let desired = tmp("fleet.toml", "incomingWebhook = \"yes\"\noutgoingWebhook = \"yes\"\ndelaySendMessagesMilliseconds = 3000\n");
    let want = SettingsPatch::new()
        .incoming_webhook(true)
        .outgoing_webhook(true)
        .delay_send_messages_milliseconds(3000);
    let report1 = tmp("report1.json", "");

    let r = fleet_apply(
        &desired,
        &csv,
        &report1,
        &["--retries", "1", "--concurrency", "64"],
    );
    let rep = report(&report1);
    let results = rep["results"].as_array().unwrap();
    // Complete: every instance exactly once.
    assert_eq!(results.len(), N);
    let seen: HashSet<u64> = results
        .iter()
        .map(|r| r["idInstance"].as_u64().unwrap())
        .collect();
    assert_eq!(seen, ids.iter().copied().collect::<HashSet<_>>());
    // Exact: each status matches what the server saw.
    let mut failed = 0;
    for res in results {
        let id = res["idInstance"].as_u64().unwrap();
        let stats = sb.stats(id).unwrap();
        match res["status"].as_str().unwrap() {
            "applied" => {
                assert_eq!(stats.restarts, 1, "{id}");
                assert!(
                    want.changed_only(&stats.settings).is_empty(),
                    "{id} has the desired settings"
                );
                assert_eq!(res["changes"].as_array().unwrap().len(), 3);
            }
            "failed" => {
                failed += 1;
                assert_eq!(stats.restarts, 0, "{id}: a failed instance was not changed");
                assert_eq!(res["error"]["kind"], "server", "{res}");
            }
            other => panic!("unexpected status {other} for {id}"),
        }
        assert!(
            !res.to_string().contains("sandbox-token"),
            "no token in the report"
        );
    }
    assert_eq!(rep["summary"]["failed"].as_u64().unwrap() as usize, failed);
    assert_eq!(r.code, if failed > 0 { 1 } else { 0 }, "{}", r.stderr);
    assert!(failed > 0, "faults were injected, some 500s must surface");
    assert!(
        r.stdout.contains(&format!("{N} instance(s):")),
        "{}",
        r.stdout
    );
    let rate_limited: u64 = sb.all_stats().iter().map(|s| s.rate_limited).sum();
    assert_eq!(rate_limited, 0, "1 request/second/instance was honoured");

    // Resume: only failed instances are contacted again, until none fail.
    let mut previous = report1.clone();
    for round in 0..6 {
        let before: Vec<u64> = ids
            .iter()
            .map(|id| {
                sb.stats(*id).unwrap().set_settings_calls
                    + sb.stats(*id).unwrap().get_settings_calls
            })
            .collect();
        let done: HashSet<u64> = report(&previous)["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["status"] != "failed")
            .map(|r| r["idInstance"].as_u64().unwrap())
            .collect();
        let next = tmp(&format!("report-resume-{round}.json"), "");
        let resume = ["--retries", "1", "--resume", previous.to_str().unwrap()];
        let r = fleet_apply(&desired, &csv, &next, &resume);
        for (i, id) in ids.iter().enumerate() {
            let now = sb.stats(*id).unwrap();
            if done.contains(id) {
                assert_eq!(
                    now.set_settings_calls + now.get_settings_calls,
                    before[i],
                    "{id} was done and must not be contacted"
                );
            }
            assert!(now.restarts <= 1, "{id} restarted twice");
        }
        let rep = report(&next);
        assert_eq!(rep["results"].as_array().unwrap().len(), N);
        previous = next;
        if r.code == 0 {
            break;
        }
        assert!(round < 5, "failures persisted after 6 resumes");
    }
    // Everything is in place now: a plain apply sends nothing anywhere.
    let sets_before = common::set_calls(&sb);
    let report3 = tmp("report3.json", "");
    let r = fleet_apply(&desired, &csv, &report3, &["--concurrency", "100"]);
    let rep = report(&report3);
    let failed_now = rep["summary"]["failed"].as_u64().unwrap();
    let unchanged = rep["summary"]["unchanged"].as_u64().unwrap();
    assert_eq!(unchanged + failed_now, N as u64, "{}", r.stdout);
    let sets_after = common::set_calls(&sb);
    assert_eq!(
        sets_after, sets_before,
        "nothing is sent to instances already in the desired state"
    );
}

#[test]
fn the_sandbox_command_serves_the_api_until_stopped() {
    let mut child = common::std_bin()
        .args(["sandbox", "--rate-limit", "off", "--instances", "3"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let rx = common::lines_of(&mut child);
    let first = rx.recv_timeout(std::time::Duration::from_secs(30)).unwrap();
    let url = first
        .strip_prefix("listening on ")
        .expect("first line names the URL")
        .to_string();
    let second = rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
    assert!(
        second.contains("1101000001") && !second.contains("sandbox-token"),
        "{second}"
    );
    let id = DEFAULT_INSTANCE_ID + 2;
    let client =
        greenapi_settings::blocking::Client::new(url, id, generated_token(id).as_str()).unwrap();
    let applied = client
        .apply(&SettingsPatch::new().state_webhook(true))
        .unwrap();
    assert!(applied.sent());
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn get_across_a_fleet_prints_every_instance_and_fails_if_one_does() {
    let sb = BlockingSandbox::start(SandboxConfig::instances_generated(5)).unwrap();
    let ids = sb.instance_ids();
    let mut csv = String::new();
    for (i, id) in ids.iter().enumerate() {
        let token = if i == 3 {
            "wrong-token-SECRET".to_string()
        } else {
            generated_token(*id)
        };
        csv.push_str(&format!("{id},{token},{}\n", sb.url()));
    }
    let csv = tmp("get-fleet.csv", &csv);
    let mut c = bin(Color::Unset);
    c.args(["get", "--instances", csv.to_str().unwrap()]);
    let r = run(c);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 5);
    assert_eq!(v["summary"]["failed"], 1);
    assert_eq!(results[3]["error"]["kind"], "auth");
    assert_eq!(results[0]["values"]["incomingWebhook"], "no");
    let out = format!("{}{}", r.stdout, r.stderr);
    assert!(
        !out.contains("SECRET") && !out.contains("sandbox-token"),
        "no token printed"
    );
}
