//! What hostile or broken clients on the same machine cannot do to the sandbox: hold it with
//! connections that never finish their headers (slowloris) or bodies, change or reset it from
//! a web page (cross-origin requests, form content types), or reach an instance under another
//! spelling of its id.
//!
//! Bounded: a handful of connections to 127.0.0.1, timeouts of 1–2 s, each test under ~10 s.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use greenapi_settings::{Client, SettingsPatch};
use greenapi_settings_sandbox::{
    BlockingSandbox, Sandbox, SandboxConfig, DEFAULT_INSTANCE_ID, DEFAULT_TOKEN,
};

const READ_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a test waits for something the server must do within `READ_TIMEOUT`.
const PATIENCE: Duration = Duration::from_secs(8);

fn strict(max_connections: usize, read_timeout: Duration) -> BlockingSandbox {
    BlockingSandbox::start(
        unlimited()
            .max_connections(max_connections)
            .read_timeout(read_timeout),
    )
    .expect("sandbox")
}

/// A connection that has sent the start of a request and then nothing more.
fn silent(addr: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .write_all(b"POST /waInstance1101000001/setSettings/x HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .expect("write");
    stream
}

/// Whether the server closed `stream` within `PATIENCE` (EOF or reset, not a read timeout).
fn closed_by_server(stream: &mut TcpStream) -> bool {
    stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            // An answer (hyper may say 408 first) followed by the close is fine too.
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return false
            }
            Err(_) => return true,
        }
    }
}

#[test]
fn a_client_sending_its_headers_one_byte_at_a_time_is_disconnected() {
    let sb = strict(16, READ_TIMEOUT);
    let mut stream = TcpStream::connect(sb.addr()).expect("connect");
    let mut reader = stream.try_clone().expect("clone");
    let dribbler = thread::spawn(move || {
        let header = b"POST /waInstance1101000001/setSettings/x HTTP/1.1\r\nX-Slow: ";
        let started = Instant::now();
        for byte in header.iter().chain(std::iter::repeat(&b'a')) {
            if stream.write_all(&[*byte]).is_err() || started.elapsed() > PATIENCE {
                return;
            }
            thread::sleep(Duration::from_millis(50));
        }
    });
    assert!(
        closed_by_server(&mut reader),
        "a connection still sending headers after the read timeout must be closed"
    );
    dribbler.join().expect("dribbler");
    assert_eq!(get_default(sb.addr()).status, 200);
}

#[test]
fn connections_past_the_cap_wait_until_a_slot_frees() {
    let sb = strict(2, Duration::from_secs(2));
    let mut idle = [silent(sb.addr()), silent(sb.addr())];
    // Give the server the moment it needs to take both.
    thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    assert_eq!(get_default(sb.addr()).status, 200);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(1_000),
        "with both slots taken, a third client must wait for a slot (it waited {waited:?})"
    );
    for stream in &mut idle {
        assert!(closed_by_server(stream));
    }
}

#[test]
fn slow_clients_filling_every_slot_do_not_lock_out_the_others() {
    let sb = strict(3, READ_TIMEOUT);
    let addr = sb.addr();
    let slow: Vec<_> = (0..3).map(|_| silent(addr)).collect();
    thread::sleep(Duration::from_millis(200));
    let served = thread::spawn(move || {
        (0..3)
            .map(|_| set_default(addr, r#"{"incomingWebhook":"yes"}"#).status)
            .collect::<Vec<_>>()
    });
    let deadline = Instant::now() + PATIENCE;
    while !served.is_finished() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(50));
    }
    assert!(served.is_finished(), "other clients were locked out");
    assert_eq!(served.join().expect("client"), [200, 200, 200]);
    drop(slow);
}

#[test]
fn a_body_that_trickles_in_gets_408_and_changes_nothing() {
    let sb = strict(16, READ_TIMEOUT);
    let mut stream = TcpStream::connect(sb.addr()).expect("connect");
    write!(
        stream,
        "POST {} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: 40\r\nConnection: close\r\n\r\n{{\"incomingWebhook\"",
        set_path(DEFAULT_INSTANCE_ID, DEFAULT_TOKEN)
    )
    .expect("write");
    stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let stats = sb.stats(DEFAULT_INSTANCE_ID).expect("instance");
    assert_eq!(stats.restarts, 0);
    assert!(!stats.settings.incoming_webhook);
}

fn post_with(addr: SocketAddr, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    request(addr, "POST", path, headers, body.as_bytes())
}

#[test]
fn cross_origin_requests_are_refused_and_change_nothing() {
    let sb = BlockingSandbox::start(unlimited()).expect("sandbox");
    let addr = sb.addr();
    let set = set_path(DEFAULT_INSTANCE_ID, DEFAULT_TOKEN);
    let json = ("Content-Type", "application/json");
    assert_eq!(
        set_default(addr, r#"{"incomingWebhook":"yes"}"#).status,
        200
    );
    for origin in ["http://evil.example", "null", "http://127.0.0.1:1"] {
        let reply = post_with(
            addr,
            &set,
            &[json, ("Origin", origin)],
            r#"{"incomingWebhook":"no"}"#,
        );
        let message = error_message(&reply, 403, "Forbidden");
        assert!(message.contains("cross-origin"), "{message}");
        assert!(
            !message.contains(origin),
            "the Origin is not echoed: {message}"
        );
        let reply = post_with(addr, "/sandbox/reset", &[("Origin", origin)], "");
        error_message(&reply, 403, "Forbidden");
    }
    let stats = sb.stats(DEFAULT_INSTANCE_ID).expect("instance");
    assert!(
        stats.settings.incoming_webhook,
        "nothing was changed or reset"
    );
    assert_eq!((stats.restarts, stats.set_settings_calls), (1, 1));
    // A page served from the sandbox's own origin may.
    let own = format!("http://{addr}");
    let reply = post_with(
        addr,
        &set,
        &[json, ("Origin", &own)],
        r#"{"incomingWebhook":"no"}"#,
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
}

#[test]
fn form_content_types_are_refused_on_set_settings_and_reset_and_change_nothing() {
    let sb = BlockingSandbox::start(unlimited()).expect("sandbox");
    let addr = sb.addr();
    let set = set_path(DEFAULT_INSTANCE_ID, DEFAULT_TOKEN);
    assert_eq!(
        set_default(addr, r#"{"incomingWebhook":"yes"}"#).status,
        200
    );
    for content_type in [
        Some("text/plain"),
        Some("text/plain;charset=UTF-8"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        None,
    ] {
        let headers: Vec<(&str, &str)> = content_type
            .map(|ct| ("Content-Type", ct))
            .into_iter()
            .collect();
        let reply = post_with(addr, &set, &headers, r#"{"incomingWebhook":"no"}"#);
        let message = error_message(&reply, 415, "Unsupported Media Type");
        assert!(message.contains("application/json"), "{message}");
        if content_type.is_some() {
            let reply = post_with(addr, "/sandbox/reset", &headers, "");
            error_message(&reply, 415, "Unsupported Media Type");
        }
    }
    let stats = sb.stats(DEFAULT_INSTANCE_ID).expect("instance");
    assert!(
        stats.settings.incoming_webhook,
        "nothing was changed or reset"
    );
    assert_eq!((stats.restarts, stats.set_settings_calls), (1, 1));
    // JSON with parameters is JSON; a reset without a body needs no content type (curl -X POST).
    let reply = post_with(
        addr,
        &set,
        &[("Content-Type", "application/json; charset=utf-8")],
        r#"{"incomingWebhook":"no"}"#,
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(post_with(addr, "/sandbox/reset", &[], "").status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_project_client_passes_the_checks() {
    let sandbox = Sandbox::start(SandboxConfig::default().rate_limit(None))
        .await
        .expect("sandbox");
    let client = Client::new(sandbox.url(), DEFAULT_INSTANCE_ID, DEFAULT_TOKEN).expect("client");
    client
        .set_settings(&SettingsPatch::new().incoming_webhook(true))
        .await
        .expect("setSettings through the real client");
    assert!(
        client
            .get_settings()
            .await
            .expect("getSettings")
            .incoming_webhook
    );
    sandbox.shutdown().await.expect("shutdown");
}

#[test]
fn a_leading_zero_instance_id_is_an_unknown_instance() {
    let sb = BlockingSandbox::start(unlimited()).expect("sandbox");
    let addr = sb.addr();
    let padded = format!("0{DEFAULT_INSTANCE_ID}");
    let reply = post(
        addr,
        &format!("/waInstance{padded}/setSettings/{DEFAULT_TOKEN}"),
        r#"{"incomingWebhook":"yes"}"#,
    );
    assert_eq!(
        error_message(&reply, 403, "Forbidden"),
        "unknown idInstance"
    );
    let reply = get(
        addr,
        &format!("/waInstance{padded}/getSettings/{DEFAULT_TOKEN}"),
    );
    assert_eq!(
        error_message(&reply, 403, "Forbidden"),
        "unknown idInstance"
    );
    let stats = sb.stats(DEFAULT_INSTANCE_ID).expect("instance");
    assert!(!stats.settings.incoming_webhook);
    assert_eq!((stats.set_settings_calls, stats.get_settings_calls), (0, 0));
    for shown in [padded, format!("+{DEFAULT_INSTANCE_ID}")] {
        let reply = get(addr, &format!("/sandbox/instances/{shown}"));
        error_message(&reply, 404, "Not Found");
    }
}
