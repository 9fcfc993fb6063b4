//! `doctor --probe` (issue 21): the receiver at webhookUrl checked from this machine, against
//! receivers on 127.0.0.1 started here (200, 500, a redirect, one that never answers, a
//! self-signed and a CA-signed certificate, nothing listening); each is reported for what it
//! is, and the webhook token is in no output.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use common::{against, default_client, http, server, single, tmp, Run};
use greenapi_settings::SettingsPatch;
use greenapi_settings_sandbox::{BlockingSandbox, DEFAULT_TOKEN};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{json, Value};

const SECRET: &str = "probe-secret-webhook-token-5e7c";

/// A sandbox whose instance has stateWebhook on, `url` as webhookUrl and [`SECRET`] as token.
fn instance_with(url: &str) -> BlockingSandbox {
    let sb = single();
    let mut p = SettingsPatch::new();
    p.set_json("webhookUrl", &json!(url)).unwrap();
    p.set_json("webhookUrlToken", &json!(SECRET)).unwrap();
    p.set_json("stateWebhook", &json!("yes")).unwrap();
    default_client(&sb).set_settings(&p).unwrap();
    sb
}

/// `doctor --probe ARGS` against an instance whose receiver is `url`: the text run and the
/// `--json` run, neither holding a secret.
fn probe(url: &str, args: &[&str], env: &[(&str, &str)]) -> (Run, Value) {
    let sb = instance_with(url);
    let run_with = |extra: &[&str]| {
        let mut c = common::one(&sb);
        c.args(["doctor", "--probe"]).args(args).args(extra);
        for (k, v) in env {
            c.env(k, v);
        }
        common::run(c)
    };
    let text = run_with(&[]);
    let json = run_with(&["--json"]);
    for r in [&text, &json] {
        let all = r.all();
        assert!(!all.contains(SECRET), "the webhook token leaked: {all}");
        assert!(!all.contains(DEFAULT_TOKEN), "the API token leaked: {all}");
    }
    assert_eq!(text.code, json.code, "{}{}", text.all(), json.all());
    (text, json.json())
}

/// The probe's steps of the first result, by name.
fn step<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    v["results"][0]["probe"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == name)
}

fn codes(v: &Value) -> Vec<String> {
    v["results"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn probe_of_a_receiver_answering_200_with_the_right_token_exits_0() {
    // `listen` itself is the receiver: it answers 401 unless the Bearer token is right.
    let mut child = common::std_bin()
        .args([
            "--color",
            "never",
            "listen",
            "--port",
            "0",
            "--token-env",
            "T",
            "--count",
            "2",
        ])
        .env("T", SECRET)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let lines = common::lines_of(&mut child);
    let first = lines.recv_timeout(Duration::from_secs(30)).unwrap();
    let addr = first
        .split("http://")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let (text, v) = probe(&format!("http://{addr}/hook?key=query-secret"), &[], &[]);
    assert_eq!(text.code, 0, "{}", text.all());
    assert!(text.stdout.contains("post ok"), "{}", text.all());
    assert!(text.stdout.contains("answered 200 OK"), "{}", text.all());
    assert!(!text.all().contains("query-secret"), "{}", text.all());
    assert!(
        text.stdout
            .contains(&format!("webhookUrl: http://{addr}/hook?<redacted>")),
        "{}",
        text.all()
    );
    assert_eq!(step(&v, "post").unwrap()["data"]["status"], 200);
    assert_eq!(step(&v, "post").unwrap()["data"]["tokenSent"], true);
    assert_eq!(
        step(&v, "dns").unwrap()["data"]["addresses"],
        json!(["127.0.0.1"])
    );
    assert!(
        codes(&v).contains(&"webhookUrlHttpWithToken".to_string()),
        "{v}"
    );
    // The receiver saw two marked test bodies, with the right token (else 401), and exits.
    let got: Vec<String> = (0..3)
        .filter_map(|_| lines.recv_timeout(Duration::from_secs(30)).ok())
        .collect();
    assert_eq!(
        got.iter()
            .filter(|l| l.contains("greenapiSettingsDoctorProbe"))
            .count(),
        2,
        "{got:?}"
    );
    assert!(child.wait().unwrap().success());
}

#[test]
fn probe_of_a_receiver_answering_500_reports_the_status_and_exits_1() {
    let (url, seen) = server(2, |_| http("500 Internal Server Error", "", "{}"));
    let (text, v) = probe(&format!("{url}/hook"), &[], &[]);
    assert_eq!(text.code, 1, "{}", text.all());
    assert!(
        text.stdout.contains("answered 500 Internal Server Error"),
        "{}",
        text.all()
    );
    assert!(codes(&v).contains(&"postStatus".to_string()), "{v}");
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert!(
        seen[0].line.starts_with("POST /hook HTTP/1.1"),
        "{:?}",
        seen[0]
    );
    let body: Value = serde_json::from_str(&seen[0].body).unwrap();
    assert_eq!(body["typeWebhook"], "greenapiSettingsDoctorProbe");
    assert!(body["note"].as_str().unwrap().contains("ignore"));
}

#[test]
fn probe_reports_a_redirect_and_never_follows_it() {
    let (target, target_seen) = server(1, |_| http("200 OK", "", "{}"));
    let location = format!("Location: {target}/elsewhere?sig=location-secret\r\n");
    let (url, _) = server(2, move |_| http("302 Found", &location, ""));
    let (text, v) = probe(&format!("{url}/hook"), &[], &[]);
    assert_eq!(text.code, 1, "{}", text.all());
    assert!(text.stdout.contains("answered 302 Found"), "{}", text.all());
    assert!(
        text.stdout.contains(&format!(
            "a redirect to {target}/elsewhere?<redacted> (not followed"
        )),
        "{}",
        text.all()
    );
    assert!(!text.all().contains("location-secret"));
    assert!(codes(&v).contains(&"postRedirect".to_string()), "{v}");
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        target_seen.lock().unwrap().is_empty(),
        "the redirect was followed"
    );
}

#[test]
fn probe_of_a_receiver_that_never_answers_reports_a_timeout() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    std::thread::spawn(move || {
        // Accepts and holds each connection without a word (bounded: 2 connections, 30 s).
        let mut held = Vec::new();
        for s in l.incoming().take(2) {
            held.push(s);
        }
        std::thread::sleep(Duration::from_secs(30));
    });
    let started = std::time::Instant::now();
    let (text, v) = probe(&url, &["--probe-timeout", "1s"], &[]);
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(text.code, 1, "{}", text.all());
    assert!(
        text.stdout.contains("no answer within 1.00 s"),
        "{}",
        text.all()
    );
    assert!(codes(&v).contains(&"postTimeout".to_string()), "{v}");
    assert_eq!(step(&v, "post").unwrap()["data"]["timedOut"], true);
    assert_eq!(step(&v, "tcp").unwrap()["ok"], true);
}

#[test]
fn probe_of_a_port_nothing_listens_on_reports_connection_refused() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (text, v) = probe(&format!("http://127.0.0.1:{port}/hook"), &[], &[]);
    assert_eq!(text.code, 1, "{}", text.all());
    assert!(
        text.stdout
            .contains("connection refused (nothing listens there)"),
        "{}",
        text.all()
    );
    assert!(codes(&v).contains(&"tcp".to_string()), "{v}");
    assert!(step(&v, "post").is_none(), "{v}");
}

/// A TLS receiver on 127.0.0.1 with `cert` (and its chain) answering 200 to up to 2
/// connections; its URL.
fn tls_server(chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> String {
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .unwrap();
    let config = Arc::new(config);
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://{}/hook", l.local_addr().unwrap());
    std::thread::spawn(move || {
        for tcp in l.incoming().take(2) {
            let Ok(tcp) = tcp else { continue };
            let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
            let conn = rustls::ServerConnection::new(config.clone()).unwrap();
            let mut tls = rustls::StreamOwned::new(conn, tcp);
            let mut data = Vec::new();
            let mut buf = [0u8; 4096];
            while !data.windows(4).any(|w| w == b"\r\n\r\n") {
                match tls.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => data.extend_from_slice(&buf[..n]),
                }
            }
            let _ = tls.write_all(http("200 OK", "", "{}").as_bytes());
            let _ = tls.flush();
        }
    });
    url
}

fn key_der(k: &rcgen::KeyPair) -> PrivateKeyDer<'static> {
    PrivateKeyDer::Pkcs8(k.serialize_der().into())
}

#[test]
fn probe_reports_a_self_signed_certificate_as_untrusted_and_what_it_is() {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "doctor-test-self-signed");
    let cert = params.self_signed(&key).unwrap();
    let url = tls_server(vec![cert.der().clone()], key_der(&key));
    let (text, v) = probe(&url, &[], &[]);
    assert_eq!(text.code, 1, "{}", text.all());
    assert!(
        text.stdout.contains("certificate not trusted"),
        "{}",
        text.all()
    );
    assert!(text.stdout.contains("self-signed"), "{}", text.all());
    assert!(
        text.stdout.contains("doctor-test-self-signed"),
        "{}",
        text.all()
    );
    let tls = step(&v, "tls").unwrap();
    assert_eq!(tls["ok"], false);
    assert_eq!(tls["data"]["selfSigned"], true);
    assert_eq!(tls["data"]["trusted"], false);
    assert_eq!(tls["data"]["names"], json!(["127.0.0.1"]));
    assert!(codes(&v).contains(&"tlsUntrusted".to_string()), "{v}");
    assert!(
        step(&v, "post").is_none(),
        "nothing is posted over an untrusted connection: {v}"
    );
}

#[test]
fn probe_trusts_a_certificate_from_a_ca_in_ssl_cert_file_and_gives_days_to_expiry() {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "doctor-test-ca");
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    let url = tls_server(
        vec![leaf.der().clone(), ca.der().clone()],
        key_der(&leaf_key),
    );
    let roots = tmp("ca.pem", &ca.pem());
    let (text, v) = probe(&url, &[], &[("SSL_CERT_FILE", roots.to_str().unwrap())]);
    assert_eq!(text.code, 0, "{}", text.all());
    assert!(
        text.stdout.contains("certificate valid for 127.0.0.1"),
        "{}",
        text.all()
    );
    let tls = step(&v, "tls").unwrap();
    assert_eq!(tls["data"]["trusted"], true);
    assert!(tls["data"]["daysToExpiry"].as_i64().unwrap() > 0, "{tls}");
    assert_eq!(step(&v, "post").unwrap()["data"]["status"], 200);
    // https: no finding about a token in clear.
    assert!(
        !codes(&v).iter().any(|c| c.starts_with("webhookUrlHttp")),
        "{v}"
    );
}

#[test]
fn probe_timeout_that_is_not_a_duration_is_refused_with_exit_2_and_nothing_sent() {
    let sb = single();
    let out = against(&sb, &["doctor", "--probe", "--probe-timeout", "soon"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("--probe-timeout"), "{}", out.all());
    let out = against(&sb, &["doctor", "--probe-timeout", "5s"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert_eq!(common::calls(&sb), 0);
}

#[test]
fn probe_of_a_fleet_posts_once_to_a_receiver_its_instances_share() {
    let sb = common::fast(3);
    let (url, seen) = server(3, |_| http("200 OK", "", "{}"));
    for id in sb.instance_ids() {
        let mut p = SettingsPatch::new();
        p.set_json("webhookUrl", &json!(format!("{url}/shared")))
            .unwrap();
        p.set_json("webhookUrlToken", &json!(SECRET)).unwrap();
        p.set_json("stateWebhook", &json!("yes")).unwrap();
        common::client(&sb, id).set_settings(&p).unwrap();
    }
    let csv = common::csv("fleet.csv", &sb);
    let out = common::cli(&[
        "doctor",
        "--probe",
        "--json",
        "--instances",
        common::s(&csv),
    ]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(!out.all().contains(SECRET));
    let v = out.json();
    for r in v["results"].as_array().unwrap() {
        assert_eq!(r["probe"]["steps"][2]["data"]["status"], 200, "{r}");
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(seen.lock().unwrap().len(), 1, "one test POST per receiver");
}

#[test]
fn probe_of_a_receiver_that_closes_without_answering_reports_it() {
    let (url, seen) = server(2, |_| String::new());
    let (text, v) = probe(&format!("{url}/hook"), &[], &[]);
    assert_eq!(text.code, 1, "{}", text.all());
    assert!(
        text.stdout
            .contains("closed the connection without an answer"),
        "{}",
        text.all()
    );
    assert!(codes(&v).contains(&"postFailed".to_string()), "{v}");
    assert_eq!(seen.lock().unwrap().len(), 2);
}
