//! `get`: one instance's settings as a table or JSON, or (`--instances`) every instance's
//! settings of a fleet as one JSON document.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::ArgMatches;
use greenapi_settings::{Error, Settings};

use crate::args;
use crate::creds::ConnArgs;
use crate::exit::{CliError, Exit};
use crate::style::Style;
use crate::{fleet, input, render};

/// Runs `get`.
pub(crate) async fn run(conn: &ConnArgs, m: &ArgMatches, style: Style) -> Result<Exit, CliError> {
    if let Some(csv) = m.get_one::<PathBuf>("instances") {
        conn.refuse_in_fleet()?;
        return fleet_get(conn, m, csv).await;
    }
    let target = conn.resolve().await?;
    let settings = target.client.get_settings().await?;
    let reveal = m.get_flag("show-secrets");
    if m.get_flag("json") {
        crate::outln!(
            "{}",
            serde_json::to_string_pretty(&render::settings_json(&settings, reveal))
                .unwrap_or_default()
        );
    } else {
        crate::out!("{}", render::settings_table(&settings, style, reveal));
    }
    Ok(Exit::Ok)
}

/// `get --instances`: every instance's settings as one JSON document on stdout, a summary on
/// stderr, exit 1 if any instance failed.
async fn fleet_get(conn: &ConnArgs, m: &ArgMatches, csv: &Path) -> Result<Exit, CliError> {
    let reveal = m.get_flag("show-secrets");
    let outcomes = read_fleet(conn, m, csv).await?;
    let failed = outcomes.iter().filter(|o| o.1.is_err()).count();
    let results: Vec<serde_json::Value> = outcomes
        .iter()
        .map(|(inst, outcome, _)| {
            let (settings, error) = match outcome {
                Ok(s) => (render::settings_json(s, reveal), serde_json::Value::Null),
                Err(e) => (serde_json::Value::Null, serde_json::json!({"kind": e.kind(), "message": inst.token.scrub(&e.to_string())})),
            };
            serde_json::json!({"idInstance": inst.id, "apiUrl": inst.api_url, "settings": settings, "error": error})
        })
        .collect();
    let doc = serde_json::json!({
        "summary": {"total": results.len(), "ok": results.len() - failed, "failed": failed},
        "results": results,
    });
    crate::outln!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    crate::errln!(
        "{} instance(s): {} read, {failed} failed",
        outcomes.len(),
        outcomes.len() - failed
    );
    Ok(if failed > 0 { Exit::Failed } else { Exit::Ok })
}

/// Reads the instances file `csv` and every instance's settings (`--concurrency` at a time):
/// each instance with its settings or its error, in file order.
pub(crate) async fn read_fleet(
    conn: &ConnArgs,
    m: &ArgMatches,
    csv: &Path,
) -> Result<Vec<(fleet::Instance, Result<Settings, Error>, Duration)>, CliError> {
    let concurrency = args::concurrency(m)?;
    let text = input::read_capped(csv, input::FLEET_FILE_CAP)?;
    let instances = fleet::parse_instances(&text, &csv.display().to_string())?;
    fleet::for_each(
        &instances,
        concurrency,
        conn,
        None,
        |client: greenapi_settings::Client| async move { client.get_settings().await },
    )
    .await
}
