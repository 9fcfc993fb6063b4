//! Bounded timing loops that criterion does not give, then one table (with the criterion
//! means in it when the criterion benches ran: read from `--criterion-dir DIR` or
//! `$CRITERION_HOME`; a relative path is relative to tests/e2e, where cargo runs benches):
//!
//! - the **floor** (a bare hyper client against a bare hyper server answering the sandbox's
//!   own bodies), the sandbox (bare client) and the Rust client (bare server) as ratios to it,
//!   and the real pair, interleaved, client and server pinned to different CPUs, each with its
//!   per-request split (client CPU, server CPU, wake-ups);
//! - 16 clients in parallel; the in-process fleet run against its ideal;
//! - the fleet across processes: the sandbox binary against the CLI binary (or this bench
//!   re-run as `--fleet-child`): wall time against the ideal, CPU per request and peak RSS of
//!   the client process, 429s (`--fleet-large`: 20,000 instances);
//! - the Python rows from `--python-json`.
//!
//! ```text
//! cargo bench -p greenapi-settings-e2e --bench loopback                  # this part only
//! scripts/bench                                                          # everything, one table
//! cargo bench -p greenapi-settings-e2e --bench loopback -- --quick       # smaller counts
//! ```
//!
//! Every loop is bounded in count and in time, and talks to 127.0.0.1 only.

#[path = "support/cpu.rs"]
mod cpu;
#[path = "support/floor.rs"]
mod floor;
#[path = "support/procs.rs"]
mod procs;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use bytes::Bytes;
use greenapi_settings::{facts, ApiMethod, ApiToken, Client, RetryPolicy, SettingsPatch};
use greenapi_settings_cli::creds::ConnArgs;
use greenapi_settings_cli::fleet::{self, FleetRun, Instance};
use greenapi_settings_sandbox::{
    generated_token, BlockingSandbox, SandboxConfig, DEFAULT_INSTANCE_ID, DEFAULT_TOKEN,
};

/// Hard stop for any one timing loop, whatever its count.
const LOOP_DEADLINE: Duration = Duration::from_secs(30);

struct Options {
    quick: bool,
    /// Leave thread placement to the scheduler in the sequential loops.
    no_pin: bool,
    criterion_dir: Option<PathBuf>,
    fleet_instances: usize,
    fleet_concurrency: usize,
    fleet_latency: Duration,
    /// JSON written by `bench/python_bench.py --json` in the same run (scripts/bench does it).
    python_json: Option<PathBuf>,
    /// The `greenapi-settings` and `greenapi-settings-sandbox` binaries (default: next to
    /// this bench's directory, i.e. `target/release/`; scripts/bench builds them).
    cli_bin: Option<PathBuf>,
    sandbox_bin: Option<PathBuf>,
    /// Also the 20,000-instance fleet across processes (slow: about a minute).
    fleet_large: bool,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        quick: false,
        no_pin: false,
        // scripts/bench exports it; criterion itself reads it too.
        criterion_dir: std::env::var_os("CRITERION_HOME").map(PathBuf::from),
        fleet_instances: 2_000,
        fleet_concurrency: 200,
        fleet_latency: Duration::from_millis(20),
        python_json: None,
        cli_bin: None,
        sandbox_bin: None,
        fleet_large: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            // `cargo bench` passes `--bench`; a filter may follow from the user.
            "--bench" => {}
            "--quick" => o.quick = true,
            "--no-pin" => o.no_pin = true,
            "--criterion-dir" => o.criterion_dir = Some(PathBuf::from(value("--criterion-dir")?)),
            "--python-json" => o.python_json = Some(PathBuf::from(value("--python-json")?)),
            "--cli-bin" => o.cli_bin = Some(PathBuf::from(value("--cli-bin")?)),
            "--sandbox-bin" => o.sandbox_bin = Some(PathBuf::from(value("--sandbox-bin")?)),
            "--fleet-large" => o.fleet_large = true,
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
    /// Where the time went (sequential loops only).
    split: Option<cpu::Split>,
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
    /// Per request: client CPU / server CPU / the rest (wake-ups), for sequential loops.
    split: String,
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

/// Per request: client CPU + server CPU + the rest (waiting for the other side to wake up and
/// answer: wake-ups, scheduler delay, the vCPU leaving halt), and context switches.
fn fmt_split(sp: &cpu::Split, mean: Duration) -> String {
    let us = |ns: f64| ns / 1e3;
    let rest = mean.as_nanos() as f64 - sp.client_cpu_ns - sp.server_cpu_ns;
    format!(
        "{:.1} + {:.1} + {:.1} µs (run-queue {:.1} µs, {:.1} switches)",
        us(sp.client_cpu_ns),
        us(sp.server_cpu_ns),
        us(rest.max(0.0)),
        us(sp.wait_ns),
        sp.slices
    )
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

type BoxFuture<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + 'a>>;

/// One variant of the sequential loops: makes the future of one call.
type Call<'a> = dyn Fn() -> BoxFuture<'a> + 'a;

/// Rounds the sequential loops are cut into (see [`interleaved`]).
const ROUNDS: usize = 20;

/// `n` sequential calls of each variant after `warmup` unmeasured ones, each call timed alone.
/// The variants take turns in [`ROUNDS`] rounds of `n / ROUNDS` calls, so that a change in the
/// machine's load during the run (another process, CPU frequency) falls on every variant alike
/// and their ratios stay comparable.
fn interleaved<'a>(
    rt: &tokio::runtime::Runtime,
    warmup: usize,
    n: usize,
    variants: &[(&str, &Call<'a>)],
) -> Vec<Samples> {
    let per_round = (n / ROUNDS).max(1);
    let client_tid = cpu::current_tid();
    let mut out: Vec<Samples> = variants
        .iter()
        .map(|_| Samples {
            times: Vec::with_capacity(n),
            wall: Duration::ZERO,
            requests_per_sample: 1,
            split: Some(cpu::Split::default()),
        })
        .collect();
    rt.block_on(async {
        for (label, call) in variants {
            eprintln!("loopback: warm-up, {label} ...");
            for _ in 0..warmup {
                call().await;
            }
        }
        eprintln!(
            "loopback: {} variants × {n} sequential calls, in {ROUNDS} rounds ...",
            variants.len()
        );
        let started = Instant::now();
        for _ in 0..ROUNDS {
            for ((_, call), s) in variants.iter().zip(out.iter_mut()) {
                let before = cpu::snapshot();
                let t0 = Instant::now();
                for _ in 0..per_round {
                    let t = Instant::now();
                    call().await;
                    s.times.push(t.elapsed());
                }
                s.wall += t0.elapsed();
                let d = cpu::split(&before, &cpu::snapshot(), client_tid, 1);
                if let Some(acc) = s.split.as_mut() {
                    acc.client_cpu_ns += d.client_cpu_ns;
                    acc.server_cpu_ns += d.server_cpu_ns;
                    acc.wait_ns += d.wait_ns;
                    acc.slices += d.slices;
                }
            }
            if started.elapsed() > LOOP_DEADLINE {
                break;
            }
        }
    });
    for s in &mut out {
        let k = s.times.len().max(1) as f64;
        if let Some(acc) = s.split.as_mut() {
            acc.client_cpu_ns /= k;
            acc.server_cpu_ns /= k;
            acc.wait_ns /= k;
            acc.slices /= k;
        }
    }
    out
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
            split: None,
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
            split: None,
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
    // Re-run of this bench as the fleet client process (see `process_fleet`).
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--fleet-child") {
        return fleet_child(&args[i + 1..]);
    }
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
    // Two servers (the sandbox, and the bare hyper server answering the sandbox's own bodies)
    // times two clients (the Rust client, and the bare hyper client): the floor, and the
    // client's and the sandbox's share of the round trip above it.
    let sandbox =
        BlockingSandbox::start(SandboxConfig::default().rate_limit(None)).expect("sandbox starts");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let patch = example_patch();
    let set_body = Bytes::from(serde_json::to_vec(&patch.to_json_value()).expect("JSON"));
    let get_path = ApiMethod::GetSettings.url("", DEFAULT_INSTANCE_ID, DEFAULT_TOKEN);
    let set_path = ApiMethod::SetSettings.url("", DEFAULT_INSTANCE_ID, DEFAULT_TOKEN);
    let (sandbox_bare, get_answer, set_answer) = rt.block_on(async {
        let mut c = floor::FloorClient::connect(sandbox.addr()).await;
        let get = c.request(&get_path, None).await;
        let set = c.request(&set_path, Some(&set_body)).await;
        (c, get, set)
    });
    let bare_server = floor::FloorServer::start(get_answer.to_vec(), set_answer.to_vec());
    let floor_bare = rt.block_on(floor::FloorClient::connect(bare_server.addr));
    let (floor_bare, sandbox_bare) = (
        std::cell::Cell::new(Some(floor_bare)),
        std::cell::Cell::new(Some(sandbox_bare)),
    );
    let (client, floor_client) = rt.block_on(async {
        (
            fast_client(&sandbox.url(), DEFAULT_INSTANCE_ID, DEFAULT_TOKEN),
            fast_client(&bare_server.url(), DEFAULT_INSTANCE_ID, DEFAULT_TOKEN),
        )
    });
    let floor_get_f = || -> BoxFuture<'_> {
        Box::pin(async {
            let mut c = floor_bare.take().expect("client");
            c.request(&get_path, None).await;
            floor_bare.set(Some(c));
        })
    };
    let floor_set_f = || -> BoxFuture<'_> {
        Box::pin(async {
            let mut c = floor_bare.take().expect("client");
            c.request(&set_path, Some(&set_body)).await;
            floor_bare.set(Some(c));
        })
    };
    let bare_sandbox_get_f = || -> BoxFuture<'_> {
        Box::pin(async {
            let mut c = sandbox_bare.take().expect("client");
            c.request(&get_path, None).await;
            sandbox_bare.set(Some(c));
        })
    };
    let bare_sandbox_set_f = || -> BoxFuture<'_> {
        Box::pin(async {
            let mut c = sandbox_bare.take().expect("client");
            c.request(&set_path, Some(&set_body)).await;
            sandbox_bare.set(Some(c));
        })
    };
    let client_floor_get_f = || -> BoxFuture<'_> {
        Box::pin(async {
            floor_client.get_settings().await.expect("getSettings");
        })
    };
    let client_floor_set_f = || -> BoxFuture<'_> {
        Box::pin(async {
            floor_client
                .set_settings(&patch)
                .await
                .expect("setSettings");
        })
    };
    let get_f = || -> BoxFuture<'_> {
        Box::pin(async {
            client.get_settings().await.expect("getSettings");
        })
    };
    let set_f = || -> BoxFuture<'_> {
        Box::pin(async {
            client.set_settings(&patch).await.expect("setSettings");
        })
    };
    let variants = [
        (
            "getSettings, bare client -> bare server",
            &floor_get_f as &Call<'_>,
        ),
        (
            "setSettings, bare client -> bare server",
            &floor_set_f as &Call<'_>,
        ),
        (
            "getSettings, bare client -> sandbox",
            &bare_sandbox_get_f as &Call<'_>,
        ),
        (
            "setSettings, bare client -> sandbox",
            &bare_sandbox_set_f as &Call<'_>,
        ),
        (
            "getSettings, Rust client -> bare server",
            &client_floor_get_f as &Call<'_>,
        ),
        (
            "setSettings, Rust client -> bare server",
            &client_floor_set_f as &Call<'_>,
        ),
        ("getSettings, Rust client -> sandbox", &get_f as &Call<'_>),
        ("setSettings, Rust client -> sandbox", &set_f as &Call<'_>),
    ];
    let pinned = !opts.no_pin && cpu::pin_client_and_server(false);
    let [floor_get, floor_set, bare_sandbox_get, bare_sandbox_set, client_floor_get, client_floor_set, get, set] =
        <[Samples; 8]>::try_from(interleaved(&rt, warmup, n, &variants[..]))
            .unwrap_or_else(|_| unreachable!("one Samples per variant"));
    if pinned {
        cpu::pin_client_and_server(true);
    }
    drop((client, floor_client, floor_bare, sandbox_bare));
    drop(rt);
    drop(bare_server);
    drop(sandbox);
    let get_mean = get.mean();

    // --- the typed layer's CPU cost (criterion), as a share of a loopback round trip ---
    if let Some(dir) = &opts.criterion_dir {
        for (group, function, what) in [
            (
                "patch",
                "full_build_validate_serialise",
                "SettingsPatch: build + validate + serialise, every field",
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
                split: dash(),
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
                split: dash(),
            });
        }
    }
    let ratio_to = |s: &Samples, floor: &Samples| {
        format!(
            "{:.2}× floor",
            s.mean().as_secs_f64() / floor.mean().as_secs_f64()
        )
    };
    for (what, s, ratio) in [
        (
            "FLOOR getSettings: bare hyper client -> bare hyper server (fixed body)",
            &floor_get,
            "1.00× floor".to_string(),
        ),
        (
            "FLOOR setSettings: bare hyper client -> bare hyper server (example body)",
            &floor_set,
            "1.00× floor (set)".to_string(),
        ),
        (
            "sandbox getSettings: bare hyper client -> sandbox",
            &bare_sandbox_get,
            ratio_to(&bare_sandbox_get, &floor_get),
        ),
        (
            "sandbox setSettings: bare hyper client -> sandbox",
            &bare_sandbox_set,
            format!("{} (set)", ratio_to(&bare_sandbox_set, &floor_set)),
        ),
        (
            "client getSettings: Rust client -> bare hyper server",
            &client_floor_get,
            ratio_to(&client_floor_get, &floor_get),
        ),
        (
            "client setSettings: Rust client -> bare hyper server",
            &client_floor_set,
            format!("{} (set)", ratio_to(&client_floor_set, &floor_set)),
        ),
        (
            "Rust client getSettings round trip (-> sandbox)",
            &get,
            format!("{} (target ≤ 1.50)", ratio_to(&get, &floor_get)),
        ),
        (
            "Rust client setSettings round trip (-> sandbox, example body, 15 fields)",
            &set,
            format!(
                "{} (set); {:.2}× getSettings",
                ratio_to(&set, &floor_set),
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
            split: s.split.map_or_else(dash, |sp| fmt_split(&sp, s.mean())),
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
        split: dash(),
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
            split: dash(),
        });
    }
    drop(rt);
    drop(sandbox);

    // --- the fleet across processes: sandbox binary | CLI binary (or this bench re-run) ---
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|p| Some(p.parent()?.parent()?.to_path_buf()));
    let bin = |given: &Option<PathBuf>, name: &str| {
        given
            .clone()
            .or_else(|| exe_dir.as_ref().map(|d| d.join(name)))
            .filter(|p| p.is_file())
    };
    match (
        bin(&opts.cli_bin, "greenapi-settings"),
        bin(&opts.sandbox_bin, "greenapi-settings-sandbox"),
    ) {
        (Some(cli), Some(sandbox_bin)) => {
            let mut runs = vec![(
                FleetClient::Cli(cli.clone()),
                2_000,
                1_000,
                Duration::from_millis(20),
            )];
            if opts.fleet_large {
                runs.push((
                    FleetClient::Child,
                    20_000,
                    2_000,
                    Duration::from_millis(100),
                ));
                runs.push((
                    FleetClient::Cli(cli),
                    20_000,
                    1_000,
                    Duration::from_millis(100),
                ));
            }
            for (client, instances, concurrency, latency) in runs {
                match process_fleet(&sandbox_bin, &client, instances, concurrency, latency) {
                    Ok((new_rows, ok)) => {
                        rows.extend(new_rows);
                        fleet_ok &= ok;
                    }
                    Err(e) => {
                        fleet_ok = false;
                        eprintln!("loopback: fleet across processes: {e}");
                    }
                }
            }
        }
        _ => rows.push(Row {
            what: "fleet across processes (CLI binary | sandbox binary)".into(),
            n: dash(),
            mean: "not measured: build greenapi-settings and greenapi-settings-sandbox (release) or pass --cli-bin/--sandbox-bin".into(),
            p50: dash(),
            p99: dash(),
            rate: dash(),
            ratio: dash(),
            split: dash(),
        }),
    }

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
        "per request: client CPU + server CPU + wake-ups",
    ];
    let cells: Vec<[&str; 8]> = rows
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
                r.split.as_str(),
            ]
        })
        .collect();
    let mut width = header.map(|h| h.chars().count());
    for row in &cells {
        for (w, c) in width.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cols: [&str; 8]| {
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
            split: dash(),
        });
        return;
    };
    let empty = Vec::new();
    let trips = v["roundtrip"].as_array().unwrap_or(&empty);
    let rps_of = |method: &str, official: bool| {
        trips
            .iter()
            .find(|r| {
                r["method"].as_str() == Some(method)
                    && r["client"].as_str().unwrap_or("").contains("official") == official
            })
            .and_then(|r| r["rps"].as_f64())
    };
    for r in trips {
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
        let official = client.contains("official");
        let us = |k: &str| fmt_dur(Duration::from_secs_f64(r[k].as_f64().unwrap_or(0.0) / 1e6));
        let ratio = if official {
            format!("{:.2}× the Rust client's req/s", rps / rust)
        } else {
            // Per-call overhead over the Rust client of this run, and requests/s against the SDK.
            let overhead = 1e6 / rps.max(1e-9) - 1e6 / rust.max(1e-9);
            format!(
                "+{overhead:.1} µs per call over the Rust client (target ≤ 30); {} the SDK's req/s (target ≥ 5)",
                rps_of(method, true).map_or_else(dash, |sdk| format!("{:.2}×", rps / sdk))
            )
        };
        rows.push(Row {
            what: format!("{client} {method} round trip"),
            n: r["n"].as_u64().map_or_else(dash, |n| n.to_string()),
            mean: fmt_dur(Duration::from_secs_f64(1.0 / rps.max(1e-9))),
            p50: us("p50_us"),
            p99: us("p99_us"),
            rate: format!("{rps:.0}/s"),
            ratio,
            split: dash(),
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
            ratio: format!("{:.2}× pydantic's time (target ≤ 0.50)", us / base),
            split: dash(),
        });
    }
}

/// Who runs the fleet in [`process_fleet`].
enum FleetClient {
    /// The `greenapi-settings` binary: `apply FILE --instances CSV --concurrency N --report R`
    /// (its `--concurrency` goes up to 1,000).
    Cli(PathBuf),
    /// This bench re-run with `--fleet-child`: the CLI's fleet code (`fleet::run`, what
    /// `apply --instances` runs) on the CLI's runtime (two worker threads), in a process of
    /// its own, at any concurrency.
    Child,
}

/// Apply, then apply again, on `instances` instances of the sandbox binary (`latency` on
/// every answer, its default rate limit of 1 request/s per instance) from a fleet client in
/// another process with its default pacing (1 request/s per instance), `concurrency` at once.
/// Rows: wall time against the ideal, the client process's CPU per request and peak RSS,
/// 429s seen by the sandbox. `Ok(false)` if an instance failed.
fn process_fleet(
    sandbox_bin: &Path,
    client: &FleetClient,
    instances: usize,
    concurrency: usize,
    latency: Duration,
) -> Result<(Vec<Row>, bool), String> {
    let who = match client {
        FleetClient::Cli(_) => "CLI process",
        FleetClient::Child => "fleet code in its own process",
    };
    eprintln!(
        "loopback: fleet across processes ({who}): {instances} instances, concurrency {concurrency}, {} ms ...",
        latency.as_millis()
    );
    let sandbox = procs::SandboxProc::start(
        sandbox_bin,
        &[
            "--instances".into(),
            instances.to_string(),
            "--latency-ms".into(),
            latency.as_millis().to_string(),
            // The client's pool may hold more connections than instances in flight (a
            // request that finds none idle opens one while another is being given back);
            // at the sandbox's cap, further connects would wait for an idle one to time out.
            "--max-connections".into(),
            (concurrency * 4).max(4_096).to_string(),
        ],
    )?;
    let dir = std::env::temp_dir().join(format!("greenapi-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let csv = dir.join("fleet.csv");
    let desired = dir.join("desired.json");
    let report = dir.join("report.json");
    let first = greenapi_settings_sandbox::DEFAULT_INSTANCE_ID;
    let mut text = String::with_capacity(instances * 64);
    for id in first..first + instances as u64 {
        text.push_str(&format!("{id},{},{}\n", generated_token(id), sandbox.url));
    }
    std::fs::write(&csv, text).map_err(|e| e.to_string())?;
    std::fs::write(&desired, facts::SET_SETTINGS_EXAMPLE_BODY).map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    let mut ok = true;
    for (label, requests) in [("apply", 2u32), ("apply again (no change)", 1)] {
        if requests == 1 {
            // A new process cannot know when the last one contacted each instance: like a
            // user, wait out the API's one-second window before running again.
            std::thread::sleep(Duration::from_millis(1100));
        }
        let mut cmd = match client {
            FleetClient::Cli(cli) => {
                let mut c = std::process::Command::new(cli);
                c.arg("apply")
                    .arg(&desired)
                    .arg("--instances")
                    .arg(&csv)
                    .args(["--concurrency", &concurrency.to_string()])
                    .arg("--report")
                    .arg(&report);
                c
            }
            FleetClient::Child => {
                let mut c =
                    std::process::Command::new(std::env::current_exe().map_err(|e| e.to_string())?);
                c.arg("--fleet-child")
                    .arg(&sandbox.url)
                    .arg(instances.to_string())
                    .arg(concurrency.to_string())
                    .arg(&report);
                c
            }
        };
        cmd.stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit());
        let m = procs::run_measured(cmd, Duration::from_secs(600))?;
        let summary: serde_json::Value = std::fs::read_to_string(&report)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        let count = |k: &str| summary["summary"][k].as_u64().unwrap_or(0) as usize;
        let expected = if requests == 2 {
            "applied"
        } else {
            "unchanged"
        };
        let complete = m.status.is_some_and(|s| s.success())
            && count(expected) == instances
            && count("failed") == 0
            && summary["interrupted"] != serde_json::Value::Bool(true);
        if !complete {
            ok = false;
            eprintln!(
                "loopback: fleet {label} ({who}): exit {:?}, {} {expected}, {} failed of {instances}",
                m.status,
                count(expected),
                count("failed")
            );
        }
        let times: Vec<Duration> = summary["results"]
            .as_array()
            .map(|rs| {
                rs.iter()
                    .filter_map(|r| r["durationMs"].as_u64())
                    .map(Duration::from_millis)
                    .collect()
            })
            .unwrap_or_default();
        let samples = Samples {
            times,
            wall: m.wall,
            requests_per_sample: requests as usize,
            split: None,
        };
        let rate_limited = sandbox_rate_limited(&sandbox.url);
        // Each instance: its requests' latency, and the 1 s the pacing keeps between them.
        let per_instance = latency * requests + Duration::from_secs(1) * (requests - 1);
        let waves = instances.div_ceil(concurrency.max(1)) as u32;
        let ideal = per_instance * waves;
        let total_requests = instances as f64 * f64::from(requests);
        rows.push(Row {
            what: format!(
                "fleet {label}, {who}: {instances} instances × {requests} req, {} ms, concurrency {concurrency}, 1 req/s per instance",
                latency.as_millis()
            ),
            n: samples.times.len().to_string(),
            mean: if samples.times.is_empty() { dash() } else { fmt_dur(samples.mean()) },
            p50: if samples.times.is_empty() { dash() } else { fmt_dur(samples.percentile(50.0)) },
            p99: if samples.times.is_empty() { dash() } else { fmt_dur(samples.percentile(99.0)) },
            rate: format!("{:.0}/s", total_requests / m.wall.as_secs_f64()),
            ratio: format!(
                "wall {} / ideal {} = {:.2} (target ≤ 1.15){}",
                fmt_dur(m.wall),
                fmt_dur(ideal),
                m.wall.as_secs_f64() / ideal.as_secs_f64(),
                if complete { "" } else { "; INCOMPLETE" }
            ),
            split: format!(
                "client process: {:.1} µs CPU per request (target ≤ 40), peak RSS {:.0} MB; sandbox: {}",
                m.cpu.as_secs_f64() * 1e6 / total_requests,
                m.peak_rss.unwrap_or(0) as f64 / 1e6,
                match rate_limited {
                    Some(n) => format!("{n} × 429"),
                    None => "429s not read".into(),
                }
            ),
        });
    }
    drop(sandbox);
    let _ = std::fs::remove_dir_all(&dir);
    Ok((rows, ok))
}

/// 429 answers the sandbox at `url` gave so far, from its inspection endpoint.
fn sandbox_rate_limited(url: &str) -> Option<u64> {
    let addr: std::net::SocketAddr = url.strip_prefix("http://")?.parse().ok()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    let body = rt.block_on(async {
        let mut c = floor::FloorClient::connect(addr).await;
        c.request("/sandbox/instances", None).await
    });
    let all: serde_json::Value = serde_json::from_slice(&body).ok()?;
    Some(
        all.as_array()?
            .iter()
            .filter_map(|s| s["rateLimited"].as_u64())
            .sum(),
    )
}

/// `--fleet-child URL N CONCURRENCY REPORT`: one `fleet::run` (apply the example body with the
/// CLI's defaults: pacing 1 request/s per instance, retries) on the sandbox's N generated
/// instances, on a runtime like the CLI's; writes the report like `apply --report`.
fn fleet_child(args: &[String]) -> ExitCode {
    let [url, n, concurrency, report, ..] = args else {
        eprintln!("--fleet-child URL N CONCURRENCY REPORT");
        return ExitCode::from(2);
    };
    let (Ok(n), Ok(concurrency)) = (n.parse::<u64>(), concurrency.parse::<usize>()) else {
        eprintln!("--fleet-child: N and CONCURRENCY are numbers");
        return ExitCode::from(2);
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let first = greenapi_settings_sandbox::DEFAULT_INSTANCE_ID;
    let instances: Vec<Instance> = (first..first + n)
        .map(|id| Instance {
            id,
            token: ApiToken::new(generated_token(id)),
            api_url: url.clone(),
        })
        .collect();
    let desired = example_patch();
    let conn = ConnArgs::default();
    let result = rt.block_on(fleet::run(FleetRun {
        desired: &desired,
        instances,
        concurrency,
        dry_run: false,
        done: BTreeMap::new(),
        conn: &conn,
        min_interval: None,
        verify: None,
    }));
    match result {
        Ok(r) => {
            let text = serde_json::to_string(&r.to_json()).expect("report JSON");
            if std::fs::write(report, text).is_err() {
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("fleet: {}", e.message);
            ExitCode::FAILURE
        }
    }
}
