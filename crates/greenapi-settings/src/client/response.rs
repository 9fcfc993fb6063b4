//! Turning an HTTP status and body into a value or a typed [`Error`].

use std::time::Duration;

use serde_json::Value;

use super::error::Error;
use super::secret::ApiToken;

/// Bodies are kept this long in `Decode` errors.
const BODY_SNIPPET: usize = 512;

/// Maps a response to an error, or `Ok(())` if it is a success. `retry_after` is the parsed
/// `Retry-After` header.
pub(crate) fn check(
    status: u16,
    body: &[u8],
    retry_after: Option<Duration>,
    token: &ApiToken,
) -> Result<(), Error> {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let status = match (status, json.as_ref().and_then(embedded_code)) {
        // Some servers answer 200 with `{"code": 401, "description": "Unauthorized"}`.
        (200..=299, Some(code)) if code >= 400 => code,
        (s, _) => s,
    };
    let message = || token.scrub(&message_of(json.as_ref(), body));
    match status {
        200..=299 => Ok(()),
        401 => Err(Error::Auth),
        403 => Err(Error::Forbidden),
        429 => Err(Error::RateLimited { retry_after }),
        466 => Err(quota(json.as_ref(), token)),
        400 => {
            let m = message();
            let lower = m.to_ascii_lowercase();
            if ["starting", "not authorized", "expired", "deleted"]
                .iter()
                .any(|k| lower.contains(k))
            {
                Err(Error::InstanceNotReady { message: m })
            } else {
                Err(Error::Rejected { status, message: m })
            }
        }
        s if s < 500 => Err(Error::Rejected {
            status,
            message: message(),
        }),
        _ => Err(Error::Server {
            status,
            message: message(),
        }),
    }
}

fn embedded_code(v: &Value) -> Option<u16> {
    let obj = v.as_object()?;
    // A settings body has no `code`; an error body has a numeric one.
    obj.get("code")?
        .as_u64()
        .and_then(|c| u16::try_from(c).ok())
}

fn message_of(json: Option<&Value>, body: &[u8]) -> String {
    if let Some(v) = json {
        for key in ["message", "description", "error"] {
            if let Some(s) = v.get(key).and_then(Value::as_str) {
                if !s.is_empty() {
                    return s.to_string();
                }
            }
        }
    }
    let text = snippet(body);
    if text.is_empty() {
        "(empty body)".to_string()
    } else {
        text
    }
}

fn quota(json: Option<&Value>, token: &ApiToken) -> Error {
    let s = json
        .and_then(|v| v.get("invokeStatus"))
        .cloned()
        .unwrap_or(Value::Null);
    let text = |k: &str| token.scrub(s.get(k).and_then(Value::as_str).unwrap_or_default());
    Error::QuotaExceeded {
        method: text("method"),
        used: s.get("used").and_then(Value::as_u64).unwrap_or(0),
        total: s.get("total").and_then(Value::as_u64).unwrap_or(0),
        status: text("status"),
        description: text("description"),
    }
}

/// The start of a body as text, for error messages.
pub(crate) fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(BODY_SNIPPET)]);
    let mut s: String = text.trim().to_string();
    if body.len() > BODY_SNIPPET {
        s.push_str("...");
    }
    s
}

/// A `Decode` error for a body that did not parse.
pub(crate) fn decode_error(
    status: u16,
    reason: impl Into<String>,
    body: &[u8],
    token: &ApiToken,
) -> Error {
    Error::Decode {
        status,
        reason: token.scrub(&reason.into()),
        body: token.scrub(&snippet(body)),
    }
}

/// Parses `Retry-After` given in seconds (HTTP dates are ignored).
pub(crate) fn retry_after(value: Option<&str>) -> Option<Duration> {
    value?.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> ApiToken {
        ApiToken::new("tok-12345")
    }

    #[test]
    fn a_200_body_naming_401_is_an_auth_error() {
        let e = check(
            200,
            br#"{"code": 401, "description": "Unauthorized"}"#,
            None,
            &t(),
        )
        .unwrap_err();
        assert!(matches!(e, Error::Auth));
    }

    #[test]
    fn a_settings_body_is_a_success() {
        assert!(check(
            200,
            br#"{"wid":"1@c.us","incomingWebhook":"yes"}"#,
            None,
            &t()
        )
        .is_ok());
    }

    #[test]
    fn quota_body_is_parsed() {
        let body = br#"{"invokeStatus":{"method":"setSettings","used":100,"total":100,"status":"QUOTE_EXCEEDED","description":"Monthly quota has been exceeded"}}"#;
        match check(466, body, None, &t()).unwrap_err() {
            Error::QuotaExceeded {
                used,
                total,
                method,
                ..
            } => assert_eq!((used, total, method.as_str()), (100, 100, "setSettings")),
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn starting_instance_is_not_ready_and_other_400s_are_rejections() {
        let e = check(
            400,
            br#"{"message":"instance in starting process try later"}"#,
            None,
            &t(),
        )
        .unwrap_err();
        assert!(matches!(e, Error::InstanceNotReady { .. }));
        let e = check(400, b"Validation failed", None, &t()).unwrap_err();
        assert!(matches!(e, Error::Rejected { status: 400, .. }));
    }

    #[test]
    fn server_text_echoing_the_token_is_scrubbed() {
        let e = check(
            500,
            b"failed for /waInstance1/setSettings/tok-12345",
            None,
            &t(),
        )
        .unwrap_err();
        assert!(!e.to_string().contains("tok-12345"), "{e}");
    }

    #[test]
    fn retry_after_reads_seconds() {
        assert_eq!(retry_after(Some("2")), Some(Duration::from_secs(2)));
        assert_eq!(retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")), None);
        assert_eq!(retry_after(None), None);
    }
}
