//! Real-network parts for tests, all on 127.0.0.1 (issue 22 part 2): certificates made in the
//! test (rcgen), a TLS front relaying to a plain sandbox, a server that accepts and never
//! answers, and a CONNECT proxy that records every byte it receives in clear. Each server
//! runs on a thread of its own with a one-thread runtime, so sync and async tests use them
//! alike. Shared by the e2e tests and the CLI's (`#[path]`).
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A throw-away certificate authority.
pub struct Ca {
    issuer: rcgen::CertifiedIssuer<'static, rcgen::KeyPair>,
}

/// How a leaf certificate's validity is set.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// Valid now (rcgen's default: 1975 to 4096).
    Current,
    /// Valid in 2020 only.
    Expired,
}

/// A certificate chain and its key, for a TLS server.
pub struct Leaf {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

impl Ca {
    pub fn new(name: &str) -> Ca {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        Ca {
            issuer: rcgen::CertifiedIssuer::self_signed(params, key).unwrap(),
        }
    }

    /// The CA's certificate as PEM.
    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A leaf for `names` (DNS names or IP addresses), signed by this CA.
    pub fn leaf(&self, names: &[&str], validity: Validity) -> Leaf {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        if validity == Validity::Expired {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2020, 12, 31);
        }
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Leaf {
            chain: vec![cert.der().clone(), self.issuer.der().clone()],
            key: PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        }
    }
}

/// A self-signed certificate for `names`.
pub fn self_signed(names: &[&str]) -> Leaf {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert =
        rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .unwrap()
            .self_signed(&key)
            .unwrap();
    Leaf {
        chain: vec![cert.der().clone()],
        key: PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    }
}

/// Runs `serve(listener)` on a thread of its own (a one-thread runtime) on a fresh 127.0.0.1
/// port, and returns the port's address. The thread lives as long as the test process.
fn spawn<F, Fut>(serve: F) -> SocketAddr
where
    F: FnOnce(TcpListener) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    std_listener.set_nonblocking(true).unwrap();
    let addr = std_listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = TcpListener::from_std(std_listener).unwrap();
            serve(listener).await;
        });
    });
    addr
}

/// An HTTPS front on 127.0.0.1 serving `leaf`, relaying each connection's plain bytes to
/// `backend` (a plain sandbox). `host_to` rewrites a `host: NAME` header the client sent for a
/// name that is not this machine (the sandbox refuses a foreign Host) to `host: 127.0.0.1`.
/// Returns the address.
pub fn tls_front(leaf: Leaf, backend: SocketAddr, rewrite_host: Option<&str>) -> SocketAddr {
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(leaf.chain, leaf.key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let rewrite = rewrite_host.map(|h| format!("host: {h}").into_bytes());
    spawn(move |listener| async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let rewrite = rewrite.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let Ok(back) = TcpStream::connect(backend).await else {
                    return;
                };
                relay(tls, back, rewrite).await;
            });
        }
    })
}

/// Copies both ways until either side closes; client-to-server chunks get `rewrite` (a
/// `host: NAME` header) replaced with `host: 127.0.0.1`. A test request is written in one
/// piece, so the header is never split across reads.
async fn relay<A>(client: A, server: TcpStream, rewrite: Option<Vec<u8>>)
where
    A: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut cr, mut cw) = tokio::io::split(client);
    let (mut sr, mut sw) = server.into_split();
    let up = async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match cr.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let mut chunk = buf[..n].to_vec();
            if let Some(from) = &rewrite {
                chunk = replace_ignore_case(&chunk, from, b"host: 127.0.0.1");
            }
            if sw.write_all(&chunk).await.is_err() {
                break;
            }
        }
        let _ = sw.shutdown().await;
    };
    let down = async move {
        let _ = tokio::io::copy(&mut sr, &mut cw).await;
        let _ = cw.shutdown().await;
    };
    tokio::join!(up, down);
}

fn replace_ignore_case(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let lower = hay.to_ascii_lowercase();
    match lower.windows(from.len()).position(|w| w == from) {
        Some(at) => [&hay[..at], to, &hay[at + from.len()..]].concat(),
        None => hay.to_vec(),
    }
}

/// A server on 127.0.0.1 that accepts connections and never sends a byte (a TLS handshake
/// to it stalls). Connections are held until the client closes them.
pub fn silent_server() -> SocketAddr {
    spawn(|listener| async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                while let Ok(n) = stream.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                }
            });
        }
    })
}

/// What a [`connect_proxy`] does with a `CONNECT`.
#[derive(Clone, Copy)]
pub enum ProxyMode {
    /// Answers 200 and relays to the requested host:port, or to `to` when given (for a name
    /// that resolves nowhere), rewriting a `host: NAME` header as [`tls_front`] does not: the
    /// tunnel carries TLS, which the proxy cannot read.
    Tunnel(Option<SocketAddr>),
    /// Answers `407 Proxy Authentication Required`.
    AuthRequired,
    /// Closes the connection without answering.
    Close,
}

/// Every byte a proxy received from its clients, per connection, in arrival order.
#[derive(Clone, Default)]
pub struct Seen(Arc<Mutex<Vec<Vec<u8>>>>);

impl Seen {
    /// All bytes of every connection, concatenated (lossy UTF-8).
    pub fn text(&self) -> String {
        let all = self.0.lock().unwrap();
        all.iter()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("\n---\n")
    }

    /// The first line each connection sent.
    pub fn first_lines(&self) -> Vec<String> {
        let all = self.0.lock().unwrap();
        all.iter()
            .map(|c| {
                String::from_utf8_lossy(c)
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect()
    }

    /// How many connections the proxy accepted.
    pub fn connections(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

/// A loopback HTTP proxy understanding `CONNECT` only (a plain-HTTP request through it is
/// answered 502 after it was recorded). Records every byte each client sends, tunnel
/// included. Returns its address and the record.
pub fn connect_proxy(mode: ProxyMode) -> (SocketAddr, Seen) {
    let seen = Seen::default();
    let record = seen.clone();
    let addr = spawn(move |listener| async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let record = record.clone();
            let index = {
                let mut all = record.0.lock().unwrap();
                all.push(Vec::new());
                all.len() - 1
            };
            tokio::spawn(async move {
                // The request head, bounded.
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
                    match client.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            head.extend_from_slice(&buf[..n]);
                            record.0.lock().unwrap()[index].extend_from_slice(&buf[..n]);
                        }
                    }
                }
                let text = String::from_utf8_lossy(&head).into_owned();
                let mut words = text.split_whitespace();
                let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
                match mode {
                    // Dropping the stream closes it.
                    ProxyMode::Close => {}
                    ProxyMode::AuthRequired => {
                        let _ = client
                            .write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n")
                            .await;
                    }
                    ProxyMode::Tunnel(to) => {
                        if method != "CONNECT" {
                            let _ = client
                                .write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                                .await;
                            return;
                        }
                        let dest = match to {
                            Some(a) => TcpStream::connect(a).await,
                            None => TcpStream::connect(target).await,
                        };
                        let Ok(server) = dest else {
                            let _ = client
                                .write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                                .await;
                            return;
                        };
                        if client
                            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                            .await
                            .is_err()
                        {
                            return;
                        }
                        let (mut cr, mut cw) = client.into_split();
                        let (mut sr, mut sw) = server.into_split();
                        let up = async {
                            let mut buf = vec![0u8; 16 * 1024];
                            loop {
                                let n = match cr.read(&mut buf).await {
                                    Ok(0) | Err(_) => break,
                                    Ok(n) => n,
                                };
                                record.0.lock().unwrap()[index].extend_from_slice(&buf[..n]);
                                if sw.write_all(&buf[..n]).await.is_err() {
                                    break;
                                }
                            }
                            let _ = sw.shutdown().await;
                        };
                        let down = async {
                            let _ = tokio::io::copy(&mut sr, &mut cw).await;
                            let _ = cw.shutdown().await;
                        };
                        tokio::join!(up, down);
                    }
                }
            });
        }
    });
    (addr, seen)
}
