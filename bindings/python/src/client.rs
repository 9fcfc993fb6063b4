//! `Client`: the blocking client. The calls are in `calls`; each runs here to its end, its
//! requests on the shared runtime with the GIL released, interruptible with Ctrl-C.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple, PyType};

use crate::calls::{self, run_blocking};
use crate::options::{self, Conn, Network, Options};

/// A blocking client for one instance; a context manager (`close()` at the end).
#[pyclass(module = "greenapi_settings", name = "Client", frozen)]
pub struct PyClient {
    conn: Arc<Conn>,
}

#[pymethods]
impl PyClient {
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
        let conn = options::build(py, "Client", api_url, id_instance, api_token, &opts)?;
        Ok(PyClient {
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
        let conn = options::from_env(py, "Client", &opts)?;
        Ok(PyClient {
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

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.conn.is_closed()
    }

    /// Reads every setting of the instance (getSettings).
    fn get_settings(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        run_blocking(py, calls::get_settings(&self.conn))
    }

    /// Validates and sends a change (setSettings); returns the server's saveSettings.
    #[pyo3(signature = (patch = None, **kwargs))]
    fn set_settings(
        &self,
        py: Python<'_>,
        patch: Option<&Bound<'_, PyAny>>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        run_blocking(py, calls::set_settings(py, &self.conn, patch, kwargs)?)
    }

    /// Reads the current settings and shows what `desired` would change; sends nothing.
    #[pyo3(signature = (desired = None, **kwargs))]
    fn plan(
        &self,
        py: Python<'_>,
        desired: Option<&Bound<'_, PyAny>>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        run_blocking(py, calls::plan(py, &self.conn, desired, kwargs)?)
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
    ) -> PyResult<Py<PyAny>> {
        let verify = calls::apply_options(py, wait, settle, max_resends)?;
        run_blocking(py, calls::apply(py, &self.conn, desired, verify, kwargs)?)
    }

    /// Releases the connection pool; later calls raise `ClientClosedError`. Idempotent.
    fn close(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        run_blocking(py, calls::close(&self.conn))
    }

    fn __enter__(slf: Py<Self>, py: Python<'_>) -> PyResult<Py<Self>> {
        slf.get().conn.check_open(py)?;
        Ok(slf)
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, PyTuple>) -> PyResult<Py<PyAny>> {
        self.close(py)
    }

    fn __repr__(&self) -> String {
        self.conn.repr()
    }
}
