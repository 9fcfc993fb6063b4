//! The API's HTTP way of receiving notifications: `receiveNotification` (long-polls up to
//! `receiveTimeout` seconds for the head of the queue, and returns the same one until it is
//! deleted) and `deleteNotification/{receiptId}`. They pass the same checks as the settings
//! methods (path, instance, token, rate limit, "starting", faults, quota) in `routes.rs`; this
//! is what they do once admitted. Notifications are given out only while `webhookUrl` is
//! empty: otherwise they are the webhook's, and `receiveNotification` waits and answers null.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{Method as Verb, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::core::{
    DELETE_NOTIFICATION_PATH, RECEIVE_NOTIFICATION_PATH, RECEIVE_TIMEOUT_DEFAULT_SECS,
    RECEIVE_TIMEOUT_MAX_SECS, RECEIVE_TIMEOUT_MIN_SECS,
};
use crate::response;
use crate::state::Shared;

/// The method name in a spec path template (`{apiUrl}/waInstance{idInstance}/NAME/…`).
fn name_in(path: &'static str) -> &'static str {
    path.split('/').nth(2).unwrap_or_default()
}

/// A notification method of the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    /// `GET …/receiveNotification/{token}?receiveTimeout=N`.
    Receive,
    /// `DELETE …/deleteNotification/{token}/{receiptId}`.
    Delete,
}

impl Method {
    /// Both, in the API's order.
    pub(crate) const ALL: [Method; 2] = [Method::Receive, Method::Delete];

    /// The API spelling, from the spec's path.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Method::Receive => name_in(RECEIVE_NOTIFICATION_PATH),
            Method::Delete => name_in(DELETE_NOTIFICATION_PATH),
        }
    }

    /// The one HTTP verb it answers to.
    pub(crate) fn verb(self) -> Verb {
        match self {
            Method::Receive => Verb::GET,
            Method::Delete => Verb::DELETE,
        }
    }

    /// The method with this API name, ignoring ASCII case (the official SDKs write
    /// `DeleteNotification`).
    pub(crate) fn from_name(name: &str) -> Option<Method> {
        Method::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(name))
    }

    /// Whether its path has a fourth segment (the receipt id).
    pub(crate) fn takes_receipt(self) -> bool {
        self == Method::Delete
    }
}

/// `receiveTimeout` from the query (other parameters are ignored): its seconds, or the
/// message of the 400.
fn receive_timeout(query: Option<&str>) -> Result<u64, String> {
    let (min, default, max) = (
        RECEIVE_TIMEOUT_MIN_SECS,
        RECEIVE_TIMEOUT_DEFAULT_SECS,
        RECEIVE_TIMEOUT_MAX_SECS,
    );
    let given = query
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .filter(|(k, _)| k.eq_ignore_ascii_case("receiveTimeout"))
        .map(|(_, v)| v)
        .next_back();
    let Some(value) = given else {
        return Ok(default);
    };
    value
        .parse::<u64>()
        .ok()
        .filter(|s| (min..=max).contains(s))
        .ok_or_else(|| {
            format!("receiveTimeout must be a whole number of seconds from {min} to {max}")
        })
}

/// Runs an admitted call of `method` on instance `id`.
pub(crate) async fn handle(
    shared: &Arc<Shared>,
    id: u64,
    method: Method,
    query: Option<&str>,
    receipt: Option<&str>,
) -> Response {
    match method {
        Method::Receive => receive(shared, id, query).await,
        Method::Delete => delete(shared, id, receipt).await,
    }
}

async fn receive(shared: &Arc<Shared>, id: u64, query: Option<&str>) -> Response {
    let secs = match receive_timeout(query) {
        Ok(secs) => secs,
        Err(message) => {
            shared.count_rejected(id);
            return response::error(StatusCode::BAD_REQUEST, message);
        }
    };
    let wait = Duration::from_secs(secs).mul_f64(shared.notifications.config.receive_scale);
    let deadline = tokio::time::Instant::now() + wait;
    let slot = shared.notifications.slot(id);
    loop {
        // Registered before looking, so a notification queued in between still wakes us.
        let arrived = slot.arrived.notified();
        tokio::pin!(arrived);
        arrived.as_mut().enable();
        if super::worker::target(shared, id).is_none() {
            if let Some((receipt_id, body)) = slot.receive() {
                return response::json(
                    StatusCode::OK,
                    json!({ "receiptId": receipt_id, "body": body }),
                );
            }
        }
        if tokio::time::timeout_at(deadline, arrived).await.is_err() {
            return response::json(StatusCode::OK, serde_json::Value::Null);
        }
    }
}

async fn delete(shared: &Arc<Shared>, id: u64, receipt: Option<&str>) -> Response {
    // Never echoed: a token pasted in the wrong place must not show up in an answer.
    let Some(receipt_id) = receipt.and_then(crate::request::canonical_id) else {
        shared.count_rejected(id);
        return response::error(
            StatusCode::BAD_REQUEST,
            "Parameter receiptId must be a Number",
        );
    };
    let deleted = shared.notifications.slot(id).delete(receipt_id);
    if deleted {
        if let Err(e) = shared.persist().await {
            return response::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("deleted, but the state file was not written: {e}"),
            );
        }
    }
    response::json(StatusCode::OK, json!({ "result": deleted }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receive_timeout_defaults_to_5_and_must_be_5_to_60() {
        assert_eq!(receive_timeout(None), Ok(5));
        assert_eq!(receive_timeout(Some("receiveTimeout=60")), Ok(60));
        assert_eq!(receive_timeout(Some("x=1&receiveTimeout=7")), Ok(7));
        for bad in [
            "receiveTimeout=4",
            "receiveTimeout=61",
            "receiveTimeout=",
            "receiveTimeout=5.5",
            "receiveTimeout=-5",
        ] {
            assert!(receive_timeout(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn method_names_come_from_the_spec_paths() {
        assert_eq!(Method::Receive.name(), "receiveNotification");
        assert_eq!(Method::Delete.name(), "deleteNotification");
    }

    #[test]
    fn method_names_ignore_case_as_the_sdks_write_them() {
        assert_eq!(
            Method::from_name("DeleteNotification"),
            Some(Method::Delete)
        );
        assert_eq!(
            Method::from_name("receivenotification"),
            Some(Method::Receive)
        );
        assert_eq!(Method::from_name("getSettings"), None);
    }
}
