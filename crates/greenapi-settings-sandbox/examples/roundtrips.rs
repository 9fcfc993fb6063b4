//! `N` sequential round trips of the real async client against an in-process sandbox, for
//! instruction counts per call (the timing benches live in `tests/e2e/benches`). The sandbox
//! serves on its own runtime thread (`greenapi-sandbox`), the client runs on the main thread,
//! as in the loopback bench, so callgrind's `--separate-threads=yes` splits the two:
//!
//! ```text
//! cargo build --release -p greenapi-settings-sandbox --example roundtrips
//! valgrind --tool=callgrind --separate-threads=yes target/release/examples/roundtrips get 1000
//! valgrind --tool=callgrind --separate-threads=yes target/release/examples/roundtrips get 4000
//! ```
//!
//! The per-call cost of each side is the difference of its thread's totals divided by 3,000
//! (which drops the start-up). `get` or `set` (the API documentation's example body), or
//! `bare`: getSettings from a bare hyper client on one connection, like the loopback bench's
//! floor client (hyper's client half is in the tree through reqwest).

use std::time::Duration;

use greenapi_settings::{facts, Client, RetryPolicy, SettingsPatch};
use greenapi_settings_sandbox::{
    BlockingSandbox, SandboxConfig, DEFAULT_INSTANCE_ID, DEFAULT_TOKEN,
};

fn main() {
    let mut args = std::env::args().skip(1);
    let method = args.next().unwrap_or_else(|| "get".into());
    let n: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(1_000);
    let sandbox =
        BlockingSandbox::start(SandboxConfig::default().rate_limit(None)).expect("sandbox starts");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let example: serde_json::Value =
        serde_json::from_str(facts::SET_SETTINGS_EXAMPLE_BODY).expect("example is JSON");
    let patch = SettingsPatch::from_json_value(&example).expect("example is a valid patch");
    rt.block_on(async {
        let client = Client::builder()
            .api_url(sandbox.url())
            .id_instance(DEFAULT_INSTANCE_ID)
            .api_token(DEFAULT_TOKEN)
            .min_interval(Duration::ZERO)
            .retry(RetryPolicy::none())
            .build()
            .expect("client builds");
        if method == "bare" {
            return bare_gets(sandbox.addr(), n).await;
        }
        for _ in 0..n {
            match method.as_str() {
                "set" => {
                    client.set_settings(&patch).await.expect("setSettings");
                }
                _ => {
                    client.get_settings().await.expect("getSettings");
                }
            }
        }
    });
}

/// `n` getSettings from a bare hyper client: one kept-alive connection, no pool, no checks.
async fn bare_gets(addr: std::net::SocketAddr, n: usize) {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let io = hyper_util::rt::TokioIo::new(stream);
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .expect("handshake");
    tokio::spawn(conn);
    let path =
        greenapi_settings::ApiMethod::GetSettings.url("", DEFAULT_INSTANCE_ID, DEFAULT_TOKEN);
    for _ in 0..n {
        std::future::poll_fn(|cx| sender.poll_ready(cx))
            .await
            .expect("ready");
        let request = axum::http::Request::get(path.as_str())
            .header("host", addr.to_string())
            .body(axum::body::Body::empty())
            .expect("request");
        let response = sender.send_request(request).await.expect("response");
        assert!(response.status().is_success());
        let body = axum::body::Body::new(response.into_body());
        axum::body::to_bytes(body, 1 << 20).await.expect("body");
    }
}
