//! The notifications the settings switch on (issue 21): which settings each notification kind
//! needs, whether the API sends it today, a well-formed body of each, and the typed bodies.
//!
//! The data ([`NOTIFICATIONS`], [`DELIVERY`], the body types in [`types`]) is generated from
//! the spec's `notifications` section by `notifications_api!`; read the expansion with
//! `cargo run -p greenapi-settings-codegen -- notifications-rust`. This file holds the types
//! of that data and what the sandbox, `doctor` and users do with it.
//!
//! ```
//! use greenapi_settings::{NotificationInfo, Settings};
//!
//! let call = NotificationInfo::find("incomingCall").unwrap();
//! assert_eq!(call.requires, ["incomingWebhook", "incomingCallWebhook"]);
//!
//! let mut settings = Settings::default();
//! settings.incoming_call_webhook = true;
//! assert_eq!(
//!     call.why_suppressed(&settings).unwrap(),
//!     "incomingCall needs incomingWebhook and incomingCallWebhook: incomingWebhook is off"
//! );
//! settings.incoming_webhook = true;
//! assert!(call.why_suppressed(&settings).is_none());
//! ```

mod body;
mod generated;

pub use body::{BodyContext, MAX_FIELD_DEPTH};
pub use generated::types;
pub use generated::types::Notification;
pub use generated::{
    DELETE_NOTIFICATION_PATH, DELIVERY, NOTIFICATIONS, RECEIVE_NOTIFICATION_PATH,
    RECEIVE_TIMEOUT_DEFAULT_SECS, RECEIVE_TIMEOUT_MAX_SECS, RECEIVE_TIMEOUT_MIN_SECS,
};

use crate::Settings;

/// Whether a notification kind is sent today (from the API's docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NotificationStatus {
    /// Sent as documented.
    Active,
    /// Documented as temporarily not working: the settings may be on and nothing arrives.
    TemporarilyBroken,
    /// Deprecated by the API.
    Deprecated,
}

impl NotificationStatus {
    /// The spec's spelling: `active`, `temporarilyBroken`, `deprecated`.
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationStatus::Active => "active",
            NotificationStatus::TemporarilyBroken => "temporarilyBroken",
            NotificationStatus::Deprecated => "deprecated",
        }
    }
}

/// What one source says a kind needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SourceRule {
    /// `D` (the API's docs pages), `P` (its Postman collection) or `SDK` (its libraries).
    pub source: &'static str,
    /// The yes/no settings that must be on, API spelling.
    pub requires: &'static [&'static str],
    /// Its section in `spec/sources/api-notifications.md`.
    pub citation: &'static str,
}

/// One notification kind: a `typeWebhook`, or a variant of one that has a rule of its own
/// (an edited incoming message, the status of a message sent through the API, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotificationInfo {
    /// Its `typeWebhook`.
    pub type_webhook: &'static str,
    /// Its variant's name (`editedMessage`, `api`), if it is one.
    pub variant: Option<&'static str>,
    /// The body field (dotted) that tells the variant apart: `messageData.typeMessage`,
    /// `sendByApi`.
    pub variant_field: Option<&'static str>,
    /// The settings that must all be "yes": every setting any source names (where the sources
    /// disagree, the stricter rule).
    pub requires: &'static [&'static str],
    /// Whether the API sends it today.
    pub status: NotificationStatus,
    /// What it is.
    pub description: &'static str,
    /// What each source says it needs.
    pub sources: &'static [SourceRule],
    /// Facts and disagreements.
    pub notes: &'static [&'static str],
    /// A well-formed body (JSON), the spec's example.
    pub skeleton: &'static str,
}

/// How the API delivers notifications.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeliveryInfo {
    /// How long the API waits for the receiver's answer (180 s).
    pub response_timeout_secs: u64,
    /// The pause before the same notification is sent again (60 s).
    pub retry_pause_secs: u64,
    /// The one status that counts as received (200).
    pub success_status: u16,
    /// The scheme of the `Authorization` header carrying `webhookUrlToken` (`Bearer`).
    pub authorization_scheme: &'static str,
    /// "Delivery is guaranteed within" this many hours.
    pub guaranteed_within_hours: u64,
}

impl NotificationInfo {
    /// `incomingMessageReceived`, or `incomingMessageReceived:editedMessage` for a variant.
    pub fn key(&self) -> String {
        match self.variant {
            Some(v) => format!("{}:{v}", self.type_webhook),
            None => self.type_webhook.to_string(),
        }
    }

    /// The kind `key` names (as [`key`](Self::key) writes it).
    pub fn find(key: &str) -> Option<&'static NotificationInfo> {
        let (ty, variant) = match key.split_once(':') {
            Some((t, v)) => (t, Some(v)),
            None => (key, None),
        };
        NOTIFICATIONS
            .iter()
            .find(|k| k.type_webhook == ty && k.variant == variant)
    }

    /// The kinds of one `typeWebhook`: the plain one first, then its variants.
    pub fn of_type(type_webhook: &str) -> impl Iterator<Item = &'static NotificationInfo> + '_ {
        NOTIFICATIONS
            .iter()
            .filter(move |k| k.type_webhook == type_webhook)
    }

    /// Every key, in spec order (for messages listing what exists).
    pub fn keys() -> Vec<String> {
        NOTIFICATIONS.iter().map(NotificationInfo::key).collect()
    }

    /// The required settings that are not "yes" in `settings`, in the order of
    /// [`requires`](Self::requires); a setting the server did not return counts as off. Empty:
    /// the settings enable it.
    pub fn missing(&self, settings: &Settings) -> Vec<&'static str> {
        self.requires
            .iter()
            .copied()
            .filter(|name| !is_on(settings, name))
            .collect()
    }

    /// Why the settings suppress it ("incomingCall needs incomingWebhook and
    /// incomingCallWebhook: incomingWebhook is off"), or `None` when they enable it.
    pub fn why_suppressed(&self, settings: &Settings) -> Option<String> {
        let missing = self.missing(settings);
        if missing.is_empty() {
            return None;
        }
        let verb = if missing.len() == 1 { "is" } else { "are" };
        Some(format!(
            "{} needs {}: {} {verb} off",
            self.key(),
            and_list(self.requires),
            and_list(&missing)
        ))
    }
}

/// Whether the yes/no setting `name` is on.
fn is_on(settings: &Settings, name: &str) -> bool {
    settings
        .get_json(name)
        .and_then(|v| v.as_str().map(|s| s == "yes"))
        == Some(true)
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_found_by_its_key_and_keys_are_unique() {
        let keys = NotificationInfo::keys();
        for k in &keys {
            assert_eq!(&NotificationInfo::find(k).unwrap().key(), k);
        }
        let mut sorted = keys.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), keys.len());
        assert!(NotificationInfo::find("incomingMessageReceived:nope").is_none());
        assert!(NotificationInfo::find("nope").is_none());
    }

    #[test]
    fn every_skeleton_parses_into_the_generated_body_type_of_its_kind() {
        for k in NOTIFICATIONS {
            let n =
                Notification::from_json(k.skeleton).unwrap_or_else(|e| panic!("{}: {e}", k.key()));
            assert_eq!(n.type_webhook(), k.type_webhook);
        }
    }

    #[test]
    fn with_every_setting_on_nothing_is_suppressed_and_with_all_off_each_names_all_it_needs() {
        let all = |value: &str| {
            let mut v = Settings::default().to_json_value();
            for f in crate::FIELDS {
                if f.kind == crate::FieldKind::YesNo {
                    v[f.name] = serde_json::json!(value);
                }
            }
            Settings::from_json_value(&v).unwrap()
        };
        let (on, off) = (all("yes"), all("no"));
        for k in NOTIFICATIONS {
            assert_eq!(k.why_suppressed(&on), None, "{}", k.key());
            assert_eq!(k.missing(&off), k.requires, "{}", k.key());
        }
    }

    #[test]
    fn the_stricter_rule_is_the_union_of_the_sources() {
        for k in NOTIFICATIONS {
            for s in k.sources {
                for r in s.requires {
                    assert!(k.requires.contains(r), "{}: {r}", k.key());
                }
            }
            for r in k.requires {
                assert!(k.sources.iter().any(|s| s.requires.contains(r)));
            }
        }
    }
}

#[cfg(test)]
mod body_tests {
    use super::*;
    use serde_json::{json, Map, Value};

    fn ctx() -> BodyContext<'static> {
        BodyContext {
            id_instance: 1,
            wid: "1@c.us",
            timestamp: 1,
            id_message: "X",
        }
    }

    fn fields(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    /// Regression (review of issue 21): a field the skeleton lacks but the type declares
    /// (`duration`) or an integer past i64 made a body that did not parse into `Notification`.
    #[test]
    fn every_body_made_parses_into_its_type_or_the_fields_are_refused_by_name() {
        let call = NotificationInfo::find("incomingCall").unwrap();
        let err = call
            .body(
                &ctx(),
                &fields(json!({"duration": "abc", "timestamp": u64::MAX, "note": 1})),
            )
            .unwrap_err();
        assert!(err.contains("duration: does not fit"), "{err}");
        assert!(err.contains("timestamp: does not fit"), "{err}");
        assert!(!err.contains("note"), "{err}");
        let ok = call
            .body(&ctx(), &fields(json!({"duration": 12, "note": [1, 2]})))
            .unwrap();
        assert!(Notification::from_value(ok).is_ok());
    }

    /// Regression (review of issue 21): a field nested 124 levels deep was accepted, and the
    /// state file holding it could not be read back (JSON readers stop at 128 levels).
    #[test]
    fn a_field_nested_deeper_than_the_limit_is_refused() {
        let call = NotificationInfo::find("incomingCall").unwrap();
        let mut deep = json!(1);
        for _ in 0..=MAX_FIELD_DEPTH {
            deep = json!([deep]);
        }
        let err = call.body(&ctx(), &fields(json!({"x": deep}))).unwrap_err();
        assert!(err.contains("x: nested deeper than 32 levels"), "{err}");
        let mut ok = json!(1);
        for _ in 0..MAX_FIELD_DEPTH {
            ok = json!([ok]);
        }
        assert!(call.body(&ctx(), &fields(json!({"x": ok}))).is_ok());
    }
}
