//! Loads the greenapi-settings spec (`spec/settings.json`), checks it — reporting **every**
//! problem with its JSON path — and renders it as Rust tokens (for the proc-macro), Markdown
//! (`docs/settings.md`) and the Python type stub (`_native.pyi`).
//!
//! ```
//! let text = include_str!("../../../spec/settings.json");
//! let spec = greenapi_settings_codegen::load_str(text).unwrap();
//! assert_eq!(spec.settings.len(), 24);
//! let md = greenapi_settings_codegen::markdown::render(&spec);
//! assert!(md.contains("### delaySendMessagesMilliseconds"));
//! ```
//!
//! A broken spec gives all of its problems at once:
//! ```
//! let errs = greenapi_settings_codegen::load_str(r#"{"formatVersion": 2}"#).unwrap_err();
//! assert!(errs.0.len() > 1);
//! assert_eq!(errs.0[0].to_string(), "$.formatVersion: unsupported format version 2 (this generator reads 1)");
//! ```

// The crate README's Rust examples compile and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub mod constraint;
pub mod diff;
pub mod load;
pub mod markdown;
pub mod model;
pub mod notifications;
pub mod pyi;
pub mod rust;
pub mod schema;

pub use load::{load_file, load_str, SpecError, SpecErrors};
pub use model::Spec;
