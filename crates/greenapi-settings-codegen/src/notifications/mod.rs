//! The notifications the settings switch on (issue 21): the checked model of the spec's
//! `notifications` section and its renderers.
//!
//! - this file: the model (every value has passed `load::notifications`' checks);
//! - `rust`: the table and body types the core crate's `notifications_api!` expands to;
//! - `markdown`: `docs/notifications.md`, what each notification needs;
//! - `python`: the `TypedDict`s of the bodies (`greenapi_settings/notifications.py`).

pub mod markdown;
pub mod python;
pub mod rust;

use serde_json::Value;

/// The spec's `notifications` section.
#[derive(Clone, Debug, PartialEq)]
pub struct Notifications {
    /// Where the citations point (`spec/sources/api-notifications.md`).
    pub sources: String,
    /// How the API delivers them.
    pub delivery: Delivery,
    /// `receiveNotification` and `deleteNotification`, from `$.methods`.
    pub receive: ReceiveMethod,
    /// `deleteNotification`, from `$.methods`.
    pub delete: DeleteMethod,
    /// Named objects the bodies contain, in spec order.
    pub objects: Vec<BodyObject>,
    /// One body type per `typeWebhook`, in spec order.
    pub types: Vec<BodyObject>,
    /// Documented values of text fields (`Type.field` → values).
    pub values: Vec<(String, Vec<String>)>,
    /// Every kind, in spec order.
    pub kinds: Vec<Kind>,
}

/// The delivery facts.
#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    /// How long the API waits for the receiver's answer (180).
    pub response_timeout_seconds: u64,
    /// The pause before the same notification is sent again (60).
    pub retry_pause_seconds: u64,
    /// The one status that counts as received (200).
    pub success_status: u16,
    /// The scheme of the `Authorization` header that carries `webhookUrlToken` (`Bearer`).
    pub authorization_scheme: String,
    /// "Delivery is guaranteed within" this many hours.
    pub guaranteed_within_hours: u64,
    /// The anchor of its citation.
    pub citation: String,
    /// What it says.
    pub description: String,
}

/// `receiveNotification`: the HTTP API way of receiving.
#[derive(Clone, Debug, PartialEq)]
pub struct ReceiveMethod {
    /// `GET`.
    pub http_method: String,
    /// Path template with `{apiUrl}`, `{idInstance}`, `{apiTokenInstance}`.
    pub path: String,
    /// `receiveTimeout` bounds, seconds, inclusive.
    pub timeout_range: (u64, u64),
    /// `receiveTimeout` when absent.
    pub timeout_default: u64,
    /// What it does.
    pub description: String,
}

/// `deleteNotification/{receiptId}`.
#[derive(Clone, Debug, PartialEq)]
pub struct DeleteMethod {
    /// `DELETE`.
    pub http_method: String,
    /// Path template with `{apiUrl}`, `{idInstance}`, `{apiTokenInstance}`, `{receiptId}`.
    pub path: String,
    /// What it does.
    pub description: String,
}

/// The type of one body field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldTy {
    /// A JSON string.
    String,
    /// A JSON integer.
    Integer,
    /// A JSON boolean.
    Boolean,
    /// One of the named objects.
    Object(String),
    /// A JSON array of one type.
    Array(Box<FieldTy>),
}

impl FieldTy {
    /// The spec spelling (`string`, `PollOption[]`, ...).
    pub fn spec_name(&self) -> String {
        match self {
            FieldTy::String => "string".into(),
            FieldTy::Integer => "integer".into(),
            FieldTy::Boolean => "boolean".into(),
            FieldTy::Object(n) => n.clone(),
            FieldTy::Array(t) => format!("{}[]", t.spec_name()),
        }
    }
}

/// One field of a body or object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BodyField {
    /// API spelling.
    pub name: String,
    /// Its type.
    pub ty: FieldTy,
    /// Whether it may be absent.
    pub optional: bool,
}

/// A named object, or the body of one `typeWebhook` (then `name` is the `typeWebhook`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BodyObject {
    /// Its name.
    pub name: String,
    /// Its fields, in spec order.
    pub fields: Vec<BodyField>,
}

/// Whether a kind is sent today.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KindStatus {
    /// Sent as documented.
    Active,
    /// Documented as temporarily not working.
    TemporarilyBroken,
    /// Deprecated by the API.
    Deprecated,
}

impl KindStatus {
    /// The spec spelling.
    pub fn spec_name(self) -> &'static str {
        match self {
            KindStatus::Active => "active",
            KindStatus::TemporarilyBroken => "temporarilyBroken",
            KindStatus::Deprecated => "deprecated",
        }
    }

    /// Parses the spec spelling.
    pub fn from_spec_name(s: &str) -> Option<Self> {
        Some(match s {
            "active" => KindStatus::Active,
            "temporarilyBroken" => KindStatus::TemporarilyBroken,
            "deprecated" => KindStatus::Deprecated,
            _ => return None,
        })
    }

    /// All spellings, for messages.
    pub const ALL: &'static [&'static str] = &["active", "temporarilyBroken", "deprecated"];
}

/// What one source says a kind needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceRule {
    /// `D` (the docs pages), `P` (the Postman collection) or `SDK` (the official libraries).
    pub source: String,
    /// The yes/no settings that must be on, API spelling.
    pub requires: Vec<String>,
    /// Its anchor in the sources file.
    pub citation: String,
}

/// The sources a rule may cite.
pub const SOURCES: &[&str] = &["D", "P", "SDK"];

/// A variant of a `typeWebhook` with a rule of its own, told apart by one body field.
#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    /// Its name (`editedMessage`, `api`).
    pub name: String,
    /// The body field that holds it, dotted (`messageData.typeMessage`, `sendByApi`).
    pub field: String,
    /// The field's value in this variant.
    pub value: Value,
}

/// One notification kind.
#[derive(Clone, Debug, PartialEq)]
pub struct Kind {
    /// Its `typeWebhook`.
    pub type_webhook: String,
    /// Its variant, if it is one.
    pub variant: Option<Variant>,
    /// Whether it is sent today.
    pub status: KindStatus,
    /// What it is, in one sentence.
    pub description: String,
    /// What each source says it needs.
    pub sources: Vec<SourceRule>,
    /// Facts and disagreements.
    pub notes: Vec<String>,
    /// A well-formed example body.
    pub body: Value,
}

impl Kind {
    /// `type` or `type:variant`.
    pub fn key(&self) -> String {
        match &self.variant {
            Some(v) => format!("{}:{}", self.type_webhook, v.name),
            None => self.type_webhook.clone(),
        }
    }

    /// The settings the sandbox requires: every setting any source names (the stricter rule),
    /// in the order they first appear.
    pub fn requires(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for s in &self.sources {
            for r in &s.requires {
                if !out.contains(r) {
                    out.push(r.clone());
                }
            }
        }
        out
    }

    /// Whether the sources disagree on what it needs.
    pub fn sources_disagree(&self) -> bool {
        let mut sets = self.sources.iter().map(|s| {
            let mut r = s.requires.clone();
            r.sort();
            r
        });
        let first = sets.next();
        sets.any(|s| Some(&s) != first.as_ref())
    }
}

impl Notifications {
    /// A named object or a body type.
    pub fn object(&self, name: &str) -> Option<&BodyObject> {
        self.objects.iter().find(|o| o.name == name)
    }

    /// The body type of a `typeWebhook`.
    pub fn body_type(&self, type_webhook: &str) -> Option<&BodyObject> {
        self.types.iter().find(|o| o.name == type_webhook)
    }

    /// The documented values of `owner.field`, if any.
    pub fn values_of(&self, owner: &str, field: &str) -> Option<&[String]> {
        let key = format!("{owner}.{field}");
        self.values
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_slice())
    }
}

/// `incomingMessageReceived` → `IncomingMessageReceived`.
pub fn pascal_case(name: &str) -> String {
    let mut c = name.chars();
    match c.next() {
        Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
        None => String::new(),
    }
}
