//! [`ClientBuilder`]: credentials (given or from the environment), timeouts, retries, pacing,
//! and the checks that run before any request can be made (API URL shape, token characters).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;

use super::endpoint::ApiBase;
use super::net::{self, ProxyUrl};
use super::pool::Pools;
use super::{
    ApiToken, Client, Error, Inner, RetryPolicy, ENV_API_URL, ENV_CA_CERT, ENV_ID_INSTANCE,
    ENV_TOKEN,
};
use crate::redact::MIN_TOKEN_CHARS;
use crate::settings::{facts, ApiMethod};

/// Configures a [`Client`]. `Debug` never shows the token (nor the API URL, when the token
/// is in it: such a URL is refused by [`build`](ClientBuilder::build)).
#[derive(Clone)]
pub struct ClientBuilder {
    api_url: Option<String>,
    id_instance: Option<u64>,
    token: Option<ApiToken>,
    timeout: Duration,
    connect_timeout: Duration,
    retry: RetryPolicy,
    min_interval: Duration,
    pool_max_idle: Option<usize>,
    /// Extra roots, the proxy, plain HTTP through a proxy: one `Arc` shared with the clients
    /// whose pool this one shares, so sharing is a pointer comparison.
    net: net::Shared,
    /// Connection pools shared with another client (and the network set-up they were built
    /// with).
    pools: Option<Arc<Pools>>,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let url = match (&self.api_url, &self.token) {
            (Some(u), Some(t)) => Some(t.scrub(u)),
            (u, _) => u.clone(),
        };
        f.debug_struct("ClientBuilder")
            .field("api_url", &url)
            .field("id_instance", &self.id_instance)
            .field("api_token", &self.token)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("retry", &self.retry)
            .field("min_interval", &self.min_interval)
            .field("pool_max_idle", &self.pool_max_idle)
            .field("network", &self.net)
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            api_url: None,
            id_instance: None,
            token: None,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            min_interval: Duration::from_secs(1) / facts::RATE_LIMIT_REQUESTS_PER_SECOND.max(1),
            pool_max_idle: None,
            net: Default::default(),
            pools: None,
        }
    }
}

impl ClientBuilder {
    /// The instance's API URL from the console, e.g. `https://1101.api.greenapi.com`.
    #[must_use]
    pub fn api_url(mut self, url: impl Into<String>) -> Self {
        self.api_url = Some(url.into());
        self
    }

    /// The instance id (`idInstance`).
    #[must_use]
    pub fn id_instance(mut self, id: u64) -> Self {
        self.id_instance = Some(id);
        self
    }

    /// The API token (`apiTokenInstance`).
    #[must_use]
    pub fn api_token(mut self, token: impl Into<ApiToken>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Time allowed for one attempt, from sending to the last body byte (default 30 s).
    #[must_use]
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    /// Time allowed to connect (default 10 s).
    #[must_use]
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// How retryable failures are retried (default: [`RetryPolicy::default`]).
    #[must_use]
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The least time between two requests of this client. Defaults to the API's documented
    /// limit (1 request per second per instance); `Duration::ZERO` turns pacing off.
    #[must_use]
    pub fn min_interval(mut self, d: Duration) -> Self {
        self.min_interval = d;
        self
    }

    /// Most idle connections the connection pool keeps per host (default: no limit); more are
    /// closed as they are given back. A fleet sets it to its concurrency: every instance in
    /// flight holds at most one connection, so more idle ones than that are never used. Applies
    /// to a client that builds its own pool, not to one that
    /// [shares](ClientBuilder::share_connections_with) another's.
    #[must_use]
    pub fn pool_max_idle_per_host(mut self, max: usize) -> Self {
        self.pool_max_idle = Some(max);
        self
    }

    /// Shares `other`'s connection pool (and TLS set-up: its extra roots, its proxy) instead
    /// of creating a new one: for many clients of one process, e.g. one per instance of a
    /// fleet. Pacing stays per client. Changing the roots or the proxy afterwards makes this
    /// client build a pool of its own.
    #[must_use]
    pub fn share_connections_with(mut self, other: &Client) -> Self {
        self.pools = Some(other.inner.pools.clone());
        self.net = other.inner.pools.net().clone();
        self
    }

    /// Trusts the certificates of `pem` (one or more `-----BEGIN CERTIFICATE-----` blocks) as
    /// roots, **on top of** the platform's: for an API reached through a TLS-inspecting gateway
    /// or served with a private CA's certificate. Never turns certificate checks off (nothing
    /// does). An error if the text holds no certificate, one rustls cannot use as a root, or
    /// a private key.
    pub fn add_root_certificate(mut self, pem: &[u8]) -> Result<Self, Error> {
        let roots = net::roots_from_pem(pem, "the root certificate PEM")?;
        Arc::make_mut(&mut self.net).roots.extend(roots);
        Ok(self)
    }

    /// [`add_root_certificate`](ClientBuilder::add_root_certificate) with the PEM read from
    /// `path` (at most [`MAX_CA_FILE_BYTES`](crate::client::MAX_CA_FILE_BYTES)); what
    /// `--ca-cert FILE`, `GREEN_API_CA_CERT` and Python's `ca_cert=` use.
    pub fn ca_cert_file(mut self, path: impl AsRef<std::path::Path>) -> Result<Self, Error> {
        let roots = net::roots_from_file(path.as_ref())?;
        Arc::make_mut(&mut self.net).roots.extend(roots);
        Ok(self)
    }

    /// Sends every request through the proxy at `url` (`http://` or `https://`, credentials
    /// as `http://user:password@host:port`, never shown), instead of the environment's
    /// `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY`; hosts in `NO_PROXY` still go direct. For an
    /// `https://` API URL the proxy sees only `CONNECT host:port`; a plain-HTTP API URL is
    /// refused through a proxy unless [`allow_insecure_proxy`](ClientBuilder::allow_insecure_proxy).
    /// The rules for the environment's proxies are in the `client::net` module docs.
    pub fn proxy(mut self, url: &str) -> Result<Self, Error> {
        let proxy = ProxyUrl::parse(url)?;
        Arc::make_mut(&mut self.net).proxy = Some(proxy);
        Ok(self)
    }

    /// Offers HTTP/2 to `https://` API hosts (ALPN `h2` before `http/1.1`; default: HTTP/1.1
    /// only). Where the server takes it, the requests of the clients sharing a pool (a
    /// fleet's) travel as streams of one connection per host once that connection is made:
    /// one TLS handshake per host instead of one per request in flight, and fewer sockets.
    /// The sandbox offers it with `--offer-http2`. Off by default because it measured no
    /// better for a fleet run (BENCHMARKS.md, "TLS"): until a first connection has negotiated
    /// HTTP/2 the pool opens one per request in flight, as for HTTP/1.1, and each request
    /// costs a little more CPU.
    #[must_use]
    pub fn http2(mut self, on: bool) -> Self {
        if self.net.http2 != on {
            Arc::make_mut(&mut self.net).http2 = on;
        }
        self
    }

    /// Lets a plain-HTTP (`http://`) API URL go through a proxy (default: refused, nothing
    /// sent). Through a proxy, a plain-HTTP request reaches the proxy whole: the API token is
    /// in its path. Only for a proxy you trust with the token.
    #[must_use]
    pub fn allow_insecure_proxy(mut self, allow: bool) -> Self {
        if self.net.allow_insecure_proxy != allow {
            Arc::make_mut(&mut self.net).allow_insecure_proxy = allow;
        }
        self
    }

    /// Fills unset credentials from `GREEN_API_URL`, `GREEN_API_ID_INSTANCE`, `GREEN_API_TOKEN`,
    /// and, when no extra root was given, reads the CA file named by `GREEN_API_CA_CERT`.
    /// An empty (or all-blank) variable counts as unset.
    pub fn from_env(mut self) -> Result<Self, Error> {
        let var = |name| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        if self.net.roots.is_empty() {
            if let Some(path) = std::env::var_os(ENV_CA_CERT).filter(|p| !p.is_empty()) {
                self = self.ca_cert_file(std::path::PathBuf::from(path))?;
            }
        }
        if self.api_url.is_none() {
            self.api_url = var(ENV_API_URL);
        }
        if self.id_instance.is_none() {
            if let Some(v) = var(ENV_ID_INSTANCE) {
                // The value is not echoed: a token pasted into the wrong variable would leak.
                let id = v.trim().parse().map_err(|_| {
                    Error::Config(format!(
                        "{ENV_ID_INSTANCE} must be a number (the instance id; value not shown)"
                    ))
                })?;
                self.id_instance = Some(id);
            }
        }
        if self.token.is_none() {
            self.token = var(ENV_TOKEN).map(ApiToken::new);
        }
        Ok(self)
    }

    /// Runs every check of [`build`](ClientBuilder::build) (credentials present, API URL shape,
    /// token characters) without building anything: no connection pool, no TLS set-up. For
    /// checking many configurations up front, e.g. every line of a fleet's instances file.
    pub fn check(&self) -> Result<(), Error> {
        self.checked().map(|_| ())
    }

    /// The checks of [`build`](ClientBuilder::build): the API URL as the client keeps it
    /// (shared with the clients built from the same text).
    fn checked(&self) -> Result<Arc<ApiBase>, Error> {
        let mut missing = Vec::new();
        if self.api_url.is_none() {
            missing.push(format!("api_url ({ENV_API_URL})"));
        }
        if self.id_instance.is_none() {
            missing.push(format!("id_instance ({ENV_ID_INSTANCE})"));
        }
        if self.token.as_ref().is_none_or(|t| t.expose().is_empty()) {
            missing.push(format!("api_token ({ENV_TOKEN})"));
        }
        if !missing.is_empty() {
            return Err(Error::Config(format!("missing {}", missing.join(", "))));
        }
        let (Some(api_url), Some(_), Some(token)) = (&self.api_url, self.id_instance, &self.token)
        else {
            return Err(Error::Config("missing credentials".into()));
        };
        // Before the URL's checks: their messages may quote the URL, which the scrub does not
        // clean of a token this short.
        if !token.is_long_enough() {
            return Err(Error::Config(format!(
                "the API token is shorter than {MIN_TOKEN_CHARS} characters, so it is not a GREEN-API token (those are about 50; value not shown)"
            )));
        }
        let checked = check_api_url_memo(api_url, token)?;
        check_token_not_in_url(api_url, token)?;
        let api_url = checked;
        self.net.check_route(&api_url)?;
        if token
            .expose()
            .chars()
            .any(|c| c.is_control() || c == '/' || c == '?' || c == '#' || c.is_whitespace())
        {
            return Err(Error::Config(
                "the API token contains characters that cannot appear in a URL path segment (value not shown)".into(),
            ));
        }
        Ok(api_url)
    }

    /// Checks the configuration and builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let api_url = self.checked()?;
        let (Some(id_instance), Some(token)) = (self.id_instance, self.token) else {
            return Err(Error::Config("missing credentials".into()));
        };
        // A loopback API URL (the sandbox) is reached directly, never through a proxy from
        // the environment (an explicit proxy is used for it: see `net`). Shared pools are used
        // if they were built with the same roots and proxy; they hold a client for either
        // choice (see `pool`).
        let direct = self.net.is_direct(&api_url);
        let pools = match self.pools {
            Some(shared) if Arc::ptr_eq(shared.net(), &self.net) => shared,
            _ => Pools::new(self.net, self.pool_max_idle, self.connect_timeout),
        };
        let http = pools.client(direct)?;
        let urls = ApiMethod::ALL
            .iter()
            .map(|_| std::sync::OnceLock::new())
            .collect();
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                urls,
                base: api_url,
                pools,
                id_instance,
                token,
                timeout: self.timeout,
                retry: self.retry,
                min_interval: self.min_interval,
                next_slot: Mutex::new(None),
            }),
        })
    }
}

/// [`check_api_url`], remembering this thread's last URL that passed: a fleet builds (or
/// checks) one client per instance, nearly all with the same few API URLs, and the check
/// (a full URL parse) was a few per cent of a fleet's CPU. The check depends on nothing but
/// the text, so a remembered pass is the same answer. The clients built from that text
/// share the URL it parsed to (their request URLs are built from it: see `endpoint`).
fn check_api_url_memo(raw: &str, token: &ApiToken) -> Result<Arc<ApiBase>, Error> {
    thread_local! {
        static LAST_PASSED: std::cell::RefCell<Option<(String, Arc<ApiBase>)>> =
            const { std::cell::RefCell::new(None) };
    }
    let known = LAST_PASSED.with(|last| {
        last.borrow()
            .as_ref()
            .filter(|(given, _)| given == raw)
            .map(|(_, kept)| kept.clone())
    });
    if let Some(kept) = known {
        return Ok(kept);
    }
    let (kept, url) = check_api_url(raw, token)?;
    let kept = Arc::new(ApiBase::new(kept, url));
    LAST_PASSED.with(|last| *last.borrow_mut() = Some((raw.to_string(), kept.clone())));
    Ok(kept)
}

/// The API URL must not hold the token (as the CLI checks it too): anywhere in the URL, in
/// any ASCII case or percent-encoded (a path segment, a host label). Only tokens of
/// [`MIN_TOKEN_CHARS`] or more get here, so an ordinary host name is not mistaken for one. A
/// client built with such a URL would show the token wherever it shows its URL (`Debug`,
/// `api_url()`, Python's `repr`, progress lines, fleet reports). The message shows nothing of
/// the URL.
fn check_token_not_in_url(raw: &str, token: &ApiToken) -> Result<(), Error> {
    if token.appears_in(raw.trim()) {
        return Err(Error::Config(
            "api_url contains the API token; give the API's base URL, e.g. https://1101.api.greenapi.com (value not shown)".into(),
        ));
    }
    Ok(())
}

/// Checks the API URL: the text the client keeps, and what it parsed to. Messages never quote
/// it whole: a URL copied from a request line holds the token
/// (`.../waInstance1/getSettings/TOKEN`); at most its scheme and host are shown.
/// The host is not shown either when the token is in it; nothing else is scrubbed, so a
/// one-letter placeholder token does not blank that letter all through the message.
fn check_api_url(raw: &str, token: &ApiToken) -> Result<(String, url::Url), Error> {
    const EXAMPLE: &str = "e.g. https://1101.api.greenapi.com";
    let trimmed = raw.trim().trim_end_matches('/');
    let url = url::Url::parse(trimmed).map_err(|e| {
        Error::Config(format!(
            "api_url is not a URL ({e}; value not shown); {EXAMPLE}"
        ))
    })?;
    let host = url.host_str().unwrap_or_default();
    if !matches!(url.scheme(), "http" | "https") || host.is_empty() {
        return Err(Error::Config(format!(
            "api_url must be an absolute http(s) URL (value not shown); {EXAMPLE}"
        )));
    }
    let at = if token.appears_in(host) {
        format!(
            "{}://(host not shown: it holds the API token)",
            url.scheme()
        )
    } else {
        format!("{}://{host}", url.scheme())
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::Config(format!(
            "api_url {at} must not carry a user name or password"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::Config(format!(
            "api_url {at} must not have a query or fragment"
        )));
    }
    let method_path = format!("/{}", crate::settings::INSTANCE_SEGMENT_PREFIX).to_ascii_lowercase();
    if url.path().to_ascii_lowercase().contains(&method_path) {
        return Err(Error::Config(format!(
            "api_url {at} must be the instance's base URL, not a method URL (it has a /waInstance... path; the rest is not shown, it may hold the token); {EXAMPLE}"
        )));
    }
    Ok((trimmed.to_string(), url))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builder(url: &str, token: &str) -> ClientBuilder {
        ClientBuilder::default()
            .api_url(url)
            .id_instance(1101000001)
            .api_token(token)
    }

    #[test]
    fn check_refuses_exactly_what_build_refuses() {
        let cases = [
            ("https://1101.api.greenapi.com", "tok-4f1c9a"),
            ("https://1101.api.greenapi.com/", "tok-4f1c9a"),
            ("http://127.0.0.1:9", "tok-4f1c9a"),
            (
                "https://a.example/waInstance1/getSettings/tok-4f1c9a",
                "tok-4f1c9a",
            ),
            ("https://u:p@a.example", "tok-4f1c9a"),
            ("https://a.example?x=1", "tok-4f1c9a"),
            ("ftp://a.example", "tok-4f1c9a"),
            ("not a url", "tok-4f1c9a"),
            ("http://a.example:99999", "tok-4f1c9a"),
            ("https://a.example", "to k"),
            ("https://a.example", "a/b"),
            ("https://a.example", ""),
            ("https://a.example", "short"),
        ];
        // Twice: the second time the last URL that passed is remembered.
        for _ in 0..2 {
            for (url, token) in cases {
                let checked = builder(url, token).check().map_err(|e| e.to_string());
                let built = builder(url, token)
                    .build()
                    .map(|_| ())
                    .map_err(|e| e.to_string());
                assert_eq!(checked, built, "{url} / {token:?}");
            }
        }
        assert!(ClientBuilder::default().check().is_err());
    }

    /// Issue 18 item 12: a client (and so Python's `Client`) accepted an API URL with the
    /// token as a path segment and then showed the token in `Debug`/`repr` and `api_url()`.
    #[test]
    fn an_api_url_holding_the_token_is_refused_without_showing_it() {
        let long = "SEKRIT<>É-0123456789abcdef";
        for (url, token) in [
            ("https://h.example/prefix/SEKRIT<>É-0123456789abcdef", long),
            (
                "https://h.example/p/sekrit%3C%3E%C3%89-0123456789ABCDEF/",
                long,
            ),
            (
                "https://sekrit-0123456789abcdef.h.example",
                "SEKRIT-0123456789abcdef",
            ),
            ("http://127.0.0.1:8080/abc-4f1c", "abc-4f1c"),
            ("http://127.0.0.1:8080/x/ABC-4F1C/", "abc-4f1c"),
        ] {
            let e = builder(url, token).build().unwrap_err().to_string();
            assert!(e.contains("api_url contains the API token"), "{url}: {e}");
            assert!(
                !e.to_lowercase().contains("sekrit") && !e.to_lowercase().contains("abc"),
                "{e}"
            );
            assert_eq!(builder(url, token).check().unwrap_err().to_string(), e);
        }
        let b = builder(
            "https://h.example/p/SEKRIT-0123456789abcdef",
            "SEKRIT-0123456789abcdef",
        );
        assert!(!format!("{b:?}").contains("SEKRIT"), "{b:?}");
    }

    /// Issue 19: a placeholder token (`"x"`) used to be accepted and then scrubbed out of every
    /// message. A token shorter than 8 characters is refused when the client is built, with the
    /// rule named and the token not shown, before anything could be sent.
    #[test]
    fn a_token_shorter_than_eight_characters_is_refused_naming_the_rule_not_the_token() {
        for token in ["Z", "Zq7", "Zq7-4k2"] {
            let e = builder("https://1101.api.greenapi.com", token)
                .build()
                .unwrap_err();
            let text = e.to_string();
            assert!(matches!(e, Error::Config(_)), "{e:?}");
            assert!(text.contains("shorter than 8 characters"), "{text}");
            assert!(!text.contains(token), "{text}");
        }
        assert!(builder("https://1101.api.greenapi.com", "q7z-4k2p")
            .build()
            .is_ok());
        // The URL holds the short token and has a query: the token rule answers first, so
        // the URL (and the token in it) is never quoted.
        let e = Client::builder()
            .api_url("https://abc1234.example?q")
            .id_instance(1)
            .api_token("abc1234")
            .build()
            .unwrap_err()
            .to_string();
        assert!(e.contains("shorter than 8 characters"), "{e}");
        assert!(!e.contains("abc1234"), "{e}");
    }

    /// A one-letter token used to be scrubbed from every message: "api_url is no<redacted> a URL".
    #[test]
    fn a_short_token_not_in_the_url_is_not_scrubbed_from_the_message() {
        // The one-letter token is refused for its length, in a message left whole (no letter
        // of it replaced by a marker).
        let e = builder("not a url", "t").build().unwrap_err().to_string();
        assert!(
            e.contains("the API token is shorter than 8 characters"),
            "{e}"
        );
        assert!(!e.contains("redacted"), "{e}");
    }

    #[test]
    fn a_remembered_url_gives_the_same_client_url() {
        for url in [
            "https://a.example/",
            "https://a.example/",
            "https://b.example",
        ] {
            let c = builder(url, "tok-4f1c9a").build().unwrap();
            assert_eq!(c.api_url(), url.trim_end_matches('/'));
        }
        let err = builder("https://a.example?q", "tok-4f1c9a")
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("must not have a query"), "{err}");
    }

    /// Every method's request URL, built from the API URL parsed once, is byte for byte the
    /// full parse of `ApiMethod::url`, for every API URL and token the builder accepts.
    #[test]
    fn request_urls_are_the_full_parse_of_the_method_url() {
        let urls = [
            "https://1101.api.greenapi.com",
            "https://1101.api.greenapi.com/",
            "https://1101.api.greenapi.com//",
            "  https://1101.api.greenapi.com  ",
            "http://127.0.0.1:8080",
            "http://127.0.0.1:80",
            "https://127.0.0.1:443/",
            "http://127.1",
            "http://0x7f.0.0.1:9",
            "http://[::1]:9",
            "http://[::1]",
            "http://[2001:DB8::1]/",
            "http://[::ffff:127.0.0.1]:8080",
            "https://HOST.Example",
            "HTTPS://host.example",
            "https://host.example.",
            "https://bücher.example",
            "https://xn--bcher-kva.example",
            "https://host.example:65535",
            "https://host.example:0",
            "https://h/prefix",
            "https://h/prefix/",
            "https://h:8443/a/b/c",
            "https://h/a/./b",
            "https://h/a/../b",
            "https://h/a/.",
            "https://h/a/..",
            "https://h/%2e%2e/x",
            "https://h/%7Efoo",
            "https://h/~foo",
            "https://h/a b",
            "https://h/p%20q",
            "https://h/ä/ö",
            "https://h/a%2Fb",
            "https://h/;x=1",
            "https://h/a|b",
            "https://h/{x}",
            "https://h\\path",
            "https://h/a\\b",
            "http://h/a\tb",
            "https://h//x",
            "https://h/waIn",
        ];
        let tokens = [
            "tok-4f1c9a",
            "d75b3a66374942c5b3c019c698abc2067e151558acbd412f9e",
            ".",
            "..",
            "%2e",
            "%2E%2e",
            ".%2E",
            "a\\b",
            "\\",
            "é",
            "💡",
            "tok%20",
            "%",
            "%zz",
            "a|b",
            "{x}",
            "a\"b",
            "<x>",
            "`",
            "a;b",
            "a=b&c",
            "ü.ü",
            "a:b",
            "@",
            "[x]",
            "^",
            "~",
            "'",
            "a\u{200b}b",
            "\u{feff}x",
            "a\u{7f}b",
        ];
        let ids = [0, 1, 1101000001, u64::MAX];
        let mut checked = 0;
        let mut fast = 0;
        let mut compare = |url: &str, token: &str| {
            // The builder refuses tokens shorter than 8 characters (`.`, `..`), but a request
            // URL is built the same way for any token: the builder's other checks decide
            // (padding adds no character they refuse), the raw token is substituted.
            let Ok(base) = builder(url, &format!("{token}-padding")).checked() else {
                return;
            };
            if base.sets_path_only() {
                fast += 1;
            }
            for &id in &ids {
                for &m in ApiMethod::ALL {
                    let built = base.method_url(m, id, token).map(String::from);
                    let whole = url::Url::parse(&m.url(base.text(), id, token))
                        .ok()
                        .map(String::from);
                    assert_eq!(built, whole, "{url:?} {token:?} {id}");
                    checked += 1;
                }
            }
        };
        for url in urls {
            for token in tokens {
                compare(url, token);
            }
        }
        // Random tokens and path prefixes, from characters a URL treats specially.
        let pool: Vec<char> = ".%\\|{}<>\"'`^~@:;=&[]()!$*+,-_aZ09éß💡\u{200b}\u{7f}"
            .chars()
            .collect();
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for _ in 0..3000 {
            let mut random =
                |len: usize| -> String { (0..len).map(|_| pool[next(pool.len())]).collect() };
            let len = 1 + random(1).len() % 8 + random(1).chars().count();
            let (a, b, token) = (random(3), random(2), random(len));
            let host = ["http://127.0.0.1:9", "https://h.example", "http://[::1]"][next(3)];
            for url in [
                host.to_string(),
                format!("{host}/{a}"),
                format!("{host}/{a}/{b}"),
            ] {
                compare(&url, &token);
                compare(&url, &a);
            }
        }
        assert!(checked > 10_000, "{checked}");
        assert!(fast > 1_000, "{fast}");
    }

    /// Transport errors name the server by this: scheme, host and port (the scheme's default
    /// when none is given), never the path (a prefix path, and the request path with the
    /// token, stay out).
    #[test]
    fn the_origin_is_scheme_host_and_port_only() {
        for (url, origin) in [
            (
                "https://1101.api.greenapi.com",
                "https://1101.api.greenapi.com:443",
            ),
            ("http://127.0.0.1:8080/prefix/", "http://127.0.0.1:8080"),
            ("http://[::1]:9", "http://[::1]:9"),
            ("https://HOST.example/a/b", "https://host.example:443"),
            ("http://h.example", "http://h.example:80"),
        ] {
            assert_eq!(
                builder(url, "tok-4f1c9a").checked().unwrap().origin(),
                origin
            );
        }
    }

    #[test]
    fn canonical_api_urls_set_the_path_only() {
        for (url, fast) in [
            ("https://1101.api.greenapi.com", true),
            ("https://1101.api.greenapi.com/", true),
            ("http://127.0.0.1:8080", true),
            ("http://[::1]:9", true),
            ("https://h/prefix", true),
            ("https://HOST.example", false),
            ("https://bücher.example", false),
            ("http://h:80", false),
            ("https://h/a/./b", false),
        ] {
            let base = builder(url, "tok-4f1c9a").checked().unwrap();
            assert_eq!(base.sets_path_only(), fast, "{url}");
        }
    }
}
