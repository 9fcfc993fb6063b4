//! Many requests in flight in this process: 16 Rust clients in parallel against the
//! in-process sandbox, and the in-process fleet run (apply, then apply again) through the
//! CLI's fleet code against its ideal.

use std::time::{Duration, Instant};

use greenapi_settings::SettingsPatch;
use greenapi_settings_cli::fleet::Report;
use greenapi_settings_sandbox::{generated_token, BlockingSandbox, SandboxConfig};

use super::samples::Samples;
use super::setup::{apply_fleet, example_patch, fast_client, instances, runtime, FLEET_RUNS};
use super::table::{fmt_dur, Row};
use super::LOOP_DEADLINE;

/// Clients (one instance each) of the parallel row.
const CLIENTS: usize = 16;

/// The row of [`CLIENTS`] clients calling getSettings back to back, `n` calls in all, with
/// requests/s against `sequential_get` (the Rust client's sequential getSettings loop).
pub fn parallel_row(n: usize, sequential_get: &Samples) -> Row {
    let per_client = n / CLIENTS;
    let sandbox =
        BlockingSandbox::start(SandboxConfig::instances_generated(CLIENTS).rate_limit(None))
            .expect("sandbox starts");
    eprintln!("loopback: {CLIENTS} concurrent clients × {per_client} getSettings ...");
    let conc = concurrent_gets(&sandbox, CLIENTS, per_client);
    drop(sandbox);
    let ratio = format!(
        "{:.2}× sequential req/s",
        conc.per_second() / sequential_get.per_second()
    );
    Row::measured(
        format!("Rust client getSettings, {CLIENTS} clients in parallel"),
        &conc,
        ratio,
    )
}

/// `clients` clients (one instance each) calling getSettings back to back, `per_client`
/// times each: requests/s with that many requests in flight.
fn concurrent_gets(sandbox: &BlockingSandbox, clients: usize, per_client: usize) -> Samples {
    let rt = runtime(1);
    let url = sandbox.url();
    let ids = sandbox.instance_ids();
    rt.block_on(async {
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for id in ids.into_iter().take(clients) {
            let client = fast_client(&url, id, &generated_token(id));
            tasks.spawn(async move {
                let mut times = Vec::with_capacity(per_client);
                let t0 = Instant::now();
                while times.len() < per_client && t0.elapsed() < LOOP_DEADLINE {
                    let t = Instant::now();
                    client.get_settings().await.expect("getSettings");
                    times.push(t.elapsed());
                }
                times
            });
        }
        let mut times = Vec::new();
        while let Some(t) = tasks.join_next().await {
            times.extend(t.expect("task"));
        }
        Samples {
            times,
            wall: started.elapsed(),
            requests_per_sample: 1,
            split: None,
        }
    })
}

/// The fleet in this process: apply on `instances` instances of the in-process sandbox with
/// `latency` on every answer, then apply again (no change), `concurrency` at once, pacing off.
/// Rows: times per instance, wall time against the ideal. `false` if an instance failed.
pub fn fleet_rows(instances: usize, concurrency: usize, latency: Duration) -> (Vec<Row>, bool) {
    let sandbox = BlockingSandbox::start(
        SandboxConfig::instances_generated(instances)
            .rate_limit(None)
            .latency(latency),
    )
    .expect("sandbox starts");
    // Like the CLI: two worker threads.
    let rt = runtime(2);
    let desired = example_patch();
    let mut ok = true;
    let mut rows = Vec::new();
    for (label, requests, expected) in FLEET_RUNS {
        eprintln!("loopback: fleet {label}: {instances} instances, concurrency {concurrency}, {} ms latency ...", latency.as_millis());
        let (samples, report) = fleet_run(&rt, &sandbox, &desired, concurrency, requests);
        let ideal = latency * (instances * requests) as u32 / concurrency.max(1) as u32;
        let failed = report.count("failed");
        if failed > 0 || report.count(expected) != instances {
            ok = false;
            eprintln!(
                "loopback: fleet {label}: {} applied, {} unchanged, {failed} failed (expected all {expected})",
                report.count("applied"),
                report.count("unchanged"),
            );
        }
        let ratio = format!(
            "wall {} / ideal {} = {:.2}",
            fmt_dur(samples.wall),
            fmt_dur(ideal),
            samples.wall.as_secs_f64() / ideal.as_secs_f64()
        );
        rows.push(Row::measured(
            format!(
                "fleet {label}: {instances} instances × {requests} req, {} ms, concurrency {concurrency} (times per instance)",
                latency.as_millis()
            ),
            &samples,
            ratio,
        ));
    }
    drop(rt);
    drop(sandbox);
    (rows, ok)
}

/// One fleet run through the CLI's fleet code, pacing off, against `sandbox`: the times per
/// instance, and the report.
fn fleet_run(
    rt: &tokio::runtime::Runtime,
    sandbox: &BlockingSandbox,
    desired: &SettingsPatch,
    concurrency: usize,
    requests_per_instance: usize,
) -> (Samples, Report) {
    let instances = instances(sandbox.instance_ids(), &sandbox.url());
    let started = Instant::now();
    let report = rt
        .block_on(async {
            tokio::time::timeout(
                Duration::from_secs(120),
                apply_fleet(desired, instances, concurrency, Some(Duration::ZERO)),
            )
            .await
        })
        .expect("the fleet run finishes within 120 s")
        .unwrap_or_else(|e| panic!("fleet run: {e}"));
    let wall = started.elapsed();
    let samples = Samples {
        times: report
            .results
            .iter()
            .map(|r| Duration::from_millis(r.duration_ms))
            .collect(),
        wall,
        requests_per_sample: requests_per_instance,
        split: None,
    };
    (samples, report)
}
