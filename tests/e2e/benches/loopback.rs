//! Bounded timing loops that criterion does not give, then one table (with the criterion
//! means in it when the criterion benches ran: read from `--criterion-dir DIR` or
//! `$CRITERION_HOME`; a relative path is relative to tests/e2e, where cargo runs benches):
//!
//! - the **floor** (a bare hyper client against a bare hyper server answering the sandbox's
//!   own bodies), the sandbox (bare client) and the Rust client (bare server) as ratios to it,
//!   and the real pair, interleaved, client and server pinned to different CPUs, each with its
//!   per-request split (client CPU, server CPU, wake-ups);
//! - over HTTPS (issue 22): the TLS floor (bare hyper + tokio-rustls on both sides), the Rust
//!   client against the TLS sandbox as a ratio to it and to the plain floor in the same
//!   rounds, and a new connection's CPU on each side (TCP alone, a full TLS handshake);
//! - 16 clients in parallel; the in-process fleet run against its ideal;
//! - the fleet across processes: the sandbox binary against the CLI binary: wall time against
//!   the ideal, CPU per request and peak RSS of the client process, 429s (`--fleet-large`:
//!   20,000 instances at concurrency 2,000);
//! - the Python binding's rounds, run by a worker process (`--python-worker PYTHON`:
//!   `bench/python_bench.py --worker`) in the same interleaved rounds as the Rust client's: its
//!   per-call overhead over the Rust client from paired rounds;
//! - the Python rows from `--python-json` (the binding vs the official SDK, validation).
//!
//! ```text
//! cargo bench -p greenapi-settings-e2e --bench loopback                  # this part only
//! scripts/bench                                                          # everything, one table
//! cargo bench -p greenapi-settings-e2e --bench loopback -- --quick       # smaller counts
//! ```
//!
//! Every loop is bounded in count and in time, and talks to 127.0.0.1 only. The steps live in
//! `support/` (see `support/mod.rs`); this file only runs them in order.

mod support;

use std::process::ExitCode;

use support::options;
use support::{concurrent, imported, process_fleet, process_watch, sequential, table, tls_rounds};

fn main() -> ExitCode {
    let opts = match options::parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("loopback bench: {e}");
            return ExitCode::from(2);
        }
    };
    let (warmup, n) = opts.loop_counts();
    if opts.processes_only {
        let (mut rows, fleet_ok) = process_fleet::rows(&opts);
        let (watch_rows, watch_ok) = process_watch::rows(&opts);
        rows.extend(watch_rows);
        table::print(&rows);
        return if fleet_ok && watch_ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }

    // Sequential round trips, one request in flight: the floor, the sandbox, the client.
    // With the Python binding's rounds (a worker process) in the same rounds, when given.
    let seq = sequential::run(warmup, n, !opts.no_pin, opts.python_worker.as_deref());
    // The typed layer's CPU cost (criterion), as a share of a loopback round trip, first.
    let mut rows = imported::criterion_rows(opts.criterion_dir.as_deref(), seq.get.mean());
    rows.extend(seq.rows());
    // Over HTTPS (issue 22): the TLS floor, the Rust client against it and the plain floor in
    // the same rounds, and a new connection's CPU on each side.
    let tls = tls_rounds::run(warmup, n, opts.connection_count(), !opts.no_pin);
    rows.extend(tls.rows());

    // Many requests in flight: 16 clients on 16 instances; the in-process fleet run.
    rows.push(concurrent::parallel_row(n, &seq.get));
    let (fleet_rows, in_process_ok) = concurrent::fleet_rows(
        opts.fleet_instances,
        opts.fleet_concurrency,
        opts.fleet_latency,
    );
    rows.extend(fleet_rows);

    // The fleet across processes: sandbox binary | CLI binary (or this bench re-run).
    let (fleet_rows, processes_ok) = process_fleet::rows(&opts);
    rows.extend(fleet_rows);

    // `watch` across processes (with --watch): one cycle, then a loop with a history.
    let (watch_rows, watch_ok) = process_watch::rows(&opts);
    rows.extend(watch_rows);

    // The Python side: the binding paired with the Rust client (above, same rounds), then the
    // rows of bench/python_bench.py --json (the binding vs the official SDK, validation).
    rows.extend(seq.python_rows());
    rows.extend(imported::python_rows(
        opts.python_json.as_deref(),
        seq.get.per_second(),
        seq.set.per_second(),
    ));

    table::print(&rows);
    if in_process_ok && processes_ok && watch_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
