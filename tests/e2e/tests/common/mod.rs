//! Helpers shared by the end-to-end tests.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use greenapi_settings::{Client, ClientBuilder, RetryPolicy};
use greenapi_settings_sandbox::{
    BlockingSandbox, Sandbox, SandboxConfig, SandboxHandle, TlsConfig, DEFAULT_INSTANCE_ID,
    DEFAULT_TOKEN,
};

/// The default sandbox instance's token.
pub const TOKEN: &str = DEFAULT_TOKEN;

/// Whether this test binary runs its suite over HTTPS. A `*_tls` test target includes a
/// suite's file (`#[path]`), so the same tests run against the TLS sandbox (a certificate
/// made at start, its throw-away CA trusted by every client the helpers build).
pub fn over_tls() -> bool {
    env!("CARGO_CRATE_NAME").ends_with("_tls")
}

/// The CA of each live TLS sandbox started by the helpers, by its URL. A URL (its port) is
/// reused once its sandbox is gone, so each start replaces what an earlier one left.
static CAS: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

fn with_tls(config: SandboxConfig) -> SandboxConfig {
    if over_tls() {
        config.tls(TlsConfig::generated())
    } else {
        config
    }
}

fn remember_ca(url: String, pem: Option<&str>) {
    let mut cas = CAS.lock().unwrap();
    // Regression: the first CA ever seen for a URL was kept, so a sandbox on a port an
    // earlier test's sandbox had used was checked against that one's CA (BadSignature).
    cas.retain(|(u, _)| *u != url);
    if let Some(pem) = pem {
        cas.push((url, pem.to_string()));
    }
}

/// Starts a sandbox on a free loopback port (over TLS in a `*_tls` target).
pub async fn sandbox(config: SandboxConfig) -> SandboxHandle {
    let sb = Sandbox::start(with_tls(config))
        .await
        .expect("sandbox starts");
    remember_ca(sb.url(), sb.ca_pem());
    sb
}

/// [`sandbox`] on a thread of its own, for blocking tests.
pub fn blocking_sandbox(config: SandboxConfig) -> BlockingSandbox {
    let sb = BlockingSandbox::start(with_tls(config)).expect("sandbox starts");
    remember_ca(sb.url(), sb.ca_pem());
    sb
}

/// A builder for `url`, trusting its sandbox's CA when it is a TLS one started here.
pub fn builder(url: &str) -> ClientBuilder {
    let builder = Client::builder().api_url(url);
    let ca = CAS
        .lock()
        .unwrap()
        .iter()
        .find(|(u, _)| u == url)
        .map(|(_, pem)| pem.clone());
    match ca {
        Some(pem) => builder
            .add_root_certificate(pem.as_bytes())
            .expect("the sandbox's CA"),
        None => builder,
    }
}

/// A builder for the default instance with pacing off (tests set retries and timeouts).
pub fn default_builder(url: &str) -> greenapi_settings::ClientBuilder {
    builder(url)
        .id_instance(DEFAULT_INSTANCE_ID)
        .api_token(TOKEN)
        .min_interval(Duration::ZERO)
}

/// A client for the default instance with pacing off and quick retries.
pub fn fast_client(url: &str) -> Client {
    client_for(url, DEFAULT_INSTANCE_ID, TOKEN)
}

/// A client for any instance with pacing off and quick retries.
pub fn client_for(url: &str, id: u64, token: &str) -> Client {
    builder(url)
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

/// A builder for a test server of its own (not the sandbox): instance `id`, `token`, pacing
/// off, `timeout` and `retry` as given.
pub fn builder_for(
    url: &str,
    id: u64,
    token: &str,
    timeout: Duration,
    retry: RetryPolicy,
) -> ClientBuilder {
    Client::builder()
        .api_url(url)
        .id_instance(id)
        .api_token(token)
        .min_interval(Duration::ZERO)
        .timeout(timeout)
        .retry(retry)
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
    http_response_with(status, "", body)
}

/// [`http_response`] with `extra_headers` (each ending in `\r\n`).
pub fn http_response_with(status: &str, extra_headers: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{extra_headers}Connection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

/// One request as [`recording_server`] saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub head: String,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn path(&self) -> &str {
        self.head.split(' ').nth(1).unwrap_or_default()
    }
}

/// Reads one HTTP/1.1 request (head and a `Content-Length` body).
fn read_request(s: &mut TcpStream) -> Option<Seen> {
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut buf).ok()?;
        if n == 0 || data.len() > 64 * 1024 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = data[head_end..].to_vec();
    while body.len() < length {
        let n = s.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
    }
    Some(Seen { head, body })
}

/// A server answering each of up to `n` requests with `answer(request)` (raw bytes, see
/// [`http_response_with`]), recording them all.
pub fn recording_server<F>(n: usize, answer: F) -> (String, Arc<Mutex<Vec<Seen>>>)
where
    F: Fn(&Seen) -> Vec<u8> + Send + 'static,
{
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in l.incoming().take(n) {
            let Ok(mut s) = stream else { continue };
            let Some(req) = read_request(&mut s) else {
                continue;
            };
            log.lock().unwrap().push(req.clone());
            let _ = s.write_all(&answer(&req));
            let _ = s.flush();
        }
    });
    (url, seen)
}

/// A tracing subscriber that keeps each event as text: all of them, or those of one level.
pub struct Capture {
    events: Arc<Mutex<Vec<String>>>,
    level: Option<tracing::Level>,
}

impl Capture {
    /// Every event, into `events`.
    pub fn all(events: Arc<Mutex<Vec<String>>>) -> Self {
        Capture {
            events,
            level: None,
        }
    }

    /// The events of `level` only, into `events`.
    pub fn level(level: tracing::Level, events: Arc<Mutex<Vec<String>>>) -> Self {
        Capture {
            events,
            level: Some(level),
        }
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, m: &tracing::Metadata<'_>) -> bool {
        self.level.is_none_or(|l| *m.level() == l)
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        self.events.lock().unwrap().push(format!("{event:?}"));
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

pub mod arb;

/// Sends raw bytes to `addr` and reads until the server closes (bounded by `timeout` per
/// read), for requests no HTTP client would make. The request should say
/// `Connection: close`.
pub fn send_raw(
    addr: std::net::SocketAddr,
    request: &[u8],
    timeout: Duration,
) -> std::io::Result<Vec<u8>> {
    let mut stream = std::net::TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    // The server may answer (413, 400) before it has read everything; a failed write is
    // fine then, the answer is still there to read.
    let _ = stream.write_all(request);
    let mut data = Vec::new();
    match stream.read_to_end(&mut data) {
        Ok(_) => Ok(data),
        // A reset after the answer was sent (the server closed with our bytes unread).
        Err(e) if !data.is_empty() && e.kind() == std::io::ErrorKind::ConnectionReset => Ok(data),
        Err(e) => Err(e),
    }
}

/// The status code of a raw HTTP/1.x answer, if it starts with a status line.
pub fn raw_status(answer: &[u8]) -> Option<u16> {
    let line_end = answer.windows(2).position(|w| w == b"\r\n")?;
    let line = std::str::from_utf8(&answer[..line_end]).ok()?;
    let mut parts = line.split(' ');
    if !parts.next()?.starts_with("HTTP/1.") {
        return None;
    }
    parts.next()?.parse().ok()
}

/// This process's resident memory in KiB (Linux: `VmRSS` in /proc/self/status).
pub fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A raw server that runs `script` on each of up to `n` connections (each on the accepting
/// thread, one after another), for faults no real server makes on purpose: resets, trickled
/// bodies, endless streams. Returns its URL and a count of the connections accepted.
pub fn scripted_server<F>(
    n: usize,
    script: F,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>)
where
    F: Fn(std::net::TcpStream) + Send + 'static,
{
    use std::sync::atomic::{AtomicUsize, Ordering};
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let accepted = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    std::thread::spawn(move || {
        for stream in l.incoming().take(n) {
            let Ok(s) = stream else { continue };
            counter.fetch_add(1, Ordering::SeqCst);
            script(s);
        }
    });
    (url, accepted)
}

/// Waits until the client's request has arrived, without reading it: closing a socket with
/// unread input makes the kernel answer with a reset (RST) instead of a clean close (FIN).
pub fn wait_for_request(s: &std::net::TcpStream) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buf = [0u8; 1];
    let _ = s.peek(&mut buf);
}
