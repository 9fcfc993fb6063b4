//! The wording of a setting's constraint and status, in one place for every renderer: rustdoc
//! and Markdown share [`docs`] and [`status_docs`]; the Python stub's docstrings use
//! [`python`] and [`status_python`] (Python type names, Python warning classes).

use crate::model::{FieldType, Setting, Status};

/// The one-line constraint shown in docs, e.g. `500..=86400000 ms` or `"yes" / "no"`.
pub fn docs(s: &Setting) -> String {
    let mut base = docs_base(s);
    if let Some(r) = s.recommended_max {
        let unit = s
            .unit
            .as_deref()
            .map(|u| format!(" {u}"))
            .unwrap_or_default();
        base.push_str(&format!(
            " (recommended at most {r}{unit}; above it is a warning)"
        ));
    }
    match s.max_length {
        Some(n) => format!("{base}; at most {n} characters"),
        None => base,
    }
}

fn docs_base(s: &Setting) -> String {
    match s.ty {
        FieldType::YesNo => "`\"yes\"` / `\"no\"` (`bool` in Rust and Python)".into(),
        FieldType::Integer => match (s.range, &s.unit) {
            (Some((lo, hi)), Some(u)) => format!("integer in `{lo}..={hi}` ({u})"),
            (Some((lo, hi)), None) => format!("integer in `{lo}..={hi}`"),
            (None, _) => "integer".into(),
        },
        FieldType::String => "string".into(),
        FieldType::Url => {
            let schemes = s.schemes.join("/");
            if s.allow_empty {
                format!("absolute {schemes} URL, or empty to turn it off")
            } else {
                format!("absolute {schemes} URL")
            }
        }
        FieldType::Token => "string without control characters (secret: never shown)".into(),
    }
}

/// What values a setting takes, in Python terms.
pub fn python(s: &Setting) -> String {
    let mut base = python_base(s);
    if let Some(r) = s.recommended_max {
        base.push_str(&format!(", recommended at most {r} (above it warns)"));
    }
    match s.max_length {
        Some(n) => format!("{base}, at most {n} characters"),
        None => base,
    }
}

fn python_base(s: &Setting) -> String {
    match s.ty {
        FieldType::YesNo => "bool (\"yes\"/\"no\" on the wire)".into(),
        FieldType::Integer => match (s.range, &s.unit) {
            (Some((lo, hi)), Some(u)) => format!("int from {lo} to {hi} ({u})"),
            (Some((lo, hi)), None) => format!("int from {lo} to {hi}"),
            (None, _) => "int".into(),
        },
        FieldType::String => "str".into(),
        FieldType::Url if s.allow_empty => format!(
            "absolute {} URL, or \"\" to turn it off",
            s.schemes.join("/")
        ),
        FieldType::Url => format!("absolute {} URL", s.schemes.join("/")),
        FieldType::Token => "str without control characters; a secret, never shown".into(),
    }
}

/// The status line of rustdoc, or `None` for an active setting.
pub fn status_docs(status: Status) -> Option<&'static str> {
    match status {
        Status::Active => None,
        Status::Beta => Some("**beta**: works, but new; it may change."),
        Status::Unused => Some("**not used** by the API; setting it has no effect."),
        Status::Deprecated => {
            Some("**deprecated**: the server accepts and ignores it; setting it has no effect.")
        }
        Status::TemporarilyBroken => Some("**temporarily not working**."),
    }
}

/// The status sentence of a Python docstring, or `None` for an active setting.
pub fn status_python(status: Status) -> Option<&'static str> {
    match status {
        Status::Active => None,
        Status::Beta => Some("Beta: works, but new; it may change."),
        Status::Unused => Some("Not used by the API: sending it emits DeprecationWarning."),
        Status::Deprecated => {
            Some("Deprecated, ignored by the server: sending it emits DeprecationWarning.")
        }
        Status::TemporarilyBroken => Some("Temporarily not working: sending it emits UserWarning."),
    }
}
