//! A patch is validated once and each warning reaches the caller once, on one channel:
//! `set_settings` logs its warnings (tracing), while `check` + `send_checked` leaves the
//! reporting to the front end (Python `warnings`, CLI output) and logs nothing.

mod common;

use std::sync::{Arc, Mutex};

use common::Capture;
use greenapi_settings::SettingsPatch;
use greenapi_settings_sandbox::{BlockingSandbox, SandboxConfig, DEFAULT_INSTANCE_ID};

#[test]
fn set_settings_logs_each_warning_once_and_send_checked_logs_none() {
    let sb = BlockingSandbox::start(SandboxConfig::default().rate_limit(None)).unwrap();
    let client =
        greenapi_settings::blocking::Client::from_builder(common::default_builder(&sb.url()))
            .unwrap();
    // deviceWebhook is temporarily broken: one warning.
    let patch = SettingsPatch::new().device_webhook(true);

    let logged = Arc::new(Mutex::new(Vec::new()));
    tracing::subscriber::with_default(Capture::level(tracing::Level::WARN, logged.clone()), || {
        assert!(client.set_settings(&patch).unwrap().save_settings);
    });
    let events = logged.lock().unwrap().clone();
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(events[0].contains("deviceWebhook"), "{events:?}");

    let logged = Arc::new(Mutex::new(Vec::new()));
    let checked = patch.check().unwrap();
    assert_eq!(checked.warnings().len(), 1);
    tracing::subscriber::with_default(Capture::level(tracing::Level::WARN, logged.clone()), || {
        assert!(client.send_checked(&checked).unwrap().save_settings);
    });
    assert!(
        logged.lock().unwrap().is_empty(),
        "{:?}",
        logged.lock().unwrap()
    );
    assert_eq!(sb.stats(DEFAULT_INSTANCE_ID).unwrap().set_settings_calls, 2);
}
