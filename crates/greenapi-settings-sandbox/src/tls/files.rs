//! `--tls-cert FILE --tls-key FILE`: the caller's certificate chain and key, read with a size
//! cap. Every failure is `InvalidInput` naming the file and what is wrong with it, never its
//! contents (a key file's bytes are a secret).

use std::io::{self, Read};
use std::path::Path;

use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::MAX_PEM_FILE_BYTES;

fn invalid(what: &str, path: &Path, problem: impl std::fmt::Display) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{what} {}: {problem}", path.display()),
    )
}

/// The file's bytes, at most [`MAX_PEM_FILE_BYTES`].
fn read_capped(what: &str, path: &Path) -> io::Result<Vec<u8>> {
    let file = std::fs::File::open(path).map_err(|e| invalid(what, path, e))?;
    let mut bytes = Vec::new();
    file.take(MAX_PEM_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| invalid(what, path, e))?;
    if bytes.len() as u64 > MAX_PEM_FILE_BYTES {
        return Err(invalid(
            what,
            path,
            format_args!("larger than {MAX_PEM_FILE_BYTES} bytes; is it the right file?"),
        ));
    }
    Ok(bytes)
}

/// The PEM parser's complaint in words that show none of the file's text.
fn pem_problem(e: &pem::Error) -> &'static str {
    match e {
        pem::Error::NoItemsFound => "no PEM section in it",
        pem::Error::MissingSectionEnd { .. } => "a PEM section has no END line",
        pem::Error::IllegalSectionStart { .. } => "a malformed PEM BEGIN line",
        pem::Error::Base64Decode(_) => "a PEM section is not valid base64",
        _ => "not valid PEM",
    }
}

const CERT: &str = "TLS certificate file";
const KEY: &str = "TLS key file";

/// Every certificate in the file, leaf first.
pub(super) fn read_chain(path: &Path) -> io::Result<Vec<CertificateDer<'static>>> {
    let bytes = read_capped(CERT, path)?;
    let chain = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(CERT, path, pem_problem(&e)))?;
    if chain.is_empty() {
        return Err(invalid(
            CERT,
            path,
            "no certificate in it (expected a -----BEGIN CERTIFICATE----- section)",
        ));
    }
    Ok(chain)
}

/// The first private key in the file.
pub(super) fn read_key(path: &Path) -> io::Result<PrivateKeyDer<'static>> {
    let bytes = read_capped(KEY, path)?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| match e {
        pem::Error::NoItemsFound => invalid(
            KEY,
            path,
            "no private key in it (expected a -----BEGIN PRIVATE KEY----- section, or RSA / EC)",
        ),
        other => invalid(KEY, path, pem_problem(&other)),
    })
}

/// rustls refused the pair: most often a key that belongs to another certificate.
pub(super) fn unusable(cert: &Path, key: &Path, e: &rustls::Error) -> io::Error {
    match e {
        rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch) => invalid(
            KEY,
            key,
            format_args!(
                "does not belong to the certificate in {} (its public key differs)",
                cert.display()
            ),
        ),
        other => invalid(
            KEY,
            key,
            format_args!(
                "cannot be used with the certificate in {}: {other}",
                cert.display()
            ),
        ),
    }
}
