//! `get`: one instance's settings as a table or JSON, or (`--instances`) every instance's
//! settings of a fleet as one JSON document.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use clap::ArgMatches;
use greenapi_settings::Settings;

use crate::args;
use crate::creds::ConnArgs;
use crate::exit::{CliError, Exit};
use crate::fleet::Outcome;
use crate::signals::Signals;
use crate::style::Style;
use crate::{fleet, input, render};

/// Runs `get`.
pub(crate) async fn run(conn: &ConnArgs, m: &ArgMatches, style: Style) -> Result<Exit, CliError> {
    args::refuse_fleet_options_alone(m)?;
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
/// stderr, exit 1 if any instance failed. Ctrl-C or SIGTERM stops starting instances: those
/// not read are listed as such (`notStarted`), `interrupted` is true, exit 130 or 143.
async fn fleet_get(conn: &ConnArgs, m: &ArgMatches, csv: &Path) -> Result<Exit, CliError> {
    let reveal = m.get_flag("show-secrets");
    let (outcomes, signals) = read_fleet(conn, m, csv).await?;
    let failed = outcomes
        .iter()
        .filter(|o| !matches!(o.1, Outcome::Done(Ok(_))))
        .count();
    let results: Vec<serde_json::Value> = outcomes
        .iter()
        .map(|(inst, outcome, _)| {
            let error = |kind: &str, message: String| serde_json::json!({"kind": kind, "message": message});
            let (settings, error) = match outcome {
                Outcome::Done(Ok(s)) => (render::settings_json(s, reveal), serde_json::Value::Null),
                Outcome::Done(Err(e)) => (serde_json::Value::Null, error(e.kind(), inst.token.scrub(&e.to_string()))),
                Outcome::NotStarted => (serde_json::Value::Null, error("notStarted", format!("not read: the run was stopped by {}", signals.name()))),
                Outcome::Interrupted => (serde_json::Value::Null, error("interrupted", format!("stopped by {} while being read", signals.name()))),
            };
            serde_json::json!({"idInstance": inst.id, "apiUrl": inst.api_url, "settings": settings, "error": error})
        })
        .collect();
    let doc = serde_json::json!({
        "summary": {"total": results.len(), "ok": results.len() - failed, "failed": failed},
        "interrupted": signals.exit().is_some(),
        "results": results,
    });
    crate::outln!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    crate::errln!(
        "{} instance(s): {} read, {failed} failed or not read",
        outcomes.len(),
        outcomes.len() - failed
    );
    Ok(match signals.exit() {
        Some(code) => code,
        None if failed > 0 => Exit::Failed,
        None => Exit::Ok,
    })
}

/// Reads the instances file `csv` and every instance's settings (`--concurrency` at a time):
/// each instance with its outcome, in file order, and the signals that may have stopped the
/// run (Ctrl-C or SIGTERM: no instance is started after the first).
pub(crate) async fn read_fleet(
    conn: &ConnArgs,
    m: &ArgMatches,
    csv: &Path,
) -> Result<(Vec<(fleet::Instance, Outcome<Settings>, Duration)>, Signals), CliError> {
    let concurrency = args::concurrency(m)?;
    let text = input::read_capped(csv, input::FLEET_FILE_CAP)?;
    let instances = fleet::parse_instances(&text, &csv.display().to_string())?;
    let instances = fleet::options::selection(m)?.apply(instances, &csv.display().to_string())?;
    let (signals, interrupts) = Signals::listen(Arc::new(AtomicBool::new(false)));
    let (outcomes, _) = fleet::for_each_until(
        &instances,
        concurrency,
        conn,
        None,
        |client: greenapi_settings::Client| async move { client.get_settings().await },
        interrupts,
        |_, _| {},
    )
    .await?;
    Ok((outcomes, signals))
}
