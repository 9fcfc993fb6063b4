//! The client against servers that try to get the token out of it or trick it into acting on
//! made-up data: redirects to another host, 200 answers that are not settings, and servers
//! that echo the request path (the token is in it) back in every place an error can show.
//! Each gets a typed error with no token in any form, and nothing is sent twice.
//!
//! Every server here is on 127.0.0.1 and serves a bounded number of connections.

mod common;

use std::time::Duration;

use common::{builder_for, http_response_with as response, recording_server, scripted_server};
use greenapi_settings::{Client, Error, RetryPolicy, SettingsPatch};

/// Tokens chosen to be hard to scrub: characters that are percent-encoded in a URL path,
/// non-ASCII, and one so short that a naive scrubber would skip it.
const TOKENS: &[&str] = &["t<o>k{É}n-77", "ÉÉtoken<", "q7z-4k2p"];
const HOOK_SECRET: &str = "hook-secret-5d1a";

/// A patch that carries the webhook secret.
fn with_hook_secret() -> SettingsPatch {
    SettingsPatch::new()
        .incoming_webhook(true)
        .webhook_url_token(HOOK_SECRET)
}

fn client(url: &str, token: &str) -> Client {
    let retry = RetryPolicy::default()
        .max_attempts(3)
        .base_delay(Duration::from_millis(5));
    builder_for(url, 7, token, Duration::from_secs(5), retry)
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
        let err = c.set_settings(&with_hook_secret()).await.unwrap_err();
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

/// An answer with `status` and the body `body(path)`.
fn echo(status: &'static str, body: impl Fn(&str) -> String + Send + Sync + 'static) -> Echo {
    Box::new(move |p| response(status, "", body(p).as_bytes()))
}

#[tokio::test]
async fn servers_echoing_the_path_never_get_the_token_into_an_error() {
    for token in TOKENS {
        let echoes: Vec<(&str, Echo)> = vec![
            (
                "400 message",
                echo("400 Bad Request", |p| {
                    format!(r#"{{"message": "bad request {p}"}}"#)
                }),
            ),
            (
                "400 message upper-cased",
                echo("400 Bad Request", |p| {
                    format!(r#"{{"message": "BAD {}"}}"#, p.to_ascii_uppercase())
                }),
            ),
            (
                "500 plain text",
                echo("500 Internal Server Error", |p| format!("failed: {p}")),
            ),
            (
                "200 not JSON",
                echo("200 OK", |p| format!("<html>proxy error at {p}</html>")),
            ),
            (
                "200 settings-like JSON",
                echo("200 OK", |p| format!(r#"{{"webhookUrl": "{p}"}}"#)),
            ),
            (
                "466 quota",
                echo("466 Quota", |p| {
                    format!(
                        r#"{{"invokeStatus": {{"method": "{p}", "used": 1, "total": 1, "status": "{p}", "description": "{p}"}}}}"#
                    )
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
        .set_settings(&with_hook_secret())
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
