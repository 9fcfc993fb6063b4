//! The HTTP client for `getSettings` / `setSettings`, with `plan` / `apply` on top.

mod builder;
mod endpoint;
mod error;
mod net;
mod plan;
mod pool;
mod response;
mod retry;
mod secret;
mod verify;

#[cfg(feature = "blocking")]
#[cfg_attr(docsrs, doc(cfg(feature = "blocking")))]
pub mod blocking;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

pub use builder::ClientBuilder;
pub use error::{Error, TlsCause};
pub use net::MAX_CA_FILE_BYTES;
pub use plan::{Applied, Plan};
pub use response::MAX_SERVER_TEXT;
pub use retry::RetryPolicy;
pub use secret::ApiToken;
pub use verify::{ApplyOptions, Verification, VerifiedApply};

use crate::settings::{ApiMethod, SetSettingsResponse, Settings, SettingsPatch};
use crate::validation::CheckedPatch;

/// Responses larger than this are refused (a settings body is a few hundred bytes).
pub const MAX_RESPONSE_BYTES: usize = 1 << 20;

/// Environment variable with the API URL, e.g. `https://1101.api.greenapi.com`.
pub const ENV_API_URL: &str = "GREEN_API_URL";
/// Environment variable with the instance id.
pub const ENV_ID_INSTANCE: &str = "GREEN_API_ID_INSTANCE";
/// Environment variable with the API token.
pub const ENV_TOKEN: &str = "GREEN_API_TOKEN";
/// Environment variable naming a PEM file of CA certificates trusted on top of the system's
/// roots (read by [`ClientBuilder::from_env`] and the CLI's `--ca-cert`).
pub const ENV_CA_CERT: &str = "GREEN_API_CA_CERT";

/// An async client for one instance. Cheap to clone (clones share one connection pool and
/// one request pacer). `Debug` never shows the token.
///
/// ```no_run
/// # async fn demo() -> Result<(), greenapi_settings::Error> {
/// use greenapi_settings::{Client, SettingsPatch};
/// let client = Client::new("https://1101.api.greenapi.com", 1101000001, "token")?;
/// let current = client.get_settings().await?;
/// let plan = client.plan(&SettingsPatch::new().incoming_webhook(true)).await?;
/// for change in &plan.changes { println!("{change}"); }
/// let applied = client.apply(&SettingsPatch::new().incoming_webhook(true)).await?;
/// assert!(!applied.sent() || applied.response.unwrap().save_settings);
/// # let _ = current; Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    /// The HTTP client (of `pools`) for this API URL: direct, or through the proxy.
    http: reqwest::Client,
    /// The request URL of each method (`ApiMethod::ALL` order), built on first use and kept:
    /// parsing it per request was a tenth of the client's CPU per call. Built from `base`
    /// (see `endpoint`), so a fleet's client per instance does not parse a whole URL either.
    /// `None` if it does not parse; the request then reports that as it always did.
    urls: Vec<std::sync::OnceLock<Option<reqwest::Url>>>,
    /// The API URL, parsed once and shared by the clients built from the same text.
    base: Arc<endpoint::ApiBase>,
    /// The pools `http` is one of, with the extra roots, proxy and connect timeout they were
    /// built with (shared with the clients sharing them).
    pools: Arc<pool::Pools>,
    id_instance: u64,
    token: ApiToken,
    timeout: Duration,
    retry: RetryPolicy,
    min_interval: Duration,
    next_slot: Mutex<Option<Instant>>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("api_url", &self.inner.base.text())
            .field("id_instance", &self.inner.id_instance)
            .field("api_token", &self.inner.token)
            .field("timeout", &self.inner.timeout)
            .field("retry", &self.inner.retry)
            .field("min_interval", &self.inner.min_interval)
            .finish()
    }
}

impl Client {
    /// A client with default timeouts, retries and pacing.
    pub fn new(
        api_url: impl Into<String>,
        id_instance: u64,
        api_token: impl Into<ApiToken>,
    ) -> Result<Client, Error> {
        Client::builder()
            .api_url(api_url)
            .id_instance(id_instance)
            .api_token(api_token)
            .build()
    }

    /// A client from `GREEN_API_URL`, `GREEN_API_ID_INSTANCE` and `GREEN_API_TOKEN`.
    pub fn from_env() -> Result<Client, Error> {
        Client::builder().from_env()?.build()
    }

    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The API URL this client talks to (no token in it).
    pub fn api_url(&self) -> &str {
        self.inner.base.text()
    }

    /// The instance id.
    pub fn id_instance(&self) -> u64 {
        self.inner.id_instance
    }

    /// How many connections this client's connection pool has opened so far, counted once
    /// each connection is made (TCP, a proxy's `CONNECT` and TLS all done): for an `https://`
    /// API URL each one is a TLS handshake. Shared by the clients that share the pool
    /// ([`ClientBuilder::share_connections_with`]): a fleet's report shows its total
    /// (`connectionsOpened`), which with kept-alive connections is about the concurrency,
    /// not the number of instances.
    pub fn connections_opened(&self) -> u64 {
        self.inner.pools.opened()
    }

    /// Reads every setting of the instance (`getSettings`).
    pub async fn get_settings(&self) -> Result<Settings, Error> {
        let (status, body) = self.call(ApiMethod::GetSettings, None, None).await?;
        response::read_settings(status, &body, &self.inner.token)
    }

    /// Reads the getSettings answer as the server sent it: a JSON object, with no check that it
    /// holds the spec's settings and no typing of its values. For comparing a server with the
    /// spec (which fields it has that the spec lacks, and the reverse); use
    /// [`get_settings`](Self::get_settings) for everything else.
    pub async fn get_settings_json(
        &self,
    ) -> Result<serde_json::Map<String, serde_json::Value>, Error> {
        let (status, body, value) = self.get_settings_body().await?;
        match value {
            serde_json::Value::Object(m) => Ok(m),
            _ => Err(response::decode_error(
                status,
                "expected a JSON object of settings",
                &body,
                &self.inner.token,
            )),
        }
    }

    async fn get_settings_body(&self) -> Result<(u16, Vec<u8>, serde_json::Value), Error> {
        let (status, body) = self.call(ApiMethod::GetSettings, None, None).await?;
        let value = response::parse_json(status, &body, &self.inner.token)?;
        Ok((status, body, value))
    }

    /// Validates `patch` and, if it has no errors, sends it (`setSettings`). An invalid patch
    /// returns [`Error::Validation`] with every problem, and nothing is sent. Each accepted call
    /// restarts the instance; prefer [`apply`](Self::apply), which sends only what changed.
    /// Warnings are logged (`tracing`, target `greenapi_settings`); to report them on another
    /// channel instead, use [`SettingsPatch::check`] and [`send_checked`](Self::send_checked).
    pub async fn set_settings(&self, patch: &SettingsPatch) -> Result<SetSettingsResponse, Error> {
        let checked = patch.check()?;
        for w in checked.warnings() {
            tracing::warn!(target: "greenapi_settings", id_instance = self.inner.id_instance, "{w}");
        }
        self.send_unchecked(checked.patch()).await
    }

    /// Sends a patch validated earlier with [`SettingsPatch::check`] (`setSettings`), without
    /// validating it again or logging its warnings: the caller has reported them.
    pub async fn send_checked(&self, patch: &CheckedPatch) -> Result<SetSettingsResponse, Error> {
        self.send_unchecked(patch.patch()).await
    }

    async fn send_unchecked(&self, patch: &SettingsPatch) -> Result<SetSettingsResponse, Error> {
        let body = serde_json::to_vec(patch).map_err(|e| Error::Config(e.to_string()))?;
        // A server that echoes the request body must not put the webhook secret into an error.
        let hook_secret = patch
            .webhook_url_token
            .as_deref()
            .filter(|t| !t.is_empty())
            .map(ApiToken::new);
        let scrub = |e: Error| match &hook_secret {
            Some(secret) => e.scrubbed(secret),
            None => e,
        };
        let (status, resp) = self
            .call(ApiMethod::SetSettings, Some(body), hook_secret.as_ref())
            .await?;
        let answer = serde_json::from_slice::<SetSettingsResponse>(&resp)
            .map_err(|e| response::decode_error(status, e.to_string(), &resp, &self.inner.token))
            .map_err(scrub)?;
        Ok(answer)
    }

    /// Reads the current settings and shows what `desired` would change. `desired` is validated
    /// first: with errors, nothing is sent at all.
    pub async fn plan(&self, desired: &SettingsPatch) -> Result<Plan, Error> {
        desired.validate().into_result()?;
        let current = self.get_settings().await?;
        Ok(Plan::new(current, desired))
    }

    /// Brings the instance to `desired`: sends only the changed fields, and sends **nothing**
    /// when the instance already matches (each `setSettings` restarts the instance).
    pub async fn apply(&self, desired: &SettingsPatch) -> Result<Applied, Error> {
        let plan = self.plan(desired).await?;
        self.apply_plan(plan).await
    }

    /// Carries out a plan made earlier (sends its `to_send` unless empty).
    pub async fn apply_plan(&self, plan: Plan) -> Result<Applied, Error> {
        if plan.is_noop() {
            return Ok(Applied {
                plan,
                response: None,
            });
        }
        plan.to_send.validate().into_result()?;
        let response = self.send_unchecked(&plan.to_send).await?;
        Ok(Applied {
            plan,
            response: Some(response),
        })
    }

    /// One attempt, paced: waits until `min_interval` has passed since the previous attempt of
    /// this client *finished*, and holds the pacer while the request runs. Counting from the
    /// end (not the start) keeps the gap the server sees at least `min_interval`, even when the
    /// earlier request spent time connecting.
    async fn paced_once(
        &self,
        method: ApiMethod,
        body: Option<&[u8]>,
    ) -> Result<(u16, Vec<u8>), Error> {
        if self.inner.min_interval.is_zero() {
            return self.once(method, body).await;
        }
        let mut next = self.inner.next_slot.lock().await;
        if let Some(at) = *next {
            let wait = at.saturating_duration_since(Instant::now());
            if !wait.is_zero() {
                tracing::debug!(
                    target: "greenapi_settings",
                    method = method.name(),
                    id_instance = self.inner.id_instance,
                    wait_ms = wait.as_millis() as u64,
                    "pacing"
                );
            }
            tokio::time::sleep_until(at).await;
        }
        let result = self.once(method, body).await;
        *next = Some(Instant::now() + self.inner.min_interval);
        result
    }

    /// One logical call with retries. Returns the status and body of a successful response.
    /// `secret` (the webhook token of a setSettings body) is scrubbed from every error, before
    /// it is logged or returned.
    async fn call(
        &self,
        method: ApiMethod,
        body: Option<Vec<u8>>,
        secret: Option<&ApiToken>,
    ) -> Result<(u16, Vec<u8>), Error> {
        let policy = &self.inner.retry;
        let mut waited = Duration::ZERO;
        let mut attempt = 1;
        loop {
            let result = self.paced_once(method, body.as_deref()).await;
            let err = match (result, secret) {
                (Ok(ok), _) => return Ok(ok),
                (Err(e), Some(secret)) => e.scrubbed(secret),
                (Err(e), None) => e,
            };
            let retry_after = match &err {
                Error::RateLimited { retry_after } => *retry_after,
                _ => None,
            };
            let wait = policy.backoff(attempt, retry_after);
            if !err.is_retryable()
                || attempt >= policy.attempts()
                || waited.saturating_add(wait) > policy.budget()
            {
                return Err(err);
            }
            tracing::debug!(
                target: "greenapi_settings",
                method = method.name(),
                id_instance = self.inner.id_instance,
                attempt,
                wait_ms = wait.as_millis() as u64,
                error = %err,
                "retrying"
            );
            tokio::time::sleep(wait).await;
            waited += wait;
            attempt += 1;
        }
    }

    async fn once(&self, method: ApiMethod, body: Option<&[u8]>) -> Result<(u16, Vec<u8>), Error> {
        let inner = &self.inner;
        let verb = match method {
            ApiMethod::GetSettings => reqwest::Method::GET,
            ApiMethod::SetSettings => reqwest::Method::POST,
        };
        let parsed = ApiMethod::ALL
            .iter()
            .position(|m| *m == method)
            .and_then(|i| inner.urls.get(i))
            .and_then(|slot| {
                slot.get_or_init(|| {
                    inner
                        .base
                        .method_url(method, inner.id_instance, inner.token.expose())
                })
                .clone()
            });
        let req = match parsed {
            Some(url) => inner.http.request(verb, url),
            None => inner.http.request(
                verb,
                method.url(inner.base.text(), inner.id_instance, inner.token.expose()),
            ),
        }
        .timeout(inner.timeout);
        let req = match method {
            ApiMethod::GetSettings => req,
            ApiMethod::SetSettings => req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.unwrap_or_default().to_vec()),
        };
        let mut resp = match req.send().await {
            Ok(resp) => resp,
            Err(e) if e.is_connect() && e.is_timeout() => {
                return Err(self.connect_timed_out(e).await)
            }
            Err(e) => return Err(self.transport(e)),
        };
        let status = resp.status().as_u16();
        let header = |name| resp.headers().get(name).and_then(|v| v.to_str().ok());
        let retry_after = response::retry_after(header(reqwest::header::RETRY_AFTER));
        if (300..400).contains(&status) {
            // Not `to_str`: a Location with non-ASCII bytes still names its host.
            let location = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
            let target = response::redirect_target(location.as_deref());
            return Err(Error::Redirect {
                status,
                target: inner.token.scrub(&target),
            });
        }
        let mut buf = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.transport(e))? {
            if buf.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(response::decode_error(
                    status,
                    format!("response larger than {MAX_RESPONSE_BYTES} bytes"),
                    &buf,
                    &inner.token,
                ));
            }
            buf.extend_from_slice(&chunk);
        }
        tracing::debug!(
            target: "greenapi_settings",
            method = method.name(),
            id_instance = inner.id_instance,
            status,
            bytes = buf.len(),
            "response"
        );
        response::check(status, &buf, retry_after, &inner.token)?;
        Ok((status, buf))
    }

    /// Connecting to an `https://` API URL took longer than the connect timeout, which covers
    /// the TCP connection and the TLS handshake alike: one TCP connection (nothing sent on it,
    /// bounded by the same timeout, at most 2 s) tells them apart. If it is made at once, the
    /// time went in the handshake: a server that accepts and never answers TLS.
    async fn connect_timed_out(&self, e: reqwest::Error) -> Error {
        let inner = &self.inner;
        let origin = inner.base.origin();
        // The connect timeout ran out (or the request's, if shorter), not the request's.
        let timeout = Error::Timeout {
            after: inner.pools.connect_timeout().min(inner.timeout),
            host: origin.to_string(),
        };
        if let Some(addr) = origin.strip_prefix("https://") {
            if inner.pools.net().proxy_for(&inner.base).is_none() {
                let limit = inner.pools.connect_timeout().min(Duration::from_secs(2));
                let tcp = tokio::time::timeout(limit, tokio::net::TcpStream::connect(addr)).await;
                if let Ok(Ok(_)) = tcp {
                    return Error::Tls {
                        host: origin.to_string(),
                        cause: TlsCause::HandshakeTimeout {
                            after: inner.pools.connect_timeout(),
                        },
                    };
                }
            }
        }
        if e.is_timeout() {
            return timeout;
        }
        self.transport(e)
    }

    fn transport(&self, e: reqwest::Error) -> Error {
        let host = self.inner.base.origin();
        if e.is_timeout() {
            return Error::Timeout {
                after: self.inner.timeout,
                host: host.to_string(),
            };
        }
        let e = e.without_url();
        if let Some(cause) = tls_cause(&e) {
            return Error::Tls {
                host: host.to_string(),
                cause: match cause {
                    TlsCause::Other(m) => TlsCause::Other(self.inner.token.scrub(&m)),
                    known => known,
                },
            };
        }
        // The server is named (which host did not answer is the first question), as its
        // origin only: the path holds the token, and reqwest's URL was stripped above.
        let mut text = match self.inner.pools.net().proxy_for(&self.inner.base) {
            Some(proxy) => format!("{host} (through the proxy {proxy}): {e}"),
            None => format!("{host}: {e}"),
        };
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        let text = self.inner.pools.net().scrub_proxy_credentials(&text);
        Error::Transport(self.inner.token.scrub(&text))
    }
}

/// Why TLS failed, if `e` is a TLS failure: rustls' own error (a certificate not trusted,
/// not TLS at all, a handshake refused), found anywhere in the source chain, or inside the
/// `io::Error`s that carry it through the connector. A reset or refused connection during a
/// handshake is an `io::Error` of its own and stays a (retryable) transport error.
fn tls_cause(e: &(dyn std::error::Error + 'static)) -> Option<TlsCause> {
    let mut next = Some(e);
    // Bounded: a chain is a few levels deep; `io::Error`s nest (the connector wraps the TLS
    // stream's), so each level also looks inside the `io::Error` it may be.
    for _ in 0..16 {
        let e = next?;
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(cause_of(tls));
        }
        next = match e
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    None
}

/// The plain cause of a rustls error.
fn cause_of(e: &rustls::Error) -> TlsCause {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer => TlsCause::NotTrusted,
            C::Expired | C::ExpiredContext { .. } => TlsCause::Expired,
            C::NotValidYet | C::NotValidYetContext { .. } => TlsCause::NotYetValid,
            C::NotValidForName | C::NotValidForNameContext { .. } => TlsCause::WrongName,
            C::Revoked => TlsCause::Revoked,
            other => TlsCause::Other(format!("invalid certificate: {other:?}")),
        },
        // The first bytes back were not a TLS record: a plain-HTTP answer ("HTTP/1.1 400 ...")
        // read as TLS.
        rustls::Error::InvalidMessage(_) => TlsCause::NotTls,
        other => TlsCause::Other(other.to_string()),
    }
}
