//! [`InstanceStats`]: what the sandbox knows about one instance, for tests and for
//! `GET /sandbox/instances`.

use greenapi_settings::{Settings, SettingsPatch};
use serde_json::{json, Value};

/// What happened to one instance. Counters start at zero (and again after a reset).
///
/// Every call whose token was right counts in `set_settings_calls` / `get_settings_calls`;
/// of those, `rate_limited` got 429 and `rejected` got any other error (400, 413, 466, an
/// injected 5xx). Calls with a wrong token count in `unauthorized` only. A lost write is an
/// accepted call (it counts a restart, not a rejection) that also counts in `lost_writes`.
///
/// `Debug` hides secret setting values; [`to_json_value`](Self::to_json_value) too.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct InstanceStats {
    /// The instance id.
    pub id_instance: u64,
    /// Accepted `setSettings` calls (each restarts the instance), including persisted ones.
    pub restarts: u64,
    /// Authenticated `setSettings` calls.
    pub set_settings_calls: u64,
    /// Authenticated `getSettings` calls.
    pub get_settings_calls: u64,
    /// Authenticated calls answered with an error other than 429.
    pub rejected: u64,
    /// Calls answered with 429.
    pub rate_limited: u64,
    /// Calls with a wrong token (401).
    pub unauthorized: u64,
    /// Calls charged to the quota (only counted when a quota is set).
    pub quota_used: u64,
    /// The settings `getSettings` shows now (without the read-only fields).
    pub settings: Settings,
    /// Accepted changes not visible yet (see
    /// [`SandboxConfig::apply_delay`](crate::SandboxConfig::apply_delay)), merged.
    pub pending: Option<SettingsPatch>,
    /// Acknowledged `setSettings` calls that lost at least one field (see
    /// [`SandboxConfig::lost_write_rate`](crate::SandboxConfig::lost_write_rate)).
    pub lost_writes: u64,
    /// Fields lost, over all calls.
    pub lost_fields: u64,
    /// Fields (API names, spec order) lost by a call and not sent again since by a call that
    /// kept them: empty once every lost field was re-sent.
    pub unrepaired_lost_fields: Vec<&'static str>,
    /// Drifts that changed at least one setting, scheduled (see
    /// [`SandboxConfig::drift_after`](crate::SandboxConfig::drift_after)) or triggered.
    pub drifts: u64,
    /// Settings changed by those drifts.
    pub drifted_fields: u64,
}

impl InstanceStats {
    /// The inspection JSON (`idInstance`, `restarts`, `setSettingsCalls`, …, `lostWrites`,
    /// `lostFields`, `unrepairedLostFields`, `drifts`, `driftedFields`, `settings`,
    /// `pending`), with secret setting values replaced by `"<redacted>"`.
    pub fn to_json_value(&self) -> Value {
        json!({
            "idInstance": self.id_instance,
            "restarts": self.restarts,
            "setSettingsCalls": self.set_settings_calls,
            "getSettingsCalls": self.get_settings_calls,
            "rejected": self.rejected,
            "rateLimited": self.rate_limited,
            "unauthorized": self.unauthorized,
            "quotaUsed": self.quota_used,
            "lostWrites": self.lost_writes,
            "lostFields": self.lost_fields,
            "unrepairedLostFields": self.unrepaired_lost_fields,
            "drifts": self.drifts,
            "driftedFields": self.drifted_fields,
            "settings": redact(self.settings.to_json_value()),
            "pending": self.pending.as_ref().map(|p| redact(p.to_json_value())),
        })
    }
}

/// The settings object with non-empty secret values (e.g. `webhookUrlToken`) redacted.
fn redact(mut value: Value) -> Value {
    greenapi_settings::redact::secret_settings(&mut value);
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inspection_json_redacts_secret_settings_but_not_empty_ones() {
        let mut settings = Settings::default();
        let mut stats = InstanceStats {
            id_instance: 1,
            restarts: 0,
            set_settings_calls: 0,
            get_settings_calls: 0,
            rejected: 0,
            rate_limited: 0,
            unauthorized: 0,
            quota_used: 0,
            settings: settings.clone(),
            pending: Some(SettingsPatch::new().webhook_url_token("pending-secret")),
            lost_writes: 1,
            lost_fields: 2,
            unrepaired_lost_fields: vec!["webhookUrlToken"],
            drifts: 0,
            drifted_fields: 0,
        };
        let shown = stats.to_json_value();
        assert_eq!(shown["unrepairedLostFields"], json!(["webhookUrlToken"]));
        assert_eq!(shown["lostWrites"], 1);
        assert_eq!(shown["lostFields"], 2);
        assert_eq!(shown["settings"]["webhookUrlToken"], "");
        assert_eq!(shown["pending"]["webhookUrlToken"], "<redacted>");
        settings.webhook_url_token = "applied-secret".into();
        stats.settings = settings;
        let text = stats.to_json_value().to_string();
        assert!(!text.contains("secret"), "{text}");
        assert!(!format!("{stats:?}").contains("secret"));
    }
}
