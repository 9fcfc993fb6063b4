//! The TLS rows (issue 22): getSettings over HTTPS against its own floor and the plain one,
//! and what one new TLS connection costs each side in CPU.
//!
//! 1. Six sequential loops, interleaved in the same rounds ([`sequential::interleaved`]) and
//!    pinned alike: the plain floor, the TLS floor ([`tls_floor`]), the Rust client against
//!    the plain sandbox and against the TLS sandbox (trusting its CA through
//!    `ClientBuilder::add_root_certificate`), and the two halves of the TLS pair (the Rust
//!    client against the bare TLS server, the bare TLS client against the TLS sandbox). The
//!    targets: the Rust client ≤ 1.25× the plain floor, and over TLS ≤ 1.25× the TLS floor
//!    and ≤ 1.25× the plain floor.
//! 2. A new connection's CPU on each side: rounds of N fresh connections that each make one
//!    getSettings, alternating with rounds of N getSettings on one kept-alive connection; the
//!    difference per connection, client thread against every other thread (the server), from
//!    [`cpu::split`]. Over plain TCP (what a connection costs without TLS), the bare TLS pair,
//!    and the bare TLS client against the TLS sandbox (whose handshake counter checks that
//!    every fresh connection made one). Full handshakes: the bare client resumes no session.

use std::cell::Cell;
use std::future::Future;
use std::time::{Duration, Instant};

use greenapi_settings::{ApiMethod, Client, RetryPolicy};
use greenapi_settings_sandbox::{
    BlockingSandbox, SandboxConfig, TlsConfig, DEFAULT_INSTANCE_ID, DEFAULT_TOKEN,
};

use super::cpu;
use super::floor::{FloorClient, FloorServer};
use super::python_worker::Paired;
use super::samples::Samples;
use super::sequential::{bare_call, client_get, interleaved, Call};
use super::setup::{current_thread_runtime, fast_client};
use super::table::{fmt_dur, Row};
use super::tls_floor::{self, TlsFloorServer};
use super::LOOP_DEADLINE;

/// The bound on each of the client's ratios.
const TARGET: f64 = 1.25;

/// Rounds of the connection-cost loops (fresh and kept alternate, fresh first in even ones).
const CONNECTION_ROUNDS: usize = 10;

/// The six loops of step 1 and the connection costs of step 2.
pub struct TlsRounds {
    pub floor: Samples,
    pub tls_floor: Samples,
    pub client: Samples,
    pub tls_client: Samples,
    pub tls_client_floor: Samples,
    pub tls_bare_sandbox: Samples,
    pub connections: Vec<ConnectionCost>,
}

/// What a new connection costs above a request on a kept-alive one.
pub struct ConnectionCost {
    pub what: &'static str,
    /// Fresh connections measured, and made before unmeasured.
    pub n: usize,
    pub warmup: usize,
    /// Wall time of a fresh connection and its one request.
    pub fresh_wall: Duration,
    /// Wall time of a request on the kept-alive connection.
    pub kept_wall: Duration,
    /// CPU per fresh connection minus per kept-alive request: client thread, server threads.
    pub client_cpu_ns: f64,
    pub server_cpu_ns: f64,
    /// What the TLS sandbox's counter says, when the server is the sandbox.
    pub note: String,
}

/// Runs both steps: `warmup` unmeasured and `n` measured calls per loop, `connections` fresh
/// connections per pair; `pin`: client and servers on different CPUs, as the plain rows.
pub fn run(warmup: usize, n: usize, connections: usize, pin: bool) -> TlsRounds {
    let sandbox =
        BlockingSandbox::start(SandboxConfig::default().rate_limit(None)).expect("sandbox starts");
    let tls_sandbox = BlockingSandbox::start(
        SandboxConfig::default()
            .rate_limit(None)
            .tls(TlsConfig::generated()),
    )
    .expect("TLS sandbox starts");
    let sandbox_ca = tls_sandbox.ca_pem().expect("a generated CA").to_string();
    let rt = current_thread_runtime();
    let get_path = ApiMethod::GetSettings.url("", DEFAULT_INSTANCE_ID, DEFAULT_TOKEN);
    let get_answer = rt.block_on(async {
        let mut c = FloorClient::connect(sandbox.addr()).await;
        c.request(&get_path, None).await
    });
    // The set body is never asked for here (getSettings only); the floors answer it anyway.
    let bare_server = FloorServer::start(get_answer.to_vec(), b"{\"saveSettings\":true}".to_vec());
    let tls_server =
        TlsFloorServer::start(get_answer.to_vec(), b"{\"saveSettings\":true}".to_vec());
    let connector = tls_floor::connector(&[&tls_server.ca_pem, &sandbox_ca]);
    let (floor_bare, tls_floor_bare, tls_sandbox_bare) = rt.block_on(async {
        (
            FloorClient::connect(bare_server.addr).await,
            tls_floor::connect(&connector, tls_server.addr).await,
            tls_floor::connect(&connector, tls_sandbox.addr()).await,
        )
    });
    let floor_bare = Cell::new(Some(floor_bare));
    let tls_floor_bare = Cell::new(Some(tls_floor_bare));
    let tls_sandbox_bare = Cell::new(Some(tls_sandbox_bare));
    let tls_floor_url = format!("https://{}", tls_server.addr);
    let (client, tls_client, tls_client_floor) = rt.block_on(async {
        (
            fast_client(&sandbox.url(), DEFAULT_INSTANCE_ID, DEFAULT_TOKEN),
            tls_client(&tls_sandbox.url(), &[&sandbox_ca]),
            tls_client(&tls_floor_url, &[&tls_server.ca_pem]),
        )
    });
    let variants: [(&str, Box<Call<'_>>); 6] = [
        (
            "getSettings, bare client -> bare server",
            bare_call(&floor_bare, &get_path, None),
        ),
        (
            "getSettings, bare TLS client -> bare TLS server",
            bare_call(&tls_floor_bare, &get_path, None),
        ),
        ("getSettings, Rust client -> sandbox", client_get(&client)),
        (
            "getSettings, Rust client -> TLS sandbox",
            client_get(&tls_client),
        ),
        (
            "getSettings, Rust client -> bare TLS server",
            client_get(&tls_client_floor),
        ),
        (
            "getSettings, bare TLS client -> TLS sandbox",
            bare_call(&tls_sandbox_bare, &get_path, None),
        ),
    ];
    let pinned = pin && cpu::pin_client_and_server(false);
    // No Python worker in these rounds: an empty pairing.
    let mut no_python = Paired::start(None, false);
    let [floor, tls_floor, client_s, tls_client_s, tls_client_floor_s, tls_bare_sandbox] =
        <[Samples; 6]>::try_from(interleaved(&rt, warmup, n, &variants, &mut no_python))
            .unwrap_or_else(|_| unreachable!("one Samples per variant"));
    drop(variants);

    let mut costs = Vec::new();
    rt.block_on(async {
        let plain = bare_server.addr;
        costs.push(
            connection_cost(
                "a new TCP connection (bare client -> bare server, no TLS)",
                connections,
                &floor_bare,
                &get_path,
                || FloorClient::connect(plain),
            )
            .await,
        );
        let tls = tls_server.addr;
        costs.push(
            connection_cost(
                "a new TLS connection, full handshake (bare rustls client -> bare rustls server)",
                connections,
                &tls_floor_bare,
                &get_path,
                || tls_floor::connect(&connector, tls),
            )
            .await,
        );
        let sandbox_addr = tls_sandbox.addr();
        let before = tls_sandbox.server_stats().tls_handshakes;
        // A quarter of the count: each new connection to the sandbox takes ~44 ms of wall
        // time (measured 2026-12-07: it leaves Nagle on, so its answer waits behind the
        // TLS 1.3 session tickets for the client's delayed ACK; the CPU is unaffected).
        let mut cost = connection_cost(
            "a new TLS connection, full handshake (bare rustls client -> TLS sandbox)",
            (connections / 4).max(CONNECTION_ROUNDS),
            &tls_sandbox_bare,
            &get_path,
            || tls_floor::connect(&connector, sandbox_addr),
        )
        .await;
        let made = tls_sandbox.server_stats().tls_handshakes - before;
        cost.note = format!(
            "; the sandbox counted {made} handshakes for {} + {} warm-up connections",
            cost.n, cost.warmup
        );
        costs.push(cost);
    });
    if pinned {
        cpu::pin_client_and_server(true);
    }
    drop((client, tls_client, tls_client_floor));
    drop((floor_bare, tls_floor_bare, tls_sandbox_bare));
    drop(rt);
    drop((bare_server, tls_server, sandbox, tls_sandbox));
    TlsRounds {
        floor,
        tls_floor,
        client: client_s,
        tls_client: tls_client_s,
        tls_client_floor: tls_client_floor_s,
        tls_bare_sandbox,
        connections: costs,
    }
}

/// The Rust client at the HTTPS `url`, trusting the CAs in `ca_pems` on top of the
/// platform's, pacing and retries off (as [`fast_client`]).
fn tls_client(url: &str, ca_pems: &[&str]) -> Client {
    let mut b = Client::builder()
        .api_url(url)
        .id_instance(DEFAULT_INSTANCE_ID)
        .api_token(DEFAULT_TOKEN)
        .min_interval(Duration::ZERO)
        .retry(RetryPolicy::none());
    for pem in ca_pems {
        b = b.add_root_certificate(pem.as_bytes()).expect("CA PEM");
    }
    b.build().expect("client builds")
}

/// Step 2 for one pair: `n` fresh connections (`connect`), one GET of `path` each, against
/// `n` GETs on the kept-alive client in `kept`, in [`CONNECTION_ROUNDS`] alternating rounds.
async fn connection_cost<F, Fut>(
    what: &'static str,
    n: usize,
    kept: &Cell<Option<FloorClient>>,
    path: &str,
    connect: F,
) -> ConnectionCost
where
    F: Fn() -> Fut,
    Fut: Future<Output = FloorClient>,
{
    eprintln!("loopback: {n} × {what} ...");
    let per_round = (n / CONNECTION_ROUNDS).max(1);
    let client_tid = cpu::current_tid();
    let (mut fresh, mut reuse) = (cpu::Split::default(), cpu::Split::default());
    let (mut fresh_wall, mut kept_wall) = (Duration::ZERO, Duration::ZERO);
    let (mut fresh_n, mut kept_n) = (0usize, 0usize);
    let mut c = kept.take().expect("client");
    // Warm-up: a few of each, unmeasured.
    let warmup = per_round.min(20);
    for _ in 0..warmup {
        connect().await.request(path, None).await;
        c.request(path, None).await;
    }
    let started = Instant::now();
    for round in 0..CONNECTION_ROUNDS * 2 {
        let fresh_turn = (round % 2 == 0) == (round / 2 % 2 == 0);
        let before = cpu::snapshot();
        let t0 = Instant::now();
        for _ in 0..per_round {
            if fresh_turn {
                let mut f = connect().await;
                f.request(path, None).await;
            } else {
                c.request(path, None).await;
            }
        }
        let wall = t0.elapsed();
        let d = cpu::split(&before, &cpu::snapshot(), client_tid, 1);
        if fresh_turn {
            fresh.add(&d);
            fresh_wall += wall;
            fresh_n += per_round;
        } else {
            reuse.add(&d);
            kept_wall += wall;
            kept_n += per_round;
        }
        if started.elapsed() > LOOP_DEADLINE {
            break;
        }
    }
    kept.set(Some(c));
    fresh.divide(fresh_n.max(1) as f64);
    reuse.divide(kept_n.max(1) as f64);
    ConnectionCost {
        what,
        n: fresh_n,
        warmup,
        fresh_wall: fresh_wall / fresh_n.max(1) as u32,
        kept_wall: kept_wall / kept_n.max(1) as u32,
        client_cpu_ns: fresh.client_cpu_ns - reuse.client_cpu_ns,
        server_cpu_ns: fresh.server_cpu_ns - reuse.server_cpu_ns,
        note: String::new(),
    }
}

/// `value` against the bound: "1.31× NAME (target ≤ 1.25: missed)".
fn against(value: f64, name: &str) -> String {
    let verdict = if value <= TARGET { "met" } else { "missed" };
    format!("{value:.2}× {name} (target ≤ {TARGET:.2}: {verdict})")
}

impl TlsRounds {
    /// The rows of both steps, labelled "TLS:" where they are about HTTPS.
    pub fn rows(&self) -> Vec<Row> {
        let over =
            |s: &Samples, floor: &Samples| s.mean().as_secs_f64() / floor.mean().as_secs_f64();
        let plain = |s: &Samples| format!("{:.2}× plain floor", over(s, &self.floor));
        let tls = |s: &Samples| format!("{:.2}× TLS floor", over(s, &self.tls_floor));
        let mut rows = vec![
            Row::measured(
                "FLOOR getSettings, same rounds as the TLS rows: bare hyper client -> bare hyper server",
                &self.floor,
                "1.00× plain floor".into(),
            ),
            Row::measured(
                "TLS: FLOOR getSettings: bare hyper + tokio-rustls client -> bare hyper + tokio-rustls server",
                &self.tls_floor,
                format!("1.00× TLS floor; {}", plain(&self.tls_floor)),
            ),
            Row::measured(
                "Rust client getSettings (-> sandbox), same rounds as the TLS rows",
                &self.client,
                against(over(&self.client, &self.floor), "plain floor"),
            ),
            Row::measured(
                "TLS: Rust client getSettings (-> TLS sandbox, CA via add_root_certificate)",
                &self.tls_client,
                format!(
                    "{}; {}",
                    against(over(&self.tls_client, &self.tls_floor), "TLS floor"),
                    against(over(&self.tls_client, &self.floor), "plain floor")
                ),
            ),
            Row::measured(
                "TLS: client getSettings: Rust client -> bare TLS server",
                &self.tls_client_floor,
                tls(&self.tls_client_floor),
            ),
            Row::measured(
                "TLS: sandbox getSettings: bare TLS client -> TLS sandbox",
                &self.tls_bare_sandbox,
                tls(&self.tls_bare_sandbox),
            ),
        ];
        for c in &self.connections {
            let us = |ns: f64| ns / 1e3;
            rows.push(Row {
                n: c.n.to_string(),
                mean: fmt_dur(c.fresh_wall),
                rate: format!("{:.0}/s", 1.0 / c.fresh_wall.as_secs_f64()),
                ratio: format!(
                    "{:.2}× a kept-alive request ({}){}",
                    c.fresh_wall.as_secs_f64() / c.kept_wall.as_secs_f64().max(1e-9),
                    fmt_dur(c.kept_wall),
                    c.note
                ),
                split: format!(
                    "per new connection above a kept-alive request: client {:.1} µs + server {:.1} µs CPU",
                    us(c.client_cpu_ns),
                    us(c.server_cpu_ns)
                ),
                ..Row::dashes(format!("CPU of {} and one getSettings", c.what))
            });
        }
        rows
    }
}
