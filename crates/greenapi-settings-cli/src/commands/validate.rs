//! `validate`: a settings file checked offline, every problem listed. Also owns loading a
//! settings file for the commands that send it (`plan`, `apply`): read, parse and validate, or
//! exit 2 before anything is sent.

use std::path::{Path, PathBuf};

use clap::ArgMatches;
use greenapi_settings::SettingsPatch;

use crate::exit::{CliError, Exit};
use crate::render;
use crate::settings_file;
use crate::style::Style;

/// Loads and validates a settings file; errors become exit 2 with every problem.
pub(crate) fn load_valid(
    path: &Path,
) -> Result<(SettingsPatch, Vec<greenapi_settings::Violation>), CliError> {
    let patch = settings_file::load(path)?;
    let shown = path.display().to_string();
    let report = patch.validate();
    if !report.is_ok() {
        return Err(CliError::usage(format!(
            "{shown}: {} problem(s); nothing was sent",
            report.errors.len()
        ))
        .with_problems(
            report
                .errors
                .iter()
                .map(|e| format!("{shown}: {e}"))
                .collect(),
        ));
    }
    Ok((patch, report.warnings))
}

pub(crate) fn run(m: &ArgMatches, style: Style) -> Result<Exit, CliError> {
    let path = m
        .get_one::<PathBuf>("file")
        .ok_or_else(|| CliError::usage("missing FILE"))?;
    let (patch, warnings) = load_valid(path)?;
    print!("{}", render::warnings(&warnings, style));
    println!(
        "{} {}: {} setting(s), {} warning(s)",
        style.green("ok"),
        path.display(),
        patch.len(),
        warnings.len()
    );
    Ok(Exit::Ok)
}
