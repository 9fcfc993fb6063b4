//! `spec-check`: compares a getSettings answer (from the instance, or a saved JSON body) with
//! the spec, listing fields the server returns that the spec lacks and settings the server no
//! longer returns. Exit 1 if any: this is how a maintainer learns that the API changed.

use std::path::PathBuf;

use clap::ArgMatches;
use greenapi_settings::{compare_with_spec, SpecComparison};
use serde_json::Value;

use crate::creds::ConnArgs;
use crate::exit::{CliError, Exit};
use crate::style::Style;
use crate::{input, parse};

/// Runs `spec-check`.
pub(crate) async fn run(conn: &ConnArgs, m: &ArgMatches, style: Style) -> Result<Exit, CliError> {
    let mut instance: (serde_json::Value, serde_json::Value) = (Value::Null, Value::Null);
    let body = match m.get_one::<PathBuf>("body") {
        Some(path) => {
            let shown = path.display().to_string();
            let text = input::read_capped(path, input::SMALL_FILE_CAP)?;
            match parse::json_strict(input::strip_bom(&text)) {
                Ok(Value::Object(map)) => map,
                Ok(_) => {
                    return Err(CliError::usage(format!(
                        "{shown}: expected a JSON object (a getSettings answer)"
                    )))
                }
                Err(e) => return Err(CliError::usage(format!("{shown}: invalid JSON: {e}"))),
            }
        }
        None => {
            let target = conn.resolve().await?;
            instance = (
                target.client.id_instance().into(),
                target.client.api_url().into(),
            );
            target.client.get_settings_json().await?
        }
    };
    let cmp = compare_with_spec(&body);
    crate::out!("{}", render(&cmp, body.len(), style));
    if crate::args::json_output_wanted(m) {
        // JSON escapes the server's field names; no terminal reads them raw.
        let unknown = &cmp.unknown;
        let result = serde_json::json!({
            "idInstance": instance.0, "apiUrl": instance.1,
            "body": m.get_one::<PathBuf>("body").map(|p| p.display().to_string()),
            "status": if cmp.differs() { "differs" } else { "matches" },
            "fields": body.len(), "unknown": unknown, "missing": cmp.missing,
            "missingNewer": cmp.missing_newer, "error": null,
        });
        crate::envelope::Envelope::of_results(
            "spec-check",
            crate::envelope::Started::of_command(),
            vec![result],
        )
        .print();
    }
    Ok(if cmp.differs() {
        Exit::Failed
    } else {
        Exit::Ok
    })
}

fn render(c: &SpecComparison, fields: usize, style: Style) -> String {
    let mut out = String::new();
    let list = |names: &[&str]| names.join(", ");
    if !c.unknown.is_empty() {
        let names: Vec<String> = c
            .unknown
            .iter()
            .map(|s| crate::terminal::text(&input::clip(s)).into_owned())
            .collect();
        out.push_str(&format!(
            "{} fields the server returns that the spec lacks ({}): {}\n",
            style.red("new:"),
            names.len(),
            names.join(", ")
        ));
    }
    if !c.missing.is_empty() {
        out.push_str(&format!(
            "{} spec settings the server does not return ({}): {}\n",
            style.red("gone:"),
            c.missing.len(),
            list(&c.missing)
        ));
    }
    if !c.missing_newer.is_empty() {
        out.push_str(&format!(
            "{} settings only newer servers return, not returned here ({}): {}\n",
            style.dim("note:"),
            c.missing_newer.len(),
            list(&c.missing_newer)
        ));
    }
    if c.differs() {
        out.push_str(
            "the server differs from the spec: see spec/README.md, \"Adding a setting\"\n",
        );
    } else {
        out.push_str(&format!(
            "{} the server's {fields} fields match the spec\n",
            style.green("ok:")
        ));
    }
    out
}
