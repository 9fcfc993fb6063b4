//! Spec v2 through the command line: the new settings' flags send exactly their wire form,
//! the new limits and rules are reported together, and `spec-check` tells a server that
//! matches the spec from one that does not.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use assert_cmd::Command;
use greenapi_settings_sandbox::{
    BlockingSandbox, SandboxConfig, DEFAULT_INSTANCE_ID, DEFAULT_TOKEN,
};

fn bin() -> Command {
    let mut c = Command::cargo_bin("greenapi-settings").unwrap();
    for v in [
        "GREEN_API_URL",
        "GREEN_API_ID_INSTANCE",
        "GREEN_API_TOKEN",
        "XDG_CONFIG_HOME",
    ] {
        c.env_remove(v);
    }
    c.env("GREENAPI_SETTINGS_PROFILES", "/nonexistent/profiles.toml")
        .timeout(Duration::from_secs(60));
    c
}

fn run(c: &mut Command) -> (i32, String, String) {
    let out = c.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A server that answers `{"saveSettings": true}` and records each request body.
fn recording_server() -> (String, Arc<Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let log = bodies.clone();
    std::thread::spawn(move || {
        for s in l.incoming().take(4) {
            let Ok(mut s) = s else { continue };
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let mut data = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    if data.len() >= end + 4 + len {
                        log.lock().unwrap().push(
                            String::from_utf8_lossy(&data[end + 4..end + 4 + len]).into_owned(),
                        );
                        break;
                    }
                }
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => data.extend_from_slice(&buf[..n]),
                }
            }
            let body = br#"{"saveSettings":true}"#;
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(body);
        }
    });
    (url, bodies)
}

#[test]
fn the_new_settings_flags_send_exactly_their_wire_form() {
    for (args, wire) in [
        (
            ["--edited-message-webhook", "yes"],
            r#"{"editedMessageWebhook":"yes"}"#,
        ),
        (["--auto-typing", "2"], r#"{"autoTyping":2}"#),
        (["--link-preview", "no"], r#"{"linkPreview":"no"}"#),
    ] {
        let (url, bodies) = recording_server();
        let (code, out, err) = run(bin()
            .args([
                "--color",
                "never",
                "--api-url",
                &url,
                "--id-instance",
                "7",
                "set",
            ])
            .args(args)
            .env("GREEN_API_TOKEN", "tok-abc-123"));
        assert_eq!(code, 0, "{args:?}: {out}{err}");
        assert_eq!(*bodies.lock().unwrap(), [wire.to_string()], "{args:?}");
    }
}

#[test]
fn v2_limits_and_rules_are_reported_together() {
    let dir = std::env::temp_dir().join(format!("gas-spec-v2-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "autoTyping = 5\ndelaySendMessagesMilliseconds = 700000\n",
    )
    .unwrap();
    let (code, out, err) = run(bin().args(["--color", "never", "validate", bad.to_str().unwrap()]));
    assert_eq!(code, 2, "{out}{err}");
    let all = format!("{out}{err}");
    assert!(all.contains("autoTyping: 5 is out of range"), "{all}");
    assert!(
        all.contains("delaySendMessagesMilliseconds: 700000 is out of range"),
        "{all}"
    );
    let warn = dir.join("warn.toml");
    std::fs::write(
        &warn,
        "delaySendMessagesMilliseconds = 400000\nmarkIncomingMessagesReaded = \"yes\"\nmarkIncomingMessagesReadedOnReply = \"yes\"\n",
    )
    .unwrap();
    let (code, out, err) =
        run(bin().args(["--color", "never", "validate", warn.to_str().unwrap()]));
    assert_eq!(code, 0, "{out}{err}");
    let all = format!("{out}{err}");
    assert!(
        all.contains("above the recommended maximum of 300000 ms"),
        "{all}"
    );
    assert!(all.contains("use one setting"), "{all}");
}

#[test]
fn spec_check_passes_on_the_sandbox_and_names_what_differs_in_a_saved_body() {
    let sb = BlockingSandbox::start(SandboxConfig::default().rate_limit(None)).unwrap();
    let (code, out, err) = run(bin()
        .args(["--color", "never", "--api-url", &sb.url(), "--id-instance"])
        .arg(DEFAULT_INSTANCE_ID.to_string())
        .arg("spec-check")
        .env("GREEN_API_TOKEN", DEFAULT_TOKEN));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("match the spec"), "{out}");

    let dir = std::env::temp_dir().join(format!("gas-spec-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let body = dir.join("body.json");
    // A seed-era server: no incomingCallWebhook (gone), a field the spec lacks (new), none of
    // the settings newer servers add (a note, not a failure).
    std::fs::write(
        &body,
        r#"{"wid":"1@c.us","webhookUrl":"","webhookUrlToken":"","delaySendMessagesMilliseconds":0,
            "markIncomingMessagesReaded":"no","markIncomingMessagesReadedOnReply":"no",
            "sharedSession":"no","countryInstance":"","outgoingWebhook":"no",
            "outgoingMessageWebhook":"no","outgoingAPIMessageWebhook":"no","stateWebhook":"no",
            "incomingWebhook":"no","deviceWebhook":"no","statusInstanceWebhook":"no",
            "enableMessagesHistory":"no","keepOnlineStatus":"no","pollMessageWebhook":"no",
            "incomingBlockWebhook":"no","statusesWebhook":"yes"}"#,
    )
    .unwrap();
    let (code, out, err) = run(bin().args([
        "--color",
        "never",
        "spec-check",
        "--body",
        body.to_str().unwrap(),
    ]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("spec lacks (1): \"statusesWebhook\""), "{out}");
    assert!(
        out.contains("does not return (1): incomingCallWebhook"),
        "{out}"
    );
    assert!(out.contains("only newer servers return"), "{out}");
    assert!(out.contains("autoTyping"), "{out}");
}
