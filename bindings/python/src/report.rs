//! `Violation` (one problem found by validation) and turning warnings into Python warnings.

use std::ffi::CString;

use pyo3::exceptions::{PyDeprecationWarning, PyUserWarning};
use pyo3::prelude::*;

use greenapi_settings::{Severity, Status, Violation};

use crate::convert::{json_to_py, repr_of};

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

    /// The offending value in wire form (secrets are "<redacted>"), or None.
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

    fn __str__(&self) -> String {
        self.inner.to_string()
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

/// Emits each warning as a Python warning: `DeprecationWarning` for unused fields,
/// `UserWarning` for temporarily broken ones and for cross-field rules. With warnings turned
/// into errors, the first one raised is returned (and the caller sends nothing).
pub fn emit_warnings(py: Python<'_>, warnings: &[Violation]) -> PyResult<()> {
    for w in warnings {
        let category = if w.rule == Status::Unused.as_str() {
            py.get_type::<PyDeprecationWarning>()
        } else {
            py.get_type::<PyUserWarning>()
        };
        let text = CString::new(w.to_string().replace('\0', " "))?;
        PyErr::warn(py, category.as_any(), &text, 1)?;
    }
    Ok(())
}
