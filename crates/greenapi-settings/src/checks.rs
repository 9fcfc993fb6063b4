//! The value readers and validators that the generated `SettingsPatch` / `Settings` code
//! calls: one function per wire type (read strictly for patches, leniently for values read
//! back) and per rule (range, URL, length, token characters, status, cross-field rules).
//! Reached by generated code through `__private`.

use serde_json::{Map, Value};

use crate::meta::{FieldInfo, RuleKind, Status};
use crate::redact::REDACTED;
use crate::validation::{Report, Violation};

mod url_check;

pub use url_check::check_url;

/// `true` → `"yes"`, `false` → `"no"`.
pub fn yes_no_value(b: bool) -> Value {
    Value::String(if b { "yes" } else { "no" }.to_string())
}

fn describe(v: &Value) -> String {
    match v {
        Value::String(s) if s.chars().count() > 60 => {
            let short: String = s.chars().take(57).collect();
            format!("the string \"{short}...\"")
        }
        Value::String(s) => format!("the string {}", Value::String(s.clone())),
        Value::Null => "null".into(),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
        other => other.to_string(),
    }
}

/// Reads a yes/no field: `"yes"`, `"no"`, or a JSON boolean.
pub fn parse_yes_no(field: &'static str, v: &Value) -> Result<bool, Violation> {
    match v {
        Value::String(s) if s == "yes" => Ok(true),
        Value::String(s) if s == "no" => Ok(false),
        Value::Bool(b) => Ok(*b),
        other => Err(Violation::error(
            Some(field),
            Some(other.clone()),
            "yesNo",
            format!("expected \"yes\" or \"no\", found {}", describe(other)),
        )),
    }
}

/// Reads an integer field (no strings, no fractions, nothing beyond 64 bits).
pub fn parse_integer(field: &'static str, v: &Value) -> Result<i64, Violation> {
    if let Some(i) = v.as_i64() {
        return Ok(i);
    }
    let message = match v {
        // Above i64::MAX as an integer, or a whole float outside i64's range.
        Value::Number(n)
            if n.is_u64()
                || n.as_f64().is_some_and(|f| {
                    f.fract() == 0.0
                        && !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0)
                            .contains(&f)
                }) =>
        {
            format!(
                "{n} is beyond the 64-bit integer range ({}..={})",
                i64::MIN,
                i64::MAX
            )
        }
        // A whole number written as a float (`5000.0`): in range, but not an integer.
        Value::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0) => format!(
            "expected an integer, found the decimal number {n} (write it without a decimal point: {})",
            n.as_f64().map_or(0, |f| f as i64)
        ),
        Value::Number(n) => format!("expected an integer, found the fraction {n}"),
        other => format!("expected an integer, found {}", describe(other)),
    };
    Err(Violation::error(
        Some(field),
        Some(v.clone()),
        "integer",
        message,
    ))
}

/// Reads back a yes/no field leniently: `"yes"`/`"no"` in any case, `"true"`/`"false"`, or a
/// boolean.
pub fn read_yes_no(field: &'static str, v: &Value) -> Result<bool, Violation> {
    if let Value::String(s) = v {
        match s.trim().to_ascii_lowercase().as_str() {
            "yes" | "true" => return Ok(true),
            "no" | "false" => return Ok(false),
            _ => {}
        }
    }
    parse_yes_no(field, v)
}

/// Reads back an integer field leniently: a JSON integer, an integral float (`5000.0`) or a
/// string of digits (`"5000"`).
pub fn read_integer(field: &'static str, v: &Value) -> Result<i64, Violation> {
    match v {
        Value::String(s) => match s.trim().parse::<i64>() {
            Ok(i) => Ok(i),
            Err(_) => parse_integer(field, v),
        },
        Value::Number(n) if n.as_i64().is_none() => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(f as i64),
            _ => parse_integer(field, v),
        },
        _ => parse_integer(field, v),
    }
}

/// Reads a string field.
pub fn parse_string(field: &'static str, v: &Value) -> Result<String, Violation> {
    match v {
        Value::String(s) => Ok(s.clone()),
        other => Err(Violation::error(
            Some(field),
            Some(other.clone()),
            "string",
            format!("expected a string, found {}", describe(other)),
        )),
    }
}

/// Reads a secret string field; a wrong value is never echoed.
pub fn parse_secret(field: &'static str, v: &Value) -> Result<String, Violation> {
    match v {
        Value::String(s) => Ok(s.clone()),
        _ => Err(Violation::error(
            Some(field),
            Some(Value::String(REDACTED.into())),
            "string",
            "expected a string (value not shown: secret)",
        )),
    }
}

/// The body must be a JSON object.
pub fn expect_object(v: &Value) -> Result<&Map<String, Value>, Vec<Violation>> {
    match v {
        Value::Object(m) => Ok(m),
        other => Err(vec![Violation::error(
            None,
            None,
            "object",
            format!(
                "expected a JSON object of settings, found {}",
                describe(other)
            ),
        )]),
    }
}

/// Error for a patch with fewer fields than the API requires.
pub fn too_few_parameters(report: &mut Report, min: usize) {
    report.push(Violation::error(
        None,
        None,
        "atLeastOneParameter",
        format!("the patch sets no field; setSettings needs at least {min} parameter(s)"),
    ));
}

/// Inclusive range check.
pub fn check_range(
    report: &mut Report,
    field: &'static str,
    v: i64,
    min: i64,
    max: i64,
    unit: Option<&str>,
) {
    if !(min..=max).contains(&v) {
        let unit = unit.map(|u| format!(" {u}")).unwrap_or_default();
        report.push(Violation::error(
            Some(field),
            Some(v.into()),
            "range",
            format!("{v} is out of range: must be between {min} and {max}{unit}"),
        ));
    }
}

/// Characters that make text lie about itself when displayed or end a header line on some
/// stacks: Unicode line/paragraph separators and the bidirectional controls (U+202E and kin).
fn is_deceptive(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}' | '\u{061C}' | '\u{200E}' | '\u{200F}'
        | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A string value as shown in messages: JSON-quoted, cut to 60 characters.
fn shown_text(v: &str) -> Value {
    if v.chars().count() > 60 {
        let short: String = v.chars().take(57).collect();
        Value::String(format!("{short}..."))
    } else {
        Value::String(v.to_string())
    }
}

/// Length check for text settings, in characters; a secret's value is never shown.
pub fn check_length(report: &mut Report, field: &'static str, v: &str, max: usize, secret: bool) {
    let len = v.chars().count();
    if len > max {
        let shown = if secret {
            Value::String(REDACTED.into())
        } else {
            shown_text(v)
        };
        report.push(Violation::error(
            Some(field),
            Some(shown),
            "maxLength",
            format!("is {len} characters long; at most {max} are allowed"),
        ));
    }
}

/// Which field each key of one JSON object set, to reject an object that sets a field twice
/// under two spellings (`incomingWebhook` and `incoming_webhook`): which one should win?
#[derive(Default)]
pub struct Spellings(Vec<(&'static str, String)>);

impl Spellings {
    /// Records `key`; a violation if its field was already given under another spelling.
    pub fn conflict(&mut self, key: &str, fields: &[FieldInfo]) -> Option<Violation> {
        let field = fields.iter().find(|f| f.name == key || f.snake == key)?;
        if let Some((_, first)) = self.0.iter().find(|(name, _)| *name == field.name) {
            return Some(Violation::error(
                Some(field.name),
                None,
                "duplicate",
                format!("is given twice, as `{first}` and as `{key}`; give it once"),
            ));
        }
        self.0.push((field.name, key.to_string()));
        None
    }
}

/// Warning for a value above the API's recommended maximum (still within the range).
pub fn check_recommended_max(
    report: &mut Report,
    field: &'static str,
    v: i64,
    recommended: i64,
    unit: Option<&str>,
) {
    if v > recommended {
        let unit = unit.map(|u| format!(" {u}")).unwrap_or_default();
        report.push(Violation::warning(
            Some(field),
            Some(v.into()),
            "aboveRecommended",
            format!("{v} is above the recommended maximum of {recommended}{unit}"),
        ));
    }
}

/// Token check: it is sent on in an HTTP header, so no control characters (CR, LF, ...).
pub fn check_token(report: &mut Report, field: &'static str, v: &str) {
    if v.chars().any(|c| c.is_control() || is_deceptive(c)) {
        report.push(Violation::error(
            Some(field),
            Some(Value::String(REDACTED.into())),
            "controlCharacters",
            "contains control characters (CR, LF or others), line/paragraph separators or bidirectional overrides, which cannot be sent safely in an HTTP header (value not shown: secret)",
        ));
    }
}

/// Warning for a field that is set but unused or broken on the API side.
pub fn status_warning(report: &mut Report, field: &'static str, status: Status) {
    let message = match status {
        Status::Unused => "is not used by the API; setting it has no effect",
        Status::Deprecated => "is deprecated: the server accepts and ignores it",
        Status::TemporarilyBroken => {
            "is temporarily not working on the API side; the value is saved but may have no effect"
        }
        Status::Active | Status::Beta => return,
    };
    report.push(Violation::warning(
        Some(field),
        None,
        status.as_str(),
        message,
    ));
}

/// Evaluates one cross-field rule on a (possibly partial) state; `None` means unknown, and a
/// rule with an unknown input stays silent. Only rules that the change `touched` are reported.
#[allow(clippy::too_many_arguments)]
pub fn check_rule(
    report: &mut Report,
    id: &'static str,
    kind: RuleKind,
    field: &'static str,
    touched: bool,
    value: Option<bool>,
    others: &[(&'static str, Option<bool>)],
    message: &'static str,
) {
    if !touched || value != Some(true) {
        return;
    }
    let fires = match kind {
        RuleKind::IgnoredWhen => others.iter().all(|(_, v)| *v == Some(true)),
        RuleKind::EffectiveOnlyWithAll => others.iter().any(|(_, v)| *v == Some(false)),
        RuleKind::EffectiveOnlyWithAny => others.iter().all(|(_, v)| *v == Some(false)),
        RuleKind::Advice => false,
    };
    if fires {
        report.push(Violation::warning(
            Some(field),
            Some(yes_no_value(true)),
            id,
            message,
        ));
    }
}

/// Turns collected violations into one serde error message.
pub fn de_error<E: serde::de::Error>(v: Vec<Violation>) -> E {
    E::custom(
        v.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; "),
    )
}
