//! The command-line controls of a fleet run (issue 19): which instances of the file it works
//! on (`--only`, `--limit`: a canary without editing the file), how fast a change spreads
//! (`--batch`, `--batch-pause`), when it stops starting instances (`--max-failures`) and
//! whether it asks first (`--yes`). Defined here and read back into checked values, so that
//! `args.rs` only places them on the commands.

use std::collections::BTreeSet;

use clap::{Arg, ArgAction, ArgMatches};

use super::controls::{Batch, Controls};
use super::select::Selection;
use crate::exit::CliError;
use crate::numbers;

/// The ids of the selection options (`plan`, `apply`, `get`, `export`): refused without
/// `--instances` (see `args::refuse_fleet_options_alone`).
pub const SELECTION_IDS: [&str; 2] = ["only", "limit"];

/// The ids of the options only a fleet `apply` has: refused without `--instances`.
pub const APPLY_IDS: [&str; 4] = ["batch", "batch-pause", "max-failures", "yes"];

/// Most `--limit`, `--batch` and `--max-failures`: more than a 64 MiB instances file holds.
pub const MAX_COUNT: usize = 10_000_000;

/// The pause between two batches when `--batch` is given without `--batch-pause`: long
/// enough to look at a batch's lines (and Ctrl-C) before the next one starts.
pub const DEFAULT_BATCH_PAUSE: &str = "30s";

/// `--only ID,ID` and `--limit N`.
pub fn selection_args() -> [Arg; 2] {
    [
        Arg::new("only")
            .long("only")
            .value_name("ID,ID")
            .action(ArgAction::Append)
            .help("Fleet mode: only these instances of the instances file (ids separated by commas; an id not in the file is an error)"),
        Arg::new("limit")
            .long("limit")
            .value_name("N")
            .allow_negative_numbers(true)
            .help("Fleet mode: only the first N instances of the file, in file order (after --only); with --resume, instances done earlier count"),
    ]
}

/// `--batch N`, `--batch-pause DURATION`, `--max-failures N` and `--yes` (fleet `apply`).
pub fn apply_args() -> [Arg; 4] {
    [
        Arg::new("batch")
            .long("batch")
            .value_name("N")
            .allow_negative_numbers(true)
            .help("Fleet mode: send to N instances at a time; the next batch starts when the previous one has finished and --batch-pause has passed"),
        Arg::new("batch-pause")
            .long("batch-pause")
            .value_name("DURATION")
            .requires("batch")
            .help(format!("With --batch: the pause between batches (30s, 5m; seconds when no unit is given; default {DEFAULT_BATCH_PAUSE}; Ctrl-C during it stops at once)")),
        Arg::new("max-failures")
            .long("max-failures")
            .value_name("N")
            .allow_negative_numbers(true)
            .help("Fleet mode: after N instances failed, start no more (those in progress finish); the rest are notStarted and --resume carries on"),
        Arg::new("yes")
            .long("yes")
            .short('y')
            .action(ArgAction::SetTrue)
            .help("Fleet mode: do not ask before applying (on a terminal a fleet apply shows the plan's counts and asks; elsewhere it never asks)"),
    ]
}

/// `--only` and `--limit`, checked (ids are not yet matched with the file: see
/// [`Selection::apply`]).
pub fn selection(m: &ArgMatches) -> Result<Selection, CliError> {
    let only = match m.try_get_many::<String>("only").ok().flatten() {
        None => None,
        Some(values) => Some(only_ids(values.map(String::as_str))?),
    };
    let limit = count(m, "limit")?;
    Ok(Selection { only, limit })
}

/// The ids of `--only` (each value a comma-separated list; empty items are skipped), in the
/// order given. An empty list, an item that is not an id, or an id given twice is an error;
/// an item that is not an id is not echoed (it may be a misplaced token).
fn only_ids<'a>(values: impl Iterator<Item = &'a str>) -> Result<Vec<u64>, CliError> {
    let mut ids = Vec::new();
    let mut seen = BTreeSet::new();
    for item in values.flat_map(|v| v.split(',')).map(str::trim) {
        if item.is_empty() {
            continue;
        }
        let id: u64 = item.parse().map_err(|_| {
            CliError::usage(format!(
                "--only: item {} is not an instance id (a number; the value is not shown: it may be a misplaced token); nothing was sent",
                ids.len() + 1
            ))
        })?;
        if !seen.insert(id) {
            return Err(CliError::usage(format!(
                "--only: {id} is listed twice; nothing was sent"
            )));
        }
        ids.push(id);
    }
    if ids.is_empty() {
        return Err(CliError::usage(
            "--only: expected instance ids separated by commas (--only 1101000001,1101000002), found none; nothing was sent",
        ));
    }
    Ok(ids)
}

/// `--batch` (with `--batch-pause`) and `--max-failures`, checked.
pub fn controls(m: &ArgMatches) -> Result<Controls, CliError> {
    let batch = match count(m, "batch")? {
        None => None,
        Some(size) => {
            let raw = m
                .try_get_one::<String>("batch-pause")
                .ok()
                .flatten()
                .map_or(DEFAULT_BATCH_PAUSE, String::as_str);
            Some(Batch {
                size,
                pause: numbers::duration("--batch-pause", raw)?,
            })
        }
    };
    Ok(Controls {
        batch,
        max_failures: count(m, "max-failures")?,
    })
}

/// Whether `--yes` was given.
pub fn assume_yes(m: &ArgMatches) -> bool {
    m.try_get_one::<bool>("yes").ok().flatten() == Some(&true)
}

/// A count option `name` (1 to [`MAX_COUNT`]), if given.
fn count(m: &ArgMatches, name: &str) -> Result<Option<usize>, CliError> {
    m.try_get_one::<String>(name)
        .ok()
        .flatten()
        .map(|v| numbers::whole(&format!("--{name}"), v, 1, MAX_COUNT))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<(Selection, Controls), CliError> {
        let cmd = clap::Command::new("t")
            .args(selection_args())
            .args(apply_args());
        let m = cmd
            .try_get_matches_from(std::iter::once("t").chain(args.iter().copied()))
            .map_err(|e| CliError::usage(e.to_string()))?;
        Ok((selection(&m)?, controls(&m)?))
    }

    #[test]
    fn only_takes_comma_separated_ids_in_the_order_given() {
        let (s, _) = parse(&["--only", "3, 1,", "--only", "2"]).unwrap();
        assert_eq!(s.only, Some(vec![3, 1, 2]));
        assert_eq!(s.limit, None);
    }

    #[test]
    fn an_empty_duplicate_or_non_numeric_only_list_is_refused_without_echo() {
        for (args, needle) in [
            (vec!["--only", ""], "found none"),
            (vec!["--only", ",,"], "found none"),
            (vec!["--only", "1,1"], "1 is listed twice"),
            (vec!["--only", "1,SEKRIT"], "item 2 is not an instance id"),
        ] {
            let e = parse(&args).map(|_| ()).unwrap_err();
            assert_eq!(e.exit, crate::exit::Exit::Usage, "{args:?}");
            assert!(e.message.contains(needle), "{args:?}: {}", e.message);
            assert!(!e.message.contains("SEKRIT"), "{}", e.message);
        }
    }

    #[test]
    fn counts_are_at_least_one() {
        for name in ["--limit", "--batch", "--max-failures"] {
            for bad in ["0", "-1", "x", "1.5"] {
                let e = parse(&[name, bad]).map(|_| ()).unwrap_err();
                assert!(e.message.starts_with(&format!("{name}: expected")), "{e}");
            }
        }
        let (s, c) = parse(&["--limit", "5", "--batch", "2", "--max-failures", "3"]).unwrap();
        assert_eq!(s.limit, Some(5));
        assert_eq!(c.max_failures, Some(3));
        let b = c.batch.unwrap();
        assert_eq!((b.size, b.pause.as_secs()), (2, 30));
    }

    #[test]
    fn the_batch_pause_takes_the_duration_grammar_and_needs_batch() {
        let (_, c) = parse(&["--batch", "2", "--batch-pause", "1m 30s"]).unwrap();
        assert_eq!(c.batch.unwrap().pause.as_secs(), 90);
        let (_, c) = parse(&["--batch", "2", "--batch-pause", "5"]).unwrap();
        assert_eq!(c.batch.unwrap().pause.as_secs(), 5);
        let e = parse(&["--batch", "2", "--batch-pause", "0"])
            .map(|_| ())
            .unwrap_err();
        assert!(
            e.message.starts_with("--batch-pause: expected a duration"),
            "{e}"
        );
        let e = parse(&["--batch-pause", "5s"]).map(|_| ()).unwrap_err();
        assert!(e.message.contains("--batch"), "{e}");
    }
}
