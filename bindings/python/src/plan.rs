//! `Plan`, `Change` and `Applied`: what `plan` shows and `apply` did.

use pyo3::prelude::*;

use greenapi_settings::redact::REDACTED;
use greenapi_settings::{Applied, Change, FieldInfo, Plan, Verification, VerifiedApply};

use crate::convert::{field_to_py, json_to_py, repr_of};
use crate::plain::{self, Names};
use crate::report::PyViolation;
use crate::values::{PySettings, PySettingsPatch};

/// One field whose desired value differs from the current one.
#[pyclass(module = "greenapi_settings", name = "Change", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct PyChange {
    inner: Change,
}

impl PyChange {
    fn value<'py>(&self, py: Python<'py>, v: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
        match FieldInfo::find(self.inner.field) {
            Some(f) => field_to_py(py, f, v),
            None => json_to_py(py, v),
        }
    }

    fn shown(&self, py: Python<'_>, v: &serde_json::Value) -> String {
        if self.inner.secret {
            return REDACTED.into();
        }
        self.value(py, v)
            .and_then(|o| o.repr().map(|r| r.to_string()))
            .unwrap_or_else(|_| v.to_string())
    }
}

#[pymethods]
impl PyChange {
    /// API name of the setting.
    #[getter]
    fn field(&self) -> &'static str {
        self.inner.field
    }

    /// The value now (bool for yes/no settings).
    #[getter]
    fn current<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.value(py, &self.inner.current)
    }

    /// The value wanted (bool for yes/no settings).
    #[getter]
    fn desired<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.value(py, &self.inner.desired)
    }

    /// Whether the values are secrets (then `repr` and `str` hide them).
    #[getter]
    fn secret(&self) -> bool {
        self.inner.secret
    }

    /// `field`, `current`, `desired` as plain data, spelt as `names` says; a secret's values
    /// are `<redacted>` unless `reveal_secrets=True`.
    #[pyo3(signature = (*, names, reveal_secrets = false))]
    fn to_dict<'py>(
        &self,
        py: Python<'py>,
        names: &str,
        reveal_secrets: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        plain::to_py(
            py,
            &plain::change(Names::parse(names)?, &self.inner, reveal_secrets),
        )
    }

    fn __str__(&self) -> String {
        self.inner.to_string()
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "Change(field={}, current={}, desired={})",
            repr_of(py, &self.inner.field.into()),
            self.shown(py, &self.inner.current),
            self.shown(py, &self.inner.desired)
        )
    }
}

fn changes_repr(py: Python<'_>, changes: &[Change]) -> String {
    let parts: Vec<String> = changes
        .iter()
        .map(|c| PyChange { inner: c.clone() }.__repr__(py))
        .collect();
    format!("[{}]", parts.join(", "))
}

/// What applying a desired state would change, computed from the current settings.
#[pyclass(module = "greenapi_settings", name = "Plan", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct PyPlan {
    pub inner: Plan,
}

impl From<Plan> for PyPlan {
    fn from(inner: Plan) -> Self {
        PyPlan { inner }
    }
}

#[pymethods]
impl PyPlan {
    /// The settings read from the instance.
    #[getter]
    fn current(&self) -> PySettings {
        self.inner.current.clone().into()
    }

    /// The desired state (unset fields are left alone).
    #[getter]
    fn desired(&self) -> PySettingsPatch {
        self.inner.desired.clone().into()
    }

    /// Fields whose value would change, in spec order.
    #[getter]
    fn changes(&self) -> Vec<PyChange> {
        self.inner
            .changes
            .iter()
            .map(|c| PyChange { inner: c.clone() })
            .collect()
    }

    /// The patch `apply` sends: only the changed fields.
    #[getter]
    fn to_send(&self) -> PySettingsPatch {
        self.inner.to_send.clone().into()
    }

    /// Unused-field, broken-field and cross-field warnings on current settings + desired.
    #[getter]
    fn warnings(&self) -> Vec<PyViolation> {
        self.inner
            .warnings
            .iter()
            .cloned()
            .map(Into::into)
            .collect()
    }

    /// Whether the instance already matches (apply would send nothing).
    #[getter]
    fn is_noop(&self) -> bool {
        self.inner.is_noop()
    }

    /// The settings the instance would have after applying.
    fn after(&self) -> PySettings {
        self.inner.after().into()
    }

    /// The plan as plain data for `json.dumps`: `changes`, `warnings`, `current`, `desired`,
    /// `to_send` and `is_noop` (`toSend`, `isNoop` with `names="api"`), settings spelt as
    /// `names` says. Secret values are `<redacted>` unless `reveal_secrets=True`.
    #[pyo3(signature = (*, names, reveal_secrets = false))]
    fn to_dict<'py>(
        &self,
        py: Python<'py>,
        names: &str,
        reveal_secrets: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        plain::to_py(
            py,
            &plain::plan(Names::parse(names)?, &self.inner, reveal_secrets),
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
        let value = plain::plan(Names::parse(names)?, &self.inner, reveal_secrets);
        plain::to_json(py, &value, indent)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "Plan(changes={}, warnings={})",
            changes_repr(py, &self.inner.changes),
            self.inner.warnings.len()
        )
    }
}

/// The result of `apply`.
#[pyclass(module = "greenapi_settings", name = "Applied", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct PyApplied {
    inner: Applied,
    verification: Verification,
    resent: usize,
}

impl From<Applied> for PyApplied {
    fn from(inner: Applied) -> Self {
        PyApplied {
            inner,
            verification: Verification::NotVerified,
            resent: 0,
        }
    }
}

impl From<VerifiedApply> for PyApplied {
    fn from(v: VerifiedApply) -> Self {
        PyApplied {
            inner: v.applied,
            verification: v.verification,
            resent: v.resent.len(),
        }
    }
}

impl PyApplied {
    fn parts(&self) -> plain::AppliedParts<'_> {
        let still_wrong: &[Change] = match &self.verification {
            Verification::NotConverged { fields, .. }
            | Verification::Interrupted { fields, .. } => fields,
            _ => &[],
        };
        plain::AppliedParts {
            plan: &self.inner.plan,
            save_settings: self.inner.response.as_ref().map(|r| r.save_settings),
            verification: self.verification.kind(),
            converged: matches!(self.verification, Verification::Converged { .. }),
            resends: self.resent,
            still_wrong,
        }
    }
}

#[pymethods]
impl PyApplied {
    /// The plan that was carried out.
    #[getter]
    fn plan(&self) -> PyPlan {
        self.inner.plan.clone().into()
    }

    /// Whether a setSettings request was sent (and so the instance restarted).
    #[getter]
    fn sent(&self) -> bool {
        self.inner.sent()
    }

    /// The server's `saveSettings`, or None when nothing was sent.
    #[getter]
    fn save_settings(&self) -> Option<bool> {
        self.inner.response.as_ref().map(|r| r.save_settings)
    }

    /// What reading back showed: "notVerified" (no `wait`), "converged", "notConverged" or
    /// "interrupted".
    #[getter]
    fn verification(&self) -> &'static str {
        self.verification.kind()
    }

    /// True when every desired field was seen reading back (or nothing needed sending).
    #[getter]
    fn converged(&self) -> bool {
        matches!(self.verification, Verification::Converged { .. })
    }

    /// Re-sends of fields that still read wrong after the settle time.
    #[getter]
    fn resends(&self) -> usize {
        self.resent
    }

    /// The fields still reading wrong when the wait ended (current is what they read).
    #[getter]
    fn still_wrong(&self) -> Vec<PyChange> {
        match &self.verification {
            Verification::NotConverged { fields, .. }
            | Verification::Interrupted { fields, .. } => fields
                .iter()
                .map(|c| PyChange { inner: c.clone() })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The verification in words: "converged after 1 re-send", "not verified", ...
    #[getter]
    fn outcome(&self) -> String {
        self.verification.to_string()
    }

    /// What `apply` did as plain data for `json.dumps`: `sent`, `save_settings`,
    /// `verification`, `converged`, `resends`, `still_wrong` and the `plan` (`saveSettings`,
    /// `stillWrong` with `names="api"`). Secret values are `<redacted>` unless
    /// `reveal_secrets=True`.
    #[pyo3(signature = (*, names, reveal_secrets = false))]
    fn to_dict<'py>(
        &self,
        py: Python<'py>,
        names: &str,
        reveal_secrets: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        plain::to_py(
            py,
            &plain::applied(Names::parse(names)?, &self.parts(), reveal_secrets),
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
        let value = plain::applied(Names::parse(names)?, &self.parts(), reveal_secrets);
        plain::to_json(py, &value, indent)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "Applied(sent={}, changes={}, verification='{}')",
            if self.sent() { "True" } else { "False" },
            changes_repr(py, &self.inner.plan.changes),
            self.verification.kind()
        )
    }
}
