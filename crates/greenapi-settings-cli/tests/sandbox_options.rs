//! `greenapi-settings sandbox` and the `greenapi-settings-sandbox` binary take the same
//! options under the same rules: a bad option exits 2 from both, with the same message. The
//! binary is a thin wrapper around `greenapi_settings_sandbox::options::command` (its own
//! tests run the built binary); here the built CLI is compared against that command.

mod common;

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use greenapi_settings_sandbox::options;

/// Options each front end used to judge differently, and a few more.
const BAD: &[&[&str]] = &[
    &["--error-rate", "5"],
    &["--error-rate", "-0.5"],
    &["--rate-limit", "0"],
    &["--rate-limit", "fast"],
    &["--instances", "0"],
    &["--instances", "100001"],
    &["--instance", "x:secret-token-1"],
    &["--instance", "1:"],
    &["--instance", "1:token-one-a", "--instances", "2"],
    &["--port", "70000"],
    &["--state", ""],
    &["--max-connections", "0"],
    &["stray-secret-token-2"],
    &["--tls-cert", "cert.pem"],
    &["--tls-key", "key.pem"],
    &["--tls-ca-out", "ca.pem"],
    &["--hosts", "0"],
];

/// The first line of an error (the rest is the usage, which names the program).
fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

fn binary_error(args: &[&str]) -> (i32, String) {
    let argv = std::iter::once("greenapi-settings-sandbox").chain(args.iter().copied());
    let err = options::command("greenapi-settings-sandbox")
        .try_get_matches_from(argv)
        .expect_err("a usage error");
    (err.exit_code(), err.to_string())
}

/// Runs `greenapi-settings sandbox ARGS`: its exit code (`None` if it was still running,
/// i.e. serving, after 10 s and had to be killed), stdout and stderr.
fn cli_sandbox(args: &[&str]) -> (Option<i32>, String, String) {
    let mut child = common::std_bin()
        .arg("sandbox")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the CLI");
    let deadline = Instant::now() + Duration::from_secs(10);
    let code = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (mut out, mut err) = (String::new(), String::new());
    let _ = child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut out);
    let _ = child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err);
    (code, out, err)
}

#[test]
fn bad_sandbox_options_exit_2_with_the_same_message_from_both_front_ends() {
    for args in BAD {
        let (code, stdout, stderr) = cli_sandbox(args);
        let (binary_code, message) = binary_error(args);
        assert_eq!(binary_code, 2, "{args:?}: {message}");
        assert_eq!(code, Some(2), "{args:?}: {stdout}{stderr}");
        assert_eq!(first_line(&stderr), first_line(&message), "{args:?}");
        assert!(stdout.is_empty(), "{args:?}: nothing started");
        assert!(!stderr.contains("secret"), "{args:?}: {stderr}");
    }
}

#[test]
fn the_sandbox_subcommand_lists_the_binary_options() {
    let out = common::std_bin()
        .args(["sandbox", "--help"])
        .output()
        .expect("run the CLI");
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--instance ",
        "--instances",
        "--rate-limit",
        "--apply-delay-ms",
        "--restart-ms",
        "--error-rate",
        "--quota",
        "--body-limit",
        "--state",
        "--max-connections",
        "--read-timeout-ms",
        "--tls ",
        "--tls-ca-out",
        "--tls-cert",
        "--tls-key",
        "--hosts",
        "/sandbox/instances",
        "/sandbox/server",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
}

/// Issue 22: `sandbox --tls` prints an https URL and the CA file; curl trusting that file
/// alone reads the settings; the counters show the handshake; Ctrl-C stops it.
#[test]
fn sandbox_tls_prints_the_ca_file_that_a_client_trusts() {
    let dir = common::dir();
    let ca_out = dir.join("sandbox-ca.pem");
    let (mut child, banner) = spawn_sandbox(&[
        "--tls",
        "--rate-limit",
        "off",
        "--tls-ca-out",
        common::s(&ca_out),
    ]);
    let url = banner[0]
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{banner:?}"))
        .to_string();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let ca_line = format!("CA certificate: {} (", ca_out.display());
    assert!(banner[1].starts_with(&ca_line), "{banner:?}");
    // `sandbox trigger` refuses https URLs: the banner does not suggest it.
    let last = banner.last().unwrap();
    assert_eq!(
        last,
        &format!("notifications: POST {url}/sandbox/instances/ID/notify (see --help)")
    );
    let settings = curl(
        &ca_out,
        &format!("{url}/waInstance1101000001/getSettings/sandbox-token"),
    );
    assert!(settings.status.success(), "{settings:?}");
    assert!(String::from_utf8_lossy(&settings.stdout).contains("\"webhookUrl\""));
    let server = curl(&ca_out, &format!("{url}/sandbox/server"));
    let server: serde_json::Value = serde_json::from_slice(&server.stdout).expect("JSON");
    assert_eq!(server["tls"], true, "{server}");
    assert_eq!(server["tlsHandshakes"], 2, "{server}");
    assert_eq!(stop(&mut child), Some(0));
    // The file the user asked for stays.
    assert!(common::read(&ca_out).starts_with("-----BEGIN CERTIFICATE-----"));
}

/// Issue 22: certificate files are only judged at start, but a bad one is still the
/// caller's input: exit 2, a message naming the file (never its contents), nothing served.
#[test]
fn sandbox_with_unusable_tls_files_exits_2_naming_the_file() {
    let (_, cert, key) = own_certificate();
    let (_, _, other_key) = own_certificate();
    let cert = common::tmp("cert.pem", &cert);
    let key = common::tmp("key.pem", &key);
    let other_key = common::tmp("other-key.pem", &other_key);
    let junk = common::tmp("junk.pem", "not a certificate");
    let missing = common::dir().join("missing.pem");
    let key_body = common::read(&other_key).lines().nth(1).unwrap().to_string();
    for (c, k, says) in [
        (&junk, &key, "junk.pem: no certificate in it"),
        (&missing, &key, "missing.pem"),
        (&cert, &junk, "junk.pem: no private key in it"),
        (
            &cert,
            &other_key,
            "other-key.pem: does not belong to the certificate",
        ),
    ] {
        let args = ["--tls-cert", common::s(c), "--tls-key", common::s(k)];
        let (code, stdout, stderr) = cli_sandbox(&args);
        assert_eq!(code, Some(2), "{args:?}: {stdout}{stderr}");
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
        assert!(stderr.contains("cannot start the sandbox: TLS"), "{stderr}");
        assert!(stderr.contains(says), "{says}: {stderr}");
        assert!(!stderr.contains(&key_body), "{stderr}");
    }
}

/// Issue 22: `--tls-cert`/`--tls-key` alone turn HTTPS on with the caller's certificate; no
/// CA file is printed (the caller has their own).
#[test]
fn sandbox_serves_the_callers_own_certificate() {
    let (ca, cert, key) = own_certificate();
    let ca = common::tmp("ca.pem", &ca);
    let cert = common::tmp("cert.pem", &cert);
    let key = common::tmp("key.pem", &key);
    let (mut child, banner) =
        spawn_sandbox(&["--tls-cert", common::s(&cert), "--tls-key", common::s(&key)]);
    let url = banner[0].strip_prefix("listening on ").unwrap_or_default();
    assert!(url.starts_with("https://127.0.0.1:"), "{banner:?}");
    assert!(
        !banner.iter().any(|l| l.starts_with("CA certificate")),
        "{banner:?}"
    );
    let settings = curl(
        &ca,
        &format!("{url}/waInstance1101000001/getSettings/sandbox-token"),
    );
    assert!(settings.status.success(), "{settings:?}");
    stop(&mut child);
}

/// Runs `greenapi-settings sandbox ARGS` in the background: the child and its banner (up to
/// the "notifications:" line, or what came within 10 s).
fn spawn_sandbox(args: &[&str]) -> (std::process::Child, Vec<String>) {
    let mut child = common::std_bin()
        .arg("sandbox")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run the CLI");
    let rx = common::lines_of(&mut child);
    let mut banner = Vec::new();
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(10)) {
        let done = line.starts_with("notifications:");
        banner.push(line);
        if done {
            break;
        }
    }
    (child, banner)
}

/// curl trusting `ca` only.
fn curl(ca: &std::path::Path, url: &str) -> std::process::Output {
    std::process::Command::new("curl")
        .args(["-sf", "--max-time", "10", "--cacert"])
        .arg(ca)
        .arg(url)
        .output()
        .expect("curl must be installed for this test")
}

/// Ctrl-C, then the exit code (within 10 s).
fn stop(child: &mut std::process::Child) -> Option<i32> {
    let _ = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the sandbox did not stop on Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A CA and a certificate for 127.0.0.1 it signed: (CA PEM, certificate PEM, key PEM).
fn own_certificate() -> (String, String, String) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    // Names of their own: OpenSSL (curl) takes a leaf named like its issuer for self-signed.
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "sandbox-options-test-ca");
    let ca = rcgen::CertifiedIssuer::self_signed(ca, ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let mut leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    leaf.distinguished_name
        .push(rcgen::DnType::CommonName, "sandbox-options-test-leaf");
    let leaf = leaf.signed_by(&key, &ca).unwrap();
    (ca.pem(), leaf.pem(), key.serialize_pem())
}
