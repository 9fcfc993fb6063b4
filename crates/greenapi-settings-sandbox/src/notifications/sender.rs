//! One delivery: a POST of the body to the instance's `webhookUrl`, with
//! `Authorization: Bearer <webhookUrlToken>` when a token is set, and the verdict. Only a 200
//! is a success (the API's rule); a redirect is refused and never followed, so nothing is ever
//! sent anywhere but the configured URL (and no `Referer` either); at most [`BODY_CAP`] bytes
//! of the answer are read; the whole exchange is bounded by the response timeout.
//!
//! The client is reqwest, already in the tree through the core crate, with the workspace's
//! features only (HTTP/1.1, rustls with the ring provider, the platform's certificate
//! verifier). A loopback URL is reached directly; others through the proxies of the
//! environment, as the core client does.

use std::fmt;
use std::net::IpAddr;
use std::sync::OnceLock;
use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};

use super::core::DELIVERY;

/// Bytes of a receiver's answer read at most (the answer is not used; reading it lets the
/// connection be reused).
pub(crate) const BODY_CAP: usize = 64 * 1024;

/// Why a delivery failed. `Display` never shows the token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The receiver answered with another status than 200 (not a redirect).
    Status(u16),
    /// The receiver answered with a redirect, which is not followed.
    Redirect(u16),
    /// No answer within the response timeout.
    Timeout(Duration),
    /// No connection (refused, unreachable, DNS, TLS).
    Connect(String),
    /// Anything else (the request could not be sent, the URL cannot be used).
    Other(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Status(code) => {
                let reason = reqwest::StatusCode::from_u16(*code)
                    .ok()
                    .and_then(|s| s.canonical_reason());
                match reason {
                    Some(reason) => write!(f, "HTTP {code} {reason}"),
                    None => write!(f, "HTTP {code}"),
                }
            }
            Failure::Redirect(code) => write!(f, "redirect refused (HTTP {code}): not followed"),
            Failure::Timeout(t) => write!(f, "no answer within {} ms", t.as_millis()),
            Failure::Connect(why) => write!(f, "cannot connect: {why}"),
            Failure::Other(why) => f.write_str(why),
        }
    }
}

/// The HTTP clients deliveries share (made on first use).
#[derive(Debug, Default)]
pub(crate) struct Sender {
    direct: OnceLock<Result<reqwest::Client, String>>,
    proxied: OnceLock<Result<reqwest::Client, String>>,
}

/// Whether `url`'s host is this machine (no proxy is used for it).
fn is_loopback(url: &reqwest::Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn build(direct: bool) -> Result<reqwest::Client, String> {
    // reqwest is built without a default crypto provider (as in the core crate); ring is
    // installed once per process, an already-installed provider (the application's) wins.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder();
    if direct {
        builder = builder.no_proxy();
    }
    builder
        // The API delivers to webhookUrl only: a redirect is a failed delivery.
        .redirect(reqwest::redirect::Policy::none())
        .referer(false)
        .user_agent(concat!(
            "greenapi-settings-sandbox/",
            env!("CARGO_PKG_VERSION")
        ))
        .build()
        .map_err(|e| format!("the HTTP client cannot be made: {}", e.without_url()))
}

/// The deepest cause's text: reqwest's own ("error sending request") says nothing useful.
fn root_cause(e: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// `text` with every occurrence of a (non-empty) token replaced.
fn scrub(text: String, token: &str) -> String {
    if token.is_empty() {
        text
    } else {
        text.replace(token, greenapi_settings::redact::REDACTED)
    }
}

impl Sender {
    fn client(&self, direct: bool) -> Result<&reqwest::Client, Failure> {
        let cell = if direct { &self.direct } else { &self.proxied };
        cell.get_or_init(|| build(direct))
            .as_ref()
            .map_err(|e| Failure::Other(e.clone()))
    }

    /// POSTs `body` to `url` and judges the answer within `timeout`.
    pub(crate) async fn deliver(
        &self,
        url: &str,
        token: &str,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<(), Failure> {
        match tokio::time::timeout(timeout, self.exchange(url, token, body)).await {
            Ok(verdict) => verdict.map_err(|f| match f {
                Failure::Connect(why) => Failure::Connect(scrub(why, token)),
                Failure::Other(why) => Failure::Other(scrub(why, token)),
                other => other,
            }),
            Err(_elapsed) => Err(Failure::Timeout(timeout)),
        }
    }

    async fn exchange(&self, url: &str, token: &str, body: Vec<u8>) -> Result<(), Failure> {
        let mut url = reqwest::Url::parse(url)
            .map_err(|_| Failure::Other("webhookUrl is not a usable URL".into()))?;
        // `user:password@` is not sent: reqwest would turn it into a Basic `Authorization`
        // header ahead of the Bearer one, and the API documents only the Bearer token.
        let _ = url.set_username("");
        let _ = url.set_password(None);
        let client = self.client(is_loopback(&url))?;
        let mut request = client
            .post(url)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .body(body);
        if !token.is_empty() {
            let scheme = DELIVERY.authorization_scheme;
            let mut value = HeaderValue::from_str(&format!("{scheme} {token}")).map_err(|_| {
                Failure::Other(
                    "webhookUrlToken cannot be sent in an HTTP header (value not shown)".into(),
                )
            })?;
            value.set_sensitive(true);
            request = request.header(AUTHORIZATION, value);
        }
        let mut response = request.send().await.map_err(|e| {
            if e.is_connect() {
                Failure::Connect(root_cause(&e))
            } else {
                Failure::Other(format!("the request failed: {}", root_cause(&e)))
            }
        })?;
        let status = response.status();
        if status.is_redirection() {
            return Err(Failure::Redirect(status.as_u16()));
        }
        // Read (and drop) what the receiver sends, up to the cap; a broken answer body after
        // a 200 does not undo the 200.
        let mut read = 0;
        while read < BODY_CAP {
            match response.chunk().await {
                Ok(Some(chunk)) => read += chunk.len(),
                Ok(None) | Err(_) => break,
            }
        }
        if status.as_u16() == DELIVERY.success_status {
            Ok(())
        } else {
            Err(Failure::Status(status.as_u16()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_recognised() {
        for (url, direct) in [
            ("http://127.0.0.1:9/x", true),
            ("http://localhost/x", true),
            ("http://[::1]:8080/", true),
            ("https://example.com/hook", false),
            ("http://10.0.0.1/", false),
        ] {
            let parsed = reqwest::Url::parse(url).unwrap();
            assert_eq!(is_loopback(&parsed), direct, "{url}");
        }
    }

    #[test]
    fn failures_say_what_happened_and_the_token_is_scrubbed() {
        assert_eq!(
            Failure::Status(500).to_string(),
            "HTTP 500 Internal Server Error"
        );
        assert!(Failure::Redirect(302)
            .to_string()
            .starts_with("redirect refused"));
        assert_eq!(
            Failure::Timeout(Duration::from_millis(200)).to_string(),
            "no answer within 200 ms"
        );
        assert_eq!(
            scrub("bad Bearer s3cr3t-hook".into(), "s3cr3t-hook"),
            format!("bad Bearer {}", greenapi_settings::redact::REDACTED)
        );
    }
}
