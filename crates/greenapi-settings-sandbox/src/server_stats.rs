//! [`ServerStats`]: what the server as a whole has seen (connections, TLS handshakes), for
//! tests that prove connection reuse and for `GET /sandbox/server`.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{json, Value};

/// Server-wide counters since the start (a [reset](crate::SandboxHandle::reset) leaves them:
/// compare two readings). The inspection request that reads them over HTTP counts too.
///
/// With keep-alive, N requests of one client make 1 connection and, over TLS, 1 handshake;
/// N fresh clients make N of each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerStats {
    /// Whether the server speaks HTTPS.
    pub tls: bool,
    /// TCP connections accepted, on every listening address.
    pub connections: u64,
    /// TLS handshakes completed (0 without TLS).
    pub tls_handshakes: u64,
    /// Connections closed before a handshake completed: the client refused the certificate,
    /// spoke plain HTTP, or sent nothing in time (0 without TLS).
    pub tls_handshake_failures: u64,
    /// Connections that spoke HTTP/2 (negotiated in the TLS handshake, when the server offers
    /// it: [`TlsConfig::http2`](crate::TlsConfig::http2)); each carries many requests at once.
    pub http2_connections: u64,
}

impl ServerStats {
    /// The inspection JSON: `tls`, `connections`, `tlsHandshakes`, `tlsHandshakeFailures`,
    /// `http2Connections`.
    pub fn to_json_value(&self) -> Value {
        json!({
            "tls": self.tls,
            "connections": self.connections,
            "tlsHandshakes": self.tls_handshakes,
            "tlsHandshakeFailures": self.tls_handshake_failures,
            "http2Connections": self.http2_connections,
        })
    }
}

/// The live counters behind [`ServerStats`]; relaxed atomics, since readers only want totals.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    connections: AtomicU64,
    tls_handshakes: AtomicU64,
    tls_handshake_failures: AtomicU64,
    http2_connections: AtomicU64,
}

impl Counters {
    pub(crate) fn connection(&self) {
        self.connections.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn handshake(&self) {
        self.tls_handshakes.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn http2_connection(&self) {
        self.http2_connections.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn handshake_failed(&self) {
        self.tls_handshake_failures.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn read(&self, tls: bool) -> ServerStats {
        ServerStats {
            tls,
            connections: self.connections.load(Ordering::Relaxed),
            tls_handshakes: self.tls_handshakes.load(Ordering::Relaxed),
            tls_handshake_failures: self.tls_handshake_failures.load(Ordering::Relaxed),
            http2_connections: self.http2_connections.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_add_up_and_show_under_api_style_names() {
        let c = Counters::default();
        c.connection();
        c.connection();
        c.handshake();
        c.handshake_failed();
        c.http2_connection();
        let stats = c.read(true);
        assert_eq!(
            stats.to_json_value(),
            json!({"tls": true, "connections": 2, "tlsHandshakes": 1, "tlsHandshakeFailures": 1, "http2Connections": 1})
        );
    }
}
