//! `AsyncClient`: the same calls as awaitables (pyo3-async-runtimes on the shared runtime).
//! Cancelling the awaiting asyncio task cancels the request.

use std::future::Future;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyType};

use greenapi_settings::{Client, Error};

use crate::client::{client_repr, desired_state, patch_to_send};
use crate::errors::to_pyerr;
use crate::options::{self, Options};
use crate::plan::{PyApplied, PyPlan};
use crate::report::emit_warnings;
use crate::runtime::runtime;
use crate::settings::PySettings;

fn py_err(e: Error) -> PyErr {
    Python::attach(|py| to_pyerr(py, e))
}

fn awaitable<'py, F, T>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    runtime()?;
    pyo3_async_runtimes::tokio::future_into_py(py, fut)
}

/// An asyncio client for one instance.
#[pyclass(module = "greenapi_settings", name = "AsyncClient", frozen)]
pub struct PyAsyncClient {
    inner: Client,
}

#[pymethods]
impl PyAsyncClient {
    #[new]
    #[pyo3(signature = (api_url, id_instance, api_token, *, timeout = 30.0, retries = 3, min_interval = None))]
    fn new(
        py: Python<'_>,
        api_url: String,
        id_instance: u64,
        api_token: String,
        timeout: f64,
        retries: u32,
        min_interval: Option<f64>,
    ) -> PyResult<Self> {
        let opts = Options {
            timeout,
            retries,
            min_interval,
        };
        let inner = options::build(py, api_url, id_instance, api_token, &opts)?;
        Ok(PyAsyncClient { inner })
    }

    /// A client from GREEN_API_URL, GREEN_API_ID_INSTANCE and GREEN_API_TOKEN.
    #[classmethod]
    #[pyo3(signature = (*, timeout = 30.0, retries = 3, min_interval = None))]
    fn from_env(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        timeout: f64,
        retries: u32,
        min_interval: Option<f64>,
    ) -> PyResult<Self> {
        let opts = Options {
            timeout,
            retries,
            min_interval,
        };
        Ok(PyAsyncClient {
            inner: options::from_env(py, &opts)?,
        })
    }

    #[getter]
    fn api_url(&self) -> &str {
        self.inner.api_url()
    }

    #[getter]
    fn id_instance(&self) -> u64 {
        self.inner.id_instance()
    }

    /// Reads every setting of the instance (getSettings).
    fn get_settings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let c = self.inner.clone();
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
        let c = self.inner.clone();
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
        let c = self.inner.clone();
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
        let c = self.inner.clone();
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
        client_repr("AsyncClient", &self.inner)
    }
}
