//! Sequential round trips, one request in flight: two servers (the sandbox, and the bare hyper
//! server of [`super::floor`] answering the sandbox's own bodies) times two clients (the Rust
//! client, and the bare hyper client), getSettings and setSettings each: the floor, and the
//! client's and the sandbox's share of the round trip above it. The eight loops run
//! interleaved ([`interleaved`]), client and server pinned to different CPUs
//! ([`cpu::pin_client_and_server`]), each with its CPU split per request.

use std::cell::Cell;
use std::time::{Duration, Instant};

use bytes::Bytes;
use greenapi_settings::{ApiMethod, Client, SettingsPatch};
use greenapi_settings_sandbox::{
    BlockingSandbox, SandboxConfig, DEFAULT_INSTANCE_ID, DEFAULT_TOKEN,
};

use super::cpu;
use super::floor::{FloorClient, FloorServer};
use super::samples::Samples;
use super::setup::{current_thread_runtime, example_patch, fast_client};
use super::table::Row;
use super::LOOP_DEADLINE;

type BoxFuture<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + 'a>>;

/// One variant of the sequential loops: makes the future of one call.
type Call<'a> = dyn Fn() -> BoxFuture<'a> + 'a;

/// Rounds the sequential loops are cut into (see [`interleaved`]).
const ROUNDS: usize = 20;

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
}

/// Runs the eight loops: `warmup` unmeasured calls, then `n` measured ones each; `pin`: pin
/// the server threads and the client side to different CPUs while they run.
pub fn run(warmup: usize, n: usize, pin: bool) -> Sequential {
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
    let pinned = pin && cpu::pin_client_and_server(false);
    let [floor_get, floor_set, bare_sandbox_get, bare_sandbox_set, client_floor_get, client_floor_set, get, set] =
        <[Samples; 8]>::try_from(interleaved(&rt, warmup, n, &variants))
            .unwrap_or_else(|_| unreachable!("one Samples per variant"));
    if pinned {
        cpu::pin_client_and_server(true);
    }
    drop(variants);
    drop((client, floor_client, floor_bare, sandbox_bare));
    drop(rt);
    drop(bare_server);
    drop(sandbox);
    Sequential {
        floor_get,
        floor_set,
        bare_sandbox_get,
        bare_sandbox_set,
        client_floor_get,
        client_floor_set,
        get,
        set,
    }
}

/// One call of the bare client in `cell` (taken out for the call, put back after it): a GET
/// of `path`, or a POST of `body`.
fn bare_call<'a>(
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
fn client_get(client: &Client) -> Box<Call<'_>> {
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
/// and their ratios stay comparable.
fn interleaved(
    rt: &tokio::runtime::Runtime,
    warmup: usize,
    n: usize,
    variants: &[(&str, Box<Call<'_>>)],
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
                    acc.add(&d);
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
