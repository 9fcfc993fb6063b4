//! The calls of `Client` and `AsyncClient`, written once: each is a chain of [`Step`]s, and
//! the two classes differ only in how they drive it — `Client` runs each request on the
//! calling thread with the GIL released ([`run_blocking`]), `AsyncClient` returns a coroutine
//! that runs each request on the shared runtime while the event loop goes on
//! (`coroutine::PyCall`).
//!
//! Validation happens once per call, warnings reach Python once, as Python warnings:
//!
//! - `set_settings` checks the patch when called (`SettingsPatch::check`): errors raise
//!   `ValidationError`, warnings are emitted, and the checked patch is sent as it is
//!   (`Client::send_checked`, which neither validates nor logs again). A `SettingsPatch`
//!   keeps its check and its warnings' text from its first send (`patch::checked_from_call`);
//!   the warnings are still emitted on every call.
//! - `plan` / `apply` hand the desired state to the core's `plan`, which validates it before
//!   any request; the plan's warnings (on current ⊕ desired) are emitted when it arrives, and
//!   `apply` sends only if none of them was raised as an error.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3::IntoPyObjectExt;

use greenapi_settings::{ApplyOptions, Client, Error};

use crate::errors::to_pyerr;
use crate::log_bridge;
use crate::options::Conn;
use crate::patch::{checked_from_call, patch_from_call};
use crate::plan::{PyApplied, PyPlan};
use crate::report::emit_warnings;
use crate::runtime::block_on_here;
use crate::values::PySettings;

/// Work to do with the GIL held; returns what comes next.
pub type WithGil = Box<dyn for<'py> FnOnce(Python<'py>) -> PyResult<Step> + Send>;

/// A request to run on the runtime, without the GIL; resolves to what comes next.
pub type Io = Pin<Box<dyn Future<Output = Step> + Send>>;

/// One step of a call.
pub enum Step {
    /// Python work: converting a result, emitting warnings, getting the client.
    Gil(WithGil),
    /// Network work.
    Io(Io),
    /// The call's result.
    Ready(Py<PyAny>),
}

impl Step {
    fn gil(f: impl for<'py> FnOnce(Python<'py>) -> PyResult<Step> + Send + 'static) -> Step {
        Step::Gil(Box::new(f))
    }

    /// Runs `fut`, then `then` with its output and the GIL.
    fn io<F, T>(
        fut: F,
        then: impl for<'py> FnOnce(Python<'py>, T) -> PyResult<Step> + Send + 'static,
    ) -> Step
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        Step::Io(Box::pin(async move {
            let out = fut.await;
            Step::gil(move |py| then(py, out))
        }))
    }

    /// The result `value`.
    pub fn ready<'py>(py: Python<'py>, value: impl IntoPyObject<'py>) -> PyResult<Step> {
        Ok(Step::Ready(value.into_py_any(py)?))
    }
}

/// Gets the client when the call starts (`ClientClosedError` if closed by then; a fresh one
/// after `fork()`), runs `request` with it, then `then` with the result and the GIL.
fn request<F, T>(
    conn: &Arc<Conn>,
    request: impl FnOnce(Client) -> F + Send + 'static,
    then: impl for<'py> FnOnce(Python<'py>, T) -> PyResult<Step> + Send + 'static,
) -> Step
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let conn = Arc::clone(conn);
    Step::gil(move |py| {
        let client = conn.client(py)?;
        Ok(Step::io(request(client), then))
    })
}

fn ok<T>(py: Python<'_>, result: Result<T, Error>) -> PyResult<T> {
    result.map_err(|e| to_pyerr(py, e))
}

/// `get_settings()`.
pub fn get_settings(conn: &Arc<Conn>) -> Step {
    request(
        conn,
        |c| async move { c.get_settings().await },
        |py, result| Step::ready(py, PySettings::from(ok(py, result)?)),
    )
}

/// `set_settings(patch=None, **kwargs)`: checked now (errors raise, warnings are emitted),
/// sent when run.
pub fn set_settings(
    py: Python<'_>,
    conn: &Arc<Conn>,
    patch: Option<&Bound<'_, PyAny>>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<Step> {
    let checked = checked_from_call(py, "set_settings()", patch, kwargs)?;
    checked.warnings.emit(py)?;
    Ok(request(
        conn,
        move |c| async move { c.send_checked(&checked.patch).await },
        |py, result| Step::ready(py, ok(py, result)?.save_settings),
    ))
}

/// `plan(desired=None, **kwargs)`.
pub fn plan(
    py: Python<'_>,
    conn: &Arc<Conn>,
    desired: Option<&Bound<'_, PyAny>>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<Step> {
    let desired = patch_from_call(py, "plan()", desired, kwargs)?;
    Ok(request(
        conn,
        move |c| async move { c.plan(&desired).await },
        |py, result| {
            let plan = ok(py, result)?;
            emit_warnings(py, &plan.warnings)?;
            Step::ready(py, PyPlan::from(plan))
        },
    ))
}

/// `apply(desired=None, *, wait=None, settle=60.0, max_resends=2, **kwargs)`: plan,
/// warnings, then the changed fields (if any); with `wait`, read back and repair
/// (`Client::verify`).
pub fn apply(
    py: Python<'_>,
    conn: &Arc<Conn>,
    desired: Option<&Bound<'_, PyAny>>,
    verify: Option<ApplyOptions>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<Step> {
    let desired = patch_from_call(py, "apply()", desired, kwargs)?;
    Ok(request(
        conn,
        move |c| async move { (c.plan(&desired).await, c, desired) },
        |py, (result, c, desired)| {
            let plan = ok(py, result)?;
            emit_warnings(py, &plan.warnings)?;
            Ok(Step::io(
                async move {
                    let applied = c.apply_plan(plan).await?;
                    match verify {
                        None => Ok(PyApplied::from(applied)),
                        Some(o) => c.verify(applied, &desired, &o).await.map(PyApplied::from),
                    }
                },
                |py, result| Step::ready(py, ok(py, result)?),
            ))
        },
    ))
}

/// The verify options of `apply`: `None` without `wait`. Durations are seconds, finite and
/// more than 0 (at most an hour); `max_resends` 0..=10. A bad value is a `ConfigError`.
pub fn apply_options(
    py: Python<'_>,
    wait: Option<f64>,
    settle: f64,
    max_resends: i64,
) -> PyResult<Option<ApplyOptions>> {
    let Some(wait) = wait else {
        return Ok(None);
    };
    let secs = |name: &str, v: f64| {
        if v.is_finite() && v > 0.0 && v <= 3600.0 {
            Ok(std::time::Duration::from_secs_f64(v))
        } else {
            Err(crate::errors::config_error(
                py,
                format!(
                    "{name} must be a number of seconds greater than 0 and at most 3600, not {v}"
                ),
            ))
        }
    };
    let resends = u32::try_from(max_resends)
        .ok()
        .filter(|n| *n <= 10)
        .ok_or_else(|| {
            crate::errors::config_error(
                py,
                format!("max_resends must be a whole number from 0 to 10, not {max_resends}"),
            )
        })?;
    Ok(Some(
        ApplyOptions::default()
            .wait(secs("wait", wait)?)
            .settle(secs("settle", settle)?)
            .max_resends(resends),
    ))
}

/// `close()` / `aclose()`.
pub fn close(conn: &Arc<Conn>) -> Step {
    let conn = Arc::clone(conn);
    Step::gil(move |py| {
        conn.close();
        Step::ready(py, py.None())
    })
}

/// Drives a call to its end on this thread: Python work here, each request too, with the GIL
/// released (interruptible, see `runtime::block_on_here`).
pub fn run_blocking(py: Python<'_>, mut step: Step) -> PyResult<Py<PyAny>> {
    loop {
        step = match step {
            Step::Ready(value) => return Ok(value),
            Step::Gil(f) => f(py)?,
            Step::Io(fut) => {
                let next = block_on_here(py, fut);
                log_bridge::flush(py);
                next?
            }
        };
    }
}
