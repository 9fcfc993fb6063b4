//! The offline part of what `cargo deny check licenses sources` does: every package in the
//! locked dependency graph has a licence expression that the allowlist below satisfies, and
//! comes from crates.io or this workspace. Runs `cargo metadata --locked --offline`, so it
//! needs no network (the graph is the host platform's: what is built here).
//!
//! Security advisories need the RustSec database, which is on the network: run
//! `cargo deny check advisories` (or `cargo audit`) where the network is reachable; see
//! BENCHMARKS.md.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// Licences any dependency may use (SPDX identifiers). All are permissive; none asks more of
/// a binary than keeping notices.
const ALLOWED: &[&str] = &[
    "MIT",
    "MIT-0",
    "Apache-2.0",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "0BSD",
    "ISC",
    "Zlib",
    "BSL-1.0",
    "Unlicense",
    // Unicode's data files (icu_*, unicode-ident).
    "Unicode-3.0",
    "Unicode-DFS-2016",
    // Mozilla's root certificates as data (webpki-root-certs, on some platforms).
    "CDLA-Permissive-2.0",
];

/// `WITH` exceptions that only loosen the licence they follow.
const ALLOWED_EXCEPTIONS: &[&str] = &["LLVM-exception"];

/// Where packages may come from, besides this workspace (no git or other registries).
const CRATES_IO: &str = "registry+https://github.com/rust-lang/crates.io-index";

// ---------------------------------------------------------------------------------------------
// A small SPDX expression evaluator: OR, AND, WITH, parentheses, and the legacy `/` for OR.
// ---------------------------------------------------------------------------------------------

fn tokens(expr: &str) -> Vec<String> {
    expr.replace('(', " ( ")
        .replace(')', " ) ")
        .replace('/', " OR ")
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

struct Parser {
    tokens: Vec<String>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&str> {
        self.tokens.get(self.at).map(String::as_str)
    }

    fn next(&mut self) -> Option<String> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    /// `or := and ("OR" and)*`
    fn or(&mut self) -> Result<bool, String> {
        let mut ok = self.and()?;
        while self.peek() == Some("OR") {
            self.next();
            ok |= self.and()?;
        }
        Ok(ok)
    }

    /// `and := atom ("AND" atom)*`
    fn and(&mut self) -> Result<bool, String> {
        let mut ok = self.atom()?;
        while self.peek() == Some("AND") {
            self.next();
            ok &= self.atom()?;
        }
        Ok(ok)
    }

    /// `atom := "(" or ")" | LICENCE ["WITH" EXCEPTION]`
    fn atom(&mut self) -> Result<bool, String> {
        match self.next().as_deref() {
            Some("(") => {
                let ok = self.or()?;
                match self.next().as_deref() {
                    Some(")") => Ok(ok),
                    other => Err(format!("expected `)`, found {other:?}")),
                }
            }
            Some(id) if !matches!(id, ")" | "AND" | "OR" | "WITH") => {
                let id = id.trim_end_matches('+');
                let mut ok = ALLOWED.contains(&id);
                if self.peek() == Some("WITH") {
                    self.next();
                    let exception = self.next().ok_or("`WITH` without an exception")?;
                    ok &= ALLOWED_EXCEPTIONS.contains(&exception.as_str());
                }
                Ok(ok)
            }
            other => Err(format!("expected a licence, found {other:?}")),
        }
    }
}

/// Whether the allowlist satisfies `expr`; an expression that does not parse is an error.
fn allowed(expr: &str) -> Result<bool, String> {
    let mut p = Parser {
        tokens: tokens(expr),
        at: 0,
    };
    let ok = p.or()?;
    match p.peek() {
        None => Ok(ok),
        Some(extra) => Err(format!("unexpected `{extra}`")),
    }
}

#[test]
fn the_expression_evaluator_reads_spdx_as_cargo_deny_does() {
    for ok in [
        "MIT",
        "MIT OR Apache-2.0",
        "Apache-2.0/MIT",
        "(MIT OR Apache-2.0) AND Unicode-3.0",
        "Apache-2.0 WITH LLVM-exception OR Apache-2.0 OR MIT",
        "Apache-2.0 AND ISC",
        "MIT AND BSD-3-Clause",
        "GPL-3.0-only OR MIT",
    ] {
        assert_eq!(allowed(ok), Ok(true), "{ok}");
    }
    for not_ok in [
        "GPL-3.0-only",
        "MIT AND GPL-3.0-only",
        "(MIT OR Apache-2.0) AND AGPL-3.0-only",
        "GPL-2.0-only WITH Classpath-exception-2.0",
        "Apache-2.0 WITH Some-unknown-exception",
    ] {
        assert_eq!(allowed(not_ok), Ok(false), "{not_ok}");
    }
    for broken in ["", "MIT OR", "(MIT", "MIT Apache-2.0", "AND MIT"] {
        assert!(allowed(broken).is_err(), "{broken:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// The workspace's graph
// ---------------------------------------------------------------------------------------------

fn host_triple() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(rustc).arg("-vV").output().expect("rustc runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc -vV names the host")
        .trim()
        .to_string()
}

fn metadata() -> Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(&root)
        .args([
            "metadata",
            "--locked",
            "--offline",
            "--format-version",
            "1",
            "--filter-platform",
            &host_triple(),
        ])
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo metadata --locked --offline failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON")
}

#[test]
fn every_dependency_has_an_allowed_licence_and_comes_from_crates_io() {
    let meta = metadata();
    let packages = meta["packages"].as_array().expect("packages");
    assert!(
        packages.len() > 50,
        "suspiciously few packages: {}",
        packages.len()
    );
    let mut offenders = Vec::new();
    for p in packages {
        let name = format!(
            "{} {}",
            p["name"].as_str().unwrap_or("?"),
            p["version"].as_str().unwrap_or("?")
        );
        match p["license"].as_str() {
            Some(expr) => match allowed(expr) {
                Ok(true) => {}
                Ok(false) => offenders.push(format!("{name}: licence `{expr}` is not allowed")),
                Err(e) => offenders.push(format!("{name}: licence `{expr}` does not parse: {e}")),
            },
            None => offenders.push(format!(
                "{name}: no SPDX licence (license_file: {}); review it and allow it by name",
                p["license_file"]
            )),
        }
        match p["source"].as_str() {
            None | Some(CRATES_IO) => {}
            Some(other) => offenders.push(format!("{name}: comes from {other}, not crates.io")),
        }
    }
    assert!(
        offenders.is_empty(),
        "{} package(s) fail the licence/source check:\n  {}",
        offenders.len(),
        offenders.join("\n  ")
    );
}
