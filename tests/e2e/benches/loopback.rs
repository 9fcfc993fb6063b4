//! Bounded timing loops that criterion does not give: p50/p99 latency and requests/s of the
//! real client against the in-process sandbox over loopback, and the 2,000-instance fleet run
//! against its ideal wall time. Then one table, with the criterion means in it when the
//! criterion benches ran (read from `--criterion-dir DIR` or `$CRITERION_HOME`; a relative
//! path is relative to tests/e2e, where cargo runs benches).
//!
//! ```text
//! cargo bench -p greenapi-settings-e2e --bench loopback                  # this part only
//! scripts/bench                                                          # everything, one table
//! cargo bench -p greenapi-settings-e2e --bench loopback -- --quick       # smaller counts
//! ```
//!
//! Every loop is bounded in count and in time, and talks to 127.0.0.1 only.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use greenapi_settings::{facts, ApiToken, Client, RetryPolicy, SettingsPatch};
use greenapi_settings_cli::creds::ConnArgs;
use greenapi_settings_cli::fleet::{self, FleetRun, Instance};
use greenapi_settings_sandbox::{
    generated_token, BlockingSandbox, SandboxConfig, DEFAULT_INSTANCE_ID, DEFAULT_TOKEN,
};

/// Hard stop for any one timing loop, whatever its count.
const LOOP_DEADLINE: Duration = Duration::from_secs(30);

struct Options {
    quick: bool,
    criterion_dir: Option<PathBuf>,
    fleet_instances: usize,
    fleet_concurrency: usize,
    fleet_latency: Duration,
    /// JSON written by `bench/python_bench.py --json` in the same run (scripts/bench does it).
    python_json: Option<PathBuf>,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        quick: false,
        // scripts/bench exports it; criterion itself reads it too.
        criterion_dir: std::env::var_os("CRITERION_HOME").map(PathBuf::from),
        fleet_instances: 2_000,
        fleet_concurrency: 200,
        fleet_latency: Duration::from_millis(20),
        python_json: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            // `cargo bench` passes `--bench`; a filter may follow from the user.
            "--bench" => {}
            "--quick" => o.quick = true,
            "--criterion-dir" => o.criterion_dir = Some(PathBuf::from(value("--criterion-dir")?)),
            "--python-json" => o.python_json = Some(PathBuf::from(value("--python-json")?)),
            "--fleet-instances" => {
                o.fleet_instances = value("--fleet-instances")?
                    .parse()
                    .map_err(|e| format!("--fleet-instances: {e}"))?
            }
            "--fleet-concurrency" => {
                o.fleet_concurrency = value("--fleet-concurrency")?
                    .parse()
                    .map_err(|e| format!("--fleet-concurrency: {e}"))?
            }
            "--fleet-latency-ms" => {
                o.fleet_latency = Duration::from_millis(
                    value("--fleet-latency-ms")?
                        .parse()
                        .map_err(|e| format!("--fleet-latency-ms: {e}"))?,
                )
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(o)
}

/// Latency samples of one loop and its wall time.
struct Samples {
    times: Vec<Duration>,
    wall: Duration,
    /// Requests per sample (a fleet instance makes two).
    requests_per_sample: usize,
}

impl Samples {
    fn percentile(&self, p: f64) -> Duration {
        let mut v = self.times.clone();
        v.sort_unstable();
        // Nearest rank.
        let rank = ((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
        v[rank.min(v.len()) - 1]
    }

    fn mean(&self) -> Duration {
        self.times.iter().sum::<Duration>() / self.times.len().max(1) as u32
    }

    fn per_second(&self) -> f64 {
        (self.times.len() * self.requests_per_sample) as f64 / self.wall.as_secs_f64()
    }
}

/// One row of the table.
struct Row {
    what: String,
    n: String,
    mean: String,
    p50: String,
    p99: String,
    rate: String,
    ratio: String,
}

fn fmt_dur(d: Duration) -> String {
    let ns = d.as_nanos() as f64;
    if ns < 1_000.0 {
        format!("{ns:.0} ns")
    } else if ns < 1_000_000.0 {
        format!("{:.2} µs", ns / 1e3)
    } else if ns < 1_000_000_000.0 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.3} s", ns / 1e9)
    }
}

fn dash() -> String {
    "—".into()
}

fn example_patch() -> SettingsPatch {
    let example: serde_json::Value =
        serde_json::from_str(facts::SET_SETTINGS_EXAMPLE_BODY).expect("example is JSON");
    SettingsPatch::from_json_value(&example).expect("example is a valid patch")
}

fn fast_client(url: &str, id: u64, token: &str) -> Client {
    Client::builder()
        .api_url(url)
        .id_instance(id)
        .api_token(token)
        .min_interval(Duration::ZERO)
        .retry(RetryPolicy::none())
        .build()
        .expect("client builds")
}

/// `n` sequential calls after `warmup` unmeasured ones, each timed alone.
fn sequential<F, Fut>(rt: &tokio::runtime::Runtime, warmup: usize, n: usize, call: F) -> Samples
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    rt.block_on(async {
        for _ in 0..warmup {
            call().await;
        }
        let mut times = Vec::with_capacity(n);
        let started = Instant::now();
        while times.len() < n && started.elapsed() < LOOP_DEADLINE {
            let t = Instant::now();
            call().await;
            times.push(t.elapsed());
        }
        Samples {
            times,
            wall: started.elapsed(),
            requests_per_sample: 1,
        }
    })
}

/// `clients` clients (one instance each) calling getSettings back to back, `per_client`
/// times each: requests/s with that many requests in flight.
fn concurrent_gets(sandbox: &BlockingSandbox, clients: usize, per_client: usize) -> Samples {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
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
        }
    })
}

struct FleetOutcome {
    samples: Samples,
    applied: usize,
    unchanged: usize,
    failed: usize,
}

/// One fleet run through the CLI's fleet code, pacing off, against `sandbox`.
fn fleet_run(
    rt: &tokio::runtime::Runtime,
    sandbox: &BlockingSandbox,
    desired: &SettingsPatch,
    concurrency: usize,
    requests_per_instance: usize,
) -> FleetOutcome {
    let url = sandbox.url();
    let instances: Vec<Instance> = sandbox
        .instance_ids()
        .into_iter()
        .map(|id| Instance {
            id,
            token: ApiToken::new(generated_token(id)),
            api_url: url.clone(),
        })
        .collect();
    let conn = ConnArgs::default();
    let started = Instant::now();
    let report = rt
        .block_on(async {
            tokio::time::timeout(
                Duration::from_secs(120),
                fleet::run(FleetRun {
                    desired,
                    instances,
                    concurrency,
                    dry_run: false,
                    done: BTreeMap::new(),
                    conn: &conn,
                    min_interval: Some(Duration::ZERO),
                    verify: None,
                }),
            )
            .await
        })
        .expect("the fleet run finishes within 120 s")
        .unwrap_or_else(|e| panic!("fleet run: {}", e.message));
    let wall = started.elapsed();
    FleetOutcome {
        samples: Samples {
            times: report
                .results
                .iter()
                .map(|r| Duration::from_millis(r.duration_ms))
                .collect(),
            wall,
            requests_per_sample: requests_per_instance,
        },
        applied: report.count("applied"),
        unchanged: report.count("unchanged"),
        failed: report.count("failed"),
    }
}

/// Criterion's mean for `group/function`, if that bench ran.
fn criterion_mean(dir: &Path, group: &str, function: &str) -> Option<Duration> {
    let path = dir.join(group).join(function).join("new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let ns = v["mean"]["point_estimate"].as_f64()?;
    Some(Duration::from_nanos(ns.round() as u64))
}

fn machine() -> Vec<String> {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let rustc = std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    vec![
        format!("machine: {cores} cores, {cpu}"),
        format!("rustc: {rustc}"),
    ]
}

fn main() -> ExitCode {
    let opts = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("loopback bench: {e}");
            return ExitCode::from(2);
        }
    };
    let (warmup, n) = if opts.quick {
        (200, 2_000)
    } else {
        (1_000, 10_000)
    };
    let mut rows = Vec::new();

    // --- sequential round trips: one client, one instance, one request in flight ---
    let sandbox =
        BlockingSandbox::start(SandboxConfig::default().rate_limit(None)).expect("sandbox starts");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let client =
        rt.block_on(async { fast_client(&sandbox.url(), DEFAULT_INSTANCE_ID, DEFAULT_TOKEN) });
    let patch = example_patch();
    eprintln!("loopback: {n} sequential getSettings ...");
    let get = sequential(&rt, warmup, n, || async {
        client.get_settings().await.expect("getSettings");
    });
    eprintln!("loopback: {n} sequential setSettings ...");
    let set = sequential(&rt, warmup, n, || async {
        client.set_settings(&patch).await.expect("setSettings");
    });
    drop(client);
    drop(rt);
    drop(sandbox);
    let get_mean = get.mean();

    // --- the typed layer's CPU cost (criterion), as a share of a loopback round trip ---
    if let Some(dir) = &opts.criterion_dir {
        for (group, function, what) in [
            (
                "patch",
                "full_build_validate_serialise",
                "SettingsPatch: build + validate + serialise, all 19 fields",
            ),
            (
                "settings",
                "parse_get_settings_body",
                "Settings: parse a getSettings body (JSON text → Settings)",
            ),
            (
                "patch",
                "validate_against",
                "SettingsPatch::validate_against(current)",
            ),
        ] {
            let mean = criterion_mean(dir, group, function);
            rows.push(Row {
                what: format!("{what} [criterion]"),
                n: dash(),
                mean: mean.map_or_else(|| "not run".into(), fmt_dur),
                p50: dash(),
                p99: dash(),
                rate: mean.map_or_else(dash, |m| format!("{:.0}/s", 1.0 / m.as_secs_f64())),
                ratio: mean.map_or_else(dash, |m| {
                    format!(
                        "{:.1}% of a getSettings round trip",
                        100.0 * m.as_secs_f64() / get_mean.as_secs_f64()
                    )
                }),
            });
        }
        for (function, what) in [
            (
                "get_settings",
                "Rust client getSettings round trip [criterion]",
            ),
            (
                "set_settings",
                "Rust client setSettings round trip [criterion]",
            ),
        ] {
            let mean = criterion_mean(dir, "roundtrip", function);
            rows.push(Row {
                what: what.into(),
                n: dash(),
                mean: mean.map_or_else(|| "not run".into(), fmt_dur),
                p50: dash(),
                p99: dash(),
                rate: mean.map_or_else(dash, |m| format!("{:.0}/s", 1.0 / m.as_secs_f64())),
                ratio: dash(),
            });
        }
    }
    for (what, s, ratio) in [
        (
            "Rust client getSettings round trip",
            &get,
            "1.00 (reference)".to_string(),
        ),
        (
            "Rust client setSettings round trip (example body, 15 fields)",
            &set,
            format!(
                "{:.2}× getSettings",
                set.mean().as_secs_f64() / get_mean.as_secs_f64()
            ),
        ),
    ] {
        rows.push(Row {
            what: what.into(),
            n: s.times.len().to_string(),
            mean: fmt_dur(s.mean()),
            p50: fmt_dur(s.percentile(50.0)),
            p99: fmt_dur(s.percentile(99.0)),
            rate: format!("{:.0}/s", s.per_second()),
            ratio,
        });
    }

    // --- many requests in flight: 16 clients on 16 instances ---
    let clients = 16;
    let per_client = n / clients;
    let sandbox =
        BlockingSandbox::start(SandboxConfig::instances_generated(clients).rate_limit(None))
            .expect("sandbox starts");
    eprintln!("loopback: {clients} concurrent clients × {per_client} getSettings ...");
    let conc = concurrent_gets(&sandbox, clients, per_client);
    drop(sandbox);
    rows.push(Row {
        what: format!("Rust client getSettings, {clients} clients in parallel"),
        n: conc.times.len().to_string(),
        mean: fmt_dur(conc.mean()),
        p50: fmt_dur(conc.percentile(50.0)),
        p99: fmt_dur(conc.percentile(99.0)),
        rate: format!("{:.0}/s", conc.per_second()),
        ratio: format!(
            "{:.2}× sequential req/s",
            conc.per_second() / get.per_second()
        ),
    });

    // --- fleet: apply on N instances with injected latency, then apply again (no-op) ---
    let (instances, concurrency, latency) = (
        opts.fleet_instances,
        opts.fleet_concurrency,
        opts.fleet_latency,
    );
    let sandbox = BlockingSandbox::start(
        SandboxConfig::instances_generated(instances)
            .rate_limit(None)
            .latency(latency),
    )
    .expect("sandbox starts");
    // Like the CLI: two worker threads.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let desired = example_patch();
    let mut fleet_ok = true;
    for (label, requests) in [("apply", 2usize), ("apply again (no change)", 1)] {
        eprintln!("loopback: fleet {label}: {instances} instances, concurrency {concurrency}, {} ms latency ...", latency.as_millis());
        let out = fleet_run(&rt, &sandbox, &desired, concurrency, requests);
        let ideal = latency * (instances * requests) as u32 / concurrency.max(1) as u32;
        let expected_status = if requests == 2 {
            out.applied
        } else {
            out.unchanged
        };
        if out.failed > 0 || expected_status != instances {
            fleet_ok = false;
            eprintln!(
                "loopback: fleet {label}: {} applied, {} unchanged, {} failed (expected all {})",
                out.applied,
                out.unchanged,
                out.failed,
                if requests == 2 {
                    "applied"
                } else {
                    "unchanged"
                }
            );
        }
        rows.push(Row {
            what: format!(
                "fleet {label}: {instances} instances × {requests} req, {} ms, concurrency {concurrency} (times per instance)",
                latency.as_millis()
            ),
            n: out.samples.times.len().to_string(),
            mean: fmt_dur(out.samples.mean()),
            p50: fmt_dur(out.samples.percentile(50.0)),
            p99: fmt_dur(out.samples.percentile(99.0)),
            rate: format!("{:.0}/s", out.samples.per_second()),
            ratio: format!(
                "wall {} / ideal {} = {:.2}",
                fmt_dur(out.samples.wall),
                fmt_dur(ideal),
                out.samples.wall.as_secs_f64() / ideal.as_secs_f64()
            ),
        });
    }
    drop(rt);
    drop(sandbox);

    // --- the Python side, measured by bench/python_bench.py in the same run ---
    python_rows(
        &mut rows,
        opts.python_json.as_deref(),
        get.per_second(),
        set.per_second(),
    );

    print_table(&rows);
    if fleet_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn print_table(rows: &[Row]) {
    for line in machine() {
        println!("{line}");
    }
    println!();
    let header = [
        "benchmark",
        "n",
        "mean",
        "p50",
        "p99",
        "throughput",
        "ratio",
    ];
    let cells: Vec<[&str; 7]> = rows
        .iter()
        .map(|r| {
            [
                r.what.as_str(),
                r.n.as_str(),
                r.mean.as_str(),
                r.p50.as_str(),
                r.p99.as_str(),
                r.rate.as_str(),
                r.ratio.as_str(),
            ]
        })
        .collect();
    let mut width = header.map(|h| h.chars().count());
    for row in &cells {
        for (w, c) in width.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cols: [&str; 7]| {
        let padded: Vec<String> = cols
            .iter()
            .zip(width)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
            .collect();
        println!("| {} |", padded.join(" | "));
    };
    line(header);
    let rule: Vec<String> = width.iter().map(|w| "-".repeat(*w)).collect();
    println!("|-{}-|", rule.join("-|-"));
    for row in cells {
        line(row);
    }
}

/// Rows for the Python binding, the official SDK and the validation comparison, from the JSON
/// of `bench/python_bench.py --json`; requests/s as a ratio to the Rust client of this run.
fn python_rows(rows: &mut Vec<Row>, path: Option<&std::path::Path>, rust_get: f64, rust_set: f64) {
    let parsed: Option<serde_json::Value> = path
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|t| serde_json::from_str(&t).ok());
    let Some(v) = parsed else {
        rows.push(Row {
            what: "Python binding / official SDK / pydantic rows".into(),
            n: dash(),
            mean: "not measured: run scripts/bench (needs Python)".into(),
            p50: dash(),
            p99: dash(),
            rate: dash(),
            ratio: dash(),
        });
        return;
    };
    let empty = Vec::new();
    for r in v["roundtrip"].as_array().unwrap_or(&empty) {
        let (method, client) = (
            r["method"].as_str().unwrap_or("?"),
            r["client"].as_str().unwrap_or("?"),
        );
        let rps = r["rps"].as_f64().unwrap_or(0.0);
        let rust = if method == "getSettings" {
            rust_get
        } else {
            rust_set
        };
        let us = |k: &str| fmt_dur(Duration::from_secs_f64(r[k].as_f64().unwrap_or(0.0) / 1e6));
        rows.push(Row {
            what: format!("{client} {method} round trip"),
            n: r["n"].as_u64().map_or_else(dash, |n| n.to_string()),
            mean: fmt_dur(Duration::from_secs_f64(1.0 / rps.max(1e-9))),
            p50: us("p50_us"),
            p99: us("p99_us"),
            rate: format!("{rps:.0}/s"),
            ratio: format!("{:.2}× the Rust client's req/s", rps / rust),
        });
    }
    let vals = v["validation"].as_array().unwrap_or(&empty);
    let base = vals
        .last()
        .and_then(|r| r["us_per_call"].as_f64())
        .unwrap_or(1.0);
    for r in vals {
        let us = r["us_per_call"].as_f64().unwrap_or(0.0);
        rows.push(Row {
            what: format!("Python: {} (full patch)", r["what"].as_str().unwrap_or("?")),
            n: r["n"].as_u64().map_or_else(dash, |n| n.to_string()),
            mean: fmt_dur(Duration::from_secs_f64(us / 1e6)),
            p50: dash(),
            p99: dash(),
            rate: format!("{:.0}/s", 1e6 / us.max(1e-9)),
            ratio: format!("{:.2}× pydantic's time", us / base),
        });
    }
}
