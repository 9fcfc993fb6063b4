//! The typed settings, generated at compile time from `spec/settings.json` by
//! [`settings_api!`](greenapi_settings_macros::settings_api). Read the expansion with
//! `cargo run -p greenapi-settings-codegen -- rust`.

greenapi_settings_macros::settings_api!("spec/settings.json");
