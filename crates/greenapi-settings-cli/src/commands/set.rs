//! `set`: settings given as flags (one per writable setting) and/or `--json`, validated as a
//! whole before anything is resolved or sent, then sent in one setSettings call.

use std::path::Path;

use clap::ArgMatches;
use greenapi_settings::{SettingsPatch, FIELDS};

use crate::args::kebab;
use crate::creds::ConnArgs;
use crate::exit::{CliError, Exit};
use crate::style::Style;
use crate::{input, parse, render, settings_file};

/// Runs `set`.
pub(crate) async fn run(conn: &ConnArgs, m: &ArgMatches, style: Style) -> Result<Exit, CliError> {
    let mut patch = match m.get_one::<String>("json") {
        Some(raw) => patch_from_json_arg(raw)?,
        None => SettingsPatch::new(),
    };
    let mut problems = Vec::new();
    for f in FIELDS {
        if let Some(raw) = m.get_one::<String>(f.snake) {
            if patch.get_json(f.name).is_some() {
                problems.push(format!(
                    "{} is given twice: in --json and as --{}; give it once",
                    f.name,
                    kebab(f.snake)
                ));
                continue;
            }
            match render::flag_value(f.kind, raw)
                .map_err(|e| format!("--{}: {e}", kebab(f.snake)))
                .and_then(|v| patch.set_json(f.name, &v).map_err(|e| e.to_string()))
            {
                Ok(()) => {}
                Err(e) => problems.push(e),
            }
        }
    }
    if !problems.is_empty() {
        return Err(CliError::usage(format!(
            "{} invalid value(s); nothing was sent",
            problems.len()
        ))
        .with_problems(problems));
    }
    // Validate before resolving credentials, so invalid input never starts anything.
    // Validated once: the warnings are printed here, and `send_checked` neither validates
    // again nor logs them a second time.
    let checked = patch.check()?;
    let target = conn.resolve_for(crate::creds::Purpose::Change).await?;
    let resp = target.client.send_checked(&checked).await?;
    crate::out!("{}", render::warnings(checked.warnings(), style));
    if crate::args::json_output_wanted(m) {
        print_envelope(
            &target.client,
            &patch,
            checked.warnings(),
            resp.save_settings,
        );
    }
    if resp.save_settings {
        crate::outln!(
            "{} {} setting(s) on instance {} (the instance restarts; settings apply within 5 minutes)",
            style.green("saved"),
            patch.len(),
            target.client.id_instance()
        );
        Ok(Exit::Ok)
    } else {
        crate::outln!(
            "{} {}",
            style.red("Not saved:"),
            crate::fleet::NOT_SAVED_TEXT
        );
        Ok(Exit::Failed)
    }
}

/// `--output json`: one result, `applied` (or `failed`: not saved), with the values sent as
/// `after` (set reads nothing first, so there is no `before`).
fn print_envelope(
    client: &greenapi_settings::Client,
    patch: &SettingsPatch,
    warnings: &[greenapi_settings::Violation],
    saved: bool,
) {
    let sent = crate::envelope::values(patch.to_json_value(), false);
    let changes: Vec<&String> = sent
        .as_object()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    let warnings: Vec<serde_json::Value> = warnings
        .iter()
        .map(|w| serde_json::json!({"field": w.field, "rule": w.rule, "message": w.to_string()}))
        .collect();
    let error = if saved {
        serde_json::Value::Null
    } else {
        crate::envelope::result_error(crate::fleet::NOT_SAVED_KIND, crate::fleet::NOT_SAVED_TEXT)
    };
    let result = serde_json::json!({
        "idInstance": client.id_instance(), "apiUrl": client.api_url(),
        "status": if saved { "applied" } else { "failed" },
        "changes": changes, "after": sent, "warnings": warnings, "error": error,
    });
    crate::envelope::Envelope::of_results(
        "set",
        crate::envelope::Started::of_command(),
        vec![result],
    )
    .print();
}

/// `--json` given inline or as `@FILE` (at most 1 MiB): duplicate keys are an error, a UTF-8
/// byte order mark is allowed, and `{"settings": {...}}` is accepted as in settings files.
fn patch_from_json_arg(raw: &str) -> Result<SettingsPatch, CliError> {
    let text = match raw.strip_prefix('@') {
        Some(path) => input::read_capped(Path::new(path), input::SMALL_FILE_CAP)?,
        None => input::strip_bom(raw).to_string(),
    };
    let v = parse::json_strict(&text)
        .map_err(|e| CliError::usage(format!("--json: invalid JSON: {e}")))?;
    settings_file::patch_from_value(v).map_err(|ps| {
        CliError::usage(format!("--json: {} problem(s); nothing was sent", ps.len()))
            .with_problems(ps)
    })
}
