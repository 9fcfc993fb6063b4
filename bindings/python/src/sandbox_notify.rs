//! The notification side of `Sandbox` (issue 21): its `notify_*` keywords, `trigger()` and
//! `notifications()`. The sandbox does the work (`greenapi_settings_sandbox::notifications`);
//! this file reads the Python arguments and turns its answers into plain dicts.

use std::time::Duration;

use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyMapping};
use serde_json::{Map, Value};

use greenapi_settings::DELIVERY;
use greenapi_settings_sandbox::{BlockingSandbox, SandboxConfig, DEFAULT_NOTIFY_QUEUE};

use crate::convert::json_to_py;
use crate::options::{finite_or, integer_or};

fn value_error(message: String) -> PyErr {
    PyValueError::new_err(message)
}

/// The `notify_*` keywords of `Sandbox(...)`, read and checked.
pub struct NotifyArgs {
    pub timeout: f64,
    pub retry: f64,
    pub queue: usize,
    pub receive_scale: f64,
    pub restarts: bool,
}

/// Defaults (the API's timings), for the constructor's signature.
pub const DEFAULT_TIMEOUT_SECS: f64 = DELIVERY.response_timeout_secs as f64;
/// The API's pause before a failed notification is sent again.
pub const DEFAULT_RETRY_SECS: f64 = DELIVERY.retry_pause_secs as f64;
/// Notifications kept per instance.
pub const DEFAULT_QUEUE: usize = DEFAULT_NOTIFY_QUEUE;

fn positive_seconds(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<f64> {
    let want = "a number of seconds > 0";
    let v = finite_or(obj, name, want, value_error)?;
    if v <= 0.0 || Duration::try_from_secs_f64(v).is_err() {
        return Err(value_error(format!("{name} must be {want}, got {v}")));
    }
    Ok(v)
}

pub fn arg_notify_timeout(obj: &Bound<'_, PyAny>) -> PyResult<f64> {
    positive_seconds(obj, "notify_timeout")
}

pub fn arg_notify_retry(obj: &Bound<'_, PyAny>) -> PyResult<f64> {
    let want = "a number of seconds >= 0";
    let v = finite_or(obj, "notify_retry", want, value_error)?;
    if Duration::try_from_secs_f64(v).is_err() {
        return Err(value_error(format!("notify_retry must be {want}, got {v}")));
    }
    Ok(v)
}

pub fn arg_notify_queue(obj: &Bound<'_, PyAny>) -> PyResult<usize> {
    let n: usize = integer_or(obj, "notify_queue", "an integer >= 1", value_error)?;
    if n == 0 {
        return Err(value_error(
            "notify_queue must be an integer >= 1, got 0".into(),
        ));
    }
    Ok(n)
}

pub fn arg_notify_receive_scale(obj: &Bound<'_, PyAny>) -> PyResult<f64> {
    let want = "a fraction from 0.0 to 1.0";
    let v = finite_or(obj, "notify_receive_scale", want, value_error)?;
    if !(0.0..=1.0).contains(&v) {
        return Err(value_error(format!(
            "notify_receive_scale must be {want}, got {v}"
        )));
    }
    Ok(v)
}

impl NotifyArgs {
    /// `config` with these settings.
    pub fn apply(&self, config: SandboxConfig) -> SandboxConfig {
        config
            .notify_timeout(Duration::from_secs_f64(self.timeout))
            .notify_retry(Duration::from_secs_f64(self.retry))
            .notify_queue(self.queue)
            .notify_receive_scale(self.receive_scale)
            .notify_restarts(self.restarts)
    }
}

/// The JSON object of `fields` (a mapping with string keys) merged with `kwargs`.
fn fields_of(
    fields: Option<&Bound<'_, PyAny>>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<Map<String, Value>> {
    let mut out = Map::new();
    let mut add = |k: Bound<'_, PyAny>, v: Bound<'_, PyAny>| -> PyResult<()> {
        let key: String = k.extract().map_err(|_| {
            pyo3::exceptions::PyTypeError::new_err("trigger(): field names must be strings")
        })?;
        let value = crate::convert::py_to_json(&v).map_err(|e| {
            pyo3::exceptions::PyTypeError::new_err(format!(
                "trigger(): field {key:?} is not JSON data: {}",
                e.describe()
            ))
        })?;
        out.insert(key, value);
        Ok(())
    };
    if let Some(f) = fields.filter(|f| !f.is_none()) {
        let mapping = f.cast::<PyMapping>().map_err(|_| {
            pyo3::exceptions::PyTypeError::new_err(
                "trigger(): fields must be a mapping of field names to JSON values",
            )
        })?;
        for item in mapping.items()?.iter() {
            let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
            add(k, v)?;
        }
    }
    if let Some(kw) = kwargs {
        for (k, v) in kw.iter() {
            add(k, v)?;
        }
    }
    Ok(out)
}

/// `Sandbox.trigger(kind, fields=None, **more)`: the sandbox's answer as a dict.
pub fn trigger<'py>(
    py: Python<'py>,
    server: &BlockingSandbox,
    id: u64,
    kind: &str,
    fields: Option<&Bound<'py, PyAny>>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    let fields = fields_of(fields, kwargs)?;
    let answer = py.detach(|| server.trigger(id, kind, &fields));
    match answer {
        Ok(t) => json_to_py(py, &t.to_json_value()),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            Err(value_error(format!("trigger(): {e}")))
        }
        Err(e) => Err(PyOSError::new_err(format!("cannot trigger: {e}"))),
    }
}

/// `Sandbox.notifications()`: what happened to the instance's notifications, as a dict.
pub fn notifications<'py>(
    py: Python<'py>,
    server: &BlockingSandbox,
    id: u64,
) -> PyResult<Bound<'py, PyAny>> {
    match server.notifications(id) {
        Some(log) => json_to_py(py, &log.to_json_value()),
        None => Err(pyo3::exceptions::PyRuntimeError::new_err(
            "the sandbox does not serve its instance",
        )),
    }
}
