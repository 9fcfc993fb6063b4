//! Sizes are capped and long values clipped; messages say what was found.

use super::*;

#[cfg(unix)]
#[test]
fn endless_and_oversized_input_files_are_refused() {
    let p = tmp("size.toml", "incomingWebhook = \"yes\"\n");
    let csv = tmp("size.csv", "1,tok-4f1c9a,http://127.0.0.1:9\n");
    let big = tmp("big.toml", &format!("# {}\n", "x".repeat(2 << 20)));
    let cases: Vec<Vec<&str>> = vec![
        vec!["validate", "/dev/zero"],
        vec!["validate", s(&big)],
        vec!["plan", s(&p), "--instances", "/dev/zero"],
        vec!["set", "--json", "@/dev/zero"],
        vec![
            "apply",
            s(&p),
            "--instances",
            s(&csv),
            "--resume",
            "/dev/zero",
        ],
        vec!["get", "--instances", "/dev/zero"],
    ];
    for argv in cases {
        let r = cli(&argv);
        assert_eq!(r.code, 2, "{argv:?}\n{}", r.all());
        assert!(
            r.stderr.contains("is larger than"),
            "{argv:?}\n{}",
            r.stderr
        );
    }
    let mut c = bin(Color::Never);
    c.env("GREENAPI_SETTINGS_PROFILES", "/dev/zero")
        .args(["--profile", "x", "get"]);
    let r = run(c);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("is larger than 1 MiB"), "{}", r.stderr);
}

#[test]
fn a_long_value_is_clipped_in_the_message() {
    let long = "b".repeat(5000);
    let r = cli(&["set", "--incoming-webhook", &long]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("(5000 characters)"), "{}", r.stderr);
    assert!(r.stderr.len() < 500, "{}", r.stderr);
    let r = cli(&["--timeout", &long, "get"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.len() < 500, "{}", r.stderr);
}

// Messages that say what was found

#[test]
fn toml_inf_nan_datetimes_and_huge_integers_are_named_for_what_they_are() {
    let r = validate(
        "odd.toml",
        "delaySendMessagesMilliseconds = inf\nwebhookUrl = nan\nincomingWebhook = 1979-05-27T07:32:00Z\n",
    );
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        !r.stderr.contains("found null") && !r.stderr.contains("found an object"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("delaySendMessagesMilliseconds: found the float inf"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("webhookUrl: found the float NaN"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("incomingWebhook: found the TOML date/time 1979-05-27T07:32:00Z"),
        "{}",
        r.stderr
    );

    let r = validate(
        "huge.toml",
        "delaySendMessagesMilliseconds = 99999999999999999999\n",
    );
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("line 1, column 33: integer out of range"),
        "{}",
        r.stderr
    );
    let r = validate(
        "huge.json",
        "{\"delaySendMessagesMilliseconds\": -99999999999999999999}",
    );
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("beyond the 64-bit integer range"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_byte_order_mark_is_accepted_in_json_as_in_toml() {
    for (name, text) in [
        ("bom.json", "\u{feff}{\"incomingWebhook\": \"yes\"}"),
        ("bom.toml", "\u{feff}incomingWebhook = \"yes\"\n"),
        ("bom.cfg", "\u{feff}{\"incomingWebhook\": \"yes\"}"),
    ] {
        let r = validate(name, text);
        assert_eq!(r.code, 0, "{name}: {}", r.all());
    }
}

/// Issue 19: a file with four problems listed three; the value problems (range, URL) showed
/// only after the type problems were fixed.
#[test]
fn validate_lists_value_problems_together_with_type_problems() {
    let r = validate(
        "four.toml",
        "incomingWebhook = \"maybe\"\ndelaySendMessagesMilliseconds = 1\nnoSuchSetting = 1\nwebhookUrl = \"hooks.example.com\"\n",
    );
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("4 problem(s)"), "{}", r.stderr);
    for needle in [
        "[yesNo]",
        "[unknownField]",
        "webhookUrl: \"hooks.example.com\"",
        "[range]",
    ] {
        assert!(r.stderr.contains(needle), "{needle}: {}", r.stderr);
    }
}
