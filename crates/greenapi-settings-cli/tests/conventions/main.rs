//! The habits people bring from cargo, uv, gh and terraform (issue 19): one duration grammar,
//! `-` for standard input, `--quiet`, fleet controls (canary, batches, failure budget,
//! confirmation), shell completions and a man page. Every case runs the real binary, most
//! against the real sandbox.

#[path = "../common/mod.rs"]
mod common;

mod completions;
mod grammar;
mod output_style;
