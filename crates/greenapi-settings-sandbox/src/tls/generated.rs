//! The certificate made at start: a throw-away CA (its key lives in memory only, for the few
//! microseconds it takes to sign) and a leaf for `localhost` and the listening addresses.

use std::io;
use std::net::Ipv4Addr;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, CidrSubnet, DnType,
    ExtendedKeyUsagePurpose, GeneralSubtree, IsCa, KeyPair, KeyUsagePurpose, NameConstraints,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

pub(crate) struct Made {
    pub(crate) ca_pem: String,
    pub(crate) chain: Vec<CertificateDer<'static>>,
    pub(crate) key: PrivateKeyDer<'static>,
}

fn failed(e: rcgen::Error) -> io::Error {
    io::Error::other(format!("cannot make the sandbox's TLS certificate: {e}"))
}

/// A CA and a leaf signed by it for `localhost` and every address in `ips`.
///
/// The CA may only vouch for `localhost` and 127.0.0.0/8 (name constraints): whoever trusts
/// its file trusts nothing else, even if the file outlives the server.
pub(crate) fn make(ips: &[Ipv4Addr]) -> io::Result<Made> {
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(failed)?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.distinguished_name.push(
        DnType::CommonName,
        "greenapi-settings sandbox throw-away CA",
    );
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca.name_constraints = Some(NameConstraints {
        permitted_subtrees: vec![
            GeneralSubtree::DnsName("localhost".into()),
            GeneralSubtree::IpAddress(CidrSubnet::V4([127, 0, 0, 0], [255, 0, 0, 0])),
        ],
        excluded_subtrees: Vec::new(),
    });
    let ca =
        CertifiedIssuer::self_signed(ca, KeyPair::generate().map_err(failed)?).map_err(failed)?;

    let names: Vec<String> = std::iter::once("localhost".to_string())
        .chain(ips.iter().map(Ipv4Addr::to_string))
        .collect();
    let mut leaf = CertificateParams::new(names).map_err(failed)?;
    leaf.distinguished_name
        .push(DnType::CommonName, "greenapi-settings sandbox");
    leaf.use_authority_key_identifier_extension = true;
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate().map_err(failed)?;
    let cert = leaf.signed_by(&key, &ca).map_err(failed)?;
    Ok(Made {
        ca_pem: ca.pem(),
        chain: vec![cert.der().clone()],
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    })
}
