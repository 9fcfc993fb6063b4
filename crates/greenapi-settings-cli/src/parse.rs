//! Parsing user-written JSON and TOML into `serde_json::Value` without the surprises of the
//! plain parsers: duplicate JSON keys are errors (serde_json keeps the last one silently),
//! integers beyond 64 bits and TOML `inf` / `nan` / datetimes are named for what they are, and
//! no error quotes the source line (it may hold the API token or the webhookUrlToken).

use std::fmt;

use greenapi_settings::FIELDS;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::input::clip;

/// Parses JSON text, rejecting duplicate object keys. The error says what is wrong and where
/// (`duplicate key "incomingWebhook" at line 3 column 20`), never quoting the input.
pub fn json_strict(text: &str) -> Result<Value, String> {
    serde_json::from_str::<Strict>(text)
        .map(|s| s.0)
        .map_err(|e| e.to_string())
}

struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        // serde_json turns an integer literal beyond u64/i64 into a float; say so instead of
        // letting it surface later as "expected an integer, found 1e+20".
        if v.is_finite()
            && v.fract() == 0.0
            && !(-9_223_372_036_854_775_808.0..18_446_744_073_709_551_616.0).contains(&v)
        {
            // Not echoed: it may be a webhookUrlToken written without quotes.
            return Err(E::custom("a whole number beyond the 64-bit integer range"));
        }
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format_args!(
                    "duplicate key {}: each setting may be given once",
                    clip(&key)
                )));
            }
            let Strict(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

/// Parses TOML text into a table. The error names the line and column and what is wrong, but
/// (unlike toml's `Display`) never prints the source line.
pub fn toml_table(text: &str) -> Result<toml::Table, String> {
    toml::from_str::<toml::Table>(text).map_err(|e| {
        let mut what = toml_message(e.message());
        // Should a message ever quote the offending input, take it out again.
        if let Some(quoted) = e.span().and_then(|s| text.get(s)).map(str::trim) {
            if quoted.chars().count() >= 3 {
                what = what.replace(quoted, "…");
            }
        }
        match e.span() {
            Some(span) => {
                let (line, column) = line_column(text, span.start);
                format!("line {line}, column {column}: {what}")
            }
            None => what,
        }
    })
}

fn toml_message(raw: &str) -> String {
    if raw.contains("as i128") || raw.contains("integer") && raw.contains("out of range") {
        return "integer out of range: TOML integers are 64-bit (-9223372036854775808 to 9223372036854775807)".into();
    }
    let joined = raw
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    // toml's messages name expectations, not values; clip anyway so an odd one stays short.
    if joined.chars().count() > 200 {
        joined.chars().take(200).collect::<String>() + "…"
    } else {
        joined
    }
}

/// 1-based line and column (in characters) of byte offset `at` in `text`.
fn line_column(text: &str, at: usize) -> (usize, usize) {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Converts a TOML table to JSON. TOML values JSON cannot hold (`inf`, `nan`, datetimes) are
/// problems naming the key and what was found (never the value of a secret setting).
pub fn toml_to_json(table: toml::Table) -> Result<Value, Vec<String>> {
    let mut problems = Vec::new();
    let v = table_to_json("", table, &mut problems);
    if problems.is_empty() {
        Ok(v)
    } else {
        Err(problems)
    }
}

fn table_to_json(path: &str, table: toml::Table, problems: &mut Vec<String>) -> Value {
    let mut out = Map::new();
    for (k, v) in table {
        let p = if path.is_empty() {
            k.clone()
        } else {
            format!("{path}.{k}")
        };
        let secret = is_secret(&k);
        out.insert(k, to_json(&p, secret, v, problems));
    }
    Value::Object(out)
}

fn to_json(path: &str, secret: bool, v: toml::Value, problems: &mut Vec<String>) -> Value {
    let expected = "settings take yes/no, integers or strings";
    match v {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Float(f) => match serde_json::Number::from_f64(f) {
            Some(n) => Value::Number(n),
            None => {
                let found = if secret {
                    "an infinite or NaN float".to_string()
                } else {
                    format!("the float {f}")
                };
                problems.push(format!("{path}: found {found}; {expected}"));
                Value::Null
            }
        },
        toml::Value::Datetime(d) => {
            let found = if secret {
                "a TOML date/time".to_string()
            } else {
                format!("the TOML date/time {d}")
            };
            problems.push(format!(
                "{path}: found {found}; {expected} (quote it to make it a string)"
            ));
            Value::Null
        }
        toml::Value::Array(a) => Value::Array(
            a.into_iter()
                .enumerate()
                .map(|(i, x)| to_json(&format!("{path}[{i}]"), secret, x, problems))
                .collect(),
        ),
        toml::Value::Table(t) => table_to_json(path, t, problems),
    }
}

fn is_secret(key: &str) -> bool {
    FIELDS
        .iter()
        .any(|f| f.secret && (f.name == key || f.snake == key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duplicate_json_key_is_an_error_naming_the_key_and_place() {
        let e = json_strict("{\"incomingWebhook\": \"yes\",\n \"incomingWebhook\": \"no\"}")
            .unwrap_err();
        assert!(e.contains("duplicate key \"incomingWebhook\""), "{e}");
        assert!(e.contains("line 2"), "{e}");
        let e = json_strict(r#"{"settings": {"a": 1, "b": 2, "a": 3}}"#).unwrap_err();
        assert!(e.contains("duplicate key \"a\""), "{e}");
        assert_eq!(
            json_strict(r#"{"a": [1, -2, 1.5, null, true, {"b": "c"}]}"#).unwrap(),
            serde_json::json!({"a": [1, -2, 1.5, null, true, {"b": "c"}]})
        );
    }

    #[test]
    fn json_integers_beyond_64_bits_are_named() {
        let e =
            json_strict(r#"{"delaySendMessagesMilliseconds": 99999999999999999999}"#).unwrap_err();
        assert!(e.contains("beyond the 64-bit integer range"), "{e}");
        assert_eq!(
            json_strict("18446744073709551615").unwrap(),
            Value::from(u64::MAX)
        );
    }

    #[test]
    fn toml_errors_give_line_and_column_but_not_the_line() {
        let e = toml_table("a = 1\nwebhookUrlToken = \"SEKRIT<>{}É\n").unwrap_err();
        assert!(e.starts_with("line 2, column "), "{e}");
        assert!(!e.contains("SEKRIT"), "{e}");
        let e = toml_table("x = 99999999999999999999\n").unwrap_err();
        assert!(e.contains("integer out of range"), "{e}");
    }

    #[test]
    fn toml_inf_nan_and_datetimes_are_named_not_called_null() {
        let t = toml_table("delaySendMessagesMilliseconds = inf\nwebhookUrl = nan\nincomingWebhook = 1979-05-27T07:32:00Z\nwebhookUrlToken = 2024-01-01\n").unwrap();
        let ps = toml_to_json(t).unwrap_err();
        assert_eq!(ps.len(), 4, "{ps:?}");
        let has = |s: &str| ps.iter().any(|p| p.contains(s));
        assert!(
            has("delaySendMessagesMilliseconds: found the float inf"),
            "{ps:?}"
        );
        assert!(has("webhookUrl: found the float NaN"), "{ps:?}");
        assert!(
            has("incomingWebhook: found the TOML date/time 1979-05-27T07:32:00Z"),
            "{ps:?}"
        );
        assert!(has("webhookUrlToken: found a TOML date/time;"), "{ps:?}");
        assert!(!has("2024"), "secret values are not echoed: {ps:?}");
    }
}
