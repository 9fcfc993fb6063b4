//! The one-pass wire paths agree with the `serde_json::Value` ones: `Serialize` writes what
//! `to_json_value` holds, and `from_plain_json` reads what `from_json_value` reads — or gives
//! up (`None`), never reading a body differently.

use greenapi_settings::{facts, FieldKind, Settings, SettingsPatch, FIELDS, READ_ONLY_FIELDS};
use serde_json::{json, Value};

/// Value forms for any field: plain ones, lenient ones, wrong ones, odd numbers, escapes.
const FORMS: &[&str] = &[
    r#""yes""#,
    r#""no""#,
    r#""Yes""#,
    r#"" TRUE ""#,
    r#""false""#,
    "true",
    "false",
    r#""maybe""#,
    r#""\u0079es""#,
    "0",
    "1",
    "-1",
    "5000",
    "5000.0",
    "5000.5",
    "1e300",
    "-0",
    r#""5000""#,
    r#"" 42 ""#,
    "18446744073709551615",
    "9223372036854775807",
    "-9223372036854775808",
    r#""""#,
    r#""https://h.example/x""#,
    r#""h\u00e9\n""#,
    "null",
    "[]",
    "{}",
    r#"[1,"a"]"#,
    r#"{"a":1}"#,
];

/// Every setting (and `wid` when `read_only`) with a value of its type, in spec order, with
/// `name`'s value replaced by the JSON text `value`, then `more` inside the object.
fn body(read_only: bool, name: &str, value: &str, more: &str) -> String {
    let fields = FIELDS
        .iter()
        .chain(READ_ONLY_FIELDS.iter().filter(|_| read_only));
    let entries: Vec<String> = fields
        .map(|f| {
            let v = match f.kind {
                FieldKind::YesNo => r#""yes""#,
                FieldKind::Integer => "15000",
                _ => r#""x@c.us""#,
            };
            let v = if f.name == name { value } else { v };
            format!(r#""{}":{v}"#, f.name)
        })
        .collect();
    format!("{{{}{more}}}", entries.join(","))
}

/// Reads `text` both ways; `true` if the one-pass reader took it.
fn settings_agree(text: &str) -> bool {
    let full = serde_json::from_str::<Value>(text)
        .ok()
        .map(|v| Settings::from_json_value(&v));
    let plain = Settings::from_plain_json(text.as_bytes());
    if let Some(s) = &plain {
        assert_eq!(full.as_ref(), Some(&Ok(s.clone())), "{text}");
        // Written back directly, it is what `to_json_value` holds.
        assert_eq!(
            serde_json::to_value(s).unwrap(),
            s.to_json_value(),
            "{text}"
        );
    }
    plain.is_some()
}

fn patch_agrees(text: &str) -> bool {
    let full = serde_json::from_str::<Value>(text)
        .ok()
        .map(|v| SettingsPatch::from_json_value(&v));
    let plain = SettingsPatch::from_plain_json(text.as_bytes());
    if let Some(p) = &plain {
        assert_eq!(full.as_ref(), Some(&Ok(p.clone())), "{text}");
        assert_eq!(
            serde_json::to_string(p).unwrap(),
            p.to_json_value().to_string()
        );
    }
    plain.is_some()
}

#[test]
fn settings_read_in_one_pass_are_what_from_json_value_reads() {
    assert!(settings_agree(&body(true, "", "", "")));
    assert!(settings_agree("{}"));
    let mut taken = Vec::new();
    for f in FIELDS.iter().chain(READ_ONLY_FIELDS) {
        for form in FORMS {
            if settings_agree(&body(true, f.name, form, "")) {
                taken.push((f.kind, *form));
            }
        }
    }
    // The lenient forms a server may send go the short way too.
    for (kind, form) in [
        (FieldKind::YesNo, r#""Yes""#),
        (FieldKind::YesNo, r#"" TRUE ""#),
        (FieldKind::YesNo, "false"),
        (FieldKind::YesNo, r#""\u0079es""#),
        (FieldKind::Integer, "5000.0"),
        (FieldKind::Integer, r#"" 42 ""#),
        (FieldKind::Integer, "-9223372036854775808"),
        (FieldKind::String, "null"),
        (FieldKind::Url, r#""h\u00e9\n""#),
    ] {
        assert!(taken.contains(&(kind, form)), "{kind:?} {form}");
    }
    // Wrong types give up.
    for (kind, form) in [
        (FieldKind::YesNo, r#""maybe""#),
        (FieldKind::YesNo, "1"),
        (FieldKind::Integer, "5000.5"),
        (FieldKind::Integer, "18446744073709551615"),
        (FieldKind::Integer, "null"),
        (FieldKind::Url, "5000"),
        (FieldKind::Token, "[]"),
    ] {
        assert!(!taken.contains(&(kind, form)), "{kind:?} {form}");
    }
}

#[test]
fn unknown_keys_go_to_extra_and_anything_odd_gives_up() {
    let text = body(false, "", "", r#","newSetting":[1,{"b":null}],"other":"x""#);
    assert!(settings_agree(&text));
    let s = Settings::from_plain_json(text.as_bytes()).unwrap();
    assert_eq!(s.extra["newSetting"], json!([1, {"b": null}]));
    // An escaped key is the key it spells.
    assert!(settings_agree(r#"{"incoming\u0057ebhook":"no"}"#));
    for odd in [
        "",
        "{",
        "[]",
        "null",
        r#""x""#,
        "{} x",
        r#"{"incomingWebhook":"no","incomingWebhook":"yes"}"#,
        r#"{"wid":"a","wid":null}"#,
        r#"{"x":1,"x":2}"#,
        r#"{"x":"\ud800"}"#,
        r#"{"incomingWebhook":"no""#,
    ] {
        assert!(!settings_agree(odd), "{odd}");
    }
}

#[test]
fn patches_read_in_one_pass_are_what_from_json_value_reads() {
    assert!(patch_agrees(facts::SET_SETTINGS_EXAMPLE_BODY));
    assert!(patch_agrees(&body(false, "", "", "")));
    assert!(patch_agrees("{}"));
    for f in FIELDS {
        for form in FORMS {
            patch_agrees(&body(false, f.name, form, ""));
        }
    }
    // Strict: only the forms `set_json` takes, API names only, each once.
    assert!(patch_agrees(r#"{"incomingWebhook":true}"#));
    for odd in [
        r#"{"incomingWebhook":"Yes"}"#,
        r#"{"delaySendMessagesMilliseconds":5000.0}"#,
        r#"{"delaySendMessagesMilliseconds":"5000"}"#,
        r#"{"incoming_webhook":"yes"}"#,
        r#"{"incomingWebhook":"yes","incoming_webhook":"no"}"#,
        r#"{"incomingWebhook":"no","incomingWebhook":"yes"}"#,
        r#"{"bogus":1}"#,
        "[]",
        "",
    ] {
        assert!(!patch_agrees(odd), "{odd}");
    }
}

#[test]
fn settings_serialise_as_to_json_value_holds_them() {
    let mut s = Settings::from_json_value(
        &serde_json::from_str(&body(true, "", "", r#","later":{"a":[1]}"#)).unwrap(),
    )
    .unwrap();
    for s in [Settings::default(), s.clone()] {
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            s.to_json_value().to_string()
        );
    }
    // An `extra` key that names a known field takes that field's place, as before.
    s.extra.insert("incomingWebhook".into(), json!("maybe"));
    s.extra.insert("wid".into(), json!(7));
    let text = serde_json::to_string(&s).unwrap();
    assert_eq!(text, s.to_json_value().to_string());
    assert_eq!(text.matches("\"incomingWebhook\"").count(), 1, "{text}");
}

#[test]
fn patches_serialise_as_to_json_value_holds_them() {
    let full: Value = serde_json::from_str(&body(false, "", "", "")).unwrap();
    for p in [
        SettingsPatch::new(),
        SettingsPatch::new().incoming_webhook(false),
        SettingsPatch::from_json_value(&full).unwrap(),
    ] {
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            p.to_json_value().to_string()
        );
    }
}
