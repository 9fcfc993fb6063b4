//! The `greenapi-settings` command-line tool: get / set / plan / apply the settings of a
//! GREEN-API instance or a fleet of them, validate settings files offline, run the local
//! sandbox, print the settings reference, and a demo against an embedded sandbox.
//!
//! Exit codes: 0 ok, 1 the API or network failed (fleet: any instance failed), 2 invalid input
//! or usage (nothing was sent), 130 a fleet run interrupted by Ctrl-C (its report lists the
//! instances not started; `--resume` carries on).
//!
//! ```
//! let code = greenapi_settings_cli::main(["greenapi-settings", "validate", "--help"]);
//! assert_eq!(code, std::process::ExitCode::SUCCESS);
//! ```

mod args;
pub mod creds;
mod demo;
pub mod exit;
pub mod fleet;
pub mod input;
mod parse;
pub mod render;
pub mod settings_file;
pub mod style;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Arg, ArgAction, ArgMatches, Command};
use greenapi_settings::{ApiToken, SettingsPatch, Status, FIELDS};
use greenapi_settings_sandbox::{options as sandbox_options, Sandbox};

use creds::ConnArgs;
use exit::{CliError, Exit};
use style::Style;

/// The reference printed by `docs` (generated from the spec; a test keeps it current).
const SETTINGS_DOCS: &str = include_str!("../../../docs/settings.md");

fn kebab(snake: &str) -> String {
    snake.replace('_', "-")
}

/// The command line, with one `set` flag per writable setting of the spec.
pub fn command() -> Command {
    let conn = [
        Arg::new("api-url").long("api-url").global(true).value_name("URL").help("API URL of the instance [env: GREEN_API_URL]"),
        Arg::new("id-instance")
            .long("id-instance")
            .global(true)
            .value_name("ID")
            .help("Instance id [env: GREEN_API_ID_INSTANCE]"),
        Arg::new("api-token")
            .long("api-token")
            .global(true)
            .value_name("TOKEN")
            .hide_env_values(true)
            .help("API token; prefer GREEN_API_TOKEN or a profile (command lines are visible to other users)"),
        Arg::new("profile").long("profile").global(true).value_name("NAME").help("Profile from the profiles file [env: GREENAPI_SETTINGS_PROFILES]"),
        Arg::new("timeout").long("timeout").global(true).value_name("SECONDS").allow_negative_numbers(true).help("Timeout per request, more than 0 and at most 3600 (default 30)"),
        Arg::new("retries").long("retries").global(true).value_name("N").allow_negative_numbers(true).help("Retries of retryable failures, 0 to 100 (default 3)"),
        Arg::new("color").long("color").global(true).value_name("WHEN").value_parser(["auto", "always", "never"]).default_value("auto").help("Colour output"),
        Arg::new("verbose").long("verbose").short('v').global(true).action(ArgAction::SetTrue).help("Show error details"),
    ];
    let file = || {
        Arg::new("file")
            .required(true)
            .value_name("FILE")
            .value_parser(clap::value_parser!(PathBuf))
            .help("Settings file (.toml or .json, at most 1 MiB; API or snake_case names)")
    };
    let fleet_args = || {
        [
            Arg::new("instances")
                .long("instances")
                .value_name("CSV")
                .value_parser(clap::value_parser!(PathBuf))
                .help("Fleet mode: a file of `id,token,api_url` lines (at most 64 MiB)"),
            Arg::new("concurrency")
                .long("concurrency")
                .value_name("N")
                .allow_negative_numbers(true)
                .default_value("32")
                .help("Fleet mode: instances worked on at once, 1 to 1000 (each instance still gets at most 1 request/second)"),
            Arg::new("report").long("report").value_name("FILE").value_parser(clap::value_parser!(PathBuf)).help("Fleet mode: write a JSON report here"),
        ]
    };
    let mut set = Command::new("set")
        .about("Set settings directly (validated first; restarts the instance)")
        .arg(
            Arg::new("json")
                .long("json")
                .value_name("JSON|@FILE")
                .help("Settings as a JSON object (or @file)"),
        );
    for f in FIELDS {
        let mut help = f.description.to_string();
        if f.status == Status::Unused {
            help.push_str(" [not used]");
        }
        let value_name = match f.kind {
            greenapi_settings::FieldKind::YesNo => "yes|no",
            greenapi_settings::FieldKind::Integer => "N",
            greenapi_settings::FieldKind::Url => "URL",
            _ => "TEXT",
        };
        set = set.arg(
            Arg::new(f.snake)
                .long(kebab(f.snake))
                .value_name(value_name)
                .help(help)
                .hide(f.status == Status::Unused),
        );
    }
    Command::new("greenapi-settings")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Read and change GREEN-API instance settings, for one instance or a fleet")
        .after_help(
            "With no credentials at all, commands run against an embedded sandbox (and say so).\n\
             Exit codes: 0 ok, 1 API or network failure (fleet: any instance failed), 2 invalid input or usage,\n\
             130 fleet run interrupted by Ctrl-C (the report marks instances not started; --resume carries on).",
        )
        .subcommand_required(true)
        .args(conn)
        .subcommand(
            Command::new("get")
                .about("Show the instance's settings")
                .arg(Arg::new("json").long("json").action(ArgAction::SetTrue).help("Print JSON (API spelling)"))
                .arg(Arg::new("show-secrets").long("show-secrets").action(ArgAction::SetTrue).help("Show webhookUrlToken instead of <redacted>"))
                .args(fleet_args().into_iter().take(2)),
        )
        .subcommand(set)
        .subcommand(Command::new("plan").about("Show what applying FILE would change (sends nothing)").arg(file()).args(fleet_args()))
        .subcommand(
            Command::new("apply")
                .about("Bring the instance(s) to FILE, sending only what changed (nothing if nothing did)")
                .arg(file())
                .args(fleet_args())
                .arg(
                    Arg::new("resume")
                        .long("resume")
                        .value_name("REPORT")
                        .value_parser(clap::value_parser!(PathBuf))
                        .requires("instances")
                        .help("Fleet mode: retry only the instances that failed or were not started in this earlier report (an instance whose api_url changed is contacted again)"),
                ),
        )
        .subcommand(Command::new("validate").about("Check a settings file offline; exit 2 listing every problem").arg(file()))
        .subcommand(
            Command::new("sandbox")
                .about("Run the local sandbox server (same URLs, auth, validation, errors and rate limit as the API)")
                // The same options, rules and messages as the `greenapi-settings-sandbox` binary.
                .args(sandbox_options::args())
                .after_help(sandbox_options::AFTER_HELP),
        )
        .subcommand(Command::new("docs").about("Print the settings reference (generated from the spec)"))
        .subcommand(Command::new("demo").about("plan -> apply -> get -> apply again on a fresh embedded sandbox instance"))
}

/// Runs the CLI with these arguments (the first is the program name) and returns the exit code.
pub fn main<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let matches = match command().try_get_matches_from(args) {
        Ok(m) => m,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Usage.into()
            } else {
                Exit::Ok.into()
            };
        }
    };
    let verbose = matches.get_flag("verbose");
    let style = Style::from_choice(
        matches
            .get_one::<String>("color")
            .map_or("auto", String::as_str),
    );
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return Exit::Failed.into();
        }
    };
    match rt.block_on(dispatch(&matches, style)) {
        Ok(code) => code.into(),
        Err(e) => {
            eprintln!("{} {}", style_err(), e.message);
            if e.always_show_details || verbose {
                for d in &e.details {
                    eprintln!("  {d}");
                }
            } else if !e.details.is_empty() {
                eprintln!("  (run with --verbose for details)");
            }
            e.exit.into()
        }
    }
}

fn style_err() -> &'static str {
    "error:"
}

fn conn_args(m: &ArgMatches) -> Result<ConnArgs, CliError> {
    let text = |name: &str| m.get_one::<String>(name).map(String::as_str);
    Ok(ConnArgs {
        api_url: m.get_one::<String>("api-url").cloned(),
        id_instance: text("id-instance")
            .map(|v| args::id_instance("--id-instance", v))
            .transpose()?,
        api_token: m
            .get_one::<String>("api-token")
            .map(|t| ApiToken::new(t.as_str())),
        profile: m.get_one::<String>("profile").cloned(),
        timeout: text("timeout").map(args::timeout).transpose()?,
        retries: text("retries")
            .map(|v| args::whole("--retries", v, 0, args::MAX_RETRIES))
            .transpose()?,
    })
}

/// `--concurrency` (fleet mode), checked.
fn concurrency(m: &ArgMatches) -> Result<usize, CliError> {
    m.get_one::<String>("concurrency").map_or(Ok(32), |v| {
        args::whole("--concurrency", v, 1, args::MAX_CONCURRENCY)
    })
}

async fn dispatch(m: &ArgMatches, style: Style) -> Result<Exit, CliError> {
    let conn = conn_args(m)?;
    match m.subcommand() {
        Some(("get", sub)) => get(&conn, sub, style).await,
        Some(("set", sub)) => set(&conn, sub, style).await,
        Some(("plan", sub)) => plan_or_apply(&conn, sub, style, true).await,
        Some(("apply", sub)) => plan_or_apply(&conn, sub, style, false).await,
        Some(("validate", sub)) => validate(sub, style),
        Some(("sandbox", sub)) => sandbox(sub).await,
        Some(("docs", _)) => {
            print!("{SETTINGS_DOCS}");
            Ok(Exit::Ok)
        }
        Some(("demo", _)) => demo::run(style).await,
        _ => Err(CliError::usage("no command given; see --help")),
    }
}

async fn get(conn: &ConnArgs, m: &ArgMatches, style: Style) -> Result<Exit, CliError> {
    if let Some(csv) = m.get_one::<PathBuf>("instances") {
        return fleet_get(conn, m, csv).await;
    }
    let target = conn.resolve().await?;
    let settings = target.client.get_settings().await?;
    let reveal = m.get_flag("show-secrets");
    if m.get_flag("json") {
        println!(
            "{}",
            serde_json::to_string_pretty(&render::settings_json(&settings, reveal))
                .unwrap_or_default()
        );
    } else {
        print!("{}", render::settings_table(&settings, style, reveal));
    }
    Ok(Exit::Ok)
}

/// `get --instances`: every instance's settings as one JSON document on stdout, a summary on
/// stderr, exit 1 if any instance failed.
async fn fleet_get(conn: &ConnArgs, m: &ArgMatches, csv: &Path) -> Result<Exit, CliError> {
    let shown = csv.display().to_string();
    let concurrency = concurrency(m)?;
    let text = input::read_capped(csv, input::FLEET_FILE_CAP)?;
    let instances = fleet::parse_instances(&text, &shown)?;
    let reveal = m.get_flag("show-secrets");
    let outcomes = fleet::for_each(
        &instances,
        concurrency,
        conn,
        None,
        |client: greenapi_settings::Client| async move { client.get_settings().await },
    )
    .await?;
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
    println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    eprintln!(
        "{} instance(s): {} read, {failed} failed",
        instances.len(),
        instances.len() - failed
    );
    Ok(if failed > 0 { Exit::Failed } else { Exit::Ok })
}

async fn set(conn: &ConnArgs, m: &ArgMatches, style: Style) -> Result<Exit, CliError> {
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
    let warnings = patch.validate().into_result()?;
    let target = conn.resolve().await?;
    let resp = target.client.set_settings(&patch).await?;
    print!("{}", render::warnings(&warnings, style));
    if resp.save_settings {
        println!(
            "{} {} setting(s) on instance {} (the instance restarts; settings apply within 5 minutes)",
            style.green("saved"),
            patch.len(),
            target.client.id_instance()
        );
        Ok(Exit::Ok)
    } else {
        println!(
            "{} the server answered saveSettings: false",
            style.red("not saved:")
        );
        Ok(Exit::Failed)
    }
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

/// Loads and validates a settings file; errors become exit 2 with every problem.
fn load_valid(path: &Path) -> Result<(SettingsPatch, Vec<greenapi_settings::Violation>), CliError> {
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

fn validate(m: &ArgMatches, style: Style) -> Result<Exit, CliError> {
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

async fn plan_or_apply(
    conn: &ConnArgs,
    m: &ArgMatches,
    style: Style,
    dry_run: bool,
) -> Result<Exit, CliError> {
    let path = m
        .get_one::<PathBuf>("file")
        .ok_or_else(|| CliError::usage("missing FILE"))?;
    let (desired, _) = load_valid(path)?;
    if let Some(csv) = m.get_one::<PathBuf>("instances") {
        return fleet_command(conn, m, style, &desired, csv, dry_run).await;
    }
    let target = conn.resolve().await?;
    let client = &target.client;
    println!(
        "{}",
        style.bold(&format!(
            "instance {} at {}",
            client.id_instance(),
            client.api_url()
        ))
    );
    let plan = client.plan(&desired).await?;
    print!("{}", render::plan_diff(&plan, style));
    if plan.is_noop() {
        println!(
            "No changes: the instance already matches {}. Nothing {}.",
            path.display(),
            if dry_run { "to send" } else { "sent" }
        );
        return Ok(Exit::Ok);
    }
    if dry_run {
        println!("Plan: {} change(s). `apply` sends them in one setSettings call (the instance restarts).", plan.changes.len());
        return Ok(Exit::Ok);
    }
    let n = plan.changes.len();
    let applied = client.apply_plan(plan).await?;
    match applied.response {
        Some(r) if r.save_settings => {
            println!(
                "{} {n} change(s) (the instance restarts; settings apply within 5 minutes).",
                style.green("Applied")
            );
            Ok(Exit::Ok)
        }
        _ => {
            println!(
                "{} the server answered saveSettings: false",
                style.red("not saved:")
            );
            Ok(Exit::Failed)
        }
    }
}

/// Fleet `plan` / `apply`: every input is checked (instances file, report path, resume report)
/// before anything is sent; each instance's line is printed as it finishes; Ctrl-C stops
/// starting instances, lets those in flight finish, writes the report and exits 130.
async fn fleet_command(
    conn: &ConnArgs,
    m: &ArgMatches,
    style: Style,
    desired: &SettingsPatch,
    csv: &Path,
    dry_run: bool,
) -> Result<Exit, CliError> {
    let shown = csv.display().to_string();
    let concurrency = concurrency(m)?;
    let text = input::read_capped(csv, input::FLEET_FILE_CAP)?;
    let instances = fleet::parse_instances(&text, &shown)?;
    let done = match m.try_get_one::<PathBuf>("resume").ok().flatten() {
        Some(p) => fleet::load_resume(p, desired)?,
        None => Default::default(),
    };
    let report_path = m.get_one::<PathBuf>("report");
    if let Some(path) = report_path {
        fleet::check_report_path(path)?;
    }
    let (tx, interrupts) = tokio::sync::mpsc::unbounded_channel();
    let ctrl_c = tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            if tx.send(()).is_err() {
                break;
            }
        }
    });
    let report = fleet::run_until(
        fleet::FleetRun {
            desired,
            instances,
            concurrency,
            dry_run,
            done,
            conn,
            min_interval: None,
        },
        interrupts,
        |r| {
            fleet::clear_progress_line();
            println!("{}", fleet_line(r, style));
        },
    )
    .await;
    ctrl_c.abort();
    let report = report?;
    println!("{}", style.bold(&report.summary()));
    if let Some(path) = report_path {
        report.write(path)?;
        println!("report written to {}", path.display());
    }
    Ok(if report.interrupted {
        let how = match report_path {
            Some(p) => format!("run again with --resume {} to carry on", p.display()),
            None => "no --report was given, so there is no report to --resume from".into(),
        };
        eprintln!(
            "interrupted: {} instance(s) not started; {how}",
            report.count("notStarted")
        );
        Exit::Interrupted
    } else if report.any_failed() {
        Exit::Failed
    } else {
        Exit::Ok
    })
}

/// One instance's line of a fleet run.
fn fleet_line(r: &fleet::InstanceResult, style: Style) -> String {
    let status = match r.status {
        "failed" => style.red("failed"),
        "applied" => style.green("applied"),
        "planned" => style.yellow("planned"),
        other => style.dim(other),
    };
    let detail = match &r.error {
        Some((kind, msg)) => format!("{kind}: {msg}"),
        None if r.changes.is_empty() => String::new(),
        None => r.changes.join(", "),
    };
    let prev = if r.from_previous_run {
        style.dim(" (previous run)")
    } else {
        String::new()
    };
    format!("{:>12}  {status:<9}  {detail}{prev}", r.id)
}

async fn sandbox(m: &ArgMatches) -> Result<Exit, CliError> {
    // Every option was checked while parsing (bad ones exit 2 there).
    let config = sandbox_options::config(m);
    let ids = config.instance_ids();
    let handle = Sandbox::start(config)
        .await
        .map_err(|e| CliError::failed(format!("cannot start the sandbox: {e}")))?;
    println!("listening on {}", handle.url());
    let shown: Vec<String> = ids.iter().take(5).map(u64::to_string).collect();
    let more = if ids.len() > 5 {
        format!(" and {} more", ids.len() - 5)
    } else {
        String::new()
    };
    println!(
        "instances: {}{more} (tokens are not printed; see --help)",
        shown.join(", ")
    );
    println!("press Ctrl-C to stop");
    let _ = tokio::signal::ctrl_c().await;
    handle
        .shutdown()
        .await
        .map_err(|e| CliError::failed(format!("shutdown: {e}")))?;
    Ok(Exit::Ok)
}
