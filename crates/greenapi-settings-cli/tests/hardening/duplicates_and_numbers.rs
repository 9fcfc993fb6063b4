//! Conflicting duplicates exit 2 naming both; numeric options are bounded (and `--concurrency` held to the open-file limit).

use super::*;

#[test]
fn a_duplicate_key_in_a_json_settings_file_exits_2_naming_it() {
    let sb = fast(1);
    let csv = fleet_csv("dup.csv", "", &sb, &sb.instance_ids());
    let p = tmp(
        "dup.json",
        "{\"incomingWebhook\": \"yes\",\n \"incomingWebhook\": \"no\"}",
    );
    for cmd in [
        vec!["validate", s(&p)],
        vec!["apply", s(&p), "--instances", s(&csv)],
    ] {
        let r = cli(&cmd);
        assert_eq!(r.code, 2, "{}", r.all());
        assert!(
            r.stderr.contains("duplicate key \"incomingWebhook\"") && r.stderr.contains("line 2"),
            "{}",
            r.stderr
        );
    }
    let r = cli(&[
        "set",
        "--json",
        r#"{"stateWebhook": "yes", "stateWebhook": "no"}"#,
    ]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("duplicate key \"stateWebhook\""),
        "{}",
        r.stderr
    );
    assert_eq!(calls(&sb), 0, "nothing was sent");
}

#[test]
fn set_json_and_a_flag_for_the_same_setting_exit_2_naming_both() {
    let sb = BlockingSandbox::start(SandboxConfig::default()).unwrap();
    let r = common::against(
        &sb,
        &[
            "set",
            "--json",
            r#"{"incomingWebhook": "yes"}"#,
            "--incoming-webhook",
            "no",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("incomingWebhook")
            && r.stderr.contains("--json")
            && r.stderr.contains("--incoming-webhook"),
        "{}",
        r.stderr
    );
    let stats = sb.stats(DEFAULT_INSTANCE_ID).unwrap();
    assert_eq!(
        stats.get_settings_calls + stats.set_settings_calls,
        0,
        "nothing was sent"
    );
}

// Numbers

#[test]
fn bad_numeric_options_exit_2_with_a_clear_message_never_a_panic() {
    let p = tmp("num.toml", "incomingWebhook = \"yes\"\n");
    let mut cases: Vec<(Vec<&str>, &str)> = ["inf", "1e20", "-1", "0", "nan"]
        .into_iter()
        .map(|v| {
            (
                vec!["--timeout", v, "get"],
                "--timeout: expected a duration such as 30, 90s",
            )
        })
        .collect();
    cases.extend([
        (
            vec!["--retries", "4294967295", "get"],
            "--retries: expected a whole number from 0 to 100",
        ),
        (
            vec!["--retries", "-1", "get"],
            "--retries: expected a whole number",
        ),
        (
            vec!["plan", s(&p), "--instances", "x.csv", "--concurrency", "0"],
            "--concurrency: expected a whole number from 1 to 10000, found \"0\"",
        ),
        (
            vec![
                "plan",
                s(&p),
                "--instances",
                "x.csv",
                "--concurrency",
                "10001",
            ],
            "--concurrency: expected a whole number from 1 to 10000, found \"10001\"",
        ),
        (
            vec![
                "plan",
                s(&p),
                "--instances",
                "x.csv",
                "--concurrency",
                "18446744073709551615",
            ],
            "--concurrency: expected",
        ),
        (
            vec!["get", "--instances", "x.csv", "--concurrency", "-3"],
            "--concurrency: expected",
        ),
    ]);
    for (argv, want) in &cases {
        let r = cli(argv);
        assert_eq!(r.code, 2, "{argv:?}\n{}", r.all());
        assert!(r.stderr.contains(want), "{argv:?}\n{}", r.stderr);
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    }
}

/// The binary under `sh`, after `ulimit` sets its open-file limit (`-n`: soft and hard; `-S -n`:
/// soft only), with the clean environment of [`common::std_bin`].
#[cfg(unix)]
fn with_open_file_limit(ulimit: &str, args: &[&str]) -> Run {
    let mut c = std::process::Command::new("sh");
    c.arg("-c")
        .arg(format!("ulimit {ulimit} && exec \"$@\""))
        .arg("sh")
        .arg(common::CLI)
        .args(["--color", "never"])
        .args(args);
    for v in common::CLEARED_ENV {
        c.env_remove(v);
    }
    c.env("GREENAPI_SETTINGS_PROFILES", "/nonexistent/profiles.toml");
    run(assert_cmd::Command::from_std(c))
}

/// `--concurrency` above 1,000 (issue 14): bounded at 10,000, and held to the open files the
/// process may have. A hard limit too low is refused before anything is sent, naming the limit
/// and the concurrency that fits; a soft limit too low is raised toward the hard limit.
#[cfg(unix)]
#[test]
fn concurrency_is_held_to_the_open_file_limit_which_is_raised_when_it_can_be() {
    let sb = fast(3);
    let csv = common::csv("nofile.csv", &sb);
    let p = tmp("nofile.toml", "incomingWebhook = \"yes\"\n");
    // Hard limit 256: at most (256 - 64) * 4 / 5 = 153 instances at once.
    for cmd in ["plan", "apply"] {
        let r = with_open_file_limit(
            "-n 256",
            &[cmd, s(&p), "--instances", s(&csv), "--concurrency", "500"],
        );
        assert_eq!(r.code, 2, "{}", r.all());
        for want in [
            "--concurrency 500 needs up to 689 open files",
            "at most 256 (RLIMIT_NOFILE hard limit",
            "use --concurrency 153 or less",
            "nothing was sent",
        ] {
            assert!(r.stderr.contains(want), "{want}\n{}", r.stderr);
        }
    }
    let r = with_open_file_limit(
        "-n 256",
        &["get", "--instances", s(&csv), "--concurrency", "500"],
    );
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("RLIMIT_NOFILE"), "{}", r.stderr);
    assert_eq!(calls(&sb), 0, "nothing may be sent");
    // The same hard limit, a concurrency that fits: the run goes ahead.
    let r = with_open_file_limit(
        "-n 256",
        &[
            "plan",
            s(&p),
            "--instances",
            s(&csv),
            "--concurrency",
            "153",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    // A soft limit of 256 under a higher hard limit is raised for 2,000 in flight.
    let hard = std::process::Command::new("sh")
        .args(["-c", "ulimit -H -n"])
        .output()
        .unwrap();
    let hard = String::from_utf8_lossy(&hard.stdout).trim().to_string();
    if hard == "unlimited" || hard.parse::<u64>().is_ok_and(|h| h >= 2564) {
        let r = with_open_file_limit(
            "-S -n 256",
            &[
                "apply",
                s(&p),
                "--instances",
                s(&csv),
                "--concurrency",
                "2000",
            ],
        );
        assert_eq!(r.code, 0, "{}", r.all());
        assert!(r.stdout.contains("3 instance(s): 3 applied"), "{}", r.all());
    } else {
        eprintln!("hard open-file limit {hard}: the raise is not tested here");
    }
}
