//! CPU cost of the typed layer, without any I/O: what a caller pays on top of the HTTP round
//! trip. Run with `cargo bench -p greenapi-settings --bench settings` (or `scripts/bench`,
//! which prints these next to the loopback numbers); results and machine in BENCHMARKS.md.

// `criterion_group!` defines an undocumented `pub fn`.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use greenapi_settings::{Settings, SettingsPatch, FIELDS};

/// Every writable setting (24 in spec v2) set to a valid value.
#[allow(deprecated)] // the unused settings are part of "every field"
fn full_patch() -> SettingsPatch {
    SettingsPatch::new()
        .webhook_url("https://mysite.com/webhook/green-api/")
        .webhook_url_token("hook-secret")
        .delay_send_messages_milliseconds(5_000)
        .mark_incoming_messages_readed(false)
        .mark_incoming_messages_readed_on_reply(true)
        .shared_session(false)
        .country_instance("ru")
        .outgoing_webhook(true)
        .outgoing_message_webhook(true)
        .outgoing_api_message_webhook(true)
        .state_webhook(true)
        .incoming_webhook(true)
        .device_webhook(false)
        .status_instance_webhook(false)
        .enable_messages_history(false)
        .keep_online_status(false)
        .poll_message_webhook(true)
        .incoming_block_webhook(true)
        .incoming_call_webhook(true)
        .edited_message_webhook(false)
        .deleted_message_webhook(false)
        .auto_typing(2)
        .link_preview(true)
        .enable_lid_mode(false)
}

/// A getSettings body as the API sends it: every setting plus the read-only account fields
/// and one field this version does not know (kept in `extra`).
fn get_settings_body() -> String {
    let mut settings = Settings::default();
    full_patch().apply_to(&mut settings);
    settings.wid = Some("79001234567@c.us".into());
    settings.type_account = Some("trial".into());
    let mut value = settings.to_json_value();
    value["someFutureSetting"] = "yes".into();
    serde_json::to_string_pretty(&value).expect("serialises")
}

fn benches(c: &mut Criterion) {
    assert_eq!(
        full_patch().len(),
        FIELDS.len(),
        "the patch must set every field"
    );
    assert!(full_patch().validate().is_ok());

    let mut patch_group = c.benchmark_group("patch");
    patch_group.bench_function("full_build_validate_serialise", |b| {
        b.iter(|| {
            let patch = full_patch();
            let report = patch.validate();
            assert!(report.is_ok());
            black_box(serde_json::to_vec(&patch).expect("serialises"))
        })
    });

    let body = get_settings_body();
    let current = Settings::from_json_value(&serde_json::from_str(&body).expect("JSON"))
        .expect("valid settings");
    let desired = SettingsPatch::new()
        .incoming_webhook(true)
        .poll_message_webhook(true)
        .outgoing_webhook(true)
        .outgoing_message_webhook(false)
        .mark_incoming_messages_readed(true)
        .delay_send_messages_milliseconds(15_000);
    patch_group.bench_function("validate_against", |b| {
        b.iter(|| black_box(black_box(&desired).validate_against(black_box(&current))))
    });
    patch_group.finish();

    let mut settings_group = c.benchmark_group("settings");
    settings_group.bench_function("parse_get_settings_body", |b| {
        b.iter(|| {
            let value: serde_json::Value = serde_json::from_str(black_box(&body)).expect("JSON");
            black_box(Settings::from_json_value(&value).expect("valid settings"))
        })
    });
    // What the client does with a plain answer: one pass, no `Value`.
    settings_group.bench_function("read_plain_get_settings_body", |b| {
        b.iter(|| black_box(Settings::from_plain_json(black_box(body.as_bytes())).expect("plain")))
    });
    // What the sandbox answers (when the settings changed since its last answer).
    settings_group.bench_function("serialise", |b| {
        b.iter(|| black_box(serde_json::to_vec(black_box(&current)).expect("serialises")))
    });
    settings_group.bench_function("serialise_via_value", |b| {
        b.iter(|| {
            black_box(serde_json::to_vec(&black_box(&current).to_json_value()).expect("JSON"))
        })
    });

    settings_group.finish();
}

criterion_group!(settings, benches);
criterion_main!(settings);
