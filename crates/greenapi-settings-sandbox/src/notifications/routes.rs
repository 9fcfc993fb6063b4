//! The inspection endpoints of notifications: `POST /sandbox/instances/{id}/notify` (trigger
//! one) and `GET /sandbox/instances/{id}/notifications` (what happened to them). Neither
//! needs or shows a token.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value};

use super::trigger;
use crate::body;
use crate::request::canonical_id;
use crate::response;
use crate::state::Shared;

/// The served instance a path's `{id}` names.
fn served(shared: &Shared, id: Result<Path<String>, PathRejection>) -> Option<u64> {
    id.ok()
        .and_then(|Path(id)| canonical_id(&id))
        .filter(|id| shared.token(*id).is_some())
}

/// What a notify request asks for: the kind's key and the fields to merge.
fn parse_request(bytes: &[u8]) -> Result<(String, Map<String, Value>), String> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| format!("malformed JSON: {e}"))?;
    let Value::Object(mut request) = value else {
        return Err(
            r#"expects an object: {"type": "incomingCall", "variant": null, "fields": {}}"#.into(),
        );
    };
    let Some(Value::String(type_webhook)) = request.remove("type") else {
        return Err("`type` must be a string naming the notification (typeWebhook)".into());
    };
    let key = match request.remove("variant") {
        None | Some(Value::Null) => type_webhook,
        Some(Value::String(v)) if !type_webhook.contains(':') => format!("{type_webhook}:{v}"),
        Some(_) => {
            return Err(
                "`variant` must be a string or null (or give TYPE:VARIANT as `type`)".into(),
            )
        }
    };
    let fields = match request.remove("fields") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(fields)) => fields,
        Some(_) => return Err("`fields` must be an object of body fields to set".into()),
    };
    if let Some(other) = request.keys().next() {
        return Err(format!(
            "unknown member {other:?}; a notify request has `type`, `variant` and `fields`"
        ));
    }
    Ok((key, fields))
}

/// `POST /sandbox/instances/{id}/notify`: `{"type": …, "variant": …, "fields": {…}}` →
/// `{"outcome": "queued"|"suppressed", "reason": …, "body": …}` (200 either way); 400 for an
/// unknown kind (listing the known ones) or fields the kind refuses, 404 for an unknown
/// instance. Like every `/sandbox/` request with a body, it must be declared JSON.
pub(crate) async fn notify(
    State(shared): State<Arc<Shared>>,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(id) = served(&shared, id) else {
        return response::error(StatusCode::NOT_FOUND, "unknown instance");
    };
    let bytes = match body::read_or_answer(&shared, &headers, body).await {
        Ok(bytes) => bytes,
        Err(answer) => return answer,
    };
    if !headers.contains_key(header::CONTENT_TYPE) {
        return response::error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the request body must be JSON: send `Content-Type: application/json`",
        );
    }
    let (key, fields) = match parse_request(&bytes) {
        Ok(parsed) => parsed,
        Err(message) => return response::error(StatusCode::BAD_REQUEST, message),
    };
    let kind = match trigger::kind(&key) {
        Ok(kind) => kind,
        Err(message) => return response::error(StatusCode::BAD_REQUEST, message),
    };
    match trigger::trigger(&shared, id, kind, &fields).await {
        Ok(triggered) => response::json(StatusCode::OK, triggered.to_json_value()),
        Err(e) => match e.kind() {
            std::io::ErrorKind::NotFound => {
                response::error(StatusCode::NOT_FOUND, "unknown instance")
            }
            std::io::ErrorKind::InvalidInput => {
                response::error(StatusCode::BAD_REQUEST, e.to_string())
            }
            _ => response::error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        },
    }
}

/// `GET /sandbox/instances/{id}/notifications`: queued, failing, delivered, suppressed, dropped.
pub(crate) async fn list(
    State(shared): State<Arc<Shared>>,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    match served(&shared, id) {
        Some(id) => response::json(StatusCode::OK, shared.notifications.log(id).to_json_value()),
        None => response::error(StatusCode::NOT_FOUND, "unknown instance"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notify_request_names_a_kind_by_type_and_variant_or_by_key() {
        let parse = |text: &str| parse_request(text.as_bytes());
        assert_eq!(
            parse(r#"{"type":"incomingCall"}"#).unwrap().0,
            "incomingCall"
        );
        assert_eq!(
            parse(r#"{"type":"incomingMessageReceived","variant":"editedMessage"}"#)
                .unwrap()
                .0,
            "incomingMessageReceived:editedMessage"
        );
        assert_eq!(
            parse(r#"{"type":"incomingMessageReceived:editedMessage","variant":null}"#)
                .unwrap()
                .0,
            "incomingMessageReceived:editedMessage"
        );
        let (_, fields) = parse(r#"{"type":"incomingCall","fields":{"status":"pickUp"}}"#).unwrap();
        assert_eq!(fields["status"], "pickUp");
        for bad in [
            "[]",
            "{}",
            r#"{"type":1}"#,
            r#"{"type":"a","variant":1}"#,
            r#"{"type":"a","fields":[]}"#,
            r#"{"type":"a","extra":1}"#,
            "{",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
