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
        "/sandbox/instances",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
}
