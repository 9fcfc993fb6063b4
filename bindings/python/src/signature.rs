//! `inspect.Signature`s for the classes whose constructor signature pyo3 cannot write: the
//! keywords of `SettingsPatch(...)` come from the spec (`FIELDS`), and a `text_signature`
//! must be a literal; `Sandbox(...)`'s defaults are the sandbox crate's constants, which a
//! literal would copy. `inspect.signature(cls)` (and so `help()`) reads a class's
//! `__signature__` before anything else, so each class sets one, built here from the same
//! constants its constructor uses.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use greenapi_settings::facts::RATE_LIMIT_REQUESTS_PER_SECOND;
use greenapi_settings::{FieldKind, FIELDS};
use greenapi_settings_sandbox::{DEFAULT_BODY_LIMIT, DEFAULT_INSTANCE_ID, DEFAULT_TOKEN};

/// A keyword-only parameter: name, default, annotation.
type Param<'py> = (&'static str, Bound<'py, PyAny>, Option<Bound<'py, PyAny>>);

/// `inspect.Signature` of keyword-only parameters.
fn keyword_only<'py>(py: Python<'py>, params: Vec<Param<'py>>) -> PyResult<Py<PyAny>> {
    let inspect = py.import("inspect")?;
    let parameter = inspect.getattr("Parameter")?;
    let kind = parameter.getattr("KEYWORD_ONLY")?;
    let list = PyList::empty(py);
    for (name, default, annotation) in params {
        let kwargs = PyDict::new(py);
        kwargs.set_item("default", default)?;
        if let Some(a) = annotation {
            kwargs.set_item("annotation", a)?;
        }
        list.append(parameter.call((name, &kind), Some(&kwargs))?)?;
    }
    Ok(inspect.getattr("Signature")?.call1((list,))?.unbind())
}

/// `(*, incoming_webhook: Optional[bool] = None, ...)`: every writable setting, in spec order.
pub fn patch_keywords(py: Python<'_>) -> PyResult<Py<PyAny>> {
    let builtins = py.import("builtins")?;
    let optional = py.import("typing")?.getattr("Optional")?;
    let params = FIELDS
        .iter()
        .map(|f| {
            let ty = match f.kind {
                FieldKind::YesNo => "bool",
                FieldKind::Integer => "int",
                _ => "str",
            };
            let annotation = optional.get_item(builtins.getattr(ty)?)?;
            Ok((f.snake, py.None().into_bound(py), Some(annotation)))
        })
        .collect::<PyResult<Vec<_>>>()?;
    keyword_only(py, params)
}

/// `Sandbox(*, id_instance=1101000001, api_token='sandbox-token', rate_limit=1, ...)`: the
/// defaults `Sandbox.__new__` uses (the same constants), so `help(Sandbox)` shows them.
pub fn sandbox(py: Python<'_>) -> PyResult<Py<PyAny>> {
    let none = || py.None().into_bound(py);
    let zero = || 0.0_f64.into_pyobject(py).map(|f| f.into_any());
    let params = vec![
        (
            "id_instance",
            DEFAULT_INSTANCE_ID.into_pyobject(py)?.into_any(),
            None,
        ),
        (
            "api_token",
            DEFAULT_TOKEN.into_pyobject(py)?.into_any(),
            None,
        ),
        (
            "rate_limit",
            RATE_LIMIT_REQUESTS_PER_SECOND.into_pyobject(py)?.into_any(),
            None,
        ),
        ("latency", zero()?, None),
        ("error_rate", zero()?, None),
        ("seed", none(), None),
        ("quota", none(), None),
        ("apply_delay", zero()?, None),
        ("restart_duration", zero()?, None),
        (
            "body_limit",
            DEFAULT_BODY_LIMIT.into_pyobject(py)?.into_any(),
            None,
        ),
        ("port", 0_u16.into_pyobject(py)?.into_any(), None),
        ("state_file", none(), None),
        ("lost_write_rate", zero()?, None),
        ("drift_after", none(), None),
        ("drift_fields", none(), None),
        ("drift_limit", none(), None),
        (
            "notify_timeout",
            crate::sandbox_notify::DEFAULT_TIMEOUT_SECS
                .into_pyobject(py)?
                .into_any(),
            None,
        ),
        (
            "notify_retry",
            crate::sandbox_notify::DEFAULT_RETRY_SECS
                .into_pyobject(py)?
                .into_any(),
            None,
        ),
        (
            "notify_queue",
            crate::sandbox_notify::DEFAULT_QUEUE
                .into_pyobject(py)?
                .into_any(),
            None,
        ),
        (
            "notify_receive_scale",
            1.0_f64.into_pyobject(py)?.into_any(),
            None,
        ),
        (
            "notify_restarts",
            false.into_pyobject(py)?.to_owned().into_any(),
            None,
        ),
        ("tls", false.into_pyobject(py)?.to_owned().into_any(), None),
    ];
    keyword_only(py, params)
}
