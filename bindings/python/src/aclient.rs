//! `AsyncClient`: the same calls as awaitables (pyo3-async-runtimes on the shared runtime,
//! see `runtime::IoRuntime`).
//! Cancelling the awaiting asyncio task cancels the request.

use std::future::Future;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyType};

use greenapi_settings::Error;

use crate::client::{client_repr, desired_state, patch_to_send};
use crate::errors::to_pyerr;
use crate::options::{self, Conn, Options};
use crate::plan::{PyApplied, PyPlan};
use crate::report::emit_warnings;
use crate::runtime::{handle, IoRuntime};
use crate::settings::PySettings;

fn py_err(e: Error) -> PyErr {
    Python::attach(|py| to_pyerr(py, e))
}

fn awaitable<'py, F, T>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    // Fails at once after interpreter exit began; starts a fresh runtime after fork().
    handle()?;
    pyo3_async_runtimes::generic::future_into_py::<IoRuntime, _, _>(py, fut)
}

/// An asyncio client for one instance.
#[pyclass(module = "greenapi_settings", name = "AsyncClient", frozen)]
pub struct PyAsyncClient {
    conn: Conn,
}

#[pymethods]
impl PyAsyncClient {
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
        Ok(PyAsyncClient { conn })
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
        Ok(PyAsyncClient {
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
    fn get_settings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let c = self.conn.client(py)?;
        awaitable(py, async move {
            c.get_settings().await.map(PySettings::from).map_err(py_err)
        })
    }

    /// Validates (at once, before returning the awaitable) and sends a change.
    #[pyo3(signature = (patch = None, **kwargs))]
    fn set_settings<'py>(
        &self,
        py: Python<'py>,
        patch: Option<&Bound<'py, PyAny>>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let patch = patch_to_send(py, "set_settings()", patch, kwargs)?;
        let c = self.conn.client(py)?;
        awaitable(py, async move {
            c.set_settings(&patch)
                .await
                .map(|r| r.save_settings)
                .map_err(py_err)
        })
    }

    /// Reads the current settings and shows what `desired` would change; sends nothing.
    #[pyo3(signature = (desired = None, **kwargs))]
    fn plan<'py>(
        &self,
        py: Python<'py>,
        desired: Option<&Bound<'py, PyAny>>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let desired = desired_state(py, "plan()", desired, kwargs)?;
        let c = self.conn.client(py)?;
        awaitable(py, async move {
            let plan = c.plan(&desired).await.map_err(py_err)?;
            Python::attach(|py| emit_warnings(py, &plan.warnings))?;
            Ok(PyPlan::from(plan))
        })
    }

    /// Brings the instance to `desired`, sending only what changed (nothing if it matches).
    #[pyo3(signature = (desired = None, **kwargs))]
    fn apply<'py>(
        &self,
        py: Python<'py>,
        desired: Option<&Bound<'py, PyAny>>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let desired = desired_state(py, "apply()", desired, kwargs)?;
        let c = self.conn.client(py)?;
        awaitable(py, async move {
            let plan = c.plan(&desired).await.map_err(py_err)?;
            Python::attach(|py| emit_warnings(py, &plan.warnings))?;
            c.apply_plan(plan)
                .await
                .map(PyApplied::from)
                .map_err(py_err)
        })
    }

    fn __repr__(&self) -> String {
        client_repr("AsyncClient", &self.conn)
    }
}
