//! HTTPS for the sandbox (`--tls`): where the certificate comes from ([`TlsConfig`]), the
//! one `rustls::ServerConfig` every connection shares, and the throw-away CA's PEM file.
//!
//! The provider is rustls' `ring`, the tree's only one (no aws-lc). The server speaks
//! HTTP/1.1 only and says so in ALPN.

mod files;
mod generated;

use std::fmt;
use std::io;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio_rustls::TlsAcceptor;

/// Largest certificate or key file read for `--tls-cert` / `--tls-key` (1 MiB): a real chain
/// is a few KiB, and a wrong path (a log, a disk image) must not be read whole.
pub const MAX_PEM_FILE_BYTES: u64 = 1024 * 1024;

/// Where a TLS sandbox's certificate comes from. Either one made at start for `localhost` and
/// every address the sandbox listens on, signed by a throw-away CA whose certificate (PEM) is
/// written to a file for clients to trust, or the caller's own certificate and key.
///
/// ```
/// use greenapi_settings_sandbox::{SandboxConfig, TlsConfig};
///
/// let config = SandboxConfig::default().tls(TlsConfig::generated());
/// assert!(format!("{config:?}").contains("Generated"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct TlsConfig {
    source: Source,
    http2: bool,
}

#[derive(Clone, PartialEq, Eq)]
enum Source {
    Generated { ca_out: Option<PathBuf> },
    Files { cert: PathBuf, key: PathBuf },
}

impl TlsConfig {
    /// A certificate made at start by a throw-away CA (its key never leaves memory); the CA's
    /// PEM goes to a file in a temporary directory that lives as long as the server.
    pub fn generated() -> Self {
        TlsConfig {
            source: Source::Generated { ca_out: None },
            http2: false,
        }
    }

    /// Like [`generated`](Self::generated), the CA's PEM written to `path` instead (replaced
    /// atomically, never written through a symlink; left in place when the server stops).
    pub fn generated_with_ca_out(path: impl Into<PathBuf>) -> Self {
        TlsConfig {
            source: Source::Generated {
                ca_out: Some(path.into()),
            },
            http2: false,
        }
    }

    /// The certificate chain (PEM, leaf first) in `cert` and its private key (PEM: PKCS#8,
    /// PKCS#1 or SEC1) in `key`. Both are read at start, at most [`MAX_PEM_FILE_BYTES`] each;
    /// an unreadable, oversized or malformed file, or a key that does not belong to the
    /// certificate, fails the start with `InvalidInput` and a message naming the file.
    pub fn files(cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        TlsConfig {
            source: Source::Files {
                cert: cert.into(),
                key: key.into(),
            },
            http2: false,
        }
    }

    /// Also offers HTTP/2 (`h2` in ALPN, before `http/1.1`): a client that speaks it (the
    /// Rust client and the CLI do) sends all its requests to this host as streams of one
    /// connection. Off by default: HTTP/1.1 only. Counted in
    /// [`ServerStats::http2_connections`](crate::ServerStats::http2_connections).
    #[must_use]
    pub fn http2(mut self, on: bool) -> Self {
        self.http2 = on;
        self
    }

    /// Whether HTTP/2 is offered (see [`http2`](Self::http2)).
    pub fn offers_http2(&self) -> bool {
        self.http2
    }
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Source::Generated { ca_out } => f
                .debug_struct("Generated")
                .field("ca_out", ca_out)
                .field("http2", &self.http2)
                .finish(),
            Source::Files { cert, key } => f
                .debug_struct("Files")
                .field("cert", cert)
                .field("key", key)
                .field("http2", &self.http2)
                .finish(),
        }
    }
}

/// The throw-away CA of a generated certificate: its PEM and the file holding it.
#[derive(Debug)]
pub(crate) struct CaFile {
    pub(crate) pem: String,
    pub(crate) path: PathBuf,
    /// The temporary directory holding `path` unless the caller chose the file; removed
    /// when the server's handle goes.
    _dir: Option<tempfile::TempDir>,
}

/// What a TLS sandbox needs while it runs.
pub(crate) struct Prepared {
    /// Built once; each connection clones the `Arc` inside.
    pub(crate) acceptor: TlsAcceptor,
    /// A generated certificate's CA (PEM) and where the caller wants it, for
    /// [`Prepared::write_ca`] once the server is bound.
    ca: Option<(String, Option<PathBuf>)>,
}

impl Prepared {
    /// Writes a generated certificate's CA to its file (done once the ports are bound, so a
    /// server that cannot start leaves no CA file behind).
    pub(crate) fn write_ca(&self) -> io::Result<Option<CaFile>> {
        self.ca
            .as_ref()
            .map(|(pem, out)| write_ca(pem, out.as_deref()))
            .transpose()
    }
}

/// Reads or makes the certificate for a sandbox listening on `ips` and builds the server
/// configuration. Errors about the caller's files are `InvalidInput`.
pub(crate) fn prepare(config: &TlsConfig, ips: &[Ipv4Addr]) -> io::Result<Prepared> {
    let (chain, key, ca) = match &config.source {
        Source::Files { cert, key } => {
            let chain = files::read_chain(cert)?;
            let key_der = files::read_key(key)?;
            (chain, key_der, None)
        }
        Source::Generated { ca_out } => {
            let made = generated::make(ips)?;
            (made.chain, made.key, Some((made.ca_pem, ca_out.clone())))
        }
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| match &config.source {
            Source::Files { cert, key } => files::unusable(cert, key, &e),
            Source::Generated { .. } => io::Error::other(e),
        })?;
    server.alpn_protocols = if config.http2 {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    };
    Ok(Prepared {
        acceptor: TlsAcceptor::from(Arc::new(server)),
        ca,
    })
}

/// Writes the CA's PEM to `out`, or to `ca.pem` in a new temporary directory.
fn write_ca(pem: &str, out: Option<&Path>) -> io::Result<CaFile> {
    use std::io::Write;
    let (path, dir) = match out {
        Some(path) => (path.to_path_buf(), None),
        None => {
            let dir = tempfile::Builder::new()
                .prefix("greenapi-sandbox-tls-")
                .tempdir()?;
            (dir.path().join("ca.pem"), Some(dir))
        }
    };
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let named = |e: io::Error| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("cannot write the CA certificate to {}: {e}", path.display()),
        )
    };
    // A new O_EXCL file renamed over the target: a planted symlink is replaced, not followed.
    let mut file = tempfile::NamedTempFile::new_in(&parent).map_err(named)?;
    file.write_all(pem.as_bytes()).map_err(named)?;
    file.as_file().sync_all().map_err(named)?;
    file.persist(&path).map_err(|e| named(e.error))?;
    Ok(CaFile {
        pem: pem.to_string(),
        path,
        _dir: dir,
    })
}
