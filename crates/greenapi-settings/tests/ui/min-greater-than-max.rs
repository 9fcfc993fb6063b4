greenapi_settings_macros::settings_api!("crates/greenapi-settings/tests/ui/specs/min-greater-than-max.json");

fn main() {}
