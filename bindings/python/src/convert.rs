//! Python values ⇄ JSON values, the lingua franca of the core crate's setters and getters.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Number, Value};

use greenapi_settings::redact::REDACTED;
use greenapi_settings::{FieldInfo, FieldKind, Violation};

/// A Python value with no JSON form, described for a message (never its text: it may be a
/// secret).
#[derive(Debug)]
pub enum Unfit {
    /// An integer past 64 bits: its digits, or its size when it has too many to show.
    BigInt(String),
    /// Anything else: NaN, an infinity, bytes, a `Decimal`, a string with a lone surrogate...
    Other(String),
    /// A `float` given for an integer setting that is no whole number: a fraction, NaN or an
    /// infinity.
    NotInteger(String),
}

impl Unfit {
    pub fn describe(&self) -> &str {
        match self {
            Unfit::BigInt(s) | Unfit::Other(s) | Unfit::NotInteger(s) => s,
        }
    }
}

/// Digits of an integer too large for 64 bits, or its size in bits when long.
fn big_int(obj: &Bound<'_, PyAny>) -> Unfit {
    if let Ok(text) = obj.str() {
        let text = text.to_string();
        if text.len() <= 40 {
            return Unfit::BigInt(text);
        }
    }
    let bits: u64 = obj
        .call_method0("bit_length")
        .and_then(|b| b.extract())
        .unwrap_or(0);
    Unfit::BigInt(format!("an integer of {bits} bits"))
}

fn int_to_json(obj: &Bound<'_, PyAny>) -> Result<Value, Unfit> {
    if let Ok(i) = obj.extract::<i64>() {
        return Ok(Value::from(i));
    }
    if let Ok(u) = obj.extract::<u64>() {
        return Ok(Value::from(u));
    }
    Err(big_int(obj))
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// Converts a plain Python value (None, bool, int or anything with `__index__`, float, str,
/// list/tuple, dict with str keys) into JSON. Anything else is `Unfit`, which the callers turn
/// into a violation naming the field: integers past 64 bits, NaN and infinities, strings that
/// are not valid Unicode (lone surrogates), bytes, `Decimal`, ...
pub fn py_to_json(obj: &Bound<'_, PyAny>) -> Result<Value, Unfit> {
    py_to_json_at(obj, 0)
}

/// How deep lists and dicts may nest in a value. A setting's value is a scalar, so anything
/// nested is refused anyway; the bound keeps a self-referential list (`a = []; a.append(a)`)
/// or a value nested thousands deep from overflowing the stack (a SIGSEGV, not an exception).
pub const MAX_DEPTH: usize = 32;

fn py_to_json_at(obj: &Bound<'_, PyAny>, depth: usize) -> Result<Value, Unfit> {
    if depth > MAX_DEPTH {
        return Err(Unfit::Other(format!(
            "a value nested more than {MAX_DEPTH} levels deep (or one that contains itself)"
        )));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        return int_to_json(obj);
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        let v = f.value();
        return Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| Unfit::Other(format!("{} (not a finite number)", f64_text(v))));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return match s.to_cow() {
            Ok(text) => Ok(Value::String(text.into_owned())),
            Err(_) => Err(Unfit::Other(
                "a string that is not valid Unicode (it holds a lone surrogate)".into(),
            )),
        };
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = Map::new();
        for (k, v) in d.iter() {
            let Ok(key) = k
                .cast::<PyString>()
                .map_err(|_| ())
                .and_then(|k| k.to_cow().map(|c| c.into_owned()).map_err(|_| ()))
            else {
                return Err(Unfit::Other(
                    "a dict with a key that is not a string".into(),
                ));
            };
            let value = py_to_json_at(&v, depth + 1).map_err(|e| match e {
                Unfit::Other(m) if m.starts_with("a value nested") => Unfit::Other(m),
                _ => Unfit::Other("a dict".into()),
            })?;
            map.insert(key, value);
        }
        return Ok(Value::Object(map));
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let what = || Unfit::Other(format!("a {}", type_name(obj)));
        let mut items = Vec::new();
        for item in obj.try_iter().map_err(|_| what())? {
            let item = item.map_err(|_| what())?;
            items.push(py_to_json_at(&item, depth + 1).map_err(|e| match e {
                Unfit::Other(m) if m.starts_with("a value nested") => Unfit::Other(m),
                _ => what(),
            })?);
        }
        return Ok(Value::Array(items));
    }
    // Integer-like objects (numpy integers): whatever `operator.index` accepts.
    if obj.hasattr("__index__").unwrap_or(false) {
        if let Ok(i) = obj.call_method0("__index__") {
            if i.is_instance_of::<PyInt>() {
                return int_to_json(&i);
            }
        }
    }
    Err(Unfit::Other(format!("a value of type {}", type_name(obj))))
}

fn f64_text(v: f64) -> &'static str {
    if v.is_nan() {
        "nan"
    } else if v > 0.0 {
        "inf"
    } else {
        "-inf"
    }
}

/// An integer setting given a Python `float`: a whole one (`5000.0`) is that integer, as
/// pydantic's lax mode takes it; a fraction, NaN or an infinity is no integer.
fn float_as_integer(f: &Bound<'_, PyFloat>) -> Result<Value, Unfit> {
    let v = f.value();
    if !v.is_finite() {
        return Err(Unfit::NotInteger(format!(
            "{} (not a finite number)",
            f64_text(v)
        )));
    }
    let shown = || {
        f.repr()
            .map(|r| r.to_string())
            .unwrap_or_else(|_| v.to_string())
    };
    if v.fract() != 0.0 {
        return Err(Unfit::NotInteger(shown()));
    }
    // Whole, and inside i64 (2**63 is exactly representable; i64::MAX is not).
    if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&v) {
        // Exact: the value is whole and in range.
        #[allow(clippy::cast_possible_truncation)]
        return Ok(Value::from(v as i64));
    }
    Err(Unfit::BigInt(shown()))
}

/// `py_to_json` for the value of `field`: an integer setting holds an `i64`, so an integer
/// past that (up to 2**64 - 1 still has a JSON form) is reported like a larger one, and a
/// whole `float` is taken as its integer.
pub fn field_value(field: Option<&FieldInfo>, obj: &Bound<'_, PyAny>) -> Result<Value, Unfit> {
    if let (Some(f), Ok(float)) = (field, obj.cast::<PyFloat>()) {
        if f.kind == FieldKind::Integer {
            return float_as_integer(float);
        }
    }
    let value = py_to_json(obj)?;
    match (&value, field) {
        (Value::Number(n), Some(f))
            if f.kind == FieldKind::Integer && n.is_u64() && !n.is_i64() =>
        {
            Err(Unfit::BigInt(n.to_string()))
        }
        _ => Ok(value),
    }
}

/// The violation for a value with no JSON form, worded like the core's type errors for the
/// field's kind. `name` is the key as given; the violation names the field in API spelling.
pub fn unfit_violation(name: &str, field: Option<&FieldInfo>, unfit: &Unfit) -> Violation {
    let desc = unfit.describe();
    let Some(f) = field else {
        return Violation::error(
            Some(name),
            None,
            "json",
            format!("cannot be sent as JSON: found {desc}"),
        );
    };
    if f.secret {
        return Violation::error(
            Some(f.name),
            Some(Value::String(REDACTED.into())),
            "string",
            "expected a string (value not shown: secret)",
        );
    }
    let (rule, message) = match (f.kind, unfit) {
        (FieldKind::Integer, Unfit::BigInt(_)) => match (f.min, f.max) {
            (Some(min), Some(max)) => {
                let unit = f.unit.map(|u| format!(" {u}")).unwrap_or_default();
                (
                    "range",
                    format!("{desc} is out of range: must be between {min} and {max}{unit}"),
                )
            }
            _ => (
                "integer",
                format!("expected an integer that fits in 64 bits, found {desc}"),
            ),
        },
        (FieldKind::Integer, Unfit::NotInteger(_)) => {
            ("integer", format!("must be an integer, found {desc}"))
        }
        (FieldKind::Integer, _) => ("integer", format!("expected an integer, found {desc}")),
        (FieldKind::YesNo, _) => ("yesNo", format!("expected \"yes\" or \"no\", found {desc}")),
        (FieldKind::String | FieldKind::Url | FieldKind::Token, _) => {
            ("string", format!("expected a string, found {desc}"))
        }
        _ => ("type", format!("cannot use {desc} here")),
    };
    // An integer that JSON can carry (below 2**64) is kept as the value.
    let value = match unfit {
        Unfit::BigInt(digits) => digits.parse::<u64>().ok().map(Value::from),
        Unfit::Other(_) | Unfit::NotInteger(_) => None,
    };
    Violation::error(Some(f.name), value, rule, message)
}

/// Converts a JSON value into plain Python objects.
pub fn json_to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any(),
            (None, Some(u)) => u.into_pyobject(py)?.into_any(),
            _ => n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any(),
        },
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(json_to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, item) in map {
                dict.set_item(k, json_to_py(py, item)?)?;
            }
            dict.into_any()
        }
    })
}

/// A setting's wire value as its Python type: `"yes"`/`"no"` become `bool`.
pub fn field_to_py<'py>(
    py: Python<'py>,
    field: &FieldInfo,
    v: &Value,
) -> PyResult<Bound<'py, PyAny>> {
    match (field.kind, v.as_str()) {
        (FieldKind::YesNo, Some("yes")) => json_to_py(py, &Value::Bool(true)),
        (FieldKind::YesNo, Some("no")) => json_to_py(py, &Value::Bool(false)),
        _ => json_to_py(py, v),
    }
}

/// Python's `repr()` of a value, for `__repr__` implementations.
pub fn repr_of(py: Python<'_>, v: &Value) -> String {
    json_to_py(py, v)
        .and_then(|o| o.repr().map(|r| r.to_string()))
        .unwrap_or_else(|_| v.to_string())
}

/// `repr()` of a setting's value in its Python type, `REDACTED` for non-empty secrets.
pub fn field_repr(py: Python<'_>, field: &FieldInfo, v: &Value) -> String {
    if field.secret && v.as_str() != Some("") {
        return REDACTED.to_string();
    }
    field_to_py(py, field, v)
        .and_then(|o| o.repr().map(|r| r.to_string()))
        .unwrap_or_else(|_| v.to_string())
}

/// A mapping (a dict, or anything `dict.update` takes) with string keys as a JSON object, and
/// a violation for each value with no JSON form. With `unknown_as_null`, a key that `find`
/// does not know keeps a `null` in its place instead, for the reader to report as it reports
/// unknown fields.
pub fn mapping_to_json(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    find: impl Fn(&str) -> Option<&'static FieldInfo>,
    unknown_as_null: bool,
) -> PyResult<(Map<String, Value>, Vec<Violation>)> {
    let dict = match data.cast::<PyDict>() {
        Ok(d) => d.clone(),
        Err(_) => {
            let d = PyDict::new(py);
            d.call_method1("update", (data,))
                .map_err(|_| PyTypeError::new_err("expected a mapping of settings"))?;
            d
        }
    };
    let mut map = Map::new();
    let mut problems = Vec::new();
    for (k, v) in dict.iter() {
        let key: String = k
            .cast::<PyString>()
            .ok()
            .and_then(|k| k.to_cow().ok().map(|c| c.into_owned()))
            .ok_or_else(|| {
                PyTypeError::new_err("the names of settings must be strings (valid Unicode)")
            })?;
        let field = find(&key);
        match field_value(field, &v) {
            Ok(value) => {
                map.insert(key, value);
            }
            Err(_) if field.is_none() && unknown_as_null => {
                map.insert(key, Value::Null);
            }
            Err(unfit) => problems.push(unfit_violation(&key, field, &unfit)),
        }
    }
    Ok((map, problems))
}
