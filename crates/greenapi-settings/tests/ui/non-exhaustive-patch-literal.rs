// `SettingsPatch` is `#[non_exhaustive]`: a setting added to the spec adds a field, so a struct
// literal outside the crate must not compile (it would break on that update). Callers start
// from `SettingsPatch::new()` and use the setters.
fn main() {
    let _patch = greenapi_settings::SettingsPatch {
        auto_typing: Some(2),
        ..Default::default()
    };
}
