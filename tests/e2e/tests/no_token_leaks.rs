//! The API token appears in no error (Display or Debug), no client Debug and no log line, for
//! every error kind the client produces; odd responses become clean typed errors.

mod common;
mod netkit;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{builder_for, closed_port, http_response, raw_server, Capture};
use greenapi_settings::{Client, Error, RetryPolicy, SettingsPatch};
use greenapi_settings_sandbox::{Sandbox, SandboxConfig};

const SECRET: &str = "SECRET-tok-9f8e7d6c";

fn client(url: &str, id: u64) -> Client {
    builder_for(
        url,
        id,
        SECRET,
        Duration::from_millis(300),
        RetryPolicy::none(),
    )
    .build()
    .unwrap()
}

fn assert_clean(what: &str, err: &Error) {
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(SECRET), "{what} leaks the token: {shown}");
}

#[tokio::test]
async fn no_error_kind_shows_the_token() {
    // The sandbox knows the secret token for instance 7; other instances and failures come from
    // faults, limits and raw servers.
    let sb = Sandbox::start(
        SandboxConfig::new()
            .with_instance(7, SECRET)
            .with_instance(8, "other-token-8")
            .rate_limit(Some(1))
            .quota(Some(3)),
    )
    .await
    .unwrap();
    let url = sb.url();
    let mut errors: Vec<(&str, Error)> = Vec::new();

    errors.push((
        "validation",
        client(&url, 7)
            .set_settings(&SettingsPatch::new().webhook_url_token(format!("{SECRET}\n")))
            .await
            .unwrap_err(),
    ));
    errors.push(("auth", client(&url, 8).get_settings().await.unwrap_err()));
    errors.push((
        "forbidden",
        client(&url, 999).get_settings().await.unwrap_err(),
    ));
    let c = client(&url, 7);
    c.get_settings().await.unwrap();
    errors.push(("rate limited", c.get_settings().await.unwrap_err()));
    tokio::time::sleep(Duration::from_millis(1050)).await;
    c.get_settings().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1050)).await;
    c.get_settings().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1050)).await;
    errors.push(("quota", c.get_settings().await.unwrap_err()));

    let faulty = Sandbox::start(
        SandboxConfig::default()
            .with_instance(7, SECRET)
            .rate_limit(None)
            .error_rate(1.0),
    )
    .await
    .unwrap();
    errors.push((
        "server",
        client(&faulty.url(), 7).get_settings().await.unwrap_err(),
    ));
    let slow = Sandbox::start(
        SandboxConfig::default()
            .with_instance(7, SECRET)
            .rate_limit(None)
            .latency(Duration::from_secs(2)),
    )
    .await
    .unwrap();
    errors.push((
        "timeout",
        client(&slow.url(), 7).get_settings().await.unwrap_err(),
    ));
    errors.push((
        "transport",
        client(&format!("http://127.0.0.1:{}", closed_port()), 7)
            .get_settings()
            .await
            .unwrap_err(),
    ));
    let echo = format!("{{\"message\": \"bad request for /waInstance7/setSettings/{SECRET}\"}}");
    let echo_url = raw_server(http_response("400 Bad Request", echo.as_bytes()), 1);
    errors.push((
        "rejected (server echoes the URL)",
        client(&echo_url, 7).get_settings().await.unwrap_err(),
    ));
    let starting = format!("{{\"message\": \"instance in starting process try later (/waInstance7/getSettings/{SECRET})\"}}");
    let starting_url = raw_server(http_response("400 Bad Request", starting.as_bytes()), 1);
    errors.push((
        "instance not ready",
        client(&starting_url, 7).get_settings().await.unwrap_err(),
    ));
    let garbage = format!("<html>proxy error at /waInstance7/getSettings/{SECRET}</html>");
    let garbage_url = raw_server(http_response("200 OK", garbage.as_bytes()), 1);
    errors.push((
        "decode",
        client(&garbage_url, 7).get_settings().await.unwrap_err(),
    ));

    let kinds: Vec<&str> = errors.iter().map(|(k, _)| *k).collect();
    for (what, err) in &errors {
        assert_clean(what, err);
    }
    assert!(matches!(errors[0].1, Error::Validation(_)), "{kinds:?}");
    assert!(matches!(errors[1].1, Error::Auth));
    assert!(matches!(errors[2].1, Error::Forbidden));
    assert!(matches!(errors[3].1, Error::RateLimited { .. }));
    assert!(
        matches!(errors[4].1, Error::QuotaExceeded { .. }),
        "{:?}",
        errors[4].1
    );
    assert!(matches!(errors[5].1, Error::Server { .. }));
    assert!(matches!(errors[6].1, Error::Timeout { .. }));
    assert!(matches!(errors[7].1, Error::Transport(_)));
    assert!(matches!(errors[8].1, Error::Rejected { status: 400, .. }));
    assert!(
        matches!(errors[9].1, Error::InstanceNotReady { .. }),
        "{:?}",
        errors[9].1
    );
    assert!(matches!(errors[10].1, Error::Decode { status: 200, .. }));
}

/// Issue 22: every TLS cause and every proxy failure (407, a closing proxy, plain HTTP through
/// a proxy refused) names the server as scheme://host:port only: no token, no path, no proxy
/// password, in Display or Debug.
#[tokio::test]
async fn no_tls_cause_or_proxy_failure_shows_the_token_or_the_proxy_password() {
    const PROXY_PW: &str = "Pr0xy-Secret-Pw";
    let sb = Sandbox::start(
        SandboxConfig::default()
            .with_instance(7, SECRET)
            .rate_limit(None),
    )
    .await
    .unwrap();
    let ca = netkit::Ca::new("leak-test-ca");
    let pem = ca.pem();
    let with_ca = |url: &str| {
        builder_for(url, 7, SECRET, Duration::from_secs(5), RetryPolicy::none())
            .connect_timeout(Duration::from_millis(300))
            .add_root_certificate(pem.as_bytes())
            .unwrap()
    };
    let front = |leaf| format!("https://{}", netkit::tls_front(leaf, sb.addr(), None));
    let mut errors: Vec<(&str, Error)> = Vec::new();
    for (what, url) in [
        ("tls notTrusted", front(netkit::self_signed(&["127.0.0.1"]))),
        (
            "tls expired",
            front(ca.leaf(&["127.0.0.1"], netkit::Validity::Expired)),
        ),
        (
            "tls wrongName",
            front(ca.leaf(&["other.test"], netkit::Validity::Current)),
        ),
        ("tls notTls", format!("https://{}", sb.addr())),
        (
            "tls handshakeTimeout",
            format!("https://{}", netkit::silent_server()),
        ),
    ] {
        let err = with_ca(&url)
            .build()
            .unwrap()
            .get_settings()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "tls", "{what}: {err}");
        errors.push((what, err));
    }
    for (what, mode) in [
        ("proxy 407", netkit::ProxyMode::AuthRequired),
        ("proxy closes", netkit::ProxyMode::Close),
    ] {
        let (proxy, _) = netkit::connect_proxy(mode);
        let err = with_ca("https://127.0.0.1:9")
            .proxy(&format!("http://user-{PROXY_PW}:{PROXY_PW}@{proxy}"))
            .unwrap()
            .build()
            .unwrap()
            .get_settings()
            .await
            .unwrap_err();
        errors.push((what, err));
    }
    let (proxy, _) = netkit::connect_proxy(netkit::ProxyMode::Close);
    errors.push((
        "plain HTTP through a proxy",
        with_ca(&sb.url())
            .proxy(&format!("http://u:{PROXY_PW}@{proxy}"))
            .unwrap()
            .build()
            .unwrap_err(),
    ));
    for (what, err) in &errors {
        assert_clean(what, err);
        let shown = format!("{err} {err:?}");
        assert!(
            !shown.contains(PROXY_PW),
            "{what} shows the proxy password: {shown}"
        );
        assert!(
            !shown.contains("waInstance"),
            "{what} shows the path: {shown}"
        );
    }
}

#[test]
fn client_and_builder_debug_hide_the_token() {
    let builder = Client::builder()
        .api_url("http://127.0.0.1:9")
        .id_instance(1)
        .api_token(SECRET);
    let shown = format!("{builder:?}");
    assert!(
        !shown.contains(SECRET) && shown.contains("<redacted>"),
        "{shown}"
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = rt.block_on(async { builder.build().unwrap() });
    let shown = format!("{client:?}");
    assert!(
        !shown.contains(SECRET) && shown.contains("<redacted>"),
        "{shown}"
    );
}

#[tokio::test]
async fn a_200_body_naming_an_error_code_is_that_error() {
    let url = raw_server(
        http_response("200 OK", br#"{"code": 401, "description": "Unauthorized"}"#),
        1,
    );
    assert!(matches!(
        client(&url, 7).get_settings().await.unwrap_err(),
        Error::Auth
    ));
}

#[tokio::test]
async fn a_huge_response_is_refused_with_bounded_memory() {
    let body = vec![b' '; greenapi_settings::MAX_RESPONSE_BYTES + 10];
    let url = raw_server(http_response("200 OK", &body), 1);
    let err = client(&url, 7).get_settings().await.unwrap_err();
    match &err {
        Error::Decode { reason, body, .. } => {
            assert!(reason.contains("larger than"), "{reason}");
            assert!(body.len() < 1024);
        }
        e => panic!("{e:?}"),
    }
}

#[tokio::test]
async fn a_truncated_body_is_a_transport_error_and_truncated_json_a_decode_error() {
    let mut cut = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\nConnection: close\r\n\r\n".to_vec();
    cut.extend_from_slice(br#"{"webhookUrl": "ht"#);
    let url = raw_server(cut, 1);
    let err = client(&url, 7).get_settings().await.unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");

    let url = raw_server(http_response("200 OK", br#"{"webhookUrl": "ht"#), 1);
    let err = client(&url, 7).get_settings().await.unwrap_err();
    assert!(matches!(err, Error::Decode { status: 200, .. }), "{err:?}");
}

#[test]
fn log_events_never_contain_the_token() {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sb = greenapi_settings_sandbox::BlockingSandbox::start(
        SandboxConfig::default()
            .with_instance(7, SECRET)
            .rate_limit(None)
            .error_rate(0.5),
    )
    .unwrap();
    tracing::subscriber::with_default(Capture::all(lines.clone()), || {
        let c = greenapi_settings::blocking::Client::from_builder(
            Client::builder()
                .api_url(sb.url())
                .id_instance(7)
                .api_token(SECRET)
                .min_interval(Duration::ZERO)
                .retry(RetryPolicy::default().base_delay(Duration::from_millis(5))),
        )
        .unwrap();
        for _ in 0..4 {
            let _ = c.get_settings();
        }
        let _ = c.set_settings(&SettingsPatch::new().device_webhook(true));
    });
    let lines = lines.lock().unwrap();
    assert!(lines.len() >= 4, "events were logged: {lines:?}");
    assert!(lines.iter().any(|l| l.contains("retrying")), "{lines:?}");
    for l in lines.iter() {
        assert!(!l.contains(SECRET), "log line leaks the token: {l}");
    }
}
