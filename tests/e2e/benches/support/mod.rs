//! The parts of the `loopback` bench, one concern each, in the order `main` runs them:
//!
//! - [`options`]: the command line;
//! - [`sequential`]: the floor, the sandbox and the Rust client, interleaved and pinned, with
//!   their rows; built on [`floor`] (the bare hyper server and client) and [`cpu`] (where the
//!   time goes, thread pinning); with [`python_worker`], the Python binding's rounds in the
//!   same rounds (`bench/python_bench.py --worker`), for its paired overhead rows;
//! - [`concurrent`]: many requests in flight in this process: 16 clients in parallel, and the
//!   in-process fleet run;
//! - [`process_fleet`]: the fleet across processes (the CLI binary against the sandbox binary),
//!   built on [`procs`] (starting the sandbox binary, measuring a client process);
//! - [`process_watch`] (with `--watch`): `watch` across processes, one cycle and a loop of
//!   cycles with a history (issue 20);
//! - [`imported`]: the rows measured by the other steps of `scripts/bench`: criterion's means
//!   and `bench/python_bench.py --json`;
//! - [`table`]: the rows and the one table on stdout; [`samples`]: the latencies of one loop;
//! - [`tls_rounds`] (issue 22): getSettings over HTTPS against the TLS floor
//!   ([`tls_floor`]: bare hyper + tokio-rustls) and the plain floor in the same rounds, and a
//!   new connection's CPU on each side (TCP alone, full TLS handshakes);
//! - [`setup`]: what several steps build alike (the example patch, a fast client, runtimes,
//!   fleet instances, one fleet apply).

pub mod concurrent;
pub mod cpu;
pub mod floor;
pub mod imported;
pub mod options;
pub mod process_fleet;
pub mod process_watch;
pub mod procs;
pub mod python_worker;
pub mod samples;
pub mod sequential;
pub mod setup;
pub mod table;
pub mod tls_floor;
pub mod tls_rounds;

use std::time::Duration;

/// Hard stop for any one timing loop, whatever its count.
pub const LOOP_DEADLINE: Duration = Duration::from_secs(30);
