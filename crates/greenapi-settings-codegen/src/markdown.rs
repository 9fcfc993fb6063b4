//! Spec → the Markdown settings reference (`docs/settings.md`).

use std::fmt::Write as _;

use crate::constraint;
use crate::model::{RuleKind, Spec, Status};

/// Renders the settings reference. Deterministic: the same spec gives the same bytes.
pub fn render(spec: &Spec) -> String {
    let mut out = String::new();
    let w = &mut out;
    let set = &spec.set_settings;
    let get = &spec.get_settings;
    let _ = writeln!(
        w,
        "<!-- @generated from spec/settings.json by greenapi-settings-codegen. Do not edit. -->"
    );
    let _ = writeln!(
        w,
        "<!-- Refresh: cargo run -p greenapi-settings-codegen -- markdown > docs/settings.md -->\n"
    );
    let _ = writeln!(w, "# GREEN-API instance settings\n");
    let _ = writeln!(w, "## Methods\n");
    let _ = writeln!(w, "| method | request | notes |\n|---|---|---|");
    let mut set_notes = Vec::new();
    if set.restarts_instance {
        set_notes.push("restarts the instance".to_string());
    }
    if let Some(s) = set.applies_within_seconds {
        set_notes.push(format!("applies within {} minutes", s / 60));
    }
    if let Some(n) = set.min_parameters {
        set_notes.push(format!("at least {n} parameter(s)"));
    }
    if let Some(r) = &set.example_response {
        set_notes.push(format!("response `{r}`"));
    }
    let _ = writeln!(
        w,
        "| `{}` | `{} {}` | {} |",
        set.name,
        set.http_method,
        set.path,
        set_notes.join("; ")
    );
    let _ = writeln!(
        w,
        "| `{}` | `{} {}` | every setting plus read-only fields; unknown fields are kept |",
        get.name, get.http_method, get.path
    );
    let rl = &spec.rate_limit;
    let _ = writeln!(
        w,
        "\nRate limit: {} request(s) per second per {}; over it the API answers HTTP {}.",
        rl.requests_per_second, rl.scope, rl.http_status
    );
    let _ = writeln!(w, "After an instance is created, all settings are off.\n");
    let _ = writeln!(w, "{}\n", set.description.en);

    let _ = writeln!(w, "## Settings\n");
    let _ = writeln!(
        w,
        "| setting | Rust / Python | allowed | status |\n|---|---|---|---|"
    );
    for s in &spec.settings {
        let _ = writeln!(
            w,
            "| [`{}`](#{}) | `{}` | {} | {} |",
            s.name,
            s.name.to_lowercase(),
            s.snake,
            constraint::docs(s),
            status_text(s.status)
        );
    }
    for s in &spec.settings {
        let _ = writeln!(w, "\n### {}\n", s.name);
        let _ = writeln!(w, "{}\n", s.description.en);
        let _ = writeln!(w, "> {}\n", s.description.ru);
        let _ = writeln!(w, "- Allowed: {}", constraint::docs(s));
        let _ = writeln!(w, "- Status: {}", status_text(s.status));
        for n in &s.notes {
            let _ = writeln!(w, "- Note: {n}");
        }
        for r in spec
            .rules
            .iter()
            .filter(|r| r.field == s.name || r.kind.others().contains(&s.name))
        {
            let _ = writeln!(w, "- Rule `{}`: {}", r.id, r.description.en);
        }
    }

    if !spec.read_only.is_empty() {
        let _ = writeln!(w, "\n## Read-only fields (getSettings)\n");
        let _ = writeln!(w, "| field | Rust / Python | description |\n|---|---|---|");
        for f in &spec.read_only {
            let _ = writeln!(w, "| `{}` | `{}` | {} |", f.name, f.snake, f.description.en);
        }
    }

    let _ = writeln!(w, "\n## How settings combine\n");
    let _ = writeln!(w, "| rule | kind | meaning |\n|---|---|---|");
    for r in &spec.rules {
        let kind = match &r.kind {
            RuleKind::IgnoredWhen(o) => {
                format!("`{}` ignored when {} = yes", r.field, list(o, " and "))
            }
            RuleKind::EffectiveOnlyWithAll(o) => {
                format!("`{}` needs {}", r.field, list(o, " and "))
            }
            RuleKind::EffectiveOnlyWithAny(o) => {
                format!("`{}` needs one of {}", r.field, list(o, ", "))
            }
            RuleKind::Advice => format!("advice on `{}` (not checked)", r.field),
        };
        let _ = writeln!(w, "| `{}` | {} | {} |", r.id, kind, r.description.en);
    }
    let _ = writeln!(
        w,
        "\nValidation reports rule breaches as warnings, evaluated on the current settings merged with the change, for rules that involve a field the change sets."
    );
    out
}

fn list(names: &[String], sep: &str) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(sep)
}

fn status_text(s: Status) -> &'static str {
    match s {
        Status::Active => "active",
        Status::Beta => "beta (works, but new; it may change)",
        Status::Unused => "not used",
        Status::Deprecated => "deprecated (the server ignores it)",
        Status::TemporarilyBroken => "temporarily not working",
    }
}
