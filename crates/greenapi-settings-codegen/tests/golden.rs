//! The checked-in generated files are current: the golden Rust expansion, `docs/settings.md`,
//! the Python stub `bindings/python/python/greenapi_settings/_native.pyi`, the settings-file
//! JSON Schema `docs/settings-file.schema.json`.
//! Refresh them with `UPDATE_GOLDEN=1 cargo test -p greenapi-settings-codegen --test golden`.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn spec() -> greenapi_settings_codegen::Spec {
    greenapi_settings_codegen::load_file(&root().join("spec/settings.json"))
        .expect("the project spec loads")
}

fn check(rel: &str, actual: &str) {
    let path = root().join(rel);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if expected != actual {
        let first = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
        panic!(
            "{rel} is out of date (first difference at line {}); run `UPDATE_GOLDEN=1 cargo test -p greenapi-settings-codegen --test golden` and commit",
            first + 1
        );
    }
}

#[test]
fn golden_rust_expansion_is_current() {
    check(
        "crates/greenapi-settings/tests/golden/settings.rs",
        &greenapi_settings_codegen::rust::render(&spec()),
    );
}

#[test]
fn golden_notifications_expansion_is_current() {
    check(
        "crates/greenapi-settings/tests/golden/notifications.rs",
        &greenapi_settings_codegen::notifications::rust::render(&spec()),
    );
}

#[test]
fn notifications_docs_are_current() {
    check(
        "docs/notifications.md",
        &greenapi_settings_codegen::notifications::markdown::render(&spec()),
    );
}

#[test]
fn python_notification_types_are_current() {
    check(
        "bindings/python/python/greenapi_settings/notifications.py",
        &greenapi_settings_codegen::notifications::python::render(&spec()),
    );
}

/// Every citation of a notification rule names a section of the sources file.
#[test]
fn every_notification_citation_names_a_section_of_the_sources_file() {
    let spec = spec();
    let n = spec.notifications.as_ref().unwrap();
    let text = std::fs::read_to_string(root().join(&n.sources)).unwrap();
    let headings: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("## "))
        .map(str::trim)
        .collect();
    let mut cited = vec![n.delivery.citation.clone()];
    for k in &n.kinds {
        cited.extend(k.sources.iter().map(|s| s.citation.clone()));
    }
    for c in cited {
        assert!(
            headings.contains(&c.as_str()),
            "`{c}` is not a section of {}",
            n.sources
        );
    }
}

#[test]
fn settings_reference_docs_are_current() {
    check(
        "docs/settings.md",
        &greenapi_settings_codegen::markdown::render(&spec()),
    );
}

#[test]
fn python_stub_is_current() {
    check(
        "bindings/python/python/greenapi_settings/_native.pyi",
        &greenapi_settings_codegen::pyi::render(&spec()),
    );
}

#[test]
fn settings_file_schema_is_current() {
    check(
        "docs/settings-file.schema.json",
        &greenapi_settings_codegen::schema::render(&spec()),
    );
}

#[test]
fn renaming_a_field_in_the_spec_renames_the_generated_api() {
    let text = std::fs::read_to_string(root().join("spec/settings.json")).unwrap();
    let renamed = text.replace("\"keepOnlineStatus\"", "\"keepOnlineStatusRenamed\"");
    let spec = greenapi_settings_codegen::load_str(&renamed).unwrap();
    let code = greenapi_settings_codegen::rust::render(&spec);
    assert!(code.contains("pub keep_online_status_renamed: ::core::option::Option<bool>"));
    assert!(code.contains("\"keepOnlineStatusRenamed\""));
    assert!(!code.contains("keep_online_status:"));
}

/// The v1 → v2 spec diff, as the `diff` command prints it, is pinned here and is the entry
/// in CHANGELOG.md (the changelog is produced by the tool, not written by hand).
#[test]
fn spec_diff_v1_to_v2_is_pinned_and_is_the_changelog_entry() {
    let v1 = greenapi_settings_codegen::load_file(
        &root().join("crates/greenapi-settings-codegen/tests/fixtures/settings-v1.json"),
    )
    .expect("the v1 fixture loads");
    let changes = greenapi_settings_codegen::diff::diff(&v1, &spec());
    let md = greenapi_settings_codegen::diff::render_markdown("Spec v1 → v2", &changes);
    check(
        "crates/greenapi-settings-codegen/tests/fixtures/diff-v1-v2.md",
        &md,
    );
    let changelog = std::fs::read_to_string(root().join("CHANGELOG.md")).unwrap_or_default();
    assert!(
        changelog.contains(&md),
        "CHANGELOG.md does not contain the v1 → v2 diff; paste crates/greenapi-settings-codegen/tests/fixtures/diff-v1-v2.md into it"
    );
}
