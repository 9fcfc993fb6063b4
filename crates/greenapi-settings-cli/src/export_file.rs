//! Settings files written by `export`: the current settings of one instance, or of a fleet as
//! defaults (each setting's most common value) plus per-instance overrides, in TOML (with an
//! explanatory header) or JSON. `apply` reads them back unchanged: literal `${` and
//! `{idInstance}` are escaped, and a fleet's webhook URLs that differ only by the instance id
//! become one `{idInstance}` default.
//!
//! Only settings that can be set and have an effect are written: read-only fields and settings
//! whose status is `unused` / `deprecated` are left out. The webhookUrlToken is written as an
//! environment reference (`${GREENAPI_WEBHOOK_TOKEN}`) unless secrets are asked for.

use std::collections::BTreeMap;

use greenapi_settings::{FieldInfo, Settings, SettingsPatch, FIELDS, READ_ONLY_FIELDS};
use serde_json::{Map, Value};

use crate::settings_file::{INSTANCES_KEY, SETTINGS_KEY};
use crate::template::{escape, ID_PLACEHOLDER};

/// The environment variable a non-empty webhookUrlToken is exported as, by default.
pub const DEFAULT_TOKEN_ENV: &str = "GREENAPI_WEBHOOK_TOKEN";

/// How secrets are written.
#[derive(Clone, Debug)]
pub struct SecretOptions {
    /// Write secrets in clear (`--include-secrets`).
    pub include: bool,
    /// The environment variable a secret is referenced by otherwise (`--token-env`).
    pub env_name: String,
}

/// An exported settings file, before rendering.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Exported {
    /// The defaults, API names in spec order, wire values (templates escaped).
    pub defaults: Map<String, Value>,
    /// Per-instance overrides.
    pub instances: BTreeMap<u64, Map<String, Value>>,
    /// Environment variables the file references (to be set before plan / apply).
    pub env_needed: Vec<String>,
    /// Values left out because they cannot be set (an instance's value outside the range a
    /// setSettings call accepts, such as a fresh instance's delay of 0): `field: why`.
    pub left_out: Vec<String>,
}

/// The settings written: writable, and not unused or deprecated.
pub fn exported_fields() -> impl Iterator<Item = &'static FieldInfo> {
    FIELDS.iter().filter(|f| !f.status.is_ignored())
}

/// Why the instance's value of `f` could not be sent back (a fresh instance's
/// `delaySendMessagesMilliseconds` is 0, below the settable minimum), if it could not.
fn unsettable(f: &FieldInfo, s: &Settings) -> Option<String> {
    let v = s.get_json(f.name)?;
    let mut p = SettingsPatch::new();
    if let Err(e) = p.set_json(f.name, &v) {
        return Some(e.message);
    }
    let errors = p.validate().errors;
    errors.first().map(|e| {
        if f.secret {
            "the value cannot be set".to_string()
        } else {
            e.message.clone()
        }
    })
}

/// What the value of `f` is in the file when it is not a secret: the wire value, strings
/// escaped so that placeholders in it stay literal.
fn literal(f: &FieldInfo, s: &Settings) -> Value {
    match s.get_json(f.name).unwrap_or(Value::Null) {
        Value::String(v) => Value::String(escape(&v)),
        other => other,
    }
}

/// One instance's settings as a file.
pub fn single(s: &Settings, secrets: &SecretOptions) -> Exported {
    let mut out = Exported::default();
    for f in exported_fields() {
        if let Some(why) = unsettable(f, s) {
            out.left_out.push(format!("{}: {why}", f.name));
            continue;
        }
        let v = if f.secret && !secrets.include {
            match s
                .get_json(f.name)
                .and_then(|v| v.as_str().map(str::to_string))
            {
                Some(t) if !t.is_empty() => {
                    need(&mut out.env_needed, &secrets.env_name);
                    Value::String(format!("${{{}}}", secrets.env_name))
                }
                _ => Value::String(String::new()),
            }
        } else {
            literal(f, s)
        };
        out.defaults.insert(f.name.to_string(), v);
    }
    out
}

fn need(list: &mut Vec<String>, name: &str) {
    if !list.iter().any(|n| n == name) {
        list.push(name.to_string());
    }
}

/// A fleet's settings as one file: each setting's most common value (ties: the first
/// instance's) is the default, and instances that differ get an override. A text value that
/// contains the instance's own id is compared with the id replaced by `{idInstance}`.
/// Secrets (unless included) are referenced as `${NAME}` for the most common one and
/// `${NAME_<id>}` for an instance with a different one; values are compared in memory only.
/// A setting that some instance has at a value that cannot be set gets no default: the
/// instances with a settable value get an override, the others are left as they are.
pub fn fleet(all: &[(u64, Settings)], secrets: &SecretOptions) -> Exported {
    let mut out = Exported::default();
    for f in exported_fields() {
        let bad: Vec<u64> = all
            .iter()
            .filter(|(_, s)| unsettable(f, s).is_some())
            .map(|(id, _)| *id)
            .collect();
        if !bad.is_empty() {
            out.left_out.push(format!(
                "{}: the value of {} instance(s) cannot be set ({})",
                f.name,
                bad.len(),
                bad.iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        // Each instance's comparable form of the value, and what an override would write.
        let forms: Vec<(u64, Value, Value)> = all
            .iter()
            .filter(|(id, _)| !bad.contains(id))
            .map(|(id, s)| {
                let lit = literal(f, s);
                let form = match (&lit, f.secret) {
                    (Value::String(v), false) if v.contains(&id.to_string()) => {
                        Value::String(v.replace(&id.to_string(), ID_PLACEHOLDER))
                    }
                    // A secret's form is its clear value: compared here, never written.
                    (_, true) => s.get_json(f.name).unwrap_or(Value::Null),
                    _ => lit.clone(),
                };
                (*id, form, lit)
            })
            .collect();
        let Some(default_form) = most_common(forms.iter().map(|(_, form, _)| form)) else {
            continue;
        };
        let secret_ref = |id: Option<u64>, clear: &Value, exported: &mut Exported| -> Value {
            match clear.as_str() {
                Some(t) if !t.is_empty() && !secrets.include => {
                    let name = match id {
                        None => secrets.env_name.clone(),
                        Some(id) => format!("{}_{id}", secrets.env_name),
                    };
                    need(&mut exported.env_needed, &name);
                    Value::String(format!("${{{name}}}"))
                }
                Some(t) => Value::String(escape(t)),
                None => clear.clone(),
            }
        };
        let has_default = bad.is_empty();
        if has_default {
            let default_value = if f.secret {
                secret_ref(None, &default_form, &mut out)
            } else {
                default_form.clone()
            };
            out.defaults.insert(f.name.to_string(), default_value);
        }
        for (id, form, lit) in &forms {
            if has_default && *form == default_form {
                continue;
            }
            let v = if f.secret {
                secret_ref(Some(*id), form, &mut out)
            } else {
                lit.clone()
            };
            out.instances
                .entry(*id)
                .or_default()
                .insert(f.name.to_string(), v);
        }
    }
    out
}

/// The most common value (ties: the one seen first).
fn most_common<'a>(values: impl Iterator<Item = &'a Value>) -> Option<Value> {
    let mut counts: Vec<(&Value, usize)> = Vec::new();
    for v in values {
        match counts.iter_mut().find(|(seen, _)| *seen == v) {
            Some((_, n)) => *n += 1,
            None => counts.push((v, 1)),
        }
    }
    let best = counts.iter().map(|(_, n)| *n).max()?;
    counts
        .into_iter()
        .find(|(_, n)| *n == best)
        .map(|(v, _)| v.clone())
}

/// The TOML file, with a header saying where it came from, what was left out and why, and
/// which environment variables it needs.
pub fn render_toml(e: &Exported, source: &str) -> String {
    let ignored: Vec<&str> = FIELDS
        .iter()
        .filter(|f| f.status.is_ignored())
        .map(|f| f.name)
        .collect();
    let read_only: Vec<&str> = READ_ONLY_FIELDS.iter().map(|f| f.name).collect();
    let mut out = format!(
        "# GREEN-API instance settings exported by greenapi-settings {} from {source}.\n\
         # Check with `greenapi-settings plan FILE`, send with `greenapi-settings apply FILE`.\n\
         # [settings] holds the defaults; an [instances.\"ID\"] table overrides them for one instance.\n\
         # In strings, {{idInstance}} is the instance's id and ${{NAME}} an environment variable.\n\
         # Not exported: read-only fields, which cannot be set ({}),\n\
         # and deprecated settings, which the server ignores ({}).\n",
        env!("CARGO_PKG_VERSION"),
        read_only.join(", "),
        ignored.join(", ")
    );
    for why in &e.left_out {
        out.push_str(&format!("# Left out, as it cannot be set: {why}\n"));
    }
    if !e.env_needed.is_empty() {
        out.push_str(&format!(
            "# Secrets are not written in clear: set {} in the environment before plan / apply.\n",
            e.env_needed.join(", ")
        ));
    }
    out.push_str(&format!("\n[{SETTINGS_KEY}]\n"));
    push_table(&mut out, &e.defaults);
    for (id, table) in &e.instances {
        out.push_str(&format!("\n[{INSTANCES_KEY}.\"{id}\"]\n"));
        push_table(&mut out, table);
    }
    out
}

fn push_table(out: &mut String, table: &Map<String, Value>) {
    for (k, v) in table {
        let value = match v {
            Value::String(s) => toml_string(s),
            other => other.to_string(),
        };
        out.push_str(&format!("{k} = {value}\n"));
    }
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The JSON file: `{"settings": …}` plus `"instances"` when there are overrides.
pub fn render_json(e: &Exported) -> String {
    let mut doc = Map::new();
    doc.insert(SETTINGS_KEY.into(), Value::Object(e.defaults.clone()));
    if !e.instances.is_empty() {
        let inst: Map<String, Value> = e
            .instances
            .iter()
            .map(|(id, t)| (id.to_string(), Value::Object(t.clone())))
            .collect();
        doc.insert(INSTANCES_KEY.into(), Value::Object(inst));
    }
    serde_json::to_string_pretty(&Value::Object(doc)).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use greenapi_settings::SettingsPatch;

    fn settings(patch: SettingsPatch) -> Settings {
        let mut s = Settings::default();
        patch.apply_to(&mut s);
        s
    }

    fn secrets(include: bool) -> SecretOptions {
        SecretOptions {
            include,
            env_name: DEFAULT_TOKEN_ENV.into(),
        }
    }

    #[test]
    fn one_instance_is_written_without_read_only_deprecated_or_clear_secrets() {
        let s = settings(
            SettingsPatch::new()
                .webhook_url("https://h.example/${x}/{idInstance}")
                .webhook_url_token("tok\"SECRET"),
        );
        let e = single(&s, &secrets(false));
        assert_eq!(e.defaults["webhookUrlToken"], "${GREENAPI_WEBHOOK_TOKEN}");
        assert_eq!(
            e.defaults["webhookUrl"],
            "https://h.example/$${x}/{{idInstance}}"
        );
        assert!(!e.defaults.contains_key("sharedSession") && !e.defaults.contains_key("wid"));
        let toml = render_toml(&e, "instance 1");
        assert!(!toml.contains("SECRET"), "{toml}");
        assert!(
            toml.contains("set GREENAPI_WEBHOOK_TOKEN in the environment"),
            "{toml}"
        );
        assert!(
            toml.contains("sharedSession") && toml.contains("wid"),
            "named in the header"
        );
        let e = single(&s, &secrets(true));
        assert!(render_toml(&e, "x").contains(r#"webhookUrlToken = "tok\"SECRET""#));
        assert!(e.env_needed.is_empty());
    }

    #[test]
    fn a_fleet_gets_common_defaults_an_id_template_and_overrides_for_the_rest() {
        let hook = |id: u64| SettingsPatch::new().webhook_url(format!("https://h.example/{id}"));
        let all = vec![
            (
                11,
                settings(hook(11).incoming_webhook(true).webhook_url_token("A")),
            ),
            (
                12,
                settings(hook(12).incoming_webhook(true).webhook_url_token("A")),
            ),
            (13, settings(hook(13).webhook_url_token("B"))),
            (
                14,
                settings(
                    SettingsPatch::new()
                        .webhook_url("https://other.example")
                        .incoming_webhook(true),
                ),
            ),
        ];
        let e = fleet(&all, &secrets(false));
        assert_eq!(e.defaults["webhookUrl"], "https://h.example/{idInstance}");
        assert_eq!(e.defaults["incomingWebhook"], "yes");
        assert_eq!(e.defaults["webhookUrlToken"], "${GREENAPI_WEBHOOK_TOKEN}");
        assert_eq!(e.instances[&13]["incomingWebhook"], "no");
        assert_eq!(
            e.instances[&13]["webhookUrlToken"],
            "${GREENAPI_WEBHOOK_TOKEN_13}"
        );
        assert_eq!(e.instances[&14]["webhookUrl"], "https://other.example");
        assert_eq!(e.instances[&14]["webhookUrlToken"], "");
        assert!(!e.instances.contains_key(&11));
        assert_eq!(
            e.env_needed,
            ["GREENAPI_WEBHOOK_TOKEN", "GREENAPI_WEBHOOK_TOKEN_13"]
        );
        let json = render_json(&e);
        assert!(!json.contains("\"A\"") && !json.contains("\"B\""), "{json}");
    }
}
