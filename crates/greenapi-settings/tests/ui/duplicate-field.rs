greenapi_settings_macros::settings_api!("crates/greenapi-settings/tests/ui/specs/duplicate-field.json");

fn main() {}
