//! `Violation` (one problem found by validation) and turning warnings into Python warnings.

use std::collections::BTreeSet;
use std::ffi::CString;
use std::sync::{Mutex, PoisonError};

use pyo3::exceptions::{PyDeprecationWarning, PyUserWarning, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyType;

use greenapi_settings::{Severity, Status, Violation};

use crate::convert::{json_to_py, py_to_json, repr_of};
use crate::plain::{self, Names};

/// One problem with a settings change: the field (API spelling), the value, the rule.
#[pyclass(module = "greenapi_settings", name = "Violation", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct PyViolation {
    inner: Violation,
}

impl From<Violation> for PyViolation {
    fn from(inner: Violation) -> Self {
        PyViolation { inner }
    }
}

#[pymethods]
impl PyViolation {
    /// API name of the field, or None for a problem of the whole patch.
    #[getter]
    fn field(&self) -> Option<&str> {
        self.inner.field.as_deref()
    }

    /// The offending value in wire form (secret values redacted), or None.
    #[getter]
    fn value<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match &self.inner.value {
            Some(v) => json_to_py(py, v),
            None => Ok(py.None().into_bound(py)),
        }
    }

    /// Stable rule name: `range`, `url`, `unused`, a cross-field rule id, ...
    #[getter]
    fn rule(&self) -> &'static str {
        self.inner.rule
    }

    /// Human-readable explanation.
    #[getter]
    fn message(&self) -> &str {
        &self.inner.message
    }

    /// `"error"` or `"warning"`.
    #[getter]
    fn severity(&self) -> &'static str {
        match self.inner.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }

    /// `field`, `value`, `rule`, `severity`, `message` as plain data, the field spelt as
    /// `names` says (`"api"` or `"snake"`); a secret value is redacted already.
    #[pyo3(signature = (*, names))]
    fn to_dict<'py>(&self, py: Python<'py>, names: &str) -> PyResult<Bound<'py, PyAny>> {
        plain::to_py(py, &plain::violation(Names::parse(names)?, &self.inner))
    }

    fn __str__(&self) -> String {
        self.inner.to_string()
    }

    /// Pickling (and `copy`): `Violation._restore(severity, field, value, rule, message,
    /// has_value)`; `has_value` tells a JSON null from no value, which Python shows alike.
    #[allow(clippy::type_complexity)]
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(
        Bound<'py, PyAny>,
        (
            &'static str,
            Option<String>,
            Bound<'py, PyAny>,
            &'static str,
            String,
            bool,
        ),
    )> {
        let py = slf.py();
        let me = slf.get();
        let restore = slf.get_type().getattr("_restore")?;
        Ok((
            restore,
            (
                me.severity(),
                me.inner.field.clone(),
                me.value(py)?,
                me.inner.rule,
                me.inner.message.clone(),
                me.inner.value.is_some(),
            ),
        ))
    }

    /// The inverse of `__reduce__`, for unpickling; not a public constructor.
    #[classmethod]
    fn _restore(
        _cls: &Bound<'_, PyType>,
        severity: &str,
        field: Option<String>,
        value: &Bound<'_, PyAny>,
        rule: &str,
        message: String,
        has_value: bool,
    ) -> PyResult<Self> {
        let severity = match severity {
            "error" => Severity::Error,
            "warning" => Severity::Warning,
            other => {
                return Err(PyValueError::new_err(format!(
                    "severity must be 'error' or 'warning', got {other:?}"
                )))
            }
        };
        let value = match py_to_json(value) {
            Ok(v) if has_value => Some(v),
            _ => None,
        };
        Ok(PyViolation {
            inner: Violation {
                severity,
                field,
                value,
                rule: static_rule(rule),
                message,
            },
        })
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let field = match &self.inner.field {
            Some(f) => repr_of(py, &serde_json::Value::String(f.clone())),
            None => "None".into(),
        };
        let value = self
            .inner
            .value
            .as_ref()
            .map_or_else(|| "None".into(), |v| repr_of(py, v));
        format!(
            "Violation(field={field}, value={value}, rule={}, severity={}, message={})",
            repr_of(py, &self.inner.rule.into()),
            repr_of(py, &self.severity().into()),
            repr_of(py, &self.inner.message.clone().into()),
        )
    }
}

/// A rule name as the `&'static str` a `Violation` holds: the core's own names are static
/// already; a name read back from a pickle is kept once for the life of the process.
fn static_rule(name: &str) -> &'static str {
    static SEEN: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());
    let mut seen = SEEN.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(known) = seen.get(name) {
        return known;
    }
    let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
    seen.insert(leaked);
    leaked
}

/// Emits each warning as a Python warning: `DeprecationWarning` for unused fields,
/// `UserWarning` for temporarily broken ones and for cross-field rules. With warnings turned
/// into errors, the first one raised is returned (and the caller sends nothing).
pub fn emit_warnings(py: Python<'_>, warnings: &[Violation]) -> PyResult<()> {
    WarningTexts::new(warnings)?.emit(py)
}

/// Warnings ready to emit, as [`emit_warnings`] emits them: each one's category and text,
/// formatted once (a checked `SettingsPatch` keeps them for every `set_settings` of it).
pub struct WarningTexts(Vec<(bool, CString)>);

impl WarningTexts {
    /// The categories (`true`: `DeprecationWarning`) and texts of `warnings`.
    pub fn new(warnings: &[Violation]) -> PyResult<Self> {
        warnings
            .iter()
            .map(|w| {
                let deprecation =
                    w.rule == Status::Unused.as_str() || w.rule == Status::Deprecated.as_str();
                Ok((deprecation, CString::new(w.to_string().replace('\0', " "))?))
            })
            .collect::<PyResult<_>>()
            .map(WarningTexts)
    }

    /// Emits each one as a Python warning, in order; the first one raised stops it.
    pub fn emit(&self, py: Python<'_>) -> PyResult<()> {
        for (deprecation, text) in &self.0 {
            let category = if *deprecation {
                py.get_type::<PyDeprecationWarning>()
            } else {
                py.get_type::<PyUserWarning>()
            };
            PyErr::warn(py, category.as_any(), text, 1)?;
        }
        Ok(())
    }
}
