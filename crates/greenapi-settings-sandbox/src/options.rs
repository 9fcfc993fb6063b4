//! The sandbox's command-line options, defined once: the `greenapi-settings-sandbox` binary
//! and the `greenapi-settings sandbox` subcommand both parse them with [`args`] and build the
//! server's [`SandboxConfig`] with [`config`], so the same flags follow the same rules and a
//! bad one gets the same message (and exit code 2) from either.
//!
//! Every rule is checked while parsing, by the flags' value parsers: a value that parsed is a
//! valid one. No error shows the token of an `--instance` or a stray positional argument
//! (which may well be a token pasted in the wrong place).
//!
//! ```
//! use greenapi_settings_sandbox::options;
//!
//! let cmd = clap::Command::new("my-tool").args(options::args());
//! let matches = cmd.clone().try_get_matches_from(["my-tool", "--instances", "3"]).unwrap();
//! assert_eq!(options::config(&matches).instance_ids().len(), 3);
//!
//! let err = cmd.try_get_matches_from(["my-tool", "--error-rate", "5"]).unwrap_err();
//! assert_eq!(err.exit_code(), 2);
//! assert!(err.to_string().contains("from 0 to 1"), "{err}");
//! ```

use std::ffi::OsStr;
use std::path::PathBuf;
use std::time::Duration;

use clap::error::ErrorKind;
use clap::{Arg, ArgAction, ArgMatches, Command};
use greenapi_settings::redact::MIN_TOKEN_CHARS;

use crate::config::{SandboxConfig, DEFAULT_MAX_CONNECTIONS, DEFAULT_READ_TIMEOUT};
use crate::tls::TlsConfig;

/// Text shown after the options in `--help`: the inspection endpoints.
pub const AFTER_HELP: &str = "\
Options in MS take milliseconds (250) or a duration with a unit (1s, 2m, 1m 30s).
Inspection (no token needed, never shows tokens):
  GET /sandbox/instances, GET /sandbox/instances/ID, POST /sandbox/reset
  POST /sandbox/instances/ID/drift (body: settings to drift to; empty: revert the last change)
  POST /sandbox/instances/ID/notify (body: {\"type\": \"incomingCall\", \"variant\": null, \"fields\": {}})
  GET /sandbox/instances/ID/notifications (queued, failing, delivered, suppressed, dropped)
  GET /sandbox/server (connections accepted, TLS handshakes completed and failed)
--tls-cert/--tls-key imply HTTPS; a file that cannot be read or used exits 2.";

/// Most instances `--instances` creates.
pub const MAX_GENERATED_INSTANCES: u64 = 100_000;

/// An error that says `message` and nothing of the value it is about.
fn refuse(cmd: &Command, message: impl std::fmt::Display) -> clap::Error {
    clap::Error::raw(ErrorKind::ValueValidation, message).format(&mut cmd.clone())
}

/// A value parser whose errors say what was expected and never show the value (it may be a
/// token): the value must be UTF-8 (else `utf8`), then `parse` judges it.
#[derive(Clone, Copy, Debug)]
struct Quiet<T> {
    utf8: &'static str,
    parse: fn(&str) -> Result<T, String>,
}

impl<T: Clone + Send + Sync + 'static> clap::builder::TypedValueParser for Quiet<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &Command,
        _arg: Option<&Arg>,
        value: &OsStr,
    ) -> Result<Self::Value, clap::Error> {
        let value = value.to_str().ok_or_else(|| refuse(cmd, self.utf8))?;
        (self.parse)(value).map_err(|message| refuse(cmd, message))
    }
}

/// `ID:TOKEN`, the token non-empty and without `/` or control characters. Never echoed.
const INSTANCE: Quiet<(u64, String)> = Quiet {
    utf8: "--instance expects ID:TOKEN in UTF-8",
    parse: instance,
};

fn instance(value: &str) -> Result<(u64, String), String> {
    let (id, token) = value
        .split_once(':')
        .ok_or("--instance expects ID:TOKEN (e.g. 1101000001:sandbox-token)")?;
    let id: u64 =
        crate::request::canonical_id(id).ok_or("--instance expects ID:TOKEN with a numeric ID")?;
    if token.chars().count() < MIN_TOKEN_CHARS || token.chars().any(|c| c.is_control() || c == '/')
    {
        return Err(format!(
            "--instance {id}: the token must have at least {MIN_TOKEN_CHARS} characters (clients refuse shorter ones), without `/` or control characters"
        ));
    }
    Ok((id, token.to_string()))
}

/// Refuses any positional argument, without showing it.
#[derive(Clone, Copy, Debug)]
struct NoPositional;

impl clap::builder::TypedValueParser for NoPositional {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &Command,
        _arg: Option<&Arg>,
        _value: &OsStr,
    ) -> Result<Self::Value, clap::Error> {
        Err(refuse(
            cmd,
            "unexpected positional argument (not shown: it may be a token); options start with --",
        ))
    }
}

fn rate_limit(value: &str) -> Result<Option<u32>, String> {
    if value == "off" {
        return Ok(None);
    }
    match value.parse::<u32>() {
        Ok(n) if n > 0 => Ok(Some(n)),
        _ => Err("expects a positive number of requests per second, or `off`".into()),
    }
}

fn error_rate(value: &str) -> Result<f64, String> {
    value
        .parse::<f64>()
        .ok()
        .filter(|r| (0.0..=1.0).contains(r))
        .ok_or_else(|| "expects a number from 0 to 1".into())
}

/// `--drift-fields`: comma-separated writable settings (API or snake_case names), each
/// known; the value is not echoed (only a suggestion is).
const DRIFT_FIELDS: Quiet<Vec<&'static str>> = Quiet {
    utf8: "--drift-fields expects setting names in UTF-8",
    parse: drift_fields,
};

fn drift_fields(value: &str) -> Result<Vec<&'static str>, String> {
    let mut fields = Vec::new();
    for (i, name) in value.split(',').map(str::trim).enumerate() {
        let Some(info) = greenapi_settings::FieldInfo::find(name) else {
            let hint = match greenapi_settings::FieldInfo::suggest(name).first() {
                Some(s) => format!("; did you mean `{s}`?"),
                None => String::new(),
            };
            return Err(format!(
                "--drift-fields: name {} is not a writable setting (expects \
                 comma-separated API names, e.g. incomingWebhook,webhookUrl){hint}",
                i + 1
            ));
        };
        if !fields.contains(&info.name) {
            fields.push(info.name);
        }
    }
    Ok(fields)
}

fn file_name(value: &str) -> Result<PathBuf, String> {
    if value.is_empty() {
        Err("expects a file name".into())
    } else {
        Ok(PathBuf::from(value))
    }
}

/// A duration option in milliseconds: a bare number is milliseconds (`250`), anything else is
/// read by `humantime` (`1s`, `1m 30s`, `500ms`), the same grammar as the CLI's durations.
fn millis(value: &str) -> Result<u64, String> {
    let t = value.trim();
    t.parse::<u64>()
        .ok()
        .or_else(|| {
            humantime::parse_duration(t)
                .ok()
                .and_then(|d| u64::try_from(d.as_millis()).ok())
        })
        .ok_or_else(|| {
            "expects milliseconds (250) or a duration with a unit (1s, 2m, 1m 30s)".into()
        })
}

fn duration_ms(id: &'static str, help: impl Into<String>) -> Arg {
    Arg::new(id)
        .long(id)
        .value_name("MS")
        .value_parser(millis)
        .help(help.into())
}

fn number(id: &'static str, value_name: &'static str, help: impl Into<String>) -> Arg {
    Arg::new(id)
        .long(id)
        .value_name(value_name)
        .value_parser(clap::value_parser!(u64))
        .help(help.into())
}

/// Every option of the sandbox, for a `clap::Command` (`Command::args`). Read the result
/// with [`config`].
pub fn args() -> Vec<Arg> {
    let mut args = vec![
        Arg::new("port")
            .long("port")
            .value_name("N")
            .value_parser(clap::value_parser!(u16))
            .help("Port on 127.0.0.1 (default 0: any free port)"),
        Arg::new("instance")
            .long("instance")
            .value_name("ID:TOKEN")
            .action(ArgAction::Append)
            .value_parser(INSTANCE)
            .conflicts_with("instances")
            .help("Serve this instance (repeatable; default: 1101000001 with token sandbox-token)"),
        Arg::new("instances")
            .long("instances")
            .value_name("N")
            .value_parser(clap::value_parser!(u64).range(1..=MAX_GENERATED_INSTANCES))
            .help("Serve N instances 1101000001.. with tokens sandbox-token-<id>"),
        Arg::new("rate-limit")
            .long("rate-limit")
            .value_name("N|off")
            .value_parser(rate_limit)
            .help("Requests per second per instance (default 1)"),
        duration_ms(
            "apply-delay-ms",
            "setSettings becomes visible after MS milliseconds (default 0)",
        ),
        duration_ms(
            "restart-ms",
            "Answer 400 \"starting\" for MS milliseconds after setSettings (default 0)",
        ),
        duration_ms(
            "latency-ms",
            "Delay every answer by MS milliseconds (default 0)",
        ),
        Arg::new("error-rate")
            .long("error-rate")
            .value_name("F")
            .value_parser(error_rate)
            .help("Answer this share (0 to 1) of requests with 5xx (default 0)"),
        Arg::new("lost-write-rate")
            .long("lost-write-rate")
            .value_name("F")
            .value_parser(error_rate)
            .help(
                "Lose this share (0 to 1) of the fields of acknowledged setSettings calls: \
                 answered saveSettings: true, never applied (default 0)",
            ),
        duration_ms(
            "drift-after-ms",
            "MS milliseconds after a setSettings took effect, its settings revert by themselves \
             (default: never)",
        ),
        Arg::new("drift-fields")
            .long("drift-fields")
            .value_name("A,B")
            .value_parser(DRIFT_FIELDS)
            .help("Only these settings drift (default: every setting of the call)"),
        number(
            "drift-limit",
            "N",
            "At most N scheduled drifts per instance, then changes stick (default: no limit)",
        ),
        number(
            "seed",
            "N",
            "Seed of the fault injection (5xx faults and lost writes)",
        ),
        number(
            "quota",
            "N",
            "Total calls allowed per instance, then 466 (default: none)",
        ),
        Arg::new("body-limit")
            .long("body-limit")
            .value_name("BYTES")
            .value_parser(clap::value_parser!(u64).range(1..=usize::MAX as u64))
            .help("Largest setSettings body in bytes (default 65536)"),
        Arg::new("state")
            .long("state")
            .value_name("FILE")
            .value_parser(file_name)
            .help("Keep settings in FILE across restarts"),
        Arg::new("max-connections")
            .long("max-connections")
            .value_name("N")
            .value_parser(clap::value_parser!(u64).range(1..=1_000_000))
            .help(format!(
                "Connections served at once; more wait (default {DEFAULT_MAX_CONNECTIONS})"
            )),
        Arg::new("read-timeout-ms")
            .long("read-timeout-ms")
            .value_name("MS")
            .value_parser(|v: &str| match millis(v)? {
                0 => Err("expects more than 0 milliseconds".to_string()),
                ms => Ok(ms),
            })
            .help(format!(
                "Time a client has to send a request's headers, then its body (default {})",
                DEFAULT_READ_TIMEOUT.as_millis()
            )),
        Arg::new("tls").long("tls").action(ArgAction::SetTrue).help(
            "Serve HTTPS with a certificate for localhost and the listening addresses, \
                 signed by a throw-away CA made at start (its PEM file's path is printed)",
        ),
        Arg::new("tls-ca-out")
            .long("tls-ca-out")
            .value_name("FILE")
            .value_parser(file_name)
            .requires("tls")
            .conflicts_with("tls-cert")
            .help("With --tls: write the CA's PEM to FILE (default: a temporary file)"),
        Arg::new("tls-cert")
            .long("tls-cert")
            .value_name("FILE")
            .value_parser(file_name)
            .requires("tls-key")
            .help("Serve HTTPS with this certificate chain (PEM, leaf first); needs --tls-key"),
        Arg::new("tls-key")
            .long("tls-key")
            .value_name("FILE")
            .value_parser(file_name)
            .requires("tls-cert")
            .help("The private key (PEM) of --tls-cert's certificate"),
        Arg::new("offer-http2")
            .long("offer-http2")
            .action(ArgAction::SetTrue)
            .help("Serve HTTPS (as --tls, or with --tls-cert) and also offer HTTP/2: clients that speak it send their requests as streams of one connection"),
        Arg::new("hosts")
            .long("hosts")
            .value_name("N")
            .value_parser(clap::value_parser!(u8).range(1..=254))
            .help(
                "Listen on 127.0.0.1 to 127.0.0.N, one port, the same instances \
                 (default 1)",
            ),
        Arg::new("unexpected")
            .action(ArgAction::Append)
            .value_parser(NoPositional)
            .hide(true),
    ];
    args.extend(crate::notifications::options::args(millis));
    args
}

/// The standalone binary's command line: `name` with [`args`], `--help` and `--version`.
pub fn command(name: &'static str) -> Command {
    Command::new(name)
        .version(env!("CARGO_PKG_VERSION"))
        .about(
            "A local server that behaves like the GREEN-API getSettings / setSettings endpoints \
             (no account, no network)",
        )
        .args(args())
        .after_help(AFTER_HELP)
}

/// The configuration `matches` (parsed with [`args`]) ask for; options not given keep
/// [`SandboxConfig::default`]'s values.
pub fn config(matches: &ArgMatches) -> SandboxConfig {
    let mut config = SandboxConfig::default();
    let ms = |id: &str| {
        matches
            .get_one::<u64>(id)
            .map(|ms| Duration::from_millis(*ms))
    };
    if let Some(port) = matches.get_one::<u16>("port") {
        config = config.port(*port);
    }
    if let Some(n) = matches.get_one::<u64>("instances") {
        config = config.with_generated_instances(*n as usize);
    }
    for (id, token) in matches
        .get_many::<(u64, String)>("instance")
        .into_iter()
        .flatten()
    {
        config = config.with_instance(*id, token.clone());
    }
    if let Some(limit) = matches.get_one::<Option<u32>>("rate-limit") {
        config = config.rate_limit(*limit);
    }
    if let Some(delay) = ms("apply-delay-ms") {
        config = config.apply_delay(delay);
    }
    if let Some(duration) = ms("restart-ms") {
        config = config.restart_duration(duration);
    }
    if let Some(latency) = ms("latency-ms") {
        config = config.latency(latency);
    }
    if let Some(rate) = matches.get_one::<f64>("error-rate") {
        config = config.error_rate(*rate);
    }
    if let Some(rate) = matches.get_one::<f64>("lost-write-rate") {
        config = config.lost_write_rate(*rate);
    }
    if let Some(delay) = ms("drift-after-ms") {
        config = config.drift_after(delay);
    }
    if let Some(fields) = matches.get_one::<Vec<&'static str>>("drift-fields") {
        config = config.drift_fields(fields.iter().copied());
    }
    if let Some(limit) = matches.get_one::<u64>("drift-limit") {
        config = config.drift_limit(Some(*limit));
    }
    if let Some(seed) = matches.get_one::<u64>("seed") {
        config = config.seed(*seed);
    }
    if let Some(quota) = matches.get_one::<u64>("quota") {
        config = config.quota(Some(*quota));
    }
    if let Some(bytes) = matches.get_one::<u64>("body-limit") {
        config = config.body_limit(usize::try_from(*bytes).unwrap_or(usize::MAX));
    }
    if let Some(path) = matches.get_one::<PathBuf>("state") {
        config = config.state_file(path.clone());
    }
    if let Some(n) = matches.get_one::<u64>("max-connections") {
        config = config.max_connections(usize::try_from(*n).unwrap_or(usize::MAX));
    }
    if let Some(timeout) = ms("read-timeout-ms") {
        config = config.read_timeout(timeout);
    }
    if let Some(n) = matches.get_one::<u8>("hosts") {
        config = config.hosts(*n);
    }
    let cert = matches.get_one::<PathBuf>("tls-cert");
    let key = matches.get_one::<PathBuf>("tls-key");
    let http2 = matches.get_flag("offer-http2");
    if let (Some(cert), Some(key)) = (cert, key) {
        config = config.tls(TlsConfig::files(cert, key).http2(http2));
    } else if matches.get_flag("tls") || http2 {
        config = config.tls(
            match matches.get_one::<PathBuf>("tls-ca-out") {
                Some(out) => TlsConfig::generated_with_ca_out(out),
                None => TlsConfig::generated(),
            }
            .http2(http2),
        );
    }
    crate::notifications::options::apply(matches, config)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<SandboxConfig, clap::Error> {
        let argv = std::iter::once("greenapi-settings-sandbox").chain(args.iter().copied());
        command("greenapi-settings-sandbox")
            .try_get_matches_from(argv)
            .map(|m| config(&m))
    }

    #[test]
    fn the_command_is_well_formed() {
        command("greenapi-settings-sandbox").debug_assert();
    }

    #[test]
    fn no_arguments_serve_the_default_instance() {
        let config = parse(&[]).unwrap();
        assert_eq!(config.instance_ids(), [crate::DEFAULT_INSTANCE_ID]);
    }

    #[test]
    fn every_option_is_understood_in_both_spellings() {
        let config = parse(&[
            "--port",
            "0",
            "--instance",
            "5:zq-token-one",
            "--instance=6:zq-token-two",
            "--rate-limit",
            "off",
            "--apply-delay-ms=10",
            "--restart-ms",
            "5",
            "--latency-ms",
            "1s",
            "--error-rate",
            "0.5",
            "--seed",
            "9",
            "--quota",
            "3",
            "--body-limit",
            "100",
            "--state",
            "/tmp/x.json",
            "--max-connections",
            "7",
            "--read-timeout-ms",
            "1500",
            "--lost-write-rate",
            "0.25",
            "--drift-after-ms=2000",
            "--drift-fields",
            "incomingWebhook, delay_send_messages_milliseconds",
            "--drift-limit",
            "1",
        ])
        .unwrap();
        assert_eq!(config.instance_ids(), [5, 6]);
        assert_eq!(
            config.state_file_path(),
            Some(std::path::Path::new("/tmp/x.json"))
        );
        let shown = format!("{config:?}");
        for part in [
            "rate_limit: None",
            "error_rate: 0.5",
            "max_connections: 7",
            "read_timeout: 1.5s",
            "body_limit: 100",
            "quota: Some(3)",
            "lost_write_rate: 0.25",
            "drift_after: Some(2s)",
            r#"drift_fields: Some(["incomingWebhook", "delaySendMessagesMilliseconds"])"#,
            "drift_limit: Some(1)",
            "latency: 1s",
        ] {
            assert!(shown.contains(part), "{part} in {shown}");
        }
        assert!(!shown.contains("zq-"), "{shown}");
    }

    #[test]
    fn millisecond_options_take_durations_with_units_too() {
        for (raw, ms) in [("250", 250), ("1s", 1000), ("1m 30s", 90_000), ("20ms", 20)] {
            assert_eq!(millis(raw), Ok(ms), "{raw}");
        }
        let err = parse(&["--latency-ms", "soon"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("a duration with a unit"), "{err}");
        assert!(parse(&["--read-timeout-ms", "0s"]).is_err());
    }

    #[test]
    fn generated_instances_keep_the_other_options() {
        let config = parse(&["--rate-limit", "off", "--instances", "3"]).unwrap();
        assert_eq!(config.instance_ids().len(), 3);
        assert!(format!("{config:?}").contains("rate_limit: None"));
    }

    #[test]
    fn lost_write_rate_takes_both_ends_and_drift_fields_suggest_a_name() {
        for rate in ["0", "1", "0.5"] {
            assert!(parse(&["--lost-write-rate", rate]).is_ok(), "{rate}");
        }
        let err = parse(&["--drift-fields", "incomingWebhok"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let text = err.to_string();
        assert!(text.contains("did you mean `incomingWebhook`"), "{text}");
        assert!(!text.contains("incomingWebhok"), "{text}");
    }

    #[test]
    fn the_options_mean_the_same_inside_another_command() {
        // The CLI's `sandbox` subcommand embeds `args()` in its own command.
        let cmd =
            Command::new("greenapi-settings").subcommand(Command::new("sandbox").args(args()));
        for (argv, ok) in [
            (&["--lost-write-rate", "1"][..], true),
            (&["--lost-write-rate", "2"], false),
            (
                &["--drift-after-ms", "10", "--drift-fields", "webhookUrl"],
                true,
            ),
            (&["--drift-fields", "nope"], false),
        ] {
            let full = ["greenapi-settings", "sandbox"]
                .into_iter()
                .chain(argv.iter().copied());
            let result = cmd.clone().try_get_matches_from(full);
            match (result, ok) {
                (Ok(m), true) => {
                    let sub = m.subcommand_matches("sandbox").unwrap();
                    let ours = parse(argv).unwrap();
                    assert_eq!(format!("{:?}", config(sub)), format!("{ours:?}"));
                }
                (Err(e), false) => {
                    assert_eq!(e.exit_code(), 2);
                    let ours = parse(argv).unwrap_err().to_string();
                    let first = |t: &str| t.lines().next().unwrap_or_default().to_string();
                    assert_eq!(first(&e.to_string()), first(&ours), "{argv:?}");
                }
                (other, _) => panic!("{argv:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn tls_options_choose_the_certificate_and_hosts_the_addresses() {
        let shown = |args: &[&str]| format!("{:?}", parse(args).unwrap());
        assert!(shown(&[]).contains("tls: None"));
        assert!(shown(&["--tls"]).contains("tls: Some(Generated { ca_out: None, http2: false })"));
        assert!(shown(&["--tls", "--tls-ca-out", "ca.pem"])
            .contains(r#"tls: Some(Generated { ca_out: Some("ca.pem"), http2: false })"#));
        let own = shown(&["--tls-cert", "c.pem", "--tls-key", "k.pem"]);
        assert!(
            own.contains(r#"tls: Some(Files { cert: "c.pem", key: "k.pem", http2: false })"#),
            "{own}"
        );
        // --offer-http2 serves HTTPS (as --tls) and offers h2, with either certificate.
        assert!(shown(&["--offer-http2"])
            .contains("tls: Some(Generated { ca_out: None, http2: true })"));
        assert!(shown(&["--tls", "--offer-http2"]).contains("http2: true"));
        assert!(
            shown(&["--tls-cert", "c.pem", "--tls-key", "k.pem", "--offer-http2"])
                .contains(r#"Files { cert: "c.pem", key: "k.pem", http2: true }"#)
        );
        assert_eq!(
            shown(&["--tls", "--tls-cert", "c.pem", "--tls-key", "k.pem"]),
            own
        );
        assert!(shown(&["--hosts", "20"]).contains("hosts: 20"));
        assert!(shown(&[]).contains("hosts: 1"));
    }

    #[test]
    fn help_is_not_an_error() {
        let err = parse(&["--port", "1", "--help"]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::DisplayHelp);
        assert_eq!(err.exit_code(), 0);
        assert!(err.to_string().contains("/sandbox/instances"), "{err}");
    }

    #[test]
    fn bad_options_are_usage_errors_that_show_no_token() {
        for args in [
            &["--port"][..],
            &["--port", "x"],
            &["--port", "70000"],
            &["--instance", "abc"],
            &["--instance", "x:secret-token-1"],
            &["--instance", "01:secret-token-1"],
            &["--instance", "1:"],
            &["--instance", "1:secret/token"],
            &["--rate-limit", "0"],
            &["--rate-limit", "-1"],
            &["--error-rate", "5"],
            &["--error-rate", "1.5"],
            &["--error-rate", "NaN"],
            &["--error-rate", "-0.1"],
            &["--bogus"],
            &["secret-token-2"],
            &["--instances", "0"],
            &["--instances", "100001"],
            &["--instance", "1:token-one-a", "--instances", "2"],
            &["--instance", "1:Zq7-4k2"],
            &["--state", ""],
            &["--max-connections", "0"],
            &["--read-timeout-ms", "0"],
            &["--body-limit", "0"],
            &["--lost-write-rate", "1.5"],
            &["--lost-write-rate", "-0.1"],
            &["--lost-write-rate", "NaN"],
            &["--lost-write-rate", "half"],
            &["--drift-after-ms", "-1"],
            &["--drift-after-ms", "soon"],
            &["--drift-fields", ""],
            &["--drift-fields", "incomingWebhook,secret-token-3"],
            &["--drift-fields", "incomingWebhook,,webhookUrl"],
            &["--drift-limit", "-1"],
            &["--tls-cert", "c.pem"],
            &["--tls-key", "k.pem"],
            &["--tls-ca-out", "ca.pem"],
            &[
                "--tls",
                "--tls-ca-out",
                "ca.pem",
                "--tls-cert",
                "c",
                "--tls-key",
                "k",
            ],
            &["--tls-cert", ""],
            &["--hosts", "0"],
            &["--hosts", "255"],
        ] {
            let err = parse(args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}: {err}");
            let text = err.to_string();
            assert!(text.starts_with("error: "), "{args:?}: {text}");
            assert!(!text.contains("secret"), "{args:?}: {text}");
        }
    }
}
