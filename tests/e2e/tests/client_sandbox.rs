//! The real async client against the real sandbox server on 127.0.0.1: round trips, merges,
//! plan/apply, every error kind, retries, pacing, and no request for an invalid patch. Run
//! twice: as is (plain HTTP) and over HTTPS by `client_sandbox_tls` (see `common::over_tls`).

pub(crate) mod common;

use std::time::{Duration, Instant};

use common::{blocking_sandbox, builder, client_for, default_builder, fast_client, sandbox, TOKEN};
use greenapi_settings::{Client, Error, RetryPolicy, Settings, SettingsPatch};
use greenapi_settings_sandbox::{SandboxConfig, DEFAULT_INSTANCE_ID};

#[tokio::test]
async fn fresh_instance_reports_all_settings_off_and_a_round_trip_sticks() {
    let sb = sandbox(SandboxConfig::default().rate_limit(None)).await;
    let client = fast_client(&sb.url());
    let before = client.get_settings().await.unwrap();
    assert_eq!(before.to_patch(), Settings::default().to_patch());
    assert!(before.wid.is_some());

    let patch = SettingsPatch::new()
        .webhook_url("https://mysite.com/webhook/green-api/")
        .delay_send_messages_milliseconds(15_000)
        .incoming_webhook(true);
    let resp = client.set_settings(&patch).await.unwrap();
    assert!(resp.save_settings);

    let after = client.get_settings().await.unwrap();
    assert_eq!(after.webhook_url, "https://mysite.com/webhook/green-api/");
    assert_eq!(after.delay_send_messages_milliseconds, 15_000);
    assert!(after.incoming_webhook);
    assert!(!after.outgoing_webhook);
    assert_eq!(sb.stats(DEFAULT_INSTANCE_ID).unwrap().restarts, 1);
}

#[tokio::test]
async fn partial_patches_merge_with_earlier_ones() {
    let sb = sandbox(SandboxConfig::default().rate_limit(None)).await;
    let client = fast_client(&sb.url());
    client
        .set_settings(&SettingsPatch::new().incoming_webhook(true))
        .await
        .unwrap();
    client
        .set_settings(&SettingsPatch::new().state_webhook(true))
        .await
        .unwrap();
    client
        .set_settings(
            &SettingsPatch::new()
                .incoming_webhook(false)
                .delay_send_messages_milliseconds(900),
        )
        .await
        .unwrap();
    let s = client.get_settings().await.unwrap();
    assert!(!s.incoming_webhook);
    assert!(s.state_webhook);
    assert_eq!(s.delay_send_messages_milliseconds, 900);
    assert_eq!(sb.stats(DEFAULT_INSTANCE_ID).unwrap().restarts, 3);
}

#[tokio::test]
async fn an_invalid_patch_is_rejected_with_every_problem_and_nothing_is_sent() {
    let sb = sandbox(SandboxConfig::default().rate_limit(None)).await;
    let client = fast_client(&sb.url());
    let bad = SettingsPatch::new()
        .delay_send_messages_milliseconds(100)
        .webhook_url("ftp://x");
    let err = client.set_settings(&bad).await.unwrap_err();
    let Error::Validation(v) = &err else {
        panic!("{err:?}")
    };
    let fields: Vec<_> = v
        .violations
        .iter()
        .map(|v| v.field.as_deref().unwrap())
        .collect();
    assert_eq!(fields, ["webhookUrl", "delaySendMessagesMilliseconds"]);
    assert!(matches!(client.plan(&bad).await, Err(Error::Validation(_))));
    assert!(matches!(
        client.apply(&bad).await,
        Err(Error::Validation(_))
    ));
    assert!(matches!(
        client.set_settings(&SettingsPatch::new()).await,
        Err(Error::Validation(_))
    ));
    let stats = sb.stats(DEFAULT_INSTANCE_ID).unwrap();
    assert_eq!(
        (stats.set_settings_calls, stats.get_settings_calls),
        (0, 0),
        "nothing may reach the server"
    );
}

#[tokio::test]
async fn apply_sends_only_changes_and_nothing_when_already_in_place() {
    let sb = sandbox(SandboxConfig::default().rate_limit(None)).await;
    let client = fast_client(&sb.url());
    client
        .set_settings(&SettingsPatch::new().incoming_webhook(true))
        .await
        .unwrap();
    let desired = SettingsPatch::new()
        .incoming_webhook(true)
        .outgoing_webhook(true)
        .delay_send_messages_milliseconds(5000);

    let plan = client.plan(&desired).await.unwrap();
    let changed: Vec<_> = plan.changes.iter().map(|c| c.field).collect();
    assert_eq!(
        changed,
        ["delaySendMessagesMilliseconds", "outgoingWebhook"]
    );
    assert_eq!(
        plan.to_send.field_names(),
        ["delaySendMessagesMilliseconds", "outgoingWebhook"]
    );

    let first = client.apply(&desired).await.unwrap();
    assert!(first.sent());
    let second = client.apply(&desired).await.unwrap();
    assert!(!second.sent());
    assert!(second.plan.is_noop());

    let stats = sb.stats(DEFAULT_INSTANCE_ID).unwrap();
    assert_eq!(
        stats.set_settings_calls, 2,
        "the initial set and the first apply; the second apply sends nothing"
    );
    assert_eq!(stats.restarts, 2);
}

#[tokio::test]
async fn plan_reports_rule_warnings_on_current_settings_merged_with_the_change() {
    let sb = sandbox(SandboxConfig::default().rate_limit(None)).await;
    let client = fast_client(&sb.url());
    let plan = client
        .plan(&SettingsPatch::new().poll_message_webhook(true))
        .await
        .unwrap();
    let rules: Vec<_> = plan.warnings.iter().map(|w| w.rule).collect();
    assert_eq!(rules, ["pollNeedsMessageWebhook"]);
    assert_eq!(
        sb.stats(DEFAULT_INSTANCE_ID).unwrap().set_settings_calls,
        0,
        "plan never writes"
    );
}

#[tokio::test]
async fn wrong_token_is_auth_and_unknown_instance_is_forbidden() {
    let sb = sandbox(SandboxConfig::default().rate_limit(None)).await;
    let wrong_token = client_for(&sb.url(), DEFAULT_INSTANCE_ID, "not-the-token-123");
    let err = wrong_token.get_settings().await.unwrap_err();
    assert!(matches!(err, Error::Auth), "{err:?}");
    assert!(!err.is_retryable());
    let unknown = client_for(&sb.url(), 42, TOKEN);
    assert!(matches!(
        unknown.get_settings().await.unwrap_err(),
        Error::Forbidden
    ));
}

#[tokio::test]
async fn rate_limit_is_a_typed_error_without_retries_and_retried_with_them() {
    let sb = sandbox(SandboxConfig::default().rate_limit(Some(1))).await;
    let no_retry = default_builder(&sb.url())
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    no_retry.get_settings().await.unwrap();
    match no_retry.get_settings().await.unwrap_err() {
        Error::RateLimited { retry_after } => assert_eq!(retry_after, Some(Duration::from_secs(1))),
        e => panic!("{e:?}"),
    }
    // With retries, the Retry-After wait is honoured and the call succeeds.
    let retrying = default_builder(&sb.url())
        .retry(RetryPolicy::default().base_delay(Duration::from_millis(10)))
        .build()
        .unwrap();
    retrying.get_settings().await.unwrap();
    assert!(sb.stats(DEFAULT_INSTANCE_ID).unwrap().rate_limited >= 2);
}

#[tokio::test]
async fn default_pacing_keeps_the_documented_one_request_per_second() {
    let sb = sandbox(SandboxConfig::default()).await;
    let client = builder(&sb.url())
        .id_instance(DEFAULT_INSTANCE_ID)
        .api_token(TOKEN)
        .build()
        .unwrap();
    let started = Instant::now();
    let applied = client
        .apply(&SettingsPatch::new().incoming_webhook(true))
        .await
        .unwrap();
    assert!(applied.sent());
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "get and set were spaced by the pacer"
    );
    assert_eq!(sb.stats(DEFAULT_INSTANCE_ID).unwrap().rate_limited, 0);
}

#[tokio::test]
async fn quota_exceeded_carries_used_and_total() {
    let sb = sandbox(SandboxConfig::default().rate_limit(None).quota(Some(1))).await;
    let client = fast_client(&sb.url());
    client.get_settings().await.unwrap();
    match client.get_settings().await.unwrap_err() {
        Error::QuotaExceeded {
            used,
            total,
            method,
            status,
            ..
        } => {
            assert_eq!((used, total), (1, 1));
            assert_eq!(method, "getSettings");
            assert_eq!(status, "QUOTE_EXCEEDED");
        }
        e => panic!("{e:?}"),
    }
}

#[tokio::test]
async fn injected_gateway_errors_are_retried_and_500_is_reported() {
    let sb = sandbox(SandboxConfig::default().rate_limit(None).error_rate(1.0)).await;
    let no_retry = default_builder(&sb.url())
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let err = no_retry.get_settings().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Server {
                status: 500..=504,
                ..
            }
        ),
        "{err:?}"
    );

    // Half the requests fail (500, 502, 503, 504 in turn); retries absorb the gateway ones.
    let sb = sandbox(SandboxConfig::default().rate_limit(None).error_rate(0.5)).await;
    let client = fast_client(&sb.url());
    let (mut ok, mut failed) = (0, 0);
    for _ in 0..12 {
        match client.get_settings().await {
            Ok(_) => ok += 1,
            Err(Error::Server { status: 500, .. }) => failed += 1,
            Err(e) => panic!("only a 500 may surface after retries: {e:?}"),
        }
    }
    assert!(ok >= 6, "ok={ok} failed={failed}");
    let stats = sb.stats(DEFAULT_INSTANCE_ID).unwrap();
    assert!(
        stats.get_settings_calls > 12,
        "retries reached the server: {}",
        stats.get_settings_calls
    );
}

#[tokio::test]
async fn a_slow_server_gives_a_timeout() {
    let sb = sandbox(
        SandboxConfig::default()
            .rate_limit(None)
            .latency(Duration::from_millis(400)),
    )
    .await;
    let client = default_builder(&sb.url())
        .timeout(Duration::from_millis(100))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let err = client.get_settings().await.unwrap_err();
    assert!(
        matches!(err, Error::Timeout { after, .. } if after == Duration::from_millis(100)),
        "{err:?}"
    );
    assert!(err.is_retryable());
}

#[tokio::test]
async fn a_restarting_instance_is_not_ready() {
    let sb = sandbox(
        SandboxConfig::default()
            .rate_limit(None)
            .restart_duration(Duration::from_millis(2000)),
    )
    .await;
    let client = default_builder(&sb.url())
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    client
        .set_settings(&SettingsPatch::new().state_webhook(true))
        .await
        .unwrap();
    let err = client.get_settings().await.unwrap_err();
    assert!(matches!(err, Error::InstanceNotReady { .. }), "{err:?}");
}

#[tokio::test]
async fn apply_delay_models_settings_taking_effect_later() {
    let sb = sandbox(
        SandboxConfig::default()
            .rate_limit(None)
            .apply_delay(Duration::from_millis(1000)),
    )
    .await;
    let client = fast_client(&sb.url());
    client
        .set_settings(&SettingsPatch::new().keep_online_status(true))
        .await
        .unwrap();
    assert!(
        !client.get_settings().await.unwrap().keep_online_status,
        "not visible yet"
    );
    tokio::time::sleep(Duration::from_millis(1050)).await;
    assert!(client.get_settings().await.unwrap().keep_online_status);
}

#[tokio::test]
async fn connection_refused_is_a_transport_error_after_bounded_retries() {
    let port = common::closed_port();
    let client = Client::builder()
        .api_url(format!("http://127.0.0.1:{port}"))
        .id_instance(1)
        .api_token(TOKEN)
        .min_interval(Duration::ZERO)
        .retry(
            RetryPolicy::default()
                .max_attempts(3)
                .base_delay(Duration::from_millis(20)),
        )
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.get_settings().await.unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn the_blocking_client_round_trips_and_refuses_to_run_inside_a_runtime() {
    let sb = blocking_sandbox(SandboxConfig::default().rate_limit(None));
    let client =
        greenapi_settings::blocking::Client::from_builder(default_builder(&sb.url())).unwrap();
    let applied = client
        .apply(&SettingsPatch::new().outgoing_webhook(true))
        .unwrap();
    assert!(applied.sent());
    assert!(client.get_settings().unwrap().outgoing_webhook);
    assert!(!client
        .apply(&SettingsPatch::new().outgoing_webhook(true))
        .unwrap()
        .sent());

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let err = rt.block_on(async { client.get_settings() }).unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
}

#[test]
fn bad_configuration_is_a_config_error() {
    for (url, id, token) in [
        ("not a url", 1, "tok-4f1c9a"),
        ("ftp://host", 1, "tok-4f1c9a"),
        ("http://host?x=1", 1, "tok-4f1c9a"),
        ("http://127.0.0.1:1", 1, ""),
        ("http://127.0.0.1:1", 1, "tok"),
        ("http://127.0.0.1:1", 1, "a/b-4f1c9a"),
    ] {
        let err = Client::new(url, id, token).unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{url} {token}: {err:?}");
    }
    let err = Client::builder().build().unwrap_err();
    assert!(
        err.to_string().contains("GREEN_API_URL") && err.to_string().contains("GREEN_API_TOKEN"),
        "{err}"
    );
}
