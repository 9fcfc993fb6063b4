//! The CLI on real networks (issue 22 part 2): `--ca-cert` / `GREEN_API_CA_CERT`, `--proxy`,
//! the environment's proxies, `--allow-insecure-proxy`, and TLS failures as exit 1 with their
//! cause and a hint. Every server is on 127.0.0.1 and made in the test (see `netkit`).

mod common;
#[path = "../../../tests/e2e/tests/netkit/mod.rs"]
mod netkit;

use common::{bin, run, s, tmp, Color, Run};
use greenapi_settings_sandbox::{
    BlockingSandbox, SandboxConfig, DEFAULT_INSTANCE_ID, DEFAULT_TOKEN,
};
use netkit::{Ca, ProxyMode, Validity};

fn sandbox() -> BlockingSandbox {
    BlockingSandbox::start(SandboxConfig::default().rate_limit(None)).unwrap()
}

fn gets(sb: &BlockingSandbox) -> u64 {
    sb.stats(DEFAULT_INSTANCE_ID).unwrap().get_settings_calls
}

/// `get` of the default instance at `url`, with `args` and `env` added.
fn get(url: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut c = bin(Color::Never);
    c.env("GREEN_API_URL", url)
        .env("GREEN_API_ID_INSTANCE", DEFAULT_INSTANCE_ID.to_string())
        .env("GREEN_API_TOKEN", DEFAULT_TOKEN)
        .args(["get", "--retries", "0", "--verbose"])
        .args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    run(c)
}

fn assert_no_secret(r: &Run) {
    let all = r.all();
    assert!(!all.contains(DEFAULT_TOKEN), "token shown: {all}");
    assert!(!all.contains("/waInstance"), "path shown: {all}");
}

#[test]
fn a_self_signed_api_is_exit_1_certificate_not_trusted_naming_the_host_with_the_ca_cert_hint() {
    let sb = sandbox();
    let front = netkit::tls_front(netkit::self_signed(&["127.0.0.1"]), sb.addr(), None);
    let r = get(&format!("https://{front}"), &[], &[]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("certificate not trusted"), "{}", r.all());
    assert!(
        r.stderr.contains(&format!("https://{front}")),
        "{}",
        r.all()
    );
    assert!(
        r.stderr.contains("pass --ca-cert FILE"),
        "no hint: {}",
        r.all()
    );
    assert!(r.stderr.contains("kind: tls"), "{}", r.all());
    assert!(r.stderr.contains("cause: notTrusted"), "{}", r.all());
    assert_no_secret(&r);
    assert_eq!(gets(&sb), 0);
}

#[test]
fn ca_cert_or_green_api_ca_cert_trusts_the_servers_ca() {
    let sb = sandbox();
    let ca = Ca::new("cli-test-ca");
    let front = netkit::tls_front(ca.leaf(&["127.0.0.1"], Validity::Current), sb.addr(), None);
    let url = format!("https://{front}");
    let pem = tmp("ca.pem", &ca.pem());
    let r = get(&url, &["--ca-cert", s(&pem)], &[]);
    assert_eq!(r.code, 0, "{}", r.all());
    let r = get(&url, &[], &[("GREEN_API_CA_CERT", s(&pem))]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(gets(&sb), 2);
}

#[test]
fn expired_and_wrong_name_certificates_fail_as_such() {
    let sb = sandbox();
    let ca = Ca::new("cli-test-ca");
    let pem = tmp("ca.pem", &ca.pem());
    for (leaf, want, cause) in [
        (
            ca.leaf(&["127.0.0.1"], Validity::Expired),
            "certificate expired",
            "cause: expired",
        ),
        (
            ca.leaf(&["api.other.test"], Validity::Current),
            "issued for another name",
            "cause: wrongName",
        ),
    ] {
        let front = netkit::tls_front(leaf, sb.addr(), None);
        let r = get(&format!("https://{front}"), &["--ca-cert", s(&pem)], &[]);
        assert_eq!(r.code, 1, "{}", r.all());
        assert!(r.stderr.contains(want), "{}", r.all());
        assert!(r.stderr.contains(cause), "{}", r.all());
        assert_no_secret(&r);
    }
}

#[test]
fn https_to_the_plain_http_sandbox_is_exit_1_not_tls() {
    let sb = sandbox();
    let r = get(&format!("https://{}", sb.addr()), &[], &[]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("does not speak TLS"), "{}", r.all());
    assert!(r.stderr.contains("answers plain HTTP"), "{}", r.all());
    assert_no_secret(&r);
}

#[test]
fn a_ca_cert_file_that_is_not_pem_is_exit_2_naming_the_file_and_nothing_is_sent() {
    let sb = sandbox();
    let bad = tmp("server.der", "\u{30}\u{82}not pem at all");
    let r = get(&sb.url(), &["--ca-cert", s(&bad)], &[]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("holds no PEM certificate"), "{}", r.all());
    assert!(r.stderr.contains("server.der"), "{}", r.all());
    let missing = get(&sb.url(), &["--ca-cert", "/nonexistent/ca.pem"], &[]);
    assert_eq!(missing.code, 2, "{}", missing.all());
    assert_eq!(gets(&sb), 0);
}

#[test]
fn through_proxy_only_connect_host_port_crosses_and_the_password_is_never_shown() {
    let sb = sandbox();
    let ca = Ca::new("cli-proxy-ca");
    let front = netkit::tls_front(ca.leaf(&["127.0.0.1"], Validity::Current), sb.addr(), None);
    let pem = tmp("ca.pem", &ca.pem());
    let (proxy, seen) = netkit::connect_proxy(ProxyMode::Tunnel(None));
    let proxy_url = format!("http://alice:Sup3rSecretPw@{proxy}");
    let r = get(
        &format!("https://{front}"),
        &["--ca-cert", s(&pem), "--proxy", &proxy_url],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        seen.first_lines(),
        vec![format!("CONNECT {front} HTTP/1.1")]
    );
    let clear = seen.text();
    assert!(!clear.contains(DEFAULT_TOKEN), "{clear}");
    assert!(!clear.contains("getSettings"), "{clear}");
    assert!(!r.all().contains("Sup3rSecretPw"), "{}", r.all());
    assert_eq!(gets(&sb), 1);
}

#[test]
fn https_proxy_from_the_environment_is_honoured_and_no_proxy_bypasses_it() {
    let sb = sandbox();
    let ca = Ca::new("cli-env-proxy-ca");
    let pem = tmp("ca.pem", &ca.pem());
    let named = netkit::tls_front(
        ca.leaf(&["api.green.test"], Validity::Current),
        sb.addr(),
        Some("api.green.test"),
    );
    let (proxy, seen) = netkit::connect_proxy(ProxyMode::Tunnel(Some(named)));
    let proxy_url = format!("http://{proxy}");
    let r = get(
        "https://api.green.test",
        &["--ca-cert", s(&pem)],
        &[("HTTPS_PROXY", &proxy_url)],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        seen.first_lines(),
        vec!["CONNECT api.green.test:443 HTTP/1.1".to_string()]
    );
    // NO_PROXY names the host: the client goes direct (the name resolves nowhere, so the
    // run fails, without the proxy having seen a second connection).
    let r = get(
        "https://api.green.test",
        &["--ca-cert", s(&pem)],
        &[("HTTPS_PROXY", &proxy_url), ("NO_PROXY", ".green.test")],
    );
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(seen.connections(), 1, "{}", seen.text());
}

#[test]
fn a_proxy_answering_407_is_exit_1_naming_no_credentials() {
    let (proxy, _seen) = netkit::connect_proxy(ProxyMode::AuthRequired);
    let r = get(
        "https://127.0.0.1:9",
        &["--proxy", &format!("http://bob:Hunter2Hunter2@{proxy}")],
        &[],
    );
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr
            .contains(&format!("through the proxy http://{proxy}")),
        "{}",
        r.all()
    );
    assert!(
        r.stderr.contains("proxy authorization required"),
        "{}",
        r.all()
    );
    assert!(
        r.stderr.contains("the proxy wants credentials"),
        "{}",
        r.all()
    );
    assert!(!r.all().contains("Hunter2Hunter2"), "{}", r.all());
    assert!(!r.all().contains("bob"), "{}", r.all());
    assert_no_secret(&r);
}

#[test]
fn a_plain_http_api_url_through_a_proxy_is_exit_2_unless_allow_insecure_proxy() {
    let sb = sandbox();
    let (proxy, seen) = netkit::connect_proxy(ProxyMode::Tunnel(None));
    let proxy_url = format!("http://{proxy}");
    let r = get(&sb.url(), &["--proxy", &proxy_url], &[]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("plain HTTP"), "{}", r.all());
    assert!(r.stderr.contains("--allow-insecure-proxy"), "{}", r.all());
    assert_eq!(seen.connections(), 0);
    assert_no_secret(&r);
    // Allowed: the proxy gets the plain request (the test proxy records it, then answers 502).
    let r = get(
        &sb.url(),
        &["--proxy", &proxy_url, "--allow-insecure-proxy"],
        &[],
    );
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(seen.connections(), 1);
    assert!(
        seen.first_lines()[0].starts_with("GET http://"),
        "{}",
        seen.text()
    );
}

#[test]
fn network_options_are_refused_by_commands_that_talk_to_no_instance() {
    let r = common::cli(&["docs", "--proxy", "http://127.0.0.1:9"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("--proxy"), "{}", r.all());
    let r = common::cli(&["schema", "--ca-cert", "x.pem"]);
    assert_eq!(r.code, 2, "{}", r.all());
}

#[test]
fn a_fleet_with_plain_http_urls_through_a_proxy_is_refused_before_anything_is_sent() {
    let sb = common::fast(3);
    let inst = common::csv("instances.csv", &sb);
    let (proxy, seen) = netkit::connect_proxy(ProxyMode::Tunnel(None));
    let r = common::cli(&[
        "get",
        "--instances",
        s(&inst),
        "--proxy",
        &format!("http://u:Fleet-Proxy-Pw@{proxy}"),
    ]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("plain HTTP"), "{}", r.all());
    assert!(r.stderr.contains("nothing was sent"), "{}", r.all());
    assert!(!r.all().contains("Fleet-Proxy-Pw"), "{}", r.all());
    assert_eq!(seen.connections(), 0);
    assert_eq!(common::calls(&sb), 0);
}

/// Regression (issue 22 leftover): with no credentials (the embedded sandbox) `--ca-cert` and
/// `--proxy` were silently ignored. They apply there too: an unreadable CA file is exit 2, and
/// the plain-HTTP sandbox through a proxy is refused like any plain-HTTP API URL.
#[test]
fn network_options_apply_to_the_embedded_sandbox_too_instead_of_being_ignored() {
    let mut c = bin(Color::Never);
    c.args(["get", "--ca-cert", "/nonexistent/ca.pem"]);
    let r = run(c);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("/nonexistent/ca.pem"), "{}", r.all());
    let mut c = bin(Color::Never);
    c.args(["get", "--proxy", "http://127.0.0.1:9"]);
    let r = run(c);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("plain HTTP"), "{}", r.all());
    let mut c = bin(Color::Never);
    c.args([
        "get",
        "--proxy",
        "http://127.0.0.1:9",
        "--allow-insecure-proxy",
    ]);
    let r = run(c);
    assert_eq!(
        r.code,
        1,
        "the proxy is used, and it is not there: {}",
        r.all()
    );
}

/// Regression (issue 22, fleets over real networks): with a proxy from the environment, the
/// fleet's shared pool was built for loopback (direct), so every instance whose host the
/// proxy takes got an HTTP client of its own: one `CONNECT` and one TLS handshake per
/// instance (60 here). Now the pool holds a client for each route: the proxied instances
/// share kept-alive tunnels (at most the concurrency), the loopback ones go direct, and the
/// report counts the connections of both.
#[test]
fn a_fleet_through_an_environment_proxy_shares_its_tunnels_instead_of_one_per_instance() {
    let sb = common::fast(70);
    let ca = Ca::new("cli-fleet-proxy-ca");
    let pem = tmp("fleet-proxy-ca.pem", &ca.pem());
    let named = netkit::tls_front(
        ca.leaf(&["api.green.test"], Validity::Current),
        sb.addr(),
        Some("api.green.test"),
    );
    let (proxy, seen) = netkit::connect_proxy(ProxyMode::Tunnel(Some(named)));
    let mut text = String::from(common::CSV_HEADER);
    for (i, id) in sb.instance_ids().iter().enumerate() {
        // 60 through the proxy (a name only it resolves), 10 on loopback (never proxied).
        let url = if i < 60 {
            "https://api.green.test".to_string()
        } else {
            sb.url().to_string()
        };
        let token = greenapi_settings_sandbox::generated_token(*id);
        text.push_str(&format!("{id},{token},{url}\n"));
    }
    let inst = tmp("fleet-proxy.csv", &text);
    let report = tmp("fleet-proxy-report.json", "");
    let desired = tmp("fleet-proxy.toml", "incomingWebhook = \"yes\"\n");
    let concurrency = 4;
    let mut c = bin(Color::Never);
    c.args(["plan", s(&desired), "--instances", s(&inst), "--report"])
        .args([s(&report), "--concurrency", &concurrency.to_string()])
        .args(["--ca-cert", s(&pem)])
        .env("HTTPS_PROXY", format!("http://{proxy}"));
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(common::calls(&sb), 70, "{}", r.all());
    // A pooled run opens about `concurrency` connections per route; a few more when a
    // request starts connecting just before another's connection is given back (hyper's pool
    // then keeps both). One per instance would be 60 tunnels.
    let tunnels = seen.connections() as u64;
    assert!(
        (1..=3 * concurrency).contains(&tunnels),
        "{tunnels} CONNECTs for 60 proxied instances at concurrency {concurrency}: {}",
        seen.first_lines().join(" | ")
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let opened = report["summary"]["connectionsOpened"].as_u64().unwrap_or(0);
    // The tunnels, and the direct connections to the loopback sandbox.
    assert!(
        (tunnels + 1..=tunnels + 3 * concurrency).contains(&opened),
        "{opened} connections opened, {tunnels} of them tunnels: {report}"
    );
}
