//! Output habits: colours follow NO_COLOR / CLICOLOR / CLICOLOR_FORCE (anstream), hints show
//! without `--verbose`, help groups the global and connection options under their own
//! headings and shows connection options only on commands that contact an instance, where
//! giving one elsewhere is an error naming why.

use greenapi_settings_sandbox::{BlockingSandbox, SandboxConfig, DEFAULT_INSTANCE_ID};

use crate::common::{bin, cli, one, run, s, tmp, Color};

const COLOUR_VARS: [&str; 4] = ["NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "TERM"];

/// `plan` of a change (coloured on a colour terminal) with these variables, stdout a pipe.
fn plan_with(sb: &BlockingSandbox, env: &[(&str, &str)], extra: &[&str]) -> String {
    let desired = tmp("colours.toml", "incomingWebhook = \"yes\"\n");
    let mut c = bin(Color::Unset);
    c.env("GREEN_API_URL", sb.url())
        .env("GREEN_API_ID_INSTANCE", DEFAULT_INSTANCE_ID.to_string())
        .env("GREEN_API_TOKEN", greenapi_settings_sandbox::DEFAULT_TOKEN);
    for v in COLOUR_VARS {
        c.env_remove(v);
    }
    c.envs(env.iter().copied());
    c.args(extra).args(["plan", s(&desired)]);
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.all());
    r.stdout
}

#[test]
fn colours_follow_no_color_clicolor_and_clicolor_force_and_the_flag_wins() {
    let sb = BlockingSandbox::start(SandboxConfig::default()).unwrap();
    let coloured = |out: &str| out.contains("\x1b[");
    // A pipe: no colours unless forced.
    assert!(!coloured(&plan_with(&sb, &[], &[])));
    assert!(coloured(&plan_with(&sb, &[("CLICOLOR_FORCE", "1")], &[])));
    // NO_COLOR beats CLICOLOR_FORCE; CLICOLOR=0 alone is off.
    assert!(!coloured(&plan_with(
        &sb,
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")],
        &[]
    )));
    assert!(!coloured(&plan_with(&sb, &[("CLICOLOR", "0")], &[])));
    // The flag is the person's word for this run: it beats the environment both ways.
    assert!(coloured(&plan_with(
        &sb,
        &[("NO_COLOR", "1")],
        &["--color", "always"]
    )));
    assert!(!coloured(&plan_with(
        &sb,
        &[("CLICOLOR_FORCE", "1")],
        &["--color", "never"]
    )));
}

#[test]
fn a_hint_shows_without_verbose() {
    let sb = BlockingSandbox::start(SandboxConfig::default()).unwrap();
    let mut c = one(&sb);
    c.env("GREEN_API_TOKEN", "not-the-token-of-this-instance");
    c.arg("get");
    let r = run(c);
    assert_eq!(r.code, 1, "{}", r.all());
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert!(
        lines[0].starts_with("error: authentication failed"),
        "{}",
        r.stderr
    );
    assert!(
        lines[1].starts_with("hint: check the API token"),
        "{}",
        r.stderr
    );
    assert!(!r.all().contains("not-the-token-of-this-instance"));
}

#[test]
fn connection_options_are_refused_where_no_instance_is_contacted() {
    let file = tmp("offline.toml", "incomingWebhook = \"yes\"\n");
    for (args, why) in [
        (
            vec!["validate", s(&file), "--api-url", "https://a.example"],
            "checks files offline",
        ),
        (
            vec!["--sandbox", "validate", s(&file)],
            "checks files offline",
        ),
        (
            vec!["docs", "--timeout", "5s"],
            "prints the settings reference",
        ),
        (
            vec!["demo", "--profile", "prod"],
            "always runs on a fresh embedded sandbox",
        ),
        (
            vec!["--retries", "2", "schema"],
            "prints the settings files' schema",
        ),
    ] {
        let r = cli(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.all());
        assert!(
            r.stderr.contains("does not apply to `"),
            "{args:?}: {}",
            r.all()
        );
        assert!(r.stderr.contains(why), "{args:?}: {}", r.all());
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.all());
    }
}

#[test]
fn help_groups_options_and_shows_connection_options_only_where_they_are_used() {
    let get = cli(&["get", "--help"]).stdout;
    let (own, rest) = get.split_once("Connection options:").expect(&get);
    let (connection, global) = rest.split_once("Global options:").expect(&get);
    assert!(
        own.contains("--json") && !own.contains("--api-url"),
        "{get}"
    );
    assert!(
        connection.contains("--api-url") && connection.contains("--timeout"),
        "{get}"
    );
    assert!(
        global.contains("--color") && global.contains("--quiet"),
        "{get}"
    );
    for offline in ["validate", "docs", "schema", "demo", "completions", "man"] {
        let help = cli(&[offline, "--help"]).stdout;
        assert!(help.contains("Global options:"), "{offline}: {help}");
        assert!(
            !help.contains("Connection options:") && !help.contains("--api-url"),
            "{offline}: {help}"
        );
    }
}
