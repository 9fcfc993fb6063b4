//! Settings as code, end to end against the real sandbox over loopback: drift detection
//! (`plan --detailed-exitcode`, `plan --json`, the fleet drift summary), `export` round trips,
//! layered settings files (defaults, per-instance overrides, `{idInstance}`, `${NAME}`), and
//! `schema`.

mod common;

use common::{against, cli, client, csv, fast, one, run, s, set_calls, single, tmp};
use greenapi_settings::SettingsPatch;
use greenapi_settings_sandbox::{generated_token, DEFAULT_INSTANCE_ID};
use serde_json::Value;

// ---- drift detection ---------------------------------------------------------------------

#[test]
fn plan_detailed_exitcode_is_2_with_changes_0_without_and_1_on_any_error() {
    let sb = single();
    let f = tmp("drift.toml", "incomingWebhook = \"yes\"\n");
    let r = against(&sb, &["plan", s(&f), "--detailed-exitcode"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stdout.contains("~ incomingWebhook: no -> yes"),
        "{}",
        r.all()
    );

    let r = against(&sb, &["apply", s(&f)]);
    assert_eq!(r.code, 0, "{}", r.all());
    let r = against(&sb, &["plan", s(&f), "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "{}", r.all());

    // Invalid input, a usage error and an API failure are all 1 (2 means "changes").
    let bad = tmp("drift-bad.toml", "delaySendMessagesMilliseconds = 1\n");
    for args in [
        vec!["plan", s(&bad), "--detailed-exitcode"],
        vec!["plan", s(&f), "--detailed-exitcode", "--no-such-flag"],
    ] {
        let r = against(&sb, &args);
        assert_eq!(r.code, 1, "{args:?}: {}", r.all());
    }
    let r = run(one(&sb).env("GREEN_API_TOKEN", "wrong-SECRET-token").args([
        "plan",
        s(&f),
        "--detailed-exitcode",
    ]));
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(!r.all().contains("wrong-SECRET-token"));
    // Without the flag, invalid input keeps its usual 2.
    let r = against(&sb, &["plan", s(&bad)]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert_eq!(set_calls(&sb), 1, "only the apply sent anything");
}

#[test]
fn plan_json_is_a_versioned_document_with_values_and_the_webhook_token_redacted() {
    let sb = single();
    let f = tmp(
        "plan-json.toml",
        "webhookUrl = \"https://hooks.example.com/{idInstance}\"\nwebhookUrlToken = \"${HOOK_TOKEN}\"\ndeviceWebhook = \"yes\"\n",
    );
    let r = run(one(&sb).env("HOOK_TOKEN", "tok-SECRET-123").args([
        "plan",
        s(&f),
        "--json",
        "--detailed-exitcode",
    ]));
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(!r.all().contains("tok-SECRET-123"), "{}", r.all());
    let doc = r.json();
    assert_eq!(doc["formatVersion"], 2);
    assert_eq!(doc["command"], "plan");
    let inst = &doc["results"][0];
    assert_eq!(inst["idInstance"], DEFAULT_INSTANCE_ID);
    assert_eq!(inst["status"], "planned");
    assert_eq!(inst["error"], Value::Null);
    assert_eq!(
        inst["after"]["webhookUrl"],
        format!("https://hooks.example.com/{DEFAULT_INSTANCE_ID}")
    );
    assert_eq!(inst["before"]["webhookUrl"], "");
    assert_eq!(inst["after"]["webhookUrlToken"], "<redacted>");
    assert_eq!(inst["before"]["webhookUrlToken"], "");
    let w = &inst["warnings"][0];
    assert_eq!(
        (w["field"].as_str(), w["rule"].as_str()),
        (Some("deviceWebhook"), Some("temporarilyBroken"))
    );
    assert!(w["message"].is_string());
    assert_eq!(doc["summary"]["withChanges"], 1);
    assert_eq!(doc["summary"]["fields"]["webhookUrl"], 1);
    assert_eq!(set_calls(&sb), 0);
}

#[test]
fn plan_json_of_an_instance_that_cannot_be_read_carries_the_error_and_exits_1() {
    let sb = single();
    let f = tmp("plan-json-err.toml", "incomingWebhook = \"yes\"\n");
    let r =
        run(one(&sb)
            .env("GREEN_API_TOKEN", "wrong-SECRET-token")
            .args(["plan", s(&f), "--json"]));
    assert_eq!(r.code, 1, "{}", r.all());
    let doc = r.json();
    assert_eq!(doc["results"][0]["status"], "failed");
    assert_eq!(doc["results"][0]["error"]["kind"], "auth");
    assert!(!r.all().contains("wrong-SECRET-token"));
}

#[test]
fn a_fleet_plan_ends_with_a_drift_summary_per_field_and_sends_nothing() {
    let sb = fast(4);
    let ids = sb.instance_ids();
    // Instance 0 is already as desired; 1 and 2 differ on one or two fields; 3 on both.
    client(&sb, ids[0])
        .set_settings(
            &SettingsPatch::new()
                .incoming_webhook(true)
                .state_webhook(true),
        )
        .unwrap();
    client(&sb, ids[1])
        .set_settings(&SettingsPatch::new().incoming_webhook(true))
        .unwrap();
    client(&sb, ids[2])
        .set_settings(&SettingsPatch::new().state_webhook(true))
        .unwrap();
    let before = set_calls(&sb);
    let fleet = csv("drift-fleet.csv", &sb);
    let f = tmp(
        "drift-fleet.toml",
        "incomingWebhook = \"yes\"\nstateWebhook = \"yes\"\n",
    );

    let r = cli(&[
        "plan",
        s(&f),
        "--instances",
        s(&fleet),
        "--detailed-exitcode",
    ]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stdout
            .contains(&format!("drift: 3 of 4 instance(s) differ from {}", s(&f))),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("stateWebhook     2 instance(s)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("incomingWebhook  2 instance(s)"),
        "{}",
        r.stdout
    );

    let r = cli(&["plan", s(&f), "--instances", s(&fleet), "--json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let doc = r.json();
    assert_eq!(doc["formatVersion"], 2);
    assert_eq!(doc["summary"]["total"], 4);
    assert_eq!(doc["summary"]["withChanges"], 3);
    assert_eq!(doc["summary"]["unchanged"], 1);
    assert_eq!(doc["summary"]["fields"]["incomingWebhook"], 2);
    assert_eq!(doc["summary"]["fields"]["stateWebhook"], 2);
    let insts = doc["results"].as_array().unwrap();
    assert_eq!(insts.len(), 4);
    assert_eq!(insts[0]["status"], "unchanged");
    assert_eq!(insts[3]["changes"].as_array().unwrap().len(), 2);
    assert!(
        r.stderr.contains("drift: 3 of 4"),
        "human lines go to stderr: {}",
        r.stderr
    );
    assert!(!r.all().contains("sandbox-token"), "no API token");
    assert_eq!(set_calls(&sb), before, "plan sends nothing");

    // Everyone as desired: 0. One instance unreadable: 1, whatever else differs.
    assert_eq!(cli(&["apply", s(&f), "--instances", s(&fleet)]).code, 0);
    let r = cli(&[
        "plan",
        s(&f),
        "--instances",
        s(&fleet),
        "--detailed-exitcode",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("drift: 0 of 4 instance(s)"),
        "{}",
        r.stdout
    );
    let broken = tmp(
        "drift-broken.csv",
        &format!(
            "{},wrong-token,{}\n{},{},{}\n",
            ids[0],
            sb.url(),
            ids[1],
            generated_token(ids[1]),
            sb.url()
        ),
    );
    let r = cli(&[
        "plan",
        s(&f),
        "--instances",
        s(&broken),
        "--detailed-exitcode",
    ]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stdout.contains("(1 could not be read)"), "{}", r.stdout);
}
