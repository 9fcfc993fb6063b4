//! What a web page must not be able to do to a sandbox on the same machine: change or reset
//! it. Browsers send cross-site "simple" requests (a form post, `fetch` in `no-cors` mode)
//! without asking first, so the server has to refuse them itself, before anything counts:
//!
//! - a request whose `Host` header names another host than this machine's loopback
//!   (`127.0.0.1` or any other 127.x.y.z, `localhost`, `[::1]`, with any port: an `ssh -L` tunnel changes it) gets
//!   403: after DNS rebinding, a page's same-origin `fetch` reaches the sandbox with the
//!   page's own host name and no `Origin`, and could read getSettings (the sandbox tokens are
//!   well known). A rebound name is never one of these;
//! - a request with an `Origin` header other than the sandbox's own (`http://127.0.0.1:PORT`
//!   or `http://localhost:PORT`; `https://` with TLS; each listening address with
//!   several hosts) gets 403, on every endpoint;
//! - `setSettings` needs `Content-Type: application/json`, and the `/sandbox/` endpoints
//!   refuse any other content type they are sent (a form's `text/plain`,
//!   `application/x-www-form-urlencoded`, `multipart/form-data`): 415.
//!
//! Clients that are not browsers send no `Origin`; the project's client and
//! `curl -H 'Content-Type: application/json'` pass unchanged.

use std::net::{Ipv4Addr, SocketAddr};

use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::Response;

use crate::request::{split_api_path, ApiMethod};
use crate::response;

/// The origins a page served by the sandbox itself would send, and the `Host` values of
/// requests addressed to the sandbox.
#[derive(Debug)]
pub(crate) struct OwnOrigins {
    /// The sandbox's own origins; the first is shown in refusals.
    allowed: Vec<String>,
    /// `Host` values naming the sandbox, shown in refusals.
    hosts: [String; 2],
    /// The listening addresses: 127.0.0.1, and 127.0.0.2… with several hosts.
    ips: Vec<Ipv4Addr>,
}

impl OwnOrigins {
    /// The origins of a sandbox speaking `scheme` (`http` or `https`) on `addrs` (loopback
    /// addresses sharing one port).
    pub(crate) fn new(scheme: &str, addrs: &[SocketAddr]) -> Self {
        let port = addrs.first().map_or(0, SocketAddr::port);
        let mut allowed: Vec<String> = addrs.iter().map(|a| format!("{scheme}://{a}")).collect();
        allowed.push(format!("{scheme}://localhost:{port}"));
        OwnOrigins {
            allowed,
            hosts: [format!("127.0.0.1:{port}"), format!("localhost:{port}")],
            ips: addrs
                .iter()
                .filter_map(|a| match a.ip() {
                    std::net::IpAddr::V4(ip) => Some(ip),
                    std::net::IpAddr::V6(_) => None,
                })
                .collect(),
        }
    }

    /// Whether a `Host` value names this machine's loopback: `127.0.0.1` (or another address
    /// the sandbox listens on), `localhost` (any case, a trailing dot allowed) or `[::1]`,
    /// with a port or none. A DNS-rebound name is never one of these.
    fn is_own_host(&self, host: &str) -> bool {
        let host = host.trim();
        let name = match host.rsplit_once(':') {
            Some((name, port)) if port.parse::<u16>().is_ok() => name,
            _ => host,
        };
        let name = name.strip_suffix('.').unwrap_or(name);
        name == "127.0.0.1"
            || name
                .parse::<Ipv4Addr>()
                .is_ok_and(|ip| self.ips.contains(&ip))
            || name == "[::1]"
            || name.eq_ignore_ascii_case("localhost")
    }

    fn contains(&self, origin: &str) -> bool {
        self.allowed
            .iter()
            .any(|own| own.eq_ignore_ascii_case(origin.trim()))
    }
}

/// Whether a `Content-Type` value names JSON (`application/json`, `application/*+json`,
/// parameters such as `charset` allowed).
fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Which content types a request may carry.
#[derive(Debug, PartialEq, Eq)]
enum BodyRule {
    /// Anything (other API requests; they read no body).
    Any,
    /// JSON, and the header is required (`setSettings`).
    Json,
    /// JSON if a content type is sent at all (`/sandbox/…`, which read no body).
    JsonOrNone,
}

fn body_rule(verb: &Method, path: &str) -> BodyRule {
    if path == "/sandbox" || path.starts_with("/sandbox/") {
        return BodyRule::JsonOrNone;
    }
    // The verb first: it is cheaper to look at than the path.
    let set_settings = || {
        split_api_path(path)
            .and_then(|(_, method, _)| ApiMethod::from_name(method))
            .is_some_and(|m| m == ApiMethod::SetSettings)
    };
    if verb == Method::POST && set_settings() {
        BodyRule::Json
    } else {
        BodyRule::Any
    }
}

/// The refusal for a request a browser page may have sent, if it is one; asked before any
/// handler runs (so nothing is counted or changed).
pub(crate) fn refusal(
    origins: &OwnOrigins,
    verb: &Method,
    path: &str,
    headers: &HeaderMap,
    authority: Option<&str>,
) -> Option<Response> {
    // No Host at all (an HTTP/1.0 client) passes: a browser always sends one. Over HTTP/2 the
    // host is the request's `:authority` (`authority`; also set by an absolute-form HTTP/1.1
    // request line), checked the same way.
    let hosts = headers
        .get_all(header::HOST)
        .iter()
        .map(|h| h.to_str().ok())
        .chain(authority.map(Some));
    for host in hosts {
        // Not echoed: the value comes from whoever sent the request.
        if !host.is_some_and(|h| origins.is_own_host(h)) {
            return Some(response::error(
                StatusCode::FORBIDDEN,
                format!(
                    "request refused: the Host header names another host (a web page after DNS \
                     rebinding?); the sandbox only answers requests to {} or {}",
                    origins.hosts[0], origins.hosts[1]
                ),
            ));
        }
    }
    for origin in headers.get_all(header::ORIGIN) {
        // Not echoed: the value comes from whoever sent the request.
        if !origin.to_str().is_ok_and(|o| origins.contains(o)) {
            return Some(response::error(
                StatusCode::FORBIDDEN,
                format!(
                    "cross-origin request refused: the Origin header names another site; \
                     the sandbox only answers clients that send no Origin or its own ({})",
                    origins.allowed[0]
                ),
            ));
        }
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or(""));
    let ok = match (body_rule(verb, path), content_type) {
        (BodyRule::Any, _) | (BodyRule::JsonOrNone, None) => true,
        (BodyRule::Json, None) => false,
        (_, Some(ct)) => is_json(ct),
    };
    (!ok).then(|| {
        response::error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the request body must be JSON: send `Content-Type: application/json`",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    const SET: &str = "/waInstance1/setSettings/t";

    fn status(verb: Method, path: &str, pairs: &[(header::HeaderName, &str)]) -> u16 {
        let addr = SocketAddr::from(([127, 0, 0, 1], 8080));
        refusal(
            &OwnOrigins::new("http", &[addr]),
            &verb,
            path,
            &headers(pairs),
            None,
        )
        .map_or(200, |r| r.status().as_u16())
    }

    /// `--tls` and `--hosts`: the origins and hosts of every listening address, with the
    /// scheme served, and no others.
    #[test]
    fn a_tls_sandbox_on_several_hosts_owns_each_address_with_https_only() {
        let addrs: Vec<SocketAddr> = (1..=3)
            .map(|i| SocketAddr::from(([127, 0, 0, i], 8443)))
            .collect();
        let origins = OwnOrigins::new("https", &addrs);
        let status = |pairs: &[(header::HeaderName, &str)]| {
            refusal(
                &origins,
                &Method::GET,
                "/sandbox/server",
                &headers(pairs),
                None,
            )
            .map_or(200, |r| r.status().as_u16())
        };
        // Over HTTP/2 the host is the request's `:authority`, not a Host header.
        let by_authority = |authority: &str| {
            refusal(
                &origins,
                &Method::GET,
                "/sandbox/server",
                &HeaderMap::new(),
                Some(authority),
            )
            .map_or(200, |r| r.status().as_u16())
        };
        assert_eq!(by_authority("127.0.0.2:8443"), 200);
        assert_eq!(by_authority("evil.example:8443"), 403);
        for own in ["127.0.0.1:8443", "127.0.0.3:8443", "localhost:8443"] {
            assert_eq!(status(&[(header::HOST, own)]), 200, "{own}");
        }
        assert_eq!(status(&[(header::HOST, "127.0.0.4:8443")]), 403);
        for own in ["https://127.0.0.2:8443", "https://localhost:8443"] {
            assert_eq!(status(&[(header::ORIGIN, own)]), 200, "{own}");
        }
        for other in ["http://127.0.0.1:8443", "https://127.0.0.4:8443"] {
            assert_eq!(status(&[(header::ORIGIN, other)]), 403, "{other}");
        }
    }

    /// Issue 18 item 5: the sandbox answered any `Host`, so after DNS rebinding a web page
    /// could read getSettings (webhookUrlToken included) with a same-origin request.
    #[test]
    fn only_requests_addressed_to_the_sandbox_pass() {
        let get = "/waInstance1/getSettings/t";
        for own in [
            "127.0.0.1:8080",
            "localhost:8080",
            "LOCALHOST:8080",
            "localhost.:8080",
            "127.0.0.1",
            "localhost:9000",
            "[::1]:8080",
        ] {
            assert_eq!(
                status(Method::GET, get, &[(header::HOST, own)]),
                200,
                "{own}"
            );
        }
        assert_eq!(status(Method::GET, get, &[]), 200, "no Host");
        for other in [
            "evil.example:8080",
            "evil.example",
            "127.0.0.1.evil.example:8080",
            "localhost.evil.example",
            "127.0.0.2:8080",
            "",
        ] {
            assert_eq!(
                status(Method::GET, get, &[(header::HOST, other)]),
                403,
                "{other}"
            );
            assert_eq!(
                status(Method::GET, "/sandbox/instances", &[(header::HOST, other)]),
                403
            );
        }
    }

    #[test]
    fn json_content_types_are_recognised() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(is_json("application/merge-patch+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/x-www-form-urlencoded"));
        assert!(!is_json("multipart/form-data; boundary=x"));
        assert!(!is_json("text/json+plain"));
        assert!(!is_json(""));
    }

    #[test]
    fn only_the_sandbox_own_origin_or_none_passes() {
        let ct = (header::CONTENT_TYPE, "application/json");
        assert_eq!(status(Method::POST, SET, std::slice::from_ref(&ct)), 200);
        for own in ["http://127.0.0.1:8080", "http://localhost:8080"] {
            assert_eq!(
                status(Method::POST, SET, &[ct.clone(), (header::ORIGIN, own)]),
                200
            );
        }
        for other in [
            "http://evil.example",
            "http://127.0.0.1:8081",
            "https://127.0.0.1:8080",
            "null",
        ] {
            assert_eq!(
                status(Method::POST, SET, &[ct.clone(), (header::ORIGIN, other)]),
                403,
                "{other}"
            );
            assert_eq!(
                status(
                    Method::GET,
                    "/sandbox/instances",
                    &[(header::ORIGIN, other)]
                ),
                403
            );
        }
    }

    #[test]
    fn set_settings_needs_json_and_sandbox_endpoints_refuse_other_types() {
        assert_eq!(status(Method::POST, SET, &[]), 415);
        assert_eq!(
            status(Method::POST, SET, &[(header::CONTENT_TYPE, "text/plain")]),
            415
        );
        assert_eq!(status(Method::POST, "/sandbox/reset", &[]), 200);
        assert_eq!(
            status(
                Method::POST,
                "/sandbox/reset",
                &[(header::CONTENT_TYPE, "application/x-www-form-urlencoded")]
            ),
            415
        );
        // getSettings reads no body: its content type does not matter.
        assert_eq!(
            status(
                Method::GET,
                "/waInstance1/getSettings/t",
                &[(header::CONTENT_TYPE, "text/plain")]
            ),
            200
        );
    }
}
