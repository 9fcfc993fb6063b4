//! Helpers shared by the end-to-end tests.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use greenapi_settings::{Client, RetryPolicy};
use greenapi_settings_sandbox::{
    Sandbox, SandboxConfig, SandboxHandle, DEFAULT_INSTANCE_ID, DEFAULT_TOKEN,
};

/// The default sandbox instance's token.
pub const TOKEN: &str = DEFAULT_TOKEN;

/// Starts a sandbox on a free loopback port.
pub async fn sandbox(config: SandboxConfig) -> SandboxHandle {
    Sandbox::start(config).await.expect("sandbox starts")
}

/// A client for the default instance with pacing off and quick retries.
pub fn fast_client(url: &str) -> Client {
    client_for(url, DEFAULT_INSTANCE_ID, TOKEN)
}

/// A client for any instance with pacing off and quick retries.
pub fn client_for(url: &str, id: u64, token: &str) -> Client {
    Client::builder()
        .api_url(url)
        .id_instance(id)
        .api_token(token)
        .min_interval(Duration::ZERO)
        .retry(
            RetryPolicy::default()
                .base_delay(Duration::from_millis(5))
                .max_delay(Duration::from_millis(20)),
        )
        .build()
        .expect("client builds")
}

/// A loopback port with nothing listening on it.
pub fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    port
}

/// A one-shot raw HTTP server: answers each of `n` connections with `response` (bytes as
/// given), for responses the sandbox never makes (garbage, huge, cut short). Returns its URL.
pub fn raw_server(response: Vec<u8>, n: usize) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in l.incoming().take(n) {
            let Ok(mut s) = stream else { continue };
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = s.write_all(&response);
            let _ = s.flush();
        }
    });
    url
}

/// An HTTP/1.1 response with a body and the right Content-Length.
pub fn http_response(status: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}
