//! `Client`: the blocking client. Each call runs on the shared runtime with the GIL released
//! and can be interrupted with Ctrl-C (see `runtime::block_on`).

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyType};

use greenapi_settings::SettingsPatch;

use crate::errors::{to_pyerr, validation_error};
use crate::options::{self, Conn, Options};
use crate::patch::patch_from_call;
use crate::plan::{PyApplied, PyPlan};
use crate::report::emit_warnings;
use crate::runtime::block_on;
use crate::settings::PySettings;

/// The patch for `set_settings`: errors raise `ValidationError` (nothing is sent), warnings
/// are emitted as Python warnings before sending.
pub fn patch_to_send(
    py: Python<'_>,
    what: &str,
    patch: Option<&Bound<'_, PyAny>>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<SettingsPatch> {
    let patch = patch_from_call(py, what, patch, kwargs)?;
    match patch.validate().into_result() {
        Ok(warnings) => emit_warnings(py, &warnings)?,
        Err(e) => return Err(validation_error(py, e.violations)),
    }
    Ok(patch)
}

/// The desired state for `plan` / `apply`: errors raise at once; warnings wait for the plan,
/// which evaluates the cross-field rules on the current settings too.
pub fn desired_state(
    py: Python<'_>,
    what: &str,
    desired: Option<&Bound<'_, PyAny>>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<SettingsPatch> {
    let desired = patch_from_call(py, what, desired, kwargs)?;
    if let Err(e) = desired.validate().into_result() {
        return Err(validation_error(py, e.violations));
    }
    Ok(desired)
}

pub fn client_repr(class: &str, c: &Conn) -> String {
    format!(
        "{class}(api_url='{}', id_instance={}, api_token=<redacted>)",
        c.api_url(),
        c.id_instance()
    )
}

/// A blocking client for one instance.
#[pyclass(module = "greenapi_settings", name = "Client", frozen)]
pub struct PyClient {
    conn: Conn,
}

#[pymethods]
impl PyClient {
    #[new]
    #[pyo3(
        signature = (api_url, id_instance, api_token, *, timeout = None, retries = None, min_interval = None),
        text_signature = "(api_url, id_instance, api_token, *, timeout=30.0, retries=3, min_interval=None)"
    )]
    fn new(
        py: Python<'_>,
        api_url: String,
        id_instance: &Bound<'_, PyAny>,
        api_token: String,
        timeout: Option<&Bound<'_, PyAny>>,
        retries: Option<&Bound<'_, PyAny>>,
        min_interval: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let opts = Options::new(py, timeout, retries, min_interval)?;
        let conn = options::build(py, api_url, id_instance, api_token, &opts)?;
        Ok(PyClient { conn })
    }

    /// A client from GREEN_API_URL, GREEN_API_ID_INSTANCE and GREEN_API_TOKEN.
    #[classmethod]
    #[pyo3(
        signature = (*, timeout = None, retries = None, min_interval = None),
        text_signature = "($cls, *, timeout=30.0, retries=3, min_interval=None)"
    )]
    fn from_env(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        timeout: Option<&Bound<'_, PyAny>>,
        retries: Option<&Bound<'_, PyAny>>,
        min_interval: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let opts = Options::new(py, timeout, retries, min_interval)?;
        Ok(PyClient {
            conn: options::from_env(py, &opts)?,
        })
    }

    #[getter]
    fn api_url(&self) -> &str {
        self.conn.api_url()
    }

    #[getter]
    fn id_instance(&self) -> u64 {
        self.conn.id_instance()
    }

    /// Reads every setting of the instance (getSettings).
    fn get_settings(&self, py: Python<'_>) -> PyResult<PySettings> {
        let c = self.conn.client(py)?;
        let result = block_on(py, async move { c.get_settings().await })?;
        result.map(PySettings::from).map_err(|e| to_pyerr(py, e))
    }

    /// Validates and sends a change (setSettings); returns the server's saveSettings.
    #[pyo3(signature = (patch = None, **kwargs))]
    fn set_settings(
        &self,
        py: Python<'_>,
        patch: Option<&Bound<'_, PyAny>>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<bool> {
        let patch = patch_to_send(py, "set_settings()", patch, kwargs)?;
        let c = self.conn.client(py)?;
        let result = block_on(py, async move { c.set_settings(&patch).await })?;
        result.map(|r| r.save_settings).map_err(|e| to_pyerr(py, e))
    }

    /// Reads the current settings and shows what `desired` would change; sends nothing.
    #[pyo3(signature = (desired = None, **kwargs))]
    fn plan(
        &self,
        py: Python<'_>,
        desired: Option<&Bound<'_, PyAny>>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PyPlan> {
        let desired = desired_state(py, "plan()", desired, kwargs)?;
        let c = self.conn.client(py)?;
        let plan =
            block_on(py, async move { c.plan(&desired).await })?.map_err(|e| to_pyerr(py, e))?;
        emit_warnings(py, &plan.warnings)?;
        Ok(plan.into())
    }

    /// Brings the instance to `desired`, sending only what changed (nothing if it matches).
    #[pyo3(signature = (desired = None, **kwargs))]
    fn apply(
        &self,
        py: Python<'_>,
        desired: Option<&Bound<'_, PyAny>>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PyApplied> {
        let desired = desired_state(py, "apply()", desired, kwargs)?;
        let c = self.conn.client(py)?;
        let plan =
            block_on(py, async move { c.plan(&desired).await })?.map_err(|e| to_pyerr(py, e))?;
        emit_warnings(py, &plan.warnings)?;
        let c = self.conn.client(py)?;
        let applied = block_on(py, async move { c.apply_plan(plan).await })?;
        applied.map(PyApplied::from).map_err(|e| to_pyerr(py, e))
    }

    fn __repr__(&self) -> String {
        client_repr("Client", &self.conn)
    }
}
