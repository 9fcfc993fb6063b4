//! The exception hierarchy and the mapping of `greenapi_settings::Error` onto it: one Python
//! class per Rust variant, each carrying the variant's data as attributes. Messages are the
//! Rust `Display` text, which never contains the API token.

use pyo3::exceptions::{PyRuntimeError, PyTimeoutError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};
use pyo3::IntoPyObjectExt;

use greenapi_settings::{Error, Violation};

use crate::report::PyViolation;

/// The exception classes, created once per interpreter.
pub struct Exceptions {
    pub base: Py<PyType>,
    pub validation: Py<PyType>,
    pub config: Py<PyType>,
    pub auth: Py<PyType>,
    pub forbidden: Py<PyType>,
    pub rate_limit: Py<PyType>,
    pub quota: Py<PyType>,
    pub not_ready: Py<PyType>,
    pub rejected: Py<PyType>,
    pub server: Py<PyType>,
    pub redirect: Py<PyType>,
    pub transport: Py<PyType>,
    pub timeout: Py<PyType>,
    pub tls: Py<PyType>,
    pub decode: Py<PyType>,
    pub closed: Py<PyType>,
}

static EXCEPTIONS: PyOnceLock<Exceptions> = PyOnceLock::new();

/// The classes, creating them on first use.
pub fn exceptions(py: Python<'_>) -> PyResult<&'static Exceptions> {
    EXCEPTIONS.get_or_try_init(py, || create(py))
}

/// `type(name, bases, {...})`: exceptions with several bases (`ValidationError` is also a
/// `ValueError`), which `create_exception!` cannot express.
fn class(
    py: Python<'_>,
    name: &str,
    doc: &str,
    bases: &[&Bound<'_, PyAny>],
) -> PyResult<Py<PyType>> {
    let dict = PyDict::new(py);
    dict.set_item("__module__", "greenapi_settings")?;
    dict.set_item("__doc__", doc)?;
    let bases = PyTuple::new(py, bases)?;
    let ty = py.get_type::<PyType>().call1((name, bases, dict))?;
    Ok(ty.cast_into::<PyType>()?.unbind())
}

fn create(py: Python<'_>) -> PyResult<Exceptions> {
    let exception = py.get_type::<pyo3::exceptions::PyException>().into_any();
    let value_error = py.get_type::<PyValueError>().into_any();
    let timeout_error = py.get_type::<PyTimeoutError>().into_any();
    let runtime_error = py.get_type::<PyRuntimeError>().into_any();
    let base = class(
        py,
        "GreenApiError",
        "Base class of every error of this package.",
        &[&exception],
    )?;
    // Class-level defaults, so that instances raised by user code have them too.
    base.bind(py).setattr("status", py.None())?;
    base.bind(py).setattr("retryable", false)?;
    let b = base.bind(py).clone().into_any();
    let sub = |name: &str, doc: &str| class(py, name, doc, &[&b]);
    let transport = sub(
        "TransportError",
        "The request did not complete: connection refused or reset, DNS, TLS, ...",
    )?;
    let t = transport.bind(py).clone().into_any();
    Ok(Exceptions {
        validation: class(
            py,
            "ValidationError",
            "Settings were invalid; nothing was sent. `violations` lists every problem.",
            &[&b, &value_error],
        )?,
        config: class(
            py,
            "ConfigError",
            "The client was configured wrongly (bad API URL, missing credentials, ...).",
            &[&b, &value_error],
        )?,
        auth: sub(
            "AuthError",
            "HTTP 401: the API token was not accepted. Do not retry.",
        )?,
        forbidden: sub(
            "ForbiddenError",
            "HTTP 403: wrong idInstance or API URL. Do not retry.",
        )?,
        rate_limit: sub(
            "RateLimitError",
            "HTTP 429 after the retries were spent. `retry_after`: seconds, or None.",
        )?,
        quota: sub(
            "QuotaExceededError",
            "HTTP 466: the plan's quota of calls is used up (`used` of `total` calls of `method`).",
        )?,
        not_ready: sub(
            "InstanceNotReadyError",
            "HTTP 400: the instance is starting, not authorized, expired or deleted.",
        )?,
        rejected: sub(
            "RejectedError",
            "Another 4xx: the server rejected the request (`status`, `message`).",
        )?,
        server: sub(
            "ServerError",
            "HTTP 5xx after the retries were spent (`status`, `message`).",
        )?,
        redirect: sub(
            "RedirectError",
            "HTTP 3xx: the API never redirects, so the API URL is wrong or a server in between is hostile; the redirect was not followed and nothing was re-sent (`status`, `target`: scheme://host[:port] only).",
        )?,
        timeout: class(
            py,
            "TimeoutError",
            "No complete response within the configured timeout (`timeout`, seconds).",
            &[&t, &timeout_error],
        )?,
        tls: class(
            py,
            "TlsError",
            "TLS failed with `host` (scheme://host:port) for `cause`: 'notTrusted' (pass ca_cert= with the CA that signed the server's certificate), 'expired', 'notYetValid', 'wrongName', 'revoked', 'notTls' (an https:// URL to a plain-HTTP port), 'handshakeTimeout' or 'other'. Permanent, not retried, except 'handshakeTimeout'.",
            &[&t],
        )?,
        decode: sub(
            "DecodeError",
            "The response could not be understood (`status`, `reason`, `body`).",
        )?,
        closed: class(
            py,
            "ClientClosedError",
            "The client was closed (close(), aclose() or the end of its `with` block); make a new one.",
            &[&b, &runtime_error],
        )?,
        transport,
        base,
    })
}

/// Adds the classes to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let e = exceptions(m.py())?;
    for ty in [
        &e.base,
        &e.validation,
        &e.config,
        &e.auth,
        &e.forbidden,
        &e.rate_limit,
        &e.quota,
        &e.not_ready,
        &e.rejected,
        &e.server,
        &e.redirect,
        &e.transport,
        &e.timeout,
        &e.tls,
        &e.decode,
        &e.closed,
    ] {
        let ty = ty.bind(m.py());
        m.add(ty.name()?, ty)?;
    }
    Ok(())
}

/// An instance of `ty` with `message` and attributes; `status` and `retryable` are always set.
fn raise(
    py: Python<'_>,
    ty: &Py<PyType>,
    message: String,
    status: Option<u16>,
    retryable: bool,
    attrs: Vec<(&str, Bound<'_, PyAny>)>,
) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let exc = ty.bind(py).call1((message,))?;
        exc.setattr("status", status)?;
        exc.setattr("retryable", retryable)?;
        for (k, v) in attrs {
            exc.setattr(k, v)?;
        }
        Ok(PyErr::from_value(exc))
    };
    build().unwrap_or_else(|e| e)
}

/// `ValidationError` carrying `violations`.
pub fn validation_error(py: Python<'_>, violations: Vec<Violation>) -> PyErr {
    let message = greenapi_settings::ValidationError {
        violations: violations.clone(),
    }
    .to_string();
    let list: Vec<PyViolation> = violations.into_iter().map(PyViolation::from).collect();
    match (exceptions(py), list.into_pyobject(py)) {
        (Ok(e), Ok(list)) => raise(
            py,
            &e.validation,
            message,
            None,
            false,
            vec![("violations", list)],
        ),
        (Err(err), _) | (_, Err(err)) => err,
    }
}

/// `ClientClosedError` for a call on a closed client of class `class`.
pub fn client_closed_error(py: Python<'_>, class: &str) -> PyErr {
    let message = format!("this {class} is closed: it makes no more requests");
    match exceptions(py) {
        Ok(e) => raise(py, &e.closed, message, None, false, vec![]),
        Err(err) => err,
    }
}

/// `ConfigError` with a message.
pub fn config_error(py: Python<'_>, message: impl Into<String>) -> PyErr {
    match exceptions(py) {
        Ok(e) => raise(py, &e.config, message.into(), None, false, vec![]),
        Err(err) => err,
    }
}

fn any<'py, T: IntoPyObject<'py>>(py: Python<'py>, v: T) -> Bound<'py, PyAny> {
    v.into_bound_py_any(py)
        .unwrap_or_else(|_| py.None().into_bound(py))
}

/// Maps a client error onto its Python class.
pub fn to_pyerr(py: Python<'_>, err: Error) -> PyErr {
    let e = match exceptions(py) {
        Ok(e) => e,
        Err(err) => return err,
    };
    let message = err.to_string();
    let status = err.status();
    let retryable = err.is_retryable();
    let text = |s: String| any(py, s);
    let (ty, attrs) = match err {
        Error::Validation(v) => return validation_error(py, v.violations),
        Error::Auth => (&e.auth, vec![]),
        Error::Forbidden => (&e.forbidden, vec![]),
        Error::RateLimited { retry_after } => (
            &e.rate_limit,
            vec![("retry_after", any(py, retry_after.map(|d| d.as_secs_f64())))],
        ),
        Error::QuotaExceeded {
            method,
            used,
            total,
            description,
            ..
        } => (
            &e.quota,
            vec![
                ("method", text(method)),
                ("used", any(py, used)),
                ("total", any(py, total)),
                ("description", text(description)),
            ],
        ),
        Error::InstanceNotReady { message } => (&e.not_ready, vec![("message", text(message))]),
        Error::Rejected { message, .. } => (&e.rejected, vec![("message", text(message))]),
        Error::Server { message, .. } => (&e.server, vec![("message", text(message))]),
        Error::Redirect { target, .. } => (&e.redirect, vec![("target", text(target))]),
        Error::Transport(_) => (&e.transport, vec![]),
        Error::Tls { host, cause } => (
            &e.tls,
            vec![
                ("host", text(host)),
                ("cause", text(cause.name().to_string())),
            ],
        ),
        Error::Timeout { after, .. } => {
            (&e.timeout, vec![("timeout", any(py, after.as_secs_f64()))])
        }
        Error::Decode { reason, body, .. } => (
            &e.decode,
            vec![("reason", text(reason)), ("body", text(body))],
        ),
        Error::Config(_) => (&e.config, vec![]),
        _ => (&e.base, vec![]),
    };
    raise(py, ty, message, status, retryable, attrs)
}
