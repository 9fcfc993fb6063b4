//! The golden expansion (what `settings_api!` generates from the project spec, checked to be
//! current by the codegen crate's `golden` test) compiles on its own with every warning denied.
#![deny(warnings)]
// A test binary counts unused `pub` items as dead code; the library build has none.
#![allow(dead_code)]

mod generated {
    include!("golden/settings.rs");
}

mod generated_notifications {
    include!("golden/notifications.rs");
}

#[test]
fn golden_notifications_expansion_compiles_warning_free_and_is_the_macro_output() {
    assert_eq!(
        generated_notifications::NOTIFICATIONS,
        greenapi_settings::NOTIFICATIONS
    );
    assert_eq!(
        generated_notifications::DELIVERY,
        greenapi_settings::DELIVERY
    );
    for kind in greenapi_settings::NOTIFICATIONS {
        let body = generated_notifications::types::Notification::from_json(kind.skeleton).unwrap();
        assert_eq!(body.type_webhook(), kind.type_webhook);
    }
}

#[test]
fn golden_expansion_compiles_warning_free_and_behaves_like_the_macro_output() {
    let patch = generated::SettingsPatch::new()
        .delay_send_messages_milliseconds(100)
        .webhook_url("ftp://x");
    let report = patch.validate();
    assert_eq!(report.errors.len(), 2);
    let via_macro = greenapi_settings::SettingsPatch::new()
        .delay_send_messages_milliseconds(100)
        .webhook_url("ftp://x")
        .validate();
    assert_eq!(report, via_macro);
    assert_eq!(generated::FIELDS, greenapi_settings::FIELDS);
    assert_eq!(generated::RULES, greenapi_settings::RULES);
    let s = generated::Settings::default();
    assert_eq!(
        s.to_json_value(),
        greenapi_settings::Settings::default().to_json_value()
    );
    let _ = (
        generated::READ_ONLY_FIELDS,
        generated::facts::SET_SETTINGS_PATH,
        generated::SetSettingsResponse::default(),
    );
}
