//! The HTTP contract of the two API methods: paths, status codes and their order, bodies.

mod common;

use common::*;
use greenapi_settings::{facts, Settings};
use greenapi_settings_sandbox::{
    BlockingSandbox, SandboxConfig, DEFAULT_INSTANCE_ID, DEFAULT_TOKEN,
};
use serde_json::json;

fn start() -> BlockingSandbox {
    BlockingSandbox::start(unlimited()).unwrap()
}

#[test]
fn fresh_instance_reports_all_settings_off_with_read_only_fields() {
    let sb = start();
    let reply = get_default(sb.addr());
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(reply
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    let body = reply.json();
    let settings = Settings::from_json_value(&body).unwrap();
    let mut expected = Settings::default();
    expected.wid = Some(format!("7{DEFAULT_INSTANCE_ID:010}@c.us"));
    expected.type_account = Some("sandbox".into());
    assert_eq!(settings, expected);
    assert_eq!(body["delaySendMessagesMilliseconds"], 0);
    assert_eq!(body["incomingWebhook"], "no");
    assert_eq!(body["wid"], "71101000001@c.us");
}

#[test]
fn set_then_get_round_trips_the_settings() {
    let sb = start();
    let reply = set_default(
        sb.addr(),
        r#"{"webhookUrl":"https://example.com/hook","incomingWebhook":"yes","delaySendMessagesMilliseconds":15000}"#,
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json(), json!({"saveSettings": true}));
    let body = get_default(sb.addr()).json();
    assert_eq!(body["webhookUrl"], "https://example.com/hook");
    assert_eq!(body["incomingWebhook"], "yes");
    assert_eq!(body["delaySendMessagesMilliseconds"], 15000);
}

#[test]
fn a_partial_patch_merges_into_earlier_settings() {
    let sb = start();
    assert_eq!(
        set_default(
            sb.addr(),
            r#"{"incomingWebhook":"yes","outgoingWebhook":"yes"}"#
        )
        .status,
        200
    );
    assert_eq!(
        set_default(
            sb.addr(),
            r#"{"outgoingWebhook":"no","delaySendMessagesMilliseconds":1000}"#
        )
        .status,
        200
    );
    let body = get_default(sb.addr()).json();
    assert_eq!(body["incomingWebhook"], "yes", "untouched field kept");
    assert_eq!(body["outgoingWebhook"], "no", "touched field replaced");
    assert_eq!(body["delaySendMessagesMilliseconds"], 1000);
}

#[test]
fn the_seed_example_body_gets_the_seed_example_response() {
    let sb = start();
    let reply = set_default(sb.addr(), facts::SET_SETTINGS_EXAMPLE_BODY);
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.text(), facts::SET_SETTINGS_EXAMPLE_RESPONSE);
    let body = get_default(sb.addr()).json();
    assert_eq!(body["webhookUrl"], "https://mysite.com/webhook/green-api/");
    assert_eq!(body["delaySendMessagesMilliseconds"], 5000);
}

#[test]
fn method_names_are_case_insensitive() {
    let sb = start();
    let id = DEFAULT_INSTANCE_ID;
    for name in ["getSettings", "GETSETTINGS", "getsettings", "GetSettings"] {
        let reply = get(
            sb.addr(),
            &format!("/waInstance{id}/{name}/{DEFAULT_TOKEN}"),
        );
        assert_eq!(reply.status, 200, "{name}: {}", reply.text());
    }
    for name in ["setSettings", "SETSETTINGS", "setsettings"] {
        let reply = post(
            sb.addr(),
            &format!("/waInstance{id}/{name}/{DEFAULT_TOKEN}"),
            r#"{"keepOnlineStatus":"yes"}"#,
        );
        assert_eq!(reply.status, 200, "{name}: {}", reply.text());
    }
}

#[test]
fn unknown_method_and_wrong_verb_are_404_before_any_credential_check() {
    let sb = start();
    let id = DEFAULT_INSTANCE_ID;
    // Wrong token and unknown instance too: 404 wins because it is checked first.
    for (verb, path) in [
        (
            "GET",
            format!("/waInstance{id}/getStateInstance/{DEFAULT_TOKEN}"),
        ),
        ("GET", "/waInstance999/sendMessage/wrong".to_string()),
        ("POST", get_path(id, DEFAULT_TOKEN)),
        ("GET", set_path(id, DEFAULT_TOKEN)),
        ("PUT", set_path(id, DEFAULT_TOKEN)),
        ("DELETE", get_path(999, "wrong")),
        ("GET", "/".to_string()),
        ("GET", format!("/waInstance{id}/getSettings")),
        (
            "GET",
            format!("/waInstance{id}/getSettings/{DEFAULT_TOKEN}/extra"),
        ),
    ] {
        let reply = request(sb.addr(), verb, &path, &[], b"");
        error_message(&reply, 404, "Not Found");
    }
}

#[test]
fn unknown_instance_or_malformed_instance_segment_is_403() {
    let sb = start();
    for path in [
        get_path(1, DEFAULT_TOKEN),
        format!("/wainstance{DEFAULT_INSTANCE_ID}/getSettings/{DEFAULT_TOKEN}"),
        format!("/{DEFAULT_INSTANCE_ID}/getSettings/{DEFAULT_TOKEN}"),
        format!("/waInstance/getSettings/{DEFAULT_TOKEN}"),
        format!("/waInstance-1/getSettings/{DEFAULT_TOKEN}"),
        format!("/waInstance99999999999999999999999/getSettings/{DEFAULT_TOKEN}"),
    ] {
        error_message(&get(sb.addr(), &path), 403, "Forbidden");
    }
}

#[test]
fn wrong_token_is_401_and_counted() {
    let sb = start();
    for token in [
        "bad-tok-123",
        "sandbox-toke",
        "sandbox-token-",
        "SANDBOX-TOKEN",
    ] {
        let message = error_message(
            &get(sb.addr(), &get_path(DEFAULT_INSTANCE_ID, token)),
            401,
            "Unauthorized",
        );
        assert!(!message.contains(token), "{message}");
    }
    assert_eq!(sb.stats(DEFAULT_INSTANCE_ID).unwrap().unauthorized, 4);
}

#[test]
fn a_percent_encoded_token_is_decoded_before_comparison() {
    let sb = start();
    let reply = get(sb.addr(), &get_path(DEFAULT_INSTANCE_ID, "sandbox%2Dtoken"));
    assert_eq!(reply.status, 200, "{}", reply.text());
}

#[test]
fn malformed_json_is_400() {
    let sb = start();
    for body in ["{", "not json", "{\"a\":}", ""] {
        let message = error_message(&set_default(sb.addr(), body), 400, "Bad Request");
        assert!(message.starts_with("malformed JSON"), "{message}");
    }
    let reply = request(
        sb.addr(),
        "POST",
        &set_path(DEFAULT_INSTANCE_ID, DEFAULT_TOKEN),
        &[("Content-Type", "application/json")],
        &[0xff, 0xfe, b'{'],
    );
    error_message(&reply, 400, "Bad Request");
}

#[test]
fn validation_400_names_delay_and_webhook_url_together() {
    let sb = start();
    let reply = set_default(
        sb.addr(),
        r#"{"delaySendMessagesMilliseconds":100,"webhookUrl":"ftp://x"}"#,
    );
    let message = error_message(&reply, 400, "Bad Request");
    assert!(
        message.contains("delaySendMessagesMilliseconds"),
        "{message}"
    );
    assert!(message.contains("webhookUrl"), "{message}");
    let body = reply.json();
    let violations = body["violations"].as_array().unwrap();
    let mut fields: Vec<&str> = violations
        .iter()
        .map(|v| v["field"].as_str().unwrap())
        .collect();
    fields.sort();
    assert_eq!(fields, ["delaySendMessagesMilliseconds", "webhookUrl"]);
    for v in violations {
        assert!(v["rule"].is_string() && v["message"].is_string(), "{v}");
    }
    let delay = violations
        .iter()
        .find(|v| v["field"] == "delaySendMessagesMilliseconds")
        .unwrap();
    assert_eq!(
        (delay["value"].clone(), delay["rule"].clone()),
        (json!(100), json!("range"))
    );
    // The message is the violations' Display strings joined with "; ".
    let joined: Vec<String> = violations
        .iter()
        .map(|v| {
            format!(
                "{}: {} [{}]",
                v["field"].as_str().unwrap(),
                v["message"].as_str().unwrap(),
                v["rule"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(message, joined.join("; "));
    // Nothing was applied.
    assert_eq!(get_default(sb.addr()).json()["webhookUrl"], "");
}

#[test]
fn empty_patch_is_400_at_least_one_parameter() {
    let sb = start();
    let reply = set_default(sb.addr(), "{}");
    error_message(&reply, 400, "Bad Request");
    assert_eq!(reply.json()["violations"][0]["rule"], "atLeastOneParameter");
}

#[test]
fn unknown_fields_wrong_types_and_non_objects_are_400_with_violations() {
    let sb = start();
    let reply = set_default(
        sb.addr(),
        r#"{"incomingWebhok":"yes","outgoingWebhook":true,"stateWebhook":"maybe"}"#,
    );
    error_message(&reply, 400, "Bad Request");
    let fields: Vec<String> = reply.json()["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["field"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(fields, ["incomingWebhok", "stateWebhook"]);
    let reply = set_default(sb.addr(), r#"["incomingWebhook"]"#);
    error_message(&reply, 400, "Bad Request");
    assert_eq!(reply.json()["violations"][0]["rule"], "object");
    let reply = set_default(sb.addr(), r#"{"wid":"1@c.us"}"#);
    error_message(&reply, 400, "Bad Request");
}

#[test]
fn a_secret_webhook_token_is_never_echoed_in_errors() {
    let sb = start();
    let reply = set_default(
        sb.addr(),
        "{\"webhookUrlToken\":\"hunter2\\r\\nX: y\",\"webhookUrl\":\"ftp://x\"}",
    );
    error_message(&reply, 400, "Bad Request");
    assert!(!reply.text().contains("hunter2"), "{}", reply.text());
}

#[test]
fn body_over_the_limit_is_413_by_content_length_and_by_streamed_size() {
    let sb = BlockingSandbox::start(unlimited().body_limit(1024)).unwrap();
    let path = set_path(DEFAULT_INSTANCE_ID, DEFAULT_TOKEN);
    let big = format!(
        r#"{{"webhookUrl":"https://example.com/{}"}}"#,
        "a".repeat(2000)
    );
    error_message(&post(sb.addr(), &path, &big), 413, "Payload Too Large");
    // Chunked: no Content-Length, the size is only known while reading.
    let chunk = "b".repeat(1500);
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len()
    );
    error_message(
        &raw(sb.addr(), request.as_bytes()),
        413,
        "Payload Too Large",
    );
    // At the limit is fine (the default limit is 64 KiB; this one is 1 KiB).
    let ok = format!(
        r#"{{"webhookUrl":"https://example.com/{}"}}"#,
        "a".repeat(900)
    );
    assert_eq!(post(sb.addr(), &path, &ok).status, 200);
}

#[test]
fn default_body_limit_is_64_kib() {
    let sb = start();
    let big = format!(
        r#"{{"webhookUrl":"https://example.com/{}"}}"#,
        "a".repeat(70 * 1024)
    );
    error_message(&set_default(sb.addr(), &big), 413, "Payload Too Large");
}

#[test]
fn malformed_requests_never_break_the_server() {
    let sb = start();
    let nasty = [
        "/waInstance%FF/getSettings/%FF",
        "/%00/%00/%00",
        "/waInstance1101000001/%67etSettings/sandbox-token",
        "/waInstance1101000001/getSettings/%",
        "/sandbox/instances/%FF",
        "/sandbox/instances/-1",
        "/sandbox/instances/99999999999999999999999",
        "//////",
        "/waInstance1101000001/getSettings/sandbox-token?x=%FF",
    ];
    for path in nasty {
        let reply = get(sb.addr(), path);
        assert!(
            reply.status >= 200 && reply.status < 500,
            "{path}: {}",
            reply.status
        );
        let _ = reply.json();
    }
    // Garbage that is not HTTP at all, and a truncated request.
    let _ = std::net::TcpStream::connect(sb.addr())
        .and_then(|mut s| std::io::Write::write_all(&mut s, b"\x00\xff garbage\r\n\r\n"));
    let _ = std::net::TcpStream::connect(sb.addr()).and_then(|mut s| std::io::Write::write_all(&mut s, b"POST /waInstance1101000001/setSettings/sandbox-token HTTP/1.1\r\nContent-Length: 50\r\n\r\n{\"a"));
    assert_eq!(get_default(sb.addr()).status, 200, "still serving");
}

#[test]
fn instances_are_independent_and_each_has_its_own_token() {
    let sb = BlockingSandbox::start(
        unlimited()
            .with_instance(11, "token-aaa")
            .with_instance(22, "token-bbb"),
    )
    .unwrap();
    assert_eq!(sb.instance_ids(), [11, 22]);
    error_message(
        &get(sb.addr(), &get_path(11, "token-bbb")),
        401,
        "Unauthorized",
    );
    assert_eq!(
        post(
            sb.addr(),
            &set_path(11, "token-aaa"),
            r#"{"incomingWebhook":"yes"}"#
        )
        .status,
        200
    );
    assert_eq!(
        get(sb.addr(), &get_path(11, "token-aaa")).json()["incomingWebhook"],
        "yes"
    );
    assert_eq!(
        get(sb.addr(), &get_path(22, "token-bbb")).json()["incomingWebhook"],
        "no"
    );
    error_message(&get_default(sb.addr()), 403, "Forbidden");
}

#[test]
fn error_bodies_all_have_code_description_and_message() {
    let sb = BlockingSandbox::start(SandboxConfig::default()).unwrap();
    let cases = [
        (get(sb.addr(), "/waInstance1/nothing/x"), 404, "Not Found"),
        (get(sb.addr(), &get_path(1, "x")), 403, "Forbidden"),
        (
            get(sb.addr(), &get_path(DEFAULT_INSTANCE_ID, "x")),
            401,
            "Unauthorized",
        ),
        (set_default(sb.addr(), "{"), 400, "Bad Request"),
        (set_default(sb.addr(), "{}"), 429, "Too Many Requests"),
    ];
    for (reply, status, description) in cases {
        let message = error_message(&reply, status, description);
        assert!(!message.is_empty());
    }
}

/// API answers are made without axum's router (the hot path); they carry what the router
/// added to them: a `Content-Length`, and no body for `HEAD`. So do the guard's refusals.
#[test]
fn answers_carry_a_content_length_and_head_gets_no_body() {
    let sb = start();
    let reply = get_default(sb.addr());
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let length: usize = reply.header("content-length").unwrap().parse().unwrap();
    assert_eq!(length, reply.body.len());
    let saved = set_default(sb.addr(), r#"{"incomingWebhook":"yes"}"#);
    assert_eq!(saved.text(), facts::SET_SETTINGS_EXAMPLE_RESPONSE);
    assert_eq!(saved.header("content-length"), Some("21"));
    let get = get_path(DEFAULT_INSTANCE_ID, DEFAULT_TOKEN);
    for (head, status) in [
        (format!("HEAD {get} HTTP/1.1\r\nHost: 127.0.0.1\r\n"), 404),
        (
            format!("HEAD {get} HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://evil.example\r\n"),
            403,
        ),
        (
            "HEAD /sandbox/instances HTTP/1.1\r\nHost: 127.0.0.1\r\n".to_string(),
            200,
        ),
    ] {
        let reply = raw(
            sb.addr(),
            format!("{head}Connection: close\r\n\r\n").as_bytes(),
        );
        assert_eq!(reply.status, status, "{head}");
        assert!(reply.body.is_empty(), "{head}: {}", reply.text());
        assert!(
            reply
                .header("content-length")
                .unwrap()
                .parse::<usize>()
                .unwrap()
                > 0
        );
    }
}
