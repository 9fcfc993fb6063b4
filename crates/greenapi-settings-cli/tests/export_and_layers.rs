//! Settings as code, end to end against the real sandbox over loopback: `export` round trips
//! (one instance and a fleet), layered settings files (defaults, per-instance overrides,
//! `{idInstance}`, `${NAME}`) for plan / apply / validate, and `schema`.

mod common;

use common::{
    against, bin, cli, client, csv, default_client, fast, one, read, run, s, set_calls, single,
    tmp, Color,
};
use greenapi_settings::SettingsPatch;
use greenapi_settings_sandbox::DEFAULT_INSTANCE_ID;
use serde_json::Value;

// ---- export --------------------------------------------------------------------------------

#[test]
fn export_then_plan_of_the_same_instance_shows_no_changes_and_never_writes_the_token() {
    let sb = single();
    default_client(&sb)
        .set_settings(
            &SettingsPatch::new()
                .webhook_url("https://hooks.example.com/x?a=${b}")
                .webhook_url_token("hook-SECRET-42")
                .delay_send_messages_milliseconds(7000)
                .incoming_webhook(true)
                .auto_typing(2),
        )
        .unwrap();
    let out = tmp("exported.toml", "");
    let r = against(&sb, &["export", "--output", s(&out)]);
    assert_eq!(r.code, 0, "{}", r.all());
    let text = read(&out);
    assert!(
        !text.contains("hook-SECRET-42") && !r.all().contains("hook-SECRET-42"),
        "{text}"
    );
    assert!(
        text.contains("webhookUrlToken = \"${GREENAPI_WEBHOOK_TOKEN}\""),
        "{text}"
    );
    assert!(
        text.contains("webhookUrl = \"https://hooks.example.com/x?a=$${b}\""),
        "{text}"
    );
    assert!(
        text.contains("delaySendMessagesMilliseconds = 7000"),
        "{text}"
    );
    // Read-only and deprecated fields are named in the header, never set.
    let (header, body) = text.split_once("\n[settings]\n").unwrap();
    for name in ["wid", "typeAccount", "sharedSession", "countryInstance"] {
        assert!(header.contains(name), "{name}: {header}");
        assert!(!body.contains(&format!("{name} =")), "{name}: {body}");
    }
    assert!(
        r.stderr.contains("set GREENAPI_WEBHOOK_TOKEN"),
        "{}",
        r.stderr
    );

    // Without the variable: an error naming it, nothing sent.
    let r = against(&sb, &["plan", s(&out)]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr
            .contains("environment variable GREENAPI_WEBHOOK_TOKEN is not set"),
        "{}",
        r.stderr
    );
    let r = run(one(&sb)
        .env("GREENAPI_WEBHOOK_TOKEN", "hook-SECRET-42")
        .args(["plan", s(&out), "--detailed-exitcode"]));
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("No changes"), "{}", r.stdout);
    assert!(!r.all().contains("hook-SECRET-42"));

    // JSON, and secrets in clear when asked (the file then private to its owner).
    let json = tmp("exported.json", "");
    let r = against(&sb, &["export", "--include-secrets", "-o", s(&json)]);
    assert_eq!(r.code, 0, "{}", r.all());
    let doc: Value = serde_json::from_str(&read(&json)).unwrap();
    assert_eq!(doc["settings"]["webhookUrlToken"], "hook-SECRET-42");
    assert!(!r.all().contains("hook-SECRET-42"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&json).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{mode:o}");
    }
    let r = against(&sb, &["apply", s(&json)]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("No changes"), "{}", r.stdout);
    assert_eq!(set_calls(&sb), 1, "only the setup sent anything");
}

#[test]
fn export_to_stdout_with_a_chosen_token_variable_and_json_format() {
    let sb = single();
    default_client(&sb)
        .set_settings(&SettingsPatch::new().webhook_url_token("hook-SECRET-7"))
        .unwrap();
    let r = against(
        &sb,
        &[
            "export",
            "--format",
            "json",
            "--token-env",
            "PROD_HOOK_TOKEN",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    let doc = r.json();
    assert_eq!(doc["settings"]["webhookUrlToken"], "${PROD_HOOK_TOKEN}");
    assert!(doc["settings"].get("wid").is_none());
    assert!(!r.all().contains("hook-SECRET-7"));
}

#[test]
fn export_refuses_a_bad_variable_name_or_output_path_before_contacting_anyone() {
    let sb = single();
    for args in [
        vec!["export", "--token-env", "1BAD-NAME"],
        vec!["export", "--output", "/nonexistent-dir/x.toml"],
        vec!["export", "--format", "yaml"],
    ] {
        let r = against(&sb, &args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.all());
    }
    let calls: u64 = sb.all_stats().iter().map(|s| s.get_settings_calls).sum();
    assert_eq!(calls, 0);
}

#[test]
fn a_fleet_export_has_common_defaults_an_id_template_and_overrides_and_plans_clean() {
    let sb = fast(3);
    let ids = sb.instance_ids();
    for (i, id) in ids.iter().enumerate() {
        let mut p = SettingsPatch::new()
            .webhook_url(format!("https://hooks.example.com/{id}"))
            .webhook_url_token("shared-SECRET")
            .incoming_webhook(true);
        if i == 2 {
            p = p
                .delay_send_messages_milliseconds(9000)
                .webhook_url_token("other-SECRET");
        }
        client(&sb, *id).set_settings(&p).unwrap();
    }
    let fleet = csv("export-fleet.csv", &sb);
    let out = tmp("export-fleet.toml", "");
    let r = cli(&["export", "--instances", s(&fleet), "--output", s(&out)]);
    assert_eq!(r.code, 0, "{}", r.all());
    let text = read(&out);
    assert!(
        !text.contains("SECRET") && !r.all().contains("SECRET"),
        "{text}"
    );
    assert!(
        text.contains("webhookUrl = \"https://hooks.example.com/{idInstance}\""),
        "{text}"
    );
    let (_, over) = text
        .split_once(&format!("[instances.\"{}\"]\n", ids[2]))
        .unwrap();
    assert!(
        over.contains(&format!(
            "webhookUrlToken = \"${{GREENAPI_WEBHOOK_TOKEN_{}}}\"\n",
            ids[2]
        )),
        "{text}"
    );
    assert!(
        over.contains("delaySendMessagesMilliseconds = 9000\n"),
        "{text}"
    );
    assert_eq!(text.matches("\n[instances.").count(), 1, "{text}");
    // A fresh instance's delay of 0 cannot be sent back: left out, and said so.
    assert!(text.contains("# Left out, as it cannot be set: delaySendMessagesMilliseconds: the value of 2 instance(s)"), "{text}");

    let before = set_calls(&sb);
    let mut c = bin(Color::Never);
    c.env("GREENAPI_WEBHOOK_TOKEN", "shared-SECRET")
        .env(format!("GREENAPI_WEBHOOK_TOKEN_{}", ids[2]), "other-SECRET")
        .args([
            "plan",
            s(&out),
            "--instances",
            s(&fleet),
            "--detailed-exitcode",
        ]);
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("drift: 0 of 3"), "{}", r.stdout);
    assert_eq!(set_calls(&sb), before);
}

// ---- layered settings files ----------------------------------------------------------------

const LAYERED: &str = "[settings]\nincomingWebhook = \"yes\"\nwebhookUrl = \"https://hooks.example.com/{idInstance}\"\nwebhookUrlToken = \"${LAYER_TOKEN}\"\n\n[instances.\"ID\"]\nincoming_webhook = false\ndelaySendMessagesMilliseconds = 4000\n";

#[test]
fn a_layered_file_brings_each_fleet_instance_to_its_defaults_and_overrides() {
    let sb = fast(3);
    let ids = sb.instance_ids();
    let fleet = csv("layered.csv", &sb);
    let f = tmp("layered.toml", &LAYERED.replace("ID", &ids[1].to_string()));
    let mut c = bin(Color::Never);
    c.env("LAYER_TOKEN", "layer-SECRET")
        .args(["apply", s(&f), "--instances", s(&fleet)]);
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(!r.all().contains("layer-SECRET"));
    for (i, id) in ids.iter().enumerate() {
        let st = sb.stats(*id).unwrap().settings;
        assert_eq!(st.webhook_url, format!("https://hooks.example.com/{id}"));
        assert_eq!(st.webhook_url_token, "layer-SECRET");
        assert_eq!(st.incoming_webhook, i != 1, "{id}");
        assert_eq!(
            st.delay_send_messages_milliseconds,
            if i == 1 { 4000 } else { 0 }
        );
    }
    // The same file on one instance uses that instance's override; others' are ignored.
    let single_sb = single();
    let f = tmp(
        "layered-one.toml",
        &LAYERED.replace("ID", &DEFAULT_INSTANCE_ID.to_string()),
    );
    let r = run({
        let mut c = one(&single_sb);
        c.env("LAYER_TOKEN", "layer-SECRET").args(["apply", s(&f)]);
        c
    });
    assert_eq!(r.code, 0, "{}", r.all());
    let st = single_sb.stats(DEFAULT_INSTANCE_ID).unwrap().settings;
    assert!(!st.incoming_webhook);
    assert_eq!(st.delay_send_messages_milliseconds, 4000);
}

#[test]
fn every_instance_is_validated_first_naming_instance_field_and_variable_and_nothing_is_sent() {
    let sb = fast(3);
    let ids = sb.instance_ids();
    let fleet = csv("invalid.csv", &sb);
    let f = tmp(
        "invalid.toml",
        &format!(
            "webhookUrl = \"${{BAD_HOOK}}\"\nincomingWebhook = \"yes\"\n[instances.\"{}\"]\ndelaySendMessagesMilliseconds = 10\nwebhookUrlToken = \"${{MISSING_TOKEN}}\"\n",
            ids[0]
        ),
    );
    for cmd in ["plan", "apply", "validate"] {
        let mut c = bin(Color::Never);
        c.env("BAD_HOOK", "ftp://url-SECRET.example/")
            .args([cmd, s(&f), "--instances", s(&fleet)]);
        let r = run(c);
        assert_eq!(r.code, 2, "{cmd}: {}", r.all());
        assert!(!r.all().contains("url-SECRET"), "{cmd}: {}", r.all());
        let err = &r.stderr;
        assert!(
            err.contains("problem(s) in 3 instance(s); nothing was sent"),
            "{err}"
        );
        assert!(
            err.contains("all 3 instances: webhookUrl: \"${BAD_HOOK}\" has scheme `ftp`"),
            "{err}"
        );
        assert!(
            err.contains(&format!(
                "instance {}: webhookUrlToken: environment variable MISSING_TOKEN is not set",
                ids[0]
            )),
            "{err}"
        );
        assert!(
            err.contains(&format!(
                "instance {}: delaySendMessagesMilliseconds",
                ids[0]
            )),
            "{err}"
        );
    }
    let calls: u64 = sb
        .all_stats()
        .iter()
        .map(|s| s.get_settings_calls + s.set_settings_calls)
        .sum();
    assert_eq!(calls, 0, "nothing was sent");
}

#[test]
fn an_override_for_an_instance_outside_the_fleet_is_an_error() {
    let sb = fast(2);
    let fleet = csv("outside.csv", &sb);
    let f = tmp(
        "outside.toml",
        "stateWebhook = \"yes\"\n[instances.\"999\"]\nstateWebhook = \"no\"\n",
    );
    for cmd in ["plan", "apply", "validate"] {
        let r = cli(&[cmd, s(&f), "--instances", s(&fleet)]);
        assert_eq!(r.code, 2, "{}", r.all());
        assert!(
            r.stderr.contains("override(s) for instance(s) not in") && r.stderr.contains(": 999;"),
            "{}",
            r.stderr
        );
    }
    assert_eq!(set_calls(&sb), 0);
}

#[test]
fn validate_resolves_every_override_and_the_defaults_offline() {
    let f = tmp(
        "validate-layered.toml",
        "[settings]\nstateWebhook = \"yes\"\n[instances.\"1101000007\"]\nautoTyping = 9\n[instances.\"1101000008\"]\nincomingWebhook = \"yes\"\n",
    );
    let r = cli(&["validate", s(&f)]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr
            .contains("instance 1101000007: autoTyping: 9 is out of range"),
        "{}",
        r.stderr
    );
    let ok = tmp(
        "validate-ok.toml",
        "[settings]\nstateWebhook = \"yes\"\n[instances.\"1101000007\"]\nautoTyping = 3\n",
    );
    let r = cli(&["validate", s(&ok)]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("1 instance(s) resolved"), "{}", r.stdout);
    let both = tmp(
        "validate-both.toml",
        "stateWebhook = \"yes\"\n[settings]\nincomingWebhook = \"yes\"\n",
    );
    let r = cli(&["validate", s(&both)]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("put defaults in one place"),
        "{}",
        r.stderr
    );
}

// ---- schema --------------------------------------------------------------------------------

#[test]
fn schema_prints_the_checked_in_json_schema_2020_12() {
    let mut c = bin(Color::Never);
    c.arg("schema");
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.all());
    let checked_in = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../docs/settings-file.schema.json"),
    )
    .unwrap();
    assert_eq!(r.stdout, checked_in);
    let doc = r.json();
    assert_eq!(
        doc["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(doc["$defs"]["webhookUrl"]["maxLength"], 2048);
    assert_eq!(doc["$defs"]["sharedSession"]["deprecated"], true);
}
