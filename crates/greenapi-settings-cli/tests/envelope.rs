//! Issue 19, "one output grammar": `--output json` / `--json` prints one envelope
//! (formatVersion 2) on stdout for every result-producing command, `--report` files are that
//! envelope with each instance's `before` / `after`, and `apply --undo REPORT` restores the
//! `before` values (fields changed since are conflicts, left alone). Against the real sandbox
//! over loopback; the envelopes are golden snapshots (insta) with times, durations and ports
//! blanked, and none holds a token.

mod common;

use common::{
    against, cli, client, csv, default_client, fast, one, run, s, set_calls, single, tmp,
};
use greenapi_settings::SettingsPatch;
use greenapi_settings_sandbox::BlockingSandbox;
use serde_json::Value;

/// The envelope with what changes from run to run blanked: timestamps, durations, the
/// connections a fleet's pool opened (depends on timing), the sandbox's port, temporary paths.
fn stable(mut v: Value, sb: Option<&BlockingSandbox>) -> String {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    match k.as_str() {
                        "startedAt" | "finishedAt" if x.is_string() => *x = "[time]".into(),
                        "durationMs" | "connectionsOpened" if x.is_number() => *x = 0.into(),
                        _ => walk(x),
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    let mut text = serde_json::to_string_pretty(&v).unwrap();
    if let Some(sb) = sb {
        text = text.replace(&sb.url(), "[sandbox]");
    }
    let tmp = std::env::temp_dir().display().to_string();
    regex_free_replace(&text, &tmp)
}

/// Temporary paths (`/tmp/gas-cli-tests-PID/N/name`) as `[tmp]/name`.
fn regex_free_replace(text: &str, tmp: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    let marker = format!("{tmp}/gas-cli-tests-");
    while let Some(at) = rest.find(&marker) {
        out.push_str(&rest[..at]);
        let after = &rest[at + marker.len()..];
        // PID/N/
        let skip = after
            .char_indices()
            .filter(|(_, c)| *c == '/')
            .nth(1)
            .map_or(after.len(), |(i, _)| i + 1);
        out.push_str("[tmp]/");
        rest = &after[skip..];
    }
    out.push_str(rest);
    out
}

fn no_token(text: &str) {
    assert!(!text.contains("sandbox-token"), "an API token in: {text}");
    assert!(
        !text.contains("hook-SECRET"),
        "the webhook token in: {text}"
    );
}

fn settings_json(sb: &BlockingSandbox, id: u64) -> Value {
    client(sb, id).get_settings().unwrap().to_json_value()
}

/// A fleet of `n` whose instances start from distinct settings (so undo has something of each
/// instance's own to put back).
fn varied_fleet(n: usize) -> BlockingSandbox {
    let sb = fast(n);
    for (i, id) in sb.instance_ids().into_iter().enumerate() {
        client(&sb, id)
            .set_settings(
                &SettingsPatch::new()
                    .delay_send_messages_milliseconds(1000 + 500 * i as i64)
                    .incoming_webhook(i % 2 == 0),
            )
            .unwrap();
    }
    sb
}

const DESIRED: &str =
    "incomingWebhook = \"yes\"\ndelaySendMessagesMilliseconds = 5000\nstateWebhook = \"yes\"\n";

// ---- undo -----------------------------------------------------------------------------------

#[test]
fn undo_of_a_fleet_report_restores_every_instances_settings_and_a_second_undo_sends_nothing() {
    let sb = varied_fleet(3);
    let ids = sb.instance_ids();
    let originals: Vec<Value> = ids.iter().map(|id| settings_json(&sb, *id)).collect();
    let fleet = csv("undo-fleet.csv", &sb);
    let desired = tmp("undo.toml", DESIRED);
    let report = desired.with_file_name("report.json");
    let r = cli(&[
        "apply",
        s(&desired),
        "--instances",
        s(&fleet),
        "--report",
        s(&report),
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    let rep = common::read_json(&report);
    assert_eq!(rep["formatVersion"], 2);
    assert_eq!(rep["command"], "apply");
    let first = &rep["results"][0];
    assert_eq!(first["before"]["delaySendMessagesMilliseconds"], 1000);
    assert_eq!(first["after"]["delaySendMessagesMilliseconds"], 5000);
    assert_ne!(settings_json(&sb, ids[0]), originals[0]);

    let undo_report = desired.with_file_name("undo.json");
    let r = cli(&[
        "apply",
        "--undo",
        s(&report),
        "--instances",
        s(&fleet),
        "--report",
        s(&undo_report),
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    for (id, original) in ids.iter().zip(&originals) {
        assert_eq!(&settings_json(&sb, *id), original, "instance {id}");
    }
    let undone = common::read_json(&undo_report);
    assert_eq!(undone["command"], "undo");
    assert_eq!(undone["summary"]["applied"], 3, "{undone}");
    assert_eq!(
        undone["results"][0]["after"]["delaySendMessagesMilliseconds"],
        1000
    );
    no_token(&r.all());
    no_token(&common::read(&undo_report));

    // Everything is back: the same undo reads, and sends nothing.
    let sets = set_calls(&sb);
    let r = cli(&[
        "apply",
        "--undo",
        s(&report),
        "--instances",
        s(&fleet),
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(r.json()["summary"]["unchanged"], 3, "{}", r.stdout);
    assert_eq!(
        set_calls(&sb),
        sets,
        "nothing sent for instances already back"
    );

    // The undo's report undoes the undo.
    let r = cli(&["apply", "--undo", s(&undo_report), "--instances", s(&fleet)]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        settings_json(&sb, ids[0])["delaySendMessagesMilliseconds"],
        5000
    );
}

#[test]
fn undo_leaves_a_field_changed_since_the_report_as_a_conflict_and_exits_1() {
    let sb = varied_fleet(2);
    let ids = sb.instance_ids();
    let fleet = csv("conflict.csv", &sb);
    let desired = tmp("conflict.toml", DESIRED);
    let report = desired.with_file_name("report.json");
    let r = cli(&[
        "apply",
        s(&desired),
        "--instances",
        s(&fleet),
        "--report",
        s(&report),
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    // Someone changes one field on the first instance after the apply.
    client(&sb, ids[0])
        .set_settings(&SettingsPatch::new().delay_send_messages_milliseconds(7777))
        .unwrap();

    let r = cli(&[
        "apply",
        "--undo",
        s(&report),
        "--instances",
        s(&fleet),
        "--json",
    ]);
    assert_eq!(r.code, 1, "{}", r.all());
    let now = settings_json(&sb, ids[0]);
    assert_eq!(
        now["delaySendMessagesMilliseconds"], 7777,
        "the conflicting field is left alone"
    );
    assert_eq!(
        now["incomingWebhook"], "yes",
        "instance 0 had yes before: nothing to restore"
    );
    assert_eq!(
        now["stateWebhook"], "no",
        "the other changed field is restored"
    );
    assert_eq!(
        settings_json(&sb, ids[1])["delaySendMessagesMilliseconds"],
        1500
    );
    let doc = r.json();
    let first = &doc["results"][0];
    assert_eq!(first["status"], "conflict", "{first}");
    assert_eq!(
        first["conflicts"][0]["field"],
        "delaySendMessagesMilliseconds"
    );
    assert_eq!(first["conflicts"][0]["report"], 5000);
    assert_eq!(first["conflicts"][0]["now"], 7777);
    assert_eq!(doc["results"][1]["status"], "applied");
    assert!(
        r.stderr.contains("changed since the report, left alone"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_single_apply_envelope_is_a_report_that_undo_restores_with_the_usual_credentials() {
    let sb = single();
    let original = default_client(&sb).get_settings().unwrap().to_json_value();
    // A fresh instance's delay (0) is not a value setSettings accepts: not in this file.
    let desired = tmp(
        "single.toml",
        "incomingWebhook = \"yes\"\nstateWebhook = \"yes\"\n",
    );
    let r = against(&sb, &["apply", s(&desired), "--json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let report = desired.with_file_name("apply.json");
    std::fs::write(&report, &r.stdout).unwrap();
    assert_ne!(
        default_client(&sb).get_settings().unwrap().to_json_value(),
        original
    );

    // plan --undo shows and sends nothing.
    let sets = set_calls(&sb);
    let r = against(&sb, &["plan", "--undo", s(&report), "--json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(r.json()["command"], "planUndo");
    assert_eq!(r.json()["results"][0]["status"], "planned");
    assert_eq!(set_calls(&sb), sets);

    let r = against(&sb, &["apply", "--undo", s(&report)]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        default_client(&sb).get_settings().unwrap().to_json_value(),
        original
    );
}

#[test]
fn a_single_apply_writes_its_report_with_report_and_undo_reads_it() {
    let sb = single();
    let original = default_client(&sb).get_settings().unwrap().to_json_value();
    let desired = tmp("single-report.toml", "stateWebhook = \"yes\"\n");
    let report = desired.with_file_name("report.json");
    let r = against(&sb, &["apply", s(&desired), "--report", s(&report)]);
    assert_eq!(r.code, 0, "{}", r.all());
    let rep = common::read_json(&report);
    assert_eq!(
        (
            rep["command"].as_str(),
            rep["results"][0]["status"].as_str()
        ),
        (Some("apply"), Some("applied"))
    );
    assert_eq!(rep["results"][0]["before"]["stateWebhook"], "no");
    let r = against(&sb, &["apply", "--undo", s(&report)]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        default_client(&sb).get_settings().unwrap().to_json_value(),
        original
    );
    // plan still has no single-instance report (its --json is the document), and --concurrency
    // still needs --instances.
    let sets = set_calls(&sb);
    for args in [
        vec!["plan", s(&desired), "--report", s(&report)],
        vec![
            "apply",
            s(&desired),
            "--report",
            s(&report),
            "--concurrency",
            "3",
        ],
        vec!["apply", "--undo", s(&report), "--concurrency", "3"],
    ] {
        let r = against(&sb, &args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.all());
    }
    assert_eq!(set_calls(&sb), sets);
}

#[test]
fn undo_says_the_webhook_token_cannot_be_restored_and_restores_the_rest() {
    let sb = single();
    let desired = tmp(
        "secret.toml",
        "incomingWebhook = \"yes\"\nwebhookUrlToken = \"${HOOK}\"\n",
    );
    let r = run(one(&sb)
        .env("HOOK", "hook-SECRET-1")
        .args(["apply", s(&desired), "--json"]));
    assert_eq!(r.code, 0, "{}", r.all());
    no_token(&r.all());
    assert_eq!(
        r.json()["results"][0]["after"]["webhookUrlToken"],
        "<redacted>"
    );
    let report = desired.with_file_name("apply.json");
    std::fs::write(&report, &r.stdout).unwrap();

    let r = against(&sb, &["apply", "--undo", s(&report), "--json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let result = &r.json()["results"][0];
    assert_eq!(
        result["notRestored"][0]["field"], "webhookUrlToken",
        "{result}"
    );
    assert_eq!(result["changes"], serde_json::json!(["incomingWebhook"]));
    let now = default_client(&sb).get_settings().unwrap();
    assert_eq!(now.to_json_value()["incomingWebhook"], "no");
    assert!(r.stderr.contains("cannot be restored"), "{}", r.stderr);
    no_token(&r.all());
}

#[test]
fn undo_says_a_value_setsettings_refuses_cannot_be_restored_and_restores_the_rest() {
    let sb = single();
    // The fresh instance's delay is 0, which setSettings refuses (at least 500 ms).
    let desired = tmp("fresh.toml", DESIRED);
    let r = against(&sb, &["apply", s(&desired), "--json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        r.json()["results"][0]["before"]["delaySendMessagesMilliseconds"],
        0
    );
    let report = desired.with_file_name("apply.json");
    std::fs::write(&report, &r.stdout).unwrap();
    let r = against(&sb, &["apply", "--undo", s(&report), "--json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let result = &r.json()["results"][0];
    assert_eq!(
        result["notRestored"][0]["field"], "delaySendMessagesMilliseconds",
        "{result}"
    );
    assert_eq!(
        result["changes"],
        serde_json::json!(["incomingWebhook", "stateWebhook"])
    );
    let now = default_client(&sb).get_settings().unwrap().to_json_value();
    assert_eq!(
        (
            now["incomingWebhook"].as_str(),
            now["delaySendMessagesMilliseconds"].as_i64()
        ),
        (Some("no"), Some(5000))
    );
}

#[test]
fn undo_refuses_reports_it_cannot_undo_before_sending_anything() {
    let sb = varied_fleet(2);
    let fleet = csv("refuse.csv", &sb);
    let desired = tmp("refuse.toml", DESIRED);
    let report = desired.with_file_name("report.json");
    let r = cli(&[
        "apply",
        s(&desired),
        "--instances",
        s(&fleet),
        "--report",
        s(&report),
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    let sets = set_calls(&sb);
    let old = tmp(
        "v1.json",
        r#"{"mode":"apply","desired":{},"summary":{},"interrupted":false,"results":[]}"#,
    );
    let plan_report = tmp("plan.json", "");
    let r = cli(&["plan", s(&desired), "--instances", s(&fleet), "--json"]);
    std::fs::write(&plan_report, &r.stdout).unwrap();
    let mut bad = common::read_json(&report);
    bad["results"][0]["before"]["incomingWebhook"] = "maybe".into(); // not a yes/no
    let bad = tmp("bad.json", &bad.to_string());
    let one_id = common::fleet_csv("one.csv", common::CSV_HEADER, &sb, &sb.instance_ids()[..1]);
    for (args, says) in [
        (
            vec!["apply", "--undo", s(&old), "--instances", s(&fleet)],
            "formatVersion 2",
        ),
        (
            vec!["apply", "--undo", s(&plan_report), "--instances", s(&fleet)],
            "not of an apply",
        ),
        (
            vec!["apply", "--undo", s(&bad), "--instances", s(&fleet)],
            "incomingWebhook",
        ),
        (
            vec!["apply", "--undo", s(&report), "--instances", s(&one_id)],
            "lacks 1 instance",
        ),
        (
            vec!["apply", "--undo", s(&report), "--sandbox"],
            "give --instances CSV",
        ),
        (
            vec!["apply", "--undo", s(&report), s(&desired)],
            "cannot be used with",
        ),
    ] {
        let r = cli(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.all());
        assert!(r.stderr.contains(says), "{args:?}: {}", r.stderr);
    }
    assert_eq!(set_calls(&sb), sets, "nothing was sent");
}

/// A fleet of `n` (as [`varied_fleet`]), applied [`DESIRED`] with a report: the report's path.
fn applied_fleet(
    n: usize,
    name: &str,
) -> (BlockingSandbox, std::path::PathBuf, std::path::PathBuf) {
    let sb = varied_fleet(n);
    let fleet = csv(&format!("{name}.csv"), &sb);
    let desired = tmp(&format!("{name}.toml"), DESIRED);
    let report = desired.with_file_name("report.json");
    let r = cli(&[
        "apply",
        s(&desired),
        "--instances",
        s(&fleet),
        "--report",
        s(&report),
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    (sb, fleet, report)
}

#[test]
fn undo_refuses_selection_batches_failure_budget_and_yes_and_fleet_options_without_instances() {
    let (sb, fleet, report) = applied_fleet(2, "undo-options");
    let id = sb.instance_ids()[0].to_string();
    let before: Vec<Value> = sb
        .instance_ids()
        .iter()
        .map(|i| settings_json(&sb, *i))
        .collect();
    let sets = set_calls(&sb);
    let undo = ["--undo", s(&report), "--instances", s(&fleet)];
    let with = |cmd: &'static str, extra: &[&'static str]| -> Vec<String> {
        std::iter::once(cmd)
            .chain(undo)
            .chain(extra.iter().copied())
            .map(str::to_string)
            .collect()
    };
    let only: Vec<String> = with("apply", &["--only"])
        .into_iter()
        .chain([id.clone()])
        .collect();
    let plan_only: Vec<String> = with("plan", &["--only"]).into_iter().chain([id]).collect();
    for (args, says) in [
        (only, "--only does not apply to --undo"),
        (plan_only, "--only does not apply to --undo"),
        (with("apply", &["--limit", "1"]), "--limit does not apply"),
        (with("plan", &["--limit", "1"]), "--limit does not apply"),
        (with("apply", &["--batch", "1"]), "--batch does not apply"),
        (
            with("apply", &["--batch", "1", "--batch-pause", "1s"]),
            "--batch, --batch-pause do not apply",
        ),
        (
            with("apply", &["--max-failures", "1"]),
            "--max-failures does not apply",
        ),
        (with("apply", &["--yes"]), "--yes does not apply"),
        // Without --instances, a fleet option is refused as apply refuses it.
        (
            vec![
                "apply".into(),
                "--undo".into(),
                s(&report).into(),
                "--concurrency".into(),
                "2".into(),
            ],
            "only apply to a fleet run",
        ),
        (
            vec![
                "apply".into(),
                "--undo".into(),
                s(&report).into(),
                "--limit".into(),
                "1".into(),
            ],
            "--limit does not apply",
        ),
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = cli(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.all());
        assert!(r.stderr.contains(says), "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("nothing was sent"),
            "{args:?}: {}",
            r.stderr
        );
    }
    assert_eq!(set_calls(&sb), sets, "nothing was sent");
    let after: Vec<Value> = sb
        .instance_ids()
        .iter()
        .map(|i| settings_json(&sb, *i))
        .collect();
    assert_eq!(after, before);
}

/// A hand-made report of the single sandbox's instance with these `before` / `after`.
fn hand_report(
    sb: &BlockingSandbox,
    name: &str,
    before: Value,
    after: Value,
) -> std::path::PathBuf {
    let doc = serde_json::json!({
        "formatVersion": 2, "command": "apply", "interrupted": false, "summary": {"total": 1},
        "results": [{"idInstance": greenapi_settings_sandbox::DEFAULT_INSTANCE_ID, "apiUrl": sb.url(),
            "status": "applied", "before": before, "after": after, "error": null}],
        "error": null
    });
    tmp(name, &doc.to_string())
}

#[test]
fn undo_of_a_report_with_snake_case_secret_keys_never_shows_nor_sends_the_live_webhook_token() {
    const LIVE: &str = "hook-SECRET-live-5f0c1e";
    let sb = single();
    default_client(&sb)
        .set_settings(&SettingsPatch::new().webhook_url_token(LIVE))
        .unwrap();
    let sets = set_calls(&sb);
    // After "y" (not the live value): formerly a conflict quoting the live value as `now`;
    // after the live value: formerly "x" sent in its place.
    for (name, after) in [("other.json", "y"), ("live.json", LIVE)] {
        let report = hand_report(
            &sb,
            name,
            serde_json::json!({"webhook_url_token": "x"}),
            serde_json::json!({"webhook_url_token": after}),
        );
        let written = report.with_file_name("undo.json");
        for cmd in ["plan", "apply"] {
            let r = against(
                &sb,
                &[cmd, "--undo", s(&report), "--json", "--report", s(&written)],
            );
            assert_eq!(r.code, 1, "{cmd} {name}: {}", r.all());
            let text = format!("{}{}", r.all(), common::read(&written));
            assert!(
                !text.contains(LIVE),
                "{cmd} {name}: the live token in: {text}"
            );
            assert!(
                !text.contains("5f0c1e"),
                "{cmd} {name}: part of the live token in: {text}"
            );
            let result = &r.json()["results"][0];
            assert_eq!(result["status"], "incomplete", "{result}");
            assert_eq!(
                result["notRestored"][0]["field"], "webhookUrlToken",
                "{result}"
            );
            assert_eq!(result["conflicts"], serde_json::json!([]), "{result}");
            assert_eq!(result["changes"], serde_json::json!([]), "{result}");
        }
    }
    assert_eq!(set_calls(&sb), sets, "nothing was sent");
    assert_eq!(
        default_client(&sb).get_settings().unwrap().to_json_value()["webhookUrlToken"],
        LIVE
    );
}

#[test]
fn undo_refuses_a_report_that_spells_a_field_twice() {
    let sb = single();
    let report = hand_report(
        &sb,
        "twice.json",
        serde_json::json!({"webhookUrl": "https://a.example/h", "webhook_url": "https://b.example/h"}),
        serde_json::json!({"webhookUrl": "", "webhook_url": ""}),
    );
    let sets = set_calls(&sb);
    for cmd in ["plan", "apply"] {
        let r = against(&sb, &[cmd, "--undo", s(&report)]);
        assert_eq!(r.code, 2, "{cmd}: {}", r.all());
        assert!(r.stderr.contains("webhookUrl twice"), "{cmd}: {}", r.stderr);
        assert!(r.stderr.contains("nothing was sent"), "{cmd}: {}", r.stderr);
    }
    assert_eq!(set_calls(&sb), sets);
}

#[test]
fn undo_refuses_before_sending_anything_when_an_instance_is_at_another_url_than_in_the_report() {
    // Two environments with the same ids and tokens; both at the report's `after` values.
    let (a, _, report) = applied_fleet(2, "url-a");
    let b = varied_fleet(2);
    assert_eq!(a.instance_ids(), b.instance_ids());
    let b_csv = csv("url-b.csv", &b);
    let desired = tmp("url-b.toml", DESIRED);
    let r = cli(&["apply", s(&desired), "--instances", s(&b_csv)]);
    assert_eq!(r.code, 0, "{}", r.all());
    let b_now: Vec<Value> = b
        .instance_ids()
        .iter()
        .map(|i| settings_json(&b, *i))
        .collect();
    let (sets_a, sets_b) = (set_calls(&a), set_calls(&b));
    for cmd in ["plan", "apply"] {
        let r = cli(&[cmd, "--undo", s(&report), "--instances", s(&b_csv)]);
        assert_eq!(r.code, 2, "{cmd}: {}", r.all());
        assert!(r.stderr.contains("another api_url"), "{cmd}: {}", r.stderr);
        for id in b.instance_ids() {
            assert!(r.stderr.contains(&id.to_string()), "{cmd}: {}", r.stderr);
        }
        assert!(
            !r.stderr.contains(&b.url()),
            "no URL is quoted: {}",
            r.stderr
        );
    }
    assert_eq!(
        (set_calls(&a), set_calls(&b)),
        (sets_a, sets_b),
        "nothing was sent"
    );
    let b_after: Vec<Value> = b
        .instance_ids()
        .iter()
        .map(|i| settings_json(&b, *i))
        .collect();
    assert_eq!(b_after, b_now);

    // One instance: a report of sandbox A undone with credentials of sandbox B.
    let (one_a, one_b) = (single(), single());
    let desired = tmp("url-single.toml", "stateWebhook = \"yes\"\n");
    let report = desired.with_file_name("report.json");
    // B first: the report kept is A's, and B is at its `after` too.
    for sb in [&one_b, &one_a] {
        let r = against(sb, &["apply", s(&desired), "--report", s(&report)]);
        assert_eq!(r.code, 0, "{}", r.all());
    }
    let rep = common::read_json(&report);
    assert_eq!(rep["results"][0]["apiUrl"], one_a.url(), "{rep}");
    let sets_b = set_calls(&one_b);
    let r = against(&one_b, &["apply", "--undo", s(&report)]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("another API URL"), "{}", r.stderr);
    assert_eq!(set_calls(&one_b), sets_b, "nothing was sent");
}

#[test]
fn undo_refuses_a_report_listing_an_instance_twice_naming_it() {
    let (sb, fleet, report) = applied_fleet(2, "twice-id");
    let mut doc = common::read_json(&report);
    let first = doc["results"][0].clone();
    let id = first["idInstance"].as_u64().unwrap();
    doc["results"].as_array_mut().unwrap().push(first);
    let twice = tmp("twice-id.json", &doc.to_string());
    let sets = set_calls(&sb);
    for cmd in ["plan", "apply"] {
        let r = cli(&[cmd, "--undo", s(&twice), "--instances", s(&fleet)]);
        assert_eq!(r.code, 2, "{cmd}: {}", r.all());
        assert!(
            r.stderr
                .contains(&format!("instance {id} is in the report twice")),
            "{cmd}: {}",
            r.stderr
        );
    }
    assert_eq!(set_calls(&sb), sets, "nothing was sent");
}

#[test]
fn undo_and_resume_refuse_a_report_of_a_later_format_version_saying_which_they_read() {
    let (sb, fleet, report) = applied_fleet(2, "v3");
    let mut doc = common::read_json(&report);
    doc["formatVersion"] = 3.into();
    let v3 = tmp("v3.json", &doc.to_string());
    let desired = tmp("v3.toml", DESIRED);
    let sets = set_calls(&sb);
    for args in [
        vec!["apply", "--undo", s(&v3), "--instances", s(&fleet)],
        vec!["plan", "--undo", s(&v3), "--instances", s(&fleet)],
        vec![
            "apply",
            s(&desired),
            "--instances",
            s(&fleet),
            "--resume",
            s(&v3),
        ],
    ] {
        let r = cli(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.all());
        assert!(
            r.stderr.contains("formatVersion 3"),
            "{args:?}: {}",
            r.stderr
        );
        assert!(
            r.stderr.contains("it reads formatVersion 2"),
            "{args:?}: {}",
            r.stderr
        );
    }
    assert_eq!(set_calls(&sb), sets, "nothing was sent");
}

// ---- one envelope for every command --------------------------------------------------------

#[test]
fn every_result_producing_command_prints_one_envelope_golden() {
    let sb = single();
    let desired = tmp("golden.toml", DESIRED);
    let run_json = |args: &[&str]| -> Value {
        let r = against(&sb, args);
        assert!(r.code == 0 || r.code == 1, "{args:?}: {}", r.all());
        no_token(&r.all());
        let doc = r.json();
        assert_eq!(doc["formatVersion"], 2, "{args:?}");
        assert!(doc["startedAt"].as_str().unwrap().ends_with('Z'));
        doc
    };
    insta::assert_snapshot!("get", stable(run_json(&["get", "--json"]), Some(&sb)));
    insta::assert_snapshot!(
        "plan",
        stable(
            run_json(&["plan", s(&desired), "--output", "json"]),
            Some(&sb)
        )
    );
    insta::assert_snapshot!(
        "apply",
        stable(run_json(&["apply", s(&desired), "--json"]), Some(&sb))
    );
    // The webhook token, redacted in the envelopes of set, export and get.
    let set_args = [
        "set",
        "--output",
        "json",
        "--incoming-webhook",
        "no",
        "--webhook-url-token",
        "hook-SECRET-9",
    ];
    insta::assert_snapshot!("set", stable(run_json(&set_args), Some(&sb)));
    insta::assert_snapshot!("export", stable(run_json(&["export", "--json"]), Some(&sb)));
    insta::assert_snapshot!(
        "validate",
        stable(run_json(&["validate", s(&desired), "--json"]), Some(&sb))
    );
    insta::assert_snapshot!(
        "spec-check",
        stable(run_json(&["spec-check", "--json"]), Some(&sb))
    );
    let after = run_json(&["get", "--json"]);
    assert_eq!(
        after["results"][0]["values"]["webhookUrlToken"],
        "<redacted>"
    );
}

#[test]
fn a_fleet_get_and_plan_are_envelopes_with_one_result_per_instance_golden() {
    let sb = varied_fleet(2);
    let fleet = csv("golden-fleet.csv", &sb);
    let desired = tmp("golden-fleet.toml", DESIRED);
    let r = cli(&["get", "--instances", s(&fleet), "--json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    no_token(&r.all());
    insta::assert_snapshot!("fleet-get", stable(r.json(), Some(&sb)));
    let r = cli(&["plan", s(&desired), "--instances", s(&fleet), "--json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    no_token(&r.all());
    insta::assert_snapshot!("fleet-plan", stable(r.json(), Some(&sb)));
    // A fleet apply: the envelope alone on stdout, each instance's line and the summary on
    // stderr, and the same document as its --report.
    let report = desired.with_file_name("report.json");
    let r = cli(&[
        "apply",
        s(&desired),
        "--instances",
        s(&fleet),
        "--json",
        "--report",
        s(&report),
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    no_token(&r.all());
    let doc = r.json();
    assert_eq!(doc["summary"]["applied"], 2, "{doc}");
    assert!(
        r.stderr.contains("2 instance(s): 2 applied"),
        "{}",
        r.stderr
    );
    assert_eq!(stable(doc, None), stable(common::read_json(&report), None));
}

#[test]
fn a_command_that_fails_as_a_whole_prints_an_envelope_with_its_error() {
    let bad = tmp(
        "bad.toml",
        "delaySendMessagesMilliseconds = 1\nincomingWebhook = \"maybe\"\n",
    );
    let r = cli(&["validate", s(&bad), "--json"]);
    assert_eq!(r.code, 2, "{}", r.all());
    let doc = r.json();
    assert_eq!(doc["command"], "validate");
    assert_eq!(doc["results"], serde_json::json!([]));
    assert_eq!(doc["error"]["kind"], "invalidInput");
    assert_eq!(
        doc["error"]["problems"].as_array().unwrap().len(),
        2,
        "{doc}"
    );
    assert!(
        r.stderr.contains("problem"),
        "people still read the error on stderr: {}",
        r.stderr
    );
    // set and apply refuse to run without credentials: the envelope says so too.
    let ok = tmp("ok.toml", DESIRED);
    let r = cli(&["apply", s(&ok), "--json"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert_eq!(r.json()["command"], "apply");
    assert_eq!(r.json()["error"]["kind"], "invalidInput");
}

#[test]
fn export_output_json_is_refused_as_a_format_with_a_hint() {
    for f in ["json", "text"] {
        let r = cli(&["export", "--output", f]);
        assert_eq!(r.code, 2, "{}", r.all());
        assert!(r.stderr.contains("--json"), "{}", r.stderr);
        assert!(r.stderr.contains(&format!("./{f}")), "{}", r.stderr);
    }
}

#[test]
fn output_text_is_the_default_and_json_and_output_json_are_one_flag() {
    let sb = single();
    let text = against(&sb, &["get", "--output", "text"]);
    assert_eq!(text.stdout, against(&sb, &["get"]).stdout);
    assert!(text.stdout.contains("incomingWebhook"));
    let r = against(&sb, &["get", "--json", "--output", "json"]);
    assert_eq!(r.code, 2, "the two at once are a usage error: {}", r.all());
}

#[test]
fn a_resumed_canary_keeps_the_earlier_instances_in_its_report_so_undo_restores_them_all() {
    let sb = varied_fleet(2);
    let ids = sb.instance_ids();
    let originals: Vec<Value> = ids.iter().map(|id| settings_json(&sb, *id)).collect();
    let fleet = csv("canary-chain.csv", &sb);
    let desired = tmp("canary-chain.toml", DESIRED);
    let first = desired.with_file_name("first.json");
    let second = desired.with_file_name("second.json");
    let (a, b) = (ids[0].to_string(), ids[1].to_string());
    let r = cli(&[
        "apply",
        s(&desired),
        "--instances",
        s(&fleet),
        "--only",
        &a,
        "--report",
        s(&first),
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    let r = cli(&[
        "apply",
        s(&desired),
        "--instances",
        s(&fleet),
        "--resume",
        s(&first),
        "--only",
        &b,
        "--report",
        s(&second),
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    let rep = common::read_json(&second);
    let in_report: Vec<u64> = rep["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["idInstance"].as_u64().unwrap())
        .collect();
    assert_eq!(in_report, ids, "{rep}");
    let r = cli(&["apply", "--undo", s(&second), "--instances", s(&fleet)]);
    assert_eq!(r.code, 0, "{}", r.all());
    for (id, original) in ids.iter().zip(&originals) {
        assert_eq!(&settings_json(&sb, *id), original, "instance {id}");
    }
}
