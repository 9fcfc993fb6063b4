//! The two value classes, `SettingsPatch` and `Settings`: their structs only. Their methods
//! are in `patch.rs` and `settings.rs`, which both use these types; `settings.rs` also reads
//! `Settings.replace`'s keywords with `patch.rs`'s `patch_from_kwargs`, as the clients do.

use std::sync::{Arc, OnceLock};

use pyo3::prelude::*;

use greenapi_settings::{CheckedPatch, Settings, SettingsPatch};

use crate::report::WarningTexts;

/// A partial change of settings: the body of one setSettings call.
#[pyclass(module = "greenapi_settings", name = "SettingsPatch", frozen, eq)]
pub struct PySettingsPatch {
    pub inner: SettingsPatch,
    /// The patch checked once, with its warnings ready to emit: a patch is immutable, so
    /// `set_settings(patch)` in a loop validates and formats its warnings once (see
    /// `patch::checked_patch`). Not part of the value (equality, copies).
    pub checked: OnceLock<Arc<Checked>>,
}

/// A patch that passed validation, and the text of each of its warnings.
pub struct Checked {
    pub patch: CheckedPatch,
    pub warnings: WarningTexts,
}

impl Clone for PySettingsPatch {
    fn clone(&self) -> Self {
        self.inner.clone().into()
    }
}

impl PartialEq for PySettingsPatch {
    fn eq(&self, other: &Self) -> bool {
        self.inner == other.inner
    }
}

impl From<SettingsPatch> for PySettingsPatch {
    fn from(inner: SettingsPatch) -> Self {
        PySettingsPatch {
            inner,
            checked: OnceLock::new(),
        }
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
