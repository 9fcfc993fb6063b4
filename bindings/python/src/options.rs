//! Building a core `Client` from the keyword arguments shared by `Client` and `AsyncClient`.

use std::time::Duration;

use pyo3::prelude::*;

use greenapi_settings::{Client, ClientBuilder, RetryPolicy};

use crate::errors::{config_error, to_pyerr};
use crate::runtime::runtime;

/// Timeouts, retries and pacing, as given in Python (seconds as floats).
pub struct Options {
    pub timeout: f64,
    pub retries: u32,
    pub min_interval: Option<f64>,
}

fn seconds(py: Python<'_>, name: &str, v: f64, zero_ok: bool) -> PyResult<Duration> {
    if !v.is_finite() || v < 0.0 || (!zero_ok && v == 0.0) {
        let want = if zero_ok { ">= 0" } else { "> 0" };
        return Err(config_error(
            py,
            format!("{name} must be a number of seconds {want}, got {v}"),
        ));
    }
    Duration::try_from_secs_f64(v).map_err(|e| config_error(py, format!("{name}: {e}")))
}

impl Options {
    fn apply(&self, py: Python<'_>, builder: ClientBuilder) -> PyResult<ClientBuilder> {
        let mut b = builder
            .timeout(seconds(py, "timeout", self.timeout, false)?)
            .retry(RetryPolicy::default().max_attempts(self.retries.saturating_add(1)));
        if let Some(s) = self.min_interval {
            b = b.min_interval(seconds(py, "min_interval", s, true)?);
        }
        Ok(b)
    }
}

/// A client for explicit credentials.
pub fn build(
    py: Python<'_>,
    api_url: String,
    id_instance: u64,
    api_token: String,
    opts: &Options,
) -> PyResult<Client> {
    let builder = Client::builder()
        .api_url(api_url)
        .id_instance(id_instance)
        .api_token(api_token);
    finish(py, opts.apply(py, builder)?)
}

/// A client from `GREEN_API_URL`, `GREEN_API_ID_INSTANCE`, `GREEN_API_TOKEN`.
pub fn from_env(py: Python<'_>, opts: &Options) -> PyResult<Client> {
    let builder = opts
        .apply(py, Client::builder())?
        .from_env()
        .map_err(|e| to_pyerr(py, e))?;
    finish(py, builder)
}

fn finish(py: Python<'_>, builder: ClientBuilder) -> PyResult<Client> {
    // The HTTP client must be created where the runtime that drives it is current.
    let _guard = runtime()?.enter();
    builder.build().map_err(|e| to_pyerr(py, e))
}
