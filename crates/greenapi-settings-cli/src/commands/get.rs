//! `get`: one instance's settings as a table or (`--json`) the envelope, or (`--instances`)
//! every instance's settings of a fleet as the envelope. Each result's `status` is `read`,
//! `failed` or `notStarted` (Ctrl-C / SIGTERM), its `values` the settings (API spelling).

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use clap::ArgMatches;
use greenapi_settings::Settings;

use crate::args;
use crate::creds::ConnArgs;
use crate::envelope::{self, Envelope, Started};
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
    let reveal = m.get_flag("show-secrets");
    let client = &target.client;
    if args::json_output_wanted(m) {
        let (result, exit) = match client.get_settings().await {
            Ok(s) => (
                result(client.id_instance(), client.api_url(), Ok(&s), reveal),
                Exit::Ok,
            ),
            Err(e) => {
                crate::errln!("error: {}", crate::terminal::lines(&e.to_string()));
                let error = envelope::result_error(e.kind(), &e.to_string());
                (
                    result(client.id_instance(), client.api_url(), Err(error), reveal),
                    Exit::Failed,
                )
            }
        };
        Envelope::of_results("get", Started::of_command(), vec![result]).print();
        return Ok(exit);
    }
    let settings = client.get_settings().await?;
    crate::out!("{}", render::settings_table(&settings, style, reveal));
    Ok(Exit::Ok)
}

/// One instance's entry of the `get` envelope.
fn result(
    id: u64,
    api_url: &str,
    read: Result<&Settings, serde_json::Value>,
    reveal: bool,
) -> serde_json::Value {
    let (status, values, error) = match read {
        Ok(s) => (
            "read",
            render::settings_json(s, reveal),
            serde_json::Value::Null,
        ),
        Err(e) if e["kind"] == "notStarted" => ("notStarted", serde_json::Value::Null, e),
        Err(e) => ("failed", serde_json::Value::Null, e),
    };
    serde_json::json!({"idInstance": id, "apiUrl": api_url, "status": status, "values": values, "error": error})
}

/// `get --instances`: every instance's settings as the envelope on stdout (with or without
/// `--json`: there is no table of a fleet), a summary on stderr, exit 1 if any instance failed. Ctrl-C or SIGTERM stops starting instances: those
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
        .map(|(inst, outcome, took)| {
            let error = envelope::result_error;
            let read = match outcome {
                Outcome::Done(Ok(s)) => Ok(s),
                Outcome::Done(Err(e)) => Err(error(e.kind(), &inst.token.scrub(&e.to_string()))),
                Outcome::NotStarted => Err(error(
                    "notStarted",
                    &format!("not read: the run was stopped by {}", signals.name()),
                )),
                Outcome::Interrupted => Err(error(
                    "interrupted",
                    &format!("stopped by {} while being read", signals.name()),
                )),
            };
            let mut r = result(inst.id, &inst.api_url, read, reveal);
            r["durationMs"] = (took.as_millis() as u64).into();
            r
        })
        .collect();
    let mut env = Envelope::of_results("get", Started::of_command(), results);
    env.interrupted = signals.exit().is_some();
    env.print();
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
