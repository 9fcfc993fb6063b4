//! The declared minimum Rust version is the one that is tested. Only the toolchain pinned in
//! `rust-toolchain.toml` ever builds and tests this workspace (no other can be downloaded where
//! it is tested), so `rust-version` in the workspace's `Cargo.toml` must name that toolchain's
//! `major.minor`, and every member must take it from the workspace. This test fails when either
//! file changes without the other (issue 19: `rust-version = "1.85"` was declared, 1.95 tested).

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The quoted value of `key = "…"` on its own line of `text`.
fn value_of<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines().find_map(|line| {
        let rest = line
            .trim()
            .strip_prefix(key)?
            .trim_start()
            .strip_prefix('=')?;
        Some(rest.trim().trim_matches('"'))
    })
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn the_declared_rust_version_is_the_pinned_toolchain() {
    let toolchain = read("rust-toolchain.toml");
    let channel = value_of(&toolchain, "channel").expect("rust-toolchain.toml has a channel");
    let workspace = read("Cargo.toml");
    let declared =
        value_of(&workspace, "rust-version").expect("the workspace declares rust-version");
    let pinned: Vec<&str> = channel.split('.').take(2).collect();
    assert_eq!(
        declared.split('.').take(2).collect::<Vec<_>>(),
        pinned,
        "Cargo.toml declares rust-version {declared} but rust-toolchain.toml pins {channel}: \
         raise (or lower) them together, to a toolchain that is actually tested"
    );
    // What cargo passed to this very build: the member inherited the workspace's value.
    assert_eq!(env!("CARGO_PKG_RUST_VERSION"), declared);
}

#[test]
fn every_member_takes_the_rust_version_from_the_workspace() {
    for member in [
        "crates/greenapi-settings-codegen",
        "crates/greenapi-settings-macros",
        "crates/greenapi-settings",
        "crates/greenapi-settings-sandbox",
        "crates/greenapi-settings-cli",
        "tests/e2e",
        "bindings/python",
    ] {
        let manifest = read(&format!("{member}/Cargo.toml"));
        assert!(
            manifest
                .lines()
                .any(|l| l.trim() == "rust-version.workspace = true"),
            "{member}/Cargo.toml does not take rust-version from the workspace"
        );
    }
}
