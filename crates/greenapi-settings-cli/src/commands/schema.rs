//! `schema`: the JSON Schema (2020-12) of settings files, generated from the spec by
//! `greenapi-settings-codegen` and checked in as `docs/settings-file.schema.json` (a golden
//! test keeps it current), for editors and CI.

use crate::exit::{CliError, Exit};

/// The JSON Schema of settings files.
pub const SETTINGS_FILE_SCHEMA: &str = include_str!("../../docs/settings-file.schema.json");

pub(crate) fn run() -> Result<Exit, CliError> {
    crate::out!("{SETTINGS_FILE_SCHEMA}");
    Ok(Exit::Ok)
}
