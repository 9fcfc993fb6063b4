//! How the client reaches the API host on a real network: extra trusted roots (a private CA,
//! a TLS-inspecting gateway's), the proxy (given, or from the environment as curl reads it),
//! and the rule that a plain-HTTP API URL is not sent through a proxy unless asked.
//!
//! Certificate checks are never turned off: extra roots are added to the platform's (reqwest's
//! `rustls-platform-verifier`: on Linux the system store, honouring `SSL_CERT_FILE` /
//! `SSL_CERT_DIR`), never used instead of them, and no option here skips verification.
//!
//! Proxies from the environment are read by reqwest (hyper-util's matcher), when the client is
//! built: `HTTPS_PROXY` for `https://` API URLs, `HTTP_PROXY` for `http://` ones, `ALL_PROXY`
//! for both when the scheme's own is unset; each upper case first, then lower case (unlike
//! curl, which reads only lower-case `http_proxy`); a variable that is set wins even if empty
//! (an empty value then means no proxy); all of them are ignored when `REQUEST_METHOD` is set
//! (a CGI script, where `HTTP_PROXY` may come from a request header). A value without a scheme
//! is `http://`. `NO_PROXY` (else `no_proxy`) is a comma-separated list, blanks around entries
//! ignored: an IP address or a CIDR network matches addresses in it; `*` matches every host;
//! any other entry is a domain that matches itself and its subdomains, with or without a
//! leading dot (`example.com` and `.example.com` both match `api.example.com` and
//! `example.com`), ASCII case ignored; an entry with a port (`host:8080`) matches nothing.
//! A loopback API URL (`localhost`, 127.0.0.0/8, `::1`: the sandbox) never goes through an
//! environment proxy, which could not reach this machine's loopback anyway. A proxy given
//! explicitly ([`ClientBuilder::proxy`](super::ClientBuilder::proxy), `--proxy`) replaces the
//! environment's and applies to every API URL, loopback too, except hosts in `NO_PROXY` (as
//! curl's `-x` does).

use std::io::Read as _;
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::CertificateDer;

use super::endpoint::ApiBase;
use super::Error;

/// The largest CA certificate file read (a bundle of every public root is about 250 kB).
pub const MAX_CA_FILE_BYTES: u64 = 1 << 20;

/// A proxy URL. Its credentials (`http://user:password@proxy:3128`) are sent to the proxy
/// only (`Proxy-Authorization`) and never shown: `Debug` and every message name the proxy as
/// `scheme://host:port`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct ProxyUrl {
    url: url::Url,
}

impl std::fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown())
    }
}

impl ProxyUrl {
    /// Checks a proxy URL: `http://` or `https://` (reqwest here has no SOCKS support), with a
    /// host. Messages never quote the URL (it may hold a password).
    pub(crate) fn parse(raw: &str) -> Result<ProxyUrl, Error> {
        let raw = raw.trim();
        // A bare `host:port` is `http://host:port`, as curl and the environment variables take it.
        let with_scheme = if raw.contains("://") {
            raw.to_string()
        } else {
            format!("http://{raw}")
        };
        let url = url::Url::parse(&with_scheme).map_err(|e| {
            Error::Config(format!(
                "the proxy is not a URL ({e}; value not shown); e.g. http://proxy.example:3128"
            ))
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::Config(format!(
                "the proxy must be an http:// or https:// URL, not {}:// (SOCKS is not supported)",
                url.scheme()
            )));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(Error::Config(
                "the proxy URL has no host (value not shown); e.g. http://proxy.example:3128"
                    .into(),
            ));
        }
        Ok(ProxyUrl { url })
    }

    /// The proxy as `scheme://host:port`: what messages show (never the credentials).
    pub(crate) fn shown(&self) -> String {
        shown(&self.url)
    }

    /// The whole URL, credentials included, for reqwest only.
    fn expose(&self) -> &str {
        self.url.as_str()
    }
}

/// The routing decision of [`Network::is_direct`]: direct unless a proxy was given, or the
/// environment's proxies take a host that is not loopback.
fn goes_direct(proxy_given: bool, loopback: bool, env_proxy_takes_it: bool) -> bool {
    !proxy_given && (loopback || !env_proxy_takes_it)
}

fn shown(url: &url::Url) -> String {
    format!(
        "{}://{}:{}",
        url.scheme(),
        url.host().map(|h| h.to_string()).unwrap_or_default(),
        url.port_or_known_default().unwrap_or_default()
    )
}

/// Extra roots, the proxy and whether a plain-HTTP API URL may go through it: shared (one
/// `Arc`) by the clients that share a connection pool, and what decides whether they can.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Network {
    pub(crate) roots: Vec<CertificateDer<'static>>,
    pub(crate) proxy: Option<ProxyUrl>,
    pub(crate) allow_insecure_proxy: bool,
    /// Offer HTTP/2 in the TLS handshake (ALPN `h2`, then `http/1.1`); off: HTTP/1.1 only.
    pub(crate) http2: bool,
}

impl std::fmt::Debug for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Network")
            .field("extra_roots", &self.roots.len())
            .field("proxy", &self.proxy)
            .field("allow_insecure_proxy", &self.allow_insecure_proxy)
            .field("http2", &self.http2)
            .finish()
    }
}

impl Network {
    /// Whether requests to `base` go straight to it, with no proxy: no proxy was given, and
    /// the host is this machine's loopback (environment proxies are not used for it) or the
    /// environment's proxies do not take it (none set, or `NO_PROXY`).
    ///
    /// Clients share a connection pool only when they agree on this, so it must be true for
    /// every host when no proxy is in play: a fleet's pool placeholder is loopback, and a
    /// remote instance that answered "not direct" got an HTTP client (and TLS handshakes) of
    /// its own, one per instance.
    pub(crate) fn is_direct(&self, base: &ApiBase) -> bool {
        goes_direct(
            self.proxy.is_some(),
            base.is_loopback(),
            self.proxy.is_none() && !base.is_loopback() && self.proxy_for(base).is_some(),
        )
    }

    /// The proxy requests to `base` would go through, as `scheme://host:port`, decided as
    /// reqwest decides it (the same matcher, `NO_PROXY` included).
    pub(crate) fn proxy_for(&self, base: &ApiBase) -> Option<String> {
        use hyper_util::client::proxy::matcher::Matcher;
        let matcher = match &self.proxy {
            Some(p) => Matcher::builder()
                .all(p.expose().to_string())
                .no(no_proxy_from_env())
                .build(),
            None if base.is_loopback() => return None,
            None => Matcher::from_env(),
        };
        let uri: http::Uri = base.origin().parse().ok()?;
        let intercept = matcher.intercept(&uri)?;
        // The matcher's URI carries no credentials (they are kept apart for the header).
        let shown = url::Url::parse(&intercept.uri().to_string())
            .map(|u| shown(&u))
            .unwrap_or_else(|_| "the proxy".into());
        Some(shown)
    }

    /// Refuses a plain-HTTP API URL that would go through a proxy (unless allowed): the proxy
    /// would get the whole request line, token included in its path, in clear.
    pub(crate) fn check_route(&self, base: &ApiBase) -> Result<(), Error> {
        if self.allow_insecure_proxy || !base.origin().starts_with("http://") {
            return Ok(());
        }
        if let Some(proxy) = self.proxy_for(base) {
            return Err(Error::Config(format!(
                "the API URL {} is plain HTTP and would go through the proxy {proxy}: a proxy \
                 gets a plain-HTTP request whole, and the API token is in its path. Use an \
                 https:// API URL (through a proxy only the CONNECT host:port is in clear), add \
                 the host to NO_PROXY, or allow it explicitly (--allow-insecure-proxy, \
                 allow_insecure_proxy(true)); nothing was sent",
                base.origin()
            )));
        }
        Ok(())
    }

    /// Sets reqwest up with the extra roots and the proxy.
    pub(crate) fn configure(
        &self,
        mut http: reqwest::ClientBuilder,
        direct: bool,
    ) -> Result<reqwest::ClientBuilder, Error> {
        if !self.roots.is_empty() {
            // Merged with the platform's roots, never instead of them.
            http = http.tls_certs_merge(
                self.roots
                    .iter()
                    .map(|der| reqwest::Certificate::from_der(der))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| Error::Config(format!("an extra root certificate: {e}")))?,
            );
        }
        if !self.http2 {
            http = http.http1_only();
        }
        if let Some(p) = &self.proxy {
            let proxy = reqwest::Proxy::all(p.expose())
                .map_err(|_| {
                    Error::Config(format!("the proxy {} is not usable by reqwest", p.shown()))
                })?
                .no_proxy(reqwest::NoProxy::from_env());
            http = http.proxy(proxy);
        } else if direct {
            http = http.no_proxy();
        }
        Ok(http)
    }

    /// `text` with the credentials of every proxy that may be in use (given, or from the
    /// environment) replaced: an error chain is not expected to quote them, and must not.
    pub(crate) fn scrub_proxy_credentials(&self, text: &str) -> String {
        let mut out = text.to_string();
        let env = [
            "HTTPS_PROXY",
            "https_proxy",
            "HTTP_PROXY",
            "http_proxy",
            "ALL_PROXY",
            "all_proxy",
        ]
        .iter()
        .filter_map(|n| std::env::var(n).ok())
        .filter_map(|v| ProxyUrl::parse(&v).ok());
        for p in self.proxy.iter().cloned().chain(env) {
            for secret in [p.url.password().unwrap_or_default(), p.url.username()] {
                // Short ones are not scrubbed: blanking one letter all through a message hides
                // nothing and mangles the rest.
                if secret.len() < 4 {
                    continue;
                }
                let decoded = percent_decode(secret);
                for s in [secret, decoded.as_str()] {
                    if !s.is_empty() {
                        out = out.replace(s, crate::redact::REDACTED);
                    }
                }
            }
        }
        out
    }
}

fn no_proxy_from_env() -> String {
    std::env::var("NO_PROXY")
        .or_else(|_| std::env::var("no_proxy"))
        .unwrap_or_default()
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The certificates of a PEM text (one or more `-----BEGIN CERTIFICATE-----` blocks), each
/// checked to be a certificate rustls can use as a root. `what` names the source in messages.
pub(crate) fn roots_from_pem(
    pem: &[u8],
    what: &str,
) -> Result<Vec<CertificateDer<'static>>, Error> {
    let text = String::from_utf8_lossy(pem);
    if text.contains("PRIVATE KEY-----") {
        return Err(Error::Config(format!(
            "{what} holds a private key: give only the CA's certificate(s) (PEM, -----BEGIN CERTIFICATE-----), never a key"
        )));
    }
    let mut roots = Vec::new();
    for (i, cert) in CertificateDer::pem_slice_iter(pem).enumerate() {
        let cert = cert.map_err(|e| {
            Error::Config(format!(
                "{what}: certificate {} is not valid PEM ({e})",
                i + 1
            ))
        })?;
        rustls::RootCertStore::empty()
            .add(cert.clone())
            .map_err(|e| {
                Error::Config(format!(
                    "{what}: certificate {} cannot be a trusted root ({e})",
                    i + 1
                ))
            })?;
        roots.push(cert);
    }
    if roots.is_empty() {
        return Err(Error::Config(format!(
            "{what} holds no PEM certificate (-----BEGIN CERTIFICATE-----); a DER file converts with `openssl x509 -inform der -in FILE -out FILE.pem`"
        )));
    }
    Ok(roots)
}

/// Reads a CA certificate file (PEM, one or more certificates), at most
/// [`MAX_CA_FILE_BYTES`].
pub(crate) fn roots_from_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, Error> {
    let what = format!("the CA certificate file {}", path.display());
    let file =
        std::fs::File::open(path).map_err(|e| Error::Config(format!("cannot read {what}: {e}")))?;
    let mut bytes = Vec::new();
    file.take(MAX_CA_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::Config(format!("cannot read {what}: {e}")))?;
    if bytes.len() as u64 > MAX_CA_FILE_BYTES {
        return Err(Error::Config(format!(
            "{what} is larger than {MAX_CA_FILE_BYTES} bytes: not a CA certificate file"
        )));
    }
    roots_from_pem(&bytes, &what)
}

/// A shared, unchanged network set-up: `Arc` so a fleet's clients compare it by pointer.
pub(crate) type Shared = Arc<Network>;

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (issue 22, fleets over TLS): a remote host with no proxy in play counted as
    /// "not direct", so it never shared the fleet's pool (built for a loopback placeholder):
    /// one HTTP client and one TLS handshake per instance.
    #[test]
    fn with_no_proxy_in_play_every_host_goes_direct_and_can_share_a_pool() {
        assert!(
            goes_direct(false, false, false),
            "remote, no proxy anywhere"
        );
        assert!(goes_direct(false, true, false), "loopback");
        assert!(
            goes_direct(false, true, true),
            "loopback skips environment proxies"
        );
        assert!(
            !goes_direct(false, false, true),
            "an environment proxy takes the host"
        );
        assert!(
            !goes_direct(true, true, false),
            "an explicit proxy takes every host"
        );
        assert!(!goes_direct(true, false, false));
    }

    #[test]
    fn a_proxy_is_shown_as_scheme_host_port_never_with_its_credentials() {
        for (raw, shown) in [
            (
                "http://alice:S3cret-pw@proxy.example:3128",
                "http://proxy.example:3128",
            ),
            (
                "https://alice:S3cret-pw@proxy.example",
                "https://proxy.example:443",
            ),
            ("proxy.example:8080", "http://proxy.example:8080"),
            (
                "http://alice%40corp:S3cret%2Dpw@[::1]:3128/ignored",
                "http://[::1]:3128",
            ),
        ] {
            let p = ProxyUrl::parse(raw).unwrap();
            assert_eq!(p.shown(), shown);
            assert_eq!(format!("{p:?}"), shown);
            let net = Network {
                proxy: Some(p),
                ..Network::default()
            };
            assert!(!format!("{net:?}").contains("S3cret"), "{net:?}");
        }
    }

    #[test]
    fn proxy_credentials_are_scrubbed_raw_and_percent_decoded() {
        let net = Network {
            proxy: Some(ProxyUrl::parse("http://alice-corp:S3cret%2Dpw@p.example:1").unwrap()),
            ..Network::default()
        };
        let text = net.scrub_proxy_credentials("407 for alice-corp with S3cret-pw / S3cret%2Dpw");
        assert!(
            !text.contains("S3cret") && !text.contains("alice-corp"),
            "{text}"
        );
    }

    #[test]
    fn pem_that_is_not_a_usable_certificate_is_refused_naming_its_position() {
        let err = roots_from_pem(
            b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n",
            "the test PEM",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("the test PEM: certificate 1 cannot be a trusted root"),
            "{err}"
        );
        let err = roots_from_pem(b"hello", "x").unwrap_err().to_string();
        assert!(err.contains("holds no PEM certificate"), "{err}");
    }
}
