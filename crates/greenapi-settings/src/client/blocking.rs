//! A blocking client (feature `blocking`): the async [`Client`](super::Client) driven by a
//! private single-threaded tokio runtime, so both share every behaviour.

use std::fmt;

use super::{Applied, ApplyOptions, ClientBuilder, Error, Plan, VerifiedApply};
use crate::settings::{SetSettingsResponse, Settings, SettingsPatch};
use crate::validation::CheckedPatch;

/// A blocking client for one instance. Do not use it from inside an async runtime (it returns
/// [`Error::Config`] there instead of blocking the runtime); use the async client instead.
pub struct Client {
    inner: super::Client,
    rt: tokio::runtime::Runtime,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("blocking::Client")
            .field(&self.inner)
            .finish()
    }
}

impl Client {
    /// Builds a blocking client from a configured builder.
    pub fn from_builder(builder: ClientBuilder) -> Result<Client, Error> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Config(format!("cannot start the I/O runtime: {e}")))?;
        // reqwest's client must be built where a runtime can drive it.
        let inner = rt.block_on(async { builder.build() })?;
        Ok(Client { inner, rt })
    }

    /// A client with default timeouts, retries and pacing.
    pub fn new(
        api_url: impl Into<String>,
        id_instance: u64,
        api_token: impl Into<super::ApiToken>,
    ) -> Result<Client, Error> {
        Client::from_builder(
            super::Client::builder()
                .api_url(api_url)
                .id_instance(id_instance)
                .api_token(api_token),
        )
    }

    /// A client from the `GREEN_API_*` environment variables.
    pub fn from_env() -> Result<Client, Error> {
        Client::from_builder(super::Client::builder().from_env()?)
    }

    /// The async client behind this one.
    pub fn as_async(&self) -> &super::Client {
        &self.inner
    }

    fn run<T>(&self, fut: impl std::future::Future<Output = Result<T, Error>>) -> Result<T, Error> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::Config(
                "the blocking client was called from inside an async runtime; use the async Client there".into(),
            ));
        }
        self.rt.block_on(fut)
    }

    /// See [`Client::get_settings`](super::Client::get_settings).
    pub fn get_settings(&self) -> Result<Settings, Error> {
        self.run(self.inner.get_settings())
    }

    /// See [`Client::set_settings`](super::Client::set_settings).
    pub fn set_settings(&self, patch: &SettingsPatch) -> Result<SetSettingsResponse, Error> {
        self.run(self.inner.set_settings(patch))
    }

    /// See [`Client::send_checked`](super::Client::send_checked).
    pub fn send_checked(&self, patch: &CheckedPatch) -> Result<SetSettingsResponse, Error> {
        self.run(self.inner.send_checked(patch))
    }

    /// See [`Client::apply_verified`](super::Client::apply_verified).
    pub fn apply_verified(
        &self,
        desired: &SettingsPatch,
        options: &ApplyOptions,
    ) -> Result<VerifiedApply, Error> {
        self.run(self.inner.apply_verified(desired, options))
    }

    /// See [`Client::verify`](super::Client::verify).
    pub fn verify(
        &self,
        applied: Applied,
        desired: &SettingsPatch,
        options: &ApplyOptions,
    ) -> Result<VerifiedApply, Error> {
        self.run(self.inner.verify(applied, desired, options))
    }

    /// See [`Client::plan`](super::Client::plan).
    pub fn plan(&self, desired: &SettingsPatch) -> Result<Plan, Error> {
        self.run(self.inner.plan(desired))
    }

    /// See [`Client::apply`](super::Client::apply).
    pub fn apply(&self, desired: &SettingsPatch) -> Result<Applied, Error> {
        self.run(self.inner.apply(desired))
    }

    /// See [`Client::apply_plan`](super::Client::apply_plan).
    pub fn apply_plan(&self, plan: Plan) -> Result<Applied, Error> {
        self.run(self.inner.apply_plan(plan))
    }
}
