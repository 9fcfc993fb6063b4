//! With a state file, every acknowledged `setSettings` survives a restart even when other
//! clients hang up in the middle of their requests: a write started for a request whose
//! client went away must neither be overtaken by a newer write nor overwrite it later.
//!
//! Each round, several clients write to their own instances at once; some of them close the
//! connection at a varying moment instead of waiting for the answer. Then the sandbox is
//! shut down and started again from the state file, and every acknowledged value must be
//! there. Bounded: at most 80 rounds of a dozen requests on 127.0.0.1, about 10–15 s.
//!
//! The race this guards against needs an older write to finish after a newer one, which a
//! black-box run only provokes now and then (the review saw 2 rounds in 80); the unit test
//! `server::tests::a_write_for_an_abandoned_request_never_overwrites_a_newer_acknowledged_one`
//! makes it certain with a test hook that slows one write down.

mod common;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use greenapi_settings_sandbox::{generated_token, BlockingSandbox, SandboxConfig};

const ROUNDS: u64 = 80;
const INSTANCES: usize = 20;
const CLIENTS: u64 = 12;
const TIME_BUDGET: Duration = Duration::from_secs(25);

fn sandbox(state: &Path) -> BlockingSandbox {
    BlockingSandbox::start(
        SandboxConfig::instances_generated(INSTANCES)
            .rate_limit(None)
            .state_file(state),
    )
    .expect("sandbox starts from the state file")
}

fn body(value: u64) -> String {
    format!(r#"{{"delaySendMessagesMilliseconds":{value}}}"#)
}

/// Sends a setSettings and hangs up after `after` without reading the answer.
fn abandon(addr: SocketAddr, id: u64, value: u64, after: Duration) {
    let body = body(value);
    let Ok(mut stream) = TcpStream::connect(addr) else {
        return;
    };
    let _ = write!(
        stream,
        "POST {} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        set_path(id, &generated_token(id)),
        body.len()
    );
    thread::sleep(after);
    drop(stream);
}

/// A spread of hang-up moments (0–7 ms) that differs per round and client.
fn delay(round: u64, client: u64) -> Duration {
    let x = (round * 31 + client * 17).wrapping_mul(2_654_435_761) % 8_000;
    Duration::from_micros(x)
}

#[test]
fn acknowledged_writes_survive_a_restart_when_other_clients_abort_mid_request() {
    let dir = temp_dir("persist-order");
    let state = dir.join("state.json");
    let started = Instant::now();
    let mut sb = sandbox(&state);
    let ids = sb.instance_ids();
    let mut rounds = 0;
    while rounds < ROUNDS && started.elapsed() < TIME_BUDGET {
        rounds += 1;
        let addr = sb.addr();
        let acknowledged: Vec<(u64, u64)> = thread::scope(|s| {
            let handles: Vec<_> = (0..CLIENTS)
                .map(|c| {
                    let id = ids[c as usize];
                    let value = 10_000 + rounds * 100 + c;
                    s.spawn(move || {
                        if c % 2 == 1 {
                            abandon(addr, id, value, delay(rounds, c));
                            None
                        } else {
                            let reply =
                                post(addr, &set_path(id, &generated_token(id)), &body(value));
                            assert_eq!(reply.status, 200, "{}", reply.text());
                            Some((id, value))
                        }
                    })
                })
                .collect();
            handles
                .into_iter()
                .filter_map(|h| h.join().expect("client thread"))
                .collect()
        });
        sb.shutdown().expect("shutdown");
        // Give a write still running for an abandoned request the time to land.
        thread::sleep(Duration::from_millis(20));
        sb = sandbox(&state);
        for (id, value) in acknowledged {
            let shown = sb
                .stats(id)
                .expect("instance")
                .settings
                .delay_send_messages_milliseconds;
            assert_eq!(
                shown, value as i64,
                "round {rounds}: instance {id} lost its acknowledged write"
            );
        }
    }
    assert!(
        rounds >= 20,
        "only {rounds} rounds ran within the time budget"
    );
    drop(sb);
    let _ = std::fs::remove_dir_all(&dir);
}
