//! Runtime support for the code `settings_api!` generates: re-exports only. Not a public API:
//! names and signatures change with the generator.

pub use serde;
pub use serde_json;

pub use crate::checks::*;
pub use crate::redact::{Redacted, RedactedIfSet, REDACTED};
pub use crate::suggest::{suggest, unknown_field};
pub use crate::wire::{
    not_plain, read_lenient, read_lenient_or_null, read_plain, read_strict, yes_no_str, PlainRead,
    ReadPlain,
};
