//! Response bodies: JSON for everything, in the API's shapes.

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use greenapi_settings::Violation;
use serde_json::{json, Value};

/// The body of an accepted `setSettings`, written once.
pub(crate) const SAVED: &[u8] = br#"{"saveSettings":true}"#;

/// The reason phrase for `status` (`"Bad Request"`), including the API's own 466.
pub(crate) fn reason(status: StatusCode) -> &'static str {
    match status.as_u16() {
        466 => "Quota Exceeded",
        499 => "Client Closed Request",
        _ => status.canonical_reason().unwrap_or("Error"),
    }
}

/// A JSON response.
pub(crate) fn json(status: StatusCode, body: Value) -> Response {
    let mut bytes = Vec::with_capacity(256);
    serialized(
        status,
        serde_json::to_writer(&mut bytes, &body).map(|()| bytes),
    )
}

/// A response with the bytes a value was serialised to, or the error it gave.
pub(crate) fn serialized(
    status: StatusCode,
    bytes: serde_json::Result<impl Into<Body>>,
) -> Response {
    match bytes {
        Ok(bytes) => json_bytes(status, bytes),
        // What axum's `Json` answers; never happens for the maps and strings sent here.
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            e.to_string(),
        )
            .into_response(),
    }
}

/// A response with `body`, already JSON.
pub(crate) fn json_bytes(status: StatusCode, body: impl Into<Body>) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// `{"code": …, "description": …, "message": …}`.
pub(crate) fn error_body(status: StatusCode, message: &str) -> Value {
    json!({
        "code": status.as_u16(),
        "description": reason(status),
        "message": message,
    })
}

/// An error response in the common shape.
pub(crate) fn error(status: StatusCode, message: impl AsRef<str>) -> Response {
    json(status, error_body(status, message.as_ref()))
}

/// 400 naming every violation, also listed one by one in `violations`.
pub(crate) fn invalid_settings(violations: &[Violation]) -> Response {
    let message = violations
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    let mut body = error_body(StatusCode::BAD_REQUEST, &message);
    body["violations"] = violations
        .iter()
        .map(|v| {
            json!({
                "field": v.field,
                "value": v.value,
                "rule": v.rule,
                "message": v.message,
            })
        })
        .collect();
    json(StatusCode::BAD_REQUEST, body)
}

/// 429 with `Retry-After` in whole seconds.
pub(crate) fn rate_limited(retry_after_secs: u64, per_second: u32) -> Response {
    let status = StatusCode::TOO_MANY_REQUESTS;
    let message = format!(
        "too many requests: at most {per_second} per second per instance; retry after {retry_after_secs} s"
    );
    (
        status,
        [(header::RETRY_AFTER, retry_after_secs.to_string())],
        Json(error_body(status, &message)),
    )
        .into_response()
}

/// 466 in the API's own shape.
pub(crate) fn quota_exceeded(method: &str, used: u64, total: u64) -> Response {
    let status = StatusCode::from_u16(466).unwrap_or(StatusCode::TOO_MANY_REQUESTS);
    json(
        status,
        json!({
            "invokeStatus": {
                "method": method,
                "used": used,
                "total": total,
                "status": "QUOTE_EXCEEDED",
                "description": "Monthly quota has been exceeded",
            }
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_phrases_cover_the_api_codes() {
        assert_eq!(reason(StatusCode::BAD_REQUEST), "Bad Request");
        assert_eq!(reason(StatusCode::PAYLOAD_TOO_LARGE), "Payload Too Large");
        assert_eq!(reason(StatusCode::from_u16(466).unwrap()), "Quota Exceeded");
        assert_eq!(reason(StatusCode::from_u16(599).unwrap()), "Error");
    }

    #[test]
    fn error_body_has_code_description_and_message() {
        let body = error_body(StatusCode::UNAUTHORIZED, "wrong apiTokenInstance");
        assert_eq!(
            body,
            json!({"code": 401, "description": "Unauthorized", "message": "wrong apiTokenInstance"})
        );
    }
}
