//! What validation reports: [`Violation`]s gathered in a [`Report`], and the [`ValidationError`]
//! that carries the errors of a rejected patch.

use std::fmt;

use serde_json::Value;

/// How serious a [`Violation`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Severity {
    /// The patch must not be sent.
    Error,
    /// The patch may be sent, but probably does not do what was meant.
    Warning,
}

/// One problem with a settings change: which field (API spelling), which value, which rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Violation {
    /// Error or warning.
    pub severity: Severity,
    /// API name of the field, or `None` for a problem of the whole patch.
    pub field: Option<String>,
    /// The offending value (secrets are replaced by `"<redacted>"`).
    pub value: Option<Value>,
    /// Stable rule name, e.g. `range`, `url`, `atLeastOneParameter`, or a spec rule id.
    pub rule: &'static str,
    /// Human-readable explanation, naming the value and the constraint.
    pub message: String,
}

impl Violation {
    /// An error about `field`.
    pub fn error(
        field: Option<&str>,
        value: Option<Value>,
        rule: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self::new(Severity::Error, field, value, rule, message)
    }

    /// A warning about `field`.
    pub fn warning(
        field: Option<&str>,
        value: Option<Value>,
        rule: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self::new(Severity::Warning, field, value, rule, message)
    }

    fn new(
        severity: Severity,
        field: Option<&str>,
        value: Option<Value>,
        rule: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Violation {
            severity,
            field: field.map(str::to_string),
            value,
            rule,
            message: message.into(),
        }
    }

    /// Whether this is an error (as opposed to a warning).
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{field}: {} [{}]", self.message, self.rule),
            None => write!(f, "{} [{}]", self.message, self.rule),
        }
    }
}

/// Everything validation found: errors block sending, warnings do not.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    /// Problems that make the patch invalid.
    pub errors: Vec<Violation>,
    /// Problems worth telling the user about.
    pub warnings: Vec<Violation>,
}

impl Report {
    /// Adds a violation to the list its severity belongs to.
    pub fn push(&mut self, v: Violation) {
        match v.severity {
            Severity::Error => self.errors.push(v),
            Severity::Warning => self.warnings.push(v),
        }
    }

    /// Whether there are no errors (warnings allowed).
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// Errors first, then warnings.
    pub fn iter(&self) -> impl Iterator<Item = &Violation> {
        self.errors.iter().chain(self.warnings.iter())
    }

    /// `Ok(warnings)` when there are no errors, else the errors as a [`ValidationError`].
    pub fn into_result(self) -> Result<Vec<Violation>, ValidationError> {
        if self.errors.is_empty() {
            Ok(self.warnings)
        } else {
            Err(ValidationError {
                violations: self.errors,
            })
        }
    }
}

/// A settings change was rejected before anything was sent; carries every error at once.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{}", summary(.violations))]
pub struct ValidationError {
    /// Every error, in spec order.
    pub violations: Vec<Violation>,
}

fn summary(v: &[Violation]) -> String {
    let list: Vec<String> = v.iter().map(ToString::to_string).collect();
    let noun = if v.len() == 1 { "problem" } else { "problems" };
    format!("invalid settings ({} {noun}): {}", v.len(), list.join("; "))
}

/// One field whose desired value differs from the current one (what `plan` shows).
/// `Debug` and `Display` hide the values of secret fields.
#[derive(Clone, PartialEq)]
pub struct Change {
    /// API name.
    pub field: &'static str,
    /// Value now, in wire form.
    pub current: Value,
    /// Value wanted, in wire form.
    pub desired: Value,
    /// Whether the values are secrets: `Display` then hides them.
    pub secret: bool,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.secret {
            write!(
                f,
                "{}: {REDACTED} -> {REDACTED}",
                self.field,
                REDACTED = crate::redact::REDACTED
            )
        } else {
            write!(f, "{}: {} -> {}", self.field, self.current, self.desired)
        }
    }
}

impl fmt::Debug for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Change");
        d.field("field", &self.field);
        if self.secret {
            d.field("current", &crate::redact::Redacted)
                .field("desired", &crate::redact::Redacted);
        } else {
            d.field("current", &self.current)
                .field("desired", &self.desired);
        }
        d.field("secret", &self.secret).finish()
    }
}

/// A patch that passed validation, with the warnings validation found: made only by
/// [`SettingsPatch::check`](crate::SettingsPatch::check), so that a front end validates once, reports the warnings on its
/// own channel (Python `warnings`, CLI output) and sends with
/// [`Client::send_checked`](crate::Client::send_checked), which does not validate or log again.
///
/// ```
/// use greenapi_settings::SettingsPatch;
/// let checked = SettingsPatch::new().device_webhook(true).check().unwrap();
/// assert_eq!(checked.warnings()[0].rule, "temporarilyBroken");
/// assert!(SettingsPatch::new().delay_send_messages_milliseconds(1).check().is_err());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct CheckedPatch {
    patch: crate::settings::SettingsPatch,
    warnings: Vec<Violation>,
}

impl CheckedPatch {
    /// The validated patch.
    pub fn patch(&self) -> &crate::settings::SettingsPatch {
        &self.patch
    }

    /// The warnings validation found (unused or broken fields, cross-field rules).
    pub fn warnings(&self) -> &[Violation] {
        &self.warnings
    }
}

impl crate::settings::SettingsPatch {
    /// Validates the patch once: every error as a [`ValidationError`], or a [`CheckedPatch`]
    /// that carries the warnings and can be sent without validating again.
    pub fn check(&self) -> Result<CheckedPatch, ValidationError> {
        let warnings = self.validate().into_result()?;
        Ok(CheckedPatch {
            patch: self.clone(),
            warnings,
        })
    }
}
