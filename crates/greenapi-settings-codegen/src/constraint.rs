//! The wording of a setting's constraint, in one place for every renderer: rustdoc and
//! Markdown share [`docs`]; the Python stub's docstrings use [`python`] (Python type names).

use crate::model::{FieldType, Setting};

/// The one-line constraint shown in docs, e.g. `500..=86400000 ms` or `"yes" / "no"`.
pub fn docs(s: &Setting) -> String {
    let base = docs_base(s);
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
    let base = python_base(s);
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
