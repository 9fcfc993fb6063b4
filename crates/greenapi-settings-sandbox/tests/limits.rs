//! Rate limit, "starting" after a restart, quota, injected faults and latency.

mod common;

use std::thread::sleep;
use std::time::{Duration, Instant};

use common::*;
use greenapi_settings_sandbox::{BlockingSandbox, SandboxConfig, DEFAULT_INSTANCE_ID};
use serde_json::json;

#[test]
fn second_request_within_a_second_is_429_with_retry_after() {
    let sb = BlockingSandbox::start(SandboxConfig::default()).unwrap();
    assert_eq!(get_default(sb.addr()).status, 200);
    let reply = get_default(sb.addr());
    let message = error_message(&reply, 429, "Too Many Requests");
    assert!(message.contains("1 per second"), "{message}");
    let retry_after: u64 = reply
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert_eq!(retry_after, 1);
    let stats = sb.stats(DEFAULT_INSTANCE_ID).unwrap();
    assert_eq!((stats.get_settings_calls, stats.rate_limited), (2, 1));
}

#[test]
fn rate_limit_counts_both_methods_together() {
    let sb = BlockingSandbox::start(SandboxConfig::default()).unwrap();
    assert_eq!(
        set_default(sb.addr(), r#"{"incomingWebhook":"yes"}"#).status,
        200
    );
    assert_eq!(get_default(sb.addr()).status, 429);
}

#[test]
fn rate_limit_is_per_instance() {
    let sb = BlockingSandbox::start(SandboxConfig::instances_generated(2)).unwrap();
    let ids = sb.instance_ids();
    for id in &ids {
        let token = greenapi_settings_sandbox::generated_token(*id);
        assert_eq!(
            get(sb.addr(), &get_path(*id, &token)).status,
            200,
            "instance {id}"
        );
    }
}

#[test]
fn rate_limited_caller_succeeds_after_waiting_retry_after() {
    let sb = BlockingSandbox::start(SandboxConfig::default()).unwrap();
    assert_eq!(get_default(sb.addr()).status, 200);
    let reply = get_default(sb.addr());
    assert_eq!(reply.status, 429);
    sleep(Duration::from_millis(1050));
    assert_eq!(get_default(sb.addr()).status, 200);
}

#[test]
fn configurable_rate_limit_allows_that_many_per_second() {
    let sb = BlockingSandbox::start(SandboxConfig::default().rate_limit(Some(3))).unwrap();
    let statuses: Vec<u16> = (0..4).map(|_| get_default(sb.addr()).status).collect();
    assert_eq!(statuses, [200, 200, 200, 429]);
}

#[test]
fn rate_limit_off_allows_bursts() {
    let sb = BlockingSandbox::start(unlimited()).unwrap();
    for _ in 0..30 {
        assert_eq!(get_default(sb.addr()).status, 200);
    }
    assert_eq!(sb.stats(DEFAULT_INSTANCE_ID).unwrap().rate_limited, 0);
}

#[test]
fn quota_exceeded_is_466_with_invoke_status() {
    let sb = BlockingSandbox::start(unlimited().quota(Some(2))).unwrap();
    assert_eq!(get_default(sb.addr()).status, 200);
    assert_eq!(
        set_default(sb.addr(), r#"{"incomingWebhook":"yes"}"#).status,
        200
    );
    let reply = set_default(sb.addr(), r#"{"incomingWebhook":"no"}"#);
    assert_eq!(reply.status, 466, "{}", reply.text());
    assert_eq!(
        reply.json(),
        json!({"invokeStatus": {
            "method": "setSettings", "used": 2, "total": 2,
            "status": "QUOTE_EXCEEDED", "description": "Monthly quota has been exceeded"
        }})
    );
    assert_eq!(
        get_default(sb.addr()).json()["invokeStatus"]["method"],
        "getSettings"
    );
    let stats = sb.stats(DEFAULT_INSTANCE_ID).unwrap();
    assert_eq!((stats.quota_used, stats.rejected), (2, 2));
}

#[test]
fn quota_is_checked_after_authentication() {
    let sb = BlockingSandbox::start(unlimited().quota(Some(0))).unwrap();
    assert_eq!(
        get(sb.addr(), &get_path(DEFAULT_INSTANCE_ID, "nope")).status,
        401
    );
    assert_eq!(get_default(sb.addr()).status, 466);
}

#[test]
fn instance_is_starting_for_restart_duration_after_set_settings() {
    let sb =
        BlockingSandbox::start(unlimited().restart_duration(Duration::from_millis(1000))).unwrap();
    assert_eq!(
        get_default(sb.addr()).status,
        200,
        "not starting before any restart"
    );
    assert_eq!(
        set_default(sb.addr(), r#"{"incomingWebhook":"yes"}"#).status,
        200
    );
    let message = error_message(&get_default(sb.addr()), 400, "Bad Request");
    assert_eq!(message, "instance in starting process try later");
    assert_eq!(
        set_default(sb.addr(), r#"{"incomingWebhook":"no"}"#).status,
        400
    );
    sleep(Duration::from_millis(1050));
    let body = get_default(sb.addr()).json();
    assert_eq!(
        body["incomingWebhook"], "yes",
        "the set during startup was refused"
    );
}

#[test]
fn rate_limit_is_checked_before_starting() {
    let sb =
        BlockingSandbox::start(SandboxConfig::default().restart_duration(Duration::from_secs(5)))
            .unwrap();
    assert_eq!(
        set_default(sb.addr(), r#"{"incomingWebhook":"yes"}"#).status,
        200
    );
    assert_eq!(get_default(sb.addr()).status, 429);
}

#[test]
fn error_rate_fails_a_deterministic_share_cycling_5xx_codes() {
    let config = unlimited().error_rate(0.25).seed(42);
    let run = || {
        let sb = BlockingSandbox::start(config.clone()).unwrap();
        (0..20).map(|_| get_default(sb.addr())).collect::<Vec<_>>()
    };
    let replies = run();
    let failed: Vec<u16> = replies
        .iter()
        .map(|r| r.status)
        .filter(|s| *s >= 500)
        .collect();
    assert_eq!(failed.len(), 5, "{failed:?}");
    assert!(replies.iter().all(|r| r.status == 200 || r.status >= 500));
    // 500, 502, 503, 504 in turn, starting wherever the seed says.
    let order = [500, 502, 503, 504];
    let start = order.iter().position(|c| *c == failed[0]).unwrap();
    let expected: Vec<u16> = (0..5).map(|k| order[(start + k) % 4]).collect();
    assert_eq!(failed, expected);
    for r in replies.iter().filter(|r| r.status >= 500) {
        assert_eq!(r.json()["code"], r.status);
    }
    // Same seed, same requests: same answers.
    let again: Vec<u16> = run().iter().map(|r| r.status).collect();
    assert_eq!(again, replies.iter().map(|r| r.status).collect::<Vec<_>>());
}

#[test]
fn error_rate_one_fails_everything_and_nothing_is_applied() {
    let sb = BlockingSandbox::start(unlimited().error_rate(1.0)).unwrap();
    for _ in 0..4 {
        assert!(set_default(sb.addr(), r#"{"incomingWebhook":"yes"}"#).status >= 500);
    }
    let stats = sb.stats(DEFAULT_INSTANCE_ID).unwrap();
    assert_eq!((stats.restarts, stats.rejected), (0, 4));
    assert!(!stats.settings.incoming_webhook);
}

#[test]
fn latency_delays_answers() {
    let sb = BlockingSandbox::start(unlimited().latency(Duration::from_millis(800))).unwrap();
    let t = Instant::now();
    assert_eq!(get_default(sb.addr()).status, 200);
    let elapsed = t.elapsed();
    assert!(elapsed >= Duration::from_millis(800), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    // Requests refused before the latency step are answered at once.
    let t = Instant::now();
    assert_eq!(
        get(sb.addr(), &get_path(DEFAULT_INSTANCE_ID, "nope")).status,
        401
    );
    assert!(t.elapsed() < Duration::from_millis(800));
}
