//! The notifications table, delivery facts and body types, generated at compile time from the
//! spec's `notifications` section by
//! [`notifications_api!`](greenapi_settings_macros::notifications_api). Read the expansion with
//! `cargo run -p greenapi-settings-codegen -- notifications-rust`.

greenapi_settings_macros::notifications_api!("spec/settings.json");
