//! `listen`: a local webhook receiver on 127.0.0.1 that prints one line per notification it
//! gets (the time, `typeWebhook`, `idInstance` and a short summary) and, with `--json`, each
//! body as one JSON line on stdout (the lines for people then go to stderr). With
//! `--token-env NAME` it checks `Authorization: Bearer <token>` as the API sends it: a request
//! without the right one gets 401 and a line saying the token was missing or wrong (neither
//! token is ever printed). Bodies are read with a cap (413 above it). `--status CODE` answers
//! something else than 200 (to watch the API re-send), `--count N` exits after N
//! notifications. A request with an `Origin` header (a web page's) is refused (403): the API
//! sends none. SIGTERM exits 0 and Ctrl-C 130, as `watch` does.
//!
//! With `sandbox trigger` this is the whole loop on one laptop: the sandbox delivers what the
//! settings enable, `listen` shows what arrived.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use axum::body::{to_bytes, Body};
use axum::extract::State;
use axum::http::{header, Method, Request, StatusCode, Uri};
use clap::ArgMatches;
use serde_json::Value;

use crate::exit::{CliError, Exit};
use crate::signals::Signals;
use crate::{numbers, terminal};

/// The largest body read; a larger one is answered 413 without being read further. The API's
/// notifications are small (a message's text is at most 20,000 characters; media arrive as
/// URLs), so 4 MiB leaves room for anything it sends.
pub(crate) const BODY_CAP: usize = 4 << 20;

/// How long a request's body may take to arrive (the API sends a whole notification at once).
const BODY_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// How long requests in flight may finish after Ctrl-C, SIGTERM or `--count`.
const DRAIN: std::time::Duration = std::time::Duration::from_secs(2);

/// The fields a notification's summary shows when present, in this order (dotted paths into
/// the body): one list for every type, so a new type needs no code here.
const SUMMARY_FIELDS: [&str; 11] = [
    "stateInstance",
    "statusInstance",
    "messageData.typeMessage",
    "senderData.chatId",
    "chatId",
    "from",
    "status",
    "chatState",
    "idMessage",
    "messageData.textMessageData.textMessage",
    "messageData.extendedTextMessageData.text",
];

/// Longest summary value shown (characters); longer ones end in `…`.
const SUMMARY_VALUE_CHARS: usize = 60;

/// What the receiver was told.
struct Listener {
    /// The expected webhook token (never printed), if checked.
    token: Option<String>,
    /// The status answered to a notification.
    status: StatusCode,
    /// Exit after this many notifications.
    count: Option<u64>,
    /// Print each body as one JSON line on stdout.
    json: bool,
    /// Notifications received so far.
    received: AtomicU64,
    /// Set when `count` is reached.
    done: tokio::sync::Notify,
    reached: AtomicBool,
}

/// Runs `listen`.
pub(crate) async fn run(m: &ArgMatches) -> Result<Exit, CliError> {
    let port = m
        .get_one::<String>("port")
        .map_or(Ok(0), |v| numbers::whole("--port", v, 0, u16::MAX))?;
    let token = match m.get_one::<String>("token-env") {
        None => None,
        Some(name) => Some(token_from_env(name)?),
    };
    let status = match m.get_one::<String>("status") {
        None => StatusCode::OK,
        Some(v) => {
            let code = numbers::whole("--status", v, 100u16, 599)?;
            StatusCode::from_u16(code)
                .map_err(|_| CliError::usage(format!("--status {v}: not an HTTP status")))?
        }
    };
    let count = m
        .get_one::<String>("count")
        .map(|v| numbers::whole("--count", v, 1, u32::MAX).map(u64::from))
        .transpose()?;
    let json = m.get_flag("json-lines");
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| CliError::failed(format!("cannot listen on {addr}: {e}")))?;
    let local = listener
        .local_addr()
        .map_err(|e| CliError::failed(format!("cannot listen on {addr}: {e}")))?;
    let checked = if token.is_some() {
        "the Bearer token is checked"
    } else {
        "no token is checked (--token-env NAME checks one)"
    };
    human(
        json,
        format_args!("listening on http://{local}/ ({checked}; answering {status})"),
    );
    let state = Arc::new(Listener {
        token,
        status,
        count,
        json,
        received: AtomicU64::new(0),
        done: tokio::sync::Notify::new(),
        reached: AtomicBool::new(false),
    });
    let app = axum::Router::new()
        .fallback(receive)
        .with_state(state.clone());
    let (signals, mut interrupts) = Signals::listen(Arc::new(AtomicBool::new(false)));
    let stopping = Arc::new(tokio::sync::Notify::new());
    let stop = {
        let state = state.clone();
        let stopping = stopping.clone();
        async move {
            tokio::select! {
                _ = interrupts.recv() => {}
                () = state.done.notified() => {}
            }
            stopping.notify_one();
        }
    };
    // The notified future is created before the check, so a count reached in between wakes it.
    let server = axum::serve(listener, app).with_graceful_shutdown(stop);
    // A stop lets requests in flight finish for at most DRAIN: a client holding a request
    // half sent must not keep the receiver running after Ctrl-C or SIGTERM.
    tokio::select! {
        served = server => served.map_err(|e| CliError::failed(format!("the receiver failed: {e}")))?,
        () = async {
            stopping.notified().await;
            tokio::time::sleep(DRAIN).await;
        } => {}
    }
    let n = state.received.load(Ordering::SeqCst);
    Ok(match signals.exit() {
        Some(Exit::Interrupted) => {
            human(
                json,
                format_args!("{n} notification(s) received; stopped by Ctrl-C"),
            );
            Exit::Interrupted
        }
        Some(_) => {
            human(
                json,
                format_args!("{n} notification(s) received; stopped by SIGTERM"),
            );
            Exit::Ok
        }
        None => {
            human(json, format_args!("{n} notification(s) received"));
            Exit::Ok
        }
    })
}

/// The token in environment variable `name`: set and not empty, or a usage error naming the
/// variable (never its value).
fn token_from_env(name: &str) -> Result<String, CliError> {
    match std::env::var(name) {
        Ok(t) if !t.is_empty() => Ok(t),
        Ok(_) => Err(CliError::usage(format!(
            "--token-env {}: the variable is empty",
            terminal::text(name)
        ))),
        Err(_) => Err(CliError::usage(format!(
            "--token-env {}: the variable is not set (or not valid UTF-8)",
            terminal::text(name)
        ))),
    }
}

/// A line for people: stdout, or stderr when stdout holds the JSON lines.
fn human(json: bool, args: std::fmt::Arguments<'_>) {
    if json {
        crate::out::stderr(args, true);
    } else {
        crate::out::stdout(args, true);
    }
}

/// Now, to the second, in UTC.
fn now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// The one handler: every method and path.
async fn receive(
    State(l): State<Arc<Listener>>,
    method: Method,
    uri: Uri,
    req: Request<Body>,
) -> (StatusCode, &'static str) {
    // The path only: a query may hold a secret of the sender's.
    let path = terminal::text(uri.path()).into_owned();
    if method != Method::POST {
        human(
            l.json,
            format_args!("{} {method} {path}: not a POST, answered 405", now()),
        );
        return (StatusCode::METHOD_NOT_ALLOWED, "POST notifications here\n");
    }
    // The API sends no Origin; a browser does, on every cross-site POST: a web page open on
    // this machine must not be able to feed the receiver fake notifications.
    if req.headers().contains_key(header::ORIGIN) {
        human(
            l.json,
            format_args!(
                "{} POST {path}: sent by a web page (it has an Origin header), answered 403",
                now()
            ),
        );
        return (
            StatusCode::FORBIDDEN,
            "requests from web pages are refused\n",
        );
    }
    if let Some(expected) = &l.token {
        if let Err(why) = check_token(req.headers().get(header::AUTHORIZATION), expected) {
            human(
                l.json,
                format_args!("{} POST {path}: {why}, answered 401", now()),
            );
            return (StatusCode::UNAUTHORIZED, "wrong or missing token\n");
        }
    }
    let bytes =
        match tokio::time::timeout(BODY_READ_TIMEOUT, to_bytes(req.into_body(), BODY_CAP)).await {
            Ok(Ok(b)) => b,
            Err(_elapsed) => {
                human(
                    l.json,
                    format_args!(
                        "{} POST {path}: the body did not arrive within {} s, answered 408",
                        now(),
                        BODY_READ_TIMEOUT.as_secs()
                    ),
                );
                return (StatusCode::REQUEST_TIMEOUT, "body not received in time\n");
            }
            Ok(Err(_)) => {
                human(
                    l.json,
                    format_args!(
                        "{} POST {path}: body larger than {} MiB (or cut off), answered 413",
                        now(),
                        BODY_CAP >> 20
                    ),
                );
                return (StatusCode::PAYLOAD_TOO_LARGE, "body too large\n");
            }
        };
    let body: Value = match serde_json::from_slice(&bytes) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            human(
                l.json,
                format_args!(
                    "{} POST {path}: the body is not a JSON object, answered 400",
                    now()
                ),
            );
            return (StatusCode::BAD_REQUEST, "not a JSON object\n");
        }
    };
    let n = l.received.fetch_add(1, Ordering::SeqCst) + 1;
    if l.count.is_some_and(|c| n > c) {
        // Past --count while shutting down: not shown, and not acknowledged.
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n");
    }
    human(l.json, format_args!("{} {}", now(), summary(&body)));
    if l.json {
        crate::out::envelope(&serde_json::to_string(&body).unwrap_or_default());
    }
    if l.count == Some(n) && !l.reached.swap(true, Ordering::SeqCst) {
        l.done.notify_one();
    }
    (l.status, "")
}

/// Whether `got` is `Bearer <expected>`; otherwise what was wrong, naming neither token.
fn check_token(got: Option<&header::HeaderValue>, expected: &str) -> Result<(), &'static str> {
    let Some(got) = got else {
        return Err("no Authorization header (the token is missing)");
    };
    let Some(token) = got.as_bytes().strip_prefix(b"Bearer ") else {
        return Err("Authorization is not `Bearer <token>`");
    };
    if constant_time_eq(token, expected.as_bytes()) {
        Ok(())
    } else {
        Err("the Bearer token is wrong")
    }
}

/// Compares without stopping at the first difference (the time taken says nothing about how
/// much of the token was right).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `typeWebhook idInstance key=value …` of a body, escaped for the terminal.
pub(crate) fn summary(body: &Value) -> String {
    let text = |v: Option<&Value>| match v {
        Some(Value::String(s)) => terminal::text(s).into_owned(),
        Some(Value::Null) | None => "?".into(),
        Some(other) => terminal::text(&other.to_string()).into_owned(),
    };
    let mut line = format!(
        "{} {}",
        text(body.get("typeWebhook")),
        text(body.pointer("/instanceData/idInstance"))
    );
    for field in SUMMARY_FIELDS {
        let pointer = format!("/{}", field.replace('.', "/"));
        if let Some(v) = body.pointer(&pointer).filter(|v| !v.is_object()) {
            let key = field.rsplit('.').next().unwrap_or(field);
            let mut value = text(Some(v));
            if value.chars().count() > SUMMARY_VALUE_CHARS {
                value = value.chars().take(SUMMARY_VALUE_CHARS).collect::<String>() + "…";
            }
            line.push_str(&format!(" {key}={value}"));
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_summary_shows_the_fields_present_escaped_and_clipped() {
        let body = json!({
            "typeWebhook": "incomingMessageReceived",
            "instanceData": {"idInstance": 1101000001, "wid": "7@c.us"},
            "idMessage": "ABC",
            "senderData": {"chatId": "7900@c.us\x1b[2J"},
            "messageData": {"typeMessage": "textMessage", "textMessageData": {"textMessage": "x".repeat(100)}}
        });
        let s = summary(&body);
        assert!(s.starts_with("incomingMessageReceived 1101000001 "), "{s}");
        assert!(s.contains("typeMessage=textMessage"), "{s}");
        assert!(s.contains("chatId=7900@c.us\\x1b[2J"), "{s}");
        assert!(
            s.contains(&format!("textMessage={}…", "x".repeat(60))),
            "{s}"
        );
    }

    #[test]
    fn a_token_check_says_what_was_wrong_without_either_token() {
        let h = |s: &str| header::HeaderValue::from_str(s).unwrap();
        assert!(check_token(Some(&h("Bearer s3cret-token")), "s3cret-token").is_ok());
        for (got, why) in [
            (None, "missing"),
            (Some(h("Basic czNjcmV0")), "not `Bearer"),
            (Some(h("Bearer s3cret-tokeN")), "wrong"),
            (Some(h("Bearer s3cret")), "wrong"),
        ] {
            let e = check_token(got.as_ref(), "s3cret-token").unwrap_err();
            assert!(e.contains(why), "{e}");
            assert!(!e.contains("s3cret"), "{e}");
        }
    }
}
