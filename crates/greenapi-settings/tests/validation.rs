//! Validation rules of the generated `SettingsPatch`, one test per rule, plus the wire format.

use greenapi_settings::{facts, Settings, SettingsPatch, Severity, Violation};
use serde_json::{json, Value};

fn fields(vs: &[Violation]) -> Vec<&str> {
    vs.iter()
        .map(|v| v.field.as_deref().unwrap_or("<patch>"))
        .collect()
}

fn rules(vs: &[Violation]) -> Vec<&str> {
    vs.iter().map(|v| v.rule).collect()
}

#[test]
fn delay_100_and_ftp_url_give_two_errors_in_one_call() {
    let report = SettingsPatch::new()
        .delay_send_messages_milliseconds(100)
        .webhook_url("ftp://x")
        .validate();
    assert_eq!(
        fields(&report.errors),
        ["webhookUrl", "delaySendMessagesMilliseconds"]
    );
    assert_eq!(rules(&report.errors), ["url", "range"]);
    let delay = &report.errors[1];
    assert_eq!(delay.value, Some(json!(100)));
    assert_eq!(
        delay.to_string(),
        "delaySendMessagesMilliseconds: 100 is out of range: must be between 500 and 600000 ms [range]"
    );
    assert!(
        report.errors[0].message.contains("\"ftp://x\""),
        "{}",
        report.errors[0]
    );
    let err = report.into_result().unwrap_err();
    assert_eq!(err.violations.len(), 2);
    assert!(err
        .to_string()
        .starts_with("invalid settings (2 problems): webhookUrl: "));
}

#[test]
fn an_empty_patch_is_an_error() {
    let report = SettingsPatch::new().validate();
    assert_eq!(rules(&report.errors), ["atLeastOneParameter"]);
    assert_eq!(report.errors[0].field, None);
}

#[test]
fn delay_bounds_are_inclusive() {
    for ok in [500, 15_000, 300_000, 600_000] {
        assert!(
            SettingsPatch::new()
                .delay_send_messages_milliseconds(ok)
                .validate()
                .is_ok(),
            "{ok}"
        );
    }
    for bad in [i64::MIN, -1, 0, 499, 600_001, 86_400_000, i64::MAX] {
        let r = SettingsPatch::new()
            .delay_send_messages_milliseconds(bad)
            .validate();
        assert_eq!(rules(&r.errors), ["range"], "{bad}");
    }
}

#[test]
fn webhook_url_must_be_empty_or_an_absolute_http_url() {
    for ok in [
        "",
        "https://mysite.com/webhook/green-api/",
        "http://127.0.0.1:8080/hook",
        "https://[::1]/x",
    ] {
        let r = SettingsPatch::new().webhook_url(ok).validate();
        assert!(r.is_ok(), "{ok:?}: {:?}", r.errors);
    }
    for bad in [
        "ftp://x",
        "mysite.com/webhook",
        "https://",
        "https://a b.com",
        "javascript:alert(1)",
        "http://x/\r\n",
        " https://x",
    ] {
        let r = SettingsPatch::new().webhook_url(bad).validate();
        assert_eq!(fields(&r.errors), ["webhookUrl"], "{bad:?}");
        assert_eq!(r.errors[0].value, Some(Value::String(bad.into())));
    }
}

#[test]
fn webhook_token_rejects_control_characters_without_echoing_the_secret() {
    assert!(SettingsPatch::new()
        .webhook_url_token("")
        .validate()
        .is_ok());
    assert!(SettingsPatch::new()
        .webhook_url_token("Bearer abc.def")
        .validate()
        .is_ok());
    let secret = "s3cr3t\r\nX-Injected: 1";
    let r = SettingsPatch::new().webhook_url_token(secret).validate();
    assert_eq!(rules(&r.errors), ["controlCharacters"]);
    let shown = format!("{r:?} {}", r.errors[0]);
    assert!(!shown.contains("s3cr3t"), "{shown}");
}

#[test]
#[allow(deprecated)]
fn deprecated_and_broken_fields_validate_with_warnings() {
    let r = SettingsPatch::new()
        .shared_session(true)
        .device_webhook(true)
        .incoming_block_webhook(false)
        .validate();
    assert!(r.is_ok());
    assert_eq!(
        fields(&r.warnings),
        ["sharedSession", "deviceWebhook", "incomingBlockWebhook"]
    );
    assert_eq!(
        rules(&r.warnings),
        ["deprecated", "temporarilyBroken", "temporarilyBroken"]
    );
    assert!(r.warnings.iter().all(|w| w.severity == Severity::Warning));
}

#[test]
fn mark_read_is_reported_ignored_when_mark_read_on_reply_is_on() {
    let r = SettingsPatch::new()
        .mark_incoming_messages_readed(true)
        .mark_incoming_messages_readed_on_reply(true)
        .validate();
    assert_eq!(rules(&r.warnings), ["markReadIgnoredOnReply"]);
    assert_eq!(fields(&r.warnings), ["markIncomingMessagesReaded"]);
}

#[test]
fn rules_use_current_settings_merged_with_the_patch() {
    let mut current = Settings::default();
    current.mark_incoming_messages_readed_on_reply = true;
    let patch = SettingsPatch::new().mark_incoming_messages_readed(true);
    // On its own the patch cannot know the other setting: no warning.
    assert!(patch.validate().warnings.is_empty());
    assert_eq!(
        rules(&patch.validate_against(&current).warnings),
        ["markReadIgnoredOnReply"]
    );
    // A patch that touches none of the rule's fields does not repeat old news.
    let unrelated = SettingsPatch::new().state_webhook(true);
    let mut current = current;
    current.mark_incoming_messages_readed = true;
    assert!(unrelated.validate_against(&current).warnings.is_empty());
}

#[test]
fn poll_webhook_needs_one_message_webhook() {
    let patch = SettingsPatch::new().poll_message_webhook(true);
    assert_eq!(
        rules(&patch.validate_against(&Settings::default()).warnings),
        ["pollNeedsMessageWebhook"]
    );
    let mut with_incoming = Settings::default();
    with_incoming.incoming_webhook = true;
    assert!(patch.validate_against(&with_incoming).warnings.is_empty());
    let all_off = patch
        .clone()
        .outgoing_api_message_webhook(false)
        .outgoing_message_webhook(false)
        .incoming_webhook(false);
    assert_eq!(
        rules(&all_off.validate().warnings),
        ["pollNeedsMessageWebhook"]
    );
}

#[test]
fn call_and_phone_status_webhooks_need_their_companions() {
    let r = SettingsPatch::new()
        .incoming_call_webhook(true)
        .outgoing_message_webhook(true)
        .validate_against(&Settings::default());
    assert_eq!(
        rules(&r.warnings),
        ["phoneSentStatuses", "incomingCallStatuses"]
    );
    let r = SettingsPatch::new()
        .incoming_call_webhook(true)
        .incoming_webhook(true)
        .outgoing_message_webhook(true)
        .outgoing_webhook(true)
        .validate_against(&Settings::default());
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
}

#[test]
fn the_seed_example_body_round_trips_exactly() {
    let body: Value = serde_json::from_str(facts::SET_SETTINGS_EXAMPLE_BODY).unwrap();
    let patch = SettingsPatch::from_json_value(&body).unwrap();
    assert_eq!(patch.to_json_value(), body);
    assert_eq!(serde_json::to_value(&patch).unwrap(), body);
    let built = SettingsPatch::new()
        .webhook_url("https://mysite.com/webhook/green-api/")
        .webhook_url_token("")
        .delay_send_messages_milliseconds(5000)
        .mark_incoming_messages_readed(false)
        .mark_incoming_messages_readed_on_reply(false)
        .outgoing_webhook(true)
        .outgoing_message_webhook(true)
        .outgoing_api_message_webhook(true)
        .incoming_webhook(true)
        .device_webhook(false)
        .state_webhook(true)
        .keep_online_status(false)
        .poll_message_webhook(false)
        .incoming_block_webhook(true)
        .incoming_call_webhook(true);
    assert_eq!(built, patch);
    // Valid; the two fields the seed marks as temporarily not working are warned about.
    let r = patch.validate();
    assert!(r.is_ok(), "{:?}", r.errors);
    assert_eq!(
        fields(&r.warnings),
        ["deviceWebhook", "incomingBlockWebhook"]
    );
}

#[test]
fn the_seed_curl_body_is_a_valid_patch() {
    let patch: SettingsPatch =
        serde_json::from_str(r#"{"delaySendMessagesMilliseconds": 15000}"#).unwrap();
    assert_eq!(
        patch,
        SettingsPatch::new().delay_send_messages_milliseconds(15000)
    );
    assert!(patch.validate().is_ok());
}

#[test]
fn from_json_collects_every_type_problem_and_suggests_names() {
    let body = json!({
        "delaySendMessagesMilliseconds": "1000",
        "incomingWebhook": "maybe",
        "webhookURL": "https://x",
        "outgoingWebhook": "yes",
    });
    let errs = SettingsPatch::from_json_value(&body).unwrap_err();
    assert_eq!(
        fields(&errs),
        [
            "delaySendMessagesMilliseconds",
            "incomingWebhook",
            "webhookURL"
        ]
    );
    assert_eq!(rules(&errs), ["integer", "yesNo", "unknownField"]);
    assert!(
        errs[2].message.contains("did you mean `webhookUrl`"),
        "{}",
        errs[2]
    );
    let e = serde_json::from_value::<SettingsPatch>(body)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("incomingWebhook") && e.contains("webhookURL"),
        "{e}"
    );
    assert!(SettingsPatch::from_json_value(&json!([1])).is_err());
}

#[test]
fn snake_case_names_and_booleans_are_accepted_on_input() {
    let p = SettingsPatch::from_json_value(
        &json!({"incoming_webhook": true, "delay_send_messages_milliseconds": 600}),
    )
    .unwrap();
    assert_eq!(
        p,
        SettingsPatch::new()
            .incoming_webhook(true)
            .delay_send_messages_milliseconds(600)
    );
    assert_eq!(
        p.to_json_value(),
        json!({"delaySendMessagesMilliseconds": 600, "incomingWebhook": "yes"})
    );
}

#[test]
fn settings_read_back_keep_unknown_fields_and_accept_out_of_range_and_quirky_values() {
    let body = json!({
        "wid": "79001234567@c.us",
        "typeAccount": "trial",
        "proxyInstance": null,
        "webhookUrl": "",
        "delaySendMessagesMilliseconds": 0,
        "incomingWebhook": "yes",
        "futureWebhook": "yes",
    });
    let s = Settings::from_json_value(&body).unwrap();
    assert_eq!(s.delay_send_messages_milliseconds, 0);
    assert!(s.incoming_webhook);
    assert_eq!(s.wid.as_deref(), Some("79001234567@c.us"));
    assert_eq!(s.extra.get("futureWebhook"), Some(&json!("yes")));
    let back = s.to_json_value();
    assert_eq!(back["futureWebhook"], "yes");
    assert_eq!(back["incomingWebhook"], "yes");
    assert_eq!(Settings::from_json_value(&back).unwrap(), s);
    // Quirky forms of known values are read, not rejected.
    let quirky = Settings::from_json_value(&json!({
        "incomingWebhook": "Yes", "stateWebhook": false, "delaySendMessagesMilliseconds": "5000"
    }))
    .unwrap();
    assert!(quirky.incoming_webhook && !quirky.state_webhook);
    assert_eq!(quirky.delay_send_messages_milliseconds, 5000);
    let float = Settings::from_json_value(&json!({"delaySendMessagesMilliseconds": 1000.0}));
    assert_eq!(float.unwrap().delay_send_messages_milliseconds, 1000);
    let bad = Settings::from_json_value(
        &json!({"incomingWebhook": 3, "delaySendMessagesMilliseconds": "x"}),
    )
    .unwrap_err();
    assert_eq!(
        fields(&bad),
        ["incomingWebhook", "delaySendMessagesMilliseconds"]
    );
}

#[test]
fn debug_and_changes_never_show_the_webhook_token() {
    let token = "tok-SECRET-123";
    let patch = SettingsPatch::new()
        .webhook_url_token(token)
        .incoming_webhook(true);
    let mut settings = Settings::default();
    settings.webhook_url_token = token.into();
    let changes = SettingsPatch::new()
        .webhook_url_token("other-SECRET")
        .changes(&settings);
    let shown = format!("{patch:?} {settings:?} {changes:?} {}", changes[0]);
    assert!(!shown.contains("SECRET"), "{shown}");
    assert!(shown.contains("<redacted>"));
}

#[test]
fn changes_and_changed_only_skip_fields_already_in_place() {
    let mut current = Settings::default();
    current.incoming_webhook = true;
    current.delay_send_messages_milliseconds = 5000;
    let desired = SettingsPatch::new()
        .incoming_webhook(true)
        .delay_send_messages_milliseconds(6000)
        .state_webhook(true);
    let changes = desired.changes(&current);
    let shown: Vec<String> = changes.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "delaySendMessagesMilliseconds: 5000 -> 6000",
            "stateWebhook: \"no\" -> \"yes\""
        ]
    );
    let send = desired.changed_only(&current);
    assert_eq!(
        send.field_names(),
        ["delaySendMessagesMilliseconds", "stateWebhook"]
    );
    let mut after = current.clone();
    desired.apply_to(&mut after);
    assert!(desired.changed_only(&after).is_empty());
}

#[test]
fn set_settings_response_parses_the_seed_example() {
    let r: greenapi_settings::SetSettingsResponse =
        serde_json::from_str(facts::SET_SETTINGS_EXAMPLE_RESPONSE).unwrap();
    assert!(r.save_settings);
    assert!(serde_json::from_str::<greenapi_settings::SetSettingsResponse>("{}").is_err());
}

#[test]
fn a_one_mebibyte_webhook_url_is_refused_by_its_spec_length_and_not_echoed() {
    let huge = format!("https://example.com/{}", "a".repeat(1 << 20));
    let report = SettingsPatch::new()
        .webhook_url(huge.clone())
        .webhook_url_token("t".repeat(1025))
        .validate();
    assert_eq!(
        rules(&report.errors),
        ["maxLength", "maxLength"],
        "{:?}",
        report.errors
    );
    let url = &report.errors[0];
    assert_eq!(url.field.as_deref(), Some("webhookUrl"));
    let shown = url.to_string();
    assert!(shown.contains("at most 2048"), "{shown}");
    assert!(
        shown.len() < 300,
        "the message echoes the whole value: {} bytes",
        shown.len()
    );
    assert!(url.value.as_ref().unwrap().as_str().unwrap().len() < 100);
    let token = &report.errors[1];
    assert_eq!(token.value, Some(json!("<redacted>")));
    assert!(!token.to_string().contains("ttt"), "{token}");
    // At the limit is fine.
    let ok = format!("https://example.com/{}", "a".repeat(2048 - 20));
    assert!(SettingsPatch::new().webhook_url(ok).validate().is_ok());
}

#[test]
fn bidi_overrides_and_line_separators_are_rejected_in_the_webhook_url_and_token() {
    for bad in [
        "ab\u{202E}cd",
        "ab\u{2028}cd",
        "ab\u{2029}cd",
        "ab\u{2066}cd",
    ] {
        let report = SettingsPatch::new()
            .webhook_url(format!("https://example.com/{bad}"))
            .webhook_url_token(bad)
            .validate();
        assert_eq!(
            fields(&report.errors),
            ["webhookUrl", "webhookUrlToken"],
            "{bad:?}: {:?}",
            report.errors
        );
        assert!(
            !report.errors[1].to_string().contains("ab"),
            "{}",
            report.errors[1]
        );
    }
}

#[test]
fn one_field_given_under_both_spellings_is_rejected_naming_both() {
    let problems = SettingsPatch::from_json_value(&json!({
        "incomingWebhook": "yes",
        "incoming_webhook": false,
        "stateWebhook": "yes"
    }))
    .unwrap_err();
    assert_eq!(problems.len(), 1, "{problems:?}");
    let shown = problems[0].to_string();
    assert!(
        shown.contains("`incomingWebhook`") && shown.contains("`incoming_webhook`"),
        "{shown}"
    );
    assert_eq!(problems[0].field.as_deref(), Some("incomingWebhook"));
}

#[test]
fn a_non_string_webhook_token_read_back_is_not_echoed() {
    let problems = Settings::from_json_value(&json!({"webhookUrlToken": 987654321})).unwrap_err();
    let shown = format!("{problems:?} {}", problems[0]);
    assert!(!shown.contains("987654321"), "{shown}");
    assert_eq!(problems[0].field.as_deref(), Some("webhookUrlToken"));
}

#[test]
fn every_text_setting_of_the_spec_has_a_maximum_length() {
    for f in greenapi_settings::FIELDS {
        if matches!(
            f.kind,
            greenapi_settings::FieldKind::String
                | greenapi_settings::FieldKind::Url
                | greenapi_settings::FieldKind::Token
        ) {
            assert!(f.max_length.is_some(), "{} has no maxLength", f.name);
        }
    }
}

#[test]
fn integers_beyond_64_bits_and_fractions_are_named_as_such() {
    let problems = SettingsPatch::from_json_value(&json!({
        "delaySendMessagesMilliseconds": u64::MAX
    }))
    .unwrap_err();
    let shown = problems[0].to_string();
    assert!(
        shown.contains("18446744073709551615 is beyond the 64-bit integer range"),
        "{shown}"
    );
    let problems = SettingsPatch::from_json_value(&json!({"delaySendMessagesMilliseconds": 1e300}))
        .unwrap_err();
    assert!(
        problems[0].to_string().contains("beyond the 64-bit"),
        "{}",
        problems[0]
    );
    let problems =
        SettingsPatch::from_json_value(&json!({"delaySendMessagesMilliseconds": 2.5})).unwrap_err();
    assert!(
        problems[0].to_string().contains("the fraction 2.5"),
        "{}",
        problems[0]
    );
}

/// Issue 18 item 14: `5000.0` used to be called "beyond the 64-bit integer range".
#[test]
fn a_whole_number_written_as_a_decimal_is_refused_as_such_not_as_out_of_range() {
    let problems =
        SettingsPatch::from_json_value(&json!({"delaySendMessagesMilliseconds": 5000.0}))
            .unwrap_err();
    let shown = problems[0].to_string();
    assert!(!shown.contains("beyond"), "{shown}");
    assert!(
        shown.contains("found the decimal number 5000.0 (write it without a decimal point: 5000)"),
        "{shown}"
    );
}

// ---- spec v2: today's API ----------------------------------------------------------------

/// A getSettings body as today's servers send it: the 24 settable settings, the three
/// read-only fields and `typeInstance`.
fn todays_body() -> Value {
    json!({
        "wid": "79001234567@c.us", "typeAccount": "trial", "proxyInstance": "system proxy",
        "typeInstance": "whatsapp",
        "webhookUrl": "https://hooks.example.com/in", "webhookUrlToken": "",
        "delaySendMessagesMilliseconds": 5000,
        "markIncomingMessagesReaded": "no", "markIncomingMessagesReadedOnReply": "no",
        "sharedSession": "no", "countryInstance": "", "outgoingWebhook": "yes",
        "outgoingMessageWebhook": "yes", "outgoingAPIMessageWebhook": "yes",
        "stateWebhook": "yes", "incomingWebhook": "yes", "deviceWebhook": "no",
        "statusInstanceWebhook": "no", "enableMessagesHistory": "no", "keepOnlineStatus": "no",
        "pollMessageWebhook": "no", "incomingBlockWebhook": "no", "incomingCallWebhook": "yes",
        "editedMessageWebhook": "yes", "deletedMessageWebhook": "no", "autoTyping": 2,
        "linkPreview": true, "enableLidMode": "no"
    })
}

#[test]
fn todays_getsettings_body_parses_with_every_field_typed_and_nothing_extra() {
    let body = todays_body();
    assert_eq!(body.as_object().unwrap().len(), 28);
    let s = Settings::from_json_value(&body).unwrap();
    assert!(s.extra.is_empty(), "{:?}", s.extra);
    assert_eq!(s.auto_typing, 2);
    assert!(s.edited_message_webhook && !s.deleted_message_webhook);
    assert!(s.link_preview, "a JSON boolean is read as yes");
    assert!(!s.enable_lid_mode);
    assert_eq!(s.type_instance.as_deref(), Some("whatsapp"));
    // linkPreview as "yes" reads the same; it is always written back as "yes"/"no".
    let mut yes = body.clone();
    yes["linkPreview"] = json!("yes");
    assert!(Settings::from_json_value(&yes).unwrap().link_preview);
    assert_eq!(s.to_json_value()["linkPreview"], "yes");
}

#[test]
fn v2_limits_are_reported_together_naming_each_field() {
    let r = SettingsPatch::new()
        .auto_typing(5)
        .delay_send_messages_milliseconds(700_000)
        .validate();
    assert_eq!(
        fields(&r.errors),
        ["delaySendMessagesMilliseconds", "autoTyping"]
    );
    assert_eq!(rules(&r.errors), ["range", "range"]);
    let r = SettingsPatch::new()
        .delay_send_messages_milliseconds(400_000)
        .mark_incoming_messages_readed(true)
        .mark_incoming_messages_readed_on_reply(true)
        .validate();
    assert!(r.is_ok());
    assert_eq!(
        rules(&r.warnings),
        ["aboveRecommended", "markReadIgnoredOnReply"],
        "{:?}",
        r.warnings
    );
    assert!(r.warnings[0]
        .message
        .contains("recommended maximum of 300000 ms"));
    assert!(r.warnings[1].message.contains("use one setting"));
    for ok in [0, 1, 4] {
        assert!(
            SettingsPatch::new().auto_typing(ok).validate().is_ok(),
            "{ok}"
        );
    }
}

#[test]
fn a_new_beta_setting_sends_exactly_its_wire_form_and_warns_nothing() {
    let patch = SettingsPatch::new().edited_message_webhook(true);
    assert_eq!(
        serde_json::to_string(&patch).unwrap(),
        r#"{"editedMessageWebhook":"yes"}"#
    );
    assert!(patch.validate().warnings.is_empty());
    assert_eq!(
        serde_json::to_string(&SettingsPatch::new().auto_typing(2)).unwrap(),
        r#"{"autoTyping":2}"#
    );
}

#[test]
fn current_values_are_what_applying_the_patch_replaces() {
    let mut current = Settings::default();
    current.incoming_webhook = true;
    current.webhook_url = "https://a.example".into();
    let patch = SettingsPatch::new()
        .incoming_webhook(false)
        .webhook_url("https://b.example");
    let before = patch.current_values(&current);
    assert_eq!(
        before,
        SettingsPatch::new()
            .incoming_webhook(true)
            .webhook_url("https://a.example")
    );
    let mut after = current.clone();
    patch.apply_to(&mut after);
    before.apply_to(&mut after);
    assert_eq!(after, current);
    assert!(SettingsPatch::new().current_values(&current).is_empty());
}
