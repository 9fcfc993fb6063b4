//! Spec → the settings part of the Python type stub (`_native.pyi`).

use std::fmt::Write as _;

use crate::model::{FieldType, Spec, Status};
use crate::rust::constraint;

fn py_type(ty: FieldType) -> &'static str {
    match ty {
        FieldType::YesNo => "bool",
        FieldType::Integer => "int",
        FieldType::String | FieldType::Url | FieldType::Token => "str",
    }
}

fn doc(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace("\"\"\"", "\\\"\\\"\\\"")
        .replace('`', "")
}

/// Renders the typed `SettingsPatch` / `Settings` classes of the stub. Deterministic.
pub fn render_settings_classes(spec: &Spec) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "class SettingsPatch:");
    let _ = writeln!(w, "    \"\"\"A partial change of settings: the body of one setSettings call.\n\n    Unset fields (None) are not sent. Keyword names are snake_case; yes/no fields are bool.\n    \"\"\"\n");
    for s in &spec.settings {
        let _ = writeln!(w, "    {}: {} | None", s.snake, py_type(s.ty));
        let mut d = format!(
            "{} API name: {}. Allowed: {}.",
            s.description.en,
            s.name,
            constraint(s)
        );
        match s.status {
            Status::Active => {}
            Status::Unused => d.push_str(" Not used by the API (DeprecationWarning)."),
            Status::TemporarilyBroken => d.push_str(" Temporarily not working (UserWarning)."),
        }
        let _ = writeln!(w, "    \"\"\"{}\"\"\"", doc(&d));
    }
    let _ = writeln!(w, "    def __init__(\n        self,\n        *,");
    for s in &spec.settings {
        let _ = writeln!(w, "        {}: {} | None = None,", s.snake, py_type(s.ty));
    }
    let _ = writeln!(w, "    ) -> None: ...");
    let _ = writeln!(w, "\nclass Settings:");
    let _ = writeln!(
        w,
        "    \"\"\"The full settings of an instance, as getSettings returns them.\"\"\"\n"
    );
    for s in &spec.settings {
        let _ = writeln!(w, "    {}: {}", s.snake, py_type(s.ty));
        let _ = writeln!(
            w,
            "    \"\"\"{} API name: {}.\"\"\"",
            doc(&s.description.en),
            s.name
        );
    }
    for f in &spec.read_only {
        let _ = writeln!(w, "    {}: {} | None", f.snake, py_type(f.ty));
        let _ = writeln!(
            w,
            "    \"\"\"{} Read-only; API name: {}.\"\"\"",
            doc(&f.description.en),
            f.name
        );
    }
    out
}
