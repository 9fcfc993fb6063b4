greenapi_settings_macros::settings_api!("spec/does-not-exist.json");

fn main() {}
