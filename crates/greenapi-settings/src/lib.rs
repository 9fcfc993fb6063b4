//! Typed, validated access to the settings of a GREEN-API WhatsApp instance
//! (`setSettings` / `getSettings`).
//!
//! Everything about the settings — names, types, ranges, statuses, descriptions, cross-field
//! rules — comes from one spec file, `spec/settings.json`, turned into Rust at compile time.
//!
//! ```
//! use greenapi_settings::SettingsPatch;
//!
//! let patch = SettingsPatch::new()
//!     .delay_send_messages_milliseconds(100)
//!     .webhook_url("ftp://x");
//! let report = patch.validate();
//! // Every problem at once, each naming the field in its API spelling.
//! let fields: Vec<_> = report.errors.iter().map(|v| v.field.as_deref().unwrap()).collect();
//! assert_eq!(fields, ["webhookUrl", "delaySendMessagesMilliseconds"]);
//!
//! let ok = SettingsPatch::new().incoming_webhook(true).delay_send_messages_milliseconds(15_000);
//! assert!(ok.validate().is_ok());
//! assert_eq!(
//!     serde_json::to_string(&ok).unwrap(),
//!     r#"{"delaySendMessagesMilliseconds":15000,"incomingWebhook":"yes"}"#
//! );
//! ```

// docs.rs builds with `--cfg docsrs` on nightly: items behind a feature get a badge naming it
// (`doc_cfg` is nightly-only; stable builds never see the attribute).
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate self as greenapi_settings;

// The crate README's Rust examples compile and run as doctests (the repository's README is
// doctested by `tests/e2e`).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
mod checks;
#[cfg(feature = "client")]
mod client;
mod meta;
pub mod notifications;
#[cfg(feature = "client")]
pub mod reconcile;
pub mod redact;
mod settings;
mod spec_check;
mod suggest;
mod validation;
mod wire;

#[cfg(feature = "blocking")]
#[cfg_attr(docsrs, doc(cfg(feature = "blocking")))]
pub use client::blocking;
#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub use client::{
    ApiToken, Applied, ApplyOptions, Client, ClientBuilder, Error, Plan, RetryPolicy, TlsCause,
    Verification, VerifiedApply, ENV_API_URL, ENV_CA_CERT, ENV_ID_INSTANCE, ENV_TOKEN,
    MAX_CA_FILE_BYTES, MAX_RESPONSE_BYTES, MAX_SERVER_TEXT,
};
pub use meta::{FieldInfo, FieldKind, RuleInfo, RuleKind, Status};
pub use notifications::{
    BodyContext, DeliveryInfo, Notification, NotificationInfo, NotificationStatus, SourceRule,
    DELIVERY, NOTIFICATIONS,
};
pub use settings::{
    facts, ApiMethod, SetSettingsResponse, Settings, SettingsPatch, FIELDS,
    INSTANCE_SEGMENT_PREFIX, READ_ONLY_FIELDS, RULES,
};
pub use spec_check::{compare_with_spec, SpecComparison};
pub use validation::{Change, CheckedPatch, Report, Severity, ValidationError, Violation};
