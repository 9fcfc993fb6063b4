//! The floor of one HTTPS round trip (issue 22): [`super::floor`]'s bare hyper server and
//! client with tokio-rustls (ring, the tree's only provider) between hyper and the socket, on
//! one kept-alive connection. The server's certificate is made here for 127.0.0.1 by a CA of
//! its own (rcgen); the bare client trusts that CA and, for the rows against the TLS sandbox,
//! the sandbox's. HTTP/1.1 only (ALPN), as the sandbox. Everything on 127.0.0.1.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::client::Resumption;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::{TlsAcceptor, TlsConnector};

use super::floor::{self, FloorClient};

/// A bare HTTPS server: [`floor::serve`] behind a TLS acceptor. Stops when dropped.
pub struct TlsFloorServer {
    pub addr: SocketAddr,
    /// The PEM of the CA that signed its certificate (for the clients to trust).
    pub ca_pem: String,
    runtime: Option<tokio::runtime::Runtime>,
}

impl TlsFloorServer {
    /// Like [`floor::FloorServer::start`], over TLS. Its one worker thread is named like the
    /// plain floor server's (`floor-server…`), so [`super::cpu`] pins and counts it alike.
    pub fn start(get_body: Vec<u8>, post_body: Vec<u8>) -> Self {
        let (ca_pem, chain, key) = certificate();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("certificate");
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let (runtime, listener, addr) = floor::server_runtime("floor-server-tls");
        let (get_body, post_body) = (Bytes::from(get_body), Bytes::from(post_body));
        runtime.spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                let (acceptor, get_body, post_body) =
                    (acceptor.clone(), get_body.clone(), post_body.clone());
                tokio::spawn(async move {
                    if let Ok(tls) = acceptor.accept(stream).await {
                        floor::serve(TokioIo::new(tls), get_body, post_body).await;
                    }
                });
            }
        });
        TlsFloorServer {
            addr,
            ca_pem,
            runtime: Some(runtime),
        }
    }
}

impl Drop for TlsFloorServer {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// A CA and a leaf it signed for 127.0.0.1 (ECDSA P-256, rcgen's default, as the sandbox's):
/// the CA's PEM, the chain and the leaf's key.
fn certificate() -> (String, Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().expect("CA key")).expect("CA");
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string()]).expect("leaf params");
    let key = KeyPair::generate().expect("leaf key");
    let cert = leaf.signed_by(&key, &ca).expect("leaf");
    (
        ca.pem(),
        vec![cert.der().clone()],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    )
}

/// The bare client's TLS side: trusts the CAs in `ca_pems` only, HTTP/1.1 in ALPN, and no
/// session resumption, so that every new connection makes a full handshake (what a fresh
/// process pays, and the worst case the handshake rows measure).
pub fn connector(ca_pems: &[&str]) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for pem in ca_pems {
        for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            roots.add(cert.expect("CA PEM")).expect("CA as a root");
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config.resumption = Resumption::disabled();
    TlsConnector::from(Arc::new(config))
}

/// The bare hyper client of [`floor`] on one new TLS connection to `addr` (the certificate
/// checked for its IP address). Must be called inside the runtime that drives the requests.
pub async fn connect(connector: &TlsConnector, addr: SocketAddr) -> FloorClient {
    let stream = TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let name = ServerName::IpAddress(addr.ip().into());
    let tls = connector
        .connect(name, stream)
        .await
        .expect("TLS handshake");
    FloorClient::over(TokioIo::new(tls), addr.to_string()).await
}
