//! Declarative settings files: TOML or JSON, API spelling (`incomingWebhook = "yes"`) or
//! snake_case (`incoming_webhook = true`).
//!
//! A file holds **defaults** (settings at the top level, or under a `[settings]` table; not
//! both) and optional **per-instance overrides** (`[instances."1101000001"]` tables), which
//! win field by field for that instance. String values may use `{idInstance}` (the instance's
//! id) and `${NAME}` (the environment variable `NAME`); see [`crate::template`]. A top-level
//! `$schema` string is allowed (for editors) and ignored.
//!
//! ```toml
//! [settings]
//! incomingWebhook = "yes"
//! webhookUrl = "https://hooks.example.com/{idInstance}"
//! webhookUrlToken = "${GREENAPI_WEBHOOK_TOKEN}"
//!
//! [instances."1101000001"]
//! delaySendMessagesMilliseconds = 5000
//! ```
//!
//! [`load`] reads and checks the shape, names and types (every problem at once); resolving
//! for an instance (ranges, URLs, rules, environment) is [`crate::layers`]'s.

use std::collections::BTreeMap;
use std::path::Path;

use greenapi_settings::{FieldInfo, FieldKind, SettingsPatch};
use serde_json::{Map, Value};

use crate::exit::CliError;
use crate::input::{clip, read_capped, SMALL_FILE_CAP};
use crate::parse::{json_strict, toml_table, toml_to_json};

/// The key of the defaults table.
pub const SETTINGS_KEY: &str = "settings";
/// The key of the per-instance overrides table.
pub const INSTANCES_KEY: &str = "instances";
/// A top-level key editors use to find the JSON Schema; ignored.
pub const SCHEMA_KEY: &str = "$schema";

/// A settings file, read and checked for shape, names and types (not yet resolved).
#[derive(Clone, Debug, PartialEq)]
pub struct SettingsFile {
    /// The path as shown in messages.
    pub shown: String,
    /// The defaults, as written (API or snake_case names, templates unresolved).
    pub defaults: Map<String, Value>,
    /// Per-instance overrides, as written, by instance id.
    pub instances: BTreeMap<u64, Map<String, Value>>,
}

impl SettingsFile {
    /// Whether the file has per-instance overrides.
    pub fn is_layered(&self) -> bool {
        !self.instances.is_empty()
    }

    /// The file as one JSON document, templates unresolved and literal secrets redacted: what
    /// fleet reports record as `desired` (and `--resume` compares). The defaults alone for a
    /// file without overrides, else `{"settings": …, "instances": …}`.
    pub fn document(&self) -> Value {
        let redacted = |m: &Map<String, Value>| {
            let mut v = Value::Object(canonical(m));
            greenapi_settings::redact::secret_settings(&mut v);
            v
        };
        if !self.is_layered() {
            return redacted(&self.defaults);
        }
        let mut doc = Map::new();
        doc.insert(SETTINGS_KEY.into(), redacted(&self.defaults));
        {
            let inst: Map<String, Value> = self
                .instances
                .iter()
                .map(|(id, m)| (id.to_string(), redacted(m)))
                .collect();
            doc.insert(INSTANCES_KEY.into(), Value::Object(inst));
        }
        Value::Object(doc)
    }
}

/// The table with every known setting under its API name (so that redaction finds secrets
/// written in snake_case too).
fn canonical(m: &Map<String, Value>) -> Map<String, Value> {
    m.iter()
        .map(|(k, v)| {
            let name = FieldInfo::find(k).map_or(k.as_str(), |f| f.name);
            (name.to_string(), v.clone())
        })
        .collect()
}

/// Reads a settings file (at most [`SMALL_FILE_CAP`] bytes; a UTF-8 byte order mark is
/// allowed), reporting every problem of shape, names, types and duplicate keys at once (exit
/// 2). Ranges, URLs, rules and `${NAME}` are checked when resolving for an instance. No
/// message quotes the file's lines, which may hold the webhookUrlToken.
pub fn load(path: &Path) -> Result<SettingsFile, CliError> {
    let shown = path.display().to_string();
    let text = read_capped(path, SMALL_FILE_CAP)?;
    let value = parse(&text, path).map_err(|problems| problems_error(&shown, &problems))?;
    from_value(&shown, value).map_err(|problems| problems_error(&shown, &problems))
}

fn problems_error(shown: &str, problems: &[String]) -> CliError {
    match problems {
        [one] => CliError::usage(format!("{shown}: {one}")),
        _ => CliError::usage(format!(
            "{shown}: {} problem(s); nothing was sent",
            problems.len()
        ))
        .with_problems(problems.iter().map(|p| format!("{shown}: {p}")).collect()),
    }
}

/// A settings file from a parsed document: its shape, then the names and types of every
/// table. Problems are listed with the table they are in (`instances."1101000001": …`).
pub fn from_value(shown: &str, value: Value) -> Result<SettingsFile, Vec<String>> {
    let Value::Object(mut top) = value else {
        return Err(vec![
            "expected a table of settings (an object in JSON)".into()
        ]);
    };
    let mut problems = Vec::new();
    match top.remove(SCHEMA_KEY) {
        None | Some(Value::String(_)) => {}
        Some(_) => problems.push(format!("{SCHEMA_KEY} must be a string (a schema URL)")),
    }
    let instances_value = top.remove(INSTANCES_KEY);
    let defaults = match top.remove(SETTINGS_KEY) {
        Some(Value::Object(settings)) => {
            if let Some(k) = top.keys().next() {
                problems.push(format!(
                    "{} is given at the top level and there is also a [{SETTINGS_KEY}] table; put defaults in one place",
                    clip(k)
                ));
            }
            settings
        }
        Some(_) => {
            problems.push(format!(
                "{SETTINGS_KEY} must be a table of settings ([{SETTINGS_KEY}] in TOML)"
            ));
            Map::new()
        }
        None => top,
    };
    for p in type_problems(&defaults) {
        problems.push(p);
    }
    let mut instances = BTreeMap::new();
    match instances_value {
        None => {}
        Some(Value::Object(tables)) => {
            for (key, table) in tables {
                let Some(id) = instance_id(&key) else {
                    problems.push(format!(
                        "{INSTANCES_KEY}: {} is not an instance id; use its digits, like [{INSTANCES_KEY}.\"1101000001\"]",
                        clip(&key)
                    ));
                    continue;
                };
                let Value::Object(table) = table else {
                    problems.push(format!(
                        "{INSTANCES_KEY}.\"{id}\" must be a table of settings"
                    ));
                    continue;
                };
                for p in type_problems(&table) {
                    problems.push(format!("{INSTANCES_KEY}.\"{id}\": {p}"));
                }
                instances.insert(id, table);
            }
        }
        Some(_) => problems.push(format!(
            "{INSTANCES_KEY} must be a table of per-instance tables ([{INSTANCES_KEY}.\"1101000001\"] in TOML)"
        )),
    }
    if problems.is_empty() {
        Ok(SettingsFile {
            shown: shown.to_string(),
            defaults,
            instances,
        })
    } else {
        Err(problems)
    }
}

/// An instance id written as a table key: digits, no sign, no leading zero.
fn instance_id(key: &str) -> Option<u64> {
    let ok = !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit()) && !key.starts_with('0');
    ok.then(|| key.parse().ok()).flatten()
}

/// Unknown names, both spellings, wrong types, bad yes/no values of one table. A yes/no value
/// that uses `${NAME}` is checked once resolved.
fn type_problems(table: &Map<String, Value>) -> Vec<String> {
    let mut probe = table.clone();
    for (k, v) in probe.iter_mut() {
        let templated = v.as_str().is_some_and(|s| s.contains("${"));
        if templated && FieldInfo::find(k).is_some_and(|f| f.kind == FieldKind::YesNo) {
            *v = Value::String("no".into());
        }
    }
    let found = match SettingsPatch::from_json_value(&Value::Object(probe.clone())) {
        Ok(_) => return Vec::new(),
        Err(found) => found,
    };
    // The file is refused for these; its other values are checked now as well (range, URL,
    // length), so that every problem is listed at once, not the next ones only after these
    // are fixed. Values with `${NAME}` are checked once resolved.
    probe.retain(|k, v| {
        let name = FieldInfo::find(k).map(|f| f.name);
        let templated = v.as_str().is_some_and(|s| s.contains("${"));
        !templated
            && name.is_some()
            && !found.iter().any(|p| {
                p.field
                    .as_deref()
                    .is_some_and(|f| Some(f) == name || f == k)
            })
    });
    let rest = SettingsPatch::from_json_value(&Value::Object(probe)).unwrap_or_default();
    let value_problems = rest.validate().errors;
    found
        .iter()
        .chain(value_problems.iter().filter(|v| v.field.is_some()))
        .map(ToString::to_string)
        .collect()
}

/// A patch from a parsed settings document with no layers (`set --json`): a settings object,
/// optionally under `settings`.
pub fn patch_from_value(value: Value) -> Result<SettingsPatch, Vec<String>> {
    let value = match value {
        Value::Object(mut m) if m.len() == 1 && m.contains_key(SETTINGS_KEY) => {
            m.remove(SETTINGS_KEY).unwrap_or_default()
        }
        v => v,
    };
    SettingsPatch::from_json_value(&value)
        .map_err(|problems| problems.iter().map(ToString::to_string).collect())
}

fn parse(text: &str, path: &Path) -> Result<Value, Vec<String>> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "json" => json_strict(text).map_err(|e| vec![format!("invalid JSON: {e}")]),
        "toml" => from_toml(text),
        _ => json_strict(text).or_else(|json_err| {
            if text.trim_start().starts_with(['{', '[']) {
                Err(vec![format!("invalid JSON: {json_err}")])
            } else {
                from_toml(text)
            }
        }),
    }
}

fn from_toml(text: &str) -> Result<Value, Vec<String>> {
    let table = toml_table(text).map_err(|e| vec![format!("invalid TOML: {e}")])?;
    toml_to_json(table)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn write(name: &str, text: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("gas-cli-{}-{name}", std::process::id()));
        std::fs::write(&dir, text).unwrap();
        dir
    }

    #[test]
    fn toml_with_snake_case_and_booleans_loads_as_defaults() {
        let p = write("a.toml", "incoming_webhook = true\ndelaySendMessagesMilliseconds = 5000\nwebhookUrl = \"https://x.example/hook\"\n");
        let f = load(&p).unwrap();
        assert_eq!(f.defaults.len(), 3);
        assert!(!f.is_layered());
    }

    #[test]
    fn a_settings_table_and_instance_tables_are_accepted() {
        let p = write(
            "b.toml",
            "\"$schema\" = \"x\"\n[settings]\nstateWebhook = \"yes\"\n[instances.\"1101000001\"]\nstate_webhook = false\n",
        );
        let f = load(&p).unwrap();
        assert_eq!(
            f.defaults,
            json!({"stateWebhook": "yes"}).as_object().unwrap().clone()
        );
        assert_eq!(
            f.instances.keys().copied().collect::<Vec<_>>(),
            [1101000001]
        );
        assert_eq!(
            f.document(),
            json!({"settings": {"stateWebhook": "yes"}, "instances": {"1101000001": {"stateWebhook": false}}})
        );
    }

    #[test]
    fn every_problem_of_a_file_is_listed_with_its_table() {
        let p = write(
            "c.json",
            r#"{"incomingWebhok": "yes", "outgoingWebhook": "maybe", "delaySendMessagesMilliseconds": "1s",
                "instances": {"01": {}, "x": {}, "7": {"stateWebhok": "yes"}, "8": 5}}"#,
        );
        let e = load(&p).unwrap_err();
        assert_eq!(e.details.len(), 7, "{:?}", e.details);
        assert!(
            e.details[0].contains("did you mean `incomingWebhook`"),
            "{:?}",
            e.details
        );
        assert!(
            e.details
                .iter()
                .any(|d| d.contains("instances.\"7\": stateWebhok")),
            "{:?}",
            e.details
        );
        assert!(
            e.details
                .iter()
                .any(|d| d.contains("\"01\" is not an instance id")),
            "{:?}",
            e.details
        );
        assert!(
            e.details
                .iter()
                .any(|d| d.contains("instances.\"8\" must be a table")),
            "{:?}",
            e.details
        );
    }

    #[test]
    fn defaults_at_the_top_and_under_settings_are_refused_together() {
        let e = from_value(
            "f",
            json!({"incomingWebhook": "yes", "settings": {"stateWebhook": "yes"}}),
        )
        .unwrap_err();
        assert!(e[0].contains("put defaults in one place"), "{e:?}");
    }

    #[test]
    fn a_templated_yes_no_value_is_checked_later_and_secrets_are_redacted_in_the_document() {
        let f = from_value(
            "f",
            json!({"incomingWebhook": "${HOOKS}", "webhook_url_token": "literal-SECRET"}),
        )
        .unwrap();
        let doc = f.document().to_string();
        assert!(!doc.contains("SECRET"), "{doc}");
        assert!(doc.contains("${HOOKS}"), "{doc}");
    }

    #[test]
    fn syntax_errors_name_the_file() {
        let p = write("d.toml", "incoming_webhook = \n");
        let e = load(&p).unwrap_err();
        assert!(e.message.contains("d.toml: invalid TOML"), "{}", e.message);
    }
}
