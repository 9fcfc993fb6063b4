//! The settings by name, for the Python classes: lookups by snake_case and API name, the
//! `obj.<setting>` attribute, and "did you mean" for a misspelt keyword or attribute.

use pyo3::exceptions::{PyAttributeError, PyTypeError};
use pyo3::prelude::*;

use greenapi_settings::{FieldInfo, FIELDS, READ_ONLY_FIELDS};

use crate::convert::field_to_py;

/// A writable setting by its snake_case name (a keyword of `SettingsPatch` and the clients).
pub fn writable_by_snake(name: &str) -> Option<&'static FieldInfo> {
    FIELDS.iter().find(|f| f.snake == name)
}

/// Any setting, read-only ones included, by its snake_case name (an attribute of `Settings`).
pub fn any_by_snake(name: &str) -> Option<&'static FieldInfo> {
    FIELDS
        .iter()
        .chain(READ_ONLY_FIELDS)
        .find(|f| f.snake == name)
}

/// Any setting, read-only ones included, by its API name (a key of a getSettings body).
pub fn any_by_api_name(name: &str) -> Option<&'static FieldInfo> {
    FIELDS
        .iter()
        .chain(READ_ONLY_FIELDS)
        .find(|f| f.name == name)
}

/// Close snake_case names for a misspelt keyword, closest first.
pub fn close_keywords(name: &str) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for s in FieldInfo::suggest(name) {
        if let Some(f) = FieldInfo::find(s) {
            if !out.contains(&f.snake) {
                out.push(f.snake);
            }
        }
    }
    out
}

/// `TypeError` for keyword arguments that name no setting, with close matches.
pub fn unknown_keyword_error(what: &str, unknown: &[String]) -> PyErr {
    let parts: Vec<String> = unknown
        .iter()
        .map(|k| {
            let close = close_keywords(k);
            if close.is_empty() {
                format!("'{k}'")
            } else {
                let list: Vec<String> = close.iter().map(|c| format!("'{c}'")).collect();
                format!("'{k}' (did you mean {}?)", list.join(" or "))
            }
        })
        .collect();
    let noun = if unknown.len() == 1 {
        "an unexpected keyword argument"
    } else {
        "unexpected keyword arguments"
    };
    PyTypeError::new_err(format!("{what} got {noun} {}", parts.join(", ")))
}

/// `obj.<snake_case name>` of a settings class: the field's value as its Python type, `None`
/// when unset, `AttributeError` (with "did you mean") for a name that is no field.
pub fn field_attr<'py>(
    py: Python<'py>,
    class: &str,
    field: Option<&FieldInfo>,
    name: &str,
    get_json: impl FnOnce(&str) -> Option<serde_json::Value>,
) -> PyResult<Bound<'py, PyAny>> {
    let Some(field) = field else {
        return Err(no_attribute(class, name));
    };
    match get_json(field.name) {
        Some(v) => field_to_py(py, field, &v),
        None => Ok(py.None().into_bound(py)),
    }
}

/// `AttributeError` with "did you mean" for a misspelt setting.
fn no_attribute(class: &str, name: &str) -> PyErr {
    let close = close_keywords(name);
    let hint = match close.first() {
        Some(c) => format!("; did you mean '{c}'?"),
        None => String::new(),
    };
    PyAttributeError::new_err(format!("'{class}' object has no attribute '{name}'{hint}"))
}
