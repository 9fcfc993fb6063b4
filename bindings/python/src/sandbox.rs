//! `Sandbox`: the local GREEN-API look-alike server (greenapi_settings_sandbox), for examples
//! and tests with no account and no network. A context manager; `close()` stops it.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;

use greenapi_settings::facts::RATE_LIMIT_REQUESTS_PER_SECOND;
use greenapi_settings::redact::REDACTED;
use greenapi_settings::FieldInfo;
use greenapi_settings_sandbox::{
    BlockingSandbox, InstanceStats, SandboxConfig, DEFAULT_BODY_LIMIT, DEFAULT_INSTANCE_ID,
    DEFAULT_TOKEN,
};

use crate::convert::json_to_py;
use crate::options::{finite_or, integer_or};
use crate::values::{PySettings, PySettingsPatch};

fn value_error(message: String) -> PyErr {
    PyValueError::new_err(message)
}

fn seconds(name: &str, v: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(v).map_err(|_| {
        PyValueError::new_err(format!("{name} must be a number of seconds >= 0, got {v}"))
    })
}

// Argument readers: a wrong type is a `TypeError`, a number out of range a `ValueError` that
// names the argument (instead of an `OverflowError` from the conversion).

fn arg_id_instance(obj: &Bound<'_, PyAny>) -> PyResult<u64> {
    integer_or(
        obj,
        "id_instance",
        "an integer from 0 to 18446744073709551615",
        value_error,
    )
}

fn arg_rate_limit(obj: &Bound<'_, PyAny>) -> PyResult<Option<u32>> {
    if obj.is_none() {
        return Ok(None);
    }
    integer_or(
        obj,
        "rate_limit",
        "None or an integer from 0 to 4294967295",
        value_error,
    )
    .map(Some)
}

fn arg_seed(obj: &Bound<'_, PyAny>) -> PyResult<Option<u64>> {
    if obj.is_none() {
        return Ok(None);
    }
    integer_or(
        obj,
        "seed",
        "None or an integer from 0 to 18446744073709551615",
        value_error,
    )
    .map(Some)
}

fn arg_quota(obj: &Bound<'_, PyAny>) -> PyResult<Option<u64>> {
    if obj.is_none() {
        return Ok(None);
    }
    integer_or(
        obj,
        "quota",
        "None or an integer from 0 to 18446744073709551615",
        value_error,
    )
    .map(Some)
}

fn arg_body_limit(obj: &Bound<'_, PyAny>) -> PyResult<usize> {
    integer_or(obj, "body_limit", "an integer >= 0 (bytes)", value_error)
}

fn arg_port(obj: &Bound<'_, PyAny>) -> PyResult<u16> {
    integer_or(obj, "port", "an integer from 0 to 65535", value_error)
}

fn arg_seconds(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<f64> {
    let v = finite_or(obj, name, "a number of seconds >= 0", value_error)?;
    seconds(name, v).map(|_| v)
}

fn arg_latency(obj: &Bound<'_, PyAny>) -> PyResult<f64> {
    arg_seconds(obj, "latency")
}

fn arg_apply_delay(obj: &Bound<'_, PyAny>) -> PyResult<f64> {
    arg_seconds(obj, "apply_delay")
}

fn arg_restart_duration(obj: &Bound<'_, PyAny>) -> PyResult<f64> {
    arg_seconds(obj, "restart_duration")
}

fn arg_error_rate(obj: &Bound<'_, PyAny>) -> PyResult<f64> {
    arg_fraction(obj, "error_rate")
}

fn arg_lost_write_rate(obj: &Bound<'_, PyAny>) -> PyResult<f64> {
    arg_fraction(obj, "lost_write_rate")
}

fn arg_fraction(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<f64> {
    let want = "a fraction from 0.0 to 1.0";
    let v = finite_or(obj, name, want, value_error)?;
    if !(0.0..=1.0).contains(&v) {
        return Err(value_error(format!("{name} must be {want}, got {v}")));
    }
    Ok(v)
}

/// A token a client can use: the client puts it in the URL path, so it must be without
/// whitespace, control characters, `/`, `?` or `#`, and of at least
/// [`MIN_TOKEN_CHARS`](greenapi_settings::redact::MIN_TOKEN_CHARS) characters (the client's
/// own checks).
fn check_token(token: &str) -> PyResult<()> {
    use greenapi_settings::redact::MIN_TOKEN_CHARS;
    let unusable = |c: char| c.is_control() || c.is_whitespace() || matches!(c, '/' | '?' | '#');
    if token.chars().count() < MIN_TOKEN_CHARS || token.chars().any(unusable) {
        return Err(PyValueError::new_err(format!(
            "api_token must be a string of at least {MIN_TOKEN_CHARS} characters without \
             whitespace, control characters, '/', '?' or '#': clients send it in the URL path, \
             so no client could use this sandbox (value not shown)"
        )));
    }
    Ok(())
}

/// A local server that answers getSettings / setSettings like the API, on 127.0.0.1.
#[pyclass(module = "greenapi_settings", name = "Sandbox", frozen)]
pub struct PySandbox {
    server: Mutex<Option<BlockingSandbox>>,
    /// The process that started the server. A child made by `fork()` inherits this object
    /// but none of the server's threads: it can still send requests to the server (which
    /// runs on in the parent), but not inspect, reset or stop it.
    pid: u32,
    url: String,
    id_instance: u64,
    api_token: String,
    /// With `tls=True`: the throw-away CA's certificate (PEM) and the file holding it.
    ca_pem: Option<String>,
    ca_path: Option<String>,
}

impl PySandbox {
    fn in_child(&self) -> bool {
        self.pid != std::process::id()
    }

    fn with_server<T>(&self, f: impl FnOnce(&BlockingSandbox) -> T) -> PyResult<T> {
        if self.in_child() {
            return Err(PyRuntimeError::new_err(format!(
                "this sandbox belongs to process {}, which started it: a child made by fork() \
                 can send it requests but cannot inspect, reset or stop it",
                self.pid
            )));
        }
        let guard = self
            .server
            .lock()
            .map_err(|_| PyRuntimeError::new_err("the sandbox lock is poisoned"))?;
        match guard.as_ref() {
            Some(s) => Ok(f(s)),
            None => Err(PyRuntimeError::new_err("the sandbox is closed")),
        }
    }
}

#[pymethods]
impl PySandbox {
    /// The keywords and their defaults, for `inspect.signature` and `help()`.
    #[classattr]
    fn __signature__(py: Python<'_>) -> PyResult<Py<PyAny>> {
        crate::signature::sandbox(py)
    }

    #[new]
    #[pyo3(signature = (
        *,
        id_instance = DEFAULT_INSTANCE_ID,
        api_token = DEFAULT_TOKEN.to_string(),
        rate_limit = Some(RATE_LIMIT_REQUESTS_PER_SECOND),
        latency = 0.0,
        error_rate = 0.0,
        seed = None,
        quota = None,
        apply_delay = 0.0,
        restart_duration = 0.0,
        body_limit = DEFAULT_BODY_LIMIT,
        port = 0,
        state_file = None,
        lost_write_rate = 0.0,
        drift_after = None,
        drift_fields = None,
        drift_limit = None,
        notify_timeout = crate::sandbox_notify::DEFAULT_TIMEOUT_SECS,
        notify_retry = crate::sandbox_notify::DEFAULT_RETRY_SECS,
        notify_queue = crate::sandbox_notify::DEFAULT_QUEUE,
        notify_receive_scale = 1.0,
        notify_restarts = false,
        tls = false,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        #[pyo3(from_py_with = arg_id_instance)] id_instance: u64,
        api_token: String,
        #[pyo3(from_py_with = arg_rate_limit)] rate_limit: Option<u32>,
        #[pyo3(from_py_with = arg_latency)] latency: f64,
        #[pyo3(from_py_with = arg_error_rate)] error_rate: f64,
        #[pyo3(from_py_with = arg_seed)] seed: Option<u64>,
        #[pyo3(from_py_with = arg_quota)] quota: Option<u64>,
        #[pyo3(from_py_with = arg_apply_delay)] apply_delay: f64,
        #[pyo3(from_py_with = arg_restart_duration)] restart_duration: f64,
        #[pyo3(from_py_with = arg_body_limit)] body_limit: usize,
        #[pyo3(from_py_with = arg_port)] port: u16,
        state_file: Option<std::path::PathBuf>,
        #[pyo3(from_py_with = arg_lost_write_rate)] lost_write_rate: f64,
        drift_after: Option<f64>,
        drift_fields: Option<Vec<String>>,
        drift_limit: Option<u64>,
        #[pyo3(from_py_with = crate::sandbox_notify::arg_notify_timeout)] notify_timeout: f64,
        #[pyo3(from_py_with = crate::sandbox_notify::arg_notify_retry)] notify_retry: f64,
        #[pyo3(from_py_with = crate::sandbox_notify::arg_notify_queue)] notify_queue: usize,
        #[pyo3(from_py_with = crate::sandbox_notify::arg_notify_receive_scale)]
        notify_receive_scale: f64,
        notify_restarts: bool,
        tls: bool,
    ) -> PyResult<Self> {
        check_token(&api_token)?;
        let mut config = SandboxConfig::default()
            .with_instance(id_instance, api_token.clone())
            .rate_limit(rate_limit)
            .latency(seconds("latency", latency)?)
            .error_rate(error_rate)
            .quota(quota)
            .apply_delay(seconds("apply_delay", apply_delay)?)
            .restart_duration(seconds("restart_duration", restart_duration)?)
            .body_limit(body_limit)
            .port(port)
            .lost_write_rate(lost_write_rate);
        if let Some(after) = drift_after {
            config = config.drift_after(seconds("drift_after", after)?);
        }
        if let Some(fields) = drift_fields {
            if let Some(bad) = fields.iter().find(|f| FieldInfo::find(f).is_none()) {
                let shown: String = bad.chars().take(60).collect();
                return Err(value_error(format!(
                    "drift_fields: unknown setting {shown:?}"
                )));
            }
            config = config.drift_fields(fields);
        }
        config = config.drift_limit(drift_limit);
        config = crate::sandbox_notify::NotifyArgs {
            timeout: notify_timeout,
            retry: notify_retry,
            queue: notify_queue,
            receive_scale: notify_receive_scale,
            restarts: notify_restarts,
        }
        .apply(config);
        if let Some(seed) = seed {
            config = config.seed(seed);
        }
        if let Some(path) = state_file {
            config = config.state_file(path);
        }
        if tls {
            config = config.tls(greenapi_settings_sandbox::TlsConfig::generated());
        }
        let server = py
            .detach(move || BlockingSandbox::start(config))
            .map_err(|e| PyOSError::new_err(format!("cannot start the sandbox: {e}")))?;
        Ok(PySandbox {
            ca_pem: server.ca_pem().map(str::to_owned),
            ca_path: server.ca_path().map(|p| p.to_string_lossy().into_owned()),
            url: server.url(),
            server: Mutex::new(Some(server)),
            pid: std::process::id(),
            id_instance,
            api_token,
        })
    }

    /// The apiUrl to give a client: http://127.0.0.1:PORT (https:// with `tls=True`).
    #[getter]
    fn url(&self) -> &str {
        &self.url
    }

    /// With `tls=True`: the PEM of the throw-away CA that signed the server's certificate
    /// (give it to a client as its extra root); `None` for plain HTTP.
    #[getter]
    fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// With `tls=True`: the file holding [`ca_pem`] (removed when the sandbox closes).
    #[getter]
    fn ca_path(&self) -> Option<&str> {
        self.ca_path.as_deref()
    }

    /// Connections accepted and TLS handshakes completed or failed, server-wide: a dict
    /// `{"tls", "connections", "tlsHandshakes", "tlsHandshakeFailures", "http2Connections"}`.
    fn server_stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let stats = self.with_server(|s| s.server_stats())?;
        json_to_py(py, &stats.to_json_value())
    }

    /// The instance id it serves.
    #[getter]
    fn id_instance(&self) -> u64 {
        self.id_instance
    }

    /// The instance's API token (a test credential; `repr` still hides it).
    #[getter]
    fn api_token(&self) -> &str {
        &self.api_token
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> PyResult<bool> {
        if self.in_child() {
            // The lock may have been held by a thread of the parent when it forked.
            return Ok(self.server.try_lock().is_ok_and(|s| s.is_none()));
        }
        Ok(self
            .server
            .lock()
            .map_err(|_| PyRuntimeError::new_err("the sandbox lock is poisoned"))?
            .is_none())
    }

    /// What happened to the instance so far (counters, current settings).
    fn stats(&self) -> PyResult<PySandboxStats> {
        let id = self.id_instance;
        let stats = self.with_server(|s| s.stats(id))?;
        stats
            .map(|inner| PySandboxStats { inner })
            .ok_or_else(|| PyRuntimeError::new_err("the sandbox does not serve its instance"))
    }

    /// Makes the instance drift now, as after the phone logs out and in: with keywords (or a
    /// patch/dict), those settings take these values; with none, the last change that took
    /// effect reverts. Returns the API names of the settings that changed.
    #[pyo3(signature = (values = None, **kwargs))]
    fn drift(
        &self,
        py: Python<'_>,
        values: Option<&Bound<'_, PyAny>>,
        kwargs: Option<&Bound<'_, pyo3::types::PyDict>>,
    ) -> PyResult<Vec<&'static str>> {
        let patch = if values.is_none() && kwargs.is_none_or(|k| k.is_empty()) {
            None
        } else {
            Some(crate::patch::patch_from_call(
                py, "drift()", values, kwargs,
            )?)
        };
        let id = self.id_instance;
        let result = py.detach(|| self.with_server(|s| s.drift(id, patch.as_ref())))?;
        result.map_err(|e| PyOSError::new_err(format!("cannot drift the sandbox: {e}")))
    }

    /// Makes a notification of `kind` (`"incomingCall"`, `"incomingMessageReceived:editedMessage"`)
    /// with `fields` (and keywords) merged into its body: queued for delivery if the
    /// instance's settings enable it, else recorded as suppressed with the reason. Returns
    /// `{"outcome": "queued" | "suppressed", "receiptId", "reason", "body"}`.
    #[pyo3(signature = (kind, fields = None, **kwargs))]
    fn trigger<'py>(
        &self,
        py: Python<'py>,
        kind: &str,
        fields: Option<&Bound<'py, PyAny>>,
        kwargs: Option<&Bound<'py, pyo3::types::PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let id = self.id_instance;
        self.with_server(|s| crate::sandbox_notify::trigger(py, s, id, kind, fields, kwargs))?
    }

    /// What happened to the instance's notifications: `delivered`, `suppressed` (with
    /// `reason`), `failing`, `queued` and `dropped`.
    fn notifications<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let id = self.id_instance;
        self.with_server(|s| crate::sandbox_notify::notifications(py, s, id))?
    }

    /// Default settings and zero counters again.
    fn reset(&self, py: Python<'_>) -> PyResult<()> {
        let result = py.detach(|| self.with_server(|s| s.reset()))?;
        result.map_err(|e| PyOSError::new_err(format!("cannot reset the sandbox: {e}")))
    }

    /// Stops the server (waits for requests in flight). Calling it again does nothing.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        if self.in_child() {
            // The server runs on in the parent; this process only lets go of it.
            if let Ok(mut server) = self.server.try_lock() {
                std::mem::forget(server.take());
            }
            return Ok(());
        }
        let server = self
            .server
            .lock()
            .map_err(|_| PyRuntimeError::new_err("the sandbox lock is poisoned"))?
            .take();
        match server {
            Some(s) => py
                .detach(move || s.shutdown())
                .map_err(|e| PyOSError::new_err(format!("cannot stop the sandbox: {e}"))),
            None => Ok(()),
        }
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<()> {
        self.close(py)
    }

    fn __repr__(&self) -> String {
        format!(
            "Sandbox(url='{}', id_instance={}, api_token={REDACTED})",
            self.url, self.id_instance
        )
    }
}

impl Drop for PySandbox {
    fn drop(&mut self) {
        if self.in_child() {
            // Stopping would wait for the parent's threads, which do not exist here.
            let server = self
                .server
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            std::mem::forget(server);
        }
    }
}

/// What the sandbox saw for its instance.
#[pyclass(module = "greenapi_settings", name = "SandboxStats", frozen)]
pub struct PySandboxStats {
    inner: InstanceStats,
}

#[pymethods]
impl PySandboxStats {
    #[getter]
    fn id_instance(&self) -> u64 {
        self.inner.id_instance
    }
    /// Accepted setSettings calls (each restarts the instance).
    #[getter]
    fn restarts(&self) -> u64 {
        self.inner.restarts
    }
    #[getter]
    fn set_settings_calls(&self) -> u64 {
        self.inner.set_settings_calls
    }
    // Named explicitly: pyo3 strips a `get_` prefix from getter names.
    #[getter(get_settings_calls)]
    fn get_settings_calls(&self) -> u64 {
        self.inner.get_settings_calls
    }
    /// Authenticated calls answered with an error other than 429.
    #[getter]
    fn rejected(&self) -> u64 {
        self.inner.rejected
    }
    #[getter]
    fn rate_limited(&self) -> u64 {
        self.inner.rate_limited
    }
    /// Calls with a wrong token.
    #[getter]
    fn unauthorized(&self) -> u64 {
        self.inner.unauthorized
    }
    #[getter]
    fn quota_used(&self) -> u64 {
        self.inner.quota_used
    }
    /// Acknowledged setSettings calls that lost at least one field (`lost_write_rate`).
    #[getter]
    fn lost_writes(&self) -> u64 {
        self.inner.lost_writes
    }
    /// Fields lost in all.
    #[getter]
    fn lost_fields(&self) -> u64 {
        self.inner.lost_fields
    }
    /// Lost fields not sent again (and kept) since: empty once a client repaired every loss.
    #[getter]
    fn unrepaired_lost_fields(&self) -> Vec<&'static str> {
        self.inner.unrepaired_lost_fields.clone()
    }
    /// Drifts that changed something (`drift_after`, or `drift()`).
    #[getter]
    fn drifts(&self) -> u64 {
        self.inner.drifts
    }
    /// The settings getSettings shows now.
    #[getter]
    fn settings(&self) -> PySettings {
        self.inner.settings.clone().into()
    }
    /// Accepted changes not visible yet (see `apply_delay`), merged; or None.
    #[getter]
    fn pending(&self) -> Option<PySettingsPatch> {
        self.inner.pending.clone().map(Into::into)
    }

    /// The sandbox's inspection JSON (secret values redacted).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &self.inner.to_json_value())
    }

    fn __repr__(&self) -> String {
        let s = &self.inner;
        format!(
            "SandboxStats(id_instance={}, restarts={}, set_settings_calls={}, get_settings_calls={}, rejected={}, rate_limited={}, unauthorized={}, quota_used={})",
            s.id_instance, s.restarts, s.set_settings_calls, s.get_settings_calls, s.rejected, s.rate_limited, s.unauthorized, s.quota_used
        )
    }
}
