//! The command line's shape: the clap definitions of every command and option (including one
//! `set` flag per writable setting of the spec), and the reading back of the options that more
//! than one command shares (connection options, `--concurrency`) into checked values.

use std::path::PathBuf;

use clap::{Arg, ArgAction, ArgMatches, Command};
use greenapi_settings::{ApiToken, ApplyOptions, FIELDS};
use greenapi_settings_sandbox::options as sandbox_options;

use crate::creds::{ConnArgs, ENV_CA_CERT};
use crate::exit::CliError;
use crate::{fleet, numbers};

/// The flag name of a setting: its snake_case name in kebab-case (`--webhook-url`).
pub(crate) fn kebab(snake: &str) -> String {
    snake.replace('_', "-")
}

/// The help heading of the options every command takes.
const GLOBAL: &str = "Global options";
/// The help heading of the options that say which instance to talk to and how.
const CONNECTION: &str = "Connection options";

/// The ids of the connection options, in help order.
pub(crate) const CONNECTION_IDS: [&str; 11] = [
    "api-url",
    "id-instance",
    "api-token",
    "profile",
    "sandbox",
    "timeout",
    "retries",
    "ca-cert",
    "proxy",
    "allow-insecure-proxy",
    "http2",
];

/// The connection options: global (given before or after the command), under their own
/// heading. Commands that talk to no instance get hidden copies ([`offline`]), so their help
/// does not show them and giving one is an error naming why.
fn connection_args() -> [Arg; 11] {
    [
        Arg::new("api-url").long("api-url").value_name("URL").help("API URL of the instance [env: GREEN_API_URL]"),
        Arg::new("id-instance").long("id-instance").value_name("ID").help("Instance id [env: GREEN_API_ID_INSTANCE]"),
        Arg::new("api-token")
            .long("api-token")
            .value_name("TOKEN")
            .hide_env_values(true)
            .help("API token; prefer GREEN_API_TOKEN or a profile (command lines are visible to other users)"),
        Arg::new("profile").long("profile").value_name("NAME").help("Profile from the profiles file [env: GREENAPI_SETTINGS_PROFILES]"),
        Arg::new("sandbox").long("sandbox").action(ArgAction::SetTrue).help("Target an embedded sandbox on purpose (set and apply refuse to run without credentials otherwise)"),
        Arg::new("timeout").long("timeout").value_name("DURATION").allow_negative_numbers(true).help("Timeout per request: seconds or a duration (30s, 2m), more than 0 and at most 1h (default 30s)"),
        Arg::new("retries").long("retries").value_name("N").allow_negative_numbers(true).help("Retries of retryable failures, 0 to 100 (default 3)"),
        Arg::new("ca-cert")
            .long("ca-cert")
            .value_name("FILE")
            .env(ENV_CA_CERT)
            .value_parser(clap::value_parser!(PathBuf))
            .help("Also trust the CA certificate(s) in FILE (PEM), on top of the system's roots: a private CA, a TLS-inspecting proxy's. Certificate checks are never turned off"),
        Arg::new("proxy")
            .long("proxy")
            .value_name("URL")
            .hide_env_values(true)
            .help("Send requests through this HTTP(S) proxy (http://[user:password@]host:port) instead of HTTPS_PROXY/HTTP_PROXY/ALL_PROXY; hosts in NO_PROXY go direct. The password is never shown"),
        Arg::new("allow-insecure-proxy")
            .long("allow-insecure-proxy")
            .action(ArgAction::SetTrue)
            .help("Let a plain http:// API URL go through a proxy (refused by default: the proxy would see the API token, which is in the request path)"),
        Arg::new("http2")
            .long("http2")
            .action(ArgAction::SetTrue)
            .help("Offer HTTP/2 to https:// API hosts (default HTTP/1.1): where the server takes it, a fleet's requests to one host share one connection once it is made"),
    ]
    .map(|a| a.global(true).help_heading(CONNECTION))
}

/// A command that talks to no instance: the connection options are accepted by the parser
/// (hidden, not global here, so clap does not propagate the visible ones into its help) and
/// refused by [`refuse_connection_options`] with the reason.
fn offline(command: Command) -> Command {
    command.args(connection_args().map(|a| a.global(false).hide(true)))
}

/// The commands that talk to no instance, and what each does instead (the reason a
/// connection option is refused there).
pub(crate) const OFFLINE: [(&str, &str); 9] = [
    ("validate", "checks files offline"),
    ("schema", "prints the settings files' schema"),
    ("docs", "prints the settings reference"),
    ("demo", "always runs on a fresh embedded sandbox"),
    ("sandbox", "runs the local server (see its own options)"),
    ("completions", "prints a shell script"),
    ("man", "prints the manual"),
    ("history", "reads the history `watch` recorded"),
    ("listen", "receives notifications on 127.0.0.1"),
];

/// Refuses connection options given to a command that talks to no instance (`why` says what
/// it does instead): they would be ignored silently.
pub(crate) fn refuse_connection_options(
    command: &str,
    m: &ArgMatches,
    why: &str,
) -> Result<(), CliError> {
    let given = on_command_line(m, CONNECTION_IDS);
    if given.is_empty() {
        return Ok(());
    }
    Err(CliError::usage(format!(
        "{} {} not apply to `{command}`: it {why}; leave {} out",
        given.join(" and "),
        if given.len() == 1 { "does" } else { "do" },
        if given.len() == 1 { "it" } else { "them" }
    )))
}

/// The options of `ids` that `m` has from the command line (not defaults or the
/// environment), as `--id`.
fn on_command_line<'a>(m: &ArgMatches, ids: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    ids.into_iter()
        .filter(|id| {
            m.try_contains_id(id).unwrap_or(false)
                && m.value_source(id) == Some(clap::parser::ValueSource::CommandLine)
        })
        .map(|id| format!("--{id}"))
        .collect()
}

/// The command line, with one `set` flag per writable setting of the spec.
pub fn command() -> Command {
    let global = [
        Arg::new("color").long("color").global(true).value_name("WHEN").value_parser(["auto", "always", "never"]).default_value("auto").help_heading(GLOBAL).help("Colour output (auto honours NO_COLOR, CLICOLOR and CLICOLOR_FORCE)"),
        Arg::new("verbose").long("verbose").short('v').global(true).action(ArgAction::SetTrue).help_heading(GLOBAL).help("Show error details"),
        Arg::new("quiet")
            .long("quiet")
            .short('q')
            .global(true)
            .action(ArgAction::SetTrue)
            .conflicts_with("verbose")
            .help_heading(GLOBAL)
            .help("Print results, changes, failures and errors only: no notes, no progress line, no lines for unchanged instances"),
    ];
    let file = || {
        Arg::new("file")
            .required(true)
            .value_name("FILE")
            .value_parser(clap::value_parser!(PathBuf))
            .help("Settings file (.toml or .json, at most 1 MiB; - reads standard input; API or snake_case names; defaults plus [instances.\"ID\"] overrides)")
    };
    let fleet_args = || {
        [
            Arg::new("instances")
                .long("instances")
                .value_name("CSV")
                .value_parser(clap::value_parser!(PathBuf))
                .help("Fleet mode: a file of `id,token,api_url` lines (at most 64 MiB; - reads standard input)"),
            Arg::new("concurrency")
                .long("concurrency")
                .value_name("N")
                .allow_negative_numbers(true)
                .default_value("32")
                .help("Fleet mode: instances worked on at once, 1 to 10000, within the open-file limit (each instance still gets at most 1 request/second)"),
            Arg::new("report").long("report").value_name("FILE").value_parser(clap::value_parser!(PathBuf)).help("Write the JSON report here (the --json envelope, with each instance's values before and after; apply --undo REPORT restores them); plan: fleet mode only"),
        ]
    };
    let mut set = Command::new("set")
        .about("Set settings directly (validated first; restarts the instance)")
        // `--json` is the settings here (as it always was): the envelope is `--output json`.
        .arg(output_format())
        .arg(
            Arg::new("json")
                .long("json")
                .value_name("JSON|@FILE")
                .help("Settings as a JSON object (or @FILE; @- reads standard input)"),
        );
    for f in FIELDS {
        let mut help = f.description.to_string();
        if f.status.is_ignored() {
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
                .hide(f.status.is_ignored()),
        );
    }
    let command = Command::new("greenapi-settings")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Read and change GREEN-API instance settings, for one instance or a fleet")
        .after_help(
            "Credentials come from one source as a whole: the flags, else GREEN_API_URL, GREEN_API_ID_INSTANCE and\n\
             GREEN_API_TOKEN, else the default profile. With none at all, commands that read run against an embedded\n\
             sandbox (and say so); set and apply refuse (exit 2) unless --sandbox asks for one on purpose.\n\
             Exit codes: 0 ok, 1 API or network failure (fleet: any instance failed), 2 invalid input or usage,\n\
             130 interrupted by Ctrl-C, 143 by SIGTERM (a fleet report marks instances not started; --resume carries on).",
        )
        .subcommand_required(true)
        .args(connection_args())
        .args(global)
        .subcommand(
            Command::new("get")
                .about("Show the instance's settings")
                .args(output_args())
                .arg(Arg::new("show-secrets").long("show-secrets").action(ArgAction::SetTrue).help("Show webhookUrlToken instead of <redacted>"))
                .args(fleet_args().into_iter().take(2))
                .args(fleet::options::selection_args()),
        )
        .subcommand(set)
        .subcommand(
            Command::new("plan")
                .about("Show what applying FILE would change (sends nothing); a fleet plan ends with a drift summary")
                .arg(file().required(false).required_unless_present("undo"))
                .args(fleet_args())
                .args(fleet::options::selection_args())
                .args(output_args())
                .arg(undo_arg("Show what `apply --undo REPORT` would restore (sends nothing; refused, like it, for an instance at another API URL than the report's, and with --only or --limit)"))
                .arg(
                    Arg::new("detailed-exitcode")
                        .long("detailed-exitcode")
                        .action(ArgAction::SetTrue)
                        .help("Exit 0 when nothing would change, 2 when changes are pending, 1 on any error (for CI and cron drift checks)"),
                )
                .after_help(SETTINGS_FILE_HELP),
        )
        .subcommand(
            Command::new("apply")
                .about("Bring the instance(s) to FILE, sending only what changed (nothing if nothing did)")
                .after_help(SETTINGS_FILE_HELP)
                .arg(file().required(false).required_unless_present("undo"))
                .args(fleet_args())
                .args(fleet::options::selection_args())
                .args(fleet::options::apply_args())
                .args(output_args())
                .arg(undo_arg("Restore the values a report's instances had before (only fields still at the report's value; others are conflicts, exit 1); --instances CSV for a fleet report. Refused (exit 2, nothing sent) when the CSV or the credentials give an instance another API URL than the report's (another environment with the same ids), and with --only, --limit, --batch, --batch-pause, --max-failures or --yes (an undo restores every instance of its report in one run)"))
                .arg(
                    Arg::new("resume")
                        .long("resume")
                        .value_name("REPORT")
                        .value_parser(clap::value_parser!(PathBuf))
                        .requires("instances")
                        .help("Fleet mode: retry only the instances that failed or were not started in this earlier report (an instance whose api_url changed is contacted again)"),
                )
                .arg(
                    Arg::new("wait")
                        .long("wait")
                        .value_name("DURATION")
                        .num_args(0..=1)
                        .require_equals(true)
                        .default_missing_value("5m")
                        .help("Verify and repair: read the settings back (1 request/s) until every field shows, re-sending only fields still wrong after --settle; wait at most DURATION (`--wait 5m` or `--wait=5m`; default 5m, the API's apply window). Without it the outcome is \"not verified\""),
                )
                .arg(
                    Arg::new("settle")
                        .long("settle")
                        .value_name("DURATION")
                        .requires("wait")
                        .help("With --wait: how long fields may read wrong after a setSettings before they are re-sent (default 60s)"),
                )
                .arg(
                    Arg::new("max-resends")
                        .long("max-resends")
                        .value_name("N")
                        .requires("wait")
                        .allow_negative_numbers(true)
                        .help("With --wait: the most re-sends of still-wrong fields per instance (default 2)"),
                ),
        )
        .subcommand(
            Command::new("watch")
                .about("Keep the instance(s) at FILE over time: read them every --every, record drift, and with --repair re-send only what drifted")
                .arg(file())
                .args(fleet_args().into_iter().take(2))
                .arg(Arg::new("every").long("every").value_name("DURATION").help("Time between the starts of two cycles (default 10m; at most 1 day)"))
                .arg(Arg::new("spread").long("spread").value_name("DURATION").help("Spread each cycle's reads over this window, with jitter (default: half of --every; 0 reads all at once; with --once, 0)"))
                .arg(Arg::new("once").long("once").action(ArgAction::SetTrue).help("Run one cycle and exit 0 (in sync), 2 (drift left) or 1 (an instance could not be read), like plan --detailed-exitcode"))
                .arg(Arg::new("repair").long("repair").action(ArgAction::SetTrue).conflicts_with("report-only").help("Re-send the drifted fields (only those) and verify them as apply --wait does"))
                .arg(Arg::new("report-only").long("report-only").action(ArgAction::SetTrue).help("Only read and record (the default): nothing is ever sent"))
                .arg(Arg::new("repair-wait").long("repair-wait").value_name("DURATION").requires("repair").help("With --repair: how long to read a repair back (default: --every, at most 5m); what has not converged by then is repaired again next cycle"))
                .arg(Arg::new("settle").long("settle").value_name("DURATION").requires("repair").help("With --repair: how long fields may read wrong after a re-send before they are re-sent again (default 60s, at most half the repair wait)"))
                .arg(Arg::new("max-resends").long("max-resends").value_name("N").requires("repair").allow_negative_numbers(true).help("With --repair: the most re-sends per repair (default 2)"))
                .arg(Arg::new("history").long("history").value_name("PATH").value_parser(clap::value_parser!(PathBuf)).help("The SQLite history of cycles and events (default $XDG_DATA_HOME/greenapi-settings/history.sqlite3; one watch per file)"))
                .arg(Arg::new("no-history").long("no-history").action(ArgAction::SetTrue).conflicts_with_all(["history", "keep"]).help("Record nothing (logs and metrics only)"))
                .arg(Arg::new("keep").long("keep").value_name("DURATION").help("Drop history rows older than this after each cycle (e.g. 30d)"))
                .arg(Arg::new("metrics").long("metrics").value_name("ADDR").help("Serve Prometheus metrics and /healthz here (e.g. 127.0.0.1:9464, or a bare port on 127.0.0.1)"))
                .arg(Arg::new("log-format").long("log-format").value_name("FORMAT").value_parser(["text", "json"]).help("One line per event on stderr: text (default) or json (JSON lines)"))
                .after_help("Signals: SIGTERM stops the loop (exit 0) and Ctrl-C (exit 130) after the instances in flight (at most 30 s);\nSIGHUP re-reads FILE and --instances (a file that does not validate is refused; the old one stays)."),
        )
        .subcommand(
            Command::new("validate")
                .about("Check a settings file offline; exit 2 listing every problem")
                .arg(file())
                .args(output_args())
                .args(fleet_args().into_iter().take(1))
                .after_help(SETTINGS_FILE_HELP),
        )
        .subcommand(
            Command::new("export")
                .about("Write the current settings of the instance (or fleet) as a settings file that apply accepts")
                .args(fleet_args().into_iter().take(2))
                .args(fleet::options::selection_args())
                .arg(json_output().help("Print the JSON envelope on stdout: each instance's values, and the settings file itself unless --output writes it"))
                .arg(Arg::new("format").long("format").value_name("FORMAT").value_parser(["toml", "json"]).help("toml (default) or json; a --output ending in .json means json"))
                .arg(Arg::new("output").long("output").short('o').value_name("FILE").value_parser(clap::value_parser!(PathBuf)).help("Write here instead of stdout (- is stdout)"))
                .arg(Arg::new("include-secrets").long("include-secrets").action(ArgAction::SetTrue).help("Write webhookUrlToken in clear (the --output file is then readable by its owner only)"))
                .arg(
                    Arg::new("token-env")
                        .long("token-env")
                        .value_name("NAME")
                        .help("Environment variable webhookUrlToken is written as (default GREENAPI_WEBHOOK_TOKEN; a fleet instance with a different token gets NAME_<id>)"),
                )
                .after_help(SETTINGS_FILE_HELP),
        )
        .subcommand(Command::new("schema").about("Print the JSON Schema (2020-12) of settings files"))
        .subcommand(
            Command::new("sandbox")
                .about("Run the local sandbox server (same URLs, auth, validation, errors and rate limit as the API)")
                // The same options, rules and messages as the `greenapi-settings-sandbox` binary.
                .args(sandbox_options::args())
                .after_help(sandbox_options::AFTER_HELP)
                // `sandbox trigger …` asks a running sandbox; the server's options do not apply.
                .args_conflicts_with_subcommands(true)
                .subcommand(crate::commands::sandbox_trigger::command()),
        )
        .subcommand(
            Command::new("spec-check")
                .about("Compare the instance's getSettings answer (or a saved one) with the spec; exit 1 if they differ")
                .args(output_args())
                .arg(
                    Arg::new("body")
                        .long("body")
                        .value_name("FILE")
                        .value_parser(clap::value_parser!(PathBuf))
                        .help("A saved getSettings answer (JSON) instead of asking the instance"),
                ),
        )
        .subcommand(
            Command::new("history")
                .about("Show what drifted when, the repairs and how long instances took to converge, and which settings drift most (from the history `watch` records)")
                .arg(Arg::new("history").long("history").value_name("PATH").value_parser(clap::value_parser!(PathBuf)).help("The history database (default $XDG_DATA_HOME/greenapi-settings/history.sqlite3, else ~/.local/share/…); opened read-only"))
                .arg(Arg::new("instance").long("instance").value_name("ID").help("Only this instance"))
                .arg(Arg::new("setting").long("setting").value_name("NAME").help("Only this setting (API or snake_case name): its drifts and the repairs that sent it"))
                .arg(Arg::new("since").long("since").value_name("DURATION").help("Only what happened in the last DURATION (24h, 7days, 90m)"))
                .arg(Arg::new("json").long("json").action(ArgAction::SetTrue).help("Print a JSON document (formatVersion 1; secrets redacted)")),
        )
        .subcommand(
            Command::new("doctor")
                .about("Say, for every notification, whether the instance's settings let it arrive and, if not, why; --probe also checks the receiver")
                .args(output_args())
                .args(fleet_args().into_iter().take(2))
                .args(fleet::options::selection_args())
                .arg(Arg::new("probe").long("probe").action(ArgAction::SetTrue).help("Also check the receiver at webhookUrl from this machine: DNS, TCP, TLS (certificate and days to expiry) and one POST of a marked test body with the webhook token (a redirect is reported, never followed)"))
                .arg(Arg::new("probe-timeout").long("probe-timeout").value_name("DURATION").help("With --probe: the longest each step may take (default 10s, at most 5m)"))
                .after_help("Exit codes: 0 everything the settings ask for can arrive, 1 something cannot (a kind with some of its settings off,
a kind the API documents as not working switched on, a receiver --probe cannot deliver to) or an instance could
not be read, 2 invalid input (nothing sent). TLS roots: the system's (SSL_CERT_FILE / SSL_CERT_DIR honoured)."),
        )
        .subcommand(
            Command::new("listen")
                .about("Receive notifications on 127.0.0.1 and print one line each (a local webhookUrl; pair it with `sandbox trigger`)")
                .arg(Arg::new("port").long("port").value_name("N").help("Port on 127.0.0.1 (default 0: any free port; the address is printed first)"))
                .arg(Arg::new("token-env").long("token-env").value_name("NAME").help("Check `Authorization: Bearer <token>` against the token in environment variable NAME (the instance's webhookUrlToken): 401 otherwise"))
                .arg(Arg::new("status").long("status").value_name("CODE").help("Answer notifications with this HTTP status instead of 200 (the API re-sends what is not answered 200)"))
                .arg(Arg::new("count").long("count").value_name("N").help("Exit after N notifications"))
                .arg(Arg::new("json-lines").long("json").action(ArgAction::SetTrue).help("Print each body as one JSON line on stdout (the lines for people go to stderr)"))
                .after_help("Only POSTs of a JSON object count; bodies above 4 MiB are answered 413. SIGTERM exits 0, Ctrl-C 130."),
        )
        .subcommand(Command::new("docs").about("Print the settings reference (generated from the spec)"))
        .subcommand(Command::new("demo").about("plan -> apply -> get -> apply again on a fresh embedded sandbox instance"))
        .subcommand(
            Command::new("completions")
                .about("Print the shell completion script (bash: `source <(greenapi-settings completions bash)`)")
                .arg(
                    Arg::new("shell")
                        .required(true)
                        .value_name("SHELL")
                        .value_parser(clap::value_parser!(clap_complete::Shell))
                        .help("bash, zsh, fish, elvish or powershell"),
                ),
        )
        .subcommand(
            Command::new("man")
                .about("Print the man page (roff; `greenapi-settings man | man -l -`), or write one per command")
                .arg(
                    Arg::new("dir")
                        .long("dir")
                        .value_name("DIR")
                        .value_parser(clap::value_parser!(PathBuf))
                        .help("Write greenapi-settings.1 and greenapi-settings-COMMAND.1 into DIR instead"),
                ),
        );
    OFFLINE
        .iter()
        .fold(command, |c, (name, _)| c.mut_subcommand(*name, offline))
}

/// `--output json|text`: the envelope on stdout instead of the text for people.
fn output_format() -> Arg {
    Arg::new("output-format")
        .long("output")
        .value_name("FORMAT")
        .value_parser(["json", "text"])
        .help("json: print one JSON envelope on stdout (formatVersion 2; secrets redacted), everything else on stderr; text (default)")
}

/// `--json`: `--output json`.
fn json_output() -> Arg {
    Arg::new("json-output")
        .long("json")
        .action(ArgAction::SetTrue)
        .help("Short for --output json")
}

fn output_args() -> [Arg; 2] {
    [
        output_format(),
        json_output().conflicts_with("output-format"),
    ]
}

/// `--undo REPORT` of `plan` and `apply`: FILE is then not given.
fn undo_arg(help: &'static str) -> Arg {
    Arg::new("undo")
        .long("undo")
        .value_name("REPORT")
        .value_parser(clap::value_parser!(PathBuf))
        .conflicts_with("file")
        .help(help)
}

/// Whether the command's output is the JSON envelope (`--output json` or `--json`).
pub(crate) fn json_output_wanted(m: &ArgMatches) -> bool {
    m.try_get_one::<String>("output-format")
        .ok()
        .flatten()
        .is_some_and(|f| f == "json")
        || m.try_get_one::<bool>("json-output").ok().flatten() == Some(&true)
}

/// `--wait 5m` read as `--wait=5m`. `--wait` takes an optional value, so clap alone needs the
/// `=` (otherwise `apply --wait FILE` would read FILE as the duration); a following argument
/// that starts with a digit and is not an existing file is its value. Arguments after `--`
/// are left alone.
pub(crate) fn join_wait_value(args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let mut out = Vec::with_capacity(args.len());
    let mut it = args.into_iter().peekable();
    while let Some(a) = it.next() {
        if a == "--" {
            out.push(a);
            out.extend(it);
            break;
        }
        if a == "--wait" {
            let value = it.peek().and_then(|next| next.to_str()).filter(|v| {
                v.starts_with(|c: char| c.is_ascii_digit()) && !std::path::Path::new(v).exists()
            });
            if let Some(v) = value.map(str::to_owned) {
                it.next();
                out.push(format!("--wait={v}").into());
                continue;
            }
        }
        out.push(a);
    }
    out
}

/// The settings file format, in the help of the commands that read or write one.
const SETTINGS_FILE_HELP: &str = "\
Settings file (TOML or JSON; `greenapi-settings schema` prints its JSON Schema):
  [settings]                                   # defaults (or the same keys at the top level)
  incomingWebhook = \"yes\"                      # API names or snake_case; yes/no or true/false
  webhookUrl = \"https://hooks.example.com/{idInstance}\"
  webhookUrlToken = \"${GREENAPI_WEBHOOK_TOKEN}\"  # from the environment; unset or empty is an error
  [instances.\"1101000001\"]                     # overrides for one instance, field by field
  delaySendMessagesMilliseconds = 5000
In strings, {idInstance} is the instance's id and ${NAME} an environment variable ($${ and
{{idInstance}} are literal). Every instance's settings are resolved and validated before anything
is sent. With --instances, an override for an instance not in the CSV is an error.";

/// The connection options (global: given before or after the command), checked.
pub(crate) fn conn_args(m: &ArgMatches) -> Result<ConnArgs, CliError> {
    let text = |name: &str| m.get_one::<String>(name).map(String::as_str);
    Ok(ConnArgs {
        api_url: m.get_one::<String>("api-url").cloned(),
        id_instance: text("id-instance")
            .map(|v| numbers::id_instance("--id-instance", v))
            .transpose()?,
        api_token: m
            .get_one::<String>("api-token")
            .map(|t| ApiToken::new(t.as_str())),
        profile: m.get_one::<String>("profile").cloned(),
        sandbox: m.get_flag("sandbox"),
        timeout: text("timeout").map(numbers::timeout).transpose()?,
        retries: text("retries")
            .map(|v| numbers::whole("--retries", v, 0, numbers::MAX_RETRIES))
            .transpose()?,
        // Empty (`GREEN_API_CA_CERT=`) counts as not given, as the credential variables do.
        ca_cert: m
            .get_one::<PathBuf>("ca-cert")
            .filter(|p| !p.as_os_str().is_empty())
            .cloned(),
        proxy: m.get_one::<String>("proxy").cloned(),
        allow_insecure_proxy: m.get_flag("allow-insecure-proxy"),
        http2: m.get_flag("http2"),
    })
}

/// Refuses the fleet options given on the command line (`--report`, `--concurrency`, the
/// selection, batch, failure-budget and `--yes` options of [`fleet::options`]) when no
/// `--instances` was: they would be ignored silently and, say, no report written.
pub(crate) fn refuse_fleet_options_alone(m: &ArgMatches) -> Result<(), CliError> {
    refuse_fleet_options_alone_except(m, &[])
}

/// [`refuse_fleet_options_alone`], but for the options `allowed` without `--instances` too
/// (a single `apply` writes its `--report`).
pub(crate) fn refuse_fleet_options_alone_except(
    m: &ArgMatches,
    allowed: &[&str],
) -> Result<(), CliError> {
    if m.try_get_one::<PathBuf>("instances")
        .ok()
        .flatten()
        .is_some()
    {
        return Ok(());
    }
    let given = on_command_line(
        m,
        ["report", "concurrency"]
            .into_iter()
            .chain(fleet::options::SELECTION_IDS)
            .chain(fleet::options::APPLY_IDS)
            .filter(|id| !allowed.contains(id)),
    );
    if given.is_empty() {
        return Ok(());
    }
    Err(CliError::usage(format!(
        "{} only apply to a fleet run: add --instances CSV, or leave {} out; nothing was sent",
        given.join(" and "),
        if given.len() == 1 { "it" } else { "them" }
    )))
}

/// `--concurrency` (fleet mode), checked: within [`numbers::MAX_CONCURRENCY`] and the open
/// files this process may have (the soft limit raised if need be).
pub(crate) fn concurrency(m: &ArgMatches) -> Result<usize, CliError> {
    let c = m.get_one::<String>("concurrency").map_or(Ok(32), |v| {
        numbers::whole("--concurrency", v, 1, numbers::MAX_CONCURRENCY)
    })?;
    crate::fleet::ensure_open_files(c)?;
    Ok(c)
}

/// The verify-and-repair options of `apply` (`--wait[=DURATION]`, `--settle`, `--max-resends`),
/// checked; `None` without `--wait`.
pub(crate) fn apply_options(m: &ArgMatches) -> Result<Option<ApplyOptions>, CliError> {
    let Some(wait) = m.try_get_one::<String>("wait").ok().flatten() else {
        return Ok(None);
    };
    let mut options = ApplyOptions::default().wait(numbers::duration("--wait", wait)?);
    if let Some(v) = m.get_one::<String>("settle") {
        options = options.settle(numbers::duration("--settle", v)?);
    }
    if let Some(v) = m.get_one::<String>("max-resends") {
        options = options.max_resends(numbers::whole("--max-resends", v, 0, 10)?);
    }
    Ok(Some(options))
}
