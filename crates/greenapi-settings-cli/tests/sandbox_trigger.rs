//! `greenapi-settings sandbox trigger` against a real sandbox (issue 21): queued (exit 0) and
//! delivered to a receiver on 127.0.0.1, suppressed with the reason (exit 1), bad input
//! (exit 2, nothing queued), no sandbox there (exit 1).

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;
use greenapi_settings::SettingsPatch;
use greenapi_settings_sandbox::{BlockingSandbox, SandboxConfig, DEFAULT_INSTANCE_ID};

fn sandbox() -> BlockingSandbox {
    BlockingSandbox::start(
        SandboxConfig::default()
            .rate_limit(None)
            .notify_timeout(Duration::from_millis(500))
            .notify_retry(Duration::from_millis(100)),
    )
    .unwrap()
}

fn trigger(sb: &BlockingSandbox, args: &[&str]) -> Run {
    let (id, url) = (DEFAULT_INSTANCE_ID.to_string(), sb.url());
    let mut all = vec!["sandbox", "trigger"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--instance", &id, "--url", &url]);
    cli(&all)
}

fn queued(sb: &BlockingSandbox) -> usize {
    sb.notifications(DEFAULT_INSTANCE_ID).unwrap().queued.len()
}

#[test]
fn a_trigger_the_settings_enable_is_queued_and_reaches_the_receiver_exit_0() {
    let (hook, seen) = server(1, |_| http("200 OK", "", "{}"));
    let sb = sandbox();
    let patch = SettingsPatch::new()
        .webhook_url(format!("{hook}/hook"))
        .webhook_url_token("hook-secret-cli-1")
        .state_webhook(true);
    default_client(&sb).set_settings(&patch).unwrap();
    let run = trigger(
        &sb,
        &[
            "stateInstanceChanged",
            "--field",
            "stateInstance=\"blocked\"",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout
            .starts_with("queued: stateInstanceChanged on instance 1101000001 (receipt 1)"),
        "{}",
        run.all()
    );
    assert!(!run.all().contains("hook-secret-cli-1"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while seen.lock().unwrap().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let got = seen.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].line, "POST /hook HTTP/1.1");
    let body: serde_json::Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(body["typeWebhook"], "stateInstanceChanged");
    assert_eq!(body["stateInstance"], "blocked");
}

#[test]
fn a_trigger_the_settings_do_not_enable_is_suppressed_with_the_reason_exit_1() {
    let sb = sandbox();
    let run = trigger(&sb, &["incomingCall"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stdout.starts_with("suppressed: incomingCall needs"),
        "{}",
        run.all()
    );
    assert!(run.stdout.contains("incomingCallWebhook"), "{}", run.all());
    let log = sb.notifications(DEFAULT_INSTANCE_ID).unwrap();
    assert_eq!(log.suppressed.len(), 1);
    assert_eq!(queued(&sb), 0);
}

#[test]
fn a_variant_is_given_as_type_colon_variant() {
    let sb = sandbox();
    let run = trigger(&sb, &["incomingMessageReceived:editedMessage"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stdout.contains("editedMessageWebhook"), "{}", run.all());
}

#[test]
fn bad_input_is_exit_2_and_nothing_is_queued() {
    let sb = sandbox();
    let patch = SettingsPatch::new().state_webhook(true);
    default_client(&sb).set_settings(&patch).unwrap();
    let unknown = trigger(&sb, &["incomingCal"]);
    assert_eq!(unknown.code, 2, "{}", unknown.all());
    assert!(
        unknown.stderr.contains("stateInstanceChanged"),
        "known types listed: {}",
        unknown.all()
    );
    let wrong_type = trigger(&sb, &["stateInstanceChanged", "--field", "timestamp=soon"]);
    assert_eq!(wrong_type.code, 2, "{}", wrong_type.all());
    let bad_field = trigger(&sb, &["stateInstanceChanged", "--field", "novalue"]);
    assert_eq!(bad_field.code, 2, "{}", bad_field.all());
    let (id, url) = (DEFAULT_INSTANCE_ID.to_string(), sb.url());
    for args in [
        vec![
            "sandbox",
            "trigger",
            "stateInstanceChanged",
            "--instance",
            "42",
            "--url",
            &url,
        ],
        vec![
            "sandbox",
            "trigger",
            "stateInstanceChanged",
            "--instance",
            "x1",
            "--url",
            &url,
        ],
        vec![
            "sandbox",
            "trigger",
            "stateInstanceChanged",
            "--instance",
            &id,
            "--url",
            "https://api.green-api.com",
        ],
        vec![
            "sandbox",
            "trigger",
            "stateInstanceChanged",
            "--instance",
            &id,
        ],
        vec!["sandbox", "trigger", "--instance", &id, "--url", &url],
        vec![
            "sandbox",
            "--port",
            "0",
            "trigger",
            "stateInstanceChanged",
            "--instance",
            &id,
            "--url",
            &url,
        ],
    ] {
        let run = cli(&args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.all());
    }
    assert_eq!(queued(&sb), 0);
}

#[test]
fn no_sandbox_at_the_url_is_exit_1() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let run = cli(&[
        "sandbox",
        "trigger",
        "incomingCall",
        "--instance",
        "1",
        "--url",
        &url,
    ]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr.contains("cannot reach the sandbox"),
        "{}",
        run.all()
    );
}

#[test]
fn the_url_can_come_from_the_environment() {
    let sb = sandbox();
    let mut c = bin(Color::Never);
    c.env("GREENAPI_SANDBOX_URL", sb.url()).args([
        "sandbox",
        "trigger",
        "incomingCall",
        "--instance",
        &DEFAULT_INSTANCE_ID.to_string(),
    ]);
    let run = run(c);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stdout.starts_with("suppressed:"), "{}", run.all());
}

/// `listen` + `sandbox trigger`: the whole loop on one laptop. The sandbox delivers what the
/// settings enable to `listen`, which checks the bearer token and prints the body.
#[test]
fn listen_gets_what_sandbox_trigger_makes_with_the_right_token() {
    const TOKEN: &str = "loop-secret-token-91c2";
    let mut listen = std_bin()
        .args([
            "--color", "never", "listen", "--port", "0", "--json", "--count", "1",
        ])
        .args(["--token-env", "LOOP_TOKEN"])
        .env("LOOP_TOKEN", TOKEN)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = |r: Box<dyn std::io::Read + Send>| {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(r).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        rx
    };
    let stdout = lines(Box::new(listen.stdout.take().unwrap()));
    let stderr = lines(Box::new(listen.stderr.take().unwrap()));
    let first = stderr.recv_timeout(Duration::from_secs(30)).unwrap();
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_string();

    let sb = sandbox();
    let patch = SettingsPatch::new()
        .webhook_url(url)
        .webhook_url_token(TOKEN)
        .incoming_webhook(true)
        .incoming_call_webhook(true);
    default_client(&sb).set_settings(&patch).unwrap();
    let run = trigger(&sb, &["incomingCall", "--field", "status=pickUp"]);
    assert_eq!(run.code, 0, "{}", run.all());

    let body = stdout.recv_timeout(Duration::from_secs(30)).unwrap();
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["typeWebhook"], "incomingCall");
    assert_eq!(body["status"], "pickUp");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = listen.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "listen did not exit after --count 1"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut log = sb.notifications(DEFAULT_INSTANCE_ID).unwrap();
    while log.delivered.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
        log = sb.notifications(DEFAULT_INSTANCE_ID).unwrap();
    }
    assert_eq!(
        log.delivered.len(),
        1,
        "delivered once, first time: {log:?}"
    );
    assert_eq!(log.delivered[0].attempts, 1);
}
