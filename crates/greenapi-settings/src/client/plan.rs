//! `plan` / `apply`: compare desired settings with the current ones and send only the difference.

use crate::settings::{SetSettingsResponse, Settings, SettingsPatch};
use crate::validation::{Change, Violation};

/// What applying a desired state would change, computed from the instance's current settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// The settings read from the instance.
    pub current: Settings,
    /// The desired state (fields not set are left alone).
    pub desired: SettingsPatch,
    /// Fields whose value would change, in spec order.
    pub changes: Vec<Change>,
    /// The patch `apply` sends: only the changed fields (empty when nothing changes).
    pub to_send: SettingsPatch,
    /// Rule, unused-field and broken-field warnings, evaluated on current ⊕ desired.
    pub warnings: Vec<Violation>,
}

impl Plan {
    /// Builds a plan from the current settings; errors in `desired` are the caller's to check.
    pub fn new(current: Settings, desired: &SettingsPatch) -> Plan {
        let warnings = desired.validate_against(&current).warnings;
        Plan {
            changes: desired.changes(&current),
            to_send: desired.changed_only(&current),
            desired: desired.clone(),
            current,
            warnings,
        }
    }

    /// Whether the instance is already in the desired state (apply would send nothing).
    pub fn is_noop(&self) -> bool {
        self.to_send.is_empty()
    }

    /// The settings the instance would have after applying.
    pub fn after(&self) -> Settings {
        let mut s = self.current.clone();
        self.to_send.apply_to(&mut s);
        s
    }
}

/// The result of `apply`.
#[derive(Clone, Debug, PartialEq)]
pub struct Applied {
    /// The plan that was carried out.
    pub plan: Plan,
    /// The server's answer, or `None` when nothing needed sending (and nothing was sent).
    pub response: Option<SetSettingsResponse>,
}

impl Applied {
    /// Whether a `setSettings` request was sent (and so the instance restarted).
    pub fn sent(&self) -> bool {
        self.response.is_some()
    }
}
