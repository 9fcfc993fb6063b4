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

extern crate self as greenapi_settings;

// The README's Rust examples compile and run as doctests (`README.md` in the crate is a link to
// the repository's, and the packaged crate carries a copy).
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
#[cfg(feature = "client")]
pub mod reconcile;
pub mod redact;
mod settings;
mod spec_check;
mod suggest;
mod validation;
mod wire;

#[cfg(feature = "blocking")]
pub use client::blocking;
#[cfg(feature = "client")]
pub use client::{
    ApiToken, Applied, ApplyOptions, Client, ClientBuilder, Error, Plan, RetryPolicy, Verification,
    VerifiedApply, ENV_API_URL, ENV_ID_INSTANCE, ENV_TOKEN, MAX_RESPONSE_BYTES, MAX_SERVER_TEXT,
};
pub use meta::{FieldInfo, FieldKind, RuleInfo, RuleKind, Status};
pub use settings::{
    facts, ApiMethod, SetSettingsResponse, Settings, SettingsPatch, FIELDS,
    INSTANCE_SEGMENT_PREFIX, READ_ONLY_FIELDS, RULES,
};
pub use spec_check::{compare_with_spec, SpecComparison};
pub use validation::{Change, CheckedPatch, Report, Severity, ValidationError, Violation};
