//! Static descriptions of the settings and rules, generated from the spec (see [`crate::FIELDS`],
//! [`crate::RULES`]). Front ends (CLI flags, Python keyword checks, docs) read these tables.

/// The value type of a setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FieldKind {
    /// `"yes"` / `"no"` on the wire, `bool` in this crate.
    YesNo,
    /// A JSON integer (`i64` here), possibly bounded.
    Integer,
    /// Free text.
    String,
    /// An absolute URL with an allowed scheme, or empty when allowed.
    Url,
    /// A credential: no control characters, never shown in messages.
    Token,
}

/// Whether a setting does anything today.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Status {
    /// Works as described.
    Active,
    /// Works, but is new and may change (documented as beta, or found only in the SDKs).
    Beta,
    /// Accepted by the API but not used (the Rust field is `#[deprecated]`).
    Unused,
    /// Deprecated: the server accepts and ignores it (the Rust field is `#[deprecated]`).
    Deprecated,
    /// Documented as temporarily not working.
    TemporarilyBroken,
}

impl Status {
    /// The spec's spelling: `active`, `beta`, `unused`, `deprecated`, `temporarilyBroken`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Beta => "beta",
            Status::Unused => "unused",
            Status::Deprecated => "deprecated",
            Status::TemporarilyBroken => "temporarilyBroken",
        }
    }

    /// Whether setting it has no effect (`unused` or `deprecated`): sending it warns, and
    /// front ends hide it from completion and help.
    pub fn is_ignored(self) -> bool {
        matches!(self, Status::Unused | Status::Deprecated)
    }
}

/// One field of the settings, as described by the spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldInfo {
    /// API spelling, e.g. `delaySendMessagesMilliseconds`.
    pub name: &'static str,
    /// Rust / Python spelling, e.g. `delay_send_messages_milliseconds`.
    pub snake: &'static str,
    /// Value type.
    pub kind: FieldKind,
    /// Whether it does anything today.
    pub status: Status,
    /// Only returned by `getSettings`; cannot be set.
    pub read_only: bool,
    /// Inclusive lower bound (integers).
    pub min: Option<i64>,
    /// Inclusive upper bound (integers).
    pub max: Option<i64>,
    /// Unit of an integer, e.g. `ms`.
    pub unit: Option<&'static str>,
    /// Allowed URL schemes (URLs).
    pub schemes: &'static [&'static str],
    /// Whether the empty string is allowed (URLs).
    pub allow_empty: bool,
    /// Whether the value is a secret that is never shown.
    pub secret: bool,
    /// The most characters a text value may have (text settings).
    pub max_length: Option<usize>,
    /// The largest value the API recommends (integers); above it validation warns.
    pub recommended_max: Option<i64>,
    /// Whether every getSettings answer carries it (settings that newer servers added may be
    /// missing from an older server's answer).
    pub always_returned: bool,
    /// What it does, in English.
    pub description: &'static str,
    /// What it does, in Russian (the source document's language).
    pub description_ru: &'static str,
    /// Facts worth knowing (source differences, quirks).
    pub notes: &'static [&'static str],
}

impl FieldInfo {
    /// Finds a writable setting by API or snake_case name.
    pub fn find(name: &str) -> Option<&'static FieldInfo> {
        crate::settings::FIELDS
            .iter()
            .find(|f| f.name == name || f.snake == name)
    }

    /// Up to three writable settings whose name (API or snake_case spelling, whichever is
    /// closer) is near `name`, closest first: for "did you mean" hints.
    ///
    /// ```
    /// assert_eq!(greenapi_settings::FieldInfo::suggest("webhookURL"), ["webhookUrl"]);
    /// assert_eq!(greenapi_settings::FieldInfo::suggest("incoming_webhok")[0], "incoming_webhook");
    /// ```
    pub fn suggest(name: &str) -> Vec<&'static str> {
        crate::suggest::suggest(name, crate::settings::FIELDS)
    }
}

/// How a cross-field rule relates its fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RuleKind {
    /// `field` is ignored while every one of `others` is yes.
    IgnoredWhen,
    /// `field` = yes has its effect only when every one of `others` is yes.
    EffectiveOnlyWithAll,
    /// `field` = yes has its effect only when at least one of `others` is yes.
    EffectiveOnlyWithAny,
    /// Depends on facts outside the settings; documented, never evaluated.
    Advice,
}

/// A cross-field rule from the API's "Applying settings" section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleInfo {
    /// Stable identifier; the `rule` of the warnings it produces.
    pub id: &'static str,
    /// How it relates its fields.
    pub kind: RuleKind,
    /// The setting it is about.
    pub field: &'static str,
    /// The settings it reads.
    pub others: &'static [&'static str],
    /// What it says, in English.
    pub description: &'static str,
    /// What it says, in Russian.
    pub description_ru: &'static str,
}
