//! `doctor --probe`: checks the receiver at `webhookUrl` from this machine, one step at a time
//! on one connection the probe opens itself, so that each step is timed and reported for what
//! it is: DNS (the addresses), TCP (which address answered, how fast; refused or timed out),
//! TLS for `https` (the certificate valid for the host against the system roots, which
//! honour `SSL_CERT_FILE` / `SSL_CERT_DIR`; its names, issuer and days to expiry, also when it
//! is not trusted), and ONE POST of a clearly marked test body with the Bearer token if set
//! (status, time; a redirect is reported and never followed: hyper's connection-level client
//! follows none). Every step is bounded by `--probe-timeout`.
//!
//! Never printed: the token, the URL's userinfo, query or fragment (see
//! [`super::rules::shown_url`]), a redirect's target beyond its origin and path.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use greenapi_settings::DELIVERY;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::rules::{shown_url, Finding, Severity};

/// Default of `--probe-timeout`.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Days to expiry under which a valid certificate is a warning.
const EXPIRY_WARNING_DAYS: i64 = 14;

/// The `typeWebhook` of the test body: no real notification has it, so a receiver (or a
/// person reading its log) can tell the probe apart.
pub(crate) const PROBE_TYPE: &str = "greenapiSettingsDoctorProbe";

/// One step of the probe.
#[derive(Clone, Debug)]
pub(crate) struct Step {
    /// `dns`, `tcp`, `tls` or `post`.
    pub name: &'static str,
    /// Whether it worked.
    pub ok: bool,
    /// How long it took.
    pub took: Duration,
    /// One line for people.
    pub detail: String,
    /// What scripts read (`--json`).
    pub data: Value,
}

/// What the probe found.
#[derive(Clone, Debug, Default)]
pub(crate) struct Probe {
    /// The steps taken, in order (it stops at the first that fails).
    pub steps: Vec<Step>,
    /// What they mean (problems: the receiver cannot take notifications).
    pub findings: Vec<Finding>,
}

impl Probe {
    /// The JSON form.
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "steps": self.steps.iter().map(|s| json!({
                "step": s.name,
                "ok": s.ok,
                "durationMs": s.took.as_millis() as u64,
                "detail": s.detail,
                "data": s.data,
            })).collect::<Vec<_>>(),
            "findings": self.findings.iter().map(Finding::to_json).collect::<Vec<_>>(),
        })
    }

    fn step(&mut self, name: &'static str, ok: bool, took: Duration, detail: String, data: Value) {
        self.steps.push(Step {
            name,
            ok,
            took,
            detail,
            data,
        });
    }

    fn problem(&mut self, code: &'static str, message: String) {
        self.findings
            .push(Finding::new(Severity::Problem, code, message));
    }
}

/// `d` as `12 ms` / `1.20 s`.
fn ms(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}

/// Probes `raw_url` (the instance's webhookUrl) with `token` (its webhookUrlToken, if set),
/// each step within `timeout`, posting `body`.
pub(crate) async fn probe(
    raw_url: &str,
    token: Option<&str>,
    timeout: Duration,
    id_instance: u64,
) -> Probe {
    let mut p = Probe::default();
    let shown = shown_url(raw_url, token.unwrap_or_default());
    let url = match url::Url::parse(raw_url.trim()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => u,
        _ => {
            p.problem(
                "probeUrl",
                format!("{shown}: not an http:// or https:// URL with a host; nothing was probed"),
            );
            return p;
        }
    };
    let host = url.host_str().unwrap_or_default().to_string();
    // An IPv6 literal comes bracketed from the URL; lookups and TLS names want it bare.
    let bare_host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = url.port_or_known_default().unwrap_or(443);
    let shown_host = crate::terminal::text(&bare_host).into_owned();

    // DNS.
    let started = Instant::now();
    let addrs: Vec<SocketAddr> =
        match tokio::time::timeout(timeout, tokio::net::lookup_host((bare_host.as_str(), port)))
            .await
        {
            Ok(Ok(a)) => a.collect(),
            Ok(Err(e)) => {
                let took = started.elapsed();
                p.step(
                    "dns",
                    false,
                    took,
                    format!("{shown_host}: not resolved ({e})"),
                    Value::Null,
                );
                p.problem("dns", format!("DNS: {shown_host} does not resolve: {e}"));
                return p;
            }
            Err(_) => {
                p.step(
                    "dns",
                    false,
                    timeout,
                    format!("{shown_host}: no answer within {}", ms(timeout)),
                    Value::Null,
                );
                p.problem(
                    "dnsTimeout",
                    format!("DNS: no answer for {shown_host} within {}", ms(timeout)),
                );
                return p;
            }
        };
    let list: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
    p.step(
        "dns",
        !addrs.is_empty(),
        started.elapsed(),
        format!(
            "{shown_host} -> {}",
            if list.is_empty() {
                "no address".into()
            } else {
                list.join(", ")
            }
        ),
        json!({"host": shown_host, "addresses": list}),
    );
    if addrs.is_empty() {
        p.problem("dns", format!("DNS: {shown_host} has no address"));
        return p;
    }

    // TCP: the addresses in turn, as a client would.
    let mut stream = None;
    let mut failures = Vec::new();
    let started = Instant::now();
    for addr in &addrs {
        let t = Instant::now();
        match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => {
                stream = Some((s, *addr, t.elapsed()));
                break;
            }
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => failures.push(
                format!("{addr}: connection refused (nothing listens there)"),
            ),
            Ok(Err(e)) => failures.push(format!("{addr}: {e}")),
            Err(_) => failures.push(format!("{addr}: no answer within {}", ms(timeout))),
        }
    }
    let Some((tcp, addr, took)) = stream else {
        p.step(
            "tcp",
            false,
            started.elapsed(),
            failures.join("; "),
            json!({"failures": failures}),
        );
        p.problem(
            "tcp",
            format!("TCP: cannot connect: {}", failures.join("; ")),
        );
        return p;
    };
    let _ = tcp.set_nodelay(true);
    p.step(
        "tcp",
        true,
        took,
        format!("connected to {addr} in {}", ms(took)),
        json!({"address": addr.to_string(), "failures": failures}),
    );

    if url.scheme() == "https" {
        let Some(tls) = tls_step(&mut p, tcp, &bare_host, timeout).await else {
            return p;
        };
        post_step(&mut p, tls, &url, token, timeout, id_instance).await;
    } else {
        post_step(&mut p, tcp, &url, token, timeout, id_instance).await;
    }
    p
}

/// A verifier that keeps the end-entity certificate it was shown, then lets the webpki
/// verifier decide: the probe reports what the certificate is even when it is refused.
#[derive(Debug)]
struct Capturing {
    inner: Arc<WebPkiServerVerifier>,
    seen: Arc<Mutex<Option<CertificateDer<'static>>>>,
}

impl ServerCertVerifier for Capturing {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Ok(mut seen) = self.seen.lock() {
            *seen = Some(end_entity.clone().into_owned());
        }
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// The system's roots (`SSL_CERT_FILE` / `SSL_CERT_DIR` honoured) and how many were loaded.
fn roots() -> (rustls::RootCertStore, usize) {
    let mut store = rustls::RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    let (added, _) = store.add_parsable_certificates(found.certs);
    (store, added)
}

/// What a certificate is: its subject, issuer, names, validity and days left.
fn describe(der: &CertificateDer<'_>) -> (String, Value, Option<i64>) {
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(der.as_ref()) else {
        return (
            "a certificate that cannot be read".into(),
            Value::Null,
            None,
        );
    };
    let subject = cert.subject().to_string();
    let issuer = cert.issuer().to_string();
    let mut names = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for n in &san.value.general_names {
            match n {
                x509_parser::extensions::GeneralName::DNSName(d) => names.push((*d).to_string()),
                x509_parser::extensions::GeneralName::IPAddress(ip) => names.push(match ip.len() {
                    4 => std::net::Ipv4Addr::new(ip[0], ip[1], ip[2], ip[3]).to_string(),
                    16 => <[u8; 16]>::try_from(*ip)
                        .map(|b| std::net::Ipv6Addr::from(b).to_string())
                        .unwrap_or_default(),
                    _ => "?".into(),
                }),
                _ => {}
            }
        }
    }
    let not_after = cert.validity().not_after.timestamp();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let days = (not_after - now).div_euclid(86_400);
    let not_after_text = humantime::format_rfc3339_seconds(
        UNIX_EPOCH + Duration::from_secs(not_after.max(0) as u64),
    )
    .to_string();
    let self_signed = cert.subject() == cert.issuer();
    let text = crate::terminal::text(&format!(
        "subject {subject}, issuer {}, names [{}], expires {not_after_text} ({days} day(s))",
        if self_signed {
            "itself (self-signed)".to_string()
        } else {
            issuer.clone()
        },
        names.join(", ")
    ))
    .into_owned();
    let data = json!({
        "subject": subject, "issuer": issuer, "selfSigned": self_signed, "names": names,
        "notAfter": not_after_text, "daysToExpiry": days,
    });
    (text, data, Some(days))
}

/// The TLS handshake on `tcp` for `host`: the stream, or `None` after reporting why not.
async fn tls_step(
    p: &mut Probe,
    tcp: TcpStream,
    host: &str,
    timeout: Duration,
) -> Option<tokio_rustls::client::TlsStream<TcpStream>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let (store, roots) = roots();
    let seen = Arc::new(Mutex::new(None));
    let started = Instant::now();
    let fail = |p: &mut Probe, detail: String| {
        p.step("tls", false, started.elapsed(), detail.clone(), Value::Null);
        p.problem("tls", format!("TLS: {detail}"));
    };
    let inner = match WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider.clone())
        .build()
    {
        Ok(v) => v,
        Err(e) => {
            fail(
                p,
                format!("no usable root certificates on this machine ({roots} loaded): {e}"),
            );
            return None;
        }
    };
    let config = match rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
    {
        Ok(b) => b
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Capturing {
                inner,
                seen: seen.clone(),
            }))
            .with_no_client_auth(),
        Err(e) => {
            fail(p, format!("cannot set up TLS: {e}"));
            return None;
        }
    };
    let Ok(name) = ServerName::try_from(host.to_string()) else {
        fail(p, "the host is not a valid TLS server name".into());
        return None;
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let result = tokio::time::timeout(timeout, connector.connect(name, tcp)).await;
    let took = started.elapsed();
    let cert = seen.lock().ok().and_then(|s| s.clone());
    let (what, mut data, days) = match &cert {
        Some(c) => describe(c),
        None => ("no certificate was presented".into(), Value::Null, None),
    };
    match result {
        Ok(Ok(stream)) => {
            if let Value::Object(m) = &mut data {
                m.insert("trusted".into(), true.into());
            }
            p.step(
                "tls",
                true,
                took,
                format!(
                    "certificate valid for {} ({what}) in {}",
                    crate::terminal::text(host),
                    ms(took)
                ),
                data,
            );
            if let Some(d) = days.filter(|d| *d < EXPIRY_WARNING_DAYS) {
                p.findings.push(Finding::new(
                    Severity::Warning,
                    "certificateExpiresSoon",
                    format!("TLS: the receiver's certificate expires in {d} day(s)"),
                ));
            }
            Some(stream)
        }
        Ok(Err(e)) => {
            if let Value::Object(m) = &mut data {
                m.insert("trusted".into(), false.into());
            }
            let why = tls_reason(&e);
            let detail = format!("{why}: {what}");
            p.step("tls", false, took, detail.clone(), data);
            p.problem("tlsUntrusted", format!("TLS: {detail}"));
            None
        }
        Err(_) => {
            fail(p, format!("no handshake within {}", ms(timeout)));
            None
        }
    }
}

/// A TLS failure in words: what rustls found wrong with the certificate, or the I/O error.
fn tls_reason(e: &std::io::Error) -> String {
    use rustls::CertificateError as C;
    let inner = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
    match inner {
        Some(rustls::Error::InvalidCertificate(c)) => match c {
            C::UnknownIssuer => {
                "certificate not trusted (its issuer is not among this machine's roots)".into()
            }
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                "certificate not valid for this host".into()
            }
            C::Expired | C::ExpiredContext { .. } => "certificate expired".into(),
            C::NotValidYet | C::NotValidYetContext { .. } => "certificate not valid yet".into(),
            C::Revoked => "certificate revoked".into(),
            other => format!("certificate refused ({other:?})"),
        },
        Some(other) => format!("handshake failed ({other})"),
        None => format!("handshake failed ({e})"),
    }
}

/// The one POST of the test body over `io`.
async fn post_step<S>(
    p: &mut Probe,
    io: S,
    url: &url::Url,
    token: Option<&str>,
    timeout: Duration,
    id_instance: u64,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let started = Instant::now();
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let body = json!({
        "typeWebhook": PROBE_TYPE,
        "note": "test notification from greenapi-settings doctor --probe; ignore",
        "instanceData": {"idInstance": id_instance},
        "timestamp": timestamp,
    })
    .to_string();
    let mut path = url.path().to_string();
    if let Some(q) = url.query() {
        path.push('?');
        path.push_str(q);
    }
    let host_header = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_string(),
    };
    let mut req = hyper::Request::post(path)
        .header(hyper::header::HOST, host_header)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .header(
            hyper::header::USER_AGENT,
            concat!("greenapi-settings-doctor/", env!("CARGO_PKG_VERSION")),
        );
    if let Some(t) = token {
        let scheme = DELIVERY.authorization_scheme;
        let mut value = match hyper::header::HeaderValue::from_str(&format!("{scheme} {t}")) {
            Ok(v) => v,
            Err(_) => {
                p.problem("tokenNotAHeader", "the webhook token cannot be sent in a header (it holds characters HTTP forbids there); nothing was posted".into());
                return;
            }
        };
        value.set_sensitive(true);
        req = req.header(hyper::header::AUTHORIZATION, value);
    }
    let Ok(req) = req.body(Full::new(Bytes::from(body))) else {
        p.problem(
            "probeRequest",
            "cannot build the test request; nothing was posted".into(),
        );
        return;
    };
    let exchange = async {
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io)).await?;
        let driver = tokio::spawn(conn);
        let response = sender.send_request(req).await;
        driver.abort();
        response
    };
    let response = match tokio::time::timeout(timeout, exchange).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            let took = started.elapsed();
            p.step("post", false, took, format!("no answer: {e}"), Value::Null);
            p.problem(
                "postFailed",
                format!("POST: the receiver closed the connection without an answer ({e})"),
            );
            return;
        }
        Err(_) => {
            p.step(
                "post",
                false,
                timeout,
                format!("no answer within {}", ms(timeout)),
                json!({"timedOut": true}),
            );
            p.problem(
                "postTimeout",
                format!(
                    "POST: no answer within {} (the API waits {} s for one, then re-sends the same notification after {} s, holding back the ones after it)",
                    ms(timeout),
                    DELIVERY.response_timeout_secs,
                    DELIVERY.retry_pause_secs
                ),
            );
            return;
        }
    };
    let took = started.elapsed();
    let status = response.status();
    let location = response
        .headers()
        .get(hyper::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(|l| match url.join(l) {
            Ok(target) => shown_url(target.as_str(), token.unwrap_or_default()),
            Err(_) => "<not a URL>".into(),
        });
    let mut data = json!({"status": status.as_u16(), "tokenSent": token.is_some()});
    if let Some(l) = &location {
        data["location"] = l.clone().into();
    }
    let ok = status.as_u16() == DELIVERY.success_status;
    p.step(
        "post",
        ok,
        took,
        format!("answered {status} in {}", ms(took)),
        data,
    );
    if status.is_redirection() {
        p.problem(
            "postRedirect",
            format!(
                "POST: answered {status}, a redirect to {} (not followed: notifications are delivered to webhookUrl only, and need a 200 there)",
                location.unwrap_or_else(|| "nowhere (no Location)".into())
            ),
        );
    } else if status == hyper::StatusCode::UNAUTHORIZED || status == hyper::StatusCode::FORBIDDEN {
        p.problem(
            "postRefused",
            format!(
                "POST: answered {status}: the receiver refused {}",
                if token.is_some() {
                    "the webhook token"
                } else {
                    "a request without a token (webhookUrlToken is empty)"
                }
            ),
        );
    } else if !ok {
        p.problem(
            "postStatus",
            format!(
                "POST: answered {status}, not {}: the API would re-send the same notification after {} s, holding back the ones after it",
                DELIVERY.success_status,
                DELIVERY.retry_pause_secs
            ),
        );
    }
}
