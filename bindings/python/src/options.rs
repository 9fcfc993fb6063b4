//! Building a core `Client` from the keyword arguments shared by `Client` and `AsyncClient`,
//! and keeping it usable across `fork()`.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use pyo3::exceptions::{PyOverflowError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyInt};

use greenapi_settings::redact::REDACTED;
use greenapi_settings::{Client, ClientBuilder, RetryPolicy};

use crate::errors::{client_closed_error, config_error, to_pyerr};
use crate::runtime::{handle, here};

/// Timeouts, retries, pacing and the network options, checked.
pub struct Options {
    timeout: Duration,
    retries: u32,
    min_interval: Option<Duration>,
    net: Network,
}

/// `ca_cert=`, `proxy=`, `allow_insecure_proxy=`: applied by the core builder, which reads
/// the CA file (once per client: a client rebuilt after `fork()` keeps the roots read).
#[derive(Default)]
pub struct Network {
    /// A PEM file of extra trusted roots (on top of the system's).
    pub ca_cert: Option<std::path::PathBuf>,
    /// A proxy URL (its credentials never shown).
    pub proxy: Option<String>,
    /// A plain-HTTP API URL may go through a proxy.
    pub allow_insecure_proxy: bool,
}

/// `repr()` of a rejected value, cut short (`10**400` has 401 digits).
pub fn shown(obj: &Bound<'_, PyAny>) -> String {
    let text = obj
        .repr()
        .map(|r| r.to_string())
        .unwrap_or_else(|_| "?".into());
    if text.chars().count() > 40 {
        let head: String = text.chars().take(37).collect();
        format!("{head}...")
    } else {
        text
    }
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// Seconds from an int or a float: a wrong type is a `TypeError`, a number out of range
/// (negative, zero when not allowed, NaN, infinite, too large) a `ConfigError`.
fn seconds(
    py: Python<'_>,
    name: &str,
    obj: &Bound<'_, PyAny>,
    zero_ok: bool,
) -> PyResult<Duration> {
    let want = if zero_ok {
        "a number of seconds >= 0"
    } else {
        "a number of seconds > 0"
    };
    let bad = |message: String| config_error(py, message);
    let v = finite_or(obj, name, want, bad)?;
    if v < 0.0 || (!zero_ok && v == 0.0) {
        return Err(bad(format!("{name} must be {want}, got {}", shown(obj))));
    }
    Duration::try_from_secs_f64(v)
        .map_err(|_| bad(format!("{name} must be {want}, got {}", shown(obj))))
}

/// An integer argument: a wrong type (a float, a bool, a string) is a `TypeError`, an
/// integer outside `T`'s range a `ConfigError` saying `want`.
pub fn integer<T>(py: Python<'_>, name: &str, obj: &Bound<'_, PyAny>, want: &str) -> PyResult<T>
where
    T: for<'a, 'py> FromPyObject<'a, 'py>,
{
    integer_or(obj, name, want, |message| config_error(py, message))
}

/// `integer`, with `bad` making the error for an integer out of range.
pub fn integer_or<T>(
    obj: &Bound<'_, PyAny>,
    name: &str,
    want: &str,
    bad: impl FnOnce(String) -> PyErr,
) -> PyResult<T>
where
    T: for<'a, 'py> FromPyObject<'a, 'py>,
{
    if !obj.is_instance_of::<PyBool>() {
        if let Ok(v) = obj.extract::<T>() {
            return Ok(v);
        }
        // Anything usable as an integer (int, numpy integers) that did not fit.
        if obj.is_instance_of::<PyInt>() || obj.hasattr("__index__").unwrap_or(false) {
            return Err(bad(format!("{name} must be {want}, got {}", shown(obj))));
        }
    }
    Err(PyTypeError::new_err(format!(
        "{name} must be {want}, not {}",
        type_name(obj)
    )))
}

/// A float argument: a wrong type is a `TypeError`; an int too large for a float, NaN or an
/// infinity goes to `bad`.
pub fn finite_or(
    obj: &Bound<'_, PyAny>,
    name: &str,
    want: &str,
    bad: impl FnOnce(String) -> PyErr,
) -> PyResult<f64> {
    let wrong_type =
        || PyTypeError::new_err(format!("{name} must be {want}, not {}", type_name(obj)));
    if obj.is_instance_of::<PyBool>() {
        return Err(wrong_type());
    }
    match obj.extract::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(_) => Err(bad(format!("{name} must be {want}, got {}", shown(obj)))),
        Err(e) if e.is_instance_of::<PyOverflowError>(obj.py()) => {
            Err(bad(format!("{name} must be {want}, got {}", shown(obj))))
        }
        Err(_) => Err(wrong_type()),
    }
}

impl Options {
    /// Checks the keyword arguments; `None` is the default.
    pub fn new(
        py: Python<'_>,
        timeout: Option<&Bound<'_, PyAny>>,
        retries: Option<&Bound<'_, PyAny>>,
        min_interval: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Options> {
        Ok(Options {
            timeout: match timeout {
                Some(t) => seconds(py, "timeout", t, false)?,
                None => Duration::from_secs(30),
            },
            retries: match retries {
                Some(r) => integer(py, "retries", r, "an integer from 0 to 4294967295")?,
                None => 3,
            },
            min_interval: min_interval
                .map(|s| seconds(py, "min_interval", s, true))
                .transpose()?,
            net: Network::default(),
        })
    }

    /// The same options with `net`'s network options.
    pub fn with_network(mut self, net: Network) -> Options {
        self.net = net;
        self
    }

    fn apply(&self, py: Python<'_>, builder: ClientBuilder) -> PyResult<ClientBuilder> {
        let mut b = builder
            .timeout(self.timeout)
            .retry(RetryPolicy::default().max_attempts(self.retries.saturating_add(1)));
        if let Some(d) = self.min_interval {
            b = b.min_interval(d);
        }
        if let Some(path) = &self.net.ca_cert {
            b = b.ca_cert_file(path).map_err(|e| to_pyerr(py, e))?;
        }
        if let Some(proxy) = &self.net.proxy {
            b = b.proxy(proxy).map_err(|e| to_pyerr(py, e))?;
        }
        Ok(b.allow_insecure_proxy(self.net.allow_insecure_proxy))
    }
}

/// The core client of a Python client object, rebuilt in a process other than the one that
/// built it: after `fork()` the connection pool holds the parent's connections (sockets
/// shared with the parent, driven by tasks of the parent's runtime, which do not run in the
/// child). The configuration is kept to build an identical client with a pool of its own.
/// `close()` lets go of the client for good: later calls raise `ClientClosedError`.
pub struct Conn {
    /// The Python class, for messages: `Client` or `AsyncClient`.
    class: &'static str,
    builder: ClientBuilder,
    slot: Mutex<Slot>,
    api_url: String,
    id_instance: u64,
}

struct Slot {
    /// The client and the process that built it; `None` once closed (or while dropping).
    built: Option<(u32, Client)>,
    closed: bool,
}

impl Conn {
    fn new(py: Python<'_>, class: &'static str, builder: ClientBuilder) -> PyResult<Conn> {
        let client = finish(py, class, builder.clone())?;
        Ok(Conn {
            class,
            builder,
            api_url: client.api_url().to_string(),
            id_instance: client.id_instance(),
            slot: Mutex::new(Slot {
                built: Some((std::process::id(), client)),
                closed: false,
            }),
        })
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The client for this process; `ClientClosedError` once closed. Call with the GIL held
    /// (see `runtime`: a lock taken only under the GIL cannot be held across `fork()`).
    pub fn client(&self, py: Python<'_>) -> PyResult<Client> {
        let pid = std::process::id();
        let mut slot = self.slot();
        if slot.closed {
            return Err(client_closed_error(py, self.class));
        }
        if let Some((p, client)) = slot.built.as_ref() {
            if *p == pid {
                return Ok(client.clone());
            }
        }
        let fresh = finish(py, self.class, self.builder.clone())?;
        if let Some((_, inherited)) = slot.built.replace((pid, fresh.clone())) {
            forget_inherited(inherited);
        }
        Ok(fresh)
    }

    /// Closes the client: its connection pool is dropped (calls in flight keep theirs) and
    /// every later call raises `ClientClosedError`. Closing again does nothing. Call with the
    /// GIL held.
    pub fn close(&self) {
        let built = {
            let mut slot = self.slot();
            slot.closed = true;
            slot.built.take()
        };
        if let Some((pid, client)) = built {
            if pid == std::process::id() {
                drop(client);
            } else {
                forget_inherited(client);
            }
        }
    }

    /// Whether `close()` was called.
    pub fn is_closed(&self) -> bool {
        self.slot().closed
    }

    /// `ClientClosedError` if closed (for `with` on a closed client).
    pub fn check_open(&self, py: Python<'_>) -> PyResult<()> {
        if self.is_closed() {
            return Err(client_closed_error(py, self.class));
        }
        Ok(())
    }

    pub fn api_url(&self) -> &str {
        &self.api_url
    }

    pub fn id_instance(&self) -> u64 {
        self.id_instance
    }

    /// `Class(api_url='...', id_instance=..., api_token=` + `REDACTED` + `)`.
    pub fn repr(&self) -> String {
        format!(
            "{}(api_url='{}', id_instance={}, api_token={REDACTED})",
            self.class, self.api_url, self.id_instance
        )
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        let slot = self.slot.get_mut().unwrap_or_else(PoisonError::into_inner);
        if let Some((pid, client)) = slot.built.take() {
            if pid != std::process::id() {
                forget_inherited(client);
            }
        }
    }
}

/// A client inherited through `fork()` is leaked, never dropped: dropping its pool would
/// wake connection tasks of the parent's runtime, whose locks a parent thread may have held
/// at the fork.
fn forget_inherited(client: Client) {
    std::mem::forget(client);
}

/// A client of Python class `class` for explicit credentials.
pub fn build(
    py: Python<'_>,
    class: &'static str,
    api_url: String,
    id_instance: &Bound<'_, PyAny>,
    api_token: String,
    opts: &Options,
) -> PyResult<Conn> {
    let id_instance: u64 = integer(
        py,
        "id_instance",
        id_instance,
        "an integer from 0 to 18446744073709551615",
    )?;
    let builder = Client::builder()
        .api_url(api_url)
        .id_instance(id_instance)
        .api_token(api_token);
    Conn::new(py, class, opts.apply(py, builder)?)
}

/// A client from `GREEN_API_URL`, `GREEN_API_ID_INSTANCE`, `GREEN_API_TOKEN`.
/// The variables are read once, here: a client rebuilt after `fork()` uses the same values.
pub fn from_env(py: Python<'_>, class: &'static str, opts: &Options) -> PyResult<Conn> {
    let builder = opts
        .apply(py, Client::builder())?
        .from_env()
        .map_err(|e| to_pyerr(py, e))?;
    Conn::new(py, class, builder)
}

fn finish(py: Python<'_>, class: &str, builder: ClientBuilder) -> PyResult<Client> {
    // The HTTP client must be created where the runtime that drives it is current: the
    // blocking `Client` runs its requests on the calling thread (`runtime::block_on_here`),
    // `AsyncClient` on the shared runtime.
    let handle = if class == "Client" {
        here()?.handle().clone()
    } else {
        handle()?
    };
    let _guard = handle.enter();
    builder.build().map_err(|e| to_pyerr(py, e))
}
