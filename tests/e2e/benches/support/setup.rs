//! What several steps of the bench build alike: the example patch, a client with pacing and
//! retries off, the runtimes, the sandbox's generated instances, and one fleet apply through
//! the CLI's fleet code.

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use greenapi_settings::{facts, ApiToken, Client, RetryPolicy, SettingsPatch};
use greenapi_settings_cli::creds::ConnArgs;
use greenapi_settings_cli::fleet::{self, FleetRun, Instance, Report};
use greenapi_settings_sandbox::{generated_token, DEFAULT_INSTANCE_ID};

/// The API documentation's example body (15 settings), as a patch.
pub fn example_patch() -> SettingsPatch {
    let example: serde_json::Value =
        serde_json::from_str(facts::SET_SETTINGS_EXAMPLE_BODY).expect("example is JSON");
    SettingsPatch::from_json_value(&example).expect("example is a valid patch")
}

/// The Rust client on instance `id` at `url`, pacing and retries off.
pub fn fast_client(url: &str, id: u64, token: &str) -> Client {
    Client::builder()
        .api_url(url)
        .id_instance(id)
        .api_token(token)
        .min_interval(Duration::ZERO)
        .retry(RetryPolicy::none())
        .build()
        .expect("client builds")
}

/// A current-thread runtime (the client side of the sequential loops).
pub fn current_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// A multi-thread runtime with `workers` worker threads (the CLI's has two).
pub fn runtime(workers: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("runtime")
}

/// The ids of the sandbox's `n` generated instances (`--instances N`,
/// `SandboxConfig::instances_generated(N)`).
pub fn generated_ids(n: u64) -> Range<u64> {
    DEFAULT_INSTANCE_ID..DEFAULT_INSTANCE_ID + n
}

/// The generated instances `ids` of the sandbox at `url`, as the fleet code takes them.
pub fn instances(ids: impl IntoIterator<Item = u64>, url: &str) -> Vec<Instance> {
    ids.into_iter()
        .map(|id| Instance {
            id,
            token: ApiToken::new(generated_token(id)),
            api_url: url.to_string(),
        })
        .collect()
}

/// One fleet apply of `desired` through the CLI's fleet code (`fleet::run`, what
/// `apply --instances` runs) with the CLI's connection defaults; `min_interval: None` keeps
/// the CLI's pacing.
pub async fn apply_fleet(
    desired: &SettingsPatch,
    instances: Vec<Instance>,
    concurrency: usize,
    min_interval: Option<Duration>,
) -> Result<Report, String> {
    let conn = ConnArgs::default();
    fleet::run(FleetRun {
        desired,
        instances,
        concurrency,
        dry_run: false,
        done: BTreeMap::new(),
        conn: &conn,
        min_interval,
        verify: None,
    })
    .await
    .map_err(|e| e.message)
}

/// The two runs of every fleet measurement: apply (getSettings, then setSettings), then apply
/// again (getSettings only: nothing left to change). Label, requests per instance, and the
/// status every instance must end in.
pub const FLEET_RUNS: [(&str, usize, &str); 2] = [
    ("apply", 2, "applied"),
    ("apply again (no change)", 1, "unchanged"),
];
