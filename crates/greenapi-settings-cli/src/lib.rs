//! The `greenapi-settings` command-line tool: get / set / plan / apply the settings of a
//! GREEN-API instance or a fleet of them, validate settings files offline, run the local
//! sandbox, print the settings reference, and a demo against an embedded sandbox.
//!
//! Exit codes: 0 ok, 1 the API or network failed (fleet: any instance failed), 2 invalid input
//! or usage (nothing was sent), 130 a fleet run interrupted by Ctrl-C (its report lists the
//! instances not started; `--resume` carries on). `plan --detailed-exitcode` instead exits 0
//! when nothing would change, 2 when changes are pending and 1 on any error.
//!
//! Settings as code: `export` writes an instance's (or a fleet's) settings as a settings file;
//! settings files may hold defaults plus per-instance overrides with `{idInstance}` and
//! `${NAME}` placeholders ([`settings_file`], [`layers`], [`template`]); a fleet plan ends with
//! a drift summary ([`plan_output`]); `schema` prints the JSON Schema of settings files.
//!
//! Output: `--output json` (or `--json`) makes every result-producing command print one
//! [`envelope`] on stdout (everything else goes to stderr), the document `--report` files hold
//! too, with each instance's values `before` and `after` a change; `apply --undo REPORT`
//! restores the `before` values (`plan --undo REPORT` shows what it would do).
//!
//! ```
//! let code = greenapi_settings_cli::main(["greenapi-settings", "validate", "--help"]);
//! assert_eq!(code, std::process::ExitCode::SUCCESS);
//! ```

mod args;
mod atomic_file;
mod commands;
pub mod creds;
mod doctor;
pub mod envelope;
pub mod exit;
pub mod export_file;
pub mod fleet;
pub mod input;
pub mod layers;
mod numbers;
pub mod out;
mod parse;
pub mod plan_output;
pub mod render;
pub mod settings_file;
pub mod signals;
pub mod style;
pub mod template;
pub mod terminal;
pub mod watch;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::ArgMatches;

use commands::{
    completions, demo, docs, export, get, history, listen, plan_apply, sandbox, sandbox_trigger,
    schema, set, spec_check, validate,
};
use exit::{CliError, Exit};
use style::Style;

pub use args::command;

/// Runs the CLI with these arguments (the first is the program name) and returns the exit code.
pub fn main<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    envelope::Started::mark();
    let args = args::join_wait_value(args.into_iter().map(Into::into).collect());
    let matches = match command().try_get_matches_from(&args) {
        Ok(m) => m,
        Err(e) => {
            let _ = e.print();
            if e.kind() == clap::error::ErrorKind::UnknownArgument
                && args.iter().any(|a| a == "--wait")
            {
                // `--wait VALUE` with a value that is not a duration: clap saw a stray argument.
                crate::errln!("hint: --wait takes a duration such as --wait=5m or --wait 90s");
            }
            return if !e.use_stderr() {
                Exit::Ok.into()
            } else if args
                .iter()
                .any(|a| a == "--detailed-exitcode" || a == "--once")
            {
                // There, 2 means "changes pending": a usage error is an error (1).
                Exit::Failed.into()
            } else {
                Exit::Usage.into()
            };
        }
    };
    let verbose = matches.get_flag("verbose");
    out::set_quiet(matches.get_flag("quiet"));
    // `--output json`: the envelope alone on stdout, even when the command fails as a whole.
    let envelope_of = matches
        .subcommand()
        .filter(|(_, sub)| args::json_output_wanted(sub))
        .map(|(name, _)| command_name(name, &matches));
    out::set_envelope_mode(envelope_of.is_some());
    let style = Style::from_choice(
        matches
            .get_one::<String>("color")
            .map_or("auto", String::as_str),
    );
    let rt = match runtime(&matches).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            crate::errln!("error: cannot start the runtime: {e}");
            return Exit::Failed.into();
        }
    };
    match rt.block_on(dispatch(&matches, style)) {
        Ok(code) => code.into(),
        Err(e) => {
            if let Some(command) = envelope_of {
                envelope::Envelope::of_error(command, envelope::Started::of_command(), &e).print();
            }
            // Messages may quote the server or a file: no raw control characters.
            crate::errln!("{} {}", style_err(), terminal::lines(&e.message));
            if let Some(hint) = &e.hint {
                crate::errln!("hint: {}", terminal::lines(hint));
            }
            if e.always_show_details || verbose {
                for d in &e.details {
                    crate::errln!("  {}", terminal::lines(d));
                }
            } else if !e.details.is_empty() {
                crate::errln!("  (run with --verbose for details)");
            }
            e.exit.into()
        }
    }
}

/// The runtime a command runs on. A fleet run (`--instances`) runs on one thread: its work is
/// many small requests, and on two worker threads (plus the thread driving the run) every
/// instance's start and end and most responses crossed threads, a wake-up (futex) each,
/// which cost a fleet more CPU per request than the second thread gave it; one thread also
/// keeps one malloc arena (20,000 instances at concurrency 2,000 against the sandbox: 72–86 µs
/// of CPU per request instead of 98–107, peak RSS ~110 MB instead of ~140). Everything else
/// keeps two worker threads.
fn runtime(m: &ArgMatches) -> tokio::runtime::Builder {
    // The commands whose `--instances` is an instances file (the sandbox's is a count).
    let fleet = m.subcommand().is_some_and(|(name, sub)| {
        matches!(
            name,
            "plan" | "apply" | "get" | "export" | "watch" | "doctor"
        ) && sub
            .try_get_one::<std::path::PathBuf>("instances")
            .ok()
            .flatten()
            .is_some()
    });
    if fleet {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(2);
        b
    }
}

/// The `command` of the envelope of subcommand `name` (`undo` for `apply --undo`).
fn command_name(name: &str, m: &ArgMatches) -> &'static str {
    let undo = m.subcommand().is_some_and(|(_, sub)| {
        sub.try_get_one::<std::path::PathBuf>("undo")
            .ok()
            .flatten()
            .is_some()
    });
    match name {
        "get" => "get",
        "set" => "set",
        "plan" if undo => "planUndo",
        "plan" => "plan",
        "apply" if undo => "undo",
        "apply" => "apply",
        "export" => "export",
        "validate" => "validate",
        "spec-check" => "spec-check",
        "doctor" => "doctor",
        _ => "unknown",
    }
}

fn style_err() -> &'static str {
    "error:"
}

async fn dispatch(m: &ArgMatches, style: Style) -> Result<Exit, CliError> {
    if let Some((name, sub)) = m.subcommand() {
        if let Some((_, why)) = args::OFFLINE.iter().find(|(n, _)| *n == name) {
            // Given before the command (global) or after it (the hidden copy).
            args::refuse_connection_options(name, m, why)?;
            args::refuse_connection_options(name, sub, why)?;
        }
    }
    let conn = args::conn_args(m)?;
    match m.subcommand() {
        Some(("get", sub)) => get::run(&conn, sub, style).await,
        Some(("set", sub)) => set::run(&conn, sub, style).await,
        Some(("plan", sub)) => plan_apply::run(&conn, sub, style, true).await,
        Some(("apply", sub)) => plan_apply::run(&conn, sub, style, false).await,
        Some(("validate", sub)) => validate::run(sub, style),
        Some(("export", sub)) => export::run(&conn, sub).await,
        Some(("watch", sub)) => watch::run(&conn, sub).await,
        Some(("schema", _)) => schema::run(),
        Some(("spec-check", sub)) => spec_check::run(&conn, sub, style).await,
        Some(("sandbox", sub)) => match sub.subcommand() {
            Some(("trigger", trigger)) => sandbox_trigger::run(trigger).await,
            _ => sandbox::run(sub).await,
        },
        Some(("docs", _)) => docs::run(),
        Some(("history", sub)) => history::run(sub),
        Some(("listen", sub)) => listen::run(sub).await,
        Some(("doctor", sub)) => doctor::run(&conn, sub, style).await,
        Some(("demo", _)) => demo::run(style).await,
        Some(("completions", sub)) => completions::completions(sub),
        Some(("man", sub)) => completions::man(sub),
        _ => Err(CliError::usage("no command given; see --help")),
    }
}
