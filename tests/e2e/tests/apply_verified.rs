//! `apply_verified`: apply, then read back until every field shows its value, through the
//! sandbox's restart window ("starting" answers) and apply delay (new values visible late),
//! paced at the API's 1 request per second unless a test turns pacing off. Run twice: as is
//! (plain HTTP) and over HTTPS by `apply_verified_tls` (see `common::over_tls`).

pub(crate) mod common;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use common::{default_builder, sandbox};
use greenapi_settings::{ApplyOptions, Client, SettingsPatch, Verification};
use greenapi_settings_sandbox::{SandboxConfig, SandboxHandle, DEFAULT_INSTANCE_ID};

/// A sandbox with `config` but no rate limit, and a client of its default instance with
/// pacing off.
async fn unpaced(config: SandboxConfig) -> (SandboxHandle, Client) {
    let sb = sandbox(config.rate_limit(None)).await;
    let c = default_builder(&sb.url()).build().unwrap();
    (sb, c)
}

/// Wait up to `wait`, `settle` between reads, at most `max_resends` re-sends.
fn verify(wait: Duration, settle: Duration, max_resends: u32) -> ApplyOptions {
    ApplyOptions::default()
        .wait(wait)
        .settle(settle)
        .max_resends(max_resends)
}

fn desired() -> SettingsPatch {
    SettingsPatch::new()
        .incoming_webhook(true)
        .delay_send_messages_milliseconds(5000)
}

#[tokio::test]
async fn without_waiting_the_outcome_is_not_verified() {
    let (_sb, c) = unpaced(SandboxConfig::default()).await;
    let r = c
        .apply_verified(&desired(), &ApplyOptions::no_wait())
        .await
        .unwrap();
    assert!(r.applied.sent());
    assert_eq!(r.verification, Verification::NotVerified);
    assert_eq!(r.verification.to_string(), "not verified");
    assert_eq!(r.reads, 0);
}

#[tokio::test]
async fn a_restart_window_and_apply_delay_are_waited_out_without_resending() {
    let sb = sandbox(
        SandboxConfig::default()
            .restart_duration(Duration::from_millis(400))
            .apply_delay(Duration::from_millis(900)),
    )
    .await;
    // Real pacing: 1 request per second, as the sandbox's rate limit demands.
    let c = default_builder(&sb.url())
        .min_interval(Duration::from_secs(1))
        .build()
        .unwrap();
    let r = c
        .apply_verified(
            &desired(),
            &ApplyOptions::default()
                .wait(Duration::from_secs(20))
                .settle(Duration::from_secs(10)),
        )
        .await
        .unwrap();
    assert_eq!(
        r.verification,
        Verification::Converged { resends: 0 },
        "{r:?}"
    );
    assert_eq!(r.verification.to_string(), "converged");
    assert!(r.resent.is_empty());
    let stats = sb.stats(DEFAULT_INSTANCE_ID).unwrap();
    assert_eq!(stats.set_settings_calls, 1);
    assert_eq!(stats.rate_limited, 0, "the 1 request/second limit held");
}

#[tokio::test]
async fn an_instance_already_in_place_gets_nothing_and_is_converged() {
    let (sb, c) = unpaced(SandboxConfig::default()).await;
    c.apply(&desired()).await.unwrap();
    let r = c
        .apply_verified(&desired(), &ApplyOptions::default())
        .await
        .unwrap();
    assert!(!r.applied.sent());
    assert_eq!(r.verification, Verification::Converged { resends: 0 });
    assert_eq!(sb.stats(DEFAULT_INSTANCE_ID).unwrap().set_settings_calls, 1);
}

#[tokio::test]
async fn the_cancel_flag_stops_waiting_and_reports_what_is_known() {
    // New values never show within the test: the apply delay is longer than the wait.
    let (_sb, c) = unpaced(SandboxConfig::default().apply_delay(Duration::from_secs(60))).await;
    let flag = Arc::new(AtomicBool::new(false));
    let stopper = flag.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        stopper.store(true, std::sync::atomic::Ordering::SeqCst);
    });
    let r = tokio::time::timeout(
        Duration::from_secs(10),
        c.apply_verified(
            &desired(),
            &ApplyOptions::default()
                .wait(Duration::from_secs(30))
                .cancel_flag(flag),
        ),
    )
    .await
    .expect("the flag stops the wait")
    .unwrap();
    match &r.verification {
        Verification::Interrupted { fields, resends } => {
            assert_eq!(*resends, 0);
            let names: Vec<&str> = fields.iter().map(|c| c.field).collect();
            assert_eq!(names, ["delaySendMessagesMilliseconds", "incomingWebhook"]);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn fields_still_wrong_after_the_wait_are_named_with_what_they_read() {
    let (_sb, c) = unpaced(SandboxConfig::default().apply_delay(Duration::from_secs(60))).await;
    let r = c
        .apply_verified(
            &SettingsPatch::new().incoming_webhook(true),
            &verify(Duration::from_millis(600), Duration::from_millis(200), 1),
        )
        .await
        .unwrap();
    match &r.verification {
        Verification::NotConverged { fields, resends } => {
            assert_eq!(*resends, 1);
            assert_eq!(fields.len(), 1);
            assert_eq!(fields[0].field, "incomingWebhook");
            assert_eq!(fields[0].current, "no");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(r.resent, [SettingsPatch::new().incoming_webhook(true)]);
    assert!(r
        .verification
        .to_string()
        .starts_with("not converged after 1 re-send(s): incomingWebhook"));
}

#[tokio::test]
async fn writes_that_are_always_lost_end_not_converged_after_the_bounded_resends() {
    // Rate 1: every acknowledged field is dropped, re-sends included. The re-sends are bounded
    // and the outcome names what still reads wrong.
    let (_sb, c) = unpaced(SandboxConfig::default().lost_write_rate(1.0)).await;
    let r = c
        .apply_verified(
            &desired(),
            &verify(Duration::from_millis(800), Duration::from_millis(200), 2),
        )
        .await
        .unwrap();
    // Everything is lost every time: not converged, after exactly 2 re-sends of both fields.
    match &r.verification {
        Verification::NotConverged { fields, resends } => {
            assert_eq!(*resends, 2);
            assert_eq!(fields.len(), 2);
        }
        other => panic!("{other:?}"),
    }
    assert!(r.resent.iter().all(|p| *p == desired()), "{:?}", r.resent);
}

#[tokio::test]
async fn with_some_fields_lost_only_those_are_resent_and_it_converges() {
    // Find a seed under which the first call loses some but not all of its fields and the
    // re-send of those fields is kept; the sandbox's losses are reproducible per seed.
    for seed in 0..200u64 {
        let (sb, c) = unpaced(SandboxConfig::default().seed(seed).lost_write_rate(0.5)).await;
        let r = c
            .apply_verified(
                &desired(),
                &verify(Duration::from_secs(5), Duration::from_millis(100), 1),
            )
            .await
            .unwrap();
        let stats = sb.stats(DEFAULT_INSTANCE_ID).unwrap();
        if stats.lost_writes != 1 || r.resent.len() != 1 || r.resent[0].len() != 1 {
            continue;
        }
        assert_eq!(
            r.verification,
            Verification::Converged { resends: 1 },
            "seed {seed}"
        );
        assert_eq!(r.verification.to_string(), "converged after 1 re-send");
        assert_eq!(stats.lost_fields, 1);
        assert!(stats.unrepaired_lost_fields.is_empty(), "{stats:?}");
        assert_eq!(stats.set_settings_calls, 2);
        return;
    }
    panic!("no seed in 0..200 lost exactly one field of two and kept the re-send");
}
