//! Human output: the settings table, the plan diff, warnings.

use greenapi_settings::redact::REDACTED;
use greenapi_settings::{FieldKind, Plan, Settings, Status, Violation, FIELDS, READ_ONLY_FIELDS};
use serde_json::Value;

use crate::style::Style;
use crate::terminal;

/// A value as shown on a terminal (control characters escaped: values come from the server).
fn shown(v: &Value, secret: bool, reveal: bool) -> String {
    match v {
        Value::String(s) if secret && !s.is_empty() && !reveal => REDACTED.into(),
        Value::String(s) if s.is_empty() => "\"\"".into(),
        Value::String(s) => terminal::text(s).into_owned(),
        other => terminal::text(&other.to_string()).into_owned(),
    }
}

/// The settings as an aligned table: setting, value, status.
pub fn settings_table(s: &Settings, style: Style, reveal_secrets: bool) -> String {
    let width = FIELDS
        .iter()
        .chain(READ_ONLY_FIELDS)
        .map(|f| f.name.len())
        .max()
        .unwrap_or(20);
    let mut out = String::new();
    out.push_str(&style.bold(&format!("{:width$}  {}", "setting", "value")));
    out.push('\n');
    for f in FIELDS {
        let v = s.get_json(f.name).unwrap_or(Value::Null);
        let note = match f.status {
            s if s.is_ignored() => style.dim("  (deprecated: ignored)"),
            Status::Beta => style.dim("  (beta)"),
            Status::TemporarilyBroken => style.yellow("  (temporarily not working)"),
            _ => String::new(),
        };
        out.push_str(&format!(
            "{:width$}  {}{note}\n",
            f.name,
            shown(&v, f.secret, reveal_secrets)
        ));
    }
    for f in READ_ONLY_FIELDS {
        if let Some(v) = s.get_json(f.name) {
            out.push_str(&format!(
                "{:width$}  {}{}\n",
                f.name,
                shown(&v, false, true),
                style.dim("  (read-only)")
            ));
        }
    }
    for (k, v) in &s.extra {
        let k = terminal::text(k);
        out.push_str(&format!(
            "{k:width$}  {}{}\n",
            shown(v, false, true),
            style.dim("  (not in the spec)")
        ));
    }
    out
}

/// The settings as JSON (wire form), with secrets redacted unless asked.
pub fn settings_json(s: &Settings, reveal_secrets: bool) -> Value {
    let mut v = s.to_json_value();
    if !reveal_secrets {
        greenapi_settings::redact::secret_settings(&mut v);
    }
    v
}

/// The plan as a diff: one `~ field: old -> new` line per change, then warnings.
pub fn plan_diff(plan: &Plan, style: Style) -> String {
    let mut out = String::new();
    for c in &plan.changes {
        let secret = c.secret;
        let (old, new) = (
            shown(&c.current, secret, false),
            shown(&c.desired, secret, false),
        );
        out.push_str(&format!(
            "  {} {}: {} -> {}\n",
            style.yellow("~"),
            c.field,
            style.red(&old),
            style.green(&new)
        ));
    }
    let unchanged = plan.desired.len() - plan.changes.len();
    if unchanged > 0 {
        out.push_str(&style.dim(&format!("  ({unchanged} setting(s) already as desired)\n")));
    }
    out.push_str(&warnings(&plan.warnings, style));
    out
}

/// Warning lines.
pub fn warnings(ws: &[Violation], style: Style) -> String {
    ws.iter()
        .map(|w| {
            format!(
                "  {} {}\n",
                style.yellow("warning:"),
                terminal::text(&w.to_string())
            )
        })
        .collect()
}

/// A value for a `set` flag, parsed by the field's kind.
pub fn flag_value(kind: FieldKind, raw: &str) -> Result<Value, String> {
    match kind {
        FieldKind::YesNo => match raw.to_ascii_lowercase().as_str() {
            "yes" | "true" | "on" | "1" => Ok(Value::Bool(true)),
            "no" | "false" | "off" | "0" => Ok(Value::Bool(false)),
            _ => Err(format!(
                "expected yes or no, found {}",
                crate::input::clip(raw)
            )),
        },
        FieldKind::Integer => raw
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("expected an integer, found {}", crate::input::clip(raw))),
        _ => Ok(Value::String(raw.to_string())),
    }
}
