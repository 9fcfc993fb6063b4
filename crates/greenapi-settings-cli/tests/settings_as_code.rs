//! Settings as code, end to end against the real sandbox over loopback: drift detection
//! (`plan --detailed-exitcode`, `plan --json`, the fleet drift summary), `export` round trips,
//! layered settings files (defaults, per-instance overrides, `{idInstance}`, `${NAME}`), and
//! `schema`.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use greenapi_settings::blocking::Client;
use greenapi_settings::SettingsPatch;
use greenapi_settings_sandbox::{
    generated_token, BlockingSandbox, SandboxConfig, DEFAULT_INSTANCE_ID, DEFAULT_TOKEN,
};
use serde_json::Value;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.all()))
    }
}

fn bin() -> Command {
    let mut c = Command::cargo_bin("greenapi-settings").unwrap();
    for v in [
        "GREEN_API_URL",
        "GREEN_API_ID_INSTANCE",
        "GREEN_API_TOKEN",
        "XDG_CONFIG_HOME",
        "GREENAPI_WEBHOOK_TOKEN",
    ] {
        c.env_remove(v);
    }
    c.env("GREENAPI_SETTINGS_PROFILES", "/nonexistent/profiles.toml");
    c.args(["--color", "never"]);
    c.timeout(std::time::Duration::from_secs(120));
    c
}

fn run(mut c: Command) -> Run {
    let out = c.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// One instance: the sandbox's default one.
fn one(sb: &BlockingSandbox) -> Command {
    let mut c = bin();
    c.args(["--api-url", &sb.url(), "--id-instance"])
        .arg(DEFAULT_INSTANCE_ID.to_string())
        .env("GREEN_API_TOKEN", DEFAULT_TOKEN);
    c
}

fn tmp(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gas-cli-sac-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn fast(n: usize) -> BlockingSandbox {
    BlockingSandbox::start(SandboxConfig::instances_generated(n).rate_limit(None)).unwrap()
}

fn single() -> BlockingSandbox {
    BlockingSandbox::start(SandboxConfig::default().rate_limit(None)).unwrap()
}

fn csv(name: &str, sb: &BlockingSandbox) -> PathBuf {
    let mut text = String::from("id,token,api_url\n");
    for id in sb.instance_ids() {
        text.push_str(&format!("{id},{},{}\n", generated_token(id), sb.url()));
    }
    tmp(name, &text)
}

/// A client of an instance of [`fast`] (generated tokens).
fn client(sb: &BlockingSandbox, id: u64) -> Client {
    Client::new(sb.url(), id, generated_token(id)).unwrap()
}

fn set_calls(sb: &BlockingSandbox) -> u64 {
    sb.all_stats().iter().map(|s| s.set_settings_calls).sum()
}

// ---- drift detection ---------------------------------------------------------------------

#[test]
fn plan_detailed_exitcode_is_2_with_changes_0_without_and_1_on_any_error() {
    let sb = single();
    let f = tmp("drift.toml", "incomingWebhook = \"yes\"\n");
    let r = run({
        let mut c = one(&sb);
        c.args(["plan", s(&f), "--detailed-exitcode"]);
        c
    });
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stdout.contains("~ incomingWebhook: no -> yes"),
        "{}",
        r.all()
    );

    let r = run({
        let mut c = one(&sb);
        c.args(["apply", s(&f)]);
        c
    });
    assert_eq!(r.code, 0, "{}", r.all());
    let r = run({
        let mut c = one(&sb);
        c.args(["plan", s(&f), "--detailed-exitcode"]);
        c
    });
    assert_eq!(r.code, 0, "{}", r.all());

    // Invalid input, a usage error and an API failure are all 1 (2 means "changes").
    let bad = tmp("drift-bad.toml", "delaySendMessagesMilliseconds = 1\n");
    for args in [
        vec!["plan", s(&bad), "--detailed-exitcode"],
        vec!["plan", s(&f), "--detailed-exitcode", "--no-such-flag"],
    ] {
        let r = run({
            let mut c = one(&sb);
            c.args(&args);
            c
        });
        assert_eq!(r.code, 1, "{args:?}: {}", r.all());
    }
    let mut c = bin();
    c.args(["--api-url", &sb.url(), "--id-instance"])
        .arg(DEFAULT_INSTANCE_ID.to_string())
        .env("GREEN_API_TOKEN", "wrong-SECRET-token")
        .args(["plan", s(&f), "--detailed-exitcode"]);
    let r = run(c);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(!r.all().contains("wrong-SECRET-token"));
    // Without the flag, invalid input keeps its usual 2.
    let r = run({
        let mut c = one(&sb);
        c.args(["plan", s(&bad)]);
        c
    });
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
    let r = run({
        let mut c = one(&sb);
        c.env("HOOK_TOKEN", "tok-SECRET-123").args([
            "plan",
            s(&f),
            "--json",
            "--detailed-exitcode",
        ]);
        c
    });
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(!r.all().contains("tok-SECRET-123"), "{}", r.all());
    let doc = r.json();
    assert_eq!(doc["formatVersion"], 1);
    let inst = &doc["instances"][0];
    assert_eq!(inst["idInstance"], DEFAULT_INSTANCE_ID);
    assert_eq!(inst["status"], "planned");
    assert_eq!(inst["error"], Value::Null);
    let changes = inst["changes"].as_array().unwrap();
    let change = |f: &str| changes.iter().find(|c| c["field"] == f).unwrap().clone();
    assert_eq!(
        change("webhookUrl")["desired"],
        format!("https://hooks.example.com/{DEFAULT_INSTANCE_ID}")
    );
    assert_eq!(change("webhookUrl")["current"], "");
    assert_eq!(change("webhookUrlToken")["desired"], "<redacted>");
    assert_eq!(change("webhookUrlToken")["current"], "");
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
    let mut c = bin();
    c.args(["--api-url", &sb.url(), "--id-instance"])
        .arg(DEFAULT_INSTANCE_ID.to_string())
        .env("GREEN_API_TOKEN", "wrong-SECRET-token")
        .args(["plan", s(&f), "--json"]);
    let r = run(c);
    assert_eq!(r.code, 1, "{}", r.all());
    let doc = r.json();
    assert_eq!(doc["instances"][0]["status"], "failed");
    assert_eq!(doc["instances"][0]["error"]["kind"], "auth");
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

    let mut c = bin();
    c.args([
        "plan",
        s(&f),
        "--instances",
        s(&fleet),
        "--detailed-exitcode",
    ]);
    let r = run(c);
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

    let mut c = bin();
    c.args(["plan", s(&f), "--instances", s(&fleet), "--json"]);
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.all());
    let doc = r.json();
    assert_eq!(doc["formatVersion"], 1);
    assert_eq!(doc["summary"]["instances"], 4);
    assert_eq!(doc["summary"]["withChanges"], 3);
    assert_eq!(doc["summary"]["unchanged"], 1);
    assert_eq!(doc["summary"]["fields"]["incomingWebhook"], 2);
    assert_eq!(doc["summary"]["fields"]["stateWebhook"], 2);
    let insts = doc["instances"].as_array().unwrap();
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
    let mut c = bin();
    c.args(["apply", s(&f), "--instances", s(&fleet)]);
    assert_eq!(run(c).code, 0);
    let mut c = bin();
    c.args([
        "plan",
        s(&f),
        "--instances",
        s(&fleet),
        "--detailed-exitcode",
    ]);
    let r = run(c);
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
    let mut c = bin();
    c.args([
        "plan",
        s(&f),
        "--instances",
        s(&broken),
        "--detailed-exitcode",
    ]);
    let r = run(c);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stdout.contains("(1 could not be read)"), "{}", r.stdout);
}
