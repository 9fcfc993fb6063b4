//! Starting and stopping the server: [`Sandbox::start`] and the [`SandboxHandle`] it returns.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::SandboxConfig;
use crate::routes;
use crate::state::Shared;
use crate::stats::InstanceStats;

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

/// Entry point of the async API; see [`Sandbox::start`].
#[derive(Debug)]
#[non_exhaustive]
pub struct Sandbox;

impl Sandbox {
    /// Binds `127.0.0.1:<port>`, loads the state file if one is configured, and serves on the
    /// current tokio runtime until [`SandboxHandle::shutdown`] (or the handle is dropped).
    ///
    /// Fails when the port is taken, a token is empty, or the state file cannot be read.
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
        let shared = Arc::new(Shared::new(config)?);
        let listener = listen(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let app = routes::router(Arc::clone(&shared));
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    // A dropped sender stops the server just like a sent signal.
                    let _ = stopped.await;
                })
                .await
        });
        Ok(SandboxHandle {
            addr,
            shared,
            stop: Some(stop),
            task: Some(task),
        })
    }
}

/// A running sandbox. Dropping it stops the server (without waiting);
/// [`shutdown`](Self::shutdown) stops it and waits.
pub struct SandboxHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<io::Result<()>>>,
}

impl std::fmt::Debug for SandboxHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxHandle")
            .field("addr", &self.addr)
            .field("instances", &self.shared.instance_ids())
            .finish_non_exhaustive()
    }
}

impl SandboxHandle {
    /// The bound address (always on 127.0.0.1).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The `apiUrl` to give a client: `http://127.0.0.1:PORT`, no trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
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

    /// Stops accepting connections, lets requests in flight finish (up to 5 s), and returns
    /// once the server is gone.
    pub async fn shutdown(mut self) -> io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let Some(mut task) = self.task.take() else {
            return Ok(());
        };
        match tokio::time::timeout(SHUTDOWN_GRACE, &mut task).await {
            Ok(Ok(result)) => result,
            Ok(Err(join_error)) => Err(io::Error::other(join_error)),
            Err(_elapsed) => {
                task.abort();
                Ok(())
            }
        }
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
