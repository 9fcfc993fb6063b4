//! One grammar: durations in humantime's syntax everywhere, `--wait` with a space.

use greenapi_settings_sandbox::{BlockingSandbox, SandboxConfig, DEFAULT_INSTANCE_ID};

use crate::common::{
    against, bin, cli, csv, dir, fast, fleet_csv, one, run, s, tmp, Color, CSV_HEADER,
};

const DESIRED: &str = "incomingWebhook = \"yes\"\n";

#[test]
fn wait_takes_its_duration_after_a_space_as_well_as_after_an_equals_sign() {
    let sb = BlockingSandbox::start(SandboxConfig::default()).unwrap();
    let desired = tmp("wait-space.toml", DESIRED);
    let r = against(&sb, &["apply", s(&desired), "--wait", "30s"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("Verified"), "{}", r.all());
    // A bare `--wait` before the file still leaves the file to be the file.
    let r = against(&sb, &["apply", "--wait", s(&desired)]);
    assert_eq!(r.code, 0, "{}", r.all());
    // A value that is no duration: the error says how to write one.
    let r = against(&sb, &["apply", s(&desired), "--wait", "soon"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("--wait=5m"), "{}", r.all());
    // A duration out of bounds after a space is judged as a duration, not as a file.
    let r = against(&sb, &["apply", s(&desired), "--wait", "2h"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("--wait: expected a duration"),
        "{}",
        r.all()
    );
}

#[test]
fn timeout_and_settle_take_humantime_durations_and_bare_seconds() {
    let sb = BlockingSandbox::start(SandboxConfig::default()).unwrap();
    let desired = tmp("timeout.toml", DESIRED);
    for timeout in ["30s", "1m 30s", "2m", "30", "0.5"] {
        let r = against(&sb, &["--timeout", timeout, "get"]);
        assert_eq!(r.code, 0, "--timeout {timeout}: {}", r.all());
    }
    let r = against(
        &sb,
        &[
            "apply",
            s(&desired),
            "--wait=1m",
            "--settle",
            "1s 500ms",
            "--timeout",
            "10s",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    let r = against(&sb, &["--timeout", "2h", "get"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("at most 1h"), "{}", r.all());
    let stats = sb.stats(DEFAULT_INSTANCE_ID).unwrap();
    assert_eq!(stats.set_settings_calls, 1, "{stats:?}");
}

#[test]
fn a_dash_reads_the_settings_file_or_the_instances_file_from_standard_input() {
    let sb = BlockingSandbox::start(SandboxConfig::default()).unwrap();
    let mut c = one(&sb);
    c.args(["plan", "-"]).write_stdin(DESIRED);
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("incomingWebhook"), "{}", r.all());

    let mut c = one(&sb);
    c.args(["validate", "-"])
        .write_stdin("incomingWebhook = \"maybe\"\n");
    let r = run(c);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("incomingWebhook"), "{}", r.all());

    let fleet = fast(2);
    let csv = std::fs::read_to_string(csv("stdin.csv", &fleet)).unwrap();
    let desired = tmp("stdin-fleet.toml", DESIRED);
    let mut c = bin(Color::Never);
    c.args(["plan", s(&desired), "--instances", "-"])
        .write_stdin(csv);
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("2 planned, 0 failed"), "{}", r.all());
    assert_eq!(fleet.instance_ids().len(), 2);
}

#[test]
fn a_dash_given_for_two_inputs_is_refused_and_nothing_is_sent() {
    let sb = BlockingSandbox::start(SandboxConfig::default()).unwrap();
    let mut c = bin(Color::Never);
    c.args(["apply", "-", "--instances", "-"])
        .write_stdin(DESIRED);
    let r = run(c);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("standard input"), "{}", r.all());
    let stats = sb.stats(DEFAULT_INSTANCE_ID).unwrap();
    assert_eq!(stats.get_settings_calls + stats.set_settings_calls, 0);
}

#[test]
fn export_to_a_dash_writes_standard_output() {
    let sb = BlockingSandbox::start(SandboxConfig::default()).unwrap();
    let r = against(&sb, &["export", "-o", "-"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("incomingWebhook"), "{}", r.all());
    assert!(!std::path::Path::new("-").exists());
}

#[test]
fn quiet_drops_notes_progress_and_unchanged_lines_but_keeps_results_and_failures() {
    // No credentials: a read says it uses an embedded sandbox, unless --quiet.
    let r = cli(&["get"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stderr.contains("note: no credentials given"),
        "{}",
        r.all()
    );
    let r = cli(&["--quiet", "get"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stderr.is_empty(), "{}", r.all());
    assert!(
        r.stdout.contains("incomingWebhook"),
        "the result stays: {}",
        r.all()
    );

    let sb = fast(3);
    let ids = sb.instance_ids();
    let csv = fleet_csv("quiet.csv", CSV_HEADER, &sb, &ids);
    let mut file = String::from(DESIRED);
    file.push_str(&format!(
        "[instances.\"{}\"]\nincomingWebhook = \"no\"\n",
        ids[0]
    ));
    let desired = tmp("quiet.toml", &file);
    let report = dir().join("quiet-report.json");
    let r = cli(&[
        "-q",
        "apply",
        s(&desired),
        "--instances",
        s(&csv),
        "--report",
        s(&report),
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    // Instance 0 already has incomingWebhook "no" (the default): no line for it.
    assert!(!r.stdout.contains(&ids[0].to_string()), "{}", r.all());
    for id in &ids[1..] {
        assert!(r.stdout.contains(&format!("{id}  applied")), "{}", r.all());
    }
    assert!(
        r.stdout.contains("3 instance(s)"),
        "summary stays: {}",
        r.all()
    );
    assert!(!r.all().contains("report written"), "{}", r.all());
    assert!(report.exists());
    let r = cli(&["-q", "-v", "get"]);
    assert_eq!(r.code, 2, "{}", r.all());
}
