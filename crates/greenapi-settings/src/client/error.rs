//! The client's error type: one variant per failure a caller handles differently.

use std::time::Duration;

use crate::validation::ValidationError;

/// Everything that can go wrong talking to the API. No variant ever carries the API token:
/// URLs are stripped from transport errors and server text is scrubbed of the token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The patch was invalid; nothing was sent. Carries every violation.
    #[error(transparent)]
    Validation(#[from] ValidationError),

    /// HTTP 401 (or a 200 body naming 401): the API token is wrong. Do not retry.
    #[error("authentication failed (HTTP 401): the API token was not accepted")]
    Auth,

    /// HTTP 403: the idInstance or the API URL is wrong. Do not retry.
    #[error("forbidden (HTTP 403): wrong idInstance or API URL")]
    Forbidden,

    /// HTTP 429 after the retry budget was spent: too many requests.
    #[error("rate limited (HTTP 429){}", retry_after_text(.retry_after))]
    RateLimited {
        /// The server's `Retry-After`, if it sent one.
        retry_after: Option<Duration>,
    },

    /// HTTP 466: the plan's quota of calls is used up. Do not retry.
    #[error("quota exceeded (HTTP 466): {used}/{total} calls of {method} used ({description})")]
    QuotaExceeded {
        /// The method the quota applies to.
        method: String,
        /// Calls used.
        used: u64,
        /// Calls allowed.
        total: u64,
        /// The server's status word, e.g. `QUOTE_EXCEEDED`.
        status: String,
        /// The server's explanation.
        description: String,
    },

    /// HTTP 400 saying the instance is starting, not authorized, expired or deleted.
    #[error("instance not ready (HTTP 400): {message}")]
    InstanceNotReady {
        /// The server's message.
        message: String,
    },

    /// Another 4xx: the server rejected the request (bad data, wrong HTTP method, too large).
    #[error("request rejected (HTTP {status}): {message}")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// The server's message.
        message: String,
    },

    /// HTTP 5xx after the retry budget was spent.
    #[error("server error (HTTP {status}): {message}")]
    Server {
        /// HTTP status.
        status: u16,
        /// The server's message, if any.
        message: String,
    },

    /// A 3xx answer. The API never redirects, so this is a wrong API URL or a hostile server
    /// in between: the redirect is not followed and nothing is re-sent anywhere.
    #[error("the server answered HTTP {status} redirecting to {target}; the API never redirects: check the API URL (the redirect was not followed, nothing was re-sent)")]
    Redirect {
        /// HTTP status (300..=399).
        status: u16,
        /// Where it pointed: `scheme://host[:port]` only (never a path or query), or
        /// `the same host`, or `nowhere` when the answer had no usable `Location`.
        target: String,
    },

    /// The request did not complete: connection refused or reset, DNS, TLS, ... The text
    /// starts with the server as `scheme://host:port` (never the path, which holds the token).
    #[error("transport error: {0}")]
    Transport(String),

    /// TLS failed with `host` (`scheme://host:port`, never the path, which holds the token),
    /// for the plain reason in `cause`: the certificate is not trusted, expired, issued for
    /// another name, the server does not speak TLS, or the handshake timed out. Permanent
    /// except a handshake timeout: retrying cannot make a certificate trusted, so it is not
    /// retried.
    #[error("TLS error with {host}: {cause}")]
    Tls {
        /// The server, as `scheme://host:port`.
        host: String,
        /// Why the TLS connection failed.
        cause: TlsCause,
    },

    /// No complete response within the configured timeout.
    #[error("request to {host} timed out after {after:?}")]
    Timeout {
        /// The timeout that ran out.
        after: Duration,
        /// The server, as `scheme://host:port` (never the path, which holds the token).
        host: String,
    },

    /// The response could not be understood. The body is kept (truncated, token scrubbed).
    #[error("cannot decode the response (HTTP {status}): {reason}; body: {body}")]
    Decode {
        /// HTTP status.
        status: u16,
        /// What was wrong.
        reason: String,
        /// The start of the body.
        body: String,
    },

    /// The client was configured wrongly (bad API URL, missing credentials, ...).
    #[error("invalid client configuration: {0}")]
    Config(String),
}

/// Why a TLS connection failed, in the words an operator acts on. Found by walking the
/// error's source chain down to rustls' own error (see `client::tls_cause`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsCause {
    /// The certificate chain does not lead to a trusted root: self-signed, or signed by a CA
    /// (a private one, a TLS-inspecting proxy's) that is not among the platform's roots nor
    /// the extra ones given (`--ca-cert`).
    NotTrusted,
    /// The certificate (or one in its chain) has expired.
    Expired,
    /// The certificate is not valid yet (its notBefore is in the future: a wrong clock?).
    NotYetValid,
    /// The certificate was issued for other names than the API URL's host.
    WrongName,
    /// The certificate was revoked by its issuer.
    Revoked,
    /// The server did not answer the TLS handshake with TLS: most often an `https://` URL
    /// pointing at a plain-HTTP port.
    NotTls,
    /// The TCP connection was made but no TLS handshake completed within the connect timeout.
    HandshakeTimeout {
        /// The connect timeout that ran out.
        after: Duration,
    },
    /// Any other TLS failure (an alert from the server, no protocol version or cipher in
    /// common, a malformed certificate): rustls' own description.
    Other(String),
}

impl std::fmt::Display for TlsCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TlsCause::NotTrusted => f.write_str(
                "certificate not trusted (self-signed, or signed by a CA that is not among the trusted roots)",
            ),
            TlsCause::Expired => f.write_str("certificate expired"),
            TlsCause::NotYetValid => {
                f.write_str("certificate not valid yet (check this machine's clock)")
            }
            TlsCause::WrongName => {
                f.write_str("certificate issued for another name than the API URL's host")
            }
            TlsCause::Revoked => f.write_str("certificate revoked"),
            TlsCause::NotTls => f.write_str(
                "the server does not speak TLS there (an https:// URL to a plain-HTTP port?)",
            ),
            TlsCause::HandshakeTimeout { after } => write!(
                f,
                "TLS handshake timed out: connected, but no handshake within {after:?}"
            ),
            TlsCause::Other(m) => f.write_str(m),
        }
    }
}

impl TlsCause {
    /// A short, stable name: `notTrusted`, `expired`, `notYetValid`, `wrongName`, `revoked`,
    /// `notTls`, `handshakeTimeout`, `other`.
    pub fn name(&self) -> &'static str {
        match self {
            TlsCause::NotTrusted => "notTrusted",
            TlsCause::Expired => "expired",
            TlsCause::NotYetValid => "notYetValid",
            TlsCause::WrongName => "wrongName",
            TlsCause::Revoked => "revoked",
            TlsCause::NotTls => "notTls",
            TlsCause::HandshakeTimeout { .. } => "handshakeTimeout",
            TlsCause::Other(_) => "other",
        }
    }
}

fn retry_after_text(d: &Option<Duration>) -> String {
    match d {
        Some(d) => format!("; retry after {} s", d.as_secs_f64().ceil()),
        None => String::new(),
    }
}

impl Error {
    /// Whether retrying the same request later may succeed (429, 502/503/504, transport,
    /// timeout). The client already retries these within its [`RetryPolicy`](crate::RetryPolicy).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::RateLimited { .. } | Error::Transport(_) | Error::Timeout { .. } => true,
            Error::Tls { cause, .. } => matches!(cause, TlsCause::HandshakeTimeout { .. }),
            Error::Server { status, .. } => matches!(status, 502..=504),
            _ => false,
        }
    }

    /// The same error with `secret` scrubbed from every text the server supplied (for the
    /// webhook token of a setSettings body that a server might echo back).
    pub(crate) fn scrubbed(self, secret: &super::ApiToken) -> Error {
        let s = |t: String| super::response::unsplit(secret.scrub(&t), secret);
        match self {
            Error::QuotaExceeded {
                method,
                used,
                total,
                status,
                description,
            } => Error::QuotaExceeded {
                method: s(method),
                used,
                total,
                status: s(status),
                description: s(description),
            },
            Error::InstanceNotReady { message } => Error::InstanceNotReady {
                message: s(message),
            },
            Error::Rejected { status, message } => Error::Rejected {
                status,
                message: s(message),
            },
            Error::Server { status, message } => Error::Server {
                status,
                message: s(message),
            },
            Error::Redirect { status, target } => Error::Redirect {
                status,
                target: s(target),
            },
            Error::Transport(m) => Error::Transport(s(m)),
            Error::Tls {
                host,
                cause: TlsCause::Other(m),
            } => Error::Tls {
                host,
                cause: TlsCause::Other(s(m)),
            },
            Error::Decode {
                status,
                reason,
                body,
            } => Error::Decode {
                status,
                reason: s(reason),
                body: s(body),
            },
            other => other,
        }
    }

    /// A short, stable name of the error kind, e.g. for reports and logs: `validation`,
    /// `auth`, `forbidden`, `rateLimited`, `quotaExceeded`, `instanceNotReady`, `rejected`,
    /// `server`, `redirect`, `transport`, `tls`, `timeout`, `decode`, `config`.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Validation(_) => "validation",
            Error::Auth => "auth",
            Error::Forbidden => "forbidden",
            Error::RateLimited { .. } => "rateLimited",
            Error::QuotaExceeded { .. } => "quotaExceeded",
            Error::InstanceNotReady { .. } => "instanceNotReady",
            Error::Rejected { .. } => "rejected",
            Error::Server { .. } => "server",
            Error::Redirect { .. } => "redirect",
            Error::Transport(_) => "transport",
            Error::Tls { .. } => "tls",
            Error::Timeout { .. } => "timeout",
            Error::Decode { .. } => "decode",
            Error::Config(_) => "config",
        }
    }

    /// The HTTP status behind this error, if the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Auth => Some(401),
            Error::Forbidden => Some(403),
            Error::RateLimited { .. } => Some(429),
            Error::QuotaExceeded { .. } => Some(466),
            Error::InstanceNotReady { .. } => Some(400),
            Error::Rejected { status, .. }
            | Error::Server { status, .. }
            | Error::Decode { status, .. }
            | Error::Redirect { status, .. } => Some(*status),
            _ => None,
        }
    }
}
