//! `SettingsPatch`: keyword arguments in, the core crate's `SettingsPatch` inside.

use pyo3::exceptions::{PyAttributeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyType};
use serde_json::{Map, Value};

use greenapi_settings::{FieldInfo, SettingsPatch, Violation, FIELDS};

use crate::convert::{field_repr, field_to_py, field_value, json_to_py, unfit_violation};
use crate::errors::validation_error;
use crate::report::PyViolation;
use crate::settings::PySettings;

/// A partial change of settings: the body of one setSettings call.
#[pyclass(module = "greenapi_settings", name = "SettingsPatch", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct PySettingsPatch {
    pub inner: SettingsPatch,
}

impl From<SettingsPatch> for PySettingsPatch {
    fn from(inner: SettingsPatch) -> Self {
        PySettingsPatch { inner }
    }
}

fn by_snake(name: &str) -> Option<&'static FieldInfo> {
    FIELDS.iter().find(|f| f.snake == name)
}

/// Close snake_case names for a misspelled keyword, closest first.
fn close_keywords(name: &str) -> Vec<&'static str> {
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

fn unknown_keyword_error(what: &str, unknown: &[String]) -> PyErr {
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

/// Builds a patch from snake_case keyword arguments. Unknown names are a `TypeError` naming
/// close matches; bad values are one `ValidationError` listing every one of them. `None`
/// leaves a field unset.
pub fn patch_from_kwargs(
    py: Python<'_>,
    what: &str,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<SettingsPatch> {
    let mut patch = SettingsPatch::new();
    let Some(kwargs) = kwargs else {
        return Ok(patch);
    };
    let mut unknown = Vec::new();
    let mut problems = Vec::new();
    for (k, v) in kwargs.iter() {
        let key: String = k.extract()?;
        let Some(field) = by_snake(&key) else {
            unknown.push(key);
            continue;
        };
        if v.is_none() {
            continue;
        }
        let result = match field_value(Some(field), &v) {
            Ok(value) => patch.set_json(field.name, &value),
            Err(unfit) => Err(unfit_violation(&key, Some(field), &unfit)),
        };
        if let Err(violation) = result {
            problems.push(violation);
        }
    }
    if !unknown.is_empty() {
        return Err(unknown_keyword_error(what, &unknown));
    }
    if !problems.is_empty() {
        return Err(validation_error(py, problems));
    }
    Ok(patch)
}

/// A patch from a mapping in API spelling or snake_case (`"yes"`/`"no"` or bool).
pub fn patch_from_mapping(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<SettingsPatch> {
    let (map, mut problems) = mapping_to_json(py, data, FieldInfo::find, true)?;
    match SettingsPatch::from_json_value(&Value::Object(map)) {
        Ok(patch) if problems.is_empty() => Ok(patch),
        Ok(_) => Err(validation_error(py, problems)),
        Err(mut found) => {
            found.append(&mut problems);
            Err(validation_error(py, found))
        }
    }
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

/// The desired change of a client call: a `SettingsPatch`, a mapping, or keyword arguments.
pub fn patch_from_call(
    py: Python<'_>,
    what: &str,
    patch: Option<&Bound<'_, PyAny>>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<SettingsPatch> {
    let has_kwargs = kwargs.is_some_and(|k| !k.is_empty());
    match patch {
        Some(p) if has_kwargs && !p.is_none() => Err(PyTypeError::new_err(format!(
            "{what} takes a SettingsPatch or keyword arguments, not both"
        ))),
        Some(p) if !p.is_none() => match p.cast::<PySettingsPatch>() {
            Ok(p) => Ok(p.get().inner.clone()),
            Err(_) => patch_from_mapping(py, p),
        },
        _ => patch_from_kwargs(py, what, kwargs),
    }
}

#[pymethods]
impl PySettingsPatch {
    #[new]
    #[pyo3(signature = (**kwargs))]
    fn new(py: Python<'_>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        patch_from_kwargs(py, "SettingsPatch()", kwargs).map(Self::from)
    }

    /// A patch from a mapping in API spelling or snake_case, yes/no as "yes"/"no" or bool.
    #[classmethod]
    fn from_dict(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        patch_from_mapping(py, data).map(Self::from)
    }

    /// The request body: API spelling, yes/no fields as "yes"/"no", unset fields left out.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &self.inner.to_json_value())
    }

    /// Returns the warnings; raises `ValidationError` with every error. With `current`, the
    /// cross-field rules are evaluated on the current settings merged with this patch.
    #[pyo3(signature = (current=None))]
    fn validate(
        &self,
        py: Python<'_>,
        current: Option<PyRef<'_, PySettings>>,
    ) -> PyResult<Vec<PyViolation>> {
        let report = match current {
            Some(c) => self.inner.validate_against(&c.inner),
            None => self.inner.validate(),
        };
        match report.into_result() {
            Ok(warnings) => Ok(warnings.into_iter().map(PyViolation::from).collect()),
            Err(e) => Err(validation_error(py, e.violations)),
        }
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    /// Pickling (and `copy`): `SettingsPatch.from_dict(self.to_dict())`.
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyAny>,))> {
        let from_dict = slf.get_type().getattr("from_dict")?;
        Ok((from_dict, (slf.get().to_dict(slf.py())?,)))
    }

    fn __getattr__<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
        field_attr(py, "SettingsPatch", by_snake(name), name, |n| {
            self.inner.get_json(n)
        })
    }

    fn __dir__(slf: &Bound<'_, Self>) -> PyResult<Vec<String>> {
        let mut names: Vec<String> = slf.get_type().dir()?.extract()?;
        names.extend(FIELDS.iter().map(|f| f.snake.to_string()));
        Ok(names)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let parts: Vec<String> = FIELDS
            .iter()
            .filter_map(|f| {
                let v = self.inner.get_json(f.name)?;
                Some(format!("{}={}", f.snake, field_repr(py, f, &v)))
            })
            .collect();
        format!("SettingsPatch({})", parts.join(", "))
    }
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

/// `AttributeError` with "did you mean" for a misspelled setting.
pub fn no_attribute(class: &str, name: &str) -> PyErr {
    let close = close_keywords(name);
    let hint = match close.first() {
        Some(c) => format!("; did you mean '{c}'?"),
        None => String::new(),
    };
    PyAttributeError::new_err(format!("'{class}' object has no attribute '{name}'{hint}"))
}
