//! The coroutine every `AsyncClient` method returns: a Python object with the coroutine
//! protocol (`__await__`, `send`, `throw`, `close`), so `await`, `asyncio.run`,
//! `asyncio.gather`, `asyncio.wait_for`, `asyncio.create_task` and cancellation all work.
//!
//! - **Lazy**: nothing runs until it is awaited (the arguments were checked by the call).
//! - **Where the work runs**: Python steps of the call run on the awaiting thread (with the
//!   GIL, at each `send`); each request runs as a task on the shared runtime (`runtime`).
//!   While a request runs, the coroutine yields an `asyncio.Future` of the running loop; the
//!   task resolves it with `loop.call_soon_threadsafe` from a blocking-pool thread, so no
//!   runtime worker ever waits for the GIL.
//! - **Cancellation**: `throw` (what asyncio does to a cancelled task), `close` and dropping
//!   the coroutine abort the runtime task: the request future is dropped, which closes its
//!   connection at once.
//! - **Event loops**: asyncio, and anything built on it (anyio's asyncio backend, uvloop).
//!   Not trio: its tasks cannot await an asyncio future (see the README).

use std::sync::{Arc, Mutex, PoisonError};

use pyo3::exceptions::{PyBaseException, PyRuntimeError, PyStopIteration, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyCFunction, PyType};

use crate::calls::{Io, Step};
use crate::log_bridge;
use crate::runtime::handle;

/// An awaitable call of `AsyncClient`.
#[pyclass(module = "greenapi_settings._native", name = "_Call", frozen)]
pub struct PyCall {
    qualname: String,
    state: Mutex<State>,
}

enum State {
    /// Not started, or between two requests.
    Step(Step),
    /// A request runs on the runtime.
    Running(Running),
    /// A Python step runs on some thread (re-entered from its Python code).
    Busy,
    /// Returned, raised, closed or cancelled.
    Done,
}

/// A request task and where it leaves its result. Dropping it aborts the task.
struct Running {
    task: tokio::task::JoinHandle<()>,
    shared: Arc<Mutex<Shared>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
        // Dropped here, where the GIL is held, not by the task's last reference.
        let waiter = lock(&self.shared).waiter.take();
        drop(waiter);
    }
}

#[derive(Default)]
struct Shared {
    result: Option<Step>,
    /// The event loop and the future the awaiting task waits on, set while it waits.
    waiter: Option<(Py<PyAny>, Py<PyAny>)>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl PyCall {
    /// A coroutine that runs `step` when awaited; `qualname` names it (`AsyncClient.plan`).
    pub fn new(qualname: String, step: Step) -> PyCall {
        PyCall {
            qualname,
            state: Mutex::new(State::Step(step)),
        }
    }

    fn finish(&self) -> State {
        std::mem::replace(&mut *lock(&self.state), State::Done)
    }

    /// One `send`: runs the call as far as it goes without waiting. Returns the value to yield
    /// (an asyncio future), or raises `StopIteration(result)` / the call's error.
    fn resume(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        log_bridge::flush(py);
        let mut state = std::mem::replace(&mut *lock(&self.state), State::Busy);
        loop {
            let step = match state {
                State::Step(step) => step,
                State::Running(running) => {
                    let ready = lock(&running.shared).result.take();
                    match ready {
                        Some(step) => step,
                        None => {
                            // The future to wait on is made before the lock is taken: the
                            // task takes that lock too, and must not wait for Python code.
                            let (event_loop, future, yielded) = match new_waiter(py) {
                                Ok(w) => w,
                                Err(e) => {
                                    *lock(&self.state) = State::Done;
                                    return Err(e);
                                }
                            };
                            let mut shared = lock(&running.shared);
                            match shared.result.take() {
                                // Ended meanwhile: the new future is not needed.
                                Some(step) => {
                                    drop(shared);
                                    step
                                }
                                None => {
                                    shared.waiter = Some((event_loop, future));
                                    drop(shared);
                                    *lock(&self.state) = State::Running(running);
                                    return Ok(yielded);
                                }
                            }
                        }
                    }
                }
                State::Busy => {
                    return Err(PyValueError::new_err("coroutine already executing"));
                }
                State::Done => {
                    *lock(&self.state) = State::Done;
                    return Err(PyRuntimeError::new_err(
                        "cannot reuse already awaited coroutine",
                    ));
                }
            };
            // Records of the request that just ended, before its result is used.
            log_bridge::flush(py);
            state = match step {
                Step::Ready(value) => {
                    *lock(&self.state) = State::Done;
                    return Err(PyStopIteration::new_err((value,)));
                }
                Step::Gil(f) => match f(py) {
                    Ok(next) => State::Step(next),
                    Err(e) => {
                        *lock(&self.state) = State::Done;
                        return Err(e);
                    }
                },
                // Checked before the request starts: without a loop to wake, nothing is sent.
                Step::Io(fut) => match running_loop(py).and_then(|_| spawn(fut)) {
                    Ok(running) => State::Running(running),
                    Err(e) => {
                        *lock(&self.state) = State::Done;
                        return Err(e);
                    }
                },
            };
        }
    }
}

/// Starts a request on the shared runtime; when it ends, it stores its result and wakes the
/// awaiting task if it waits.
fn spawn(fut: Io) -> PyResult<Running> {
    let shared = Arc::new(Mutex::new(Shared::default()));
    let theirs = Arc::clone(&shared);
    let task = handle()?.spawn(async move {
        let step = fut.await;
        let waiter = {
            let mut shared = lock(&theirs);
            shared.result = Some(step);
            shared.waiter.take()
        };
        if let Some(waiter) = waiter {
            // Taking the GIL may wait: a thread of the blocking pool waits, not a worker.
            tokio::task::spawn_blocking(move || wake(waiter));
        }
    });
    Ok(Running { task, shared })
}

/// The running asyncio loop; a clear `RuntimeError` without one (trio, or no loop at all).
fn running_loop(py: Python<'_>) -> PyResult<Py<PyAny>> {
    static GET_RUNNING_LOOP: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let get_running_loop = GET_RUNNING_LOOP.get_or_try_init(py, || {
        py.import("asyncio")?
            .getattr("get_running_loop")
            .map(Bound::unbind)
    })?;
    get_running_loop.call0(py).map_err(|_| {
        PyRuntimeError::new_err(
            "AsyncClient calls must be awaited in a running asyncio event loop (asyncio.run, \
             or anyio on its asyncio backend); trio is not supported",
        )
    })
}

/// The running asyncio loop, a new future of it for the task to resolve, and what to yield
/// to the awaiting task (the future, marked as awaited: what `await future` does).
fn new_waiter(py: Python<'_>) -> PyResult<(Py<PyAny>, Py<PyAny>, Py<PyAny>)> {
    let event_loop = running_loop(py)?;
    let future = event_loop.call_method0(py, "create_future")?;
    let yielded = future
        .bind(py)
        .try_iter()?
        .next()
        .ok_or_else(|| PyRuntimeError::new_err("a new asyncio future was already done"))??;
    Ok((event_loop, future, yielded.unbind()))
}

/// Resolves the future the awaiting task waits on, from any thread.
fn wake((event_loop, future): (Py<PyAny>, Py<PyAny>)) {
    // After interpreter exit began, the runtime is shut down and no task gets here; should
    // one still, `try_attach` does nothing.
    Python::try_attach(|py| {
        static RELEASE: PyOnceLock<Py<PyCFunction>> = PyOnceLock::new();
        let release = RELEASE.get_or_try_init(py, || {
            PyCFunction::new_closure(py, None, None, |args, _kwargs| -> PyResult<()> {
                let future = args.get_item(0)?;
                // Cancelled meanwhile: nothing to do.
                if !future.call_method0("done")?.is_truthy()? {
                    future.call_method1("set_result", (args.py().None(),))?;
                }
                Ok(())
            })
            .map(Bound::unbind)
        });
        if let Ok(release) = release {
            // Fails only when the loop is closed: nobody waits any more.
            let _ = event_loop.call_method1(py, "call_soon_threadsafe", (release, future));
        }
    });
}

#[pymethods]
impl PyCall {
    fn __await__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.resume(py)
    }

    fn send(&self, py: Python<'_>, _value: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.resume(py)
    }

    /// Aborts the request and raises `typ` (asyncio throws `CancelledError` here when the
    /// awaiting task is cancelled).
    #[pyo3(signature = (typ, val = None, _tb = None))]
    fn throw(
        &self,
        py: Python<'_>,
        typ: &Bound<'_, PyAny>,
        val: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        drop(self.finish());
        log_bridge::flush(py);
        if typ.is_instance_of::<PyBaseException>() {
            return Err(PyErr::from_value(typ.clone()));
        }
        if let Ok(ty) = typ.cast::<PyType>() {
            let exc = match val {
                Some(v) if v.is_instance(ty)? => v.clone(),
                Some(v) if !v.is_none() => ty.call1((v,))?,
                _ => ty.call0()?,
            };
            return Err(PyErr::from_value(exc));
        }
        Err(PyValueError::new_err(
            "throw() expects an exception type or instance",
        ))
    }

    /// Aborts the request, if one runs; the coroutine is done.
    fn close(&self) {
        drop(self.finish());
    }

    #[getter]
    fn __name__(&self) -> &str {
        self.qualname.rsplit('.').next().unwrap_or(&self.qualname)
    }

    #[getter]
    fn __qualname__(&self) -> &str {
        &self.qualname
    }

    fn __repr__(&self) -> String {
        format!("<coroutine {}>", self.qualname)
    }
}
