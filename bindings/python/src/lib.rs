//! The native module `greenapi_settings._native`: Python bindings for the `greenapi-settings`
//! crates. It only converts types and maps errors; everything else lives in the Rust crates.
//!
//! Build and install it with `pip install ./bindings/python` (maturin); from Python:
//!
//! ```python
//! from greenapi_settings import Client, Sandbox
//!
//! with Sandbox(rate_limit=None) as sb:
//!     client = Client(sb.url, sb.id_instance, sb.api_token, min_interval=0)
//!     client.set_settings(incoming_webhook=True, delay_send_messages_milliseconds=15_000)
//!     assert client.get_settings().incoming_webhook is True
//! ```

use pyo3::prelude::*;

mod aclient;
mod calls;
mod cli;
mod client;
mod convert;
mod coroutine;
mod errors;
mod fields;
mod log_bridge;
mod options;
mod patch;
mod plain;
mod plan;
mod report;
mod runtime;
mod sandbox;
mod sandbox_notify;
mod settings;
mod signature;
mod values;

#[pymodule]
#[pyo3(name = "_native")]
fn native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    errors::register(m)?;
    m.add_class::<values::PySettingsPatch>()?;
    m.add_class::<values::PySettings>()?;
    m.add_class::<report::PyViolation>()?;
    m.add_class::<plan::PyChange>()?;
    m.add_class::<plan::PyPlan>()?;
    m.add_class::<plan::PyApplied>()?;
    m.add_class::<client::PyClient>()?;
    m.add_class::<aclient::PyAsyncClient>()?;
    m.add_class::<sandbox::PySandbox>()?;
    m.add_class::<sandbox::PySandboxStats>()?;
    // The command line, for the console script `greenapi-settings` (`greenapi_settings.cli`).
    // An attribute, not in `__all__`: a private entry point.
    m.setattr("_run_cli", wrap_pyfunction!(cli::_run_cli, m)?)?;
    // Rust-side events (retries, responses) to the logger `greenapi_settings`.
    log_bridge::install();
    // Stop the I/O runtime before the interpreter finalises (see `runtime`).
    let shutdown = wrap_pyfunction!(runtime::shutdown, m)?;
    m.py()
        .import("atexit")?
        .call_method1("register", (shutdown,))?;
    Ok(())
}
