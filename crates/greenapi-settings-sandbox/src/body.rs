//! The `setSettings` body: read with a size limit, parsed as JSON, turned into a
//! [`SettingsPatch`] with every problem collected.

use std::future::poll_fn;
use std::pin::Pin;

use axum::body::{Body, HttpBody};
use axum::http::{header, HeaderMap};
use greenapi_settings::{FieldInfo, SettingsPatch, Violation};
use serde_json::Value;

/// Why a body could not be read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum BodyError {
    /// Larger than the limit (by `Content-Length` or by what arrived).
    TooLarge,
    /// The connection failed or the framing was broken.
    Unreadable,
}

/// Reads at most `limit` bytes; stops reading as soon as the limit is passed.
pub(crate) async fn read_limited(
    mut body: Body,
    headers: &HeaderMap,
    limit: usize,
) -> Result<Vec<u8>, BodyError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut buf = Vec::new();
    while let Some(frame) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame.map_err(|_| BodyError::Unreadable)?;
        if let Ok(data) = frame.into_data() {
            if buf.len().saturating_add(data.len()) > limit {
                return Err(BodyError::TooLarge);
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf)
}

/// Reads an inspection request's body (`/sandbox/…`) within the sandbox's body limit and read
/// timeout, or the error answer to give: 413 past the limit, 400 when it cannot be read.
pub(crate) async fn read_or_answer(
    shared: &crate::state::Shared,
    headers: &HeaderMap,
    body: Body,
) -> Result<Vec<u8>, axum::response::Response> {
    use axum::http::StatusCode;
    let limit = shared.config.body_limit;
    let read = tokio::time::timeout(
        shared.config.read_timeout,
        read_limited(body, headers, limit),
    )
    .await;
    match read {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(BodyError::TooLarge)) => Err(crate::response::error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body is larger than the limit of {limit} bytes"),
        )),
        Ok(Err(BodyError::Unreadable)) | Err(_) => Err(crate::response::error(
            StatusCode::BAD_REQUEST,
            "the request body could not be read",
        )),
    }
}

/// Why a body is not a valid patch.
#[derive(Debug)]
pub(crate) enum PatchError {
    /// Not JSON at all (the parser's message; it never quotes the input).
    Malformed(String),
    /// JSON, but wrong: every problem, parse errors first, then validation errors.
    Invalid(Vec<Violation>),
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Parses and validates a `setSettings` body the way the real API's rules (from the spec)
/// say. Only API spellings are accepted on the wire: a snake_case name is an unknown field
/// that points to the right one, so client bugs show up here rather than in production.
pub(crate) fn parse_patch(bytes: &[u8]) -> Result<SettingsPatch, PatchError> {
    // A plain body (API names, each once, values of the right type: what clients send) is
    // read in one pass, to the same patch; any other takes the full path, which names every
    // problem.
    let read = match SettingsPatch::from_plain_json(bytes) {
        Some(patch) => Read {
            given: !patch.is_empty(),
            patch,
            problems: Vec::new(),
        },
        None => read_in_full(bytes)?,
    };
    validated(read)
}

/// What a body sets, before validation.
struct Read {
    patch: SettingsPatch,
    /// Every problem of its fields (unknown names, wrong types).
    problems: Vec<Violation>,
    /// Whether it named any field at all.
    given: bool,
}

/// The patch, or its problems followed by the validation errors.
fn validated(read: Read) -> Result<SettingsPatch, PatchError> {
    let Read {
        patch,
        mut problems,
        given,
    } = read;
    let report = patch.validate();
    // When every given field was wrong the patch is empty too; saying so again adds nothing.
    problems.extend(
        report
            .errors
            .into_iter()
            .filter(|e| !given || e.rule != "atLeastOneParameter"),
    );
    if problems.is_empty() {
        Ok(patch)
    } else {
        Err(PatchError::Invalid(problems))
    }
}

/// What a body sets, read through a `Value`.
fn read_in_full(bytes: &[u8]) -> Result<Read, PatchError> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| PatchError::Malformed(e.to_string()))?;
    let Value::Object(map) = &value else {
        return Err(PatchError::Invalid(vec![Violation::error(
            None,
            None,
            "object",
            format!(
                "expected a JSON object of settings, found {}",
                kind_of(&value)
            ),
        )]));
    };
    let mut patch = SettingsPatch::new();
    let mut problems = Vec::new();
    for (name, v) in map {
        if let Some(info) = FieldInfo::find(name).filter(|f| f.name != name) {
            problems.push(Violation::error(
                Some(name),
                None,
                "unknownField",
                format!(
                    "unknown setting `{name}`; the API spells it `{}`",
                    info.name
                ),
            ));
            continue;
        }
        if let Err(e) = patch.set_json(name, v) {
            problems.push(e);
        }
    }
    Ok(Read {
        patch,
        problems,
        given: !map.is_empty(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid(body: &str) -> Vec<Violation> {
        match parse_patch(body.as_bytes()) {
            Err(PatchError::Invalid(v)) => v,
            other => panic!("expected violations, got {other:?}"),
        }
    }

    fn fields(v: &[Violation]) -> Vec<Option<&str>> {
        v.iter().map(|v| v.field.as_deref()).collect()
    }

    #[test]
    fn a_valid_body_becomes_the_patch() {
        let patch =
            parse_patch(br#"{"delaySendMessagesMilliseconds":15000,"incomingWebhook":"yes"}"#)
                .unwrap();
        assert_eq!(
            patch,
            SettingsPatch::new()
                .delay_send_messages_milliseconds(15_000)
                .incoming_webhook(true)
        );
    }

    #[test]
    fn range_and_url_errors_are_reported_together() {
        let v = invalid(r#"{"delaySendMessagesMilliseconds":100,"webhookUrl":"ftp://x"}"#);
        let mut f = fields(&v);
        f.sort();
        assert_eq!(
            f,
            [Some("delaySendMessagesMilliseconds"), Some("webhookUrl")]
        );
    }

    #[test]
    fn type_errors_and_validation_errors_are_reported_together() {
        let v = invalid(r#"{"incomingWebhook":"maybe","webhookUrl":"ftp://x"}"#);
        assert_eq!(fields(&v), [Some("incomingWebhook"), Some("webhookUrl")]);
    }

    #[test]
    fn empty_object_needs_at_least_one_parameter() {
        let v = invalid("{}");
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].rule, "atLeastOneParameter");
    }

    #[test]
    fn snake_case_and_unknown_names_are_unknown_fields() {
        let v = invalid(r#"{"incoming_webhook":"yes","bogus":1}"#);
        assert_eq!(fields(&v), [Some("incoming_webhook"), Some("bogus")]);
        assert!(v[0].message.contains("incomingWebhook"), "{}", v[0].message);
        assert!(v.iter().all(|v| v.rule != "atLeastOneParameter"));
    }

    #[test]
    fn non_objects_and_non_json_are_refused() {
        assert_eq!(invalid("[1,2]")[0].rule, "object");
        assert!(matches!(parse_patch(b"{"), Err(PatchError::Malformed(_))));
        assert!(matches!(parse_patch(b""), Err(PatchError::Malformed(_))));
        assert!(matches!(
            parse_patch(&[0xff, 0xfe]),
            Err(PatchError::Malformed(_))
        ));
        let deep = "[".repeat(100_000);
        assert!(matches!(
            parse_patch(deep.as_bytes()),
            Err(PatchError::Malformed(_))
        ));
    }

    /// The one-pass read gives what the full path gives, for every body here: the answer
    /// (patch or problems, in order) is the same either way.
    #[test]
    fn a_body_is_answered_the_same_in_one_pass_as_through_a_value() {
        let full = |bytes: &[u8]| read_in_full(bytes).and_then(validated);
        let mut bodies: Vec<String> = [
            greenapi_settings::facts::SET_SETTINGS_EXAMPLE_BODY,
            "{}",
            "[]",
            "",
            "{",
            r#"{"incomingWebhook":"yes"} x"#,
            r#"{"incomingWebhook":"maybe","incomingWebhook":"yes"}"#,
            r#"{"incomingWebhook":"yes","incomingWebhook":"maybe"}"#,
            r#"{"incoming_webhook":"yes"}"#,
            r#"{"bogus":1,"incomingWebhook":"yes"}"#,
            r#"{"incoming\u0057ebhook":"yes"}"#,
        ]
        .iter()
        .map(|b| b.to_string())
        .collect();
        for f in greenapi_settings::FIELDS {
            for form in [
                r#""yes""#,
                r#""Yes""#,
                "true",
                "1",
                "0",
                "100",
                "15000",
                "5000.0",
                "18446744073709551615",
                r#""5000""#,
                r#""""#,
                r#""https://h.example/x""#,
                r#""ftp://x""#,
                r#""a\r\nb""#,
                "null",
                "[]",
                "{}",
            ] {
                bodies.push(format!(r#"{{"{}":{form}}}"#, f.name));
                bodies.push(format!(
                    r#"{{"delaySendMessagesMilliseconds":15000,"{}":{form}}}"#,
                    f.name
                ));
            }
        }
        let mut plain = 0;
        for body in &bodies {
            let (fast, full) = (parse_patch(body.as_bytes()), full(body.as_bytes()));
            assert_eq!(format!("{fast:?}"), format!("{full:?}"), "{body}");
            plain += usize::from(SettingsPatch::from_plain_json(body.as_bytes()).is_some());
        }
        // Each field has forms the short way takes (with and without another field).
        assert!(plain >= 2 * greenapi_settings::FIELDS.len(), "{plain}");
    }

    #[test]
    fn a_wrong_webhook_token_type_is_not_echoed() {
        let v = invalid(r#"{"webhookUrlToken":12345678}"#);
        assert!(!format!("{v:?}").contains("12345678"));
    }
}
