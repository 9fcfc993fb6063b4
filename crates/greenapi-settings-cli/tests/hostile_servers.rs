//! The `greenapi-settings` binary against hostile servers on loopback: one that redirects to
//! another host, one that answers `{}` with 200, and one that echoes the request path (the
//! token is in it). Each run exits non-zero, prints the token in no form, and sends nothing
//! a second time.

mod common;

use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{bin, http, server, Color};

/// A token with characters that are percent-encoded in the URL, a non-ASCII one, and a
/// 3-character token that a length-based scrubber would skip.
const TOKENS: &[&str] = &["t<k>{É}-4242", "q7z-4k2p"];

fn spellings(token: &str) -> Vec<String> {
    let enc = |upper: bool| -> String {
        token
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    char::from(b).to_string()
                } else if upper {
                    format!("%{b:02X}")
                } else {
                    format!("%{b:02x}")
                }
            })
            .collect()
    };
    vec![
        token.to_string(),
        token.to_ascii_uppercase(),
        enc(true),
        enc(false),
    ]
}

/// Runs the binary with `args` against `url` and `token`; returns (exit code, stdout+stderr).
fn run(url: &str, token: &str, args: &[&str]) -> (i32, String) {
    let mut c = bin(Color::Never);
    c.env("GREEN_API_TOKEN", token)
        .env("GREEN_API_URL", url)
        .env("GREEN_API_ID_INSTANCE", "7")
        .arg("--verbose")
        .args(args);
    let r = common::run(c);
    (r.code, r.all())
}

fn assert_hidden(what: &str, text: &str, token: &str) {
    for s in spellings(token) {
        assert!(
            !text.contains(&s),
            "{what}: the output shows the token as {s:?}:\n{text}"
        );
    }
}

#[test]
fn a_redirecting_server_fails_the_run_and_gets_nothing_resent() {
    for token in TOKENS {
        let evil_hits = Arc::new(AtomicUsize::new(0));
        let hits = evil_hits.clone();
        let evil = TcpListener::bind("127.0.0.1:0").unwrap();
        let evil_url = format!("http://{}", evil.local_addr().unwrap());
        std::thread::spawn(move || {
            for s in evil.incoming().take(4) {
                if s.is_ok() {
                    hits.fetch_add(1, Ordering::SeqCst);
                }
            }
        });
        for status in ["302 Found", "307 Temporary Redirect"] {
            let location = format!("Location: {evil_url}/waInstance7/setSettings/{token}\r\n");
            let (url, seen) = server(8, move |_| http(status, &location, ""));
            let (code, text) = run(&url, token, &["set", "--incoming-webhook", "yes"]);
            assert_ne!(code, 0, "{status}: {text}");
            assert!(text.contains(&status[..3]), "{status}: {text}");
            assert!(text.contains(&evil_url), "the target host is named: {text}");
            assert_hidden(status, &text, token);
            assert_eq!(
                seen.lock().unwrap().len(),
                1,
                "{status}: retried or re-sent"
            );
        }
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(
            evil_hits.load(Ordering::SeqCst),
            0,
            "a redirect was followed"
        );
    }
}

#[test]
fn a_server_answering_an_empty_object_fails_get_and_apply_sends_nothing() {
    let (url, seen) = server(8, |_| http("200 OK", "", "{}"));
    let (code, text) = run(&url, "tok-abc-123", &["get"]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("not a settings object"), "{text}");
    let file = common::tmp("desired.toml", "incomingWebhook = \"yes\"\n");
    let (code, text) = run(&url, "tok-abc-123", &["apply", file.to_str().unwrap()]);
    let _ = std::fs::remove_file(&file);
    assert_eq!(code, 1, "{text}");
    let seen = seen.lock().unwrap();
    assert!(
        seen.iter().all(|r| r.line.starts_with("GET ")),
        "setSettings was sent after a body without settings: {seen:?}"
    );
}

#[test]
fn a_server_echoing_the_path_never_gets_the_token_printed() {
    for token in TOKENS {
        for (status, body) in [
            ("400 Bad Request", r#"{"message": "bad request PATH"}"#),
            ("500 Internal Server Error", "failed at PATH"),
            ("200 OK", "<html>PATH</html>"),
        ] {
            let (url, _) = server(8, move |req| {
                let path = req.line.split(' ').nth(1).unwrap_or_default();
                http(status, "", &body.replace("PATH", path))
            });
            for args in [
                &["get"][..],
                &["get", "--json"][..],
                &["set", "--state-webhook", "yes"][..],
            ] {
                let (code, text) = run(&url, token, args);
                assert_ne!(code, 0, "{status} {args:?}: {text}");
                assert_hidden(&format!("{status} {args:?}"), &text, token);
            }
        }
    }
}
