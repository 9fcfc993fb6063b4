//! `AsyncClient`: the calls of `calls`, each returned as a coroutine (`coroutine::PyCall`)
//! that runs when awaited. Arguments are checked by the call itself.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple, PyType};

use crate::calls::{self, Step};
use crate::coroutine::PyCall;
use crate::options::{self, Conn, Network, Options};

/// An asyncio client for one instance; an async context manager (`aclose()` at the end).
#[pyclass(module = "greenapi_settings", name = "AsyncClient", frozen)]
pub struct PyAsyncClient {
    conn: Arc<Conn>,
}

fn call(name: &str, step: Step) -> PyCall {
    PyCall::new(format!("AsyncClient.{name}"), step)
}

#[pymethods]
impl PyAsyncClient {
    #[new]
    #[pyo3(
        signature = (api_url, id_instance, api_token, *, timeout = None, retries = None, min_interval = None, ca_cert = None, proxy = None, allow_insecure_proxy = false),
        text_signature = "(api_url, id_instance, api_token, *, timeout=30.0, retries=3, min_interval=None, ca_cert=None, proxy=None, allow_insecure_proxy=False)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        api_url: String,
        id_instance: &Bound<'_, PyAny>,
        api_token: String,
        timeout: Option<&Bound<'_, PyAny>>,
        retries: Option<&Bound<'_, PyAny>>,
        min_interval: Option<&Bound<'_, PyAny>>,
        ca_cert: Option<std::path::PathBuf>,
        proxy: Option<String>,
        allow_insecure_proxy: bool,
    ) -> PyResult<Self> {
        let opts = Options::new(py, timeout, retries, min_interval)?.with_network(Network {
            ca_cert,
            proxy,
            allow_insecure_proxy,
        });
        let conn = options::build(py, "AsyncClient", api_url, id_instance, api_token, &opts)?;
        Ok(PyAsyncClient {
            conn: Arc::new(conn),
        })
    }

    /// A client from GREEN_API_URL, GREEN_API_ID_INSTANCE and GREEN_API_TOKEN (and the CA file named by GREEN_API_CA_CERT, unless ca_cert is given).
    #[classmethod]
    #[pyo3(
        signature = (*, timeout = None, retries = None, min_interval = None, ca_cert = None, proxy = None, allow_insecure_proxy = false),
        text_signature = "($cls, *, timeout=30.0, retries=3, min_interval=None, ca_cert=None, proxy=None, allow_insecure_proxy=False)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn from_env(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        timeout: Option<&Bound<'_, PyAny>>,
        retries: Option<&Bound<'_, PyAny>>,
        min_interval: Option<&Bound<'_, PyAny>>,
        ca_cert: Option<std::path::PathBuf>,
        proxy: Option<String>,
        allow_insecure_proxy: bool,
    ) -> PyResult<Self> {
        let opts = Options::new(py, timeout, retries, min_interval)?.with_network(Network {
            ca_cert,
            proxy,
            allow_insecure_proxy,
        });
        let conn = options::from_env(py, "AsyncClient", &opts)?;
        Ok(PyAsyncClient {
            conn: Arc::new(conn),
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

    /// Whether `aclose()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.conn.is_closed()
    }

    /// Reads every setting of the instance (getSettings).
    fn get_settings(&self) -> PyCall {
        call("get_settings", calls::get_settings(&self.conn))
    }

    /// Validates (now) and sends (when awaited) a change; resolves to saveSettings.
    #[pyo3(signature = (patch = None, **kwargs))]
    fn set_settings(
        &self,
        py: Python<'_>,
        patch: Option<&Bound<'_, PyAny>>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PyCall> {
        Ok(call(
            "set_settings",
            calls::set_settings(py, &self.conn, patch, kwargs)?,
        ))
    }

    /// Reads the current settings and shows what `desired` would change; sends nothing.
    #[pyo3(signature = (desired = None, **kwargs))]
    fn plan(
        &self,
        py: Python<'_>,
        desired: Option<&Bound<'_, PyAny>>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PyCall> {
        Ok(call("plan", calls::plan(py, &self.conn, desired, kwargs)?))
    }

    /// Brings the instance to `desired`, sending only what changed (nothing if it matches).
    /// With `wait` (seconds), reads the settings back until every field shows and re-sends
    /// only the fields still wrong after `settle` seconds, at most `max_resends` times.
    #[pyo3(signature = (desired = None, *, wait = None, settle = 60.0, max_resends = 2, **kwargs))]
    fn apply(
        &self,
        py: Python<'_>,
        desired: Option<&Bound<'_, PyAny>>,
        wait: Option<f64>,
        settle: f64,
        max_resends: i64,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PyCall> {
        let verify = calls::apply_options(py, wait, settle, max_resends)?;
        Ok(call(
            "apply",
            calls::apply(py, &self.conn, desired, verify, kwargs)?,
        ))
    }

    /// Releases the connection pool; later calls raise `ClientClosedError`. Idempotent.
    fn aclose(&self) -> PyCall {
        call("aclose", calls::close(&self.conn))
    }

    fn __aenter__(slf: Py<Self>, py: Python<'_>) -> PyResult<PyCall> {
        slf.get().conn.check_open(py)?;
        Ok(call("__aenter__", Step::ready(py, slf)?))
    }

    #[pyo3(signature = (*_exc))]
    fn __aexit__(&self, _exc: &Bound<'_, PyTuple>) -> PyCall {
        call("__aexit__", calls::close(&self.conn))
    }

    fn __repr__(&self) -> String {
        self.conn.repr()
    }
}
