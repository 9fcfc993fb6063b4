//! `_run_cli(argv)`: the `greenapi-settings` command line, linked in, for the package's
//! console script (`greenapi_settings.cli:main`) and `python -m greenapi_settings`. The same
//! library the native binary's thin `main` calls, so both behave alike: arguments, output,
//! exit codes, and signals (the Python side hands SIGINT back to the default action first, as
//! a native program has it; fleet commands then install their own Ctrl-C / SIGTERM handling).

use std::ffi::OsString;
use std::process::ExitCode;

use pyo3::prelude::*;

/// Runs the command line with `argv` (the first item is the program name) and returns its exit
/// code: 0 ok, 1 API or network failure, 2 invalid input or usage, 130 / 143 stopped by
/// Ctrl-C / SIGTERM. The GIL is released while it runs.
#[pyfunction]
pub fn _run_cli(py: Python<'_>, argv: Vec<OsString>) -> u8 {
    let code = py.detach(move || greenapi_settings_cli::main(argv));
    exit_number(code)
}

/// The number inside an `ExitCode`, which has no getter: the one `ExitCode::from(n)` equal to
/// it (the CLI only makes codes that way).
fn exit_number(code: ExitCode) -> u8 {
    (0..=u8::MAX)
        .find(|&n| ExitCode::from(n) == code)
        .unwrap_or(1)
}
