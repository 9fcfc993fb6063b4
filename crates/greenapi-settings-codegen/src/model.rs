//! The checked model of a spec file. Every value here has passed the loader's checks, so the
//! renderers never need to handle a malformed spec.

use serde_json::Value;

/// Text in the two languages the spec carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text {
    /// English.
    pub en: String,
    /// Russian (the language of the source document).
    pub ru: String,
}

/// The type of a setting, as the spec names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    /// `"yes"` / `"no"` on the wire, `bool` in the API.
    YesNo,
    /// A JSON integer, optionally bounded by `range`.
    Integer,
    /// Free text.
    String,
    /// An absolute URL with one of the allowed `schemes` (or empty when `allowEmpty`).
    Url,
    /// A credential sent on in an HTTP header: no control characters, redacted in messages.
    Token,
}

impl FieldType {
    /// The spelling used in the spec file.
    pub fn spec_name(self) -> &'static str {
        match self {
            FieldType::YesNo => "yesNo",
            FieldType::Integer => "integer",
            FieldType::String => "string",
            FieldType::Url => "url",
            FieldType::Token => "token",
        }
    }

    /// Parses the spec spelling.
    pub fn from_spec_name(s: &str) -> Option<Self> {
        Some(match s {
            "yesNo" => FieldType::YesNo,
            "integer" => FieldType::Integer,
            "string" => FieldType::String,
            "url" => FieldType::Url,
            "token" => FieldType::Token,
            _ => return None,
        })
    }

    /// All spellings, for error messages.
    pub const ALL: &'static [&'static str] = &["yesNo", "integer", "string", "url", "token"];

    /// Whether values are text (`string`, `url`, `token`): these have a `maxLength`.
    pub fn is_text(self) -> bool {
        matches!(self, FieldType::String | FieldType::Url | FieldType::Token)
    }
}

/// Whether a setting does anything today.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Works as described.
    Active,
    /// Works, but is new and may change (documented as beta, or found only in the SDKs).
    Beta,
    /// Accepted by the API but not used (the seed's wording).
    Unused,
    /// Deprecated: the server accepts and ignores it.
    Deprecated,
    /// Documented as temporarily not working.
    TemporarilyBroken,
}

impl Status {
    /// The spelling used in the spec file.
    pub fn spec_name(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Beta => "beta",
            Status::Unused => "unused",
            Status::Deprecated => "deprecated",
            Status::TemporarilyBroken => "temporarilyBroken",
        }
    }

    /// Parses the spec spelling.
    pub fn from_spec_name(s: &str) -> Option<Self> {
        Some(match s {
            "active" => Status::Active,
            "beta" => Status::Beta,
            "unused" => Status::Unused,
            "deprecated" => Status::Deprecated,
            "temporarilyBroken" => Status::TemporarilyBroken,
            _ => return None,
        })
    }

    /// Whether setting it has no effect (`unused`, `deprecated`): the Rust field is
    /// `#[deprecated]` and sending it warns.
    pub fn is_ignored(self) -> bool {
        matches!(self, Status::Unused | Status::Deprecated)
    }

    /// All spellings, for error messages.
    pub const ALL: &'static [&'static str] = &[
        "active",
        "beta",
        "unused",
        "deprecated",
        "temporarilyBroken",
    ];
}

/// One writable setting of `setSettings`.
#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    /// API spelling, e.g. `delaySendMessagesMilliseconds`.
    pub name: String,
    /// Rust / Python spelling, e.g. `delay_send_messages_milliseconds`.
    pub snake: String,
    /// Value type.
    pub ty: FieldType,
    /// Whether it does anything today.
    pub status: Status,
    /// Inclusive bounds for integers.
    pub range: Option<(i64, i64)>,
    /// The largest value the API recommends (integers): above it validation warns.
    pub recommended_max: Option<i64>,
    /// Whether every getSettings answer carries it (`false` for settings newer servers added:
    /// an older server may omit them).
    pub always_returned: bool,
    /// Unit of an integer, e.g. `ms`.
    pub unit: Option<String>,
    /// Allowed URL schemes (for `url`).
    pub schemes: Vec<String>,
    /// Whether the empty string is allowed (for `url`).
    pub allow_empty: bool,
    /// Whether the value is a secret that must never be shown.
    pub secret: bool,
    /// The most characters a text value (`string`, `url`, `token`) may have.
    pub max_length: Option<u64>,
    /// What the setting does.
    pub description: Text,
    /// Facts worth knowing: source differences, quirks.
    pub notes: Vec<String>,
}

/// A field that only `getSettings` returns.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadOnlyField {
    /// API spelling.
    pub name: String,
    /// Rust / Python spelling.
    pub snake: String,
    /// Value type (`string`, `integer` or `yesNo`).
    pub ty: FieldType,
    /// What it is.
    pub description: Text,
}

/// How a cross-field rule relates its fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuleKind {
    /// `field` is ignored while every setting in the list is `yes`.
    IgnoredWhen(Vec<String>),
    /// `field` = `yes` has its effect only when every setting in the list is `yes`.
    EffectiveOnlyWithAll(Vec<String>),
    /// `field` = `yes` has its effect only when at least one setting in the list is `yes`.
    EffectiveOnlyWithAny(Vec<String>),
    /// Advice that depends on facts outside the settings (e.g. the phone being off):
    /// documented, never evaluated.
    Advice,
}

impl RuleKind {
    /// The spelling of the kind in the spec file.
    pub fn spec_name(&self) -> &'static str {
        match self {
            RuleKind::IgnoredWhen(_) => "ignoredWhen",
            RuleKind::EffectiveOnlyWithAll(_) | RuleKind::EffectiveOnlyWithAny(_) => {
                "effectiveOnlyWith"
            }
            RuleKind::Advice => "advice",
        }
    }

    /// The other settings the rule reads.
    pub fn others(&self) -> &[String] {
        match self {
            RuleKind::IgnoredWhen(v)
            | RuleKind::EffectiveOnlyWithAll(v)
            | RuleKind::EffectiveOnlyWithAny(v) => v,
            RuleKind::Advice => &[],
        }
    }
}

/// A cross-field rule from the seed's "Applying settings" section.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// Stable identifier, used as the rule name in warnings.
    pub id: String,
    /// The setting the rule is about.
    pub field: String,
    /// How it relates to the others.
    pub kind: RuleKind,
    /// What the rule says.
    pub description: Text,
}

/// Facts about one HTTP method of the API.
#[derive(Clone, Debug, PartialEq)]
pub struct Method {
    /// API method name, e.g. `setSettings`.
    pub name: String,
    /// `GET` or `POST`.
    pub http_method: String,
    /// Path template with `{apiUrl}`, `{idInstance}` and `{apiTokenInstance}`.
    pub path: String,
    /// Whether a call restarts the instance.
    pub restarts_instance: bool,
    /// How long the API may take to apply the call, in seconds.
    pub applies_within_seconds: Option<u64>,
    /// How many parameters a call needs at least.
    pub min_parameters: Option<u64>,
    /// The documented example body, if any.
    pub example_body: Option<Value>,
    /// The documented example response, if any.
    pub example_response: Option<Value>,
    /// What the method does.
    pub description: Text,
}

/// The API's rate limit for the settings methods.
#[derive(Clone, Debug, PartialEq)]
pub struct RateLimit {
    /// Requests allowed per second.
    pub requests_per_second: u64,
    /// What the limit counts per (e.g. `instance`).
    pub scope: String,
    /// HTTP status returned when over the limit.
    pub http_status: u16,
}

/// A whole, checked spec.
#[derive(Clone, Debug, PartialEq)]
pub struct Spec {
    /// `setSettings`.
    pub set_settings: Method,
    /// `getSettings`.
    pub get_settings: Method,
    /// The rate limit of both methods.
    pub rate_limit: RateLimit,
    /// Writable settings, in spec order.
    pub settings: Vec<Setting>,
    /// getSettings-only fields, in spec order.
    pub read_only: Vec<ReadOnlyField>,
    /// Cross-field rules, in spec order.
    pub rules: Vec<Rule>,
    /// The notifications the settings switch on (spec v1 has none).
    pub notifications: Option<crate::notifications::Notifications>,
}

impl Spec {
    /// Finds a writable setting by its API name.
    pub fn setting(&self, name: &str) -> Option<&Setting> {
        self.settings.iter().find(|s| s.name == name)
    }
}

/// Turns an API name into its Rust/Python spelling: `outgoingAPIMessageWebhook` becomes
/// `outgoing_api_message_webhook` (a run of capitals is one word).
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev_lower =
                i > 0 && (chars[i - 1].is_ascii_lowercase() || chars[i - 1].is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            let prev_upper = i > 0 && chars[i - 1].is_ascii_uppercase();
            if i > 0 && (prev_lower || (prev_upper && next_lower)) {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The text before `{idInstance}` in the first path segment of a method's path template
/// (`waInstance`), if the template has the shape
/// `{apiUrl}/<letters>{idInstance}/<method>/{apiTokenInstance}`.
pub fn instance_prefix<'a>(template: &'a str, method: &str) -> Option<&'a str> {
    let rest = template.strip_prefix("{apiUrl}/")?;
    let tail = format!("{{idInstance}}/{method}/{{apiTokenInstance}}");
    let prefix = rest.strip_suffix(tail.as_str())?;
    (!prefix.is_empty() && prefix.chars().all(|c| c.is_ascii_alphabetic())).then_some(prefix)
}

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn snake_case_treats_a_run_of_capitals_as_one_word() {
        assert_eq!(
            snake_case("outgoingAPIMessageWebhook"),
            "outgoing_api_message_webhook"
        );
        assert_eq!(snake_case("webhookUrlToken"), "webhook_url_token");
        assert_eq!(snake_case("wid"), "wid");
        assert_eq!(
            snake_case("delaySendMessagesMilliseconds"),
            "delay_send_messages_milliseconds"
        );
        assert_eq!(
            snake_case("markIncomingMessagesReadedOnReply"),
            "mark_incoming_messages_readed_on_reply"
        );
    }
}
