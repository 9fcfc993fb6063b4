//! Mean round trip of the real async client against the in-process sandbox over loopback:
//! `getSettings` and `setSettings`, sandbox rate limit off, client pacing off, no retries.
//! The sandbox serves on its own runtime thread, the client runs on another, as in an
//! application. p50/p99 and requests/s come from the `loopback` bench; both are in
//! BENCHMARKS.md.
//!
//! `cargo bench -p greenapi-settings-e2e --bench roundtrip`

// `criterion_group!` defines an undocumented `pub fn`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use greenapi_settings::{facts, Client, RetryPolicy, SettingsPatch};
use greenapi_settings_sandbox::{
    BlockingSandbox, SandboxConfig, DEFAULT_INSTANCE_ID, DEFAULT_TOKEN,
};

fn benches(c: &mut Criterion) {
    let sandbox =
        BlockingSandbox::start(SandboxConfig::default().rate_limit(None)).expect("sandbox starts");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let client = rt.block_on(async {
        Client::builder()
            .api_url(sandbox.url())
            .id_instance(DEFAULT_INSTANCE_ID)
            .api_token(DEFAULT_TOKEN)
            .min_interval(Duration::ZERO)
            .retry(RetryPolicy::none())
            .build()
            .expect("client builds")
    });
    // The API documentation's example body (15 settings): the payload every row of the
    // comparison in BENCHMARKS.md sends.
    let example: serde_json::Value =
        serde_json::from_str(facts::SET_SETTINGS_EXAMPLE_BODY).expect("example is JSON");
    let patch = SettingsPatch::from_json_value(&example).expect("example is a valid patch");

    let mut group = c.benchmark_group("roundtrip");
    group.bench_function("get_settings", |b| {
        b.iter(|| black_box(rt.block_on(client.get_settings()).expect("getSettings")))
    });
    group.bench_function("set_settings", |b| {
        b.iter(|| {
            black_box(
                rt.block_on(client.set_settings(&patch))
                    .expect("setSettings"),
            )
        })
    });
    group.finish();
    drop(client);
    drop(rt);
    drop(sandbox);
}

criterion_group!(roundtrip, benches);
criterion_main!(roundtrip);
