greenapi_settings_macros::settings_api!("crates/greenapi-settings/tests/ui/specs/rule-unknown-field.json");

fn main() {}
