//! `completions SHELL` and `man`: shell completion scripts (clap_complete) and man pages
//! (clap_mangen), both rendered from the same clap command as `--help`, so they list every
//! command and option there is, the spec's `set` flags included.

use std::path::Path;

use clap::ArgMatches;
use clap_complete::Shell;

use crate::exit::{CliError, Exit};

/// The program name completions and man pages are for.
const NAME: &str = "greenapi-settings";

/// Runs `completions SHELL`: the script on stdout.
pub(crate) fn completions(m: &ArgMatches) -> Result<Exit, CliError> {
    let shell = *m
        .get_one::<Shell>("shell")
        .ok_or_else(|| CliError::usage("completions: name a shell"))?;
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut crate::command(), NAME, &mut script);
    crate::out!("{}", String::from_utf8_lossy(&script));
    Ok(Exit::Ok)
}

/// Runs `man`: the page of the whole tool on stdout, or with `--dir DIR` one page per command
/// (`greenapi-settings.1`, `greenapi-settings-apply.1`, …) written into DIR.
pub(crate) fn man(m: &ArgMatches) -> Result<Exit, CliError> {
    let cmd = crate::command();
    match m.get_one::<std::path::PathBuf>("dir") {
        None => {
            crate::out!("{}", render(cmd)?);
        }
        Some(dir) => {
            let mut written = 0;
            write_page(dir, NAME, cmd.clone(), &mut written)?;
            for sub in cmd.get_subcommands() {
                let name = format!("{NAME}-{}", sub.get_name());
                let page = sub.clone().name(name.clone());
                write_page(dir, &name, page, &mut written)?;
            }
            crate::note!("wrote {written} man page(s) to {}", dir.display());
        }
    }
    Ok(Exit::Ok)
}

fn render(cmd: clap::Command) -> Result<String, CliError> {
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut page)
        .map_err(|e| CliError::failed(format!("cannot render the man page: {e}")))?;
    Ok(String::from_utf8_lossy(&page).into_owned())
}

fn write_page(
    dir: &Path,
    name: &str,
    cmd: clap::Command,
    written: &mut usize,
) -> Result<(), CliError> {
    let path = dir.join(format!("{name}.1"));
    std::fs::write(&path, render(cmd)?)
        .map_err(|e| CliError::usage(format!("cannot write {}: {e}", path.display())))?;
    *written += 1;
    Ok(())
}
