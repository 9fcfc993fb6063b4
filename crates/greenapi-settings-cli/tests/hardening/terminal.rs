//! Raw terminal escapes (issue 18 item 9): text from the server (values, unknown field names,
//! error messages) never reaches the terminal with its control characters.

use super::*;

const TOKEN: &str = "0123456789abcdef0123456789abcdef";

/// The sandbox's settings with a hostile webhookUrl and an unknown field whose name and value
/// carry escapes; errors (400) for setSettings carry them in the message, with a fake line.
fn hostile() -> String {
    let sb = common::single();
    let mut current =
        serde_json::to_value(common::default_client(&sb).get_settings().unwrap()).unwrap();
    current["webhookUrl"] = "https://h.example/\u{1b}]0;pwned\u{7}".into();
    current["evil\u{1b}[2Jname"] = "\u{1b}[31mred\u{9b}0m".into();
    let body = current.to_string();
    let (url, _) = common::server(64, move |req| {
        if req.line.contains("/setSettings/") {
            common::http(
                "400 Bad Request",
                "",
                r#"{"message":"bad\u001b[1A\u001b[2K\nsaved 1 setting(s)\u0007"}"#,
            )
        } else {
            common::http("200 OK", "", &body)
        }
    });
    url
}

fn assert_no_raw_controls(r: &Run) {
    let all = r.all();
    for c in ['\u{1b}', '\u{7}', '\u{9b}'] {
        assert!(!all.contains(c), "raw {c:?} in:\n{all:?}");
    }
    assert!(
        !all.lines().any(|l| l.starts_with("saved 1 setting")),
        "a faked line:\n{all}"
    );
}

#[test]
fn server_text_with_escapes_is_shown_escaped_in_get_plan_set_and_fleet_lines() {
    let url = hostile();
    let env = |c: &mut assert_cmd::Command| {
        c.env("GREEN_API_URL", &url)
            .env("GREEN_API_ID_INSTANCE", "1101000001")
            .env("GREEN_API_TOKEN", TOKEN);
    };
    let file = tmp("hook.toml", "webhookUrl = \"https://ok.example/hook\"\n");
    for args in [
        vec!["get"],
        vec!["plan", s(&file)],
        vec!["apply", s(&file)],
        vec!["--verbose", "set", "--incoming-webhook", "yes"],
        vec!["spec-check"],
    ] {
        let mut c = bin(Color::Never);
        env(&mut c);
        c.args(&args);
        let r = run(c);
        assert_no_raw_controls(&r);
        if args[0] == "get" {
            assert_eq!(r.code, 0, "{}", r.all());
            assert!(r.stdout.contains("\\x1b]0;pwned\\x07"), "{}", r.stdout);
            assert!(r.stdout.contains("evil\\x1b[2Jname"), "{}", r.stdout);
        }
        if args.contains(&"set") || args.contains(&"apply") {
            assert_eq!(r.code, 1, "{}", r.all());
            assert!(
                r.stderr.contains("bad\\x1b[1A\\x1b[2K\\nsaved"),
                "{}",
                r.stderr
            );
        }
    }
    let inst = tmp(
        "hostile.csv",
        &format!("id,token,api_url\n1101000001,{TOKEN},{url}\n"),
    );
    for cmd in ["plan", "apply"] {
        let r = cli(&[cmd, s(&file), "--instances", s(&inst)]);
        assert_no_raw_controls(&r);
    }
}
