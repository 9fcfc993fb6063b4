//! Pure renderings pinned as insta snapshots (`tests/snapshots/`): the wording of every
//! setting's constraint (what docs, the stub and error hints say) and a diff report with one
//! change of each semver class. Review a change with `cargo insta review`, or accept it with
//! `INSTA_UPDATE=always cargo test -p greenapi-settings-codegen --test snapshots`.
//!
//! The generated files that are artifacts (the golden Rust that `golden_compiles.rs` compiles,
//! `docs/settings.md`, `_native.pyi`, the settings-file schema, the v1 → v2 diff pasted into
//! CHANGELOG.md) stay plain files checked by `golden.rs`: they are read and used as they are,
//! and insta's header would make them something else.

use std::fmt::Write as _;

const SPEC: &str = include_str!("../../../spec/settings.json");

fn spec(text: &str) -> greenapi_settings_codegen::Spec {
    greenapi_settings_codegen::load_str(text).expect("the spec loads")
}

#[test]
fn constraint_wording_of_every_setting() {
    let spec = spec(SPEC);
    let mut out = String::new();
    for s in &spec.settings {
        let _ = writeln!(out, "{}", s.name);
        let _ = writeln!(
            out,
            "  docs:   {}",
            greenapi_settings_codegen::constraint::docs(s)
        );
        let _ = writeln!(
            out,
            "  python: {}",
            greenapi_settings_codegen::constraint::python(s)
        );
    }
    insta::assert_snapshot!(out);
}

#[test]
fn diff_report_with_one_change_of_each_class() {
    let mut v: serde_json::Value = serde_json::from_str(SPEC).unwrap();
    let settings = v["settings"].as_array_mut().unwrap();
    settings.remove(23); // enableLidMode: struct_pub_field_missing
    settings[2]["range"]["max"] = 400_000.into(); // validation_narrowed
    settings[0]["maxLength"] = 4096.into(); // validation_widened
    settings[21]["status"] = "deprecated".into(); // struct_field_marked_deprecated
    settings[6]["type"] = "yesNo".into(); // struct_pub_field_type_changed
    settings[6].as_object_mut().unwrap().remove("maxLength");
    settings[15]["description"]["en"] = "Keeps the account online.".into(); // metadata_changed
    v["rules"][0]["description"]["en"] = "Reworded.".into(); // warning_changed
    let new = spec(&v.to_string());
    // An added read-only field: old lacks it (non_exhaustive_struct_pub_field_added).
    let mut o: serde_json::Value = serde_json::from_str(SPEC).unwrap();
    o["readOnly"].as_array_mut().unwrap().remove(0);
    let old = spec(&o.to_string());
    let changes = greenapi_settings_codegen::diff::diff(&old, &new);
    insta::assert_snapshot!(greenapi_settings_codegen::diff::render_markdown(
        "Every class",
        &changes
    ));
}
