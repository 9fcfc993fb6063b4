//! `Settings`: what getSettings returns, read-only from Python.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyType};
use serde_json::Value;

use greenapi_settings::{Settings, Violation, FIELDS, READ_ONLY_FIELDS};

use crate::convert::{field_repr, json_to_py, mapping_to_json, py_to_json};
use crate::errors::validation_error;
use crate::fields::{any_by_api_name, any_by_snake, field_attr};
use crate::patch::patch_from_kwargs;
use crate::plain::{self, Names};
use crate::values::{PySettings, PySettingsPatch};

#[pymethods]
impl PySettings {
    /// Reads a getSettings body (API spelling). Unknown fields are kept in `extra`.
    #[classmethod]
    fn from_dict(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        if !data.is_instance_of::<PyDict>() {
            // Not a dict: the reader says what it expected.
            let value = py_to_json(data).map_err(|unfit| {
                let message = format!("expected a mapping of settings, found {}", unfit.describe());
                validation_error(py, vec![Violation::error(None, None, "object", message)])
            })?;
            return Settings::from_json_value(&value)
                .map(Self::from)
                .map_err(|vs| validation_error(py, vs));
        }
        let (map, mut problems) = mapping_to_json(py, data, any_by_api_name, false)?;
        match Settings::from_json_value(&Value::Object(map)) {
            Ok(settings) if problems.is_empty() => Ok(settings.into()),
            Ok(_) => Err(validation_error(py, problems)),
            Err(mut found) => {
                found.append(&mut problems);
                Err(validation_error(py, found))
            }
        }
    }

    /// Every field as plain data for `json.dumps`: `names="api"` gives the getSettings body
    /// (API spelling, "yes"/"no", read-only and unknown fields included), `names="snake"`
    /// snake_case names and bools (unknown fields stay in `extra`). `webhookUrlToken` is
    /// `<redacted>` unless `reveal_secrets=True`.
    #[pyo3(signature = (*, names, reveal_secrets = false))]
    fn to_dict<'py>(
        &self,
        py: Python<'py>,
        names: &str,
        reveal_secrets: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        plain::to_py(
            py,
            &plain::settings(Names::parse(names)?, &self.inner, reveal_secrets),
        )
    }

    /// `json.dumps(self.to_dict(names=..., reveal_secrets=...), indent=indent)`.
    #[pyo3(signature = (*, names, reveal_secrets = false, indent = None))]
    fn to_json(
        &self,
        py: Python<'_>,
        names: &str,
        reveal_secrets: bool,
        indent: Option<usize>,
    ) -> PyResult<String> {
        let value = plain::settings(Names::parse(names)?, &self.inner, reveal_secrets);
        plain::to_json(py, &value, indent)
    }

    /// New settings with these writable settings changed, like `dataclasses.replace`:
    /// snake_case keywords checked as `SettingsPatch(...)` checks them; a setting of
    /// `Settings` always has a value, so `None` is refused.
    #[pyo3(signature = (**changes))]
    fn replace(&self, py: Python<'_>, changes: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        if let Some(changes) = changes {
            for (k, v) in changes.iter() {
                if v.is_none() {
                    return Err(PyTypeError::new_err(format!(
                        "Settings.replace(): {k} cannot be None (every setting has a value)"
                    )));
                }
            }
        }
        let patch = patch_from_kwargs(py, "Settings.replace()", changes)?;
        let mut settings = self.inner.clone();
        patch.apply_to(&mut settings);
        Ok(settings.into())
    }

    /// Pickling (and `copy`): `Settings.from_dict(<the getSettings body>)`, secret included.
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyAny>,))> {
        let from_dict = slf.get_type().getattr("from_dict")?;
        let body = json_to_py(slf.py(), &slf.get().inner.to_json_value())?;
        Ok((from_dict, (body,)))
    }

    /// Every writable setting as a patch (all fields set).
    fn to_patch(&self) -> PySettingsPatch {
        self.inner.to_patch().into()
    }

    /// Fields this version does not know, as the API sent them.
    #[getter]
    fn extra<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &serde_json::Value::Object(self.inner.extra.clone()))
    }

    fn __getattr__<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
        field_attr(py, "Settings", any_by_snake(name), name, |n| {
            self.inner.get_json(n)
        })
    }

    fn __dir__(slf: &Bound<'_, Self>) -> PyResult<Vec<String>> {
        let mut names: Vec<String> = slf.get_type().dir()?.extract()?;
        names.extend(
            FIELDS
                .iter()
                .chain(READ_ONLY_FIELDS)
                .map(|f| f.snake.to_string()),
        );
        Ok(names)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let mut parts: Vec<String> = FIELDS
            .iter()
            .chain(READ_ONLY_FIELDS)
            .filter_map(|f| {
                let v = self.inner.get_json(f.name)?;
                Some(format!("{}={}", f.snake, field_repr(py, f, &v)))
            })
            .collect();
        if !self.inner.extra.is_empty() {
            // Names only: a field this version does not know might hold a secret.
            let keys: Vec<&str> = self.inner.extra.keys().map(String::as_str).collect();
            parts.push(format!("extra_fields={keys:?}"));
        }
        format!("Settings({})", parts.join(", "))
    }
}
