//! Command-line flags, parsed by hand (a handful of flags do not need a parser crate).

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use greenapi_settings_sandbox::SandboxConfig;

/// `--help` text.
pub(crate) const USAGE: &str = "\
greenapi-settings-sandbox: a local server that behaves like the GREEN-API
getSettings / setSettings endpoints (no account, no network).

USAGE:
    greenapi-settings-sandbox [OPTIONS]

OPTIONS:
    --port N              port on 127.0.0.1 (default 0: any free port)
    --instance ID:TOKEN   serve this instance (repeatable; default: the instance
                          1101000001 with token sandbox-token)
    --instances N         serve N instances 1101000001.. with tokens
                          sandbox-token-<id>
    --rate-limit N|off    requests per second per instance (default 1)
    --apply-delay-ms N    setSettings becomes visible after N ms (default 0)
    --restart-ms N        answer 400 \"starting\" for N ms after setSettings (default 0)
    --latency-ms N        delay every answer by N ms (default 0)
    --error-rate F        answer this share (0..1) of requests with 5xx (default 0)
    --seed N              seed of the fault injection
    --quota N             total calls allowed per instance, then 466 (default: none)
    --body-limit N        largest setSettings body in bytes (default 65536)
    --state FILE          keep settings in FILE across restarts
    -h, --help            print this help

Inspection (no token needed, never shows tokens):
    GET /sandbox/instances, GET /sandbox/instances/ID, POST /sandbox/reset
";

/// What the command line asks for.
#[derive(Debug)]
pub(crate) enum Command {
    /// Print the usage.
    Help,
    /// Run a server.
    Run(SandboxConfig),
}

fn number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{flag} expects a non-negative integer, got `{value}`"))
}

fn millis(flag: &str, value: &str) -> Result<Duration, String> {
    number::<u64>(flag, value).map(Duration::from_millis)
}

/// Parses the arguments after the program name. Errors are one line, never containing a
/// token.
pub(crate) fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Command, String> {
    let mut config = SandboxConfig::default();
    let mut args = args.into_iter();
    let mut explicit = false;
    let mut generated = false;
    while let Some(arg) = args.next() {
        let arg = arg
            .into_string()
            .map_err(|_| "arguments must be valid UTF-8".to_string())?;
        // Accept both `--flag value` and `--flag=value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg, None),
        };
        if flag == "-h" || flag == "--help" {
            return Ok(Command::Help);
        }
        let known = [
            "--port",
            "--instance",
            "--instances",
            "--rate-limit",
            "--apply-delay-ms",
            "--restart-ms",
            "--latency-ms",
            "--error-rate",
            "--seed",
            "--quota",
            "--body-limit",
            "--state",
        ];
        if !flag.starts_with('-') {
            // Not echoed: a stray positional argument may well be a token.
            return Err("unexpected positional argument (flags start with --)".into());
        }
        if !known.contains(&flag.as_str()) {
            return Err(format!("unknown flag `{}`", shown(&flag)));
        }
        let value = match inline {
            Some(v) => v,
            None => args
                .next()
                .ok_or_else(|| format!("{flag} needs a value"))?
                .into_string()
                .map_err(|_| format!("the value of {flag} must be valid UTF-8"))?,
        };
        let v = value.as_str();
        config = match flag.as_str() {
            "--port" => config.port(number(&flag, v)?),
            "--instance" => {
                let (id, token) = v
                    .split_once(':')
                    .ok_or("--instance expects ID:TOKEN (e.g. 1101000001:sandbox-token)")?;
                let id: u64 = id
                    .parse()
                    .map_err(|_| "--instance expects ID:TOKEN with a numeric ID".to_string())?;
                if token.is_empty() || token.chars().any(|c| c.is_control() || c == '/') {
                    return Err(format!(
                        "--instance {id}: the token must be non-empty, without `/` or control characters"
                    ));
                }
                if generated {
                    return Err("--instance and --instances cannot be combined".into());
                }
                explicit = true;
                config.with_instance(id, token)
            }
            "--instances" => {
                if explicit {
                    return Err("--instance and --instances cannot be combined".into());
                }
                let n: usize = number(&flag, v)?;
                if n == 0 || n > 100_000 {
                    return Err(format!("--instances expects 1..=100000, got {n}"));
                }
                generated = true;
                config.with_generated_instances(n)
            }
            "--rate-limit" if v == "off" => config.rate_limit(None),
            "--rate-limit" => {
                let n: u32 = number(&flag, v)?;
                if n == 0 {
                    return Err("--rate-limit expects a positive number or `off`".into());
                }
                config.rate_limit(Some(n))
            }
            "--apply-delay-ms" => config.apply_delay(millis(&flag, v)?),
            "--restart-ms" => config.restart_duration(millis(&flag, v)?),
            "--latency-ms" => config.latency(millis(&flag, v)?),
            "--error-rate" => {
                let rate: f64 = v
                    .parse()
                    .ok()
                    .filter(|r: &f64| (0.0..=1.0).contains(r))
                    .ok_or_else(|| {
                        format!("--error-rate expects a number from 0 to 1, got `{v}`")
                    })?;
                config.error_rate(rate)
            }
            "--seed" => config.seed(number(&flag, v)?),
            "--quota" => config.quota(Some(number(&flag, v)?)),
            "--body-limit" => config.body_limit(number(&flag, v)?),
            "--state" if v.is_empty() => return Err("--state needs a file name".into()),
            "--state" => config.state_file(PathBuf::from(v)),
            _ => return Err(format!("unknown flag `{}`", shown(&flag))),
        };
    }
    Ok(Command::Run(config))
}

/// A flag as shown in an error, cut short.
fn shown(arg: &str) -> String {
    let mut s: String = arg.chars().take(24).collect();
    if s.len() < arg.len() {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<SandboxConfig, String> {
        match parse(args.iter().map(OsString::from))? {
            Command::Run(config) => Ok(config),
            Command::Help => Err("help".into()),
        }
    }

    #[test]
    fn no_arguments_serve_the_default_instance() {
        let config = run(&[]).unwrap();
        assert_eq!(
            config.instance_ids(),
            [greenapi_settings_sandbox::DEFAULT_INSTANCE_ID]
        );
    }

    #[test]
    fn every_flag_is_understood_in_both_spellings() {
        let config = run(&[
            "--port",
            "0",
            "--instance",
            "5:zq-one",
            "--instance=6:zq-two",
            "--rate-limit",
            "off",
            "--apply-delay-ms=10",
            "--restart-ms",
            "5",
            "--latency-ms",
            "1",
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
        ])
        .unwrap();
        assert_eq!(config.instance_ids(), [5, 6]);
        assert_eq!(
            config.state_file_path(),
            Some(std::path::Path::new("/tmp/x.json"))
        );
        let shown = format!("{config:?}");
        assert!(shown.contains("rate_limit: None"), "{shown}");
        assert!(shown.contains("error_rate: 0.5"), "{shown}");
        assert!(!shown.contains("zq-"), "{shown}");
    }

    #[test]
    fn generated_instances_keep_the_other_flags() {
        let config = run(&["--rate-limit", "off", "--instances", "3"]).unwrap();
        assert_eq!(config.instance_ids().len(), 3);
        assert!(format!("{config:?}").contains("rate_limit: None"));
    }

    #[test]
    fn help_wins() {
        assert_eq!(run(&["--port", "1", "--help"]).unwrap_err(), "help");
        assert_eq!(run(&["-h"]).unwrap_err(), "help");
    }

    #[test]
    fn bad_arguments_give_one_line_errors_without_tokens() {
        for args in [
            &["--port"][..],
            &["--port", "x"],
            &["--port", "70000"],
            &["--instance", "abc"],
            &["--instance", "x:secret-token-1"],
            &["--instance", "1:"],
            &["--rate-limit", "0"],
            &["--error-rate", "1.5"],
            &["--error-rate", "NaN"],
            &["--bogus"],
            &["secret-token-2"],
            &["--instances", "0"],
            &["--instance", "1:a", "--instances", "2"],
            &["--state", ""],
        ] {
            let err = run(args).unwrap_err();
            assert!(!err.contains('\n'), "{err}");
            assert!(!err.contains("secret"), "{args:?}: {err}");
            assert_ne!(err, "help");
        }
    }
}
