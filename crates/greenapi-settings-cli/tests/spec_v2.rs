//! Spec v2 through the command line: the new settings' flags send exactly their wire form,
//! the new limits and rules are reported together, and `spec-check` tells a server that
//! matches the spec from one that does not.

mod common;

use std::sync::{Arc, Mutex};

use common::{against, bin, http, run, server, single, tmp, Color, Request, Run};

/// A server that answers `{"saveSettings": true}` and records each request.
fn recording_server() -> (String, Arc<Mutex<Vec<Request>>>) {
    server(4, |_| http("200 OK", "", r#"{"saveSettings":true}"#))
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
        let Run {
            code,
            stdout: out,
            stderr: err,
        } = run(bin(Color::Never)
            .arg("set")
            .args(args)
            .env("GREEN_API_URL", &url)
            .env("GREEN_API_ID_INSTANCE", "7")
            .env("GREEN_API_TOKEN", "tok-abc-123"));
        assert_eq!(code, 0, "{args:?}: {out}{err}");
        let bodies: Vec<String> = bodies
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.body.clone())
            .collect();
        assert_eq!(bodies, [wire.to_string()], "{args:?}");
    }
}

#[test]
fn v2_limits_and_rules_are_reported_together() {
    let bad = tmp(
        "bad.toml",
        "autoTyping = 5\ndelaySendMessagesMilliseconds = 700000\n",
    );
    let Run {
        code,
        stdout: out,
        stderr: err,
    } = run(bin(Color::Never).args(["validate", bad.to_str().unwrap()]));
    assert_eq!(code, 2, "{out}{err}");
    let all = format!("{out}{err}");
    assert!(all.contains("autoTyping: 5 is out of range"), "{all}");
    assert!(
        all.contains("delaySendMessagesMilliseconds: 700000 is out of range"),
        "{all}"
    );
    let warn = tmp(
        "warn.toml",
        "delaySendMessagesMilliseconds = 400000\nmarkIncomingMessagesReaded = \"yes\"\nmarkIncomingMessagesReadedOnReply = \"yes\"\n",
    );
    let Run {
        code,
        stdout: out,
        stderr: err,
    } = run(bin(Color::Never).args(["validate", warn.to_str().unwrap()]));
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
    let sb = single();
    let Run {
        code,
        stdout: out,
        stderr: err,
    } = against(&sb, &["spec-check"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("match the spec"), "{out}");

    // A seed-era server: no incomingCallWebhook (gone), a field the spec lacks (new), none of
    // the settings newer servers add (a note, not a failure).
    let body = tmp(
        "body.json",
        r#"{"wid":"1@c.us","webhookUrl":"","webhookUrlToken":"","delaySendMessagesMilliseconds":0,
            "markIncomingMessagesReaded":"no","markIncomingMessagesReadedOnReply":"no",
            "sharedSession":"no","countryInstance":"","outgoingWebhook":"no",
            "outgoingMessageWebhook":"no","outgoingAPIMessageWebhook":"no","stateWebhook":"no",
            "incomingWebhook":"no","deviceWebhook":"no","statusInstanceWebhook":"no",
            "enableMessagesHistory":"no","keepOnlineStatus":"no","pollMessageWebhook":"no",
            "incomingBlockWebhook":"no","statusesWebhook":"yes"}"#,
    );
    let Run {
        code,
        stdout: out,
        stderr: err,
    } = run(bin(Color::Never).args(["spec-check", "--body", body.to_str().unwrap()]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("spec lacks (1): \"statusesWebhook\""), "{out}");
    assert!(
        out.contains("does not return (1): incomingCallWebhook"),
        "{out}"
    );
    assert!(out.contains("only newer servers return"), "{out}");
    assert!(out.contains("autoTyping"), "{out}");
}
