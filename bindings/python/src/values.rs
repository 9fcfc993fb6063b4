//! The two value classes, `SettingsPatch` and `Settings`: their structs only. Their methods
//! are in `patch.rs` and `settings.rs`, which both use these types and not each other.

use pyo3::prelude::*;

use greenapi_settings::{Settings, SettingsPatch};

/// A partial change of settings: the body of one setSettings call.
#[pyclass(module = "greenapi_settings", name = "SettingsPatch", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct PySettingsPatch {
    pub inner: SettingsPatch,
}

impl From<SettingsPatch> for PySettingsPatch {
    fn from(inner: SettingsPatch) -> Self {
        PySettingsPatch { inner }
    }
}

/// The full settings of an instance, as getSettings returns them.
#[pyclass(module = "greenapi_settings", name = "Settings", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct PySettings {
    pub inner: Settings,
}

impl From<Settings> for PySettings {
    fn from(inner: Settings) -> Self {
        PySettings { inner }
    }
}
