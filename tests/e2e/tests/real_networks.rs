//! Trusting and reaching the API from real networks (issue 22 part 2), with the core client:
//! extra roots on top of the platform's, TLS failures with their plain cause naming the host
//! only, and proxies (given, or from the environment) through which only `CONNECT host:port`
//! crosses in clear. Every server is on 127.0.0.1 and made in the test.

mod common;
mod netkit;

use std::net::SocketAddr;
use std::time::Duration;

use greenapi_settings::{Client, ClientBuilder, Error, RetryPolicy, TlsCause};
use greenapi_settings_sandbox::{SandboxConfig, SandboxHandle};
use netkit::{Ca, ProxyMode, Validity};

/// Proxy variables a developer may have set: the tests that read the environment set their
/// own, the others must not see them. Only this file's tests touch the environment, and the
/// ones that do hold `ENV_LOCK`.
const PROXY_ENV: [&str; 8] = [
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];

static ENV_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs `f` with the proxy variables cleared, then `vars` set, holding the environment lock.
fn with_env<T>(vars: &[(&str, &str)], f: impl FnOnce() -> T) -> T {
    let _guard = ENV_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    for v in PROXY_ENV {
        // SAFETY-free: edition 2021, and every test that builds a client holds the lock.
        std::env::remove_var(v);
    }
    for (k, v) in vars {
        std::env::set_var(k, v);
    }
    let out = f();
    for v in PROXY_ENV {
        std::env::remove_var(v);
    }
    out
}

async fn plain_sandbox() -> SandboxHandle {
    common::sandbox(SandboxConfig::default().rate_limit(None)).await
}

fn builder(url: &str) -> ClientBuilder {
    common::default_builder(url)
        .retry(
            RetryPolicy::default()
                .max_attempts(3)
                .base_delay(Duration::from_millis(10)),
        )
        .timeout(Duration::from_secs(10))
}

/// Builds with the proxy environment cleared (plus `vars`).
fn build(b: ClientBuilder, vars: &[(&str, &str)]) -> Result<Client, Error> {
    with_env(vars, || b.build())
}

fn tls_err(e: Error) -> (String, TlsCause) {
    match e {
        Error::Tls { host, cause } => (host, cause),
        other => panic!("expected a TLS error, got {other:?}"),
    }
}

fn assert_no_secret(text: &str) {
    assert!(!text.contains(common::TOKEN), "token shown: {text}");
    assert!(!text.contains("getSettings"), "path shown: {text}");
    assert!(!text.contains("waInstance"), "path shown: {text}");
}

/// A TLS front for 127.0.0.1 with `leaf`, relaying to a plain sandbox.
async fn front(leaf: netkit::Leaf) -> (String, SandboxHandle, SocketAddr) {
    let sb = plain_sandbox().await;
    let addr = netkit::tls_front(leaf, sb.addr(), None);
    (format!("https://{addr}"), sb, addr)
}

#[tokio::test]
async fn a_self_signed_server_is_certificate_not_trusted_naming_the_host_only() {
    let (url, _sb, addr) = front(netkit::self_signed(&["127.0.0.1"])).await;
    let client = build(builder(&url), &[]).unwrap();
    let err = client.get_settings().await.unwrap_err();
    let text = err.to_string();
    assert_eq!(err.kind(), "tls");
    assert!(!err.is_retryable());
    assert!(text.contains("certificate not trusted"), "{text}");
    assert!(text.contains(&format!("https://{addr}")), "{text}");
    assert_no_secret(&text);
    assert_no_secret(&format!("{err:?}"));
    let (host, cause) = tls_err(err);
    assert_eq!(host, format!("https://{addr}"));
    assert_eq!(cause, TlsCause::NotTrusted);
}

#[tokio::test]
async fn the_servers_ca_given_as_an_extra_root_makes_it_work() {
    let ca = Ca::new("real-networks-test-ca");
    let (url, _sb, _) = front(ca.leaf(&["127.0.0.1"], Validity::Current)).await;
    let without = build(builder(&url), &[]).unwrap();
    assert_eq!(
        tls_err(without.get_settings().await.unwrap_err()).1,
        TlsCause::NotTrusted
    );
    let with = build(
        builder(&url)
            .add_root_certificate(ca.pem().as_bytes())
            .unwrap(),
        &[],
    )
    .unwrap();
    with.get_settings()
        .await
        .expect("trusted through the extra root");
}

#[tokio::test]
async fn a_ca_file_with_several_certificates_adds_them_all() {
    let (ca1, ca2) = (Ca::new("first-ca"), Ca::new("second-ca"));
    let (url, _sb, _) = front(ca2.leaf(&["127.0.0.1"], Validity::Current)).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bundle.pem");
    std::fs::write(&path, format!("{}\n{}", ca1.pem(), ca2.pem())).unwrap();
    let client = build(builder(&url).ca_cert_file(&path).unwrap(), &[]).unwrap();
    client
        .get_settings()
        .await
        .expect("the second CA of the bundle");
}

#[test]
fn a_ca_file_that_is_not_pem_certificates_is_a_config_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8], &str); 4] = [
        ("empty.pem", b"", "holds no PEM certificate"),
        (
            "der.crt",
            &[0x30, 0x82, 0x01, 0x0a, 0x02],
            "holds no PEM certificate",
        ),
        (
            "key.pem",
            b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n",
            "holds a private key",
        ),
        (
            "bad.pem",
            b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n",
            "cannot be a trusted root",
        ),
    ];
    for (name, bytes, want) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let err = builder("https://1101.api.greenapi.com")
            .ca_cert_file(&path)
            .unwrap_err();
        assert_eq!(err.kind(), "config", "{name}: {err}");
        let text = err.to_string();
        assert!(text.contains(want), "{name}: {text}");
        assert!(text.contains(name), "{name}: {text}");
    }
    let missing = builder("https://h.example")
        .ca_cert_file(dir.path().join("nope.pem"))
        .unwrap_err();
    assert!(missing.to_string().contains("cannot read"), "{missing}");
    let big = dir.path().join("big.pem");
    std::fs::write(
        &big,
        vec![b'A'; (greenapi_settings::MAX_CA_FILE_BYTES + 1) as usize],
    )
    .unwrap();
    let err = builder("https://h.example").ca_cert_file(&big).unwrap_err();
    assert!(err.to_string().contains("larger than"), "{err}");
}

/// The error of a getSettings through a TLS front whose certificate (for `names`, `validity`)
/// a CA made here signed, by a client that trusts that CA.
async fn get_trusting_the_ca(ca_name: &str, names: &[&str], validity: Validity) -> Error {
    let ca = Ca::new(ca_name);
    let (url, _sb, _) = front(ca.leaf(names, validity)).await;
    let client = build(
        builder(&url)
            .add_root_certificate(ca.pem().as_bytes())
            .unwrap(),
        &[],
    )
    .unwrap();
    client.get_settings().await.unwrap_err()
}

#[tokio::test]
async fn an_expired_certificate_fails_as_expired() {
    let err = get_trusting_the_ca("expired-test-ca", &["127.0.0.1"], Validity::Expired).await;
    assert!(err.to_string().contains("certificate expired"), "{err}");
    assert_eq!(tls_err(err).1, TlsCause::Expired);
}

#[tokio::test]
async fn a_certificate_for_another_name_fails_as_wrong_name() {
    let err =
        get_trusting_the_ca("wrong-name-test-ca", &["api.other.test"], Validity::Current).await;
    assert!(err.to_string().contains("another name"), "{err}");
    assert_eq!(tls_err(err).1, TlsCause::WrongName);
}

#[tokio::test]
async fn https_to_a_plain_http_port_is_its_own_cause() {
    let sb = plain_sandbox().await;
    let url = format!("https://{}", sb.addr());
    let client = build(builder(&url), &[]).unwrap();
    let err = client.get_settings().await.unwrap_err();
    assert!(err.to_string().contains("does not speak TLS"), "{err}");
    assert_no_secret(&err.to_string());
    assert_eq!(tls_err(err).1, TlsCause::NotTls);
    assert_eq!(
        sb.stats(greenapi_settings_sandbox::DEFAULT_INSTANCE_ID)
            .unwrap()
            .get_settings_calls,
        0
    );
}

#[tokio::test]
async fn a_server_that_accepts_and_never_handshakes_is_a_handshake_timeout() {
    let addr = netkit::silent_server();
    let url = format!("https://{addr}");
    let client = build(
        builder(&url)
            .connect_timeout(Duration::from_millis(300))
            .retry(RetryPolicy::default().max_attempts(1)),
        &[],
    )
    .unwrap();
    let err = client.get_settings().await.unwrap_err();
    assert!(err.to_string().contains("handshake timed out"), "{err}");
    assert!(err.to_string().contains("within 300ms"), "{err}");
    let (host, cause) = tls_err(err);
    assert_eq!(host, format!("https://{addr}"));
    assert!(
        matches!(cause, TlsCause::HandshakeTimeout { .. }),
        "{cause:?}"
    );
}

/// A TCP connection that never completes (a listener whose accept queue is full drops the
/// SYN) is a timeout naming the connect timeout that ran out, not the request's, and not a
/// TLS failure: the check connection does not complete either.
#[tokio::test]
async fn a_connection_never_made_is_a_timeout_after_the_connect_timeout_not_tls() {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(1).unwrap();
    let addr = listener.local_addr().unwrap();
    // Fill the accept queue (never accepted): bounded, until a connect does not complete.
    let mut held = Vec::new();
    let mut full = false;
    for _ in 0..16 {
        match tokio::time::timeout(
            Duration::from_millis(200),
            tokio::net::TcpStream::connect(addr),
        )
        .await
        {
            Ok(Ok(stream)) => held.push(stream),
            _ => {
                full = true;
                break;
            }
        }
    }
    assert!(full, "the accept queue never filled");
    let client = build(
        builder(&format!("https://{addr}"))
            .connect_timeout(Duration::from_millis(300))
            .retry(RetryPolicy::default().max_attempts(1)),
        &[],
    )
    .unwrap();
    let err = client.get_settings().await.unwrap_err();
    assert!(
        matches!(err, Error::Timeout { after, .. } if after == Duration::from_millis(300)),
        "{err:?}"
    );
    assert!(
        err.to_string().contains(&format!("https://{addr}")),
        "{err}"
    );
    drop(listener);
}

#[tokio::test]
async fn a_closed_port_is_still_a_transport_error_not_tls() {
    let url = format!("https://127.0.0.1:{}", common::closed_port());
    let client = build(
        builder(&url).retry(RetryPolicy::default().max_attempts(1)),
        &[],
    )
    .unwrap();
    let err = client.get_settings().await.unwrap_err();
    assert_eq!(err.kind(), "transport", "{err}");
}

/// Through the proxy, only `CONNECT host:port` crosses in clear: no token, no path, no
/// settings, in any byte the proxy received (the tunnel carries TLS).
#[tokio::test]
async fn through_a_proxy_only_connect_host_port_crosses_in_clear() {
    let ca = Ca::new("proxy-test-ca");
    let (url, sb, addr) = front(ca.leaf(&["127.0.0.1"], Validity::Current)).await;
    let (proxy, seen) = netkit::connect_proxy(ProxyMode::Tunnel(None));
    let client = build(
        builder(&url)
            .add_root_certificate(ca.pem().as_bytes())
            .unwrap()
            .proxy(&format!("http://{proxy}"))
            .unwrap(),
        &[],
    )
    .unwrap();
    client.get_settings().await.expect("through the proxy");
    assert_eq!(
        sb.stats(greenapi_settings_sandbox::DEFAULT_INSTANCE_ID)
            .unwrap()
            .get_settings_calls,
        1
    );
    assert_eq!(seen.first_lines(), vec![format!("CONNECT {addr} HTTP/1.1")]);
    let all = seen.text();
    assert_no_secret(&all);
    assert!(!all.contains("wa"), "settings or path in clear: {all}");
}

/// `HTTPS_PROXY` from the environment is used for a non-loopback host (here a name that
/// resolves nowhere: only the proxy reaches it), and `NO_PROXY` lets a host bypass a proxy.
#[tokio::test]
async fn https_proxy_from_the_environment_is_used_and_no_proxy_bypasses_it() {
    let ca = Ca::new("env-proxy-test-ca");
    let sb = plain_sandbox().await;
    let named = netkit::tls_front(
        ca.leaf(&["api.green.test"], Validity::Current),
        sb.addr(),
        Some("api.green.test"),
    );
    let (proxy, seen) = netkit::connect_proxy(ProxyMode::Tunnel(Some(named)));
    let proxy_url = format!("http://{proxy}");
    let via_env = build(
        builder("https://api.green.test")
            .add_root_certificate(ca.pem().as_bytes())
            .unwrap(),
        &[("https_proxy", &proxy_url)],
    )
    .unwrap();
    via_env.get_settings().await.expect("through the env proxy");
    assert_eq!(
        seen.first_lines(),
        vec!["CONNECT api.green.test:443 HTTP/1.1".to_string()]
    );
    assert_no_secret(&seen.text());

    // NO_PROXY: the explicit proxy is bypassed for 127.0.0.1 (curl's rules).
    let (url, _sb2, _) = front(ca.leaf(&["127.0.0.1"], Validity::Current)).await;
    let direct = build(
        builder(&url)
            .add_root_certificate(ca.pem().as_bytes())
            .unwrap()
            .proxy(&proxy_url)
            .unwrap(),
        &[("NO_PROXY", "localhost, 127.0.0.0/8")],
    )
    .unwrap();
    direct.get_settings().await.expect("direct, bypassing");
    assert_eq!(seen.connections(), 1, "the proxy was used: {}", seen.text());
}

/// A loopback API URL never goes through an environment proxy (it could not reach this
/// machine's loopback); the suite cannot be broken by a developer's `HTTPS_PROXY`.
#[tokio::test]
async fn a_loopback_api_url_bypasses_environment_proxies() {
    let (proxy, seen) = netkit::connect_proxy(ProxyMode::Close);
    let sb = plain_sandbox().await;
    let p = format!("http://{proxy}");
    let client = build(
        builder(&sb.url()),
        &[("HTTP_PROXY", &p), ("HTTPS_PROXY", &p), ("ALL_PROXY", &p)],
    )
    .unwrap();
    client.get_settings().await.expect("direct");
    assert_eq!(seen.connections(), 0);
}

#[tokio::test]
async fn a_proxy_answering_407_is_a_clear_error_without_the_proxys_credentials() {
    let (proxy, _seen) = netkit::connect_proxy(ProxyMode::AuthRequired);
    let client = build(
        builder("https://127.0.0.1:9")
            .retry(RetryPolicy::default().max_attempts(1))
            .proxy(&format!("http://proxyuser:Pr0xyPassw0rd@{proxy}"))
            .unwrap(),
        &[],
    )
    .unwrap();
    assert!(!format!("{client:?}").contains("Pr0xyPassw0rd"));
    let err = client.get_settings().await.unwrap_err();
    let text = err.to_string();
    assert_eq!(err.kind(), "transport", "{text}");
    assert!(text.to_lowercase().contains("proxy"), "{text}");
    assert!(text.contains("407") || text.contains("auth"), "{text}");
    for secret in ["Pr0xyPassw0rd", "proxyuser", "cHJveHl1c2Vy"] {
        assert!(!text.contains(secret), "{text}");
        assert!(!format!("{err:?}").contains(secret));
    }
    assert_no_secret(&text);
}

#[tokio::test]
async fn a_proxy_that_closes_is_a_clear_transport_error() {
    let (proxy, seen) = netkit::connect_proxy(ProxyMode::Close);
    let client = build(
        builder("https://127.0.0.1:9")
            .retry(RetryPolicy::default().max_attempts(1))
            .proxy(&format!("http://user:S3cretProxyPw@{proxy}"))
            .unwrap(),
        &[],
    )
    .unwrap();
    let err = client.get_settings().await.unwrap_err();
    let text = err.to_string();
    assert_eq!(err.kind(), "transport", "{text}");
    assert!(!text.contains("S3cretProxyPw"), "{text}");
    assert_no_secret(&text);
    assert_eq!(seen.connections(), 1);
}

/// A plain-HTTP API URL through a proxy would hand the proxy the whole request, token in its
/// path: refused before anything is sent, unless allowed.
#[tokio::test]
async fn a_plain_http_api_url_through_a_proxy_is_refused_unless_allowed() {
    let (proxy, seen) = netkit::connect_proxy(ProxyMode::Tunnel(None));
    let sb = plain_sandbox().await;
    let p = format!("http://u:Hidden-Pw-123@{proxy}");
    let err = build(builder(&sb.url()).proxy(&p).unwrap(), &[]).unwrap_err();
    let text = err.to_string();
    assert_eq!(err.kind(), "config", "{text}");
    assert!(text.contains("plain HTTP"), "{text}");
    assert!(text.contains("allow-insecure-proxy"), "{text}");
    assert!(text.contains(&format!("http://{proxy}")), "{text}");
    assert!(!text.contains("Hidden-Pw-123"), "{text}");
    assert!(
        builder(&sb.url()).proxy(&p).unwrap().check().is_err(),
        "check() refuses what build() refuses"
    );
    // From the environment too, for a non-loopback host.
    let err = build(
        builder("http://api.green.test"),
        &[("HTTP_PROXY", &format!("http://{proxy}"))],
    )
    .unwrap_err();
    assert!(err.to_string().contains("plain HTTP"), "{err}");
    assert_eq!(seen.connections(), 0, "nothing was sent");

    // Allowed: the request goes through (the test proxy answers a plain request 502, having
    // recorded it: the token crossed in clear, which is what the refusal is about).
    let allowed = build(
        builder(&sb.url())
            .proxy(&p)
            .unwrap()
            .allow_insecure_proxy(true)
            .retry(RetryPolicy::default().max_attempts(1)),
        &[],
    )
    .unwrap();
    let _ = allowed.get_settings().await;
    assert!(seen.text().contains(common::TOKEN), "{}", seen.text());
}

#[test]
fn a_proxy_url_is_checked_and_never_quoted() {
    for (url, want) in [
        ("socks5://u:pw-secret-1@h:1080", "SOCKS is not supported"),
        ("http://u:pw-secret-1@", "not a URL"),
        ("::::pw-secret-1", "not a URL"),
    ] {
        let err = builder("https://h.example").proxy(url).unwrap_err();
        let text = err.to_string();
        assert_eq!(err.kind(), "config");
        assert!(text.contains(want), "{url}: {text}");
        assert!(!text.contains("pw-secret-1"), "{text}");
    }
    let b = builder("https://h.example")
        .proxy("proxy.example:3128")
        .unwrap();
    let shown = format!("{b:?}");
    assert!(shown.contains("http://proxy.example:3128"), "{shown}");
}

/// `from_env` reads the CA file named by `GREEN_API_CA_CERT` (as the CLI does), unless roots
/// were given already.
#[tokio::test]
async fn from_env_trusts_the_ca_file_named_by_green_api_ca_cert() {
    let ca = Ca::new("from-env-test-ca");
    let (url, _sb, _) = front(ca.leaf(&["127.0.0.1"], Validity::Current)).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ca.pem");
    std::fs::write(&path, ca.pem()).unwrap();
    let client = with_env(&[], || {
        std::env::set_var(greenapi_settings::ENV_CA_CERT, &path);
        let built = builder(&url).from_env().and_then(ClientBuilder::build);
        std::env::remove_var(greenapi_settings::ENV_CA_CERT);
        built
    })
    .unwrap();
    client
        .get_settings()
        .await
        .expect("trusted through GREEN_API_CA_CERT");
}

/// HTTP/2 where the server offers it (issue 22 part 3), with `ClientBuilder::http2(true)`:
/// against a TLS sandbox offering `h2`, the requests to one host, many at once from clients
/// sharing one pool (a fleet), travel as streams of one connection once it is made: one TLS
/// handshake in all, where HTTP/1.1 needs a connection per request in flight. A sandbox
/// offering only HTTP/1.1, or the client's default (HTTP/1.1 only), gets HTTP/1.1.
#[tokio::test]
async fn with_http2_on_a_server_offering_it_gets_every_request_of_a_shared_pool_on_one_connection()
{
    use greenapi_settings_sandbox::TlsConfig;
    for (server_h2, client_h2) in [(true, true), (false, true), (true, false)] {
        let http2 = server_h2 && client_h2;
        let sb = common::sandbox(
            SandboxConfig::instances_generated(20)
                .rate_limit(None)
                .latency(Duration::from_millis(50))
                .tls(TlsConfig::generated().http2(server_h2)),
        )
        .await;
        let pem = sb.ca_pem().unwrap().to_string();
        let base = Client::builder()
            .api_url(sb.url())
            .id_instance(1)
            .api_token("pool-placeholder")
            .add_root_certificate(pem.as_bytes())
            .unwrap()
            .http2(client_h2)
            .build()
            .unwrap();
        let clients: Vec<Client> = sb
            .instance_ids()
            .into_iter()
            .map(|id| {
                Client::builder()
                    .share_connections_with(&base)
                    .api_url(sb.url())
                    .id_instance(id)
                    .api_token(greenapi_settings_sandbox::generated_token(id))
                    .min_interval(Duration::ZERO)
                    .build()
                    .unwrap()
            })
            .collect();
        // One request first: until a connection has negotiated HTTP/2 in its handshake, the
        // pool cannot know that requests may share it (hyper-util opens one per request in
        // flight, as for HTTP/1.1). Then twice all 20 at once.
        clients[0].get_settings().await.unwrap();
        for _ in 0..2 {
            let mut reads = tokio::task::JoinSet::new();
            for c in clients.clone() {
                reads.spawn(async move { c.get_settings().await });
            }
            while let Some(read) = reads.join_next().await {
                read.unwrap().unwrap();
            }
        }
        let stats = sb.server_stats();
        let opened = base.connections_opened();
        assert_eq!(stats.tls_handshakes, opened, "{stats:?}");
        if http2 {
            assert_eq!((opened, stats.http2_connections), (1, 1), "{stats:?}");
        } else {
            // 20 requests in flight at once need 20 HTTP/1.1 connections (the first one's
            // among them; a few more when one is being given back as another starts).
            assert!((20..=30).contains(&opened), "{opened}: {stats:?}");
            assert_eq!(stats.http2_connections, 0, "{stats:?}");
        }
    }
}
