//! A webhook receiver for the notification tests: an axum server on 127.0.0.1 on a runtime of
//! its own that records every request and answers as told (a status, a redirect, or never).

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Got {
    pub path: String,
    pub authorization: Option<String>,
    /// How many `Authorization` headers came.
    pub authorizations: usize,
    pub content_type: Option<String>,
    pub body: Value,
}

#[derive(Default)]
struct Behaviour {
    got: Mutex<Vec<Got>>,
    /// Status of the next answers (0: 200).
    status: AtomicU16,
    /// Answers left with `status` before answering 200 (u16::MAX: all of them).
    failures_left: AtomicU16,
    hang: AtomicBool,
    redirect_to: Mutex<Option<String>>,
}

async fn answer(
    State(b): State<Arc<Behaviour>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    };
    b.got.lock().unwrap().push(Got {
        path: uri.path().to_string(),
        authorization: text(header::AUTHORIZATION),
        authorizations: headers.get_all(header::AUTHORIZATION).iter().count(),
        content_type: text(header::CONTENT_TYPE),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    });
    if b.hang.load(Ordering::SeqCst) {
        std::future::pending::<()>().await;
    }
    if let Some(to) = b.redirect_to.lock().unwrap().clone() {
        return (StatusCode::FOUND, [(header::LOCATION, to)], "moved").into_response();
    }
    let left = b.failures_left.load(Ordering::SeqCst);
    if left > 0 {
        if left != u16::MAX {
            b.failures_left.store(left - 1, Ordering::SeqCst);
        }
        let status = StatusCode::from_u16(b.status.load(Ordering::SeqCst)).unwrap();
        return (status, "not now").into_response();
    }
    (StatusCode::OK, "ok").into_response()
}

/// A running receiver; dropping it closes the port and every connection.
pub struct Receiver {
    addr: SocketAddr,
    behaviour: Arc<Behaviour>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Receiver {
    /// On any free port.
    pub fn start() -> Self {
        Self::start_on(0)
    }

    /// On `port` of 127.0.0.1 (0: any).
    pub fn start_on(port: u16) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let behaviour = Arc::new(Behaviour::default());
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(Arc::clone(&behaviour));
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(("127.0.0.1", port)))
            .expect("bind the receiver");
        let addr = listener.local_addr().unwrap();
        runtime.spawn(async move { axum::serve(listener, app).await });
        Receiver {
            addr,
            behaviour,
            runtime: Some(runtime),
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The webhook URL to configure.
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// The next `times` answers (u16::MAX: all) are `status`, then 200 again.
    pub fn fail(&self, status: u16, times: u16) {
        self.behaviour.status.store(status, Ordering::SeqCst);
        self.behaviour.failures_left.store(times, Ordering::SeqCst);
    }

    /// Never answers.
    pub fn hang(&self) {
        self.behaviour.hang.store(true, Ordering::SeqCst);
    }

    /// Answers 302 to `to`.
    pub fn redirect_to(&self, to: &str) {
        *self.behaviour.redirect_to.lock().unwrap() = Some(to.to_string());
    }

    /// Everything received so far.
    pub fn got(&self) -> Vec<Got> {
        self.behaviour.got.lock().unwrap().clone()
    }

    /// Waits (polling, at most `within`) until `n` requests arrived; returns them all.
    pub fn wait_for(&self, n: usize, within: Duration) -> Vec<Got> {
        let deadline = Instant::now() + within;
        loop {
            let got = self.got();
            if got.len() >= n || Instant::now() >= deadline {
                return got;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
