greenapi_settings_macros::settings_api!("crates/greenapi-settings/tests/ui/specs/invalid-json.json");

fn main() {}
