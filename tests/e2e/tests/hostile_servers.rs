//! The client against servers that try to get the token out of it or trick it into acting on
//! made-up data: redirects to another host, 200 answers that are not settings, and servers
//! that echo the request path (the token is in it) back in every place an error can show.
//! Each gets a typed error with no token in any form, and nothing is sent twice.
//!
//! Every server here is on 127.0.0.1 and serves a bounded number of connections.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::scripted_server;
use greenapi_settings::{Client, Error, RetryPolicy, SettingsPatch};

/// Tokens chosen to be hard to scrub: characters that are percent-encoded in a URL path,
/// non-ASCII, and one so short that a naive scrubber would skip it.
const TOKENS: &[&str] = &["t<o>k{É}n-77", "ÉÉtoken<", "q7z"];
const HOOK_SECRET: &str = "hook-secret-5d1a";

/// One request as the server saw it.
#[derive(Clone, Debug)]
struct Seen {
    head: String,
    body: Vec<u8>,
}

impl Seen {
    fn path(&self) -> &str {
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

/// A server answering each of up to `n` requests with `answer(request)`, recording them all.
fn recording_server<F>(n: usize, answer: F) -> (String, Arc<Mutex<Vec<Seen>>>)
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

fn response(status: &str, extra_headers: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{extra_headers}Connection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

fn client(url: &str, token: &str) -> Client {
    Client::builder()
        .api_url(url)
        .id_instance(7)
        .api_token(token)
        .min_interval(Duration::ZERO)
        .timeout(Duration::from_secs(5))
        .retry(
            RetryPolicy::default()
                .max_attempts(3)
                .base_delay(Duration::from_millis(5)),
        )
        .build()
        .expect("client builds")
}

/// Every spelling of `secret` that could come back from a server or an encoder.
fn spellings(secret: &str) -> Vec<String> {
    let encode = |upper: bool| {
        secret
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
            .collect::<String>()
    };
    vec![
        secret.to_string(),
        secret.to_ascii_lowercase(),
        secret.to_ascii_uppercase(),
        encode(true),
        encode(false),
    ]
}

fn assert_hidden(what: &str, err: &Error, secret: &str) {
    let shown = format!("{err} | {err:?}");
    for s in spellings(secret) {
        assert!(
            !shown.contains(&s),
            "{what}: the error shows the secret as {s:?}: {shown}"
        );
    }
}

#[tokio::test]
async fn a_redirect_is_an_error_naming_status_and_host_and_is_never_followed() {
    for status in [
        "301 Moved Permanently",
        "302 Found",
        "303 See Other",
        "307 Temporary Redirect",
        "308 Permanent Redirect",
    ] {
        let token = TOKENS[0];
        // The other host counts every connection it gets: it must get none.
        let (evil, evil_hits) = scripted_server(4, |_| {});
        let location = format!("Location: {evil}/waInstance7/setSettings/{token}\r\n");
        let (url, seen) = recording_server(4, move |_| response(status, &location, b""));
        let c = client(&url, token);
        let err = c
            .set_settings(
                &SettingsPatch::new()
                    .incoming_webhook(true)
                    .webhook_url_token(HOOK_SECRET),
            )
            .await
            .unwrap_err();
        let code: u16 = status[..3].parse().unwrap();
        match &err {
            Error::Redirect { status, target } => {
                assert_eq!(*status, code);
                assert_eq!(target, &evil, "the target names the other host only");
            }
            other => panic!("{status}: expected a redirect error, got {other:?}"),
        }
        assert!(!err.is_retryable());
        assert_eq!(err.status(), Some(code));
        assert_eq!(err.kind(), "redirect");
        assert_hidden(status, &err, token);
        assert_hidden(status, &err, HOOK_SECRET);
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(
            evil_hits.load(std::sync::atomic::Ordering::SeqCst),
            0,
            "{status}: the redirect was followed"
        );
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1, "{status}: sent more than once: {seen:?}");
        assert!(seen[0].head.starts_with("POST "), "{:?}", seen[0].head);
        assert!(
            !seen[0].head.to_ascii_lowercase().contains("referer"),
            "{status}: a Referer was sent: {}",
            seen[0].head
        );
    }
}

#[tokio::test]
async fn a_200_that_is_not_a_settings_object_is_a_decode_error_and_apply_sends_nothing() {
    for body in [
        "{}",
        r#"{"error": "instance not found"}"#,
        r#"{"saveSettings": true}"#,
        r#"{"wid": "79001234567@c.us"}"#,
    ] {
        let owned = body.as_bytes().to_vec();
        let (url, seen) = recording_server(4, move |_| response("200 OK", "", &owned));
        let c = client(&url, "tok-abc-123");
        let err = c.get_settings().await.unwrap_err();
        assert!(
            matches!(&err, Error::Decode { status: 200, reason, .. } if reason.contains("not a settings object")),
            "{body}: {err:?}"
        );
        let err = c
            .apply(&SettingsPatch::new().incoming_webhook(true))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Decode { .. }), "{body}: {err:?}");
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 2, "{body}: {seen:?}");
        assert!(
            seen.iter().all(|r| r.head.starts_with("GET ")),
            "{body}: apply sent setSettings on a body without settings"
        );
    }
}

/// Builds a raw answer from the request path.
type Echo = Box<dyn Fn(&str) -> Vec<u8> + Send + Sync>;

#[tokio::test]
async fn servers_echoing_the_path_never_get_the_token_into_an_error() {
    for token in TOKENS {
        let echoes: Vec<(&str, Echo)> = vec![
            (
                "400 message",
                Box::new(|p| {
                    response(
                        "400 Bad Request",
                        "",
                        format!(r#"{{"message": "bad request {p}"}}"#).as_bytes(),
                    )
                }),
            ),
            (
                "400 message upper-cased",
                Box::new(|p| {
                    response(
                        "400 Bad Request",
                        "",
                        format!(r#"{{"message": "BAD {}"}}"#, p.to_ascii_uppercase()).as_bytes(),
                    )
                }),
            ),
            (
                "500 plain text",
                Box::new(|p| {
                    response(
                        "500 Internal Server Error",
                        "",
                        format!("failed: {p}").as_bytes(),
                    )
                }),
            ),
            (
                "200 not JSON",
                Box::new(|p| {
                    response(
                        "200 OK",
                        "",
                        format!("<html>proxy error at {p}</html>").as_bytes(),
                    )
                }),
            ),
            (
                "200 settings-like JSON",
                Box::new(|p| {
                    response(
                        "200 OK",
                        "",
                        format!(r#"{{"webhookUrl": "{p}"}}"#).as_bytes(),
                    )
                }),
            ),
            (
                "466 quota",
                Box::new(|p| {
                    response("466 Quota", "", format!(r#"{{"invokeStatus": {{"method": "{p}", "used": 1, "total": 1, "status": "{p}", "description": "{p}"}}}}"#).as_bytes())
                }),
            ),
            (
                "redirect to the path",
                Box::new(|p| {
                    response(
                        "302 Found",
                        &format!(
                            "Location: http://{}.example{p}\r\n",
                            p.replace(['/', '%'], "")
                        ),
                        b"",
                    )
                }),
            ),
        ];
        for (what, echo) in echoes {
            let (url, seen) = recording_server(4, move |req| echo(req.path()));
            let err = client(&url, token).get_settings().await.unwrap_err();
            assert_hidden(&format!("{what} with token {token:?}"), &err, token);
            let seen = seen.lock().unwrap();
            assert!(!seen.is_empty());
            // The path did carry the token (encoded): the test would catch an echo.
            let path = seen[0].path().to_string();
            assert!(
                spellings(token).iter().any(|s| path.contains(s.as_str())),
                "{path}"
            );
        }
    }
}

#[tokio::test]
async fn a_server_echoing_the_set_settings_body_never_shows_the_webhook_secret() {
    let (url, _) = recording_server(4, |req| {
        let body = String::from_utf8_lossy(&req.body).into_owned();
        response(
            "400 Bad Request",
            "",
            format!("rejected: {body}").as_bytes(),
        )
    });
    let err = client(&url, "tok-abc-123")
        .set_settings(
            &SettingsPatch::new()
                .incoming_webhook(true)
                .webhook_url_token(HOOK_SECRET),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Rejected { status: 400, .. }),
        "{err:?}"
    );
    assert_hidden("400 echoing the body", &err, HOOK_SECRET);

    let (url, _) = recording_server(4, |req| {
        let body = String::from_utf8_lossy(&req.body).into_owned();
        response("200 OK", "", body.as_bytes())
    });
    let err = client(&url, "tok-abc-123")
        .set_settings(&SettingsPatch::new().webhook_url_token("other-secret-99"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Decode { status: 200, .. }), "{err:?}");
    assert_hidden("200 echoing the body", &err, "other-secret-99");
}

#[test]
fn a_token_pasted_into_the_api_url_is_refused_without_showing_it() {
    for token in TOKENS {
        for url in [
            format!("https://1101.api.greenapi.com/waInstance7/getSettings/{token}"),
            format!("https://user:{token}@1101.api.greenapi.com"),
            format!("not a url {token}"),
            format!("ftp://host/{token}"),
        ] {
            let err = Client::builder()
                .api_url(url.clone())
                .id_instance(7)
                .api_token(*token)
                .build()
                .unwrap_err();
            assert!(matches!(err, Error::Config(_)), "{url}: {err:?}");
            assert_hidden(&url, &err, token);
        }
    }
}
