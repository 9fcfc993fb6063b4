//! The physical floor of one HTTP/1.1 keep-alive round trip on this machine: a bare hyper
//! server that answers every request with a fixed body (no routing, no auth, no JSON), and a
//! bare hyper client on one kept-alive connection (no pool, no URL parsing, no timeout, no
//! response checks). Same thread layout as the client rows: the server on a one-worker
//! multi-thread runtime of its own (like `BlockingSandbox`), the client on the caller's
//! current-thread runtime. Everything on 127.0.0.1.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};

/// A bare server: the fixed `get_body` for GET, `post_body` for anything else (after
/// reading the request body). Stops when dropped.
pub struct FloorServer {
    pub addr: SocketAddr,
    runtime: Option<tokio::runtime::Runtime>,
}

impl FloorServer {
    pub fn start(get_body: Vec<u8>, post_body: Vec<u8>) -> Self {
        let (runtime, listener, addr) = server_runtime("floor-server");
        let (get_body, post_body) = (Bytes::from(get_body), Bytes::from(post_body));
        runtime.spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                let (get_body, post_body) = (get_body.clone(), post_body.clone());
                tokio::spawn(serve(TokioIo::new(stream), get_body, post_body));
            }
        });
        FloorServer {
            addr,
            runtime: Some(runtime),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// A floor server's one-worker runtime (its thread named `name`, which [`super::cpu`] pins
/// and counts by) and a listener bound on 127.0.0.1 (any port), with its address.
pub fn server_runtime(name: &str) -> (tokio::runtime::Runtime, TcpListener, SocketAddr) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name(name)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = runtime
        .block_on(TcpListener::bind(("127.0.0.1", 0)))
        .expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("local addr");
    (runtime, listener, addr)
}

impl Drop for FloorServer {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// Serves one connection (plain TCP here, TLS in [`super::tls_floor`]): `get_body` for GET,
/// `post_body` for anything else after reading the request body.
pub async fn serve<I>(io: I, get_body: Bytes, post_body: Bytes)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let (get_body, post_body) = (get_body.clone(), post_body.clone());
        async move {
            let body = if req.method() == hyper::Method::GET {
                get_body
            } else {
                // Read the request body, as any real server must.
                let _ = req.into_body().collect().await;
                post_body
            };
            Ok::<_, Infallible>(
                Response::builder()
                    .header("content-type", "application/json")
                    .body(Full::new(body))
                    .expect("response"),
            )
        }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(io, service)
        .await;
}

/// A bare client: one HTTP/1.1 connection, requests sent back to back on it.
pub struct FloorClient {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    authority: String,
}

impl FloorClient {
    /// Connects; must be called inside the runtime that will drive the requests.
    pub async fn connect(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        FloorClient::over(TokioIo::new(stream), addr.to_string()).await
    }

    /// The same client over an established stream `io` (TLS in [`super::tls_floor`]), with
    /// `authority` as the Host header.
    pub async fn over<I>(io: I, authority: String) -> Self
    where
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let (sender, conn) = hyper::client::conn::http1::handshake(io)
            .await
            .expect("handshake");
        tokio::spawn(async move {
            let _ = conn.await;
        });
        FloorClient { sender, authority }
    }

    /// One round trip; returns the body read.
    pub async fn request(&mut self, path: &str, body: Option<&Bytes>) -> Bytes {
        std::future::poll_fn(|cx| self.sender.poll_ready(cx))
            .await
            .expect("connection ready");
        let builder = Request::builder().uri(path).header("host", &self.authority);
        let req = match body {
            None => builder.method("GET").body(Full::new(Bytes::new())),
            Some(b) => builder
                .method("POST")
                .header("content-type", "application/json")
                .body(Full::new(b.clone())),
        }
        .expect("request");
        let resp = self.sender.send_request(req).await.expect("response");
        assert!(resp.status().is_success(), "status {}", resp.status());
        resp.into_body().collect().await.expect("body").to_bytes()
    }
}
