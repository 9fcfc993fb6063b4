// A spec whose `incomingWebhook` is renamed: the generated API follows the spec.
greenapi_settings_macros::settings_api!("crates/greenapi-settings/tests/ui-pass/renamed-field.json");

fn main() {
    let patch = SettingsPatch::new().incoming_webhook_renamed(true).incoming_call_webhook(true);
    assert!(patch.validate().is_ok());
    assert_eq!(
        patch.to_json_value().to_string(),
        r#"{"incomingWebhookRenamed":"yes","incomingCallWebhook":"yes"}"#
    );
    assert_eq!(FIELDS[1].name, "incomingWebhookRenamed");
}
