//! The async entry point, used in-process from tokio tests, and a fleet of instances.

use std::time::Duration;

use greenapi_settings_sandbox::{
    generated_token, Sandbox, SandboxConfig, DEFAULT_INSTANCE_ID, DEFAULT_TOKEN,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One request over a fresh connection; returns (status, body).
async fn call(addr: std::net::SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[tokio::test]
async fn sandbox_runs_inside_a_current_thread_tokio_test() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let path = format!("/waInstance{DEFAULT_INSTANCE_ID}/setSettings/{DEFAULT_TOKEN}");
    let (status, body) = call(
        sandbox.addr(),
        "POST",
        &path,
        r#"{"incomingWebhook":"yes"}"#,
    )
    .await;
    assert_eq!((status, body.as_str()), (200, r#"{"saveSettings":true}"#));
    assert!(
        sandbox
            .stats(DEFAULT_INSTANCE_ID)
            .unwrap()
            .settings
            .incoming_webhook
    );
    sandbox.reset().await.unwrap();
    assert!(
        !sandbox
            .stats(DEFAULT_INSTANCE_ID)
            .unwrap()
            .settings
            .incoming_webhook
    );
    let addr = sandbox.addr();
    tokio::time::timeout(Duration::from_secs(6), sandbox.shutdown())
        .await
        .unwrap()
        .unwrap();
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "port closed after shutdown"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_of_250_instances_is_served_concurrently_under_the_default_rate_limit() {
    let sandbox = Sandbox::start(SandboxConfig::instances_generated(250))
        .await
        .unwrap();
    let ids = sandbox.instance_ids();
    assert_eq!(ids.len(), 250);
    let addr = sandbox.addr();
    let tasks: Vec<_> = ids
        .iter()
        .map(|&id| {
            tokio::spawn(async move {
                let token = generated_token(id);
                let delay = 500 + id % 1000;
                let body = format!(r#"{{"delaySendMessagesMilliseconds":{delay}}}"#);
                call(
                    addr,
                    "POST",
                    &format!("/waInstance{id}/setSettings/{token}"),
                    &body,
                )
                .await
                .0
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(
            task.await.unwrap(),
            200,
            "one call per instance stays under 1 req/s"
        );
    }
    for stats in sandbox.all_stats() {
        assert_eq!(stats.restarts, 1);
        assert_eq!(
            stats.settings.delay_send_messages_milliseconds,
            500 + (stats.id_instance % 1000) as i64
        );
    }
    assert_eq!(ids[0], DEFAULT_INSTANCE_ID);
    sandbox.shutdown().await.unwrap();
}

#[tokio::test]
async fn dropping_the_handle_stops_the_server() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let addr = sandbox.addr();
    drop(sandbox);
    for _ in 0..100 {
        if TcpStream::connect(addr).await.is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("still accepting connections after drop");
}

#[tokio::test]
async fn blocking_sandbox_can_be_created_and_dropped_inside_an_async_context() {
    let sandbox =
        greenapi_settings_sandbox::BlockingSandbox::start(SandboxConfig::default()).unwrap();
    let (status, _) = call(sandbox.addr(), "GET", "/sandbox/instances", "").await;
    assert_eq!(status, 200);
    drop(sandbox);
}
