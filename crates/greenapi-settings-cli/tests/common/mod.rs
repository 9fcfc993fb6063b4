//! Helpers shared by the CLI tests: the built binary with a clean environment and its output,
//! temporary files of their own per call, sandboxes, fleet files, call counters and a raw
//! recording HTTP server.
#![allow(dead_code)]

use std::borrow::BorrowMut;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use assert_cmd::Command;
use greenapi_settings::blocking::Client;
use greenapi_settings_sandbox::{
    generated_token, BlockingSandbox, SandboxConfig, DEFAULT_INSTANCE_ID, DEFAULT_TOKEN,
};
use serde_json::Value;

/// The built binary.
pub const CLI: &str = env!("CARGO_BIN_EXE_greenapi-settings");

/// Variables the binary takes credentials, defaults and its route from: cleared, so that no
/// test sees the caller's environment (a test that wants one sets it). A developer's
/// `HTTPS_PROXY` or `GREEN_API_CA_CERT` must not change what a test reaches.
pub const CLEARED_ENV: [&str; 16] = [
    "GREEN_API_URL",
    "GREEN_API_ID_INSTANCE",
    "GREEN_API_TOKEN",
    "XDG_CONFIG_HOME",
    "GREENAPI_WEBHOOK_TOKEN",
    "GREENAPI_SANDBOX_URL",
    "GREEN_API_CA_CERT",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "REQUEST_METHOD",
];

/// How long one run of the binary may take before it counts as hung (the slowest tests keep
/// to 1 request per second across a fleet).
pub const TIMEOUT: Duration = Duration::from_secs(180);

/// Whether a run gets `--color never` (before any other argument) or no `--color` at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Color {
    /// `--color never`.
    Never,
    /// No `--color` flag: the binary's default.
    Unset,
}

/// The binary as a plain `std::process::Command` (to spawn and signal it), with the
/// environment of [`CLEARED_ENV`] removed and no profile file.
pub fn std_bin() -> std::process::Command {
    let mut c = std::process::Command::new(CLI);
    for v in CLEARED_ENV {
        c.env_remove(v);
    }
    // No profile file unless a test gives one.
    c.env("GREENAPI_SETTINGS_PROFILES", "/nonexistent/profiles.toml");
    c
}

/// The binary with a clean environment (see [`std_bin`]), `color` and a [`TIMEOUT`].
pub fn bin(color: Color) -> Command {
    let mut c = Command::from_std(std_bin());
    if color == Color::Never {
        c.args(["--color", "never"]);
    }
    c.timeout(TIMEOUT);
    c
}

/// What a run of the binary gave.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout then stderr.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// stdout as JSON (panics with the whole output if it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.all()))
    }
}

/// Runs `c` (owned or borrowed) to its end.
pub fn run(mut c: impl BorrowMut<Command>) -> Run {
    let out = c.borrow_mut().output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `args` with `--color never`.
pub fn cli(args: &[&str]) -> Run {
    let mut c = bin(Color::Never);
    c.args(args);
    run(c)
}

/// `--color never` and the sandbox's default instance (URL, id, token in the environment).
pub fn one(sb: &BlockingSandbox) -> Command {
    let mut c = bin(Color::Never);
    c.env("GREEN_API_URL", sb.url())
        .env("GREEN_API_ID_INSTANCE", DEFAULT_INSTANCE_ID.to_string())
        .env("GREEN_API_TOKEN", DEFAULT_TOKEN);
    c
}

/// Runs `args` against the sandbox's default instance (see [`one`]).
pub fn against(sb: &BlockingSandbox, args: &[&str]) -> Run {
    let mut c = one(sb);
    c.args(args);
    run(c)
}

/// Lines of the child's stdout, as they come.
pub fn lines_of(child: &mut std::process::Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    rx
}

// ---- temporary files -----------------------------------------------------------------------

/// A new, empty directory per call (this process's id and a counter): tests run in parallel
/// in one process, and a file that two of them rewrite could be read half-written.
pub fn dir() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let d = std::env::temp_dir()
        .join(format!("gas-cli-tests-{}", std::process::id()))
        .join(n.to_string());
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A file `name` holding `text`, in a directory of its own (see [`dir`]).
pub fn tmp(name: &str, text: &str) -> PathBuf {
    let p = dir().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

pub fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

/// A JSON file (a fleet report).
pub fn read_json(p: &Path) -> Value {
    serde_json::from_str(&read(p)).unwrap()
}

// ---- sandboxes, fleets and counters --------------------------------------------------------

/// `n` generated instances, no rate limit.
pub fn fast(n: usize) -> BlockingSandbox {
    BlockingSandbox::start(SandboxConfig::instances_generated(n).rate_limit(None)).unwrap()
}

/// The default instance only, no rate limit.
pub fn single() -> BlockingSandbox {
    BlockingSandbox::start(SandboxConfig::default().rate_limit(None)).unwrap()
}

/// The header line of an instances file.
pub const CSV_HEADER: &str = "id,token,api_url\n";

/// `id,token,api_url` lines for `ids` of `sb` (generated tokens) after `first` (`""` or
/// [`CSV_HEADER`]), as a file `name`.
pub fn fleet_csv(name: &str, first: &str, sb: &BlockingSandbox, ids: &[u64]) -> PathBuf {
    let mut text = first.to_string();
    for id in ids {
        text.push_str(&format!("{id},{},{}\n", generated_token(*id), sb.url()));
    }
    tmp(name, &text)
}

/// Every instance of `sb`, after a header line.
pub fn csv(name: &str, sb: &BlockingSandbox) -> PathBuf {
    fleet_csv(name, CSV_HEADER, sb, &sb.instance_ids())
}

/// A client of an instance of [`fast`] (generated tokens).
pub fn client(sb: &BlockingSandbox, id: u64) -> Client {
    Client::new(sb.url(), id, generated_token(id)).unwrap()
}

/// A client of the instance of [`single`].
pub fn default_client(sb: &BlockingSandbox) -> Client {
    Client::new(sb.url(), DEFAULT_INSTANCE_ID, DEFAULT_TOKEN).unwrap()
}

/// setSettings calls across the sandbox.
pub fn set_calls(sb: &BlockingSandbox) -> u64 {
    sb.all_stats().iter().map(|s| s.set_settings_calls).sum()
}

/// getSettings and setSettings calls across the sandbox.
pub fn calls(sb: &BlockingSandbox) -> u64 {
    sb.all_stats()
        .iter()
        .map(|s| s.get_settings_calls + s.set_settings_calls)
        .sum()
}

// ---- a raw recording server ----------------------------------------------------------------

/// One request as [`server`] saw it.
#[derive(Clone, Debug)]
pub struct Request {
    /// The request line (`GET /path HTTP/1.1`).
    pub line: String,
    /// The body (as long as its `Content-Length` says).
    pub body: String,
}

/// A loopback server answering up to `n` requests with `answer(request)` (the raw bytes of a
/// response, see [`http`]); it records each request.
pub fn server<F>(n: usize, answer: F) -> (String, Arc<Mutex<Vec<Request>>>)
where
    F: Fn(&Request) -> String + Send + 'static,
{
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in l.incoming().take(n) {
            let Ok(mut s) = stream else { continue };
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let req = read_request(&mut s);
            log.lock().unwrap().push(req.clone());
            let _ = s.write_all(answer(&req).as_bytes());
            let _ = s.flush();
        }
    });
    (url, seen)
}

/// Reads the head and a `Content-Length` body, or what came before the client stopped.
fn read_request(s: &mut std::net::TcpStream) -> Request {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).into_owned();
            let len: usize = head
                .to_ascii_lowercase()
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if data.len() >= end + 4 + len {
                return Request {
                    line: head.lines().next().unwrap_or_default().to_string(),
                    body: String::from_utf8_lossy(&data[end + 4..end + 4 + len]).into_owned(),
                };
            }
        }
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(k) => data.extend_from_slice(&buf[..k]),
        }
    }
    let text = String::from_utf8_lossy(&data);
    Request {
        line: text.lines().next().unwrap_or_default().to_string(),
        body: String::new(),
    }
}

/// An HTTP/1.1 JSON response: `status`, `headers` (each ending in `\r\n`), `body`.
pub fn http(status: &str, headers: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{headers}Connection: close\r\n\r\n{body}",
        body.len()
    )
}

// ---- the watch history ---------------------------------------------------------------------

/// The history database at `path` passes `PRAGMA integrity_check` and holds no event twice
/// (same instance, time, kind and field); returns how many events it holds.
pub fn assert_history_sound(path: &Path) -> u64 {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let dups: i64 = conn
        .query_row(
            "SELECT count(*) FROM (SELECT 1 FROM events
               GROUP BY instance, at_ms, kind, coalesce(field, '') HAVING count(*) > 1)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(dups, 0, "an event was recorded twice");
    conn.query_row("SELECT count(*) FROM events", [], |r| r.get::<_, i64>(0))
        .unwrap() as u64
}
