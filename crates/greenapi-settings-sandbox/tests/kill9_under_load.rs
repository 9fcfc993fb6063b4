//! `kill -9` of the sandbox binary while several clients are writing at once, with
//! persistence on: after a restart from the same state file, no acknowledged `setSettings`
//! is lost. Each writer owns one instance and writes sequentially, so at most its one write
//! in flight at the kill may or may not have been saved: every instance must show its last
//! acknowledged write, or that one later write.
//!
//! Bounded: a handful of writer threads on 127.0.0.1 for about a second, then the restart.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use greenapi_settings_sandbox::{generated_token, DEFAULT_INSTANCE_ID};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_greenapi-settings-sandbox");
const WRITERS: u64 = 6;
const LOAD_BEFORE_KILL: Duration = Duration::from_millis(1_000);
/// Writers stop by themselves after this, kill or no kill.
const WRITER_DEADLINE: Duration = Duration::from_secs(20);
const MAX_WRITES: u64 = 100_000;
const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// A running binary; killed on drop.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(state: &str) -> Server {
    let mut child = Command::new(BIN)
        .args([
            "--instances",
            &WRITERS.to_string(),
            "--state",
            state,
            "--rate-limit",
            "off",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the binary");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = lines.next().expect("a first line").expect("readable");
    // Read the second line too: the binary exits if its stdout is closed before it has
    // written both.
    let _instances = lines.next().expect("a second line").expect("readable");
    let addr = first
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .parse()
        .expect("an address");
    Server { child, addr }
}

/// One request with `Connection: close`; the status and body, or an I/O error (the server
/// is gone, or went away mid-answer).
fn call(addr: SocketAddr, method: &str, path: &str, body: &str) -> std::io::Result<(u16, Vec<u8>)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut data = Vec::new();
    stream.read_to_end(&mut data)?;
    let split = data
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("answer cut before the end of its head"))?;
    let head = String::from_utf8_lossy(&data[..split]).into_owned();
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line in {head:?}")))?;
    let length: Option<usize> = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("content-length")
            .then(|| v.trim().parse().ok())
            .flatten()
    });
    let body = data[split + 4..].to_vec();
    if length.is_some_and(|n| n != body.len()) {
        // Killed mid-answer: not an acknowledgement.
        return Err(std::io::Error::other("answer cut short"));
    }
    Ok((status, body))
}

fn body_for(seq: u64) -> String {
    format!(
        r#"{{"delaySendMessagesMilliseconds":{},"webhookUrl":"https://example.com/hook/{seq}"}}"#,
        500 + seq
    )
}

/// What one writer saw before the server went away.
#[derive(Debug)]
struct Written {
    id: u64,
    last_acked: Option<u64>,
    acked: u64,
    /// Answers other than 200 while the server was up.
    bad: Vec<u16>,
}

fn writer(addr: SocketAddr, id: u64, stop: Arc<AtomicBool>) -> Written {
    let path = format!("/waInstance{id}/setSettings/{}", generated_token(id));
    let started = Instant::now();
    let mut w = Written {
        id,
        last_acked: None,
        acked: 0,
        bad: Vec::new(),
    };
    let mut seq = 0;
    while w.acked < MAX_WRITES && started.elapsed() < WRITER_DEADLINE {
        match call(addr, "POST", &path, &body_for(seq)) {
            Ok((200, _)) => {
                w.last_acked = Some(seq);
                w.acked += 1;
            }
            Ok((status, _)) => w.bad.push(status),
            // The kill: the server is gone.
            Err(_) if stop.load(Ordering::SeqCst) => break,
            Err(e) => panic!("instance {id}: request failed before the kill: {e}"),
        }
        seq += 1;
    }
    w
}

#[test]
fn kill_dash_nine_under_concurrent_writes_loses_no_acknowledged_write() {
    let dir = std::env::temp_dir().join(format!("gas-kill9-load-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let state = dir.join("state.json");
    let state_arg = state.to_str().unwrap();

    let mut server = spawn(state_arg);
    let addr = server.addr;
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|k| {
            let stop = stop.clone();
            std::thread::spawn(move || writer(addr, DEFAULT_INSTANCE_ID + k, stop))
        })
        .collect();
    std::thread::sleep(LOAD_BEFORE_KILL);
    stop.store(true, Ordering::SeqCst);
    server.child.kill().unwrap(); // SIGKILL, mid-write: no chance to flush anything
    server.child.wait().unwrap();
    drop(server);
    let written: Vec<Written> = writers
        .into_iter()
        .map(|t| t.join().expect("writer thread"))
        .collect();

    for w in &written {
        assert!(w.bad.is_empty(), "instance {}: answers {:?}", w.id, w.bad);
        assert!(
            w.acked > 0,
            "instance {}: no write got through before the kill",
            w.id
        );
    }

    let server = spawn(state_arg);
    let mut in_flight_saved = 0;
    for w in &written {
        let last = w.last_acked.expect("checked above");
        let get = format!("/waInstance{}/getSettings/{}", w.id, generated_token(w.id));
        let (status, body) = call(server.addr, "GET", &get, "").expect("restarted server answers");
        assert_eq!(status, 200);
        let settings: Value = serde_json::from_slice(&body).expect("JSON");
        let delay = settings["delaySendMessagesMilliseconds"]
            .as_u64()
            .expect("a number");
        // The last acknowledged write, or the one in flight at the kill.
        let saved = delay - 500;
        assert!(
            saved == last || saved == last + 1,
            "instance {}: last acknowledged write #{last}, but the state after the restart is #{saved}",
            w.id
        );
        in_flight_saved += usize::from(saved == last + 1);
        assert_eq!(
            settings["webhookUrl"],
            format!("https://example.com/hook/{saved}"),
            "instance {}: the two fields of one write were saved together",
            w.id
        );
        let (status, body) = call(
            server.addr,
            "GET",
            &format!("/sandbox/instances/{}", w.id),
            "",
        )
        .expect("inspection answers");
        assert_eq!(status, 200);
        let stats: Value = serde_json::from_slice(&body).expect("JSON");
        let restarts = stats["restarts"].as_u64().expect("a number");
        assert!(
            restarts == w.acked || restarts == w.acked + 1,
            "instance {}: {} acknowledged writes, {restarts} restarts saved",
            w.id,
            w.acked
        );
    }
    eprintln!(
        "kill -9 under load: {} acknowledged writes by {WRITERS} writers, all kept; \
         {in_flight_saved} write(s) in flight at the kill were saved too",
        written.iter().map(|w| w.acked).sum::<u64>()
    );
    drop(server);
    std::fs::remove_dir_all(&dir).unwrap();
}
