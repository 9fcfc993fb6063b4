//! Turning an HTTP status and body into a value or a typed [`Error`].

use std::time::Duration;

use serde_json::Value;

use super::error::Error;
use super::secret::ApiToken;
use crate::meta::Status;
use crate::settings::{Settings, FIELDS};
use crate::wire::read_plain;

/// Bodies are kept this long in `Decode` errors.
/// How much of a body is read for a snippet (see [`snippet`]): more than
/// [`MAX_SERVER_TEXT`], so that a token straddling the kept length is still whole when it is
/// scrubbed, before the cut.
const BODY_SNIPPET: usize = 64 * 1024;

/// The most characters of server-supplied text (a message, a body snippet) an error keeps. A
/// fleet keeps one error per instance, in memory, on stdout and in its report: a server's
/// 1 MiB message is not kept whole.
pub const MAX_SERVER_TEXT: usize = 512;

/// What ends a text cut by [`cap`] (the number of bytes dropped goes before it).
pub(crate) const CUT_END: &str = " more bytes not shown)";

/// `text` cut to [`MAX_SERVER_TEXT`] characters, saying how much was dropped. Secrets are
/// scrubbed before: scrubbing after a cut could miss a token cut in two.
pub(crate) fn cap(text: String) -> String {
    match text.char_indices().nth(MAX_SERVER_TEXT) {
        None => text,
        Some((at, _)) => format!("{}... ({}{CUT_END}", &text[..at], text.len() - at),
    }
}

/// Maps a response to an error, or `Ok(())` if it is a success. `retry_after` is the parsed
/// `Retry-After` header.
pub(crate) fn check(
    status: u16,
    body: &[u8],
    retry_after: Option<Duration>,
    token: &ApiToken,
) -> Result<(), Error> {
    // A success is only scanned for an embedded `code` (no tree of the body is built: that
    // was a fifth of the client's CPU per call, and the caller parses the body once anyway).
    if (200..=299).contains(&status)
        && (!may_have_code(body)
            || serde_json::from_slice::<EmbeddedCode>(body)
                .ok()
                .and_then(|c| c.0)
                .is_none_or(|code| code < 400))
    {
        return Ok(());
    }
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let status = match (status, json.as_ref().and_then(embedded_code)) {
        // Some servers answer 200 with `{"code": 401, "description": "Unauthorized"}`.
        (200..=299, Some(code)) if code >= 400 => code,
        (s, _) => s,
    };
    let message = || cap(token.scrub(&message_of(json.as_ref(), body)));
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

/// Whether `body` may have a `code` key: it has `code"` or an escape. `str`'s searches are
/// vectorised; a body that is not UTF-8 is scanned byte by byte.
fn may_have_code(body: &[u8]) -> bool {
    match std::str::from_utf8(body) {
        Ok(text) => text.contains('\\') || text.contains("code\""),
        Err(_) => body
            .iter()
            .enumerate()
            .any(|(i, &b)| b == b'\\' || (b == b'"' && i >= 4 && body[i - 4..i] == *b"code")),
    }
}

/// What [`embedded_code`] finds in a body, read without building its tree: the value of the
/// top-level object's last `code` key, if that is a whole number that fits a status.
struct EmbeddedCode(Option<u16>);

impl<'de> serde::Deserialize<'de> for EmbeddedCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct IsCode(bool);
        impl<'de> serde::Deserialize<'de> for IsCode {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl serde::de::Visitor<'_> for V {
                    type Value = IsCode;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str("a key")
                    }
                    fn visit_str<E>(self, v: &str) -> Result<IsCode, E> {
                        Ok(IsCode(v == "code"))
                    }
                }
                d.deserialize_str(V)
            }
        }
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = EmbeddedCode;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<EmbeddedCode, A::Error> {
                let mut code = None;
                while let Some(IsCode(is_code)) = map.next_key()? {
                    if is_code {
                        let v: Value = map.next_value()?;
                        code = Some(v);
                    } else {
                        map.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
                Ok(EmbeddedCode(code.as_ref().and_then(|v| {
                    v.as_u64().and_then(|c| u16::try_from(c).ok())
                })))
            }
        }
        d.deserialize_map(V)
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
    let text = |k: &str| cap(token.scrub(s.get(k).and_then(Value::as_str).unwrap_or_default()));
    Error::QuotaExceeded {
        method: text("method"),
        used: s.get("used").and_then(Value::as_u64).unwrap_or(0),
        total: s.get("total").and_then(Value::as_u64).unwrap_or(0),
        status: text("status"),
        description: text("description"),
    }
}

/// `text` (already scrubbed of `secret`) without a start of `secret` left just before a
/// [`cap`]'s cut: text that was cut before `secret` was scrubbed (a webhook token a server
/// echoed, scrubbed after the API token) may end in part of it.
pub(crate) fn unsplit(text: String, secret: &ApiToken) -> String {
    let Some(head_len) = text.strip_suffix(CUT_END).and_then(|t| t.rfind("... (")) else {
        return text;
    };
    let (head, tail) = text.split_at(head_len);
    let secret = secret.expose();
    let cut = (1..secret.len())
        .rev()
        .filter(|&k| secret.is_char_boundary(k))
        .find(|&k| head.ends_with(&secret[..k]));
    match cut {
        Some(k) => format!(
            "{}{}{tail}",
            &head[..head.len() - k],
            crate::redact::REDACTED
        ),
        None => text,
    }
}

/// The start of a body as text, for error messages, with the values of secret settings
/// (`webhookUrlToken`) replaced by `<redacted>`; the caller scrubs the token and [`cap`]s it.
pub(crate) fn snippet(body: &[u8]) -> String {
    let text = crate::redact::secret_values_in_text(&String::from_utf8_lossy(
        &body[..body.len().min(BODY_SNIPPET)],
    ));
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
        reason: cap(token.scrub(&reason.into())),
        body: cap(token.scrub(&snippet(body))),
    }
}

/// Reads a successful getSettings answer. A plain answer that carries every setting is read
/// in one pass, straight into `Settings` ([`read_plain`]); any other goes the full way
/// ([`read_settings_in_full`]), which gives the same result for a plain answer and reports what
/// is wrong with the others.
pub(crate) fn read_settings(status: u16, body: &[u8], token: &ApiToken) -> Result<Settings, Error> {
    if let Some(read) = read_plain::<Settings>(body) {
        if carries_every_setting(|i| read.has(i)) {
            return Ok(read.value);
        }
    }
    read_settings_in_full(status, body, token)
}

/// [`read_settings`] through a `serde_json::Value`: the body must be JSON, a settings object
/// ([`not_a_settings_body`]), and hold values of the right types.
fn read_settings_in_full(status: u16, body: &[u8], token: &ApiToken) -> Result<Settings, Error> {
    let value = parse_json(status, body, token)?;
    if let Some(reason) = not_a_settings_body(&value) {
        return Err(decode_error(status, reason, body, token));
    }
    Settings::from_json_value(&value).map_err(|vs| {
        let reason = vs
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        decode_error(status, reason, body, token)
    })
}

/// Parses a successful answer as JSON.
pub(crate) fn parse_json(status: u16, body: &[u8], token: &ApiToken) -> Result<Value, Error> {
    serde_json::from_slice(body)
        .map_err(|e| decode_error(status, format!("invalid JSON: {e}"), body, token))
}

/// Why a successfully parsed getSettings body is not the settings object it claims to be, or
/// `None` if it is one. The rule: a JSON object carrying every active, settable setting of the
/// spec that every server returns (`alwaysReturned`; settings added by newer servers may be
/// missing). An empty object, an error object or a
/// setSettings answer would otherwise read as "every setting off", and `apply` would act on
/// values the server never sent.
pub(crate) fn not_a_settings_body(value: &Value) -> Option<String> {
    let Some(obj) = value.as_object() else {
        return Some("expected a JSON object of settings".to_string());
    };
    let missing = missing_settings(|i| obj.contains_key(FIELDS[i].name));
    if missing.is_empty() {
        return None;
    }
    const SHOWN: usize = 5;
    let mut names = missing[..missing.len().min(SHOWN)].join(", ");
    if missing.len() > SHOWN {
        names.push_str(&format!(" and {} more", missing.len() - SHOWN));
    }
    Some(format!(
        "not a settings object: {} of the settings every getSettings answer carries {} missing ({names})",
        missing.len(),
        if missing.len() == 1 { "is" } else { "are" }
    ))
}

/// Whether an answer carries every setting [`not_a_settings_body`] requires; `has(i)` says
/// whether it carries `FIELDS[i]`.
fn carries_every_setting(has: impl Fn(usize) -> bool) -> bool {
    missing_settings(has).is_empty()
}

/// The API names of the settings every getSettings answer carries (see
/// [`not_a_settings_body`]) for which `has(index in FIELDS)` is false, in spec order.
fn missing_settings(has: impl Fn(usize) -> bool) -> Vec<&'static str> {
    FIELDS
        .iter()
        .enumerate()
        .filter(|(_, f)| f.status == Status::Active && f.always_returned && !f.read_only)
        .filter(|(i, _)| !has(*i))
        .map(|(_, f)| f.name)
        .collect()
}

/// Where a redirect pointed, without path, query or credentials: `scheme://host[:port]`,
/// `the same host` for a relative `Location`, or `nowhere`.
pub(crate) fn redirect_target(location: Option<&str>) -> String {
    let Some(location) = location.map(str::trim).filter(|l| !l.is_empty()) else {
        return "nowhere".to_string();
    };
    match url::Url::parse(location) {
        Ok(u) => match (u.host_str(), u.port()) {
            (Some(h), Some(p)) => format!("{}://{h}:{p}", u.scheme()),
            (Some(h), None) => format!("{}://{h}", u.scheme()),
            (None, _) => "nowhere".to_string(),
        },
        Err(url::ParseError::RelativeUrlWithoutBase) => "the same host".to_string(),
        Err(_) => "nowhere".to_string(),
    }
}

/// The longest `Retry-After` taken as given: a larger one (a hostile or broken server's
/// `99999999999`, a date years ahead) counts as this, which is already far beyond any retry
/// budget, so the client gives up instead of waiting.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// Parses `Retry-After`: delay-seconds (`120`) or an HTTP date (`Wed, 21 Oct 2015 07:28:00
/// GMT`, through `httpdate`, which also reads the obsolete RFC 850 and asctime forms), as the
/// time left until then (zero for a date already past). At most [`MAX_RETRY_AFTER`]; `None`
/// for anything else.
pub(crate) fn retry_after(value: Option<&str>) -> Option<Duration> {
    retry_after_at(value, std::time::SystemTime::now())
}

fn retry_after_at(value: Option<&str>, now: std::time::SystemTime) -> Option<Duration> {
    let value = value?.trim();
    let wait = match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => httpdate::parse_http_date(value)
            .ok()?
            .duration_since(now)
            .unwrap_or_default(),
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> ApiToken {
        ApiToken::new("tok-12345")
    }

    #[test]
    fn the_light_scan_of_a_success_finds_what_the_full_parse_found() {
        for body in [
            &br#"{"code":401}"#[..],
            br#"{"\u0063ode": 401}"#,
            br#"{"code": "x", "code": 403}"#,
            br#"{"a": {"code": 1}, "code": 466, "quota": {}}"#,
        ] {
            assert!(check(200, body, None, &t()).is_err(), "{body:?}");
        }
        for body in [
            &br#"{"webhookUrl": "", "codes": 401}"#[..],
            br#"{"code": 200}"#,
            br#"{"code": 401, "code": 200}"#,
            br#"{"a": {"code": 401}}"#,
            br#"[{"code": 401}]"#,
            br#"{"code": 401"#,
            b"not json code\"",
            b"",
        ] {
            assert!(check(200, body, None, &t()).is_ok(), "{body:?}");
        }
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

    /// Issue 18 item 8: a server's 1 MiB message was kept whole in every error.
    #[test]
    fn a_huge_server_message_is_cut_after_the_token_is_scrubbed() {
        let token = ApiToken::new("TOKEN-0123456789");
        // The token straddles the cut: scrubbed whole first, so no part of it is kept.
        let message = format!(
            "{}TOKEN-0123456789{}",
            "x".repeat(MAX_SERVER_TEXT - 5),
            "y".repeat(1 << 20)
        );
        let body = serde_json::json!({ "message": message }).to_string();
        let e = check(500, body.as_bytes(), None, &token).unwrap_err();
        let Error::Server { message, .. } = &e else {
            panic!("{e:?}")
        };
        assert!(
            message.chars().count() < MAX_SERVER_TEXT + 40,
            "{}",
            message.len()
        );
        assert!(message.ends_with(CUT_END), "{message}");
        assert!(
            !message.contains("TOKEN") && !message.contains("0123"),
            "{message}"
        );
        // The same for a body that is not JSON, and a decode error's snippet.
        let raw = "z".repeat(1 << 20);
        let e = check(502, raw.as_bytes(), None, &token).unwrap_err();
        assert!(
            e.to_string().len() < MAX_SERVER_TEXT + 100,
            "{}",
            e.to_string().len()
        );
        let e = decode_error(200, "bad", raw.as_bytes(), &token);
        assert!(
            e.to_string().len() < MAX_SERVER_TEXT + 100,
            "{}",
            e.to_string().len()
        );
    }

    /// A webhook token a server echoed is scrubbed after the API token, so after the cut: a
    /// start of it left at the cut is removed too.
    #[test]
    fn a_webhook_secret_cut_in_two_leaves_no_part_behind() {
        let hook = ApiToken::new("HOOKSECRET-abcdef");
        let message = format!(
            "{}HOOKSECRET-abcdef{}",
            "x".repeat(MAX_SERVER_TEXT - 6),
            "y".repeat(100)
        );
        let body = serde_json::json!({ "message": message }).to_string();
        let e = check(
            500,
            body.as_bytes(),
            None,
            &ApiToken::new("other-token-123"),
        )
        .unwrap_err()
        .scrubbed(&hook);
        let shown = e.to_string();
        assert!(!shown.contains("HOOKS"), "{shown}");
        assert!(shown.contains("<redacted>... ("), "{shown}");
    }

    #[test]
    fn secret_setting_values_are_redacted_in_body_snippets() {
        for body in [
            r#"{"webhookUrl":"https://x.example","webhookUrlToken" : "s3cr\"et","a":1}"#,
            r#"{"webhookUrlToken": 12345, "a": 1}"#,
            r#"{"webhookUrlToken":"s3cr\"et-cut-off"#,
        ] {
            let shown = snippet(body.as_bytes());
            assert!(
                !shown.contains("s3cr") && !shown.contains("12345"),
                "{shown}"
            );
            assert!(shown.contains(r#""webhookUrlToken""#), "{shown}");
            assert!(shown.contains("<redacted>"), "{shown}");
        }
        assert_eq!(
            snippet(br#"{"a":"webhookUrlToken"}"#),
            r#"{"a":"webhookUrlToken"}"#
        );
    }

    #[test]
    fn redirect_targets_show_only_scheme_host_and_port() {
        assert_eq!(
            redirect_target(Some(
                "https://evil.example:8443/waInstance1/getSettings/tok?x=1"
            )),
            "https://evil.example:8443"
        );
        assert_eq!(redirect_target(Some("/elsewhere/tok")), "the same host");
        assert_eq!(
            redirect_target(Some("https://user:pw@h.example/")),
            "https://h.example"
        );
        assert_eq!(redirect_target(None), "nowhere");
    }

    #[test]
    fn a_body_without_the_settings_is_not_a_settings_body() {
        for body in [
            "{}",
            r#"{"error": "no such instance"}"#,
            r#"{"saveSettings": true}"#,
            "[]",
        ] {
            let v: Value = serde_json::from_str(body).unwrap();
            assert!(not_a_settings_body(&v).is_some(), "{body}");
        }
    }

    /// A getSettings answer with every setting (and `wid`), with `name`'s value replaced by
    /// the JSON text `value` (or dropped, for `None`), and `more` appended inside the object.
    fn answer(name: &str, value: Option<&str>, more: &str) -> String {
        let mut entries = vec![r#""wid":"79001234567@c.us""#.to_string()];
        for f in FIELDS.iter().chain(crate::settings::READ_ONLY_FIELDS) {
            let v = match f.kind {
                crate::meta::FieldKind::YesNo => r#""no""#,
                crate::meta::FieldKind::Integer => "5000",
                _ => r#""""#,
            };
            let v = if f.name == name { value } else { Some(v) };
            if let Some(v) = v {
                if f.read_only && f.name != name {
                    continue;
                }
                entries.push(format!(r#""{}":{v}"#, f.name));
            }
        }
        format!("{{{}{more}}}", entries.join(","))
    }

    /// Value forms for any field: plain ones, lenient ones, wrong ones, odd numbers, escapes.
    const FORMS: &[&str] = &[
        r#""yes""#,
        r#""no""#,
        r#""Yes""#,
        r#"" TRUE ""#,
        r#""false""#,
        "true",
        "false",
        r#""maybe""#,
        r#""\u0079es""#,
        "0",
        "1",
        "-1",
        "5000",
        "5000.0",
        "5000.5",
        "1e300",
        "-0",
        r#""5000""#,
        r#"" 42 ""#,
        r#""4x""#,
        "18446744073709551615",
        "9223372036854775807",
        "-9223372036854775808",
        r#""""#,
        r#""https://h.example/x""#,
        r#""h\u00e9\n""#,
        "null",
        "[]",
        "{}",
        "[1]",
        r#"{"a":1}"#,
    ];

    fn same_both_ways(body: &str) -> bool {
        let fast = read_settings(200, body.as_bytes(), &t());
        let full = read_settings_in_full(200, body.as_bytes(), &t());
        assert_eq!(format!("{fast:?}"), format!("{full:?}"), "{body}");
        crate::wire::read_plain::<Settings>(body.as_bytes()).is_some()
    }

    #[test]
    fn a_settings_answer_reads_the_same_in_one_pass_as_through_a_value() {
        assert!(same_both_ways(&answer("", None, "")));
        let mut plain = 0;
        for f in FIELDS.iter().chain(crate::settings::READ_ONLY_FIELDS) {
            for form in FORMS {
                plain += usize::from(same_both_ways(&answer(f.name, Some(form), "")));
            }
            // Missing: a setting every answer carries makes it "not a settings object".
            same_both_ways(&answer(f.name, None, ""));
        }
        // The usual forms do go the short way (the count is what the forms above allow).
        assert!(plain > FIELDS.len() * 4, "{plain}");
        for more in [
            r#","unknown":[1,{"x":null}]"#,
            r#","unknown":1,"unknown":2"#,
            r#","incomingWebhook":"yes""#,
            r#","wid":null"#,
            r#","wid":5"#,
            r#","code":401"#,
            r#","incoming\u0057ebhook":"yes""#,
            r#","\u0063ode":"x""#,
            r#","bad":"\ud800""#,
        ] {
            same_both_ways(&answer("", None, more));
        }
        for body in [
            "",
            "{",
            "[]",
            "null",
            "\"x\"",
            "{}",
            "{} x",
            r#"{"saveSettings":true}"#,
        ] {
            same_both_ways(body);
            assert!(read_settings(200, body.as_bytes(), &t()).is_err(), "{body}");
        }
    }

    #[test]
    fn a_repeated_key_keeps_its_last_value_as_before() {
        let body = answer(
            "incomingWebhook",
            Some(r#""maybe","incomingWebhook":"yes""#),
            "",
        );
        assert!(!same_both_ways(&body));
        assert!(
            read_settings(200, body.as_bytes(), &t())
                .unwrap()
                .incoming_webhook
        );
        let body = answer("wid", Some(r#""a","wid":null"#), "");
        assert_eq!(read_settings(200, body.as_bytes(), &t()).unwrap().wid, None);
    }

    #[test]
    fn retry_after_reads_delay_seconds_capped() {
        assert_eq!(retry_after(Some("2")), Some(Duration::from_secs(2)));
        assert_eq!(retry_after(Some(" 120 ")), Some(Duration::from_secs(120)));
        assert_eq!(retry_after(Some("0")), Some(Duration::ZERO));
        assert_eq!(
            retry_after(Some("18446744073709551615")),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(retry_after(None), None);
    }

    /// Issue 19: an HTTP-date `Retry-After` was ignored (the retry came at once, inviting
    /// another 429). It is the time left until that date, through `httpdate`.
    #[test]
    fn retry_after_reads_http_dates_as_the_time_left() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        for (form, date) in [
            ("IMF-fixdate", "Wed, 21 Oct 2015 07:28:30 GMT"),
            ("RFC 850", "Wednesday, 21-Oct-15 07:28:30 GMT"),
            ("asctime", "Wed Oct 21 07:28:30 2015"),
        ] {
            assert_eq!(
                retry_after_at(Some(date), now),
                Some(Duration::from_secs(30)),
                "{form}"
            );
        }
        // A date already past: retry now (the backoff still applies).
        let past = retry_after_at(Some("Wed, 21 Oct 2015 07:27:00 GMT"), now);
        assert_eq!(past, Some(Duration::ZERO));
        // Years ahead: capped, so the retry budget gives up instead of waiting.
        let far = retry_after_at(Some("Fri, 01 Jan 2100 00:00:00 GMT"), now);
        assert_eq!(far, Some(MAX_RETRY_AFTER));
    }

    #[test]
    fn retry_after_ignores_garbage() {
        for garbage in [
            "",
            "soon",
            "-5",
            "1.5",
            "2s",
            "Wed, 32 Oct 2015 07:28:00 GMT",
            "Wed, 21 Oct 2015 07:28:00",
            "\u{0}",
        ] {
            assert_eq!(retry_after(Some(garbage)), None, "{garbage:?}");
        }
    }
}
