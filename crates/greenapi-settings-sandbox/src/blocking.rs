//! [`BlockingSandbox`]: the sandbox for code without an async runtime (blocking clients, the
//! CLI, Python tests). It owns a small tokio runtime whose worker thread serves requests.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::Path;

use greenapi_settings::SettingsPatch;
use tokio::runtime::Runtime;

use crate::config::SandboxConfig;
use crate::notifications::{NotificationLog, Triggered};
use crate::server::{Sandbox, SandboxHandle};
use crate::server_stats::ServerStats;
use crate::stats::InstanceStats;

/// A sandbox running on its own background runtime. Stops when dropped.
///
/// Works from any thread, including from inside an async runtime (its blocking calls then
/// block that thread, so prefer [`Sandbox::start`] there).
///
/// ```
/// use greenapi_settings_sandbox::{BlockingSandbox, SandboxConfig};
///
/// let sandbox = BlockingSandbox::start(SandboxConfig::instances_generated(3))?;
/// assert_eq!(sandbox.instance_ids().len(), 3);
/// println!("apiUrl = {}", sandbox.url());
/// drop(sandbox); // stops the server
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct BlockingSandbox {
    // Both are `Some` until drop; the handle must go before the runtime.
    handle: Option<SandboxHandle>,
    runtime: Option<Runtime>,
}

impl std::fmt::Debug for BlockingSandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockingSandbox")
            .field("handle", &self.handle)
            .finish_non_exhaustive()
    }
}

/// Runs `fut` to completion on `runtime` from a fresh thread, so that it works even when
/// the caller is itself inside a runtime (where `block_on` would panic).
fn block_on<F>(runtime: &Runtime, fut: F) -> F::Output
where
    F: Future + Send,
    F::Output: Send,
{
    std::thread::scope(|s| {
        let joined = s.spawn(|| runtime.block_on(fut)).join();
        match joined {
            Ok(output) => output,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

impl BlockingSandbox {
    /// Starts a sandbox on a background runtime; see [`Sandbox::start`].
    pub fn start(config: SandboxConfig) -> io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("greenapi-sandbox")
            .enable_all()
            .build()?;
        let handle = block_on(&runtime, Sandbox::start(config))?;
        Ok(BlockingSandbox {
            handle: Some(handle),
            runtime: Some(runtime),
        })
    }

    fn handle(&self) -> &SandboxHandle {
        // Only `drop` and `shutdown` (which consumes self) take the handle out.
        self.handle
            .as_ref()
            .unwrap_or_else(|| unreachable!("handle is present until drop"))
    }

    /// The bound address on 127.0.0.1.
    pub fn addr(&self) -> SocketAddr {
        self.handle().addr()
    }

    /// Every bound address; see [`SandboxHandle::addrs`].
    pub fn addrs(&self) -> &[SocketAddr] {
        self.handle().addrs()
    }

    /// The `apiUrl` to give a client: `http://127.0.0.1:PORT` (`https://` with TLS).
    pub fn url(&self) -> String {
        self.handle().url()
    }

    /// The `apiUrl` of every bound address; see [`SandboxHandle::urls`].
    pub fn urls(&self) -> Vec<String> {
        self.handle().urls()
    }

    /// Whether the server speaks HTTPS.
    pub fn is_tls(&self) -> bool {
        self.handle().is_tls()
    }

    /// The throw-away CA of a generated certificate, PEM; see [`SandboxHandle::ca_pem`].
    pub fn ca_pem(&self) -> Option<&str> {
        self.handle().ca_pem()
    }

    /// The file holding [`ca_pem`](Self::ca_pem); see [`SandboxHandle::ca_path`].
    pub fn ca_path(&self) -> Option<&Path> {
        self.handle().ca_path()
    }

    /// Connections and TLS handshakes since the start; see [`SandboxHandle::server_stats`].
    pub fn server_stats(&self) -> ServerStats {
        self.handle().server_stats()
    }

    /// Ids of the served instances, ascending.
    pub fn instance_ids(&self) -> Vec<u64> {
        self.handle().instance_ids()
    }

    /// What happened to instance `id`; `None` if it is not served.
    pub fn stats(&self, id: u64) -> Option<InstanceStats> {
        self.handle().stats(id)
    }

    /// Stats of every instance, ascending by id.
    pub fn all_stats(&self) -> Vec<InstanceStats> {
        self.handle().all_stats()
    }

    /// Default settings and zero counters for every instance; see [`SandboxHandle::reset`].
    pub fn reset(&self) -> io::Result<()> {
        match &self.runtime {
            Some(runtime) => block_on(runtime, self.handle().reset()),
            None => Ok(()),
        }
    }

    /// A drift on instance `id` now; see [`SandboxHandle::drift`].
    pub fn drift(&self, id: u64, values: Option<&SettingsPatch>) -> io::Result<Vec<&'static str>> {
        match &self.runtime {
            Some(runtime) => block_on(runtime, self.handle().drift(id, values)),
            None => Ok(Vec::new()),
        }
    }

    /// Triggers a notification of `kind` on instance `id`; see [`SandboxHandle::trigger`].
    ///
    /// ```
    /// use greenapi_settings_sandbox::{BlockingSandbox, Outcome, SandboxConfig, DEFAULT_INSTANCE_ID};
    ///
    /// let sandbox = BlockingSandbox::start(SandboxConfig::default())?;
    /// let fields = serde_json::json!({"stateInstance": "starting"});
    /// let t = sandbox.trigger(DEFAULT_INSTANCE_ID, "stateInstanceChanged", fields.as_object().unwrap())?;
    /// let Outcome::Suppressed { reason } = t.outcome else { panic!("stateWebhook is off") };
    /// assert!(reason.contains("stateWebhook"), "{reason}");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn trigger(
        &self,
        id: u64,
        kind: &str,
        fields: &serde_json::Map<String, serde_json::Value>,
    ) -> io::Result<Triggered> {
        match &self.runtime {
            Some(runtime) => block_on(runtime, self.handle().trigger(id, kind, fields)),
            None => Err(io::Error::other("the sandbox is stopped")),
        }
    }

    /// What happened to instance `id`'s notifications; see [`SandboxHandle::notifications`].
    pub fn notifications(&self, id: u64) -> Option<NotificationLog> {
        self.handle().notifications(id)
    }

    /// Stops the server and waits for it (dropping does the same, ignoring errors).
    pub fn shutdown(mut self) -> io::Result<()> {
        self.stop()
    }

    fn stop(&mut self) -> io::Result<()> {
        let (Some(handle), Some(runtime)) = (self.handle.take(), self.runtime.take()) else {
            return Ok(());
        };
        // The runtime is dropped on the helper thread too: dropping it inside an async
        // context would panic.
        std::thread::scope(|s| {
            s.spawn(move || {
                let result = runtime.block_on(handle.shutdown());
                drop(runtime);
                result
            })
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("sandbox shutdown panicked")))
        })
    }
}

impl Drop for BlockingSandbox {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}
