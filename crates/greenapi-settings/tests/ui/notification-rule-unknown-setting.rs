greenapi_settings_macros::notifications_api!("crates/greenapi-settings/tests/ui/specs/notification-rule-unknown-setting.json");

fn main() {}
