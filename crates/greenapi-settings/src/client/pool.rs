//! The connection pools of a client, or of every client sharing them
//! ([`share_connections_with`](super::ClientBuilder::share_connections_with): a fleet, a
//! `watch`): one reqwest client for the hosts reached directly and one for the hosts a proxy
//! takes, each made when first needed, and the count of connections they opened.
//!
//! Two, because whether a host goes through a proxy is decided per host (`NO_PROXY`,
//! loopback never through an environment proxy: see `net`), while a reqwest client is built
//! for one decision (`no_proxy()` or the proxy). With only one, the instances whose host the
//! other decision applies to each got a client of their own: a TLS handshake per instance.
//! Within each reqwest client, connections are pooled per host (`scheme://host:port`), so the
//! instances of one API host share them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::{net, Error};

/// The pools of one network set-up; see the module docs.
pub(crate) struct Pools {
    net: net::Shared,
    max_idle: Option<usize>,
    connect_timeout: Duration,
    direct: OnceLock<reqwest::Client>,
    proxied: OnceLock<reqwest::Client>,
    opened: Arc<AtomicU64>,
}

impl Pools {
    /// Pools for `net` (extra roots, proxy), keeping at most `max_idle` idle connections per
    /// host, connecting within `connect_timeout`. Nothing is built until [`client`](Self::client).
    pub(crate) fn new(
        net: net::Shared,
        max_idle: Option<usize>,
        connect_timeout: Duration,
    ) -> Arc<Pools> {
        Arc::new(Pools {
            net,
            max_idle,
            connect_timeout,
            direct: OnceLock::new(),
            proxied: OnceLock::new(),
            opened: Arc::default(),
        })
    }

    /// The network set-up the pools are built with.
    pub(crate) fn net(&self) -> &net::Shared {
        &self.net
    }

    /// The connect timeout the pools are built with.
    pub(crate) fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// Connections opened so far, by both pools: each one to an `https://` host a TLS
    /// handshake (through a proxy too: the handshake is with the API host, inside `CONNECT`).
    pub(crate) fn opened(&self) -> u64 {
        self.opened.load(Ordering::Relaxed)
    }

    /// The reqwest client for hosts reached `direct`ly (no proxy), or for hosts a proxy takes.
    pub(crate) fn client(&self, direct: bool) -> Result<reqwest::Client, Error> {
        let cell = if direct { &self.direct } else { &self.proxied };
        if let Some(built) = cell.get() {
            return Ok(built.clone());
        }
        // Two threads may both build one; the first stored is the one every client uses.
        let built = self.build(direct)?;
        Ok(cell.get_or_init(|| built).clone())
    }

    fn build(&self, direct: bool) -> Result<reqwest::Client, Error> {
        install_crypto_provider();
        let mut http = reqwest::Client::builder();
        if let Some(max) = self.max_idle {
            http = http.pool_max_idle_per_host(max);
        }
        self.net
            .configure(http, direct)?
            // The API never redirects. Following one would send the URL (token included) in
            // `Referer` and re-send a setSettings body to another host, or turn the POST into
            // a GET and report success: a 3xx is an error.
            .redirect(reqwest::redirect::Policy::none())
            .referer(false)
            .connect_timeout(self.connect_timeout)
            .connector_layer(CountConnections(self.opened.clone()))
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("greenapi-settings/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Config(e.without_url().to_string()))
    }
}

fn install_crypto_provider() {
    // reqwest is built without a default provider (aws-lc would be a heavy C build); ring is
    // installed once per process. An already-installed provider (the application's) wins.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A connector layer counting the connections made (TCP, the proxy's `CONNECT` and TLS all
/// done): it runs once per new connection, never per request.
#[derive(Clone)]
struct CountConnections(Arc<AtomicU64>);

impl<S> tower_layer::Layer<S> for CountConnections {
    type Service = Counted<S>;

    fn layer(&self, inner: S) -> Counted<S> {
        Counted {
            inner,
            opened: self.0.clone(),
        }
    }
}

#[derive(Clone)]
struct Counted<S> {
    inner: S,
    opened: Arc<AtomicU64>,
}

type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>;

impl<S, R> tower_service::Service<R> for Counted<S>
where
    S: tower_service::Service<R>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<S::Response, S::Error>>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: R) -> Self::Future {
        let connecting = self.inner.call(req);
        let opened = self.opened.clone();
        Box::pin(async move {
            let conn = connecting.await?;
            opened.fetch_add(1, Ordering::Relaxed);
            Ok(conn)
        })
    }
}
