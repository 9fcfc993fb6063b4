//! Spec → the JSON Schema (2020-12) of the CLI's settings files
//! (`docs/settings-file.schema.json`, printed by `greenapi-settings schema`).
//!
//! A settings file holds defaults — settings at the top level, or under `settings` (not both)
//! — and optional per-instance overrides under `instances."<id>"`. Each setting may be written
//! in its API spelling or in snake_case (not both in one table), with its spec type, range,
//! maximum length, `"yes"`/`"no"` or a boolean. String values may carry the placeholders
//! `{idInstance}` and `${NAME}`; a yes/no value may be a `${NAME}` reference. Settings the spec
//! marks unused or deprecated are `deprecated: true`.
//!
//! ```
//! let text = include_str!("../../../spec/settings.json");
//! let spec = greenapi_settings_codegen::load_str(text).unwrap();
//! let schema: serde_json::Value =
//!     serde_json::from_str(&greenapi_settings_codegen::schema::render(&spec)).unwrap();
//! assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
//! assert_eq!(schema["$defs"]["delaySendMessagesMilliseconds"]["minimum"], 500);
//! ```

use serde_json::{json, Map, Value};

use crate::constraint;
use crate::model::{FieldType, Setting, Spec};

/// The JSON Schema dialect.
pub const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// A string holding an environment reference `${NAME}`.
const ENV_REFERENCE_PATTERN: &str = r"\$\{[A-Za-z_][A-Za-z0-9_]*\}";

/// An instance id as a table key: digits, no leading zero.
const INSTANCE_ID_PATTERN: &str = "^[1-9][0-9]{0,19}$";

/// Renders the schema as pretty JSON with a final newline. Deterministic: the same spec gives
/// the same bytes.
pub fn render(spec: &Spec) -> String {
    serde_json::to_string_pretty(&schema(spec)).unwrap_or_default() + "\n"
}

/// The schema as a JSON value.
pub fn schema(spec: &Spec) -> Value {
    let mut defs = Map::new();
    defs.insert("settings".into(), settings_table());
    defs.insert("settingsFields".into(), settings_fields(spec));
    defs.insert(
        "envReference".into(),
        json!({
            "description": "A string holding an environment reference ${NAME}, resolved before validation.",
            "type": "string",
            "pattern": ENV_REFERENCE_PATTERN,
        }),
    );
    for s in &spec.settings {
        defs.insert(s.name.clone(), setting(s));
    }
    json!({
        "$schema": DIALECT,
        "$id": "urn:greenapi-settings:settings-file",
        "title": "greenapi-settings settings file",
        "description": "Desired settings of GREEN-API instances, read by `greenapi-settings plan/apply/validate` and written by `greenapi-settings export`. Defaults go at the top level or under `settings` (not both); `instances.\"<idInstance>\"` tables override them field by field for one instance. Settings are written with their API name or in snake_case (not both in one table). In string values, {idInstance} is the instance's id and ${NAME} the value of an environment variable (unset or empty is an error); $${ and {{idInstance}} are literal. Generated from spec/settings.json.",
        "type": "object",
        "allOf": [{"$ref": "#/$defs/settingsFields"}],
        "properties": {
            "$schema": {"description": "The URL or path of this schema, for editors; ignored.", "type": "string"},
            "settings": {"$ref": "#/$defs/settings"},
            "instances": {
                "description": "Per-instance overrides: each key is an instance id (idInstance), each value the settings that differ for that instance.",
                "type": "object",
                "propertyNames": {"pattern": INSTANCE_ID_PATTERN},
                "additionalProperties": {"$ref": "#/$defs/settings"},
            },
        },
        "unevaluatedProperties": false,
        "if": {"required": ["settings"]},
        "then": {"propertyNames": {"enum": ["$schema", "settings", "instances"]}},
        "$defs": defs,
    })
}

/// A table of settings (`settings`, or one instance's override).
fn settings_table() -> Value {
    json!({
        "description": "A table of settings.",
        "type": "object",
        "$ref": "#/$defs/settingsFields",
        "unevaluatedProperties": false,
    })
}

/// Every setting under both spellings, and the rule that a table uses one of them.
fn settings_fields(spec: &Spec) -> Value {
    let mut props = Map::new();
    let mut one_spelling = Vec::new();
    for s in &spec.settings {
        let reference = json!({"$ref": format!("#/$defs/{}", s.name)});
        props.insert(s.name.clone(), reference.clone());
        if s.snake != s.name {
            props.insert(s.snake.clone(), reference);
            one_spelling.push(json!({"not": {"required": [s.name, s.snake]}}));
        }
    }
    json!({
        "description": "The settings a table may hold, each in its API spelling or in snake_case (one of the two).",
        "properties": props,
        "allOf": one_spelling,
    })
}

/// One setting's schema: its type and constraints from the spec, and its description.
fn setting(s: &Setting) -> Value {
    let mut description = format!("{} Values: {}.", s.description.en, constraint::docs(s));
    if let Some(status) = constraint::status_docs(s.status) {
        description.push(' ');
        description.push_str(&status.replace("**", ""));
    }
    if s.secret {
        description.push_str(
            " A secret: never shown; `greenapi-settings export` writes it as an environment reference unless --include-secrets.",
        );
    }
    let mut out = match s.ty {
        FieldType::YesNo => json!({
            "anyOf": [
                {"enum": ["yes", "no"]},
                {"type": "boolean"},
                {"$ref": "#/$defs/envReference"},
            ]
        }),
        FieldType::Integer => {
            let mut v = json!({"type": "integer"});
            if let Some((lo, hi)) = s.range {
                v["minimum"] = lo.into();
                v["maximum"] = hi.into();
            }
            v
        }
        FieldType::Url => {
            let mut any = Vec::new();
            if s.allow_empty {
                any.push(json!({"const": ""}));
            }
            any.push(json!({"pattern": scheme_pattern(&s.schemes)}));
            any.push(json!({"$ref": "#/$defs/envReference"}));
            json!({"type": "string", "anyOf": any})
        }
        FieldType::String | FieldType::Token => json!({"type": "string"}),
    };
    if let Some(n) = s.max_length {
        out["maxLength"] = n.into();
    }
    if s.secret {
        out["writeOnly"] = true.into();
    }
    if s.status.is_ignored() {
        out["deprecated"] = true.into();
    }
    out["description"] = description.into();
    out
}

/// `^(?:[hH][tT][tT][pP]|…)://`: URL schemes are case-insensitive, and JSON Schema patterns
/// (ECMA-262) have no case-insensitive flag.
fn scheme_pattern(schemes: &[String]) -> String {
    let alternatives: Vec<String> = schemes
        .iter()
        .map(|scheme| {
            scheme
                .chars()
                .map(|c| {
                    if c.is_ascii_alphabetic() {
                        format!("[{}{}]", c.to_ascii_lowercase(), c.to_ascii_uppercase())
                    } else {
                        regex_escape(c)
                    }
                })
                .collect()
        })
        .collect();
    format!("^(?:{})://", alternatives.join("|"))
}

fn regex_escape(c: char) -> String {
    if "\\^$.|?*+()[]{}/-".contains(c) {
        format!("\\{c}")
    } else {
        c.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_schemes_match_in_any_case() {
        assert_eq!(
            scheme_pattern(&["http".into(), "https".into()]),
            "^(?:[hH][tT][tT][pP]|[hH][tT][tT][pP][sS])://"
        );
        assert_eq!(scheme_pattern(&["a+b".into()]), "^(?:[aA]\\+[bB])://");
    }
}
