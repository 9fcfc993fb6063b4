//! `export`: the current settings of one instance, or (`--instances`) of a fleet, written as a
//! settings file that `plan` / `apply` accept (see [`crate::export_file`]). Nothing is written
//! if any instance cannot be read.

use std::path::{Path, PathBuf};

use clap::ArgMatches;
use greenapi_settings::Settings;

use crate::creds::ConnArgs;
use crate::exit::{CliError, Exit};
use crate::export_file::{self, SecretOptions, DEFAULT_TOKEN_ENV};
use crate::input;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Toml,
    Json,
}

/// Runs `export`.
pub(crate) async fn run(conn: &ConnArgs, m: &ArgMatches) -> Result<Exit, CliError> {
    crate::args::refuse_fleet_options_alone(m)?;
    refuse_format_as_output(m)?;
    let json_out = crate::args::json_output_wanted(m);
    // `-o -` is standard output, as with curl and most tools.
    let output = m
        .get_one::<PathBuf>("output")
        .filter(|p| p.as_os_str() != "-");
    let format = match m.get_one::<String>("format").map(String::as_str) {
        Some("json") => Format::Json,
        Some(_) => Format::Toml,
        None if output.is_some_and(|p| {
            p.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        }) =>
        {
            Format::Json
        }
        None => Format::Toml,
    };
    let env_name = m
        .get_one::<String>("token-env")
        .cloned()
        .unwrap_or_else(|| DEFAULT_TOKEN_ENV.to_string());
    if !is_env_name(&env_name) {
        return Err(CliError::usage(format!(
            "--token-env: {} is not an environment variable name (letters, digits and _, not starting with a digit)",
            input::clip(&env_name)
        )));
    }
    let secrets = SecretOptions {
        include: m.get_flag("include-secrets"),
        env_name,
    };
    if let Some(path) = output {
        check_output_path(path)?;
    }
    let (exported, source, read) = match m.get_one::<PathBuf>("instances") {
        Some(csv) => {
            conn.refuse_in_fleet()?;
            let all = read_fleet(conn, m, csv).await?;
            let source = format!("the {} instance(s) of {}", all.len(), csv.display());
            let exported = export_file::fleet(&all, &secrets);
            let read = all.into_iter().map(|(id, s)| (id, None, s)).collect();
            (exported, source, read)
        }
        None => {
            let target = conn.resolve().await?;
            let s = target.client.get_settings().await?;
            let id = target.client.id_instance();
            let source = format!("instance {id}");
            let url = Some(target.client.api_url().to_string());
            (
                export_file::single(&s, &secrets),
                source,
                vec![(id, url, s)],
            )
        }
    };
    let read: Vec<(u64, Option<String>, Settings)> = read;
    let text = match format {
        Format::Toml => export_file::render_toml(&exported, &source),
        Format::Json => export_file::render_json(&exported),
    };
    match output {
        Some(path) => {
            write_file(path, &text, secrets.include)?;
            crate::note!("exported the settings of {source} to {}", path.display());
        }
        None if json_out => {}
        None => crate::out!("{text}"),
    }
    if json_out {
        print_envelope(&read, &exported, output, secrets.include);
    }
    for why in &exported.left_out {
        crate::note!("note: left out, as it cannot be set: {why}");
    }
    if !exported.env_needed.is_empty() {
        crate::note!(
            "note: webhookUrlToken is written as an environment reference; set {} before plan / apply (or export with --include-secrets)",
            exported.env_needed.join(", ")
        );
    }
    Ok(Exit::Ok)
}

/// `--json`: each instance's values, and the settings file as a JSON document unless
/// `--output` wrote it (webhookUrlToken as the file has it: an environment reference, or in
/// clear with `--include-secrets`).
fn print_envelope(
    read: &[(u64, Option<String>, Settings)],
    exported: &export_file::Exported,
    output: Option<&PathBuf>,
    include_secrets: bool,
) {
    use serde_json::{json, Value};
    let results = read
        .iter()
        .map(|(id, url, s)| {
            json!({"idInstance": id, "apiUrl": url, "status": "read",
                "values": crate::envelope::values(s.to_json_value(), include_secrets), "error": null})
        })
        .collect();
    let document = match output {
        Some(_) => Value::Null,
        None => serde_json::from_str(&export_file::render_json(exported)).unwrap_or(Value::Null),
    };
    crate::envelope::Envelope::of_results(
        "export",
        crate::envelope::Started::of_command(),
        results,
    )
    .with(
        "output",
        output.map_or(Value::Null, |p| p.display().to_string().into()),
    )
    .with("document", document)
    .with("envNeeded", json!(exported.env_needed))
    .with("leftOut", json!(exported.left_out))
    .print();
}

/// `export --output json` (or `text`) most likely meant the envelope, not a file named so:
/// refused with a hint (`./json` writes such a file on purpose).
fn refuse_format_as_output(m: &ArgMatches) -> Result<(), CliError> {
    match m.get_one::<PathBuf>("output").and_then(|p| p.to_str()) {
        Some(f @ ("json" | "text")) => Err(CliError::usage(format!(
            "export's --output is the file to write, not a format: for the JSON envelope use --json{}; to write a file named {f}, give ./{f}",
            if f == "json" { "" } else { " (text is the default)" }
        ))),
        _ => Ok(()),
    }
}

/// Every instance's settings, or exit 1 naming the instances that could not be read.
async fn read_fleet(
    conn: &ConnArgs,
    m: &ArgMatches,
    csv: &Path,
) -> Result<Vec<(u64, Settings)>, CliError> {
    let (outcomes, signals) = super::get::read_fleet(conn, m, csv).await?;
    if let Some(code) = signals.exit() {
        let mut e = CliError::usage(format!(
            "stopped by {} before every instance was read; nothing was written",
            signals.name()
        ));
        e.exit = code;
        return Err(e);
    }
    let total = outcomes.len();
    let mut all = Vec::with_capacity(outcomes.len());
    let mut failures = Vec::new();
    for (inst, outcome, _) in outcomes {
        match outcome {
            crate::fleet::Outcome::Done(Ok(s)) => all.push((inst.id, s)),
            crate::fleet::Outcome::Done(Err(e)) => failures.push(format!(
                "instance {}: {}: {}",
                inst.id,
                e.kind(),
                inst.token.scrub(&e.to_string())
            )),
            _ => failures.push(format!("instance {}: not read", inst.id)),
        }
    }
    if !failures.is_empty() {
        return Err(CliError::failed(format!(
            "{} of {} instance(s) could not be read; nothing was written",
            failures.len(),
            total
        ))
        .with_problems(failures));
    }
    Ok(all)
}

fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Checked before any instance is contacted.
fn check_output_path(path: &Path) -> Result<(), CliError> {
    let shown = path.display();
    if path.is_dir() {
        return Err(CliError::usage(format!(
            "cannot write {shown}: it is a directory"
        )));
    }
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !parent.is_dir() {
        return Err(CliError::usage(format!(
            "cannot write {shown}: no directory {}",
            parent.display()
        )));
    }
    Ok(())
}

/// Writes `text` to `path` atomically (see `atomic_file`); a file with secrets in it is
/// readable by its owner only (Unix) from the moment it is created.
fn write_file(path: &Path, text: &str, secret: bool) -> Result<(), CliError> {
    let mode = if secret { 0o600 } else { 0o644 };
    crate::atomic_file::write(path, mode, |out| out.write_all(text.as_bytes()))
        .map_err(|e| CliError::failed(format!("cannot write {}: {e}", path.display())))
}
