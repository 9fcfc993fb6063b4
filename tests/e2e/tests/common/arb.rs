//! proptest generators shared by the property tests: JSON values with the awkward cases
//! over-represented, and objects that look like settings bodies.

use greenapi_settings::{FIELDS, READ_ONLY_FIELDS};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value};

/// Cases per property unless `PROPTEST_CASES` says otherwise.
pub fn cases(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    ProptestConfig {
        cases,
        // A failure prints its minimal input; CI must not write regression files.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Keys a settings object may have: real names in both spellings, read-only ones, near
/// misses and anything at all.
pub fn key() -> impl Strategy<Value = String> {
    let mut known: Vec<String> = FIELDS
        .iter()
        .chain(READ_ONLY_FIELDS)
        .flat_map(|f| [f.name.to_string(), f.snake.to_string()])
        .collect();
    known.extend(
        [
            "",
            "webhookURL",
            "incomingwebhook",
            "extra",
            "__proto__",
            "wid ",
        ]
        .map(String::from),
    );
    prop_oneof![
        6 => select(known),
        1 => any::<String>(),
    ]
}

/// Scalars, with the awkward ones over-represented.
pub fn json_leaf() -> impl Strategy<Value = Value> {
    let numbers: Vec<Value> = vec![
        0.into(),
        (-1).into(),
        499.into(),
        500.into(),
        86_400_000.into(),
        86_400_001.into(),
        i64::MAX.into(),
        i64::MIN.into(),
        u64::MAX.into(),
        1e308.into(),
        (-1e308).into(),
        f64::MIN_POSITIVE.into(),
        0.5.into(),
        (-0.0).into(),
    ];
    let strings: Vec<Value> = vec![
        "yes".into(),
        "no".into(),
        "YES".into(),
        "true".into(),
        "".into(),
        "https://mysite.com/webhook/green-api/".into(),
        "ftp://x".into(),
        "http://".into(),
        "https://exa mple.com".into(),
        "\r\n".into(),
        "\u{0}".into(),
        "token\nwith-newline".into(),
        "ünïcödé ✓ 🚀".into(),
        "a".repeat(100_000).into(),
        "é".repeat(70).into(),
    ];
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from), // NaN and infinities become null
        select(numbers),
        select(strings),
        any::<String>().prop_map(Value::String),
    ]
}

/// Any JSON value, nested a few levels.
pub fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// An object that looks like a settings body: mostly real keys, any values.
pub fn settings_like_object() -> impl Strategy<Value = Value> {
    prop::collection::vec((key(), json_value()), 0..24)
        .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>()))
}
