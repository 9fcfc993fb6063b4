//! Python values ⇄ JSON values, the lingua franca of the core crate's setters and getters.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Number, Value};

use greenapi_settings::{FieldInfo, FieldKind};

/// Converts a plain Python value (None, bool, int, float, str, list/tuple, dict with str keys).
/// Integers past 64 bits become floats, so the core's type check reports them as non-integers.
pub fn py_to_json(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if obj.is_instance_of::<PyBool>() {
        return Ok(Value::Bool(obj.extract()?));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Value::from(i));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(Value::from(u));
        }
        let f: f64 = obj.extract()?;
        return Ok(Number::from_f64(f).map_or(Value::Null, Value::Number));
    }
    if obj.is_instance_of::<PyFloat>() {
        let f: f64 = obj.extract()?;
        return Number::from_f64(f)
            .map(Value::Number)
            .ok_or_else(|| PyValueError::new_err(format!("{f} is not a finite number")));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(s.to_cow()?.into_owned()));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = Map::new();
        for (k, v) in d.iter() {
            let key: String = k
                .extract()
                .map_err(|_| PyTypeError::new_err("dictionary keys must be strings"))?;
            map.insert(key, py_to_json(&v)?);
        }
        return Ok(Value::Object(map));
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let items: PyResult<Vec<Value>> = obj.try_iter()?.map(|x| py_to_json(&x?)).collect();
        return Ok(Value::Array(items?));
    }
    Err(PyTypeError::new_err(format!(
        "cannot use a value of type {} here; expected bool, int, str, list or dict",
        obj.get_type().name()?
    )))
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

/// `repr()` of a setting's value in its Python type, `<redacted>` for non-empty secrets.
pub fn field_repr(py: Python<'_>, field: &FieldInfo, v: &Value) -> String {
    if field.secret && v.as_str() != Some("") {
        return "<redacted>".to_string();
    }
    field_to_py(py, field, v)
        .and_then(|o| o.repr().map(|r| r.to_string()))
        .unwrap_or_else(|_| v.to_string())
}
