greenapi_settings_macros::settings_api!("crates/greenapi-settings/tests/ui/specs/many-problems.json");

fn main() {}
