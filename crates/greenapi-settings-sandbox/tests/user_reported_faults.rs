//! The faults users of the real API report after `setSettings` answers `{"saveSettings": true}`
//! (spec/sources/api-current.md, "Behaviour users report"): writes that are acknowledged but
//! never take effect, and settings that drift back by themselves. Driven with the project's
//! real client over loopback, the way `apply --wait` will meet them.
//!
//! Bounded: a few sandboxes on 127.0.0.1, each test under ~10 s; every timing assertion has
//! at least ~1 s of margin, and waits for something that must happen poll with a deadline.

mod common;

use std::future::Future;
use std::time::Duration;

use common::{error_message, request};
use greenapi_settings::{Client, RetryPolicy, Settings, SettingsPatch};
use greenapi_settings_sandbox::{
    generated_token, Sandbox, SandboxConfig, SandboxHandle, DEFAULT_INSTANCE_ID, DEFAULT_TOKEN,
};
use serde_json::{json, Value};

/// How long a test waits for something the sandbox must do by a known time.
const PATIENCE: Duration = Duration::from_secs(5);

async fn start(config: SandboxConfig) -> SandboxHandle {
    Sandbox::start(config).await.expect("sandbox")
}

/// The real client for instance `id` of `sb`, unpaced and without retries (the configs
/// below turn the rate limit off unless a test is about it).
fn client(sb: &SandboxHandle, id: u64, token: &str) -> Client {
    Client::builder()
        .api_url(sb.url())
        .id_instance(id)
        .api_token(token)
        .min_interval(Duration::ZERO)
        .retry(RetryPolicy::none())
        .build()
        .expect("client")
}

fn default_client(sb: &SandboxHandle) -> Client {
    client(sb, DEFAULT_INSTANCE_ID, DEFAULT_TOKEN)
}

fn unlimited() -> SandboxConfig {
    SandboxConfig::default().rate_limit(None)
}

async fn set(c: &Client, patch: &SettingsPatch) {
    let answer = c.set_settings(patch).await.expect("setSettings");
    assert!(answer.save_settings, "every call here is acknowledged");
}

async fn get(c: &Client) -> Settings {
    c.get_settings().await.expect("getSettings")
}

/// Whether every writable setting still has its default (the read-only ones, such as `wid`,
/// are the sandbox's).
fn untouched(settings: &Settings) -> bool {
    settings.to_patch() == Settings::default().to_patch()
}

/// Polls `check` every 50 ms until it holds; panics with `what` after [`PATIENCE`].
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Runs a blocking HTTP exchange (the tests' raw client) off the async worker.
async fn raw<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.expect("raw request")
}

fn three_fields(delay: i64) -> SettingsPatch {
    SettingsPatch::new()
        .incoming_webhook(true)
        .outgoing_webhook(true)
        .delay_send_messages_milliseconds(delay)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_write_is_acknowledged_but_not_visible_until_the_field_is_sent_again() {
    let sb = start(unlimited().lost_write_rate(0.5).seed(7)).await;
    let c = default_client(&sb);
    // Send one-field calls until one is lost (each is, with probability 1/2; the seed fixes
    // which), the way a client that does not verify would.
    let mut lost_value = None;
    for i in 0..40 {
        let value = 1_000 + i;
        let before = get(&c).await.delay_send_messages_milliseconds;
        set(
            &c,
            &SettingsPatch::new().delay_send_messages_milliseconds(value),
        )
        .await;
        let shown = get(&c).await.delay_send_messages_milliseconds;
        if shown != value {
            assert_eq!(shown, before, "a lost field keeps its old value");
            lost_value = Some(value);
            break;
        }
    }
    let value = lost_value.expect("one of 40 calls is lost at rate 0.5");
    let stats = sb.stats(DEFAULT_INSTANCE_ID).expect("instance");
    assert_eq!(stats.lost_writes, 1);
    assert_eq!(stats.lost_fields, 1);
    assert_eq!(
        stats.unrepaired_lost_fields,
        ["delaySendMessagesMilliseconds"]
    );
    assert_eq!(stats.rejected, 0, "a lost write is an accepted call");
    assert_eq!(stats.restarts, stats.set_settings_calls);
    assert_eq!(stats.pending, None, "nothing is on its way either");

    // Verify and repair: re-send until it shows (a re-send may be lost again).
    let mut resent = 0;
    while get(&c).await.delay_send_messages_milliseconds != value {
        assert!(resent < 40, "40 re-sends at rate 0.5 all lost");
        set(
            &c,
            &SettingsPatch::new().delay_send_messages_milliseconds(value),
        )
        .await;
        resent += 1;
    }
    let stats = sb.stats(DEFAULT_INSTANCE_ID).expect("instance");
    assert!(
        stats.unrepaired_lost_fields.is_empty(),
        "every lost field was re-sent: {:?}",
        stats.unrepaired_lost_fields
    );
    assert_eq!(stats.lost_writes, stats.lost_fields, "one field per call");
    let shown = common_json(&sb, DEFAULT_INSTANCE_ID).await;
    assert_eq!(shown["lostWrites"], stats.lost_writes);
    assert_eq!(shown["lostFields"], stats.lost_fields);
    assert_eq!(shown["unrepairedLostFields"], json!([]));
    sb.shutdown().await.expect("shutdown");
}

/// `GET /sandbox/instances/{id}`.
async fn common_json(sb: &SandboxHandle, id: u64) -> Value {
    let addr = sb.addr();
    raw(move || common::get(addr, &format!("/sandbox/instances/{id}")).json()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_write_rates_zero_and_one_are_exact() {
    let all = start(unlimited().lost_write_rate(1.0)).await;
    let none = start(unlimited().lost_write_rate(0.0)).await;
    let (lose, keep) = (default_client(&all), default_client(&none));
    for i in 0..5 {
        set(&lose, &three_fields(1_000 + i)).await;
        set(&keep, &three_fields(1_000 + i)).await;
        assert!(untouched(&get(&lose).await), "call {i}");
        assert_eq!(get(&keep).await.delay_send_messages_milliseconds, 1_000 + i);
    }
    let lost = all.stats(DEFAULT_INSTANCE_ID).expect("instance");
    assert_eq!(
        (lost.restarts, lost.lost_writes, lost.lost_fields),
        (5, 5, 15)
    );
    assert_eq!(
        lost.unrepaired_lost_fields,
        three_fields(0).field_names(),
        "spec order"
    );
    let kept = none.stats(DEFAULT_INSTANCE_ID).expect("instance");
    assert_eq!(
        (kept.restarts, kept.lost_writes, kept.lost_fields),
        (5, 0, 0)
    );
    assert!(kept.unrepaired_lost_fields.is_empty());
    assert!(kept.settings.incoming_webhook && kept.settings.outgoing_webhook);
    // "Forever": still the old values a while later, and nothing pending.
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert!(untouched(&get(&lose).await));
    assert_eq!(
        all.stats(DEFAULT_INSTANCE_ID).expect("instance").pending,
        None
    );
    all.shutdown().await.expect("shutdown");
    none.shutdown().await.expect("shutdown");
}

/// What each of `calls` three-field calls to instance `ids[0]` left visible, interleaving a
/// call to every other instance (which must not change what the first one loses).
async fn losses(config: SandboxConfig, calls: i64) -> (Vec<Settings>, Vec<&'static str>, u64) {
    let sb = start(config).await;
    let ids = sb.instance_ids();
    let first = client(&sb, ids[0], &generated_token(ids[0]));
    let mut seen = Vec::new();
    for i in 0..calls {
        set(&first, &three_fields(1_000 + i)).await;
        seen.push(get(&first).await);
        for &other in &ids[1..] {
            let c = client(&sb, other, &generated_token(other));
            set(&c, &three_fields(2_000 + i)).await;
        }
    }
    let stats = sb.stats(ids[0]).expect("instance");
    sb.shutdown().await.expect("shutdown");
    (seen, stats.unrepaired_lost_fields, stats.lost_fields)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_fixed_seed_the_same_calls_lose_the_same_fields() {
    let config = |n: usize, seed: u64| {
        SandboxConfig::instances_generated(n)
            .rate_limit(None)
            .lost_write_rate(0.5)
            .seed(seed)
    };
    let a = losses(config(1, 42), 8).await;
    let b = losses(config(3, 42), 8).await;
    assert_eq!(a, b, "same seed, same losses, whatever other instances get");
    assert!(a.2 > 0 && a.2 < 24, "some but not all fields lost: {}", a.2);
    let c = losses(config(1, 43), 8).await;
    assert_ne!(a.0, c.0, "another seed loses other fields");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_write_still_restarts_the_instance_and_still_counts_for_the_rate_limit() {
    // Rate limit off: the restart window shows right after the lost write.
    let sb = start(
        unlimited()
            .lost_write_rate(1.0)
            .restart_duration(Duration::from_millis(1_500)),
    )
    .await;
    let c = default_client(&sb);
    set(&c, &SettingsPatch::new().incoming_webhook(true)).await;
    let err = c.get_settings().await.expect_err("starting");
    assert_eq!(err.kind(), "instanceNotReady", "{err}");
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let shown = loop {
        match c.get_settings().await {
            Ok(settings) => break settings,
            Err(e) => assert_eq!(e.kind(), "instanceNotReady", "{e}"),
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the restart never ends"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        !shown.incoming_webhook,
        "lost, though the instance restarted"
    );
    sb.shutdown().await.expect("shutdown");

    // The API's limit (1 request/s): the lost write took its slot like any other call.
    let sb = start(
        SandboxConfig::default()
            .lost_write_rate(1.0)
            .apply_delay(Duration::from_millis(500)),
    )
    .await;
    let addr = sb.addr();
    let replies = raw(move || {
        let set = common::set_default(addr, r#"{"incomingWebhook":"yes"}"#);
        let get = common::get_default(addr);
        (set.status, set.text(), get.status)
    })
    .await;
    assert_eq!(
        replies,
        (200, r#"{"saveSettings":true}"#.to_string(), 429),
        "acknowledged, then over the limit"
    );
    // Past the window (and the apply delay), the paced client (1 request/s) sees the old
    // value, twice.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let paced = Client::new(sb.url(), DEFAULT_INSTANCE_ID, DEFAULT_TOKEN).expect("client");
    assert!(!get(&paced).await.incoming_webhook);
    assert!(!get(&paced).await.incoming_webhook);
    let stats = sb.stats(DEFAULT_INSTANCE_ID).expect("instance");
    assert_eq!((stats.lost_writes, stats.rate_limited), (1, 1));
    assert_eq!(stats.pending, None);
    sb.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_drifts_back_after_the_delay_counted_from_when_it_took_effect() {
    // Visible 1 s after the answer, reverted 2 s later: checked at ~0 s, ~2 s and from 3 s.
    let sb = start(
        unlimited()
            .apply_delay(Duration::from_millis(1_000))
            .drift_after(Duration::from_millis(2_000)),
    )
    .await;
    let c = default_client(&sb);
    set(&c, &three_fields(1_500)).await;
    let acknowledged = tokio::time::Instant::now();
    assert!(untouched(&get(&c).await), "not applied yet");
    tokio::time::sleep_until(acknowledged + Duration::from_millis(2_000)).await;
    let shown = get(&c).await;
    assert!(shown.incoming_webhook && shown.outgoing_webhook);
    assert_eq!(shown.delay_send_messages_milliseconds, 1_500);
    assert_eq!(sb.stats(DEFAULT_INSTANCE_ID).expect("instance").drifts, 0);
    eventually("the change drifts back", || async {
        untouched(&get(&c).await)
    })
    .await;
    assert!(
        acknowledged.elapsed() >= Duration::from_millis(2_000),
        "not before the apply delay plus the drift delay (3 s; still set at 2 s above)"
    );
    let stats = sb.stats(DEFAULT_INSTANCE_ID).expect("instance");
    assert_eq!((stats.drifts, stats.drifted_fields), (1, 3));
    assert_eq!(stats.restarts, 1, "a drift is no restart");
    let shown = common_json(&sb, DEFAULT_INSTANCE_ID).await;
    assert_eq!(
        (shown["drifts"].clone(), shown["driftedFields"].clone()),
        (json!(1), json!(3))
    );
    sb.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_named_fields_drift_and_a_repair_sticks_past_the_drift_limit() {
    let sb = start(
        unlimited()
            .drift_after(Duration::from_millis(300))
            .drift_fields(["incomingWebhook"])
            .drift_limit(Some(1)),
    )
    .await;
    let c = default_client(&sb);
    let desired = SettingsPatch::new()
        .incoming_webhook(true)
        .outgoing_webhook(true);
    set(&c, &desired).await;
    eventually("incomingWebhook drifts", || async {
        !get(&c).await.incoming_webhook
    })
    .await;
    assert!(get(&c).await.outgoing_webhook, "not a drifting field");
    // Verify and repair: send what differs again. The limit (1) is used, so it sticks.
    let plan = c.plan(&desired).await.expect("plan");
    assert_eq!(plan.changes.len(), 1, "{:?}", plan.changes);
    set(&c, &desired.changed_only(&get(&c).await)).await;
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    assert!(get(&c).await.incoming_webhook, "the repair stuck");
    let stats = sb.stats(DEFAULT_INSTANCE_ID).expect("instance");
    assert_eq!(
        (stats.drifts, stats.drifted_fields, stats.restarts),
        (1, 1, 2)
    );
    sb.shutdown().await.expect("shutdown");
}

/// `POST /sandbox/instances/{id}/drift` with the given headers and body.
async fn drift(
    sb: &SandboxHandle,
    id: &str,
    headers: &'static [(&str, &str)],
    body: &str,
) -> common::Reply {
    let (addr, path, body) = (
        sb.addr(),
        format!("/sandbox/instances/{id}/drift"),
        body.to_string(),
    );
    raw(move || request(addr, "POST", &path, headers, body.as_bytes())).await
}

const JSON: &[(&str, &str)] = &[("Content-Type", "application/json")];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_drift_endpoint_sets_values_or_reverts_the_last_change_now() {
    let sb = start(unlimited()).await;
    let c = default_client(&sb);
    let id = DEFAULT_INSTANCE_ID.to_string();
    set(
        &c,
        &SettingsPatch::new()
            .incoming_webhook(true)
            .delay_send_messages_milliseconds(1_500),
    )
    .await;

    let reply = drift(&sb, &id, JSON, r#"{"delaySendMessagesMilliseconds": 3000}"#).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        reply.json(),
        json!({"drifted": ["delaySendMessagesMilliseconds"]})
    );
    assert_eq!(get(&c).await.delay_send_messages_milliseconds, 3_000);

    // No values: the last change goes back, where it still holds (the delay drifted already).
    let reply = drift(&sb, &id, &[], "").await;
    assert_eq!(reply.json(), json!({"drifted": ["incomingWebhook"]}));
    let shown = get(&c).await;
    assert!(!shown.incoming_webhook);
    assert_eq!(shown.delay_send_messages_milliseconds, 3_000);
    // Nothing left to revert: nothing changes and nothing is counted. `{}` means the same.
    assert_eq!(
        drift(&sb, &id, JSON, "{}").await.json(),
        json!({"drifted": []})
    );
    // Values equal to the current ones change nothing either.
    let reply = drift(&sb, &id, JSON, r#"{"incomingWebhook": "no"}"#).await;
    assert_eq!(reply.json(), json!({"drifted": []}));

    let stats = sb.stats(DEFAULT_INSTANCE_ID).expect("instance");
    assert_eq!((stats.drifts, stats.drifted_fields), (2, 2));
    assert_eq!(stats.restarts, 1, "a drift is no restart");

    // The same from Rust, for in-process tests.
    let changed = sb
        .drift(
            DEFAULT_INSTANCE_ID,
            Some(&SettingsPatch::new().outgoing_webhook(true)),
        )
        .await
        .expect("drift");
    assert_eq!(changed, ["outgoingWebhook"]);
    assert!(get(&c).await.outgoing_webhook);
    let err = sb.drift(42, None).await.expect_err("unknown instance");
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    sb.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_drift_endpoint_refuses_what_the_other_sandbox_endpoints_refuse() {
    let sb = start(unlimited()).await;
    let c = default_client(&sb);
    set(&c, &SettingsPatch::new().incoming_webhook(true)).await;
    let id = DEFAULT_INSTANCE_ID.to_string();
    let body = r#"{"incomingWebhook":"no"}"#;

    let reply = drift(
        &sb,
        &id,
        &[
            ("Content-Type", "application/json"),
            ("Origin", "http://evil.example"),
        ],
        body,
    )
    .await;
    error_message(&reply, 403, "Forbidden");
    let empty = drift(&sb, &id, &[("Origin", "http://evil.example")], "").await;
    error_message(&empty, 403, "Forbidden");
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let headers: &'static [(&str, &str)] = match content_type {
            "text/plain" => &[("Content-Type", "text/plain")],
            "application/x-www-form-urlencoded" => {
                &[("Content-Type", "application/x-www-form-urlencoded")]
            }
            _ => &[("Content-Type", "multipart/form-data; boundary=x")],
        };
        let reply = drift(&sb, &id, headers, body).await;
        error_message(&reply, 415, "Unsupported Media Type");
    }
    // A body must say it is JSON.
    error_message(
        &drift(&sb, &id, &[], body).await,
        415,
        "Unsupported Media Type",
    );
    // Bad values, bad JSON, unknown instances, other verbs.
    let reply = drift(&sb, &id, JSON, r#"{"delaySendMessagesMilliseconds": 1}"#).await;
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert_eq!(
        reply.json()["violations"][0]["field"],
        "delaySendMessagesMilliseconds",
        "{}",
        reply.text()
    );
    assert_eq!(
        drift(&sb, &id, JSON, r#"{"incoming_webhook":"no"}"#)
            .await
            .status,
        400
    );
    assert_eq!(drift(&sb, &id, JSON, "{").await.status, 400);
    error_message(&drift(&sb, "42", JSON, body).await, 404, "Not Found");
    error_message(
        &drift(&sb, &format!("0{id}"), JSON, body).await,
        404,
        "Not Found",
    );
    let addr = sb.addr();
    let path = format!("/sandbox/instances/{id}/drift");
    let reply = raw(move || common::get(addr, &path)).await;
    let message = error_message(&reply, 405, "Method Not Allowed");
    assert!(message.contains("/drift"), "{message}");

    assert!(get(&c).await.incoming_webhook, "nothing drifted");
    assert_eq!(sb.stats(DEFAULT_INSTANCE_ID).expect("instance").drifts, 0);
    sb.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_state_file_keeps_no_lost_field_and_every_drift() {
    let dir = common::temp_dir("user-faults-state");
    let file = dir.join("state.json");
    let sb = start(unlimited().state_file(&file).lost_write_rate(1.0)).await;
    set(&default_client(&sb), &three_fields(1_500)).await;
    sb.shutdown().await.expect("shutdown");

    // Started again from the file (without faults): the lost fields never were applied.
    let sb = start(
        unlimited()
            .state_file(&file)
            .drift_after(Duration::from_secs(3_600)),
    )
    .await;
    let c = default_client(&sb);
    assert!(untouched(&get(&c).await));
    assert_eq!(sb.stats(DEFAULT_INSTANCE_ID).expect("instance").restarts, 1);
    // A change with a drift due in an hour is visible now, but the file holds the settings as
    // they will be once it happened (as it holds pending changes as applied).
    set(&c, &SettingsPatch::new().incoming_webhook(true)).await;
    assert!(get(&c).await.incoming_webhook);
    // A triggered drift is written before the answer.
    let reply = drift(
        &sb,
        &DEFAULT_INSTANCE_ID.to_string(),
        JSON,
        r#"{"outgoingWebhook":"yes"}"#,
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    sb.shutdown().await.expect("shutdown");

    let sb = start(unlimited().state_file(&file)).await;
    let shown = get(&default_client(&sb)).await;
    assert!(!shown.incoming_webhook, "the scheduled drift is over");
    assert!(shown.outgoing_webhook, "the triggered drift was kept");
    sb.shutdown().await.expect("shutdown");
    let _ = std::fs::remove_dir_all(&dir);
}
