//! The client <-> sandbox suite (`client_sandbox.rs`) again, over HTTPS: every test against
//! the TLS sandbox (a certificate made at start), its throw-away CA trusted through
//! `ClientBuilder::add_root_certificate` (issue 22: end-to-end suites run over TLS too).

#[path = "client_sandbox.rs"]
mod suite;

/// The helpers really run this target over TLS (a misnamed target would silently be plain).
#[tokio::test]
async fn this_target_runs_its_suite_over_https() {
    assert!(suite::common::over_tls());
    let sb = suite::common::sandbox(greenapi_settings_sandbox::SandboxConfig::default()).await;
    assert!(sb.url().starts_with("https://127.0.0.1:"), "{}", sb.url());
    let c = suite::common::fast_client(&sb.url());
    c.get_settings().await.unwrap();
    assert!(sb.server_stats().tls_handshakes >= 1);
}
