//! Request URLs built from an API URL parsed once.
//!
//! A fleet builds one client per instance, nearly all with the same API URL, and each client
//! sends one or two requests: parsing every request's full URL (scheme, host, IDNA, path) was
//! a tenth of the client's CPU per call. The API URL is parsed once per distinct text (by the
//! builder's check, which parses it anyway) and shared; a request URL is that parsed URL with
//! its path set, which parses the path only.

use std::fmt::Write as _;

use url::Url;

use crate::settings::{ApiMethod, INSTANCE_SEGMENT_PREFIX};

/// An API URL as the client keeps it (trimmed, no trailing `/`) and, when that text is
/// already in the parser's own form, the URL parsed from it.
#[derive(Debug)]
pub(crate) struct ApiBase {
    text: String,
    /// `Some` only when `text` serializes back to itself (plus the `/` of an empty path): then
    /// the text's path is exactly `parsed`'s, and setting the path of `parsed` to that path
    /// followed by the method's segments is the same parse, from the same state, as parsing
    /// the whole request URL. Otherwise (upper-case host, IDNA, default port, dot segments,
    /// percent-encoding…) each request URL is parsed whole, as before.
    parsed: Option<Url>,
    /// The host is this machine (`localhost`, `*.localhost`, 127.0.0.0/8, `::1`): requests
    /// go straight there, never through a proxy from `HTTP_PROXY`/`ALL_PROXY` (a proxy
    /// cannot reach this machine's loopback, and would see the token).
    loopback: bool,
    /// `scheme://host:port` (the port even when it is the scheme's default), for naming the
    /// server in transport errors: never the path, which holds the token.
    origin: String,
}

impl ApiBase {
    /// `text` is the checked API URL; `url` what it parsed to.
    pub(crate) fn new(text: String, url: Url) -> ApiBase {
        let canonical = url.as_str() == text
            || (url.path() == "/" && url.as_str().strip_suffix('/') == Some(text.as_str()));
        let loopback = match url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(d)) => {
                let d = d.trim_end_matches('.').to_ascii_lowercase();
                d == "localhost" || d.ends_with(".localhost")
            }
            None => false,
        };
        let origin = format!(
            "{}://{}:{}",
            url.scheme(),
            url.host().map(|h| h.to_string()).unwrap_or_default(),
            url.port_or_known_default().unwrap_or_default()
        );
        ApiBase {
            text,
            parsed: canonical.then_some(url),
            loopback,
            origin,
        }
    }

    /// Whether the host is this machine's loopback (see the field).
    pub(crate) fn is_loopback(&self) -> bool {
        self.loopback
    }

    /// Whether request URLs are built by setting the path of the parsed API URL (else each is
    /// parsed whole).
    #[cfg(test)]
    pub(crate) fn sets_path_only(&self) -> bool {
        self.parsed.is_some()
    }

    /// The server as `scheme://host:port`, e.g. `https://1101.api.greenapi.com:443`.
    pub(crate) fn origin(&self) -> &str {
        &self.origin
    }

    /// The API URL as given (trimmed, no trailing `/`).
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// The request URL of `method`: the same as `Url::parse(&method.url(..))`, `None` if that
    /// does not parse.
    pub(crate) fn method_url(
        &self,
        method: ApiMethod,
        id_instance: u64,
        token: &str,
    ) -> Option<Url> {
        let Some(base) = &self.parsed else {
            return Url::parse(&method.url(&self.text, id_instance, token)).ok();
        };
        // The text's own path: empty (serialized as "/") or exactly `base.path()`.
        let prefix = if self.text.len() < base.as_str().len() {
            ""
        } else {
            base.path()
        };
        let name = method.name();
        let mut path = String::with_capacity(
            prefix.len() + INSTANCE_SEGMENT_PREFIX.len() + name.len() + token.len() + 24,
        );
        path.push_str(prefix);
        path.push('/');
        path.push_str(INSTANCE_SEGMENT_PREFIX);
        let _ = write!(path, "{id_instance}");
        path.push('/');
        path.push_str(name);
        path.push('/');
        path.push_str(token);
        let mut url = base.clone();
        url.set_path(&path);
        Some(url)
    }
}
