//! The TLS sandbox (issue 22): HTTPS with a certificate made at start by a throw-away CA or
//! the caller's own files, the CA's file, clients that do not trust it, plain HTTP sent to
//! the HTTPS port, several loopback hosts, and the server-wide counters that prove
//! connection reuse (handshakes = connections). Every server is on 127.0.0.x, every wait
//! bounded.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use greenapi_settings_sandbox::{
    Sandbox, SandboxConfig, SandboxHandle, ServerStats, TlsConfig, DEFAULT_INSTANCE_ID,
    DEFAULT_TOKEN, MAX_PEM_FILE_BYTES,
};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(10);

fn config() -> SandboxConfig {
    SandboxConfig::default().rate_limit(None)
}

async fn start(config: SandboxConfig) -> SandboxHandle {
    Sandbox::start(config).await.expect("start the sandbox")
}

fn get_path(base: &str) -> String {
    format!("{base}/waInstance{DEFAULT_INSTANCE_ID}/getSettings/{DEFAULT_TOKEN}")
}

/// A reqwest client whose only trusted root is `ca_pem` (no platform roots).
fn client_trusting(ca_pem: &str) -> reqwest::Client {
    // reqwest is built without a provider of its own; the tree's one is ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("a PEM certificate");
    reqwest::Client::builder()
        .tls_certs_only([ca])
        .timeout(WAIT)
        .build()
        .expect("a client")
}

/// A client for a plain-HTTP sandbox.
fn plain_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().timeout(WAIT).build().unwrap()
}

/// The whole chain of an error's messages, to look for the cause.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(" / ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

async fn get_settings(client: &reqwest::Client, base: &str) -> Value {
    let answer = client
        .get(get_path(base))
        .send()
        .await
        .unwrap_or_else(|e| panic!("getSettings over {base}: {}", chain(&e)));
    assert_eq!(answer.status(), 200);
    serde_json::from_slice(&answer.bytes().await.expect("a body")).expect("JSON")
}

/// The counters once `done` holds, or after `WAIT` (then the caller's assertion fails).
async fn stats_when(sb: &SandboxHandle, done: impl Fn(&ServerStats) -> bool) -> ServerStats {
    let deadline = Instant::now() + WAIT;
    loop {
        let stats = sb.server_stats();
        if done(&stats) || Instant::now() > deadline {
            return stats;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A CA and a certificate it signed for `names`, made the way a user would with rcgen:
/// (CA PEM, leaf PEM, leaf key PEM).
fn own_certificate(names: &[&str]) -> (String, String, String) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "tls-test-own-ca");
    let ca = rcgen::CertifiedIssuer::self_signed(ca, ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let names: Vec<String> = names.iter().map(ToString::to_string).collect();
    let leaf = rcgen::CertificateParams::new(names)
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    (ca.pem(), leaf.pem(), key.serialize_pem())
}

fn write(dir: &Path, name: &str, contents: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

#[tokio::test]
async fn get_settings_over_https_with_the_throw_away_ca_as_the_only_root() {
    let sb = start(config().tls(TlsConfig::generated())).await;
    assert!(sb.is_tls());
    let url = sb.url();
    assert_eq!(url, format!("https://127.0.0.1:{}", sb.addr().port()));
    let ca_pem = sb.ca_pem().expect("a generated certificate has a CA");
    assert!(
        ca_pem.starts_with("-----BEGIN CERTIFICATE-----"),
        "{ca_pem}"
    );
    let on_disk = std::fs::read_to_string(sb.ca_path().expect("a CA file")).unwrap();
    assert_eq!(on_disk, ca_pem);

    let client = client_trusting(ca_pem);
    let settings = get_settings(&client, &url).await;
    assert!(settings.get("webhookUrl").is_some(), "{settings}");
    // The certificate also names localhost.
    let by_name = format!("https://localhost:{}", sb.addr().port());
    get_settings(&client, &by_name).await;
    assert_eq!(sb.stats(DEFAULT_INSTANCE_ID).unwrap().get_settings_calls, 2);

    let server = client
        .get(format!("{url}/sandbox/server"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let server: Value = serde_json::from_slice(&server).unwrap();
    assert_eq!(server["tls"], true, "{server}");
    assert_eq!(server["tlsHandshakes"], 2, "{server}");
    assert_eq!(server["connections"], 2, "{server}");
    sb.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_client_that_does_not_trust_the_ca_fails_with_a_certificate_error() {
    let sb = start(config().tls(TlsConfig::generated())).await;
    let (other_ca, _, _) = own_certificate(&["127.0.0.1"]);
    let stranger = client_trusting(&other_ca);
    let err = stranger
        .get(get_path(&sb.url()))
        .send()
        .await
        .expect_err("an untrusted certificate");
    let text = chain(&err);
    assert!(
        text.contains("invalid peer certificate: UnknownIssuer"),
        "{text}"
    );
    let stats = stats_when(&sb, |s| s.tls_handshake_failures >= 1).await;
    assert_eq!((stats.tls_handshakes, stats.tls_handshake_failures), (0, 1));
    assert_eq!(sb.stats(DEFAULT_INSTANCE_ID).unwrap().get_settings_calls, 0);
    sb.shutdown().await.unwrap();
}

/// Raw bytes to the HTTPS port; whatever comes back before the server closes.
fn send_raw(addr: std::net::SocketAddr, bytes: &[u8]) -> (String, Duration) {
    let began = Instant::now();
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.write_all(bytes).unwrap();
    let mut answer = Vec::new();
    // EOF (or a reset) ends it; the read timeout bounds it.
    let _ = stream.read_to_end(&mut answer);
    (
        String::from_utf8_lossy(&answer).into_owned(),
        began.elapsed(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_to_the_https_port_gets_a_plain_400_naming_the_https_url_then_eof() {
    let sb = start(
        config()
            .tls(TlsConfig::generated())
            .read_timeout(Duration::from_millis(300)),
    )
    .await;
    let addr = sb.addr();
    let request = format!(
        "GET /waInstance{DEFAULT_INSTANCE_ID}/getSettings/{DEFAULT_TOKEN} HTTP/1.1\r\n\
         Host: 127.0.0.1\r\nConnection: close\r\n\r\n"
    );
    let (answer, took) = tokio::task::spawn_blocking(move || send_raw(addr, request.as_bytes()))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
    assert!(
        answer.contains(&format!("send the request to https://{addr}")),
        "{answer}"
    );
    assert!(!answer.contains(DEFAULT_TOKEN), "{answer}");
    assert!(took < WAIT, "closed, not left hanging: {took:?}");

    // Neither HTTP nor TLS: closed without a word. Nothing at all, or a handshake that
    // stalls after its first bytes: closed after the read timeout.
    for bytes in [&b"\x00\x01\x02 hello"[..], b"", b"\x16\x03\x01"] {
        let (answer, took) = tokio::task::spawn_blocking(move || send_raw(addr, bytes))
            .await
            .unwrap();
        assert_eq!(answer, "", "{bytes:?}");
        assert!(took < WAIT, "{bytes:?}: {took:?}");
    }
    let stats = stats_when(&sb, |s| s.tls_handshake_failures >= 4).await;
    assert_eq!(stats.tls_handshake_failures, 4, "{stats:?}");
    assert_eq!(stats.connections, 4, "{stats:?}");
    assert_eq!(sb.stats(DEFAULT_INSTANCE_ID).unwrap().get_settings_calls, 0);

    // The server is none the worse for it.
    let client = client_trusting(sb.ca_pem().unwrap());
    get_settings(&client, &sb.url()).await;
    sb.shutdown().await.unwrap();
}

#[tokio::test]
async fn one_kept_alive_client_makes_one_connection_and_one_handshake_for_many_requests() {
    let sb = start(config().tls(TlsConfig::generated())).await;
    let client = client_trusting(sb.ca_pem().unwrap());
    for _ in 0..10 {
        get_settings(&client, &sb.url()).await;
    }
    let stats = sb.server_stats();
    assert_eq!(
        (stats.connections, stats.tls_handshakes),
        (1, 1),
        "{stats:?}"
    );
    assert_eq!(
        sb.stats(DEFAULT_INSTANCE_ID).unwrap().get_settings_calls,
        10
    );
    sb.shutdown().await.unwrap();
}

#[tokio::test]
async fn fresh_clients_make_one_connection_and_one_handshake_each() {
    let sb = start(config().tls(TlsConfig::generated())).await;
    for _ in 0..5 {
        let client = client_trusting(sb.ca_pem().unwrap());
        get_settings(&client, &sb.url()).await;
    }
    let stats = sb.server_stats();
    assert_eq!(
        (stats.connections, stats.tls_handshakes),
        (5, 5),
        "{stats:?}"
    );
    assert_eq!(stats.tls_handshake_failures, 0);
    sb.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_plain_sandbox_counts_connections_and_no_handshakes() {
    let sb = start(config()).await;
    assert!(!sb.is_tls());
    assert!(sb.url().starts_with("http://127.0.0.1:"), "{}", sb.url());
    assert!(sb.ca_pem().is_none() && sb.ca_path().is_none());
    let client = plain_client();
    for _ in 0..3 {
        get_settings(&client, &sb.url()).await;
    }
    let fresh = plain_client();
    get_settings(&fresh, &sb.url()).await;
    let stats = sb.server_stats();
    assert!(!stats.tls);
    assert_eq!(
        (stats.connections, stats.tls_handshakes),
        (2, 0),
        "{stats:?}"
    );
    sb.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_callers_own_certificate_and_key_files_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = own_certificate(&["127.0.0.1"]);
    let cert = write(dir.path(), "cert.pem", cert.as_bytes());
    let key = write(dir.path(), "key.pem", key.as_bytes());
    let sb = start(config().tls(TlsConfig::files(&cert, &key))).await;
    assert!(sb.is_tls());
    assert!(sb.ca_pem().is_none(), "the caller knows their own CA");
    get_settings(&client_trusting(&ca), &sb.url()).await;
    sb.shutdown().await.unwrap();
}

#[tokio::test]
async fn unusable_certificate_or_key_files_fail_the_start_naming_the_file_not_its_contents() {
    let dir = tempfile::tempdir().unwrap();
    let (_, cert_pem, key_pem) = own_certificate(&["127.0.0.1"]);
    let (_, _, other_key_pem) = own_certificate(&["127.0.0.1"]);
    let cert = write(dir.path(), "cert.pem", cert_pem.as_bytes());
    let key = write(dir.path(), "key.pem", key_pem.as_bytes());
    let other_key = write(dir.path(), "other-key.pem", other_key_pem.as_bytes());
    let empty = write(dir.path(), "empty.pem", b"");
    let garbage = write(dir.path(), "garbage.pem", b"not a certificate\n");
    let broken = write(
        dir.path(),
        "broken.pem",
        b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
    );
    let huge = write(
        dir.path(),
        "huge.pem",
        &vec![b'A'; MAX_PEM_FILE_BYTES as usize + 1],
    );
    let missing = dir.path().join("missing.pem");
    let key_body = key_pem.lines().nth(1).unwrap().to_string();
    let cases = [
        (&missing, &key, "missing.pem", "TLS certificate file"),
        (&empty, &key, "empty.pem", "no certificate in it"),
        (&garbage, &key, "garbage.pem", "no certificate in it"),
        (&broken, &key, "broken.pem", "not valid base64"),
        (&huge, &key, "huge.pem", "larger than 1048576 bytes"),
        // The key where the certificate should be, and the other way round.
        (&key, &cert, "key.pem", "no certificate in it"),
        (&cert, &cert, "cert.pem", "no private key in it"),
        (&cert, &missing, "missing.pem", "TLS key file"),
        (
            &cert,
            &other_key,
            "other-key.pem",
            "does not belong to the certificate",
        ),
    ];
    for (c, k, names, says) in cases {
        let err = Sandbox::start(config().tls(TlsConfig::files(c, k)))
            .await
            .expect_err("an unusable file");
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{err}");
        let text = err.to_string();
        assert!(text.contains(names), "{names}: {text}");
        assert!(text.contains(says), "{says}: {text}");
        assert!(!text.contains(&key_body), "the key's bytes: {text}");
    }
}

#[tokio::test]
async fn the_ca_file_goes_with_the_server_unless_written_where_asked() {
    let sb = start(config().tls(TlsConfig::generated())).await;
    let temporary = sb.ca_path().unwrap().to_path_buf();
    assert!(temporary.exists());
    sb.shutdown().await.unwrap();
    assert!(!temporary.exists(), "{temporary:?} outlived the server");

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sandbox-ca.pem");
    // A leftover file is replaced.
    std::fs::write(&out, "stale").unwrap();
    let sb = start(config().tls(TlsConfig::generated_with_ca_out(&out))).await;
    assert_eq!(sb.ca_path(), Some(out.as_path()));
    let pem = sb.ca_pem().unwrap().to_string();
    get_settings(
        &client_trusting(&std::fs::read_to_string(&out).unwrap()),
        &sb.url(),
    )
    .await;
    sb.shutdown().await.unwrap();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), pem);

    let err = Sandbox::start(config().tls(TlsConfig::generated_with_ca_out(
        dir.path().join("no-such-dir/ca.pem"),
    )))
    .await
    .expect_err("an unwritable place");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(
        err.to_string().contains("cannot write the CA certificate"),
        "{err}"
    );
}

#[tokio::test]
async fn several_hosts_share_one_port_one_certificate_and_the_same_instances() {
    let sb = start(config().tls(TlsConfig::generated()).hosts(3)).await;
    let port = sb.addr().port();
    let urls = sb.urls();
    assert_eq!(
        urls,
        (1..=3)
            .map(|i| format!("https://127.0.0.{i}:{port}"))
            .collect::<Vec<_>>()
    );
    let client = client_trusting(sb.ca_pem().unwrap());
    // A change made through one host is seen through another: one server.
    let set = client
        .post(format!(
            "{}/waInstance{DEFAULT_INSTANCE_ID}/setSettings/{DEFAULT_TOKEN}",
            urls[1]
        ))
        .header("content-type", "application/json")
        .body(r#"{"delaySendMessagesMilliseconds": 7000}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 200);
    let seen = get_settings(&client, &urls[2]).await;
    assert_eq!(seen["delaySendMessagesMilliseconds"], 7000, "{seen}");
    get_settings(&client, &urls[0]).await;
    // One client, three hosts: a connection (and a handshake) per host, reused after.
    get_settings(&client, &urls[2]).await;
    let stats = sb.server_stats();
    assert_eq!(
        (stats.connections, stats.tls_handshakes),
        (3, 3),
        "{stats:?}"
    );
    sb.shutdown().await.unwrap();
}

#[tokio::test]
async fn several_plain_hosts_answer_with_their_own_host_header_and_no_others() {
    let sb = start(config().hosts(2)).await;
    let client = plain_client();
    for url in sb.urls() {
        get_settings(&client, &url).await;
    }
    // 127.0.0.3 is not one of this sandbox's hosts: refused as a foreign Host.
    let refused = client
        .get(get_path(&sb.urls()[1]))
        .header("host", format!("127.0.0.3:{}", sb.addr().port()))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    sb.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_sandbox_that_cannot_bind_writes_no_ca_file() {
    let taken = start(config()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ca.pem");
    let err = Sandbox::start(
        config()
            .port(taken.addr().port())
            .tls(TlsConfig::generated_with_ca_out(&out)),
    )
    .await
    .expect_err("the port is taken");
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse, "{err}");
    assert!(!out.exists(), "a CA nobody serves was left behind");
    taken.shutdown().await.unwrap();
}
