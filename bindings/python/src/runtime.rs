//! The one tokio runtime shared by every client of the module (and by pyo3-async-runtimes for
//! `AsyncClient`), and a blocking wait on it that releases the GIL and stays interruptible.

use std::future::Future;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::OnceLock;
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use tokio::runtime::Runtime;

/// How long a blocking call waits with the GIL released before it checks for signals: short
/// enough that Ctrl-C feels immediate, long enough to cost nothing.
const SLICE: Duration = Duration::from_millis(50);

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// The shared runtime, started on first use and registered with pyo3-async-runtimes.
pub fn runtime() -> PyResult<&'static Runtime> {
    if let Some(rt) = RUNTIME.get() {
        return Ok(rt);
    }
    let built = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("greenapi-settings-io")
        .enable_all()
        .build()
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start the I/O runtime: {e}")))?;
    // Two threads may race here; the loser's runtime is dropped unused.
    let rt = RUNTIME.get_or_init(|| built);
    let _ = pyo3_async_runtimes::tokio::init_with_runtime(rt);
    Ok(rt)
}

/// Runs `fut` on the shared runtime and waits for it with the GIL released, in short slices;
/// between slices it runs Python's signal handlers, so Ctrl-C raises `KeyboardInterrupt` at
/// once and aborts the request instead of waiting for the network.
pub fn block_on<F, T>(py: Python<'_>, fut: F) -> PyResult<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let (tx, mut rx) = mpsc::sync_channel(1);
    let task = runtime()?.spawn(async move {
        let _ = tx.send(fut.await);
    });
    loop {
        // The receiver is not `Sync`, so it travels into the detached closure and back.
        let (back, got) = py.detach(move || {
            let got = rx.recv_timeout(SLICE);
            (rx, got)
        });
        rx = back;
        match got {
            Ok(value) => return Ok(value),
            Err(RecvTimeoutError::Timeout) => {
                if let Err(interrupted) = py.check_signals() {
                    task.abort();
                    return Err(interrupted);
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(PyRuntimeError::new_err(
                    "the request task stopped without a result (it panicked)",
                ))
            }
        }
    }
}
