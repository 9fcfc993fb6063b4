//! The sandbox under load, in process, over loopback: many real clients at once for a bounded
//! time, each owning distinct (instance, field) pairs. No update is lost (each field ends at
//! its owner's last acknowledged write, and readers never see a field go back), no request
//! fails (no 5xx, no transport error), and memory stays flat after a warm-up.
//!
//! Each client is a thread with its own blocking client (its own runtime and connections),
//! like separate programs talking to one server, and the server runs on its own runtime: no
//! client depends on a shared scheduler being fair to it.
//!
//! One test in this file on purpose: the memory check reads this process's VmRSS, which
//! other tests running in parallel would disturb.

mod common;

use std::time::{Duration, Instant};

use common::rss_kib;
use greenapi_settings::blocking::Client;
use greenapi_settings::{Error, RetryPolicy, SettingsPatch};
use greenapi_settings_sandbox::{generated_token, BlockingSandbox, SandboxConfig};

const INSTANCES: usize = 8;
const WARM_UP: Duration = Duration::from_millis(1_000);
const MEASURED: Duration = Duration::from_millis(2_000);
/// Per client and phase, whatever the time says.
const MAX_REQUESTS: u64 = 50_000;
/// Generous: the point is to catch growth per request, which over the measured phase's
/// thousands of requests would show as far more than this.
const MAX_RSS_GROWTH_KIB: u64 = 32 * 1024;

/// Which field a writer owns; the value it writes is derived from its sequence number.
#[derive(Clone, Copy, Debug)]
enum Owned {
    Delay,
    WebhookUrl,
}

impl Owned {
    fn patch(self, seq: u64) -> SettingsPatch {
        match self {
            // In range (500..=86_400_000) and increasing with seq.
            Owned::Delay => SettingsPatch::new().delay_send_messages_milliseconds(500 + seq as i64),
            Owned::WebhookUrl => {
                SettingsPatch::new().webhook_url(format!("https://example.com/hook/{seq}"))
            }
        }
    }
}

/// No pacing, and no retries: every failure must surface (a retried 5xx would hide exactly
/// what this test looks for).
fn client(url: &str, id: u64) -> Client {
    Client::from_builder(
        greenapi_settings::Client::builder()
            .api_url(url)
            .id_instance(id)
            .api_token(generated_token(id))
            .min_interval(Duration::ZERO)
            .retry(RetryPolicy::none()),
    )
    .expect("client builds")
}

/// Writes `owned` with increasing sequence numbers from `first` until `deadline`; returns the
/// last acknowledged sequence number and how many writes were acknowledged.
fn writer(
    client: &Client,
    owned: Owned,
    first: u64,
    deadline: Instant,
) -> Result<(Option<u64>, u64), Error> {
    let mut last = None;
    let mut acked = 0;
    let mut seq = first;
    while Instant::now() < deadline && acked < MAX_REQUESTS {
        let resp = client.set_settings(&owned.patch(seq))?;
        assert!(resp.save_settings);
        last = Some(seq);
        acked += 1;
        seq += 1;
    }
    Ok((last, acked))
}

/// Reads until `deadline`, checking that no owned field ever goes back (writers only move
/// forward, so a smaller value would be a lost or reordered update).
fn reader(client: &Client, deadline: Instant) -> Result<u64, Error> {
    let (mut delay, mut hook) = (0i64, -1i64);
    let mut reads = 0;
    while Instant::now() < deadline && reads < MAX_REQUESTS {
        let s = client.get_settings()?;
        assert!(
            s.delay_send_messages_milliseconds >= delay,
            "delay went back from {delay} to {}",
            s.delay_send_messages_milliseconds
        );
        delay = s.delay_send_messages_milliseconds;
        if let Some(n) = s.webhook_url.strip_prefix("https://example.com/hook/") {
            let n: i64 = n.parse().expect("a number");
            assert!(n >= hook, "webhookUrl went back from {hook} to {n}");
            hook = n;
        }
        reads += 1;
    }
    Ok(reads)
}

#[derive(Default)]
struct Totals {
    /// Last acknowledged sequence number per (instance index, field).
    last: Vec<[Option<u64>; 2]>,
    acked: Vec<u64>,
    reads: u64,
    errors: Vec<String>,
}

/// One phase: per instance two writers (one per owned field) and one reader, until
/// `duration` has passed. Writers continue the sequence numbers of the phase before.
fn phase(url: &str, ids: &[u64], totals: &mut Totals, duration: Duration) {
    let deadline = Instant::now() + duration;
    let last = totals.last.clone();
    let results: Vec<_> = std::thread::scope(|s| {
        let mut threads = Vec::new();
        for (i, &id) in ids.iter().enumerate() {
            for (f, owned) in [Owned::Delay, Owned::WebhookUrl].into_iter().enumerate() {
                let first = last[i][f].map_or(0, |seq| seq + 1);
                threads.push(
                    s.spawn(move || (i, Some(f), writer(&client(url, id), owned, first, deadline))),
                );
            }
            threads.push(s.spawn(move || {
                let r = reader(&client(url, id), deadline).map(|reads| (None, reads));
                (i, None, r)
            }));
        }
        threads
            .into_iter()
            .map(|t| t.join().expect("no client thread panics"))
            .collect()
    });
    for (i, field, result) in results {
        match (field, result) {
            (Some(f), Ok((last, acked))) => {
                if last.is_some() {
                    totals.last[i][f] = last;
                }
                totals.acked[i] += acked;
            }
            (None, Ok((_, reads))) => totals.reads += reads,
            (_, Err(e)) => totals.errors.push(format!("instance #{i}: {e}")),
        }
    }
}

#[test]
fn concurrent_clients_lose_no_update_get_no_error_and_memory_stays_flat() {
    let started = Instant::now();
    let sb = BlockingSandbox::start(SandboxConfig::instances_generated(INSTANCES).rate_limit(None))
        .expect("sandbox starts");
    let url = sb.url();
    let ids = sb.instance_ids();
    let mut totals = Totals {
        last: vec![[None, None]; INSTANCES],
        acked: vec![0; INSTANCES],
        ..Totals::default()
    };

    phase(&url, &ids, &mut totals, WARM_UP);
    let rss_before = rss_kib();
    let acked_before: u64 = totals.acked.iter().sum();
    phase(&url, &ids, &mut totals, MEASURED);
    let rss_after = rss_kib();
    let acked_measured = totals.acked.iter().sum::<u64>() - acked_before;

    assert!(
        totals.errors.is_empty(),
        "failed requests: {:?}",
        totals.errors
    );
    assert!(
        acked_measured > 100 && totals.reads > 100,
        "too little load to mean anything: {acked_measured} writes, {} reads",
        totals.reads
    );

    // Final state: each field at its owner's last acknowledged write; every acknowledged
    // write was one restart, and nothing else was.
    for (i, &id) in ids.iter().enumerate() {
        let s = client(&url, id).get_settings().expect("final read");
        let [delay, hook] = totals.last[i];
        assert_eq!(
            s.delay_send_messages_milliseconds,
            500 + delay.expect("at least one delay write") as i64,
            "instance {id}: delaySendMessagesMilliseconds"
        );
        assert_eq!(
            s.webhook_url,
            format!(
                "https://example.com/hook/{}",
                hook.expect("at least one webhookUrl write")
            ),
            "instance {id}: webhookUrl"
        );
        let stats = sb.stats(id).expect("served instance");
        assert_eq!(stats.restarts, totals.acked[i], "instance {id}: restarts");
        assert_eq!(stats.rejected, 0, "instance {id}: rejected");
        assert_eq!(stats.rate_limited, 0, "instance {id}: rate limited");
    }

    if let (Some(before), Some(after)) = (rss_before, rss_after) {
        let growth = after.saturating_sub(before);
        eprintln!(
            "load: {acked_measured} writes after the warm-up ({} reads in all); VmRSS {before} KiB -> {after} KiB",
            totals.reads
        );
        assert!(
            growth < MAX_RSS_GROWTH_KIB,
            "VmRSS grew by {growth} KiB ({before} -> {after}) over {acked_measured} writes"
        );
    }
    sb.shutdown().expect("clean shutdown");
    // Catches a hang, not a speed: the phases take 3 s.
    assert!(started.elapsed() < Duration::from_secs(60));
}
