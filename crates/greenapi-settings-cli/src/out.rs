//! Printing that survives a closed pipe. `println!` panics when stdout is gone (`apply … |
//! head` exits 101 mid-run: no report, instances changed and not recorded). Here a write that
//! fails with EPIPE (or any other error) stops further printing to that stream, and the
//! command goes on: the run ends, the report is written, the exit code is the run's.

use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
static STDERR_CLOSED: AtomicBool = AtomicBool::new(false);
static QUIET: AtomicBool = AtomicBool::new(false);
static ENVELOPE: AtomicBool = AtomicBool::new(false);

/// `--output json`: from now on stdout holds the envelope alone ([`envelope`]); what the
/// command prints for people goes to stderr.
pub fn set_envelope_mode(on: bool) {
    ENVELOPE.store(on, Ordering::Relaxed);
}

/// Whether `--output json` was given.
pub fn envelope_mode() -> bool {
    ENVELOPE.load(Ordering::Relaxed)
}

/// The envelope's text (and a newline) on stdout.
pub fn envelope(text: &str) {
    write_to(
        io::stdout().lock(),
        &STDOUT_CLOSED,
        format_args!("{text}"),
        true,
    );
}

/// `--quiet`: from now on [`note!`](crate::note) prints nothing, and neither do the fleet
/// progress line and the lines of unchanged instances. Errors, failures, results and
/// summaries still print.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether `--quiet` was given.
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// A note on stderr (what the tool assumed or did on the side), unless `--quiet`.
pub fn note(args: fmt::Arguments<'_>) {
    if !quiet() {
        stderr(args, true);
    }
}

fn write_to(mut w: impl Write, closed: &AtomicBool, args: fmt::Arguments<'_>, newline: bool) {
    if closed.load(Ordering::Relaxed) {
        return;
    }
    let result = w
        .write_fmt(args)
        .and_then(|()| if newline { w.write_all(b"\n") } else { Ok(()) })
        .and_then(|()| w.flush());
    if result.is_err() {
        closed.store(true, Ordering::Relaxed);
    }
}

/// `print!` / `println!` to stdout (stderr under `--output json`), without panicking.
pub fn stdout(args: fmt::Arguments<'_>, newline: bool) {
    if envelope_mode() {
        return stderr(args, newline);
    }
    // Above a fleet's progress line, if one is shown, never through it; the stream is locked
    // inside, after the line's own lock, as indicatif's drawing thread takes them.
    crate::fleet::suspended(|| write_to(io::stdout().lock(), &STDOUT_CLOSED, args, newline));
}

/// `eprint!` / `eprintln!` to stderr, without panicking.
pub fn stderr(args: fmt::Arguments<'_>, newline: bool) {
    crate::fleet::suspended(|| write_to(io::stderr().lock(), &STDERR_CLOSED, args, newline));
}

/// Whether stdout was found closed (a reader that went away).
pub fn stdout_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::Relaxed)
}

/// `println!` that stops printing when stdout is closed instead of panicking.
#[macro_export]
#[doc(hidden)]
macro_rules! outln {
    () => { $crate::out::stdout(format_args!(""), true) };
    ($($t:tt)*) => { $crate::out::stdout(format_args!($($t)*), true) };
}

/// `print!` that stops printing when stdout is closed instead of panicking.
#[macro_export]
#[doc(hidden)]
macro_rules! out {
    ($($t:tt)*) => { $crate::out::stdout(format_args!($($t)*), false) };
}

/// `eprintln!` that stops printing when stderr is closed instead of panicking.
#[macro_export]
#[doc(hidden)]
macro_rules! errln {
    () => { $crate::out::stderr(format_args!(""), true) };
    ($($t:tt)*) => { $crate::out::stderr(format_args!($($t)*), true) };
}

/// `eprint!` that stops printing when stderr is closed instead of panicking.
#[macro_export]
#[doc(hidden)]
macro_rules! err {
    ($($t:tt)*) => { $crate::out::stderr(format_args!($($t)*), false) };
}

/// An informational line on stderr (`note: …`, `report written to …`), left out by `--quiet`.
#[macro_export]
#[doc(hidden)]
macro_rules! note {
    ($($t:tt)*) => { $crate::out::note(format_args!($($t)*)) };
}
