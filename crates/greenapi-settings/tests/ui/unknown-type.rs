greenapi_settings_macros::settings_api!("crates/greenapi-settings/tests/ui/specs/unknown-type.json");

fn main() {}
