//! No `unsafe` of our own. The workspace denies `unsafe_code`, and no file allows it (the one
//! allowance, getrlimit / setrlimit in the CLI's `fleet/fds.rs`, went to the `rlimit` crate).
//! This test fails when an allowance appears, when a member crate stops using the workspace's
//! lints, or when the workspace's level is lowered below `deny`.

use std::path::{Path, PathBuf};

/// The files that may allow unsafe code, relative to the workspace root: none.
const ALLOWED: &[&str] = &[];

/// Where the workspace's own Rust sources live (not `target/`, not virtual environments).
const SOURCE_ROOTS: &[&str] = &["crates", "bindings", "tests", "bench"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name == "target" || name.starts_with('.') {
            continue;
        }
        // Symlinks (the spec and docs carried into crates) are not followed.
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            rust_files(&path, out);
        } else if kind.is_file() && name.ends_with(".rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_file_allows_unsafe_code() {
    let root = root();
    let mut files = Vec::new();
    for dir in SOURCE_ROOTS {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(
        files.len() > 50,
        "found only {} Rust files: wrong root?",
        files.len()
    );
    let mut allowing: Vec<String> = files
        .iter()
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            // Spelled in two parts so that this file does not list itself.
            let needle = concat!("allow(", "unsafe_code)");
            text.contains(needle) || text.contains(concat!("unsafe_code", " = \"allow\""))
        })
        .map(|f| {
            f.strip_prefix(&root)
                .unwrap_or(f)
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    allowing.sort();
    assert_eq!(allowing, ALLOWED, "files allowing unsafe code");
}

#[test]
fn the_workspace_denies_unsafe_code_and_every_member_uses_its_lints() {
    let root = root();
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).expect("workspace Cargo.toml");
    let lints = manifest
        .split("[workspace.lints.rust]")
        .nth(1)
        .expect("a [workspace.lints.rust] table");
    let table = lints.split("\n[").next().unwrap_or_default();
    assert!(
        table
            .lines()
            .any(|l| l.trim() == "unsafe_code = \"deny\"" || l.trim() == "unsafe_code = \"forbid\""),
        "[workspace.lints.rust] must deny unsafe_code:\n{table}"
    );
    let members = manifest
        .split("members = [")
        .nth(1)
        .and_then(|m| m.split(']').next())
        .expect("workspace members");
    let members: Vec<&str> = members
        .split(',')
        .map(|m| m.trim().trim_matches('"'))
        .filter(|m| !m.is_empty())
        .collect();
    assert!(members.len() >= 5, "members: {members:?}");
    for member in members {
        let text = std::fs::read_to_string(root.join(member).join("Cargo.toml"))
            .unwrap_or_else(|e| panic!("{member}/Cargo.toml: {e}"));
        let uses_workspace = text
            .split("[lints]")
            .nth(1)
            .is_some_and(|rest| rest.trim_start().starts_with("workspace = true"));
        assert!(
            uses_workspace,
            "{member}/Cargo.toml must have `[lints]` with `workspace = true`"
        );
    }
}
