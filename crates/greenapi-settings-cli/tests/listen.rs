//! `listen` (issue 21): the local webhook receiver, run as the built binary on 127.0.0.1 and
//! sent real HTTP requests.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::std_bin;

const TOKEN: &str = "listen-secret-token-4b1d";

const STATE: &str = r#"{"typeWebhook":"stateInstanceChanged","instanceData":{"idInstance":1101000001,"wid":"71231234567@c.us","typeInstance":"whatsapp"},"timestamp":1705902314,"stateInstance":"authorized"}"#;

/// A running `listen` with `args`, its address, and its stdout and stderr lines as they come.
struct Listen {
    child: Child,
    addr: String,
    stdout: mpsc::Receiver<String>,
    stderr: mpsc::Receiver<String>,
}

fn lines(r: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    rx
}

fn listen(args: &[&str]) -> Listen {
    let mut c = std_bin();
    c.args(["--color", "never", "listen", "--port", "0"])
        .args(args)
        .env("LISTEN_TOKEN", TOKEN)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let stdout = lines(child.stdout.take().unwrap());
    let stderr = lines(child.stderr.take().unwrap());
    // The address line comes first: on stdout, or on stderr under --json.
    let first = if args.contains(&"--json") {
        &stderr
    } else {
        &stdout
    };
    let line = first.recv_timeout(Duration::from_secs(30)).unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    assert!(addr.starts_with("127.0.0.1:"), "{line}");
    Listen {
        child,
        addr,
        stdout,
        stderr,
    }
}

/// POSTs `body` with `authorization` (if any); the status code answered.
fn post(addr: &str, authorization: Option<&str>, body: &str) -> u16 {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let auth = authorization.map_or(String::new(), |a| format!("Authorization: {a}\r\n"));
    write!(
        s,
        "POST /hook HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    status_of(&mut s)
}

fn status_of(s: &mut TcpStream) -> u16 {
    let mut head = String::new();
    let _ = BufReader::new(s).read_line(&mut head);
    head.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// Waits for the child's exit code (at most 30 s).
fn exit_code(child: &mut Child) -> i32 {
    for _ in 0..300 {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code().unwrap_or(-1);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    panic!("listen did not exit within 30 s");
}

fn drain(rx: &mpsc::Receiver<String>) -> String {
    let mut all = String::new();
    while let Ok(l) = rx.recv_timeout(Duration::from_millis(500)) {
        all.push_str(&l);
        all.push('\n');
    }
    all
}

#[test]
fn listen_prints_one_line_per_notification_and_exits_0_after_count() {
    let mut l = listen(&["--token-env", "LISTEN_TOKEN", "--count", "2"]);
    let bearer = format!("Bearer {TOKEN}");
    assert_eq!(post(&l.addr, Some(&bearer), STATE), 200);
    assert_eq!(post(&l.addr, Some(&bearer), STATE), 200);
    assert_eq!(exit_code(&mut l.child), 0);
    let out = drain(&l.stdout);
    let lines: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("stateInstanceChanged"))
        .collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].contains("stateInstanceChanged 1101000001 stateInstance=authorized"),
        "{out}"
    );
    assert!(out.contains("2 notification(s) received"), "{out}");
    assert!(!out.contains(TOKEN), "{out}");
}

#[test]
fn listen_json_prints_each_body_as_one_json_line_on_stdout() {
    let mut l = listen(&["--json", "--count", "1"]);
    assert_eq!(post(&l.addr, None, STATE), 200);
    assert_eq!(exit_code(&mut l.child), 0);
    let out = drain(&l.stdout);
    let bodies: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(bodies.len(), 1, "{out}");
    assert_eq!(
        bodies[0],
        serde_json::from_str::<serde_json::Value>(STATE).unwrap()
    );
    assert!(drain(&l.stderr).contains("stateInstanceChanged 1101000001"));
}

#[test]
fn listen_answers_401_to_a_missing_or_wrong_token_naming_neither_token() {
    let mut l = listen(&["--token-env", "LISTEN_TOKEN", "--count", "1"]);
    assert_eq!(post(&l.addr, None, STATE), 401);
    assert_eq!(post(&l.addr, Some("Bearer not-the-token-9z"), STATE), 401);
    assert_eq!(post(&l.addr, Some(&format!("Bearer {TOKEN}")), STATE), 200);
    assert_eq!(exit_code(&mut l.child), 0);
    let out = format!("{}{}", drain(&l.stdout), drain(&l.stderr));
    assert!(out.contains("the token is missing), answered 401"), "{out}");
    assert!(
        out.contains("the Bearer token is wrong, answered 401"),
        "{out}"
    );
    assert!(!out.contains(TOKEN), "{out}");
    assert!(!out.contains("not-the-token-9z"), "{out}");
    assert_eq!(out.matches("stateInstanceChanged").count(), 1, "{out}");
}

#[test]
fn listen_refuses_a_request_from_a_web_page_with_403() {
    let mut l = listen(&["--count", "1"]);
    let mut s = TcpStream::connect(&l.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "POST /hook HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.example\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{STATE}",
        STATE.len()
    )
    .unwrap();
    assert_eq!(status_of(&mut s), 403);
    assert_eq!(post(&l.addr, None, STATE), 200);
    assert_eq!(exit_code(&mut l.child), 0);
    let out = drain(&l.stdout);
    assert!(out.contains("sent by a web page"), "{out}");
    assert_eq!(out.matches("stateInstanceChanged").count(), 1, "{out}");
}

#[test]
fn listen_status_answers_another_code_to_watch_the_api_resend() {
    let mut l = listen(&["--status", "500", "--count", "1"]);
    assert_eq!(post(&l.addr, None, STATE), 500);
    assert_eq!(exit_code(&mut l.child), 0);
}

#[test]
fn listen_refuses_a_body_over_4_mib_with_413() {
    let mut l = listen(&["--count", "1"]);
    let mut s = TcpStream::connect(&l.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let len = (4 << 20) + 1;
    write!(
        s,
        "POST /hook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    // The body is written from another thread while this one reads the answer: the receiver
    // may answer (and close) before it has all of it.
    let mut writer = s.try_clone().unwrap();
    let w = std::thread::spawn(move || {
        let chunk = vec![b' '; 64 * 1024];
        let mut left = len;
        while left > 0 {
            let n = left.min(chunk.len());
            if writer.write_all(&chunk[..n]).is_err() {
                break;
            }
            left -= n;
        }
    });
    assert_eq!(status_of(&mut s), 413);
    let _ = w.join();
    // Still listening: a good notification after it counts.
    assert_eq!(post(&l.addr, None, STATE), 200);
    assert_eq!(exit_code(&mut l.child), 0);
    assert!(drain(&l.stdout).contains("body larger than 4 MiB"));
}

#[test]
fn listen_without_its_token_variable_is_refused_with_exit_2() {
    let out = common::cli(&["listen", "--token-env", "NO_SUCH_VARIABLE_XYZ"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr
            .contains("--token-env NO_SUCH_VARIABLE_XYZ: the variable is not set"),
        "{}",
        out.all()
    );
    let out = common::cli(&["listen", "--status", "99"]);
    assert_eq!(out.code, 2, "{}", out.all());
}

fn signal(child: &Child, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

#[test]
fn listen_exits_0_on_sigterm_and_130_on_ctrl_c() {
    for (sig, code) in [("-TERM", 0), ("-INT", 130)] {
        let mut l = listen(&[]);
        assert_eq!(post(&l.addr, None, STATE), 200);
        signal(&l.child, sig);
        assert_eq!(exit_code(&mut l.child), code, "{sig}");
        assert!(drain(&l.stdout).contains("1 notification(s) received"));
    }
}

/// Regression (review of issue 21): a client holding a request half sent kept `listen`
/// running after Ctrl-C or SIGTERM (the graceful shutdown waited for it, and the body read had
/// no time limit).
#[test]
fn listen_exits_on_a_signal_even_while_a_client_holds_a_request_half_sent() {
    for (sig, code) in [("-INT", 130), ("-TERM", 0)] {
        let mut l = listen(&[]);
        let mut held = TcpStream::connect(&l.addr).unwrap();
        write!(
            held,
            "POST /hook HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{",
            l.addr
        )
        .unwrap();
        std::thread::sleep(Duration::from_millis(300));
        signal(&l.child, sig);
        // exit_code waits 30 s at most: the held request must not keep it running.
        assert_eq!(exit_code(&mut l.child), code, "{sig}");
        drop(held);
    }
}
