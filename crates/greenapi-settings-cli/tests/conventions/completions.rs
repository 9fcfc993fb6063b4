//! Shell completions and man pages, rendered from the command line itself.

use std::process::{Command, Stdio};

use crate::common::{cli, dir};

fn pipe_into(program: &str, args: &[&str], input: &str) -> (i32, String, String) {
    use std::io::Write;
    let mut child = Command::new(program)
        .args(args)
        .env("MANWIDTH", "100")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_bash_completion_script_parses_and_completes_commands_and_spec_flags() {
    let r = cli(&["completions", "bash"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let (code, _, err) = pipe_into("bash", &["-n"], &r.stdout);
    assert_eq!(code, 0, "bash -n: {err}");
    for word in [
        "apply",
        "plan",
        "--instances",
        "--wait",
        "--incoming-webhook",
        "completions",
    ] {
        assert!(r.stdout.contains(word), "{word} in the script");
    }
    // Sourced, it registers a completion function for the program.
    let script = format!("{}\ncomplete -p greenapi-settings\n", r.stdout);
    let (code, out, err) = pipe_into("bash", &["--norc", "-s"], &script);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("greenapi-settings"), "{out}");
}

#[test]
fn every_shell_gets_a_script_and_an_unknown_shell_is_a_usage_error() {
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let r = cli(&["completions", shell]);
        assert_eq!(r.code, 0, "{shell}: {}", r.all());
        assert!(r.stdout.contains("greenapi-settings"), "{shell}");
    }
    let r = cli(&["completions", "tcsh"]);
    assert_eq!(r.code, 2, "{}", r.all());
}

#[test]
fn the_man_page_renders_with_man_and_names_the_commands() {
    let r = cli(&["man"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.starts_with(".ie") || r.stdout.contains(".TH"),
        "roff: {}",
        &r.stdout[..200.min(r.stdout.len())]
    );
    let (code, text, err) = pipe_into("man", &["-l", "-"], &r.stdout);
    assert_eq!(code, 0, "man -l: {err}");
    for word in ["greenapi-settings", "apply", "completions", "--quiet"] {
        assert!(text.contains(word), "{word} in the rendered page:\n{text}");
    }
    assert!(!err.contains("warning"), "{err}");

    let out = dir().join("man");
    std::fs::create_dir_all(&out).unwrap();
    let r = cli(&["man", "--dir", out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.all());
    let page = std::fs::read_to_string(out.join("greenapi-settings-apply.1")).unwrap();
    let (code, text, err) = pipe_into("man", &["-l", "-"], &page);
    assert_eq!(code, 0, "{err}");
    assert!(text.contains("--max-resends"), "{text}");
}
