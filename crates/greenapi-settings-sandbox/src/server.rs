//! Starting and stopping the server: [`Sandbox::start`] and the [`SandboxHandle`] it returns.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use greenapi_settings::SettingsPatch;
use hyper::server::conn::{http1, http2};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{oneshot, watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

use crate::config::SandboxConfig;
use crate::notifications::{self, NotificationLog, Triggered};
use crate::routes;
use crate::server_stats::ServerStats;
use crate::state::Shared;
use crate::stats::InstanceStats;
use crate::tls::{self, CaFile};

/// How long [`SandboxHandle::shutdown`] waits for requests in flight before dropping them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Pending connections the kernel queues for us. The usual 128 is too few for fleet tests
/// that open hundreds of connections at once: overflowing SYNs are retried only after 1 s.
const BACKLOG: u32 = 1024;

fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    // Like std and tokio: a fixed port can be bound again right after a restart.
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// The loopback addresses of a sandbox with `hosts` hosts: 127.0.0.1 to 127.0.0.`hosts`.
fn host_ips(hosts: u8) -> Vec<Ipv4Addr> {
    (1..=hosts.max(1))
        .map(|i| Ipv4Addr::new(127, 0, 0, i))
        .collect()
}

/// Tries at a free port shared by every address of a multi-host sandbox: another process may
/// hold the port on one of the other addresses.
const PORT_ATTEMPTS: usize = 20;

/// One listener per address in `ips`, all on `port` (with 0, the port the first one got).
fn listen_all(ips: &[Ipv4Addr], port: u16) -> io::Result<Vec<TcpListener>> {
    let mut last_error = None;
    for _ in 0..PORT_ATTEMPTS {
        let first = listen(SocketAddr::from((ips[0], port)))?;
        let chosen = first.local_addr()?.port();
        let mut listeners = vec![first];
        let rest = ips[1..]
            .iter()
            .map(|ip| listen(SocketAddr::from((*ip, chosen))))
            .collect::<io::Result<Vec<_>>>();
        match rest {
            Ok(rest) => {
                listeners.extend(rest);
                return Ok(listeners);
            }
            Err(e) if port == 0 && e.kind() == io::ErrorKind::AddrInUse => last_error = Some(e),
            Err(e) => {
                let extra = ips.len();
                return Err(io::Error::new(
                    e.kind(),
                    format!(
                        "cannot listen on 127.0.0.2..127.0.0.{extra} port {chosen} ({e}); \
                         on systems other than Linux, add those loopback addresses first"
                    ),
                ));
            }
        }
    }
    Err(last_error.unwrap_or_else(|| io::Error::other("no free port")))
}

/// Errors of `accept` that concern one connection only (it was reset before we took it);
/// anything else, such as running out of file descriptors, is worth a pause.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// Waits for a connection on any of `listeners`, starting the scan at a different one each
/// time so that no address starves the others. Each comes with `TCP_NODELAY` set.
async fn accept_any(listeners: &[TcpListener], next: &mut usize) -> io::Result<TcpStream> {
    std::future::poll_fn(|cx| {
        let n = listeners.len();
        for k in 0..n {
            let i = (*next + k) % n;
            if let Poll::Ready(accepted) = listeners[i].poll_accept(cx) {
                *next = (i + 1) % n;
                return Poll::Ready(accepted.map(|(stream, _peer)| no_delay(stream)));
            }
        }
        Poll::Pending
    })
    .await
}

/// `stream` with Nagle's algorithm off: the API answers in small writes, and a small write
/// held back until the client's delayed ACK cost every new TLS connection ~44 ms (the
/// handshake's last flight; measured by the TLS bench rows). A socket that refuses the
/// option is served as it is.
fn no_delay(stream: TcpStream) -> TcpStream {
    let _ = stream.set_nodelay(true);
    stream
}

/// What every connection of one server shares.
#[derive(Clone)]
struct Connections {
    app: routes::App,
    shared: Arc<Shared>,
    read_timeout: Duration,
    /// `Some` for HTTPS: one acceptor (one `Arc<ServerConfig>`) for every connection.
    tls: Option<TlsAcceptor>,
}

/// The accept loop: at most `max_connections` at once (a connection is taken only when a
/// slot is free, so the others wait in the kernel's queue), each with the header read
/// timeout. On `stop` it stops accepting, asks every connection to finish its request in
/// flight, and returns once all are closed.
async fn serve(
    listeners: Vec<TcpListener>,
    conns: Connections,
    max_connections: usize,
    mut stop: oneshot::Receiver<()>,
) -> io::Result<()> {
    let slots = Arc::new(Semaphore::new(max_connections));
    let (closing, closing_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut next = 0;
    loop {
        let slot = tokio::select! {
            // A dropped sender stops the server just like a sent signal.
            _ = &mut stop => break,
            slot = Arc::clone(&slots).acquire_owned() => slot.map_err(io::Error::other)?,
        };
        let stream = tokio::select! {
            _ = &mut stop => break,
            accepted = accept_any(&listeners, &mut next) => match accepted {
                Ok(stream) => stream,
                Err(e) => {
                    if !is_connection_error(&e) {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    continue;
                }
            },
        };
        conns.shared.counters.connection();
        while connections.try_join_next().is_some() {}
        connections.spawn(serve_connection(
            stream,
            conns.clone(),
            closing_rx.clone(),
            slot,
        ));
    }
    drop(listeners);
    let _ = closing.send(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// One connection, over TLS if the server speaks it; its slot is given back when it closes.
async fn serve_connection(
    stream: TcpStream,
    conns: Connections,
    mut closing: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
) {
    let Some(acceptor) = &conns.tls else {
        return serve_http(TokioIo::new(stream), conns.app, conns.read_timeout, closing).await;
    };
    // The handshake gets the same time as a request's headers: a client that connects and
    // says nothing must not hold a slot.
    let handshake = tokio::time::timeout(conns.read_timeout, handshake(stream, acceptor));
    let tls = tokio::select! {
        done = handshake => done.ok().flatten(),
        _ = closing.wait_for(|closing| *closing) => return,
    };
    match tls {
        Some(tls) => {
            conns.shared.counters.handshake();
            if tls.get_ref().1.alpn_protocol() == Some(b"h2") {
                conns.shared.counters.http2_connection();
                serve_http2(TokioIo::new(tls), conns.app, closing).await;
            } else {
                serve_http(TokioIo::new(tls), conns.app, conns.read_timeout, closing).await;
            }
        }
        None => conns.shared.counters.handshake_failed(),
    }
}

/// The server's side of a TLS handshake; `None` if it did not complete. A client that speaks
/// plain HTTP to the HTTPS port gets a plain-HTTP 400 saying so (and where to go instead),
/// then the connection is closed.
async fn handshake(
    stream: TcpStream,
    acceptor: &TlsAcceptor,
) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    let mut first = [0u8; 1];
    match stream.peek(&mut first).await {
        Ok(1) => {}
        _ => return None,
    }
    // Every TLS connection opens with a handshake record (content type 22); HTTP opens with
    // a method name in capitals.
    if first[0] != 0x16 {
        if first[0].is_ascii_uppercase() {
            refuse_plain_http(stream).await;
        }
        return None;
    }
    acceptor.accept(stream).await.ok()
}

/// Answers a plain-HTTP request on the HTTPS port with 400 in the API's error shape.
async fn refuse_plain_http(mut stream: TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let https = match stream.local_addr() {
        Ok(addr) => format!("https://{addr}"),
        Err(_) => "https://".to_string(),
    };
    // What the client sent is read first: closing a socket with unread data resets the
    // connection, and the client might lose the answer.
    let mut request = [0u8; 8192];
    let _ = stream.read(&mut request).await;
    let body = crate::response::error_body(
        hyper::StatusCode::BAD_REQUEST,
        &format!("this sandbox speaks HTTPS: send the request to {https}"),
    )
    .to_string();
    let answer = format!(
        "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(answer.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Drives a hyper connection (HTTP/1.1 or HTTP/2: their types share no trait for this) to its
/// end, or until `closing` turns true; then lets it finish the requests in flight (graceful
/// shutdown). Errors are the client's (a reset, a malformed request, a header timeout):
/// nothing to do but close.
macro_rules! serve_until_closing {
    ($connection:expr, $closing:ident) => {{
        let mut connection = std::pin::pin!($connection);
        tokio::select! {
            _ = connection.as_mut() => return,
            _ = $closing.wait_for(|closing| *closing) => {}
        }
        connection.as_mut().graceful_shutdown();
        let _ = connection.await;
    }};
}

/// One HTTP/1.1 connection on `io` (a TCP or TLS stream).
async fn serve_http<I>(
    io: TokioIo<I>,
    app: routes::App,
    read_timeout: Duration,
    mut closing: watch::Receiver<bool>,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(read_timeout);
    serve_until_closing!(builder.serve_connection(io, app), closing);
}

/// One HTTP/2 connection on `io` (TLS, `h2` negotiated): its requests are streams, answered
/// concurrently, each through the same service (guard, caps) as over HTTP/1.1. A peer that
/// stops answering keep-alive pings (every 30 s, 10 s to answer) is dropped.
async fn serve_http2<I>(io: TokioIo<I>, app: routes::App, mut closing: watch::Receiver<bool>)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = http2::Builder::new(hyper_util::rt::TokioExecutor::new());
    builder
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .keep_alive_timeout(Duration::from_secs(10));
    serve_until_closing!(builder.serve_connection(io, app), closing);
}

/// Entry point of the async API; see [`Sandbox::start`].
#[derive(Debug)]
#[non_exhaustive]
pub struct Sandbox;

impl Sandbox {
    /// Binds `127.0.0.1:<port>` (and 127.0.0.2… with [`SandboxConfig::hosts`]), loads the
    /// state file if one is configured, and serves on the current tokio runtime until
    /// [`SandboxHandle::shutdown`] (or the handle is dropped). With
    /// [`SandboxConfig::tls`] it serves HTTPS: the certificate is made or read first, and one
    /// server configuration serves every connection.
    ///
    /// Fails when the port is taken, a token is too short, the state file cannot be read, or
    /// TLS certificate files cannot be read or used (`InvalidInput`, naming the file).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use greenapi_settings_sandbox::{Sandbox, SandboxConfig, DEFAULT_INSTANCE_ID};
    ///
    /// let sandbox = Sandbox::start(SandboxConfig::default()).await?;
    /// assert!(sandbox.url().starts_with("http://127.0.0.1:"));
    /// assert_eq!(sandbox.stats(DEFAULT_INSTANCE_ID).unwrap().restarts, 0);
    /// sandbox.shutdown().await
    /// # }
    /// ```
    pub async fn start(config: SandboxConfig) -> io::Result<SandboxHandle> {
        let port = config.port;
        let (max_connections, read_timeout) = (config.max_connections, config.read_timeout);
        let ips = host_ips(config.hosts);
        // The caller's certificate files are judged first: nothing is bound or loaded if
        // they are wrong.
        let tls = config
            .tls
            .as_ref()
            .map(|tls| tls::prepare(tls, &ips))
            .transpose()?;
        let shared = Arc::new(Shared::new(config)?);
        let listeners = listen_all(&ips, port)?;
        let addrs = listeners
            .iter()
            .map(TcpListener::local_addr)
            .collect::<io::Result<Vec<_>>>()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let (acceptor, ca) = match tls {
            Some(prepared) => (Some(prepared.acceptor.clone()), prepared.write_ca()?),
            None => (None, None),
        };
        let scheme = if acceptor.is_some() { "https" } else { "http" };
        let conns = Connections {
            app: routes::app(Arc::clone(&shared), scheme, &addrs),
            shared: Arc::clone(&shared),
            read_timeout,
            tls: acceptor,
        };
        let task = tokio::spawn(serve(listeners, conns, max_connections, stopped));
        // Notifications kept in the state file go on to their webhooks.
        for id in shared.notifications.with_queued() {
            notifications::worker::settings_changed(&shared, id);
        }
        Ok(SandboxHandle {
            addrs,
            scheme,
            ca,
            shared,
            stop: Some(stop),
            task: Some(task),
        })
    }
}

/// A running sandbox. Dropping it stops the server (without waiting);
/// [`shutdown`](Self::shutdown) stops it and waits.
pub struct SandboxHandle {
    /// Every listening address, 127.0.0.1 first.
    addrs: Vec<SocketAddr>,
    scheme: &'static str,
    /// A generated certificate's CA (its file lives as long as this handle).
    ca: Option<CaFile>,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<io::Result<()>>>,
}

impl std::fmt::Debug for SandboxHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxHandle")
            .field("addrs", &self.addrs)
            .field("scheme", &self.scheme)
            .field("ca_path", &self.ca_path())
            .field("instances", &self.shared.instance_ids())
            .finish_non_exhaustive()
    }
}

impl SandboxHandle {
    /// The bound address on 127.0.0.1.
    pub fn addr(&self) -> SocketAddr {
        self.addrs[0]
    }

    /// Every bound address, 127.0.0.1 first (more than one with
    /// [`SandboxConfig::hosts`](crate::SandboxConfig::hosts)); all share the port.
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// The `apiUrl` to give a client: `http://127.0.0.1:PORT`, or `https://127.0.0.1:PORT`
    /// with [TLS](crate::SandboxConfig::tls); no trailing slash.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addrs[0])
    }

    /// The `apiUrl` of every bound address, in the order of [`addrs`](Self::addrs).
    pub fn urls(&self) -> Vec<String> {
        self.addrs
            .iter()
            .map(|addr| format!("{}://{addr}", self.scheme))
            .collect()
    }

    /// Whether the server speaks HTTPS.
    pub fn is_tls(&self) -> bool {
        self.scheme == "https"
    }

    /// The PEM of the throw-away CA that signed a generated certificate: the one root a
    /// client needs to trust this server. `None` without TLS or with the caller's own
    /// certificate ([`TlsConfig::files`](crate::TlsConfig::files)).
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca.as_ref().map(|ca| ca.pem.as_str())
    }

    /// The file holding [`ca_pem`](Self::ca_pem) (in a temporary directory removed with the
    /// handle, unless one was chosen with
    /// [`TlsConfig::generated_with_ca_out`](crate::TlsConfig::generated_with_ca_out)).
    pub fn ca_path(&self) -> Option<&Path> {
        self.ca.as_ref().map(|ca| ca.path.as_path())
    }

    /// Connections accepted and TLS handshakes completed since the start (also `GET
    /// /sandbox/server`): with keep-alive, far fewer than requests.
    pub fn server_stats(&self) -> ServerStats {
        self.shared.counters.read(self.is_tls())
    }

    /// Ids of the served instances, ascending.
    pub fn instance_ids(&self) -> Vec<u64> {
        self.shared.instance_ids()
    }

    /// What happened to instance `id` (no token in it); `None` if it is not served.
    pub fn stats(&self, id: u64) -> Option<InstanceStats> {
        self.shared.stats(id)
    }

    /// [`stats`](Self::stats) of every instance, ascending by id.
    pub fn all_stats(&self) -> Vec<InstanceStats> {
        self.shared.all_stats()
    }

    /// Same as `POST /sandbox/reset`: default settings and zero counters for every instance,
    /// fault injection from the start; written to the state file if there is one.
    pub async fn reset(&self) -> io::Result<()> {
        self.shared.reset().await
    }

    /// Same as `POST /sandbox/instances/{id}/drift`: a drift on instance `id` now, as if its
    /// phone had logged out and in again. With `values`, those settings take these values;
    /// with `None`, the most recent `setSettings` that took effect is reverted (its fields
    /// that may drift and still hold its values get back the ones it replaced; see
    /// [`SandboxConfig::drift_after`]) and will not drift again. No restart; written to the
    /// state file if there is one.
    ///
    /// Returns the API names of the settings that changed (empty if none did: not counted);
    /// `NotFound` if `id` is not served.
    ///
    /// [`SandboxConfig::drift_after`]: crate::SandboxConfig::drift_after
    pub async fn drift(
        &self,
        id: u64,
        values: Option<&SettingsPatch>,
    ) -> io::Result<Vec<&'static str>> {
        self.shared.drift(id, values.cloned()).await
    }

    /// Same as `POST /sandbox/instances/{id}/notify`: makes a notification of `kind`
    /// (`"incomingCall"`, `"incomingMessageReceived:editedMessage"`) on instance `id`, with
    /// `fields` merged into its body, and queues it if the instance's settings enable it
    /// (for its `webhookUrl`, or for `receiveNotification` while that is empty); otherwise
    /// records it as suppressed, with the reason.
    ///
    /// Errors: `InvalidInput` for an unknown kind (the message lists the known ones) or
    /// fields the kind refuses (nothing is queued); `NotFound` if `id` is not served; the
    /// state file's error if it cannot be written (the notification is queued).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use greenapi_settings_sandbox::{Outcome, Sandbox, SandboxConfig, DEFAULT_INSTANCE_ID};
    ///
    /// let sandbox = Sandbox::start(SandboxConfig::default()).await?;
    /// // A new instance has every notification switched off.
    /// let t = sandbox.trigger(DEFAULT_INSTANCE_ID, "incomingCall", &Default::default()).await?;
    /// assert!(matches!(t.outcome, Outcome::Suppressed { .. }));
    /// assert_eq!(t.body["typeWebhook"], "incomingCall");
    /// assert_eq!(sandbox.notifications(DEFAULT_INSTANCE_ID).unwrap().suppressed.len(), 1);
    /// sandbox.shutdown().await
    /// # }
    /// ```
    pub async fn trigger(
        &self,
        id: u64,
        kind: &str,
        fields: &serde_json::Map<String, serde_json::Value>,
    ) -> io::Result<Triggered> {
        let kind = notifications::trigger::kind(kind)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        if self.shared.token(id).is_none() {
            return Err(io::Error::new(io::ErrorKind::NotFound, "unknown instance"));
        }
        notifications::trigger::trigger(&self.shared, id, kind, fields).await
    }

    /// Same as `GET /sandbox/instances/{id}/notifications`: what is queued, failing,
    /// delivered and suppressed on instance `id`, and how many were dropped; `None` if it is
    /// not served. Never holds a token.
    pub fn notifications(&self, id: u64) -> Option<NotificationLog> {
        self.shared
            .token(id)
            .map(|_| self.shared.notifications.log(id))
    }

    /// Stops accepting connections, lets requests in flight and state-file writes finish (up
    /// to 5 s), and returns once the server is gone. Notification deliveries stop at once.
    pub async fn shutdown(mut self) -> io::Result<()> {
        self.shared.notifications.stop();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let Some(mut task) = self.task.take() else {
            return Ok(());
        };
        let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
        let result = match tokio::time::timeout_at(deadline, &mut task).await {
            Ok(Ok(result)) => result,
            Ok(Err(join_error)) => Err(io::Error::other(join_error)),
            Err(_elapsed) => {
                task.abort();
                Ok(())
            }
        };
        // Changes of requests whose clients hung up may still be on their way to the state
        // file; whoever starts a sandbox from it next expects them there.
        let _ = tokio::time::timeout_at(deadline, self.shared.flushed()).await;
        result
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        self.shared.notifications.stop();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    /// Regression (issue 22, TLS bench): accepted connections kept Nagle's algorithm on, and a
    /// new TLS connection to the sandbox took ~44 ms instead of ~0.3 ms.
    #[tokio::test]
    async fn accepted_connections_have_nagle_off() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = tokio::spawn(async move { tokio::net::TcpStream::connect(addr).await });
        let mut next = 0;
        let stream = super::accept_any(std::slice::from_ref(&listener), &mut next)
            .await
            .unwrap();
        assert!(stream.nodelay().unwrap());
        drop(client.await);
    }

    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::thread::sleep;

    use super::*;
    use crate::config::generated_token;
    use crate::persist;

    fn send_set(addr: SocketAddr, id: u64, delay: u64) -> TcpStream {
        let body = format!(r#"{{"delaySendMessagesMilliseconds":{delay}}}"#);
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        write!(
            stream,
            "POST /waInstance{id}/setSettings/{} HTTP/1.1\r\nHost: 127.0.0.1\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            generated_token(id),
            body.len()
        )
        .expect("write");
        stream
    }

    /// A client hangs up while the state file is being written for its request (made slow
    /// by the test hook); another client's change is acknowledged meanwhile. The slow, older
    /// write must not land after the newer one.
    #[test]
    fn a_write_for_an_abandoned_request_never_overwrites_a_newer_acknowledged_one() {
        let dir = std::env::temp_dir().join(format!("gas-server-order-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let state = dir.join("state.json");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let config = SandboxConfig::instances_generated(2)
            .rate_limit(None)
            .state_file(&state);
        let handle = runtime.block_on(Sandbox::start(config)).expect("start");
        let ids = handle.instance_ids();
        crate::state::lock(&handle.shared.slow_writes).push_back(Duration::from_millis(700));

        let abandoned = send_set(handle.addr(), ids[0], 11_000);
        sleep(Duration::from_millis(200));
        drop(abandoned);

        let mut acknowledged = send_set(handle.addr(), ids[1], 22_000);
        let mut answer = String::new();
        acknowledged.read_to_string(&mut answer).expect("answer");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

        runtime.block_on(handle.shutdown()).expect("shutdown");
        // Long enough for the slow write to land, wherever it runs.
        sleep(Duration::from_millis(1_000));
        drop(runtime);
        let saved = persist::load(&state).expect("readable").expect("written");
        let shown = saved
            .iter()
            .find(|s| s.id == ids[1])
            .map(|s| s.settings.delay_send_messages_milliseconds);
        assert_eq!(shown, Some(22_000), "the acknowledged write was lost");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
