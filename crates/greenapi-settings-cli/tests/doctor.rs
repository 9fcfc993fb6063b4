//! `doctor` against the real sandbox (issue 21): for every kind of the spec's notification
//! table and every setting it needs, doctor names that setting (table-driven: a new rule in
//! the spec is tested here without new code); the webhookUrl findings; the envelope; exit
//! codes; fleets.

mod common;

use common::{against, default_client, fast, one, single, Run};
use greenapi_settings::{NotificationStatus, SettingsPatch, NOTIFICATIONS};
use greenapi_settings_sandbox::{generated_token, BlockingSandbox, DEFAULT_TOKEN};
use serde_json::{json, Value};

const SECRET: &str = "doctor-secret-webhook-token-91ab";

/// Every setting some notification needs.
fn notification_settings() -> Vec<&'static str> {
    let mut all: Vec<&'static str> = Vec::new();
    for k in NOTIFICATIONS {
        for s in k.requires {
            if !all.contains(s) {
                all.push(s);
            }
        }
    }
    all
}

/// A patch with every notification setting off except `on`, and `extra` (API names).
fn patch(on: &[&str], extra: &[(&str, Value)]) -> SettingsPatch {
    let mut p = SettingsPatch::new();
    for s in notification_settings() {
        let v = if on.contains(&s) { "yes" } else { "no" };
        p.set_json(s, &json!(v)).unwrap();
    }
    for (k, v) in extra {
        p.set_json(k, v).unwrap();
    }
    p
}

fn set(sb: &BlockingSandbox, p: &SettingsPatch) {
    default_client(sb).set_settings(p).unwrap();
}

/// `doctor ARGS` and `doctor --json ARGS`: same exit code, no secret in either.
fn doctor(sb: &BlockingSandbox, args: &[&str]) -> (Run, Value) {
    let text = against(sb, &[&["doctor"], args].concat());
    let json = against(sb, &[&["doctor", "--json"], args].concat());
    for r in [&text, &json] {
        assert!(
            !r.all().contains(SECRET),
            "the webhook token leaked: {}",
            r.all()
        );
        assert!(
            !r.all().contains(DEFAULT_TOKEN),
            "the API token leaked: {}",
            r.all()
        );
    }
    assert_eq!(text.code, json.code, "{}\n{}", text.all(), json.all());
    (text, json.json())
}

/// The entry of kind `key` in the first result.
fn kind<'a>(v: &'a Value, key: &str) -> &'a Value {
    v["results"][0]["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kind"] == key)
        .unwrap_or_else(|| panic!("no kind {key} in {v}"))
}

#[test]
fn doctor_names_the_setting_that_is_off_for_every_kind_and_every_setting_it_needs() {
    let sb = single();
    let mut checked = 0;
    for k in NOTIFICATIONS {
        for off in k.requires {
            let on: Vec<&str> = k.requires.iter().copied().filter(|s| s != off).collect();
            set(&sb, &patch(&on, &[]));
            let out = against(&sb, &["doctor", "--json"]);
            assert!(out.code == 0 || out.code == 1, "{}", out.all());
            let v = out.json();
            let entry = kind(&v, &k.key());
            assert_eq!(entry["missing"], json!([off]), "{}: {entry}", k.key());
            assert_ne!(entry["verdict"], "arrives", "{}: {entry}", k.key());
            let why = entry["why"].as_str().unwrap();
            assert!(why.contains(&format!("{off} is off")), "{}: {why}", k.key());
            assert!(why.starts_with(&format!("{} needs ", k.key())), "{why}");
            if entry["verdict"] == "blocked" {
                assert_eq!(out.code, 1, "{}: a blocked kind exits 1", k.key());
            }
            // The text names it too.
            let text = against(&sb, &["doctor"]);
            assert!(text.stdout.contains(why), "{}: {}", k.key(), text.all());
            checked += 1;
        }
    }
    assert!(checked >= NOTIFICATIONS.len(), "{checked}");
}

#[test]
fn doctor_reports_a_kind_the_api_does_not_send_as_blocked_when_its_settings_are_on() {
    let sb = single();
    let mut seen = 0;
    for k in NOTIFICATIONS
        .iter()
        .filter(|k| k.status != NotificationStatus::Active && !k.requires.is_empty())
    {
        set(&sb, &patch(k.requires, &[]));
        let (text, v) = doctor(&sb, &[]);
        assert_eq!(text.code, 1, "{}: {}", k.key(), text.all());
        let entry = kind(&v, &k.key());
        assert_eq!(entry["verdict"], "blocked", "{entry}");
        let why = entry["why"].as_str().unwrap();
        let expected = match k.status {
            NotificationStatus::TemporarilyBroken => {
                "the API documents it as temporarily not working"
            }
            _ => "the API documents it as deprecated",
        };
        assert!(why.contains(expected), "{why}");
        assert!(
            text.stdout
                .contains(&format!("{}: will not arrive: {expected}", k.key())),
            "{}",
            text.all()
        );
        seen += 1;
    }
    assert!(seen > 0, "the spec has kinds that are not active");
}

#[test]
fn doctor_exits_1_when_incoming_call_webhook_is_on_but_incoming_webhook_is_off() {
    let sb = single();
    set(&sb, &patch(&["incomingCallWebhook"], &[]));
    let (text, v) = doctor(&sb, &[]);
    assert_eq!(text.code, 1, "{}", text.all());
    assert_eq!(kind(&v, "incomingCall")["verdict"], "blocked");
    assert!(
        text.stdout.contains("incomingWebhook is off"),
        "{}",
        text.all()
    );
    assert!(
        text.stdout
            .contains("does NOT arrive, though the settings ask for it"),
        "{}",
        text.all()
    );
    assert_eq!(v["results"][0]["status"], "problems");
    // Where a source does not list the setting that is off, doctor says so (the stricter rule
    // is followed).
    let call = greenapi_settings::NotificationInfo::find("incomingCall").unwrap();
    let unlisted = call
        .sources
        .iter()
        .any(|r| !r.requires.contains(&"incomingWebhook"));
    assert_eq!(
        text.stdout
            .contains("does not list incomingWebhook (the stricter rule is followed)"),
        unlisted,
        "{}",
        text.all()
    );
    assert_eq!(
        kind(&v, "incomingCall")["sourcesDiffer"].is_string(),
        unlisted
    );
    // The other way round, calls are simply off: exit 0.
    set(&sb, &patch(&["incomingWebhook"], &[]));
    let (text, v) = doctor(&sb, &[]);
    assert_eq!(text.code, 0, "{}", text.all());
    assert_eq!(kind(&v, "incomingCall")["verdict"], "off");
    assert_eq!(kind(&v, "incomingMessageReceived")["verdict"], "arrives");
    assert!(text
        .stdout
        .contains("result: everything the settings ask for can arrive"));
}

#[test]
fn doctor_says_notifications_wait_for_receive_notification_when_webhook_url_is_empty() {
    let sb = single();
    set(&sb, &patch(&["stateWebhook"], &[("webhookUrl", json!(""))]));
    let (text, v) = doctor(&sb, &[]);
    assert_eq!(text.code, 0, "{}", text.all());
    assert!(
        text.stdout.contains(
            "webhookUrl is empty: notifications wait in the queue for receiveNotification"
        ),
        "{}",
        text.all()
    );
    let f = &v["results"][0]["findings"];
    assert!(
        f.as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "webhookUrlEmpty" && f["severity"] == "notice"),
        "{f}"
    );
}

#[test]
fn doctor_warns_that_an_http_webhook_url_sends_the_token_unencrypted() {
    let sb = single();
    let url = json!("http://hooks.example.com/in");
    set(
        &sb,
        &patch(
            &["stateWebhook"],
            &[
                ("webhookUrl", url.clone()),
                ("webhookUrlToken", json!(SECRET)),
            ],
        ),
    );
    let (text, v) = doctor(&sb, &[]);
    assert_eq!(text.code, 0, "a warning does not fail: {}", text.all());
    assert!(
        text.stdout
            .contains("warning: webhookUrl is http://: the webhook token travels unencrypted"),
        "{}",
        text.all()
    );
    assert_eq!(v["results"][0]["webhookUrlTokenSet"], true);
    // Without a token: a note, not the token's warning.
    set(
        &sb,
        &patch(
            &["stateWebhook"],
            &[("webhookUrl", url), ("webhookUrlToken", json!(""))],
        ),
    );
    let (text, v) = doctor(&sb, &[]);
    assert_eq!(text.code, 0, "{}", text.all());
    assert!(
        !text.stdout.contains("token travels unencrypted"),
        "{}",
        text.all()
    );
    assert!(
        text.stdout
            .contains("note: webhookUrl is http://: notifications travel unencrypted"),
        "{}",
        text.all()
    );
    let codes: Vec<&Value> = v["results"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["code"])
        .collect();
    assert!(codes.contains(&&json!("webhookUrlHttp")), "{codes:?}");
    // https: neither.
    set(
        &sb,
        &patch(
            &["stateWebhook"],
            &[
                ("webhookUrl", json!("https://hooks.example.com/in")),
                ("webhookUrlToken", json!(SECRET)),
            ],
        ),
    );
    let (text, _) = doctor(&sb, &[]);
    assert!(!text.stdout.contains("unencrypted"), "{}", text.all());
}

#[test]
fn doctor_json_is_the_envelope_with_every_kind_in_spec_order() {
    let sb = single();
    set(
        &sb,
        &patch(
            &["incomingWebhook"],
            &[
                (
                    "webhookUrl",
                    json!("https://user:pw@hooks.example.com/in?k=v"),
                ),
                ("webhookUrlToken", json!(SECRET)),
            ],
        ),
    );
    let (_, v) = doctor(&sb, &[]);
    assert_eq!(v["formatVersion"], 2);
    assert_eq!(v["command"], "doctor");
    assert_eq!(v["error"], Value::Null);
    assert_eq!(v["summary"], json!({"total": 1, "ok": 1}));
    let r = &v["results"][0];
    assert_eq!(r["webhookUrl"], "https://hooks.example.com/in?<redacted>");
    let keys: Vec<String> = r["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kind"].as_str().unwrap().to_string())
        .collect();
    let spec: Vec<String> = NOTIFICATIONS.iter().map(|k| k.key()).collect();
    assert_eq!(keys, spec);
    assert!(!v.to_string().contains(":pw@"), "{v}");
}

#[test]
fn doctor_of_an_instance_that_cannot_be_read_exits_1_with_the_error_in_the_envelope() {
    let sb = single();
    let mut c = one(&sb);
    c.env("GREEN_API_TOKEN", "wrong-token-0123456789abcdef")
        .args(["doctor", "--json"]);
    let out = common::run(c);
    assert_eq!(out.code, 1, "{}", out.all());
    let v = out.json();
    assert_eq!(v["results"][0]["status"], "failed");
    assert!(
        !out.all().contains("wrong-token-0123456789abcdef"),
        "{}",
        out.all()
    );
}

#[test]
fn doctor_of_a_fleet_diagnoses_every_instance_and_exits_1_if_one_has_a_problem() {
    let sb = fast(3);
    let ids = sb.instance_ids();
    for (i, id) in ids.iter().enumerate() {
        let on: &[&str] = if i == 1 {
            &["incomingCallWebhook"]
        } else {
            &["stateWebhook"]
        };
        common::client(&sb, *id)
            .set_settings(&patch(on, &[("webhookUrlToken", json!(SECRET))]))
            .unwrap();
    }
    let csv = common::csv("fleet.csv", &sb);
    let text = common::cli(&["doctor", "--instances", common::s(&csv)]);
    assert_eq!(text.code, 1, "{}", text.all());
    for id in &ids {
        assert!(
            text.stdout.contains(&format!("instance {id} ")),
            "{}",
            text.all()
        );
    }
    let json = common::cli(&[
        "doctor",
        "--json",
        "--instances",
        common::s(&csv),
        "--concurrency",
        "2",
    ]);
    assert_eq!(json.code, 1, "{}", json.all());
    let v = json.json();
    let statuses: Vec<&Value> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["status"])
        .collect();
    assert_eq!(statuses, [&json!("ok"), &json!("problems"), &json!("ok")]);
    assert_eq!(v["summary"], json!({"total": 3, "ok": 2, "problems": 1}));
    for r in [&text, &json] {
        assert!(!r.all().contains(SECRET));
        for id in &ids {
            assert!(!r.all().contains(&generated_token(*id)));
        }
    }
}

#[test]
fn doctor_refuses_bad_input_with_exit_2_and_sends_nothing() {
    let sb = single();
    for args in [
        &["doctor", "--concurrency", "4"][..],
        &["doctor", "--probe-timeout", "1s"],
        &["doctor", "--probe", "--probe-timeout", "-1"],
        &["doctor", "--instances", "/nonexistent/fleet.csv"],
    ] {
        let out = against(&sb, args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.all());
    }
    assert_eq!(common::calls(&sb), 0);
}
