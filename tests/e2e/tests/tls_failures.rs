//! TLS failures are permanent (issue 18 item 14): a certificate the client does not trust, or
//! a server that does not speak TLS, is `Error::Tls` after one connection, not retried like a
//! network blip.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use greenapi_settings::{Error, RetryPolicy};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::AsyncWriteExt;

/// A fixed self-signed certificate for 127.0.0.1 (`tests/data`, made once with openssl): no
/// trust store has its issuer.
fn untrusted_tls() -> tokio_rustls::TlsAcceptor {
    let cert = CertificateDer::from(include_bytes!("data/untrusted-cert.der").to_vec());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        include_bytes!("data/untrusted-key.der").to_vec(),
    ));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert], key)
    .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// A loopback server counting the connections it accepts; `tls` serves the untrusted
/// certificate, otherwise it answers plain HTTP.
async fn server(tls: bool) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    let acceptor = untrusted_tls();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if tls {
                    let _ = acceptor.accept(stream).await;
                } else {
                    let _ = stream
                        .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
                        .await;
                }
            });
        }
    });
    (url, count)
}

async fn one_call(url: &str) -> Error {
    let client = common::default_builder(url)
        .retry(
            RetryPolicy::default()
                .max_attempts(4)
                .base_delay(Duration::from_millis(10)),
        )
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    client.get_settings().await.unwrap_err()
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_tls_error_after_one_connection_not_retried() {
    let (url, connections) = server(true).await;
    let err = one_call(&url).await;
    assert!(matches!(err, Error::Tls { .. }), "{err:?}");
    assert_eq!(err.kind(), "tls");
    assert!(!err.is_retryable());
    assert!(
        err.to_string().to_lowercase().contains("certificate"),
        "{err}"
    );
    assert!(!err.to_string().contains(common::TOKEN), "{err}");
    assert_eq!(connections.load(Ordering::SeqCst), 1, "retried: {err}");
}

#[tokio::test]
async fn a_server_not_speaking_tls_to_an_https_url_is_a_tls_error_not_retried() {
    let (url, connections) = server(false).await;
    let err = one_call(&url).await;
    assert!(matches!(err, Error::Tls { .. }), "{err:?}");
    assert_eq!(connections.load(Ordering::SeqCst), 1, "retried: {err}");
}
