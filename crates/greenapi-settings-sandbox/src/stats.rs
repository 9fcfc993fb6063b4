//! [`InstanceStats`]: what the sandbox knows about one instance, for tests and for
//! `GET /sandbox/instances`.

use greenapi_settings::{Settings, SettingsPatch};
use serde_json::{json, Value};

/// What happened to one instance. Counters start at zero (and again after a reset).
///
/// Every call whose token was right counts in `set_settings_calls` / `get_settings_calls`;
/// of those, `rate_limited` got 429 and `rejected` got any other error (400, 413, 466, an
/// injected 5xx). Calls with a wrong token count in `unauthorized` only.
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
}

impl InstanceStats {
    /// The inspection JSON (`idInstance`, `restarts`, `setSettingsCalls`, …, `settings`,
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
        };
        let shown = stats.to_json_value();
        assert_eq!(shown["settings"]["webhookUrlToken"], "");
        assert_eq!(shown["pending"]["webhookUrlToken"], "<redacted>");
        settings.webhook_url_token = "applied-secret".into();
        stats.settings = settings;
        let text = stats.to_json_value().to_string();
        assert!(!text.contains("secret"), "{text}");
        assert!(!format!("{stats:?}").contains("secret"));
    }
}
