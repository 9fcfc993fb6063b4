//! `validate`: a settings file checked offline, every problem listed (exit 2). A layered file
//! is resolved for each instance it has an override for, and for an instance without one
//! (the defaults alone); with `--instances`, for every instance of the fleet file instead.
//! `${NAME}` references are resolved from the environment here too.

use std::path::PathBuf;

use clap::ArgMatches;

use crate::exit::{CliError, Exit};
use crate::layers::{self, SAMPLE_ID};
use crate::settings_file::{self, SettingsFile};
use crate::style::Style;
use crate::template::process_env;
use crate::{fleet, input, render};

pub(crate) fn run(m: &ArgMatches, style: Style) -> Result<Exit, CliError> {
    let path = m
        .get_one::<PathBuf>("file")
        .ok_or_else(|| CliError::usage("missing FILE"))?;
    let file = settings_file::load(path)?;
    let json_out = crate::args::json_output_wanted(m);
    let csv = m.get_one::<PathBuf>("instances");
    if csv.is_none() && !file.is_layered() {
        let r = plain(&file, style)?;
        if json_out {
            print_envelope(&file, &[(None, &r)]);
        }
        return Ok(Exit::Ok);
    }
    let ids = match csv {
        Some(csv) => {
            let shown = csv.display().to_string();
            let text = input::read_capped(csv, input::FLEET_FILE_CAP)?;
            let ids: Vec<u64> = fleet::parse_instances(&text, &shown)?
                .iter()
                .map(|i| i.id)
                .collect();
            layers::check_overrides_known(&file, &ids, &shown)?;
            ids
        }
        None => {
            if !file.defaults.is_empty() {
                // The defaults alone, as for an instance without an override.
                defaults_alone(&file)?;
            }
            file.instances.keys().copied().collect()
        }
    };
    let resolved = layers::resolve_all(&file, &ids, &process_env)?;
    let mut warnings: Vec<String> = Vec::new();
    for r in resolved.values() {
        for w in &r.warnings {
            let line = format!("instance {}: {w}", r.id);
            if !warnings.contains(&line) {
                warnings.push(line);
            }
        }
    }
    for w in &warnings {
        crate::outln!("  {} {w}", style.yellow("warning:"));
    }
    crate::outln!(
        "{} {}: {} instance(s) resolved, {} warning(s)",
        style.green("ok"),
        path.display(),
        resolved.len(),
        warnings.len()
    );
    if json_out {
        let all: Vec<(Option<u64>, &layers::Resolved)> =
            resolved.values().map(|r| (Some(r.id), r)).collect();
        print_envelope(&file, &all);
    }
    Ok(Exit::Ok)
}

/// `--json`: one result per instance resolved (`idInstance` null for a file without
/// overrides), `valid`, with its settings as `values` and its warnings. An invalid file is
/// the envelope of the whole command's error (see `main`), every problem in it.
fn print_envelope(file: &SettingsFile, resolved: &[(Option<u64>, &layers::Resolved)]) {
    let results = resolved
        .iter()
        .map(|(id, r)| {
            let warnings: Vec<serde_json::Value> = r
                .warnings
                .iter()
                .map(|w| serde_json::json!({"field": w.field, "rule": w.rule, "message": w.to_string()}))
                .collect();
            serde_json::json!({"idInstance": id, "status": "valid",
                "values": crate::envelope::values(r.patch.to_json_value(), false),
                "warnings": warnings, "error": null})
        })
        .collect();
    crate::envelope::Envelope::of_results(
        "validate",
        crate::envelope::Started::of_command(),
        results,
    )
    .with("settingsFile", file.shown.clone().into())
    .print();
}

/// A file without overrides: its settings, checked as before layering existed.
fn plain(file: &SettingsFile, style: Style) -> Result<layers::Resolved, CliError> {
    let r = defaults_alone(file)?;
    crate::out!("{}", render::warnings(&r.warnings, style));
    crate::outln!(
        "{} {}: {} setting(s), {} warning(s)",
        style.green("ok"),
        file.shown,
        r.patch.len(),
        r.warnings.len()
    );
    Ok(r)
}

fn defaults_alone(file: &SettingsFile) -> Result<layers::Resolved, CliError> {
    let mut alone = file.clone();
    alone.instances.clear();
    let shown = &file.shown;
    let label = if file.is_layered() { "defaults: " } else { "" };
    layers::resolve(&alone, SAMPLE_ID, &process_env).map_err(|problems| {
        CliError::usage(format!(
            "{shown}: {} problem(s); nothing was sent",
            problems.len()
        ))
        .with_problems(
            problems
                .iter()
                .map(|p| format!("{shown}: {label}{p}"))
                .collect(),
        )
    })
}
