//! The HTTP surface: the API endpoints (checked in the API's order) and the inspection
//! endpoints under `/sandbox/` (listing, reset, and a drift on demand).
//!
//! Every request passes the [`guard`] first. API requests then go straight to [`api`], with no
//! router or middleware in between (they are the hot path of every benchmark and fleet test);
//! paths under `/sandbox/` go through the axum router. API paths are matched by hand: axum
//! cannot capture the digits after the `waInstance` prefix, and doing it here keeps every
//! answer — even to a malformed path — in the API's JSON error shape.

use std::convert::Infallible;
use std::future::{ready, Future};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{BoxError, Router};
use hyper::body::Incoming;
use hyper_util::service::TowerToHyperService;
use serde_json::{json, Value};

use crate::auth::{percent_decode, token_matches};
use crate::body::{self, BodyError, PatchError};
use crate::guard::{self, OwnOrigins};
use crate::notifications;
use crate::ratelimit::retry_after_secs;
use crate::request::{
    canonical_id, parse_instance_segment, split_api_path_with_receipt, ApiMethod, Call,
    InstanceSegment,
};
use crate::response;
use crate::state::{Admission, Shared};

/// The service every connection of a sandbox listening on `addrs` with `scheme` runs.
pub(crate) fn app(shared: Arc<Shared>, scheme: &str, addrs: &[SocketAddr]) -> App {
    let inspection = Router::new()
        .route("/sandbox/instances", get(list_instances))
        .route("/sandbox/instances/{id}", get(one_instance))
        .route("/sandbox/instances/{id}/drift", post(drift))
        .route(
            "/sandbox/instances/{id}/notify",
            post(notifications::routes::notify),
        )
        .route(
            "/sandbox/instances/{id}/notifications",
            get(notifications::routes::list),
        )
        .route("/sandbox/server", get(server))
        .route("/sandbox/reset", post(reset))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(api_fallback)
        .with_state(Arc::clone(&shared));
    App {
        shared,
        origins: Arc::new(OwnOrigins::new(scheme, addrs)),
        inspection: TowerToHyperService::new(inspection),
    }
}

/// The guard, then the API or the inspection router; see the module docs.
#[derive(Clone)]
pub(crate) struct App {
    shared: Arc<Shared>,
    origins: Arc<OwnOrigins>,
    inspection: TowerToHyperService<Router>,
}

type AppFuture = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

impl hyper::service::Service<Request<Incoming>> for App {
    type Response = Response;
    type Error = Infallible;
    type Future = AppFuture;

    fn call(&self, request: Request<Incoming>) -> AppFuture {
        let head = request.method() == Method::HEAD;
        let path = request.uri().path();
        let authority = request.uri().authority().map(|a| a.as_str());
        if let Some(refused) = guard::refusal(
            &self.origins,
            request.method(),
            path,
            request.headers(),
            authority,
        ) {
            return Box::pin(ready(Ok(as_router_sends(refused, head))));
        }
        if path.starts_with("/sandbox/") {
            return Box::pin(self.inspection.call(request));
        }
        let shared = Arc::clone(&self.shared);
        Box::pin(async move { Ok(as_router_sends(api(&shared, request).await, head)) })
    }
}

/// What axum's router does to every answer it gives, done to those given without it: a
/// `Content-Length` for a body of known size, and no body for `HEAD`.
fn as_router_sends(mut response: Response, head: bool) -> Response {
    if !response.headers().contains_key(header::CONTENT_LENGTH) {
        if let Some(size) = response.body().size_hint().exact() {
            response
                .headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(size));
        }
    }
    if head {
        *response.body_mut() = Body::empty();
    }
    response
}

/// Paths under `/sandbox/` that name no inspection endpoint are API paths (of unknown
/// methods) like any other.
async fn api_fallback(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    api(&shared, request).await
}

/// Every API request, in the order the real API checks: method and verb (404), instance
/// (403), token (401), rate limit (429), "starting" (400), injected latency and faults, quota
/// (466), then the body (or the notification method's parameters).
async fn api<B>(shared: &Arc<Shared>, request: Request<B>) -> Response
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let (parts, body) = request.into_parts();
    let split = split_api_path_with_receipt(parts.uri.path());
    let Some((instance_segment, method_segment, token_segment, receipt)) = split else {
        return response::error(
            StatusCode::NOT_FOUND,
            format!(
                "no such endpoint; API paths are /{}{{idInstance}}/{{method}}/{{apiTokenInstance}}",
                greenapi_settings::INSTANCE_SEGMENT_PREFIX
            ),
        );
    };
    // Segments are never echoed: a token put in the wrong place must not show up in an answer.
    let Some(method) = Call::from_name(method_segment) else {
        return response::error(
            StatusCode::NOT_FOUND,
            format!(
                "unknown method; this sandbox serves {}",
                Call::served().join(", ")
            ),
        );
    };
    if receipt.is_some() && !method.takes_receipt() {
        return response::error(
            StatusCode::NOT_FOUND,
            format!(
                "no such endpoint; API paths are /{}{{idInstance}}/{{method}}/{{apiTokenInstance}}",
                greenapi_settings::INSTANCE_SEGMENT_PREFIX
            ),
        );
    }
    if parts.method != method.verb() {
        return response::error(
            StatusCode::NOT_FOUND,
            format!("{} must be called with {}", method.name(), method.verb()),
        );
    }
    let id = match parse_instance_segment(instance_segment) {
        InstanceSegment::Id(id) => id,
        // `01101000001` is another idInstance than `1101000001`, one that does not exist.
        InstanceSegment::Unknown => {
            return response::error(StatusCode::FORBIDDEN, "unknown idInstance")
        }
        InstanceSegment::Malformed => {
            return response::error(
                StatusCode::FORBIDDEN,
                format!(
                    "the first path segment must be {} followed by the idInstance digits",
                    greenapi_settings::INSTANCE_SEGMENT_PREFIX
                ),
            )
        }
    };
    let Some(expected) = shared.token(id) else {
        return response::error(StatusCode::FORBIDDEN, "unknown idInstance");
    };
    if !token_matches(&percent_decode(token_segment), expected) {
        shared.count_unauthorized(id);
        return response::error(StatusCode::UNAUTHORIZED, "wrong apiTokenInstance");
    }
    match shared.admit(id, method, Instant::now()) {
        Admission::Go => {}
        Admission::RateLimited { wait, per_second } => {
            return response::rate_limited(retry_after_secs(wait), per_second);
        }
        Admission::Starting => {
            return response::error(
                StatusCode::BAD_REQUEST,
                "instance in starting process try later",
            );
        }
    }
    if !shared.config.latency.is_zero() {
        tokio::time::sleep(shared.config.latency).await;
    }
    if let Some(status) = shared.roll_fault() {
        shared.count_rejected(id);
        return response::error(
            status,
            "injected fault: the sandbox answers this share of requests with a server error",
        );
    }
    if let Err((used, total)) = shared.charge_quota(id) {
        shared.count_rejected(id);
        return response::quota_exceeded(method.name(), used, total);
    }
    match method {
        Call::Settings(ApiMethod::GetSettings) => get_settings(shared, id),
        Call::Settings(ApiMethod::SetSettings) => {
            set_settings(shared, id, &parts.headers, Body::new(body)).await
        }
        Call::Notifications(m) => {
            notifications::api::handle(shared, id, m, parts.uri.query(), receipt).await
        }
    }
}

/// The visible settings plus the read-only fields a real account reports, serialised
/// straight from `Settings` (no `Value`), and only when they changed since the last answer.
fn get_settings(shared: &Shared, id: u64) -> Response {
    let answer = shared.settings_answer(id, Instant::now(), |settings| {
        let mut shown = settings.clone();
        shown.wid = Some(notifications::trigger::wid(id));
        shown.type_account = Some("sandbox".into());
        // Under 1 KiB: one allocation.
        let mut bytes = Vec::with_capacity(1024);
        serde_json::to_writer(&mut bytes, &shown).map(|()| bytes)
    });
    match answer {
        Some(bytes) => response::serialized(StatusCode::OK, bytes),
        None => response::error(StatusCode::FORBIDDEN, "unknown idInstance"),
    }
}

async fn set_settings(shared: &Arc<Shared>, id: u64, headers: &HeaderMap, body: Body) -> Response {
    let limit = shared.config.body_limit;
    let timeout = shared.config.read_timeout;
    let read = tokio::time::timeout(timeout, body::read_limited(body, headers, limit)).await;
    let Ok(read) = read else {
        shared.count_rejected(id);
        return response::error(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the request body did not arrive within {} ms",
                timeout.as_millis()
            ),
        );
    };
    let bytes = match read {
        Ok(bytes) => bytes,
        Err(BodyError::TooLarge) => {
            shared.count_rejected(id);
            return response::error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body is larger than the limit of {limit} bytes"),
            );
        }
        Err(BodyError::Unreadable) => {
            shared.count_rejected(id);
            return response::error(
                StatusCode::BAD_REQUEST,
                "the request body could not be read",
            );
        }
    };
    let patch = match body::parse_patch(&bytes) {
        Ok(patch) => patch,
        Err(PatchError::Malformed(e)) => {
            shared.count_rejected(id);
            return response::error(StatusCode::BAD_REQUEST, format!("malformed JSON: {e}"));
        }
        Err(PatchError::Invalid(violations)) => {
            shared.count_rejected(id);
            return response::invalid_settings(&violations);
        }
    };
    match shared.accept(id, patch).await {
        Ok(()) => {
            notifications::worker::settings_changed(shared, id);
            notifications::trigger::on_restart(shared, id).await;
            response::json_bytes(StatusCode::OK, response::SAVED)
        }
        Err(e) => response::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the settings were not saved: {e}"),
        ),
    }
}

/// `GET /sandbox/instances`: every instance, by id.
async fn list_instances(State(shared): State<Arc<Shared>>) -> Response {
    let all: Vec<Value> = shared
        .all_stats()
        .iter()
        .map(|s| s.to_json_value())
        .collect();
    response::json(StatusCode::OK, Value::Array(all))
}

/// `GET /sandbox/instances/{id}`.
async fn one_instance(
    State(shared): State<Arc<Shared>>,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let stats = id
        .ok()
        .and_then(|Path(id)| canonical_id(&id))
        .and_then(|id| shared.stats(id));
    match stats {
        Some(stats) => response::json(StatusCode::OK, stats.to_json_value()),
        None => response::error(StatusCode::NOT_FOUND, "unknown instance"),
    }
}

/// `POST /sandbox/instances/{id}/drift`: a drift now. The body is a settings object (API
/// names, validated like `setSettings`) whose values the instance takes; an empty body or
/// `{}` reverts the most recent change instead. Answers `{"drifted": [names that changed]}`.
///
/// The guard has already refused foreign origins and non-JSON content types; a body sent
/// with no content type at all is refused here (415), so only a declared JSON body is read.
async fn drift(
    State(shared): State<Arc<Shared>>,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(id) = id
        .ok()
        .and_then(|Path(id)| canonical_id(&id))
        .filter(|id| shared.token(*id).is_some())
    else {
        return response::error(StatusCode::NOT_FOUND, "unknown instance");
    };
    let bytes = match body::read_or_answer(&shared, &headers, body).await {
        Ok(bytes) => bytes,
        Err(answer) => return answer,
    };
    let blank = bytes.iter().all(u8::is_ascii_whitespace);
    if !blank && !headers.contains_key(header::CONTENT_TYPE) {
        return response::error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the request body must be JSON: send `Content-Type: application/json`",
        );
    }
    let values = if blank || serde_json::from_slice::<Value>(&bytes).ok() == Some(json!({})) {
        None
    } else {
        match body::parse_patch(&bytes) {
            Ok(patch) => Some(patch),
            Err(PatchError::Malformed(e)) => {
                return response::error(StatusCode::BAD_REQUEST, format!("malformed JSON: {e}"))
            }
            Err(PatchError::Invalid(violations)) => return response::invalid_settings(&violations),
        }
    };
    match shared.drift(id, values).await {
        Ok(changed) => {
            notifications::worker::settings_changed(&shared, id);
            response::json(StatusCode::OK, json!({ "drifted": changed }))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            response::error(StatusCode::NOT_FOUND, "unknown instance")
        }
        Err(e) => response::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the drift was not saved: {e}"),
        ),
    }
}

/// `GET /sandbox/server`: connections and TLS handshakes since the start.
async fn server(State(shared): State<Arc<Shared>>) -> Response {
    let tls = shared.config.tls.is_some();
    response::json(StatusCode::OK, shared.counters.read(tls).to_json_value())
}

/// `POST /sandbox/reset`: default settings and zero counters everywhere.
async fn reset(State(shared): State<Arc<Shared>>) -> Response {
    match shared.reset().await {
        Ok(()) => response::json(StatusCode::OK, json!({ "reset": true })),
        Err(e) => response::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("reset, but the state file was not written: {e}"),
        ),
    }
}

async fn method_not_allowed(verb: Method) -> Response {
    response::error(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{verb} is not allowed here; inspection endpoints are GET /sandbox/instances[/{{id}}], POST /sandbox/instances/{{id}}/drift, POST /sandbox/instances/{{id}}/notify, GET /sandbox/instances/{{id}}/notifications, GET /sandbox/server and POST /sandbox/reset"),
    )
}
