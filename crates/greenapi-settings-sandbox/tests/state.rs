//! Restarts, delayed application, inspection endpoints, reset and persistence.

mod common;

use std::thread::sleep;
use std::time::Duration;

use common::*;
use greenapi_settings::SettingsPatch;
use greenapi_settings_sandbox::{
    BlockingSandbox, SandboxConfig, DEFAULT_INSTANCE_ID, DEFAULT_TOKEN,
};
use serde_json::json;

const SECRET: &str = "tok-5f2c9e8a7b";

#[test]
fn each_accepted_set_settings_counts_one_restart_and_rejected_ones_none() {
    let sb = BlockingSandbox::start(unlimited()).unwrap();
    assert_eq!(
        set_default(sb.addr(), r#"{"incomingWebhook":"yes"}"#).status,
        200
    );
    assert_eq!(
        set_default(sb.addr(), r#"{"incomingWebhook":"no"}"#).status,
        200
    );
    assert_eq!(
        set_default(sb.addr(), r#"{"delaySendMessagesMilliseconds":1}"#).status,
        400
    );
    assert_eq!(get_default(sb.addr()).status, 200);
    let stats = sb.stats(DEFAULT_INSTANCE_ID).unwrap();
    assert_eq!(stats.restarts, 2);
    assert_eq!(stats.set_settings_calls, 3);
    assert_eq!(stats.get_settings_calls, 1);
    assert_eq!(stats.rejected, 1);
}

#[test]
fn apply_delay_hides_a_change_until_it_elapses() {
    let sb = BlockingSandbox::start(unlimited().apply_delay(Duration::from_millis(1000))).unwrap();
    assert_eq!(
        set_default(sb.addr(), r#"{"delaySendMessagesMilliseconds":15000}"#).status,
        200
    );
    assert_eq!(
        get_default(sb.addr()).json()["delaySendMessagesMilliseconds"],
        0
    );
    let stats = sb.stats(DEFAULT_INSTANCE_ID).unwrap();
    assert_eq!(stats.restarts, 1, "the restart happens at once");
    assert_eq!(
        stats.pending,
        Some(SettingsPatch::new().delay_send_messages_milliseconds(15_000))
    );
    let shown = get(
        sb.addr(),
        &format!("/sandbox/instances/{DEFAULT_INSTANCE_ID}"),
    )
    .json();
    assert_eq!(
        shown["pending"],
        json!({"delaySendMessagesMilliseconds": 15000})
    );
    sleep(Duration::from_millis(1050));
    assert_eq!(
        get_default(sb.addr()).json()["delaySendMessagesMilliseconds"],
        15000
    );
    let stats = sb.stats(DEFAULT_INSTANCE_ID).unwrap();
    assert_eq!(stats.pending, None);
    assert_eq!(stats.settings.delay_send_messages_milliseconds, 15_000);
}

#[test]
fn inspection_lists_instances_with_counters_and_never_a_token() {
    let sb = BlockingSandbox::start(
        unlimited()
            .with_instance(5, SECRET)
            .with_instance(6, "tok-other-77"),
    )
    .unwrap();
    assert_eq!(
        post(
            sb.addr(),
            &set_path(5, SECRET),
            r#"{"webhookUrl":"https://example.com/h","webhookUrlToken":"hook-secret-1"}"#
        )
        .status,
        200
    );
    assert_eq!(get(sb.addr(), &get_path(5, "bad")).status, 401);
    let list = get(sb.addr(), "/sandbox/instances");
    assert_eq!(list.status, 200);
    let text = list.text();
    for secret in [SECRET, "tok-other-77", "hook-secret-1"] {
        assert!(!text.contains(secret), "{text}");
    }
    let list = list.json();
    assert_eq!(list.as_array().unwrap().len(), 2);
    let one = get(sb.addr(), "/sandbox/instances/5").json();
    assert_eq!(one, list[0]);
    assert_eq!(one["idInstance"], 5);
    assert_eq!(one["restarts"], 1);
    assert_eq!(one["setSettingsCalls"], 1);
    assert_eq!(one["getSettingsCalls"], 0);
    assert_eq!(one["unauthorized"], 1);
    assert_eq!(one["rejected"], 0);
    assert_eq!(one["rateLimited"], 0);
    assert_eq!(one["settings"]["webhookUrl"], "https://example.com/h");
    assert_eq!(one["settings"]["webhookUrlToken"], "<redacted>");
    assert_eq!(one["pending"], json!(null));
    assert!(!format!("{:?}", sb.stats(5)).contains("hook-secret-1"));
    assert!(!format!("{sb:?}").contains(SECRET));
    // The API itself still returns the webhook token to its owner, as the real one does.
    assert_eq!(
        get(sb.addr(), &get_path(5, SECRET)).json()["webhookUrlToken"],
        "hook-secret-1"
    );
}

#[test]
fn inspection_of_unknown_instance_is_404_and_wrong_verb_405() {
    let sb = BlockingSandbox::start(unlimited()).unwrap();
    error_message(&get(sb.addr(), "/sandbox/instances/42"), 404, "Not Found");
    error_message(&get(sb.addr(), "/sandbox/instances/abc"), 404, "Not Found");
    error_message(
        &request(sb.addr(), "DELETE", "/sandbox/instances", &[], b""),
        405,
        "Method Not Allowed",
    );
    error_message(&get(sb.addr(), "/sandbox/reset"), 405, "Method Not Allowed");
}

#[test]
fn reset_restores_defaults_and_zero_counters() {
    let sb = BlockingSandbox::start(unlimited()).unwrap();
    assert_eq!(
        set_default(sb.addr(), r#"{"incomingWebhook":"yes"}"#).status,
        200
    );
    assert_eq!(
        get(sb.addr(), &get_path(DEFAULT_INSTANCE_ID, "bad")).status,
        401
    );
    let reply = request(sb.addr(), "POST", "/sandbox/reset", &[], b"");
    assert_eq!((reply.status, reply.json()), (200, json!({"reset": true})));
    let stats = sb.stats(DEFAULT_INSTANCE_ID).unwrap();
    assert_eq!(
        (stats.restarts, stats.set_settings_calls, stats.unauthorized),
        (0, 0, 0)
    );
    assert!(!stats.settings.incoming_webhook);
    assert_eq!(
        set_default(sb.addr(), r#"{"incomingWebhook":"yes"}"#).status,
        200
    );
    sb.reset().unwrap();
    assert_eq!(get_default(sb.addr()).json()["incomingWebhook"], "no");
}

#[test]
fn persisted_settings_survive_a_restart_of_the_server() {
    let dir = temp_dir("survive");
    let file = dir.join("state.json");
    let config = unlimited().with_instance(5, SECRET).state_file(&file);
    let sb = BlockingSandbox::start(config.clone()).unwrap();
    assert_eq!(
        post(
            sb.addr(),
            &set_path(5, SECRET),
            r#"{"delaySendMessagesMilliseconds":15000,"incomingWebhook":"yes"}"#
        )
        .status,
        200
    );
    assert_eq!(
        post(
            sb.addr(),
            &set_path(5, SECRET),
            r#"{"outgoingWebhook":"yes"}"#
        )
        .status,
        200
    );
    sb.shutdown().unwrap();

    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(!saved.contains(SECRET), "{saved}");
    let sb = BlockingSandbox::start(config).unwrap();
    let body = get(sb.addr(), &get_path(5, SECRET)).json();
    assert_eq!(body["delaySendMessagesMilliseconds"], 15000);
    assert_eq!(body["incomingWebhook"], "yes");
    assert_eq!(body["outgoingWebhook"], "yes");
    assert_eq!(sb.stats(5).unwrap().restarts, 2);
    drop(sb);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn state_file_is_written_before_the_answer_and_includes_pending_changes() {
    let dir = temp_dir("before-answer");
    let file = dir.join("state.json");
    let sb = BlockingSandbox::start(
        unlimited()
            .apply_delay(Duration::from_secs(60))
            .state_file(&file),
    )
    .unwrap();
    assert!(!file.exists(), "nothing written before the first change");
    assert_eq!(
        set_default(sb.addr(), r#"{"keepOnlineStatus":"yes"}"#).status,
        200
    );
    // No waiting: the file is complete as soon as the 200 has arrived.
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(saved["instances"][0]["idInstance"], DEFAULT_INSTANCE_ID);
    assert_eq!(saved["instances"][0]["settings"]["keepOnlineStatus"], "yes");
    assert!(!saved.to_string().contains(DEFAULT_TOKEN), "{saved}");
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, ["state.json"], "no temporary files left");
    drop(sb);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn reset_is_persisted_too() {
    let dir = temp_dir("reset");
    let file = dir.join("state.json");
    let config = unlimited().state_file(&file);
    let sb = BlockingSandbox::start(config.clone()).unwrap();
    assert_eq!(
        set_default(sb.addr(), r#"{"incomingWebhook":"yes"}"#).status,
        200
    );
    sb.reset().unwrap();
    sb.shutdown().unwrap();
    let sb = BlockingSandbox::start(config).unwrap();
    assert_eq!(sb.stats(DEFAULT_INSTANCE_ID).unwrap().restarts, 0);
    assert!(
        !sb.stats(DEFAULT_INSTANCE_ID)
            .unwrap()
            .settings
            .incoming_webhook
    );
    drop(sb);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_corrupt_state_file_stops_the_start_with_an_error_naming_it() {
    let dir = temp_dir("corrupt");
    let file = dir.join("state.json");
    std::fs::write(&file, "{ torn").unwrap();
    let err = BlockingSandbox::start(unlimited().state_file(&file)).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    assert!(err.to_string().contains("state.json"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_state_file_that_is_a_directory_is_refused_at_start() {
    let dir = temp_dir("is-dir");
    let file = dir.join("state.json");
    std::fs::create_dir_all(&file).unwrap();
    assert!(BlockingSandbox::start(unlimited().state_file(&file)).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_unwritable_state_file_fails_the_call_with_500_and_undoes_the_change() {
    let dir = temp_dir("unwritable");
    let sub = dir.join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    let sb = BlockingSandbox::start(unlimited().state_file(sub.join("state.json"))).unwrap();
    // The directory goes away after start: the temporary file cannot be created.
    std::fs::remove_dir_all(&sub).unwrap();
    let reply = set_default(sb.addr(), r#"{"incomingWebhook":"yes"}"#);
    let message = error_message(&reply, 500, "Internal Server Error");
    assert!(message.contains("not saved"), "{message}");
    let stats = sb.stats(DEFAULT_INSTANCE_ID).unwrap();
    assert_eq!((stats.restarts, stats.rejected), (0, 1));
    assert!(!stats.settings.incoming_webhook);
    assert_eq!(get_default(sb.addr()).json()["incomingWebhook"], "no");
    drop(sb);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_port_in_use_is_an_error_not_a_panic() {
    let sb = BlockingSandbox::start(unlimited()).unwrap();
    let err = BlockingSandbox::start(unlimited().port(sb.addr().port())).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
}

#[test]
fn default_config_serves_one_instance_on_loopback() {
    let sb = BlockingSandbox::start(SandboxConfig::default()).unwrap();
    assert!(sb.addr().ip().is_loopback());
    assert_eq!(sb.url(), format!("http://127.0.0.1:{}", sb.addr().port()));
    assert_eq!(sb.instance_ids(), [DEFAULT_INSTANCE_ID]);
}
