//! The tokio runtime shared by every `AsyncClient` of the module (their coroutines, see
//! `coroutine`), the thread-less runtime on which the blocking `Client` runs its requests on
//! the calling thread, a blocking wait that releases the GIL and stays interruptible, and
//! their life cycle:
//!
//! - **Interpreter exit.** A hook registered with `atexit` at import shuts the runtime down
//!   (GIL released, so that a task waking an asyncio task can take it and finish) before
//!   the interpreter finalises. Otherwise a runtime thread could still be inside the
//!   interpreter while it tears itself down, which crashes the process (SIGSEGV/SIGABRT in
//!   `PyGILState_Release`). Calls after that hook raise `RuntimeError` at once.
//! - **`fork()`.** A child inherits the runtime's memory but none of its threads: a task spawned
//!   on it would never run. The runtime records the pid that built it; in another process it is
//!   abandoned (leaked, never dropped: dropping would wait for threads that do not exist) and a
//!   fresh one is built on first use. Clients rebuild their connection pools likewise (see
//!   `client::Conn`).
//!
//! The blocking `Client` does not use that runtime's thread: its requests run on the calling
//! thread, on a second runtime without threads of its own ([`block_on_here`]), so a call
//! wakes no other thread of this process (the I/O thread hand-over cost two thread wake-ups
//! per call). The same life cycle applies: a child after `fork()` builds its own, and calls
//! after the `atexit` hook raise `RuntimeError`; it needs no shutdown (its only threads, for
//! name lookups, never enter the interpreter).
//!
//! The state locks are only ever taken by a thread holding the GIL (never by the runtime's own
//! threads), and released before the GIL is: `os.fork()` holds the GIL,
//! so no fork can happen while a lock is held and a child never finds it locked.

use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use tokio::runtime::{Handle, Runtime};

use crate::log_bridge;

/// How long a blocking call waits with the GIL released before it checks for signals: short
/// enough that Ctrl-C feels immediate, long enough to cost nothing.
const SLICE: Duration = Duration::from_millis(50);

/// How long interpreter exit waits for the runtime's threads. They only need the GIL for
/// moments (to finish an asyncio future); the bound is for a thread stuck outside Python
/// (a hung DNS lookup), which is left behind and never touches the interpreter again.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(5);

const THREAD_NAME: &str = "greenapi-settings-io";

enum State {
    /// Not started yet in this process.
    Idle,
    /// Running, built by process `pid`.
    Running {
        pid: u32,
        runtime: Runtime,
        handle: Handle,
    },
    /// Shut down at interpreter exit; the handle only serves to refuse late spawns quietly.
    Stopped { handle: Handle },
}

static STATE: Mutex<State> = Mutex::new(State::Idle);

fn lock() -> MutexGuard<'static, State> {
    // A panic while the lock was held cannot leave `State` half-updated (every update is one
    // assignment), so a poisoned lock is still sound to use.
    STATE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn stopped_error() -> PyErr {
    PyRuntimeError::new_err(
        "greenapi_settings cannot make requests any more: its I/O runtime was shut down \
         because the Python interpreter is exiting",
    )
}

fn build() -> PyResult<Runtime> {
    // One I/O thread: a blocking call hands its request to it and waits, and with a second
    // worker each handed-over request also woke the idle one to look for work (loopback:
    // 213 -> 176 us per getSettings, BENCHMARKS.md). The I/O itself is light; many concurrent
    // coroutines share the thread as they would share an asyncio loop.
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name(THREAD_NAME)
        .enable_all()
        .build()
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start the I/O runtime: {e}")))
}

/// A handle to the shared runtime of this process: started on first use, started afresh in a
/// child after `fork()`; `RuntimeError` after interpreter exit began. Call with the GIL held.
pub fn handle() -> PyResult<Handle> {
    let pid = std::process::id();
    let mut state = lock();
    match &*state {
        State::Running { pid: p, handle, .. } if *p == pid => return Ok(handle.clone()),
        State::Stopped { .. } => return Err(stopped_error()),
        State::Idle | State::Running { .. } => {}
    }
    let runtime = build()?;
    let handle = runtime.handle().clone();
    let old = std::mem::replace(
        &mut *state,
        State::Running {
            pid,
            runtime,
            handle: handle.clone(),
        },
    );
    if let State::Running { runtime, .. } = old {
        // Inherited through fork(): its threads exist only in the parent. Dropping it would
        // wait for them forever; it is abandoned instead.
        std::mem::forget(runtime);
    }
    Ok(handle)
}

/// Shuts the runtime down for good: run by `atexit`. Waits (GIL released) for the runtime's
/// threads, so none is left inside the interpreter when it finalises.
#[pyfunction]
#[pyo3(name = "_shutdown_runtime")]
pub fn shutdown(py: Python<'_>) {
    let pid = std::process::id();
    let runtime = {
        let mut state = lock();
        let handle = match &*state {
            State::Running { handle, .. } | State::Stopped { handle } => Some(handle.clone()),
            State::Idle => None,
        };
        let old = match handle {
            Some(handle) => std::mem::replace(&mut *state, State::Stopped { handle }),
            // Never started: nothing to stop, but no start from now on either.
            None => std::mem::replace(
                &mut *state,
                State::Stopped {
                    handle: dead_handle(),
                },
            ),
        };
        match old {
            State::Running {
                pid: p, runtime, ..
            } if p == pid => Some(runtime),
            State::Running { runtime, .. } => {
                std::mem::forget(runtime); // the parent's, see `handle`
                None
            }
            _ => None,
        }
    };
    if let Some(runtime) = runtime {
        py.detach(move || runtime.shutdown_timeout(SHUTDOWN_WAIT));
    }
    log_bridge::shutdown(py);
}

/// The handle of a runtime that is shut down at once: spawning on it drops the task.
fn dead_handle() -> Handle {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime starts no thread and cannot fail to build");
    let handle = rt.handle().clone();
    drop(rt);
    handle
}

/// The runtime of the blocking `Client` in this process (see the module documentation) and the
/// process that built it.
static HERE: Mutex<Option<(u32, Arc<Runtime>)>> = Mutex::new(None);

/// The runtime on which blocking calls run their requests on the calling thread: started on
/// first use, afresh in a child after `fork()`; `RuntimeError` after interpreter exit began.
/// Call with the GIL held.
pub fn here() -> PyResult<Arc<Runtime>> {
    if matches!(&*lock(), State::Stopped { .. }) {
        return Err(stopped_error());
    }
    let pid = std::process::id();
    let mut slot = HERE.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((p, runtime)) = slot.as_ref() {
        if *p == pid {
            return Ok(Arc::clone(runtime));
        }
    }
    // Its blocking pool (name lookups) is its only thread, started when needed.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .thread_name(THREAD_NAME)
        .enable_all()
        .build()
        .map(Arc::new)
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start the I/O runtime: {e}")))?;
    if let Some((_, inherited)) = slot.replace((pid, Arc::clone(&runtime))) {
        // Inherited through fork(): a parent thread may have been inside it. Abandoned, as
        // the shared runtime is (see `handle`).
        std::mem::forget(inherited);
    }
    Ok(runtime)
}

/// Runs `fut` to its end on this thread, on the runtime of [`here`], with the GIL released, in
/// 50 ms slices: between slices it runs Python's signal handlers (Ctrl-C
/// raises `KeyboardInterrupt` and drops the request) and hands the log records to `logging`.
/// Another thread's call may be driving the runtime at the same time: each thread then polls
/// its own request, and the runtime's timers and sockets are served by whichever is inside.
pub fn block_on_here<F>(py: Python<'_>, fut: F) -> PyResult<F::Output>
where
    F: Future + Send + Unpin,
    F::Output: Send,
{
    let runtime = here()?;
    let mut fut = fut;
    loop {
        let got = py.detach(|| {
            panic::catch_unwind(AssertUnwindSafe(|| {
                // The timer is made inside: it needs the runtime's context.
                runtime.block_on(async { tokio::time::timeout(SLICE, &mut fut).await })
            }))
        });
        match got {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(_elapsed)) => {
                log_bridge::flush(py);
                if let Err(interrupted) = py.check_signals() {
                    drop(fut);
                    // The request's connection is served by a task of this runtime, which
                    // runs only while a call is inside it: a moment inside lets it see the
                    // request dropped and close the connection, so the server stops working
                    // on it (as aborting the task on the shared runtime did).
                    py.detach(|| {
                        runtime.block_on(async {
                            for _ in 0..4 {
                                tokio::task::yield_now().await;
                            }
                        });
                    });
                    return Err(interrupted);
                }
            }
            Err(_panic) => {
                return Err(PyRuntimeError::new_err(
                    "the request task stopped without a result (it panicked)",
                ))
            }
        }
    }
}
