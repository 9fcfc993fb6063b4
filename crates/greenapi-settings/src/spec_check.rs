//! Comparing a server's getSettings answer with the spec: how a maintainer learns that the API
//! changed (a field the spec lacks, or a setting the server stopped returning).

use serde_json::{Map, Value};

use crate::settings::{FIELDS, READ_ONLY_FIELDS};

/// How a getSettings answer differs from the spec. See [`compare_with_spec`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpecComparison {
    /// Fields the server returned that the spec does not know, in the server's order.
    pub unknown: Vec<String>,
    /// Settings the spec says every server returns that this answer lacks.
    pub missing: Vec<&'static str>,
    /// Settings only newer servers return (`alwaysReturned: false` in the spec) that this
    /// answer lacks: worth knowing, not a difference by itself.
    pub missing_newer: Vec<&'static str>,
}

impl SpecComparison {
    /// Whether the answer has fields the spec lacks or lacks settings it must have.
    pub fn differs(&self) -> bool {
        !self.unknown.is_empty() || !self.missing.is_empty()
    }
}

/// Compares the fields of a getSettings answer with the spec's settings and read-only fields.
///
/// ```
/// let body = serde_json::json!({"webhookUrl": "", "brandNewSetting": "yes"});
/// let c = greenapi_settings::compare_with_spec(body.as_object().unwrap());
/// assert_eq!(c.unknown, ["brandNewSetting"]);
/// assert!(c.missing.contains(&"incomingWebhook"));
/// assert!(c.missing_newer.contains(&"autoTyping"));
/// assert!(c.differs());
/// ```
pub fn compare_with_spec(body: &Map<String, Value>) -> SpecComparison {
    let known = |k: &str| FIELDS.iter().chain(READ_ONLY_FIELDS).any(|f| f.name == k);
    let mut out = SpecComparison {
        unknown: body.keys().filter(|k| !known(k)).cloned().collect(),
        ..SpecComparison::default()
    };
    for f in FIELDS.iter().filter(|f| !body.contains_key(f.name)) {
        if f.always_returned {
            out.missing.push(f.name);
        } else {
            out.missing_newer.push(f.name);
        }
    }
    out
}
