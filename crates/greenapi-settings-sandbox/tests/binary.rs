//! The `greenapi-settings-sandbox` binary, driven as a user would: flags, output, signals,
//! the seed's curl example, and state surviving `kill -9`.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

const BIN: &str = env!("CARGO_BIN_EXE_greenapi-settings-sandbox");
const SECRET: &str = "tok-bin-9d3e1f";

/// A running binary; killed on drop.
struct Server {
    child: Child,
    addr: SocketAddr,
    stdout: Vec<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(args: &[&str]) -> Server {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the binary");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().expect("a first line").unwrap();
    let second = lines.next().expect("a second line").unwrap();
    let url = first
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("{first}"));
    let addr: SocketAddr = url.parse().unwrap();
    Server {
        child,
        addr,
        stdout: vec![first, second],
    }
}

#[test]
fn binary_prints_its_url_and_instance_ids_but_no_token() {
    let server = spawn(&[
        "--instance",
        &format!("5:{SECRET}"),
        "--instance",
        "6:tok-bin-other",
        "--rate-limit",
        "off",
    ]);
    assert!(
        server.stdout[0].starts_with("listening on http://127.0.0.1:"),
        "{:?}",
        server.stdout
    );
    assert_eq!(server.stdout[1], "instances: 5, 6");
    assert!(!server.stdout.join("\n").contains("tok-bin"));
    assert_eq!(get(server.addr, &get_path(5, SECRET)).status, 200);
}

#[test]
fn the_seed_curl_example_succeeds_with_real_curl() {
    let server = spawn(&["--instance", &format!("1101000001:{SECRET}")]);
    let url = format!(
        "http://{}/waInstance1101000001/setSettings/{SECRET}",
        server.addr
    );
    let output = Command::new("curl")
        .args([
            "-s",
            "-X",
            "POST",
            &url,
            "-H",
            "Content-Type: application/json",
            "--data",
            r#"{"delaySendMessagesMilliseconds": 15000}"#,
        ])
        .output()
        .expect("curl must be installed for this test");
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        r#"{"saveSettings":true}"#
    );
}

#[test]
fn binary_state_survives_kill_dash_nine() {
    let dir = temp_dir("kill9");
    let file = dir.join("state.json");
    let file_arg = file.to_str().unwrap();
    let instance = format!("5:{SECRET}");
    let mut server = spawn(&[
        "--instance",
        &instance,
        "--state",
        file_arg,
        "--rate-limit",
        "off",
    ]);
    let reply = post(
        server.addr,
        &set_path(5, SECRET),
        r#"{"delaySendMessagesMilliseconds":15000,"pollMessageWebhook":"yes"}"#,
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    server.child.kill().unwrap(); // SIGKILL: no chance to flush anything
    server.child.wait().unwrap();
    drop(server);

    let server = spawn(&["--instance", &instance, "--state", file_arg]);
    let body = get(server.addr, &get_path(5, SECRET)).json();
    assert_eq!(body["delaySendMessagesMilliseconds"], 15000);
    assert_eq!(body["pollMessageWebhook"], "yes");
    assert!(!std::fs::read_to_string(&file).unwrap().contains(SECRET));
    drop(server);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[cfg(unix)]
#[test]
fn binary_stops_cleanly_on_sigterm() {
    let mut server = spawn(&[]);
    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            assert!(status.success(), "{status:?}");
            break;
        }
        assert!(Instant::now() < deadline, "did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn bad_arguments_print_an_error_and_the_usage_and_exit_2() {
    for args in [
        &["--port", "banana"][..],
        &["--instance", "nocolon"],
        &["--instance", "abc:tok-bin-leak"],
        &["--error-rate", "2"],
        &["--lost-write-rate", "2"],
        &["--lost-write-rate", "-1"],
        &["--drift-after-ms", "later"],
        &["--drift-fields", "tok-bin-not-a-setting"],
        &["--rate-limit"],
        &["--frobnicate"],
        &["tok-bin-positional"],
    ] {
        let output = Command::new(BIN)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
        assert!(stderr.contains("--help"), "{args:?}: {stderr}");
        assert!(!stderr.contains("tok-bin"), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty());
    }
}

#[test]
fn help_lists_every_flag_and_exits_0() {
    let output = Command::new(BIN).arg("--help").output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    for flag in [
        "--port",
        "--instance <ID:TOKEN>",
        "--rate-limit <N|off>",
        "--apply-delay-ms",
        "--latency-ms",
        "--error-rate",
        "--quota",
        "--state <FILE>",
        "--max-connections",
        "--read-timeout-ms",
        "--lost-write-rate",
        "--drift-after-ms",
        "--drift-fields",
        "--drift-limit",
        "/sandbox/instances/ID/drift",
        "--help",
    ] {
        assert!(text.contains(flag), "{flag} missing from:\n{text}");
    }
}

#[test]
fn a_taken_port_exits_1_with_a_message() {
    let first = spawn(&[]);
    let port = first.addr.port().to_string();
    let mut child = Command::new(BIN)
        .args(["--port", &port])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the second server did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(1));
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        stderr.starts_with("greenapi-settings-sandbox: "),
        "{stderr}"
    );
}

#[test]
fn bad_options_exit_2_with_the_message_of_the_shared_option_set() {
    for args in [
        &["--error-rate", "5"][..],
        &["--lost-write-rate", "1.01"],
        &["--lost-write-rate", "-0.5"],
        &["--drift-fields", "incomingWebhook,secret-token-3"],
        &["--rate-limit", "0"],
        &["--instances", "0"],
        &["--instance", "x:secret-token-1"],
        &["stray-secret-token-2"],
    ] {
        let out = Command::new(BIN)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run the binary");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        let argv = std::iter::once("greenapi-settings-sandbox").chain(args.iter().copied());
        let expected = greenapi_settings_sandbox::options::command("greenapi-settings-sandbox")
            .try_get_matches_from(argv)
            .expect_err("a usage error")
            .to_string();
        assert_eq!(stderr, expected, "{args:?}");
        assert!(!stderr.contains("secret"), "{args:?}: {stderr}");
    }
}

#[test]
fn the_binary_loses_writes_and_drifts_on_demand() {
    let server = spawn(&[
        "--instance",
        &format!("5:{SECRET}"),
        "--rate-limit",
        "off",
        "--lost-write-rate",
        "1",
        "--drift-after-ms",
        "600000",
        "--drift-fields",
        "incomingWebhook",
    ]);
    let reply = post(
        server.addr,
        &set_path(5, SECRET),
        r#"{"incomingWebhook":"yes","outgoingWebhook":"yes"}"#,
    );
    assert_eq!(reply.text(), r#"{"saveSettings":true}"#);
    let shown = get(server.addr, &get_path(5, SECRET)).json();
    assert_eq!(
        (&shown["incomingWebhook"], &shown["outgoingWebhook"]),
        (&"no".into(), &"no".into()),
        "acknowledged, never applied"
    );
    let reply = post(
        server.addr,
        "/sandbox/instances/5/drift",
        r#"{"outgoingWebhook":"yes"}"#,
    );
    assert_eq!(reply.text(), r#"{"drifted":["outgoingWebhook"]}"#);
    let stats = get(server.addr, "/sandbox/instances/5").json();
    assert_eq!(stats["lostWrites"], 1);
    assert_eq!(stats["lostFields"], 2);
    assert_eq!(
        stats["unrepairedLostFields"],
        serde_json::json!(["outgoingWebhook", "incomingWebhook"])
    );
    assert_eq!(
        (&stats["drifts"], &stats["driftedFields"]),
        (&1.into(), &1.into())
    );
}

/// Runs the binary with `args`, expecting it to exit by itself within 5 s: (code, stdout,
/// stderr).
fn run_to_exit(args: &[&str]) -> (Option<i32>, String, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{args:?}: the server did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (mut out, mut err) = (String::new(), String::new());
    let _ = child.stdout.take().unwrap().read_to_string(&mut out);
    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
    (status.code(), out, err)
}

/// Issue 22: `--tls` serves HTTPS and prints where the CA is; real curl, trusting only that
/// file, gets the settings (and curl without it refuses the certificate).
#[test]
fn tls_prints_an_https_url_and_a_ca_file_that_curl_trusts() {
    let mut child = Command::new(BIN)
        .args([
            "--tls",
            "--hosts",
            "2",
            "--rate-limit",
            "off",
            "--instance",
            &format!("5:{SECRET}"),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next = || lines.next().expect("a line").unwrap();
    let (first, second, third, fourth) = (next(), next(), next(), next());
    let server = Server {
        child,
        addr: first
            .strip_prefix("listening on https://")
            .unwrap_or_else(|| panic!("{first}"))
            .parse()
            .unwrap(),
        stdout: vec![first, second, third.clone(), fourth.clone()],
    };
    assert_eq!(server.stdout[1], "instances: 5");
    let ca = third
        .strip_prefix("CA certificate: ")
        .unwrap_or_else(|| panic!("{third}"));
    assert!(std::fs::read_to_string(ca)
        .unwrap()
        .starts_with("-----BEGIN CERTIFICATE-----"));
    let port = server.addr.port();
    assert_eq!(
        fourth,
        format!("also listening on https://127.0.0.2:{port}")
    );
    for host in ["127.0.0.1", "127.0.0.2", "localhost"] {
        let url = format!("https://{host}:{port}/waInstance5/getSettings/{SECRET}");
        let trusting = Command::new("curl")
            .args(["-sf", "--max-time", "10", "--cacert", ca, &url])
            .output()
            .expect("curl must be installed for this test");
        assert!(trusting.status.success(), "{host}: {trusting:?}");
        let body = String::from_utf8_lossy(&trusting.stdout);
        assert!(body.contains("\"webhookUrl\""), "{host}: {body}");
    }
    let url = format!("https://127.0.0.1:{port}/waInstance5/getSettings/{SECRET}");
    let untrusting = Command::new("curl")
        .args([
            "-s",
            "--max-time",
            "10",
            "--capath",
            "/nonexistent",
            "--cacert",
            "/dev/null",
            &url,
        ])
        .output()
        .unwrap();
    assert!(!untrusting.status.success(), "{untrusting:?}");
}

/// Issue 22: certificate files are judged at start; a bad one is a usage error (exit 2)
/// naming the file, and nothing is served.
#[test]
fn unusable_tls_files_exit_2_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "hello\n").unwrap();
    let junk = junk.to_str().unwrap();
    let missing = dir.path().join("missing-key.pem");
    let missing = missing.to_str().unwrap();
    for (args, says) in [
        (
            vec!["--tls-cert", junk, "--tls-key", junk],
            "TLS certificate file",
        ),
        (vec!["--tls-cert", junk, "--tls-key", missing], "junk.pem"),
    ] {
        let (code, out, err) = run_to_exit(&args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}: {out}");
        assert!(err.starts_with("greenapi-settings-sandbox: "), "{err}");
        assert!(err.contains(says), "{says}: {err}");
    }
}
