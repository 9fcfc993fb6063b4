//! `to_dict(names=...)` / `to_json(names=...)`: the value classes as plain, `json.dumps`-able
//! data, with the key spelling chosen by the caller (`"api"`: the API's camelCase and its
//! `"yes"`/`"no"`, as a request or response body has them; `"snake"`: the snake_case keywords
//! and Python values, as `SettingsPatch(**d)` takes them). Secret settings are shown as
//! `<redacted>` (like `repr`, `plan --json` and the sandbox's JSON) unless the caller asks for
//! them with `reveal_secrets=True`; an empty secret stays visible ("not set" is no secret).

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use serde_json::{Map, Value};

use greenapi_settings::redact::{self, REDACTED};
use greenapi_settings::{Change, FieldInfo, FieldKind, Settings, SettingsPatch, Violation};

use crate::convert::json_to_py;
use crate::fields::any_by_api_name;

/// The key spelling of a plain form.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Names {
    /// API names (`incomingWebhook`), yes/no settings as `"yes"`/`"no"`.
    Api,
    /// snake_case names (`incoming_webhook`), yes/no settings as `bool`.
    Snake,
}

impl Names {
    /// Reads the `names` keyword; anything but the two spellings is a `ValueError`.
    pub fn parse(names: &str) -> PyResult<Names> {
        match names {
            "api" => Ok(Names::Api),
            "snake" => Ok(Names::Snake),
            other => {
                let shown: String = other.chars().take(40).collect();
                Err(PyValueError::new_err(format!(
                    "names must be \"api\" (incomingWebhook, \"yes\"/\"no\") or \"snake\" \
                     (incoming_webhook, True/False), got {shown:?}"
                )))
            }
        }
    }

    /// A key of the plan's own structure (`to_send` / `toSend`).
    fn key(self, snake: &'static str, api: &'static str) -> &'static str {
        match self {
            Names::Api => api,
            Names::Snake => snake,
        }
    }
}

/// A setting's wire value in the chosen spelling: `"yes"`/`"no"` become bools for `Snake`.
fn value_in(names: Names, field: Option<&FieldInfo>, v: Value) -> Value {
    match (names, field.map(|f| f.kind), v.as_str()) {
        (Names::Snake, Some(FieldKind::YesNo), Some("yes")) => Value::Bool(true),
        (Names::Snake, Some(FieldKind::YesNo), Some("no")) => Value::Bool(false),
        _ => v,
    }
}

/// A wire object (API names) in the chosen spelling. With `Snake`, keys that name no setting
/// (a `Settings`' fields this version does not know) are left out: they have no snake_case
/// name, and they stay in `Settings.extra`.
fn object_in(names: Names, wire: Value, reveal: bool) -> Value {
    let mut wire = wire;
    if !reveal {
        redact::secret_settings(&mut wire);
    }
    let Value::Object(map) = wire else {
        return wire;
    };
    match names {
        Names::Api => Value::Object(map),
        Names::Snake => Value::Object(
            map.into_iter()
                .filter_map(|(k, v)| {
                    let field = any_by_api_name(&k)?;
                    Some((field.snake.to_string(), value_in(names, Some(field), v)))
                })
                .collect(),
        ),
    }
}

/// A patch's plain form: the set fields only.
pub fn patch(names: Names, patch: &SettingsPatch, reveal: bool) -> Value {
    object_in(names, patch.to_json_value(), reveal)
}

/// Settings' plain form: every field, read-only ones included; unknown ones with `Api` only.
pub fn settings(names: Names, settings: &Settings, reveal: bool) -> Value {
    object_in(names, settings.to_json_value(), reveal)
}

/// A setting's name in the chosen spelling (a name the spec does not know stays as it is).
fn field_name(names: Names, name: &str) -> String {
    match (names, any_by_api_name(name)) {
        (Names::Snake, Some(f)) => f.snake.to_string(),
        _ => name.to_string(),
    }
}

/// One change: `field`, `current`, `desired`; a secret's values as `<redacted>` unless revealed.
pub fn change(names: Names, c: &Change, reveal: bool) -> Value {
    let field = any_by_api_name(c.field);
    let shown = |v: &Value| {
        if c.secret && !reveal && v.as_str() != Some("") {
            Value::String(REDACTED.into())
        } else {
            value_in(names, field, v.clone())
        }
    };
    let mut m = Map::new();
    m.insert("field".into(), Value::String(field_name(names, c.field)));
    m.insert("current".into(), shown(&c.current));
    m.insert("desired".into(), shown(&c.desired));
    Value::Object(m)
}

/// One violation: `field`, `value` (secrets are redacted in violations already), `rule`,
/// `severity`, `message`.
pub fn violation(names: Names, v: &Violation) -> Value {
    let mut m = Map::new();
    let field = v
        .field
        .as_deref()
        .map(|f| Value::String(field_name(names, f)));
    m.insert("field".into(), field.unwrap_or(Value::Null));
    m.insert("value".into(), v.value.clone().unwrap_or(Value::Null));
    m.insert("rule".into(), Value::String(v.rule.into()));
    let severity = match v.severity {
        greenapi_settings::Severity::Error => "error",
        greenapi_settings::Severity::Warning => "warning",
    };
    m.insert("severity".into(), Value::String(severity.into()));
    m.insert("message".into(), Value::String(v.message.clone()));
    Value::Object(m)
}

/// A plan: `changes`, `warnings`, `current`, `desired`, `to_send` (`toSend`), `is_noop`
/// (`isNoop`).
pub fn plan(names: Names, p: &greenapi_settings::Plan, reveal: bool) -> Value {
    let mut m = Map::new();
    let changes = p.changes.iter().map(|c| change(names, c, reveal)).collect();
    m.insert("changes".into(), Value::Array(changes));
    let warnings = p.warnings.iter().map(|w| violation(names, w)).collect();
    m.insert("warnings".into(), Value::Array(warnings));
    m.insert("current".into(), settings(names, &p.current, reveal));
    m.insert("desired".into(), patch(names, &p.desired, reveal));
    m.insert(
        names.key("to_send", "toSend").into(),
        patch(names, &p.to_send, reveal),
    );
    m.insert(
        names.key("is_noop", "isNoop").into(),
        Value::Bool(p.is_noop()),
    );
    Value::Object(m)
}

/// What `apply` did: `sent`, `save_settings` (`saveSettings`), `verification`, `converged`,
/// `resends`, `still_wrong` (`stillWrong`, changes as in a plan) and the `plan` carried out.
pub struct AppliedParts<'a> {
    pub plan: &'a greenapi_settings::Plan,
    pub save_settings: Option<bool>,
    pub verification: &'static str,
    pub converged: bool,
    pub resends: usize,
    pub still_wrong: &'a [Change],
}

/// An `Applied` as plain data.
pub fn applied(names: Names, a: &AppliedParts<'_>, reveal: bool) -> Value {
    let mut m = Map::new();
    m.insert("sent".into(), Value::Bool(a.save_settings.is_some()));
    m.insert(
        names.key("save_settings", "saveSettings").into(),
        a.save_settings.map_or(Value::Null, Value::Bool),
    );
    m.insert("verification".into(), Value::String(a.verification.into()));
    m.insert("converged".into(), Value::Bool(a.converged));
    m.insert("resends".into(), Value::from(a.resends));
    let wrong = a
        .still_wrong
        .iter()
        .map(|c| change(names, c, reveal))
        .collect();
    m.insert(
        names.key("still_wrong", "stillWrong").into(),
        Value::Array(wrong),
    );
    m.insert("plan".into(), plan(names, a.plan, reveal));
    Value::Object(m)
}

/// A plain form as Python objects (`dict`, `list`, `str`, `int`, `bool`, `None`).
pub fn to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    json_to_py(py, v)
}

/// A plain form as JSON text, written by `json.dumps(value, indent=indent)`: the text a
/// Python program would get from `json.dumps(obj.to_dict(...))`.
pub fn to_json(py: Python<'_>, v: &Value, indent: Option<usize>) -> PyResult<String> {
    let obj = json_to_py(py, v)?;
    let kwargs = pyo3::types::PyDict::new(py);
    kwargs.set_item("indent", indent)?;
    py.import("json")?
        .call_method("dumps", (obj,), Some(&kwargs))?
        .extract()
}
