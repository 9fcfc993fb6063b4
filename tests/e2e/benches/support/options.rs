//! The command line of the `loopback` bench (after `cargo bench ... --`).

use std::fmt::Display;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

pub struct Options {
    pub quick: bool,
    /// Leave thread placement to the scheduler in the sequential loops.
    pub no_pin: bool,
    pub criterion_dir: Option<PathBuf>,
    pub fleet_instances: usize,
    pub fleet_concurrency: usize,
    pub fleet_latency: Duration,
    /// JSON written by `bench/python_bench.py --json` in the same run (scripts/bench does it).
    pub python_json: Option<PathBuf>,
    /// The Python interpreter (with greenapi_settings installed) that runs
    /// `bench/python_bench.py --worker` for the paired Python rows (scripts/bench passes
    /// .venv-bench's).
    pub python_worker: Option<PathBuf>,
    /// The `greenapi-settings` and `greenapi-settings-sandbox` binaries (default: next to
    /// this bench's directory, i.e. `target/release/`; scripts/bench builds them).
    pub cli_bin: Option<PathBuf>,
    pub sandbox_bin: Option<PathBuf>,
    /// Also the 20,000-instance fleet across processes (slow: about a minute).
    pub fleet_large: bool,
    /// Also `watch` across processes: one cycle of 10,000 instances and a loop of 50 cycles
    /// with a history (about two minutes).
    pub watch: bool,
    /// Only the runs across processes (the fleet; `watch` with `--watch`): for re-measuring
    /// them alone, e.g. after a change to the CLI or the sandbox binary.
    pub processes_only: bool,
}

impl Options {
    /// Fresh connections per pair in the TLS connection-cost rows ([`super::tls_rounds`]).
    pub fn connection_count(&self) -> usize {
        if self.quick {
            200
        } else {
            1_000
        }
    }

    /// Unmeasured warm-up calls and measured calls of each sequential loop.
    pub fn loop_counts(&self) -> (usize, usize) {
        if self.quick {
            (200, 2_000)
        } else {
            (1_000, 10_000)
        }
    }
}

/// Reads the command line.
pub fn parse() -> Result<Options, String> {
    let args: Vec<String> = std::env::args().collect();
    let mut o = Options {
        quick: false,
        no_pin: false,
        // scripts/bench exports it; criterion itself reads it too.
        criterion_dir: std::env::var_os("CRITERION_HOME").map(PathBuf::from),
        fleet_instances: 2_000,
        fleet_concurrency: 200,
        fleet_latency: Duration::from_millis(20),
        python_json: None,
        python_worker: None,
        cli_bin: None,
        sandbox_bin: None,
        fleet_large: false,
        watch: false,
        processes_only: false,
    };
    let mut args = args.into_iter().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            // `cargo bench` passes `--bench`; a filter may follow from the user.
            "--bench" => {}
            "--quick" => o.quick = true,
            "--no-pin" => o.no_pin = true,
            "--criterion-dir" => o.criterion_dir = Some(PathBuf::from(value(&a)?)),
            "--python-json" => o.python_json = Some(PathBuf::from(value(&a)?)),
            "--python-worker" => o.python_worker = Some(PathBuf::from(value(&a)?)),
            "--cli-bin" => o.cli_bin = Some(PathBuf::from(value(&a)?)),
            "--sandbox-bin" => o.sandbox_bin = Some(PathBuf::from(value(&a)?)),
            "--fleet-large" => o.fleet_large = true,
            "--watch" => o.watch = true,
            "--processes-only" => o.processes_only = true,
            "--fleet-instances" => o.fleet_instances = parsed(&a, value(&a)?)?,
            "--fleet-concurrency" => o.fleet_concurrency = parsed(&a, value(&a)?)?,
            "--fleet-latency-ms" => {
                o.fleet_latency = Duration::from_millis(parsed(&a, value(&a)?)?)
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(o)
}

/// The number after option `name`.
fn parsed<T: FromStr>(name: &str, text: String) -> Result<T, String>
where
    T::Err: Display,
{
    text.parse().map_err(|e| format!("{name}: {e}"))
}
