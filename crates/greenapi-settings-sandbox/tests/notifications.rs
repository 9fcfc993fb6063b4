//! Notifications (issue 21): delivery to real receivers on 127.0.0.1 (token, order, retries,
//! timeouts, redirects, the bounded queue), the HTTP API way (receiveNotification /
//! deleteNotification), the inspection endpoints, restarts, persistence and secrets. Every
//! wait is bounded, and the API's 180 s / 60 s are scaled down to 200 ms / 100 ms.

mod common;
#[path = "common/receiver.rs"]
mod receiver;

use std::time::{Duration, Instant};

use common::*;
use greenapi_settings_sandbox::{
    BlockingSandbox, Outcome, SandboxConfig, DEFAULT_INSTANCE_ID, DEFAULT_TOKEN,
};
use receiver::Receiver;
use serde_json::{json, Map, Value};

const HOOK_TOKEN: &str = "hook-secret-7f3a91c2";
const WAIT: Duration = Duration::from_secs(10);

/// The API's timings scaled for tests, no rate limit.
fn config() -> SandboxConfig {
    SandboxConfig::default()
        .rate_limit(None)
        .notify_timeout(Duration::from_millis(200))
        .notify_retry(Duration::from_millis(100))
        .notify_receive_scale(0.02)
}

fn set(sb: &BlockingSandbox, id: u64, token: &str, settings: Value) {
    let reply = post(sb.addr(), &set_path(id, token), &settings.to_string());
    assert_eq!(reply.status, 200, "{}", reply.text());
}

/// Webhook to `url` with the bearer token, and stateWebhook on.
fn webhook_to(sb: &BlockingSandbox, url: &str) {
    set(
        sb,
        DEFAULT_INSTANCE_ID,
        DEFAULT_TOKEN,
        json!({"webhookUrl": url, "webhookUrlToken": HOOK_TOKEN, "stateWebhook": "yes"}),
    );
}

fn notify(sb: &BlockingSandbox, id: u64, request: Value) -> common::Reply {
    post(
        sb.addr(),
        &format!("/sandbox/instances/{id}/notify"),
        &request.to_string(),
    )
}

fn state_changed(sb: &BlockingSandbox, state: &str) -> Value {
    let reply = notify(
        sb,
        DEFAULT_INSTANCE_ID,
        json!({"type": "stateInstanceChanged", "variant": null, "fields": {"stateInstance": state}}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

fn listing(sb: &BlockingSandbox, id: u64) -> Value {
    let reply = get(sb.addr(), &format!("/sandbox/instances/{id}/notifications"));
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

/// Polls the listing until `done` holds (at most `WAIT`).
fn listing_until(sb: &BlockingSandbox, id: u64, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let shown = listing(sb, id);
        if done(&shown) || Instant::now() >= deadline {
            return shown;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn receive_path(timeout: Option<u64>) -> String {
    let base = format!("/waInstance{DEFAULT_INSTANCE_ID}/receiveNotification/{DEFAULT_TOKEN}");
    match timeout {
        Some(t) => format!("{base}?receiveTimeout={t}"),
        None => base,
    }
}

fn delete(sb: &BlockingSandbox, receipt: &str) -> common::Reply {
    request(
        sb.addr(),
        "DELETE",
        &format!("/waInstance{DEFAULT_INSTANCE_ID}/deleteNotification/{DEFAULT_TOKEN}/{receipt}"),
        &[],
        b"",
    )
}

#[test]
fn a_triggered_notification_is_delivered_once_with_the_bearer_token() {
    let receiver = Receiver::start();
    let sb = BlockingSandbox::start(config()).unwrap();
    webhook_to(&sb, &receiver.url());
    let answer = state_changed(&sb, "authorized");
    assert_eq!(answer["outcome"], "queued", "{answer}");
    assert_eq!(answer["body"]["typeWebhook"], "stateInstanceChanged");
    assert_eq!(answer["body"]["stateInstance"], "authorized");
    assert_eq!(
        answer["body"]["instanceData"]["idInstance"],
        DEFAULT_INSTANCE_ID
    );

    let got = receiver.wait_for(1, WAIT);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].path, "/hook");
    assert_eq!(
        got[0].authorization.as_deref(),
        Some(&*format!("Bearer {HOOK_TOKEN}"))
    );
    assert_eq!(got[0].content_type.as_deref(), Some("application/json"));
    assert_eq!(got[0].body, answer["body"]);

    let shown = listing_until(&sb, DEFAULT_INSTANCE_ID, |l| {
        l["delivered"].as_array().is_some_and(|d| !d.is_empty())
    });
    let delivered = &shown["delivered"][0];
    assert_eq!(delivered["receiptId"], answer["receiptId"]);
    assert_eq!(
        (delivered["attempts"].clone(), delivered["via"].clone()),
        (json!(1), json!("webhook"))
    );
    assert_eq!(shown["queued"], json!([]));
    assert_eq!(shown["failing"], Value::Null);
    // Once: nothing more arrives.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(receiver.got().len(), 1);
}

#[test]
fn without_a_webhook_token_no_authorization_header_is_sent() {
    let receiver = Receiver::start();
    let sb = BlockingSandbox::start(config()).unwrap();
    set(
        &sb,
        DEFAULT_INSTANCE_ID,
        DEFAULT_TOKEN,
        json!({"webhookUrl": receiver.url(), "stateWebhook": "yes"}),
    );
    state_changed(&sb, "authorized");
    let got = receiver.wait_for(1, WAIT);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].authorization, None);
}

#[test]
fn a_notification_the_settings_do_not_enable_is_suppressed_with_the_reason() {
    let receiver = Receiver::start();
    let sb = BlockingSandbox::start(config()).unwrap();
    set(
        &sb,
        DEFAULT_INSTANCE_ID,
        DEFAULT_TOKEN,
        json!({"webhookUrl": receiver.url(), "stateWebhook": "no"}),
    );
    let answer = state_changed(&sb, "authorized");
    assert_eq!(answer["outcome"], "suppressed", "{answer}");
    let reason = answer["reason"].as_str().unwrap();
    assert!(
        reason.contains("stateWebhook") && reason.contains("off"),
        "{reason}"
    );
    assert_eq!(answer["body"]["typeWebhook"], "stateInstanceChanged");

    let shown = listing(&sb, DEFAULT_INSTANCE_ID);
    assert_eq!(shown["suppressed"][0]["type"], "stateInstanceChanged");
    assert_eq!(shown["suppressed"][0]["reason"], reason);
    assert_eq!(shown["queued"], json!([]));
    std::thread::sleep(Duration::from_millis(300));
    assert!(receiver.got().is_empty());
}

#[test]
fn twenty_notifications_wait_for_a_receiver_that_is_down_and_arrive_once_each_in_order() {
    let down = Receiver::start();
    let port = down.port();
    let url = down.url();
    drop(down);
    let sb = BlockingSandbox::start(config()).unwrap();
    webhook_to(&sb, &url);
    let mut ids = Vec::new();
    for n in 0..20 {
        let answer = notify(
            &sb,
            DEFAULT_INSTANCE_ID,
            json!({"type": "stateInstanceChanged", "fields": {"timestamp": 1_700_000_000 + n}}),
        )
        .json();
        assert_eq!(answer["outcome"], "queued");
        ids.push(answer["body"]["timestamp"].clone());
    }
    // Down for a while: the head fails (connection refused) and is retried.
    let failing = listing_until(&sb, DEFAULT_INSTANCE_ID, |l| {
        l["failing"]["attempts"].as_u64() >= Some(2)
    });
    assert!(
        failing["failing"]["lastError"]
            .as_str()
            .unwrap()
            .starts_with("cannot connect"),
        "{failing}"
    );
    assert_eq!(failing["failing"]["receiptId"], 1);
    assert_eq!(failing["queued"].as_array().unwrap().len(), 20);

    let back = Receiver::start_on(port);
    let got = back.wait_for(20, WAIT);
    std::thread::sleep(Duration::from_millis(300));
    let got_after = back.got();
    assert_eq!(got_after.len(), 20, "once each: {got:?}");
    let order: Vec<Value> = got_after
        .iter()
        .map(|g| g.body["timestamp"].clone())
        .collect();
    assert_eq!(order, ids);
    let shown = listing(&sb, DEFAULT_INSTANCE_ID);
    assert!(
        shown["delivered"][0]["attempts"].as_u64().unwrap() >= 3,
        "{shown}"
    );
    assert_eq!(shown["delivered"].as_array().unwrap().len(), 20);
}

#[test]
fn a_receiver_answering_500_gets_the_same_notification_again() {
    let receiver = Receiver::start();
    receiver.fail(500, 2);
    let sb = BlockingSandbox::start(config()).unwrap();
    webhook_to(&sb, &receiver.url());
    let first = state_changed(&sb, "starting");
    let second = state_changed(&sb, "authorized");
    let got = receiver.wait_for(4, WAIT);
    assert_eq!(got.len(), 4, "{got:?}");
    for g in &got[..3] {
        assert_eq!(g.body, first["body"], "the same notification again");
    }
    assert_eq!(got[3].body, second["body"]);
    let shown = listing_until(&sb, DEFAULT_INSTANCE_ID, |l| {
        l["delivered"].as_array().is_some_and(|d| d.len() == 2)
    });
    assert_eq!(shown["delivered"][0]["attempts"], 3, "{shown}");
    assert_eq!(shown["delivered"][1]["attempts"], 1);
}

#[test]
fn a_failing_notification_shows_its_attempts_and_last_error() {
    let receiver = Receiver::start();
    receiver.fail(503, u16::MAX);
    let sb = BlockingSandbox::start(config()).unwrap();
    webhook_to(&sb, &receiver.url());
    state_changed(&sb, "authorized");
    let shown = listing_until(&sb, DEFAULT_INSTANCE_ID, |l| {
        l["failing"]["attempts"].as_u64() >= Some(2)
    });
    assert_eq!(
        shown["failing"]["lastError"], "HTTP 503 Service Unavailable",
        "{shown}"
    );
    assert_eq!(shown["failing"]["type"], "stateInstanceChanged");
    assert_eq!(
        shown["queued"][0]["receiptId"],
        shown["failing"]["receiptId"]
    );
}

#[test]
fn a_full_queue_drops_the_oldest_and_counts_it() {
    let sb = BlockingSandbox::start(config().notify_queue(3)).unwrap();
    // No webhookUrl: everything stays queued for receiveNotification.
    set(
        &sb,
        DEFAULT_INSTANCE_ID,
        DEFAULT_TOKEN,
        json!({"stateWebhook": "yes"}),
    );
    for _ in 0..5 {
        assert_eq!(state_changed(&sb, "authorized")["outcome"], "queued");
    }
    let shown = listing(&sb, DEFAULT_INSTANCE_ID);
    let queued: Vec<u64> = shown["queued"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["receiptId"].as_u64().unwrap())
        .collect();
    assert_eq!(queued, [3, 4, 5]);
    assert_eq!(shown["dropped"], 2);
    assert_eq!(shown["capacity"], 3);
    assert_eq!(get(sb.addr(), &receive_path(None)).json()["receiptId"], 3);
}

#[test]
fn a_receiver_that_never_answers_does_not_block_another_instance() {
    let (hung_id, ok_id) = (7_700_000_001, 7_700_000_002);
    let (hung_token, ok_token) = ("hung-token-1234", "okay-token-1234");
    let sb = BlockingSandbox::start(
        config()
            .with_instance(hung_id, hung_token)
            .with_instance(ok_id, ok_token)
            .notify_timeout(Duration::from_secs(5)),
    )
    .unwrap();
    let hung = Receiver::start();
    hung.hang();
    let ok = Receiver::start();
    set(
        &sb,
        hung_id,
        hung_token,
        json!({"webhookUrl": hung.url(), "stateWebhook": "yes"}),
    );
    set(
        &sb,
        ok_id,
        ok_token,
        json!({"webhookUrl": ok.url(), "stateWebhook": "yes"}),
    );
    let kind = json!({"type": "stateInstanceChanged"});
    assert_eq!(
        notify(&sb, hung_id, kind.clone()).json()["outcome"],
        "queued"
    );
    assert_eq!(
        hung.wait_for(1, WAIT).len(),
        1,
        "the hung receiver got its request"
    );
    let started = Instant::now();
    for _ in 0..3 {
        assert_eq!(notify(&sb, ok_id, kind.clone()).json()["outcome"], "queued");
    }
    assert_eq!(ok.wait_for(3, WAIT).len(), 3);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "waited for the hung receiver: {:?}",
        started.elapsed()
    );
    assert_eq!(listing(&sb, hung_id)["queued"].as_array().unwrap().len(), 1);
}

#[test]
fn a_receiver_that_never_answers_fails_after_the_response_timeout_and_gets_it_again() {
    let receiver = Receiver::start();
    receiver.hang();
    let sb = BlockingSandbox::start(config()).unwrap();
    webhook_to(&sb, &receiver.url());
    state_changed(&sb, "authorized");
    let shown = listing_until(&sb, DEFAULT_INSTANCE_ID, |l| {
        l["failing"]["attempts"].as_u64() >= Some(2)
    });
    assert_eq!(
        shown["failing"]["lastError"], "no answer within 200 ms",
        "{shown}"
    );
    let got = receiver.got();
    assert!(
        got.len() >= 2 && got.iter().all(|g| g.body == got[0].body),
        "{got:?}"
    );
}

#[test]
fn a_redirect_is_refused_and_not_followed() {
    let elsewhere = Receiver::start();
    let redirecting = Receiver::start();
    redirecting.redirect_to(&elsewhere.url());
    let sb = BlockingSandbox::start(config()).unwrap();
    webhook_to(&sb, &redirecting.url());
    state_changed(&sb, "authorized");
    let shown = listing_until(&sb, DEFAULT_INSTANCE_ID, |l| {
        l["failing"]["attempts"].as_u64() >= Some(2)
    });
    let error = shown["failing"]["lastError"].as_str().unwrap();
    assert!(error.starts_with("redirect refused (HTTP 302)"), "{error}");
    assert!(redirecting.got().len() >= 2);
    assert!(
        elsewhere.got().is_empty(),
        "followed a redirect: {:?}",
        elsewhere.got()
    );
}

#[test]
fn receive_notification_returns_the_oldest_until_deleted_then_the_next() {
    let sb = BlockingSandbox::start(config()).unwrap();
    set(
        &sb,
        DEFAULT_INSTANCE_ID,
        DEFAULT_TOKEN,
        json!({"stateWebhook": "yes"}),
    );
    let first = state_changed(&sb, "starting");
    let second = state_changed(&sb, "authorized");

    let got = get(sb.addr(), &receive_path(Some(5))).json();
    assert_eq!(
        got,
        json!({"receiptId": first["receiptId"], "body": first["body"]})
    );
    assert_eq!(
        get(sb.addr(), &receive_path(None)).json(),
        got,
        "the same one until deleted"
    );

    assert_eq!(
        delete(&sb, &first["receiptId"].to_string()).json(),
        json!({"result": true})
    );
    assert_eq!(
        delete(&sb, &first["receiptId"].to_string()).json(),
        json!({"result": false})
    );
    assert_eq!(delete(&sb, "999").json(), json!({"result": false}));

    let got = get(sb.addr(), &receive_path(None)).json();
    assert_eq!(got["receiptId"], second["receiptId"]);
    assert_eq!(got["body"], second["body"]);
    assert_eq!(
        delete(&sb, &second["receiptId"].to_string()).json(),
        json!({"result": true})
    );

    // Empty: null once the (scaled) receiveTimeout is over.
    let started = Instant::now();
    let empty = get(sb.addr(), &receive_path(Some(5)));
    assert_eq!((empty.status, empty.text()), (200, "null".to_string()));
    assert!(
        started.elapsed() >= Duration::from_millis(90),
        "{:?}",
        started.elapsed()
    );

    let shown = listing(&sb, DEFAULT_INSTANCE_ID);
    assert_eq!(shown["delivered"][0]["via"], "deleteNotification");
    assert_eq!(shown["delivered"][0]["attempts"], 2, "received twice");
}

#[test]
fn receive_notification_long_polls_until_one_arrives() {
    let sb = BlockingSandbox::start(config().notify_receive_scale(0.1)).unwrap();
    set(
        &sb,
        DEFAULT_INSTANCE_ID,
        DEFAULT_TOKEN,
        json!({"stateWebhook": "yes"}),
    );
    let addr = sb.addr();
    let started = Instant::now();
    // receiveTimeout 60 s scaled to 6 s; the notification comes after 300 ms.
    let waiting = std::thread::spawn(move || get(addr, &receive_path(Some(60))));
    std::thread::sleep(Duration::from_millis(300));
    let queued = state_changed(&sb, "authorized");
    let got = waiting.join().unwrap().json();
    assert_eq!(got["receiptId"], queued["receiptId"]);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn the_notification_methods_check_like_the_settings_methods() {
    let sb = BlockingSandbox::start(config()).unwrap();
    for bad in [4, 61] {
        let reply = get(sb.addr(), &receive_path(Some(bad)));
        let message = error_message(&reply, 400, "Bad Request");
        assert!(message.contains("from 5 to 60"), "{message}");
    }
    let reply = get(
        sb.addr(),
        &format!("{}?receiveTimeout=soon", receive_path(None)),
    );
    error_message(&reply, 400, "Bad Request");
    let reply = delete(&sb, "not-a-number");
    assert_eq!(
        error_message(&reply, 400, "Bad Request"),
        "Parameter receiptId must be a Number"
    );
    assert!(!reply.text().contains("not-a-number"));
    let wrong = get(
        sb.addr(),
        &format!("/waInstance{DEFAULT_INSTANCE_ID}/receiveNotification/wrong-token-1"),
    );
    error_message(&wrong, 401, "Unauthorized");
    let unknown = get(sb.addr(), "/waInstance42/receiveNotification/some-token-1");
    error_message(&unknown, 403, "Forbidden");
    // The verb and the shape of the path, as for the settings methods.
    let wrong_verb = get(
        sb.addr(),
        &format!("/waInstance{DEFAULT_INSTANCE_ID}/deleteNotification/{DEFAULT_TOKEN}/1"),
    );
    assert!(error_message(&wrong_verb, 404, "Not Found").contains("DELETE"));
    let extra = get(
        sb.addr(),
        &format!("{}/1", get_path(DEFAULT_INSTANCE_ID, DEFAULT_TOKEN)),
    );
    error_message(&extra, 404, "Not Found");
    // The official SDKs write the method names capitalised.
    let sdk = request(
        sb.addr(),
        "DELETE",
        &format!("/waInstance{DEFAULT_INSTANCE_ID}/DeleteNotification/{DEFAULT_TOKEN}/1"),
        &[],
        b"",
    );
    assert_eq!(sdk.json(), json!({"result": false}));
}

#[test]
fn the_rate_limit_applies_to_receive_notification_apart_from_delete_notification() {
    let sb = BlockingSandbox::start(config().rate_limit(Some(1))).unwrap();
    // receive, then delete at once (what a polling receiver does): both pass.
    assert_eq!(get(sb.addr(), &receive_path(None)).status, 200);
    assert_eq!(delete(&sb, "1").status, 200);
    let again = get(sb.addr(), &receive_path(None));
    error_message(&again, 429, "Too Many Requests");
}

#[test]
fn while_a_webhook_is_set_receive_notification_gives_nothing_and_the_webhook_gets_it() {
    let receiver = Receiver::start();
    receiver.hang();
    let sb = BlockingSandbox::start(config()).unwrap();
    webhook_to(&sb, &receiver.url());
    state_changed(&sb, "authorized");
    assert_eq!(get(sb.addr(), &receive_path(None)).text(), "null");
}

#[test]
fn an_unknown_type_or_bad_fields_are_refused_and_nothing_is_queued() {
    let sb = BlockingSandbox::start(config()).unwrap();
    set(
        &sb,
        DEFAULT_INSTANCE_ID,
        DEFAULT_TOKEN,
        json!({"stateWebhook": "yes"}),
    );
    let reply = notify(&sb, DEFAULT_INSTANCE_ID, json!({"type": "incomingCal"}));
    let message = error_message(&reply, 400, "Bad Request");
    assert!(
        message.contains("stateInstanceChanged") && message.contains("incomingCall"),
        "{message}"
    );
    let reply = notify(
        &sb,
        DEFAULT_INSTANCE_ID,
        json!({"type": "stateInstanceChanged", "fields": {"typeWebhook": "incomingCall"}}),
    );
    error_message(&reply, 400, "Bad Request");
    let reply = notify(
        &sb,
        DEFAULT_INSTANCE_ID,
        json!({"type": "stateInstanceChanged", "fields": {"timestamp": "now"}}),
    );
    error_message(&reply, 400, "Bad Request");
    let reply = notify(&sb, 42, json!({"type": "stateInstanceChanged"}));
    error_message(&reply, 404, "Not Found");
    let reply = request(
        sb.addr(),
        "POST",
        &format!("/sandbox/instances/{DEFAULT_INSTANCE_ID}/notify"),
        &[],
        br#"{"type":"stateInstanceChanged"}"#,
    );
    error_message(&reply, 415, "Unsupported Media Type");
    assert_eq!(listing(&sb, DEFAULT_INSTANCE_ID)["queued"], json!([]));
    error_message(
        &get(sb.addr(), "/sandbox/instances/42/notifications"),
        404,
        "Not Found",
    );
}

#[test]
fn variants_are_triggered_by_type_and_variant() {
    let sb = BlockingSandbox::start(config()).unwrap();
    let answer = notify(
        &sb,
        DEFAULT_INSTANCE_ID,
        json!({"type": "incomingMessageReceived", "variant": "editedMessage"}),
    )
    .json();
    assert_eq!(answer["outcome"], "suppressed");
    assert_eq!(
        answer["body"]["messageData"]["typeMessage"],
        "editedMessage"
    );
    let reason = answer["reason"].as_str().unwrap();
    assert!(reason.contains("editedMessageWebhook"), "{reason}");
}

#[test]
fn queued_notifications_and_the_receipt_counter_survive_a_restart_with_state() {
    let dir = temp_dir("notify-state");
    let path = dir.join("state.json");
    let first = BlockingSandbox::start(config().state_file(&path)).unwrap();
    set(
        &first,
        DEFAULT_INSTANCE_ID,
        DEFAULT_TOKEN,
        json!({"stateWebhook": "yes"}),
    );
    let answers: Vec<Value> = ["starting", "authorized", "sleepMode"]
        .iter()
        .map(|s| state_changed(&first, s))
        .collect();
    assert_eq!(delete(&first, "1").json(), json!({"result": true}));
    first.shutdown().unwrap();
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let queue = &saved["instances"][0]["notifications"];
    assert_eq!(
        (
            queue["nextReceiptId"].clone(),
            queue["queue"].as_array().map(Vec::len)
        ),
        (json!(4), Some(2)),
        "{saved}"
    );

    let second = BlockingSandbox::start(config().state_file(&path)).unwrap();
    let got = get(second.addr(), &receive_path(None)).json();
    assert_eq!(got["receiptId"], 2);
    assert_eq!(got["body"], answers[1]["body"]);
    let shown = listing(&second, DEFAULT_INSTANCE_ID);
    assert_eq!(shown["queued"].as_array().unwrap().len(), 2);
    assert_eq!(
        state_changed(&second, "authorized")["receiptId"],
        4,
        "receipts go on"
    );
    drop(second);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn notifications_kept_in_the_state_file_go_to_the_webhook_after_a_restart() {
    let dir = temp_dir("notify-state-webhook");
    let path = dir.join("state.json");
    let down = Receiver::start();
    let (port, url) = (down.port(), down.url());
    drop(down);
    let first = BlockingSandbox::start(config().state_file(&path)).unwrap();
    webhook_to(&first, &url);
    let queued = state_changed(&first, "authorized");
    first.shutdown().unwrap();

    let back = Receiver::start_on(port);
    let second = BlockingSandbox::start(config().state_file(&path)).unwrap();
    let got = back.wait_for(1, WAIT);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body, queued["body"]);
    drop(second);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn notify_restarts_sends_starting_then_authorized_around_a_set_settings_restart() {
    let receiver = Receiver::start();
    let sb = BlockingSandbox::start(config().notify_restarts(true)).unwrap();
    webhook_to(&sb, &receiver.url());
    let got = receiver.wait_for(2, WAIT);
    let states: Vec<&Value> = got.iter().map(|g| &g.body["stateInstance"]).collect();
    assert_eq!(states, [&json!("starting"), &json!("authorized")]);
    assert!(got
        .iter()
        .all(|g| g.body["typeWebhook"] == "stateInstanceChanged"));

    // Off: a restart sends nothing.
    let quiet = Receiver::start();
    let sb = BlockingSandbox::start(config()).unwrap();
    webhook_to(&sb, &quiet.url());
    std::thread::sleep(Duration::from_millis(300));
    assert!(quiet.got().is_empty(), "{:?}", quiet.got());
}

#[test]
fn with_a_restart_duration_authorized_comes_when_the_restart_is_over() {
    let receiver = Receiver::start();
    let restart = Duration::from_millis(400);
    let sb =
        BlockingSandbox::start(config().notify_restarts(true).restart_duration(restart)).unwrap();
    let started = Instant::now();
    webhook_to(&sb, &receiver.url());
    let got = receiver.wait_for(2, WAIT);
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].body["stateInstance"], "authorized");
    assert!(started.elapsed() >= restart, "{:?}", started.elapsed());
}

#[test]
fn no_answer_listing_or_debug_shows_the_webhook_token() {
    let redirecting = Receiver::start();
    redirecting.redirect_to(&format!("http://127.0.0.1:9/{HOOK_TOKEN}"));
    let sb = BlockingSandbox::start(config()).unwrap();
    webhook_to(&sb, &redirecting.url());
    let answer = state_changed(&sb, "authorized");
    let shown = listing_until(&sb, DEFAULT_INSTANCE_ID, |l| {
        l["failing"]["attempts"].as_u64() >= Some(1)
    });
    let suppressed = notify(&sb, DEFAULT_INSTANCE_ID, json!({"type": "incomingCall"})).text();
    let instance = get(
        sb.addr(),
        &format!("/sandbox/instances/{DEFAULT_INSTANCE_ID}"),
    )
    .text();
    let log = sb.notifications(DEFAULT_INSTANCE_ID).unwrap();
    let handle = sb
        .trigger(DEFAULT_INSTANCE_ID, "incomingCall", &Map::new())
        .unwrap();
    for text in [
        answer.to_string(),
        shown.to_string(),
        suppressed,
        instance,
        format!("{log:?}"),
        format!("{handle:?}"),
        format!("{sb:?}"),
    ] {
        assert!(!text.contains(HOOK_TOKEN), "{text}");
    }
}

#[test]
fn the_handles_trigger_and_list_without_http() {
    let receiver = Receiver::start();
    let sb = BlockingSandbox::start(config()).unwrap();
    webhook_to(&sb, &receiver.url());
    let mut fields = Map::new();
    fields.insert("stateInstance".into(), json!("blocked"));
    let t = sb
        .trigger(DEFAULT_INSTANCE_ID, "stateInstanceChanged", &fields)
        .unwrap();
    let Outcome::Queued { receipt_id } = t.outcome else {
        panic!("{t:?}")
    };
    assert_eq!(
        receiver.wait_for(1, WAIT)[0].body["stateInstance"],
        "blocked"
    );
    let deadline = Instant::now() + WAIT;
    while sb
        .notifications(DEFAULT_INSTANCE_ID)
        .unwrap()
        .delivered
        .is_empty()
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(10));
    }
    let log = sb.notifications(DEFAULT_INSTANCE_ID).unwrap();
    assert_eq!(log.delivered[0].receipt_id, receipt_id);
    let err = sb
        .trigger(DEFAULT_INSTANCE_ID, "nope", &Map::new())
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("stateInstanceChanged"), "{err}");
    assert_eq!(
        sb.trigger(42, "incomingCall", &Map::new())
            .unwrap_err()
            .kind(),
        std::io::ErrorKind::NotFound
    );
    assert!(sb.notifications(42).is_none());
}

/// Every kind of the spec, table-driven (a kind added to the spec is tested without new
/// code): with the settings it needs on it is delivered once, with a body that parses into
/// the generated type; with each of them off in turn it is suppressed, naming that setting.
#[test]
fn every_kind_is_delivered_when_its_settings_are_on_and_suppressed_naming_each_one_off() {
    use greenapi_settings::{FieldInfo, Notification, NOTIFICATIONS};
    let receiver = Receiver::start();
    let sb = BlockingSandbox::start(config()).unwrap();
    let mut expected = 0;
    for kind in NOTIFICATIONS {
        let key = kind.key();
        let (type_webhook, variant) = (kind.type_webhook, kind.variant);
        assert_eq!(post(sb.addr(), "/sandbox/reset", "").status, 200);
        let writable = kind.requires.iter().all(|r| FieldInfo::find(r).is_some());
        let settings = |off: Option<&str>| {
            let mut s = Map::new();
            s.insert("webhookUrl".into(), json!(receiver.url()));
            for r in kind
                .requires
                .iter()
                .filter(|r| FieldInfo::find(r).is_some())
            {
                s.insert(
                    (*r).into(),
                    json!(if Some(*r) == off { "no" } else { "yes" }),
                );
            }
            Value::Object(s)
        };
        let request = json!({"type": type_webhook, "variant": variant});
        if writable {
            set(&sb, DEFAULT_INSTANCE_ID, DEFAULT_TOKEN, settings(None));
            let answer = notify(&sb, DEFAULT_INSTANCE_ID, request.clone()).json();
            assert_eq!(answer["outcome"], "queued", "{key}: {answer}");
            expected += 1;
            let got = receiver.wait_for(expected, WAIT);
            assert_eq!(got.len(), expected, "{key} was not delivered");
            let body = &got[expected - 1].body;
            assert_eq!(body, &answer["body"], "{key}");
            let parsed = Notification::from_json(&body.to_string())
                .unwrap_or_else(|e| panic!("{key}: {e}: {body}"));
            assert_eq!(parsed.type_webhook(), type_webhook, "{key}");
        }
        for off in kind.requires {
            set(&sb, DEFAULT_INSTANCE_ID, DEFAULT_TOKEN, settings(Some(off)));
            let answer = notify(&sb, DEFAULT_INSTANCE_ID, request.clone()).json();
            assert_eq!(
                answer["outcome"], "suppressed",
                "{key} with {off} off: {answer}"
            );
            let reason = answer["reason"].as_str().unwrap();
            assert!(
                reason.ends_with(&format!("{off} is off")),
                "{key}: {reason}"
            );
        }
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(receiver.got().len(), expected, "delivered once each");
}

/// A receiver, and a sandbox whose changes take effect 300 ms after they are acknowledged,
/// with stateWebhook already in effect (no webhookUrl yet); the delay.
fn delayed_with_state_webhook() -> (Receiver, BlockingSandbox, Duration) {
    let receiver = Receiver::start();
    let delay = Duration::from_millis(300);
    let sb = BlockingSandbox::start(config().apply_delay(delay)).unwrap();
    set(
        &sb,
        DEFAULT_INSTANCE_ID,
        DEFAULT_TOKEN,
        json!({"stateWebhook": "yes"}),
    );
    std::thread::sleep(delay + Duration::from_millis(50));
    (receiver, sb, delay)
}

#[test]
fn a_webhook_url_that_takes_effect_after_the_apply_delay_gets_what_was_queued() {
    let (receiver, sb, delay) = delayed_with_state_webhook();
    assert_eq!(state_changed(&sb, "authorized")["outcome"], "queued");
    let started = Instant::now();
    set(
        &sb,
        DEFAULT_INSTANCE_ID,
        DEFAULT_TOKEN,
        json!({"webhookUrl": receiver.url()}),
    );
    let got = receiver.wait_for(1, WAIT);
    assert_eq!(
        got.len(),
        1,
        "the queued notification went to the URL once it took effect"
    );
    assert!(started.elapsed() >= delay, "{:?}", started.elapsed());
}

/// Regression (review of issue 21): the webhookUrl set before the instance's first
/// notification, and the notification triggered while the URL was still pending. No timer was
/// set for the apply delay (the instance had no notification slot yet), so the notification
/// stayed queued until another one arrived.
#[test]
fn a_notification_triggered_while_the_first_webhook_url_is_pending_is_delivered_when_it_takes_effect(
) {
    let (receiver, sb, _) = delayed_with_state_webhook();
    set(
        &sb,
        DEFAULT_INSTANCE_ID,
        DEFAULT_TOKEN,
        json!({"webhookUrl": receiver.url()}),
    );
    assert_eq!(state_changed(&sb, "authorized")["outcome"], "queued");
    let got = receiver.wait_for(1, WAIT);
    assert_eq!(got.len(), 1, "delivered once the URL took effect");
}

/// Regression (review of issue 21): with `user:password@` in webhookUrl, reqwest added a Basic
/// `Authorization` header before the Bearer one, and a receiver reading the first refused it.
#[test]
fn userinfo_in_the_webhook_url_is_not_sent_only_the_bearer_token_is() {
    let receiver = Receiver::start();
    let sb = BlockingSandbox::start(config()).unwrap();
    webhook_to(
        &sb,
        &receiver.url().replacen("http://", "http://user:pw@", 1),
    );
    assert_eq!(state_changed(&sb, "authorized")["outcome"], "queued");
    let got = receiver.wait_for(1, WAIT);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].authorizations, 1, "{got:?}");
    assert_eq!(
        got[0].authorization.as_deref(),
        Some(&*format!("Bearer {HOOK_TOKEN}"))
    );
}

#[test]
fn reset_empties_queues_and_records_and_receipts_go_on() {
    let sb = BlockingSandbox::start(config()).unwrap();
    set(
        &sb,
        DEFAULT_INSTANCE_ID,
        DEFAULT_TOKEN,
        json!({"stateWebhook": "yes"}),
    );
    assert_eq!(state_changed(&sb, "authorized")["receiptId"], 1);
    assert_eq!(post(sb.addr(), "/sandbox/reset", "").status, 200);
    let shown = listing(&sb, DEFAULT_INSTANCE_ID);
    assert_eq!(
        (shown["queued"].clone(), shown["dropped"].clone()),
        (json!([]), json!(0))
    );
    set(
        &sb,
        DEFAULT_INSTANCE_ID,
        DEFAULT_TOKEN,
        json!({"stateWebhook": "yes"}),
    );
    assert_eq!(state_changed(&sb, "authorized")["receiptId"], 2);
}

#[test]
fn a_failing_head_dropped_from_a_full_queue_is_no_longer_shown_as_failing() {
    let receiver = Receiver::start();
    receiver.fail(500, u16::MAX);
    let sb = BlockingSandbox::start(config().notify_queue(2)).unwrap();
    webhook_to(&sb, &receiver.url());
    state_changed(&sb, "starting");
    listing_until(&sb, DEFAULT_INSTANCE_ID, |l| l["failing"]["receiptId"] == 1);
    state_changed(&sb, "authorized");
    state_changed(&sb, "sleepMode");
    // The attempt in flight on receipt 1 may end after the drop: it must not bring it back.
    std::thread::sleep(Duration::from_millis(400));
    let shown = listing(&sb, DEFAULT_INSTANCE_ID);
    assert_eq!(shown["dropped"], 1);
    assert_eq!(shown["failing"]["receiptId"], 2, "{shown}");
    assert!(receiver
        .got()
        .iter()
        .any(|g| g.body["stateInstance"] == "authorized"));
}

/// What the official Python SDK's `startReceivingNotifications` loop sends
/// (whatsapp-api-client-python: `GET …/ReceiveNotification/{token}` with no receiveTimeout,
/// then `DELETE …/DeleteNotification/{token}/{receiptId}`): every notification, once, in order.
#[test]
fn the_official_sdks_polling_loop_gets_every_notification_once_in_order() {
    let sb = BlockingSandbox::start(config()).unwrap();
    set(
        &sb,
        DEFAULT_INSTANCE_ID,
        DEFAULT_TOKEN,
        json!({"stateWebhook": "yes"}),
    );
    let states = [
        "starting",
        "authorized",
        "sleepMode",
        "blocked",
        "authorized",
    ];
    for s in states {
        assert_eq!(state_changed(&sb, s)["outcome"], "queued");
    }
    let base = format!("/waInstance{DEFAULT_INSTANCE_ID}");
    let headers = [
        ("Content-Type", "application/json"),
        ("User-Agent", "python-requests/2.32"),
    ];
    let mut received = Vec::new();
    for _ in 0..20 {
        let reply = request(
            sb.addr(),
            "GET",
            &format!("{base}/ReceiveNotification/{DEFAULT_TOKEN}"),
            &headers,
            b"",
        );
        assert_eq!(reply.status, 200, "{}", reply.text());
        let data = reply.json();
        if data.is_null() {
            break;
        }
        received.push(data["body"]["stateInstance"].clone());
        let receipt = data["receiptId"].to_string();
        let deleted = request(
            sb.addr(),
            "DELETE",
            &format!("{base}/DeleteNotification/{DEFAULT_TOKEN}/{receipt}"),
            &headers,
            b"",
        );
        assert_eq!(deleted.json(), json!({"result": true}));
    }
    assert_eq!(received, states.map(Value::from));
    assert_eq!(listing(&sb, DEFAULT_INSTANCE_ID)["queued"], json!([]));
}
