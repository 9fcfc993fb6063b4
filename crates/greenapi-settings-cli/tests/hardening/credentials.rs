//! Where credentials come from (issue 18 items 1 and 13): one source as a whole, never mixed
//! field by field, and commands that change settings refuse to run without any.

use super::*;

/// A loopback server that records every request and answers none usefully: a stale URL.
fn stale_host() -> (
    String,
    std::sync::Arc<std::sync::Mutex<Vec<common::Request>>>,
) {
    common::server(8, |_| common::http("500 Internal Server Error", "", "{}"))
}

fn profiles(text: &str) -> std::path::PathBuf {
    tmp("profiles.toml", text)
}

/// Exit 2, every `needle` on stderr, none of `hidden` anywhere in the output.
fn assert_refused(r: &Run, needles: &[&str], hidden: &[&str]) {
    assert_eq!(r.code, 2, "{}", r.all());
    for n in needles {
        assert!(r.stderr.contains(n), "{n}: {}", r.stderr);
    }
    for h in hidden {
        assert!(!r.all().contains(h), "{h} shown: {}", r.all());
    }
}

/// The recording server received nothing.
fn assert_not_contacted(seen: &std::sync::Mutex<Vec<common::Request>>) {
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        seen.lock().unwrap().is_empty(),
        "the stale URL was contacted"
    );
}

#[test]
fn a_profile_with_a_stale_url_in_the_environment_never_sends_its_token_to_that_url() {
    let sb = common::single();
    let (stale, seen) = stale_host();
    let token = greenapi_settings_sandbox::DEFAULT_TOKEN;
    // A complete profile is used whole: the environment's URL is not taken for it.
    let whole = profiles(&format!(
        "[profiles.prod]\napi_url = \"{}\"\nid_instance = {DEFAULT_INSTANCE_ID}\napi_token = \"{token}\"\n",
        sb.url()
    ));
    let mut c = bin(Color::Never);
    c.env("GREENAPI_SETTINGS_PROFILES", &whole)
        .env("GREEN_API_URL", &stale)
        .args(["--profile", "prod", "get", "--json"]);
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.all());
    // A profile without api_url is incomplete; the environment's URL does not fill it in.
    let partial = profiles(&format!(
        "[profiles.prod]\nid_instance = {DEFAULT_INSTANCE_ID}\napi_token = \"{token}\"\n"
    ));
    let mut c = bin(Color::Never);
    c.env("GREENAPI_SETTINGS_PROFILES", &partial)
        .env("GREEN_API_URL", &stale)
        .args(["--profile", "prod", "get"]);
    let r = run(c);
    assert_refused(
        &r,
        &[
            "profile prod gives id_instance, api_token but not api_url",
            "GREEN_API_URL from the environment not combined",
        ],
        &[token, &stale],
    );
    assert_not_contacted(&seen);
}

#[test]
fn flags_and_environment_are_not_mixed_and_the_error_names_sources_not_values() {
    let (stale, seen) = stale_host();
    let token = "env-TOKEN-0123456789";
    let mut c = bin(Color::Never);
    c.env("GREEN_API_TOKEN", token).args([
        "--api-url",
        &stale,
        "--id-instance",
        "1101000001",
        "get",
    ]);
    let r = run(c);
    assert_refused(
        &r,
        &[
            "the command line gives --api-url, --id-instance but not --api-token",
            "GREEN_API_TOKEN from the environment not combined",
        ],
        &[token, &stale],
    );
    // The environment, partly given, does not borrow from the default profile either.
    let p = profiles("[profiles.default]\napi_token = \"PROFILE-token-0123\"\nid_instance = 5\n");
    let mut c = bin(Color::Never);
    c.env("GREENAPI_SETTINGS_PROFILES", &p)
        .env("GREEN_API_URL", &stale)
        .arg("get");
    let r = run(c);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr
            .contains("the environment gives GREEN_API_URL but not"),
        "{}",
        r.stderr
    );
    // --profile together with credential flags is refused too.
    let mut c = bin(Color::Never);
    c.env("GREENAPI_SETTINGS_PROFILES", &p).args([
        "--profile",
        "default",
        "--api-url",
        &stale,
        "get",
    ]);
    let r = run(c);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr
            .contains("--profile default cannot be combined with --api-url"),
        "{}",
        r.stderr
    );
    assert_not_contacted(&seen);
}

#[test]
fn set_and_apply_without_credentials_refuse_with_exit_2_and_read_only_commands_use_the_sandbox() {
    let file = desired();
    for args in [
        vec!["apply", s(&file)],
        vec!["apply", s(&file), "--wait=5s"],
        vec!["set", "--incoming-webhook", "yes"],
    ] {
        let r = cli(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.all());
        assert!(
            r.stderr
                .contains("no credentials given, and this command changes settings")
                && r.stderr.contains("--sandbox"),
            "{}",
            r.stderr
        );
        assert!(
            !r.stderr.contains("using an embedded sandbox"),
            "{}",
            r.stderr
        );
    }
    // Read-only commands keep the embedded default, with the note.
    for args in [vec!["get"], vec!["plan", s(&file)], vec!["export"]] {
        let r = cli(&args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.all());
        assert!(
            r.stderr.contains("using an embedded sandbox"),
            "{}",
            r.stderr
        );
    }
    // --sandbox asks for the embedded sandbox on purpose.
    let r = cli(&["--sandbox", "apply", s(&file)]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stderr
            .contains("--sandbox given; using an embedded sandbox"),
        "{}",
        r.stderr
    );
    let r = cli(&["set", "--sandbox", "--incoming-webhook", "yes"]);
    assert_eq!(r.code, 0, "{}", r.all());
}

#[test]
fn empty_green_api_variables_in_ci_make_apply_and_set_fail_instead_of_going_green() {
    let file = desired();
    for args in [
        vec!["apply", s(&file)],
        vec!["set", "--incoming-webhook", "yes"],
    ] {
        let mut c = bin(Color::Never);
        c.env("GREEN_API_URL", "")
            .env("GREEN_API_ID_INSTANCE", " ")
            .env("GREEN_API_TOKEN", "")
            .env("CI", "true")
            .args(&args);
        let r = run(c);
        assert_eq!(r.code, 2, "{args:?}: {}", r.all());
        assert!(
            r.stderr
                .contains("(GREEN_API_URL, GREEN_API_ID_INSTANCE, GREEN_API_TOKEN set but empty)"),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn options_a_fleet_run_or_the_sandbox_does_not_use_are_errors() {
    let sb = common::single();
    let inst = fleet_csv("one.csv", common::CSV_HEADER, &sb, &[]);
    for args in [
        vec![
            "--api-url",
            "http://127.0.0.1:9",
            "apply",
            s(&desired()),
            "--instances",
            s(&inst),
        ],
        vec!["--sandbox", "get", "--instances", s(&inst)],
        vec![
            "--profile",
            "x",
            "plan",
            s(&desired()),
            "--instances",
            s(&inst),
        ],
        vec![
            "--sandbox",
            "--id-instance",
            "5",
            "set",
            "--incoming-webhook",
            "yes",
        ],
    ] {
        let r = cli(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.all());
        assert!(
            r.stderr.contains("cannot be used with --instances")
                || r.stderr.contains("--sandbox targets an embedded sandbox; it cannot be combined with --id-instance"),
            "{args:?}: {}",
            r.stderr
        );
    }
    assert_eq!(calls(&sb), 0);
}

/// Issue 19: `apply FILE --report r.json --concurrency 5` without `--instances` exited 0 and
/// wrote nothing (the fleet options were ignored silently); `plan --report` the same.
#[test]
fn fleet_options_without_instances_are_errors_and_nothing_is_sent() {
    let sb = common::single();
    let report = dir().join("r.json");
    for args in [
        vec![
            "apply",
            s(&desired()),
            "--report",
            s(&report),
            "--concurrency",
            "5",
        ],
        vec!["plan", s(&desired()), "--report", s(&report)],
        vec!["get", "--concurrency", "4"],
        vec!["export", "--concurrency", "4"],
    ] {
        let r = run(common::one(&sb).args(&args));
        assert_eq!(r.code, 2, "{args:?}: {}", r.all());
        assert!(
            r.stderr
                .contains("only apply to a fleet run: add --instances"),
            "{}",
            r.stderr
        );
    }
    assert_eq!(calls(&sb), 0);
    assert!(!report.exists());
}
