//! [`SandboxConfig`]: which instances exist and how the server behaves (limits, faults,
//! persistence).

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::notifications::config::NotifyConfig;
use crate::timeline::DriftPolicy;
use crate::tls::TlsConfig;

/// The `idInstance` served when no instance is configured.
pub const DEFAULT_INSTANCE_ID: u64 = 1_101_000_001;

/// The `apiTokenInstance` of [`DEFAULT_INSTANCE_ID`].
pub const DEFAULT_TOKEN: &str = "sandbox-token";

/// Largest `setSettings` body accepted by default (64 KiB); larger ones get 413.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// Seed of the fault injector unless [`SandboxConfig::seed`] sets another.
pub const DEFAULT_SEED: u64 = 0x5EED_0000_6A9E_0001;

/// Connections served at once unless [`SandboxConfig::max_connections`] sets another number;
/// further ones wait (in the kernel's queue) until one closes.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;

/// Time a client has to send a request's headers, and again its body, unless
/// [`SandboxConfig::read_timeout`] sets another.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The token [`SandboxConfig::instances_generated`] gives instance `id`:
/// `sandbox-token-<id>`. Fleet tests derive tokens with it instead of passing them around.
pub fn generated_token(id: u64) -> String {
    format!("{DEFAULT_TOKEN}-{id}")
}

/// How a sandbox behaves. `Default` is one instance ([`DEFAULT_INSTANCE_ID`] /
/// [`DEFAULT_TOKEN`]), any free port, the API's rate limit
/// ([`facts::RATE_LIMIT_REQUESTS_PER_SECOND`](greenapi_settings::facts::RATE_LIMIT_REQUESTS_PER_SECOND)),
/// no faults (no 5xx, no lost writes, no drift), no quota, settings applied at once, a 64 KiB
/// body limit, no persistence, at most
/// [`DEFAULT_MAX_CONNECTIONS`] connections at once and [`DEFAULT_READ_TIMEOUT`] to send a
/// request.
///
/// `Debug` lists instance ids only, never tokens.
///
/// ```
/// use std::time::Duration;
/// use greenapi_settings_sandbox::SandboxConfig;
///
/// let config = SandboxConfig::default()
///     .with_instance(7_700_000_001, "secret-token")
///     .rate_limit(None)
///     .latency(Duration::from_millis(20));
/// assert_eq!(config.instance_ids(), [7_700_000_001]);
/// assert!(!format!("{config:?}").contains("secret-token"));
/// ```
#[derive(Clone)]
pub struct SandboxConfig {
    pub(crate) instances: Vec<(u64, String)>,
    pub(crate) port: u16,
    pub(crate) rate_limit: Option<u32>,
    pub(crate) latency: Duration,
    pub(crate) error_rate: f64,
    pub(crate) seed: u64,
    pub(crate) quota: Option<u64>,
    pub(crate) apply_delay: Duration,
    pub(crate) restart_duration: Duration,
    pub(crate) body_limit: usize,
    pub(crate) state_file: Option<PathBuf>,
    pub(crate) max_connections: usize,
    pub(crate) read_timeout: Duration,
    pub(crate) lost_write_rate: f64,
    pub(crate) drift: DriftPolicy,
    pub(crate) notify: NotifyConfig,
    pub(crate) tls: Option<TlsConfig>,
    pub(crate) hosts: u8,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            instances: Vec::new(),
            port: 0,
            rate_limit: Some(greenapi_settings::facts::RATE_LIMIT_REQUESTS_PER_SECOND),
            latency: Duration::ZERO,
            error_rate: 0.0,
            seed: DEFAULT_SEED,
            quota: None,
            apply_delay: Duration::ZERO,
            restart_duration: Duration::ZERO,
            body_limit: DEFAULT_BODY_LIMIT,
            state_file: None,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            read_timeout: DEFAULT_READ_TIMEOUT,
            lost_write_rate: 0.0,
            drift: DriftPolicy::default(),
            notify: NotifyConfig::default(),
            tls: None,
            hosts: 1,
        }
    }
}

impl SandboxConfig {
    /// Same as [`SandboxConfig::default`].
    pub fn new() -> Self {
        Self::default()
    }

    /// `n` instances with ids `DEFAULT_INSTANCE_ID, DEFAULT_INSTANCE_ID + 1, …` and tokens
    /// from [`generated_token`]; everything else as in `Default`. For fleet tests.
    pub fn instances_generated(n: usize) -> Self {
        Self::default().with_generated_instances(n)
    }

    /// Replaces the instance list with `n` generated instances (see
    /// [`instances_generated`](Self::instances_generated)), keeping every other setting.
    pub fn with_generated_instances(mut self, n: usize) -> Self {
        self.instances = (0..n as u64)
            .map(|i| {
                let id = DEFAULT_INSTANCE_ID.saturating_add(i);
                (id, generated_token(id))
            })
            .collect();
        self
    }

    /// Adds an instance. The first one added replaces the implicit default instance; adding
    /// an id twice keeps the last token.
    pub fn with_instance(mut self, id: u64, token: impl Into<String>) -> Self {
        let token = token.into();
        match self.instances.iter_mut().find(|(i, _)| *i == id) {
            Some(slot) => slot.1 = token,
            None => self.instances.push((id, token)),
        }
        self
    }

    /// Requests per second allowed per instance (getSettings and setSettings together;
    /// receiveNotification and deleteNotification each on their own, since a polling
    /// receiver calls them in a row); `None` or `Some(0)` turns the limit off.
    pub fn rate_limit(mut self, per_second: Option<u32>) -> Self {
        self.rate_limit = per_second.filter(|n| *n > 0);
        self
    }

    /// Delay added before answering every request that passed authentication, rate limit
    /// and the "starting" check.
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Fraction (0.0–1.0, clamped; NaN means 0) of requests answered with 500, 502, 503 or
    /// 504 in turn, counted over all instances together (only requests that passed
    /// authentication, rate limit and the "starting" check). Over `n` such requests exactly
    /// `⌊n·rate⌋` or one more fail; which ones and which code comes first follow from
    /// [`seed`](Self::seed).
    pub fn error_rate(mut self, rate: f64) -> Self {
        self.error_rate = if rate.is_nan() {
            0.0
        } else {
            rate.clamp(0.0, 1.0)
        };
        self
    }

    /// Share (0.0–1.0, clamped; NaN means 0) of the fields of acknowledged `setSettings` calls
    /// that are silently lost, as users of the real API report ("`saveSettings: true` but
    /// nothing changed"). The call is still answered `{"saveSettings": true}` and still
    /// restarts the instance, but a lost field never changes: `getSettings` keeps showing its
    /// old value until a later call sets it (and that one is not lost).
    ///
    /// Each field of a call is lost independently with this probability: a one-field call is
    /// lost with it, a call with several fields may lose some or all of them. 0 loses
    /// nothing and 1 loses every field of every call, exactly. The draws come from a generator
    /// of each instance's own, seeded from [`seed`](Self::seed) and the instance id, one draw
    /// per field set (in spec order): with the same seed, the same calls to an instance lose
    /// the same fields. Calls refused for any reason (400, 429, 5xx, …) draw nothing.
    ///
    /// [`InstanceStats`](crate::InstanceStats) counts `lost_writes` (calls that lost at
    /// least one field), `lost_fields`, and lists `unrepaired_lost_fields`: fields lost and not
    /// sent again (and kept) since.
    pub fn lost_write_rate(mut self, rate: f64) -> Self {
        self.lost_write_rate = if rate.is_nan() {
            0.0
        } else {
            rate.clamp(0.0, 1.0)
        };
        self
    }

    /// Turns on drift: `delay` after an accepted `setSettings` took effect (became visible,
    /// so after the [`apply_delay`](Self::apply_delay)), the instance puts back the values
    /// that call replaced, by itself, as users report after the phone logs out and in again.
    /// No restart, no request: `getSettings` just shows the old values again.
    ///
    /// Only fields that still hold the value that call set drift (a later change wins, and
    /// drifts in turn after its own delay), only those named by
    /// [`drift_fields`](Self::drift_fields) if set, and at most
    /// [`drift_limit`](Self::drift_limit) times per instance; fields lost by a
    /// [lost write](Self::lost_write_rate) never took effect, so they never drift. With a
    /// [state file](Self::state_file), the file holds the settings as they will be once the
    /// scheduled drifts happened, as it holds delayed changes as applied. A drift is counted in
    /// [`InstanceStats`](crate::InstanceStats) (`drifts`, `drifted_fields`) when it changed
    /// something. `POST /sandbox/instances/{id}/drift` (or
    /// [`SandboxHandle::drift`](crate::SandboxHandle::drift)) makes one happen now, with or
    /// without this setting.
    pub fn drift_after(mut self, delay: Duration) -> Self {
        self.drift.after = Some(delay);
        self
    }

    /// Only these settings drift (API or snake_case names; unknown names are ignored, and a
    /// list with no known name means nothing drifts). Default: every field of the call.
    pub fn drift_fields<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut fields: Vec<&'static str> = Vec::new();
        for name in names {
            if let Some(info) = greenapi_settings::FieldInfo::find(name.as_ref()) {
                if !fields.contains(&info.name) {
                    fields.push(info.name);
                }
            }
        }
        self.drift.fields = Some(fields);
        self
    }

    /// Scheduled drifts per instance at most (then changes stick); `None` (the default): no
    /// limit, every accepted call drifts. Drifts made with the drift endpoint do not count
    /// towards it.
    pub fn drift_limit(mut self, drifts: Option<u64>) -> Self {
        self.drift.limit = drifts;
        self
    }

    /// Seed of the fault injector (same seed, same sequence of faults).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Total calls allowed per instance (both methods); past it, HTTP 466. `None`: no quota.
    pub fn quota(mut self, calls: Option<u64>) -> Self {
        self.quota = calls;
        self
    }

    /// How long an accepted `setSettings` takes to become visible to `getSettings`
    /// (the API says "within 5 minutes"). Zero: at once.
    pub fn apply_delay(mut self, delay: Duration) -> Self {
        self.apply_delay = delay;
        self
    }

    /// How long an instance answers 400 "instance in starting process try later" after each
    /// accepted `setSettings` (which restarts it). Zero: never.
    pub fn restart_duration(mut self, duration: Duration) -> Self {
        self.restart_duration = duration;
        self
    }

    /// Largest `setSettings` body in bytes; larger ones get 413.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Persists accepted settings to `path` (atomically, before answering) and loads them
    /// from it on start. Tokens are never written.
    pub fn state_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.state_file = Some(path.into());
        self
    }

    /// Most connections served at once ([`DEFAULT_MAX_CONNECTIONS`]; 0 counts as 1). Further
    /// clients wait until a connection closes, which [`read_timeout`](Self::read_timeout)
    /// bounds for clients that send nothing or send slowly.
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.max_connections = connections.max(1);
        self
    }

    /// How long a client may take to send a request's headers (counted from the connection,
    /// or from the previous answer on a kept-alive one) and then its `setSettings` body
    /// ([`DEFAULT_READ_TIMEOUT`]; at least 1 ms). Past it, a connection still sending headers
    /// is closed and a body still arriving gets 408, so slow or silent clients cannot hold
    /// the server.
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// Port on 127.0.0.1; 0 (the default) picks a free one.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Serves HTTPS instead of plain HTTP (the default), with the certificate `tls` says;
    /// see [`TlsConfig`]. The handle's [`url`](crate::SandboxHandle::url) then starts with
    /// `https://`, and [`ca_pem`](crate::SandboxHandle::ca_pem) gives a generated
    /// certificate's CA for clients to trust.
    pub fn tls(mut self, tls: TlsConfig) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Listens on `n` loopback addresses, 127.0.0.1 to 127.0.0.`n` (clamped to 1–254), all on
    /// the same port and serving the same instances, so a fleet can be spread over several
    /// API hosts of one sandbox. A generated TLS certificate names every one of them.
    /// Linux routes all of 127.0.0.0/8 to the loopback interface; elsewhere the extra
    /// addresses may have to be added first, or the start fails.
    pub fn hosts(mut self, n: u8) -> Self {
        self.hosts = n.clamp(1, 254);
        self
    }

    /// Ids of the instances the sandbox will serve, in the order they were added.
    pub fn instance_ids(&self) -> Vec<u64> {
        self.effective_instances()
            .into_iter()
            .map(|(id, _)| id)
            .collect()
    }

    /// The state file, if persistence is on.
    pub fn state_file_path(&self) -> Option<&Path> {
        self.state_file.as_deref()
    }

    /// The configured instances, or the default one when none was added.
    pub(crate) fn effective_instances(&self) -> Vec<(u64, String)> {
        if self.instances.is_empty() {
            vec![(DEFAULT_INSTANCE_ID, DEFAULT_TOKEN.to_string())]
        } else {
            self.instances.clone()
        }
    }
}

impl fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("instances", &self.instance_ids())
            .field("tokens", &greenapi_settings::redact::Redacted)
            .field("port", &self.port)
            .field("rate_limit", &self.rate_limit)
            .field("latency", &self.latency)
            .field("error_rate", &self.error_rate)
            .field("seed", &self.seed)
            .field("quota", &self.quota)
            .field("apply_delay", &self.apply_delay)
            .field("restart_duration", &self.restart_duration)
            .field("body_limit", &self.body_limit)
            .field("state_file", &self.state_file)
            .field("max_connections", &self.max_connections)
            .field("read_timeout", &self.read_timeout)
            .field("lost_write_rate", &self.lost_write_rate)
            .field("drift_after", &self.drift.after)
            .field("drift_fields", &self.drift.fields)
            .field("drift_limit", &self.drift.limit)
            .field("notify", &self.notify)
            .field("tls", &self.tls)
            .field("hosts", &self.hosts)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_serves_the_default_instance_until_one_is_added() {
        let c = SandboxConfig::default();
        assert_eq!(
            c.effective_instances(),
            [(DEFAULT_INSTANCE_ID, DEFAULT_TOKEN.into())]
        );
        let c = c
            .with_instance(5, "a")
            .with_instance(6, "b")
            .with_instance(5, "c");
        assert_eq!(c.effective_instances(), [(5, "c".into()), (6, "b".into())]);
    }

    #[test]
    fn generated_instances_have_consecutive_ids_and_derived_tokens() {
        let c = SandboxConfig::instances_generated(3);
        let ids = c.instance_ids();
        assert_eq!(
            ids,
            [
                DEFAULT_INSTANCE_ID,
                DEFAULT_INSTANCE_ID + 1,
                DEFAULT_INSTANCE_ID + 2
            ]
        );
        assert_eq!(
            c.effective_instances()[1].1,
            generated_token(DEFAULT_INSTANCE_ID + 1)
        );
    }

    #[test]
    fn debug_never_shows_tokens() {
        let c = SandboxConfig::default().with_instance(1, "very-secret-token");
        let shown = format!("{c:?}");
        assert!(!shown.contains("very-secret-token"), "{shown}");
        assert!(shown.contains("<redacted>"));
    }

    #[test]
    fn error_rate_is_clamped_and_rate_limit_zero_means_off() {
        assert_eq!(SandboxConfig::default().error_rate(3.0).error_rate, 1.0);
        assert_eq!(SandboxConfig::default().error_rate(-1.0).error_rate, 0.0);
        assert_eq!(
            SandboxConfig::default().error_rate(f64::NAN).error_rate,
            0.0
        );
        assert_eq!(
            SandboxConfig::default().rate_limit(Some(0)).rate_limit,
            None
        );
        assert_eq!(SandboxConfig::default().rate_limit, Some(1));
        assert_eq!(
            SandboxConfig::default()
                .lost_write_rate(2.0)
                .lost_write_rate,
            1.0
        );
        assert_eq!(
            SandboxConfig::default()
                .lost_write_rate(f64::NAN)
                .lost_write_rate,
            0.0
        );
    }

    #[test]
    fn drift_fields_are_canonical_api_names_without_duplicates() {
        let c = SandboxConfig::default().drift_fields([
            "incoming_webhook",
            "incomingWebhook",
            "bogus",
            "webhookUrl",
        ]);
        assert_eq!(c.drift.fields, Some(vec!["incomingWebhook", "webhookUrl"]));
    }
}
