//! TEMPORARY: a private copy of the signatures of `greenapi_settings::notifications` (issue
//! 21, being written on main) with a hand table of a few kinds, so that `doctor` compiles
//! before the core module lands. Deleted at the merge; nothing else names this file (the
//! import in `doctor/mod.rs` switches to the core crate).
#![allow(dead_code)]

use greenapi_settings::Settings;

/// Whether a notification kind is sent today.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotificationStatus {
    /// Sent.
    Active,
    /// Documented as temporarily not working.
    TemporarilyBroken,
    /// Deprecated.
    Deprecated,
}

impl NotificationStatus {
    /// The spec's spelling.
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
    /// "D" | "P" | "SDK".
    pub source: &'static str,
    /// Settings that must be "yes".
    pub requires: &'static [&'static str],
    /// Anchor in spec/sources.
    pub citation: &'static str,
}

/// One notification kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotificationInfo {
    /// `typeWebhook`.
    pub type_webhook: &'static str,
    /// The variant, if any.
    pub variant: Option<&'static str>,
    /// The body field of the variant.
    pub variant_field: Option<&'static str>,
    /// Settings that must all be "yes".
    pub requires: &'static [&'static str],
    /// Sent today?
    pub status: NotificationStatus,
    /// One sentence.
    pub description: &'static str,
    /// Per source.
    pub sources: &'static [SourceRule],
    /// Notes.
    pub notes: &'static [&'static str],
    /// Example body.
    pub skeleton: &'static str,
}

const fn kind(
    type_webhook: &'static str,
    variant: Option<&'static str>,
    requires: &'static [&'static str],
    status: NotificationStatus,
) -> NotificationInfo {
    NotificationInfo {
        type_webhook,
        variant,
        variant_field: None,
        requires,
        status,
        description: "",
        sources: &[],
        notes: &[],
        skeleton: "{}",
    }
}

/// A few kinds, by hand.
pub const NOTIFICATIONS: &[NotificationInfo] = &[
    kind(
        "incomingMessageReceived",
        None,
        &["incomingWebhook"],
        NotificationStatus::Active,
    ),
    kind(
        "incomingMessageReceived",
        Some("pollMessage"),
        &["incomingWebhook", "pollMessageWebhook"],
        NotificationStatus::Active,
    ),
    kind(
        "outgoingAPIMessageReceived",
        None,
        &["outgoingAPIMessageWebhook"],
        NotificationStatus::Active,
    ),
    kind(
        "outgoingMessageStatus",
        Some("api"),
        &["outgoingWebhook", "outgoingAPIMessageWebhook"],
        NotificationStatus::Active,
    ),
    kind(
        "stateInstanceChanged",
        None,
        &["stateWebhook"],
        NotificationStatus::Active,
    ),
    kind(
        "incomingCall",
        None,
        &["incomingWebhook", "incomingCallWebhook"],
        NotificationStatus::Active,
    ),
    kind(
        "deviceInfo",
        None,
        &["deviceWebhook"],
        NotificationStatus::TemporarilyBroken,
    ),
];

impl NotificationInfo {
    /// "type" or "type:variant".
    pub fn key(&self) -> String {
        match self.variant {
            Some(v) => format!("{}:{v}", self.type_webhook),
            None => self.type_webhook.to_string(),
        }
    }

    /// The required settings not "yes".
    pub fn missing(&self, settings: &Settings) -> Vec<&'static str> {
        self.requires
            .iter()
            .copied()
            .filter(|s| {
                settings
                    .get_json(s)
                    .and_then(|v| v.as_str().map(|v| v == "yes"))
                    != Some(true)
            })
            .collect()
    }

    /// "X needs A and B: A is off".
    pub fn why_suppressed(&self, settings: &Settings) -> Option<String> {
        let missing = self.missing(settings);
        if missing.is_empty() {
            return None;
        }
        Some(format!(
            "{} needs {}: {} {} off",
            self.key(),
            self.requires.join(" and "),
            missing.join(" and "),
            if missing.len() == 1 { "is" } else { "are" }
        ))
    }
}
