//! `docs`: the settings reference, as generated from the spec into `docs/settings.md` and
//! embedded at build time.

use crate::exit::{CliError, Exit};

/// The reference printed by `docs` (generated from the spec; a test keeps it current).
// `docs/settings.md` inside the crate is a link to the repository's generated reference, so the
// packaged crate carries its own copy.
const SETTINGS_DOCS: &str = include_str!("../../docs/settings.md");

/// Runs `docs`.
pub(crate) fn run() -> Result<Exit, CliError> {
    crate::out!("{SETTINGS_DOCS}");
    Ok(Exit::Ok)
}
