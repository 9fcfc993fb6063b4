//! Sequential round trips, one request in flight: two servers (the sandbox, and the bare hyper
//! server of [`super::floor`] answering the sandbox's own bodies) times two clients (the Rust
//! client, and the bare hyper client), getSettings and setSettings each: the floor, and the
//! client's and the sandbox's share of the round trip above it. The eight loops run
//! interleaved ([`interleaved`]), client and server pinned to different CPUs
//! ([`cpu::pin_client_and_server`]), each with its CPU split per request. With a Python
//! worker ([`python_worker`]), each round also asks it for a round of the Python binding's
//! getSettings and setSettings, so that the binding's overhead over the Rust client comes from
//! paired rounds.

use std::cell::Cell;
use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use greenapi_settings::{ApiMethod, Client, SettingsPatch};
use greenapi_settings_sandbox::{
    BlockingSandbox, SandboxConfig, DEFAULT_INSTANCE_ID, DEFAULT_TOKEN,
};

use super::cpu;
use super::floor::{FloorClient, FloorServer};
use super::python_worker::{self, Paired};
use super::samples::Samples;
use super::setup::{current_thread_runtime, example_patch, fast_client};
use super::table::Row;
use super::LOOP_DEADLINE;

pub(super) type BoxFuture<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + 'a>>;

/// One variant of the sequential loops: makes the future of one call.
pub(super) type Call<'a> = dyn Fn() -> BoxFuture<'a> + 'a;

/// Rounds the sequential loops are cut into (see [`interleaved`]).
const ROUNDS: usize = 20;

/// The variants (indices into `run`'s list: the Rust client against the sandbox) that the
/// Python binding's rounds are paired with, and the worker's command for the same method.
const PAIRED: [(usize, &str); 2] = [(6, "get"), (7, "set")];

/// The eight loops, in the order of their rows.
pub struct Sequential {
    pub floor_get: Samples,
    pub floor_set: Samples,
    pub bare_sandbox_get: Samples,
    pub bare_sandbox_set: Samples,
    pub client_floor_get: Samples,
    pub client_floor_set: Samples,
    /// The Rust client against the sandbox: the real thing.
    pub get: Samples,
    pub set: Samples,
    /// The Python binding's rounds, next to the Rust client's (or why there are none).
    pub python: Paired,
    /// Calls per variant per round.
    pub per_round: usize,
}

/// Runs the eight loops: `warmup` unmeasured calls, then `n` measured ones each; `pin`: pin
/// the server threads and the client side to different CPUs while they run. `python`: the
/// interpreter of the Python worker, whose binding rounds run in the same rounds.
pub fn run(warmup: usize, n: usize, pin: bool, python: Option<&Path>) -> Sequential {
    // Started first, before this process pins its threads (a child inherits the affinity of
    // the thread that starts it; the worker pins its own threads alike anyway).
    let mut paired = Paired::start(python, pin);
    let sandbox =
        BlockingSandbox::start(SandboxConfig::default().rate_limit(None)).expect("sandbox starts");
    let rt = current_thread_runtime();
    let patch = example_patch();
    let set_body = Bytes::from(serde_json::to_vec(&patch.to_json_value()).expect("JSON"));
    let get_path = ApiMethod::GetSettings.url("", DEFAULT_INSTANCE_ID, DEFAULT_TOKEN);
    let set_path = ApiMethod::SetSettings.url("", DEFAULT_INSTANCE_ID, DEFAULT_TOKEN);
    let (sandbox_bare, get_answer, set_answer) = rt.block_on(async {
        let mut c = FloorClient::connect(sandbox.addr()).await;
        let get = c.request(&get_path, None).await;
        let set = c.request(&set_path, Some(&set_body)).await;
        (c, get, set)
    });
    let bare_server = FloorServer::start(get_answer.to_vec(), set_answer.to_vec());
    let floor_bare = rt.block_on(FloorClient::connect(bare_server.addr));
    let (floor_bare, sandbox_bare) = (Cell::new(Some(floor_bare)), Cell::new(Some(sandbox_bare)));
    let (client, floor_client) = rt.block_on(async {
        (
            fast_client(&sandbox.url(), DEFAULT_INSTANCE_ID, DEFAULT_TOKEN),
            fast_client(&bare_server.url(), DEFAULT_INSTANCE_ID, DEFAULT_TOKEN),
        )
    });
    let variants: [(&str, Box<Call<'_>>); 8] = [
        (
            "getSettings, bare client -> bare server",
            bare_call(&floor_bare, &get_path, None),
        ),
        (
            "setSettings, bare client -> bare server",
            bare_call(&floor_bare, &set_path, Some(&set_body)),
        ),
        (
            "getSettings, bare client -> sandbox",
            bare_call(&sandbox_bare, &get_path, None),
        ),
        (
            "setSettings, bare client -> sandbox",
            bare_call(&sandbox_bare, &set_path, Some(&set_body)),
        ),
        (
            "getSettings, Rust client -> bare server",
            client_get(&floor_client),
        ),
        (
            "setSettings, Rust client -> bare server",
            client_set(&floor_client, &patch),
        ),
        ("getSettings, Rust client -> sandbox", client_get(&client)),
        (
            "setSettings, Rust client -> sandbox",
            client_set(&client, &patch),
        ),
    ];
    for (i, method) in PAIRED {
        assert_eq!(
            variants[i].0,
            format!("{method}Settings, Rust client -> sandbox")
        );
    }
    let pinned = pin && cpu::pin_client_and_server(false);
    let [floor_get, floor_set, bare_sandbox_get, bare_sandbox_set, client_floor_get, client_floor_set, get, set] =
        <[Samples; 8]>::try_from(interleaved(&rt, warmup, n, &variants, &mut paired))
            .unwrap_or_else(|_| unreachable!("one Samples per variant"));
    if pinned {
        cpu::pin_client_and_server(true);
    }
    drop(variants);
    drop((client, floor_client, floor_bare, sandbox_bare));
    drop(rt);
    drop(bare_server);
    drop(sandbox);
    paired.finish();
    Sequential {
        floor_get,
        floor_set,
        bare_sandbox_get,
        bare_sandbox_set,
        client_floor_get,
        client_floor_set,
        get,
        set,
        python: paired,
        per_round: per_round(n),
    }
}

/// Calls per variant per round.
fn per_round(n: usize) -> usize {
    (n / ROUNDS).max(1)
}

/// One call of the bare client in `cell` (taken out for the call, put back after it): a GET
/// of `path`, or a POST of `body`.
pub(super) fn bare_call<'a>(
    cell: &'a Cell<Option<FloorClient>>,
    path: &'a str,
    body: Option<&'a Bytes>,
) -> Box<Call<'a>> {
    Box::new(move || -> BoxFuture<'a> {
        Box::pin(async move {
            let mut c = cell.take().expect("client");
            c.request(path, body).await;
            cell.set(Some(c));
        })
    })
}

/// One getSettings of the Rust client.
pub(super) fn client_get(client: &Client) -> Box<Call<'_>> {
    Box::new(move || -> BoxFuture<'_> {
        Box::pin(async move {
            client.get_settings().await.expect("getSettings");
        })
    })
}

/// One setSettings of `patch` by the Rust client.
fn client_set<'a>(client: &'a Client, patch: &'a SettingsPatch) -> Box<Call<'a>> {
    Box::new(move || -> BoxFuture<'a> {
        Box::pin(async move {
            client.set_settings(patch).await.expect("setSettings");
        })
    })
}

/// `n` sequential calls of each variant after `warmup` unmeasured ones, each call timed alone.
/// The variants take turns in [`ROUNDS`] rounds of `n / ROUNDS` calls, so that a change in the
/// machine's load during the run (another process, CPU frequency) falls on every variant alike
/// and their ratios stay comparable. Next to each variant of [`PAIRED`], `paired` runs a
/// round of the Python binding's calls of the same method in its worker process (this thread
/// waits meanwhile): right after it in even rounds, right before it in odd ones, so that
/// neither side always comes first.
pub(super) fn interleaved(
    rt: &tokio::runtime::Runtime,
    warmup: usize,
    n: usize,
    variants: &[(&str, Box<Call<'_>>)],
    paired: &mut Paired,
) -> Vec<Samples> {
    let per_round = per_round(n);
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
        paired.warm_up(warmup);
        eprintln!(
            "loopback: {} variants × {n} sequential calls, in {ROUNDS} rounds ...",
            variants.len()
        );
        let started = Instant::now();
        for round in 0..ROUNDS {
            for (i, ((_, call), s)) in variants.iter().zip(out.iter_mut()).enumerate() {
                let python = PAIRED.iter().find(|(v, _)| *v == i).map(|(_, m)| *m);
                if let Some(method) = python.filter(|_| round % 2 == 1) {
                    paired.round(method, per_round);
                }
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
                    acc.add(&d);
                }
                if let Some(method) = python.filter(|_| round % 2 == 0) {
                    paired.round(method, per_round);
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
            acc.divide(k);
        }
    }
    out
}

impl Sequential {
    /// The eight rows: each loop against the floor of its method.
    pub fn rows(&self) -> Vec<Row> {
        let (floor_get, floor_set) = (&self.floor_get, &self.floor_set);
        let ratio_to = |s: &Samples, floor: &Samples| {
            format!(
                "{:.2}× floor",
                s.mean().as_secs_f64() / floor.mean().as_secs_f64()
            )
        };
        let set_ratio = |s: &Samples| format!("{} (set)", ratio_to(s, floor_set));
        [
            (
                "FLOOR getSettings: bare hyper client -> bare hyper server (fixed body)",
                floor_get,
                "1.00× floor".to_string(),
            ),
            (
                "FLOOR setSettings: bare hyper client -> bare hyper server (example body)",
                floor_set,
                "1.00× floor (set)".to_string(),
            ),
            (
                "sandbox getSettings: bare hyper client -> sandbox",
                &self.bare_sandbox_get,
                ratio_to(&self.bare_sandbox_get, floor_get),
            ),
            (
                "sandbox setSettings: bare hyper client -> sandbox",
                &self.bare_sandbox_set,
                set_ratio(&self.bare_sandbox_set),
            ),
            (
                "client getSettings: Rust client -> bare hyper server",
                &self.client_floor_get,
                ratio_to(&self.client_floor_get, floor_get),
            ),
            (
                "client setSettings: Rust client -> bare hyper server",
                &self.client_floor_set,
                set_ratio(&self.client_floor_set),
            ),
            (
                "Rust client getSettings round trip (-> sandbox)",
                &self.get,
                format!("{} (target ≤ 1.50)", ratio_to(&self.get, floor_get)),
            ),
            (
                "Rust client setSettings round trip (-> sandbox, example body, 15 fields)",
                &self.set,
                format!(
                    "{}; {:.2}× getSettings",
                    set_ratio(&self.set),
                    self.set.mean().as_secs_f64() / self.get.mean().as_secs_f64()
                ),
            ),
        ]
        .into_iter()
        .map(|(what, s, ratio)| Row::measured(what, s, ratio))
        .collect()
    }
}

impl Sequential {
    /// The Python binding's rows, paired round by round with the Rust client's (or one row
    /// saying why there are none).
    pub fn python_rows(&self) -> Vec<Row> {
        let p = &self.python;
        let mut rows = Vec::new();
        for (method, ours, rust) in [
            ("getSettings", &p.get, &self.get),
            ("setSettings", &p.set, &self.set),
        ] {
            let what = format!(
                "Python binding {method} round trip, rounds paired with the Rust client's (worker process)"
            );
            if ours.times.is_empty() {
                let why = p.error.as_deref().unwrap_or("no rounds");
                rows.push(Row::not_measured(&what, why));
                continue;
            }
            let (means, medians) = python_worker::round_differences(ours, rust, self.per_round);
            let shown = |v: &[f64]| {
                v.iter()
                    .map(|x| format!("{x:+.1}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            eprintln!(
                "loopback: {method}, the binding minus the Rust client, per round (µs): means {}; p50s {}",
                shown(&means),
                shown(&medians)
            );
            let mut ratio = python_worker::overhead_text(&means, &medians, ours, rust);
            if let Some(e) = &p.error {
                ratio = format!("{ratio} (cut short: {e})");
            }
            rows.push(Row::measured(what, ours, ratio));
        }
        rows
    }
}
