//! Hostile input to the built `greenapi-settings` binary (issues 9 and 18): credentials from one
//! source only, secrets in broken input are
//! never echoed, fleet input is checked whole before anything is sent, Ctrl-C leaves a report
//! that `--resume` finishes, duplicates conflict, numbers and sizes are bounded, and messages
//! say what was found. Every case runs the real binary, most against the real sandbox.

#[path = "../common/mod.rs"]
mod common;

mod credentials;
mod duplicates_and_numbers;
mod files;
mod fleet_input;
mod network;
mod outcomes;
mod secrets;
mod sizes_and_messages;
mod terminal;

use std::process::Stdio;
use std::time::Duration;

use common::{bin, calls, cli, dir, fast, fleet_csv, lines_of, run, s, tmp, Color, Run};
use greenapi_settings_sandbox::{
    generated_token, BlockingSandbox, SandboxConfig, DEFAULT_INSTANCE_ID,
};
use serde_json::Value;

/// Tokens that stress escaping and scrubbing: markup-like, non-ASCII, and very short.
const TOKENS: [&str; 3] = ["SEKRIT<>{}É-0123456789abcdef", "ÉxY-4k2p", "q7Z-4k2p"];

/// Neither the token nor any case or percent-encoding of it is in the output.
fn assert_hides(r: &Run, token: &str) {
    let all = format!("{}\n{}", r.stdout, r.stderr);
    let lower = all.to_lowercase();
    for form in [token.to_string(), token.to_lowercase(), encode(token)] {
        assert!(
            !all.contains(&form) && !lower.contains(&form.to_lowercase()),
            "secret {form:?} leaked:\n{all}"
        );
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `validate` of a file `name` holding `text`.
fn validate(name: &str, text: &str) -> Run {
    cli(&["validate", s(&tmp(name, text))])
}

/// A settings file of its own per call (see [`tmp`]).
fn desired() -> std::path::PathBuf {
    tmp("desired.toml", "incomingWebhook = \"yes\"\n")
}
