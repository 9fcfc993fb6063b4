//! The error context of the loader (serde_derive's `Ctxt`): every typed read of a JSON node
//! records its own problem with its JSON path and returns `None`, so checking carries on and
//! the user sees every problem in one go.

use serde_json::{Map, Value};

use super::SpecError;
use crate::model::Text;

#[derive(Default)]
pub(super) struct Ctxt {
    pub(super) errors: Vec<SpecError>,
}

impl Ctxt {
    pub(super) fn error(&mut self, path: &str, message: impl Into<String>) {
        self.errors.push(SpecError {
            path: path.to_string(),
            message: message.into(),
        });
    }

    pub(super) fn object<'v>(
        &mut self,
        path: &str,
        v: &'v Value,
    ) -> Option<&'v Map<String, Value>> {
        match v {
            Value::Object(m) => Some(m),
            other => {
                self.error(path, format!("expected an object, found {}", kind(other)));
                None
            }
        }
    }

    /// Reports keys that the format does not define (catches typos such as `rnage`).
    pub(super) fn known_keys(&mut self, path: &str, m: &Map<String, Value>, allowed: &[&str]) {
        for k in m.keys() {
            if !allowed.contains(&k.as_str()) {
                self.error(
                    &join(path, k),
                    format!(
                        "unknown key `{k}` (expected one of: {})",
                        allowed.join(", ")
                    ),
                );
            }
        }
    }

    pub(super) fn required<'v>(
        &mut self,
        path: &str,
        m: &'v Map<String, Value>,
        key: &str,
    ) -> Option<&'v Value> {
        let v = m.get(key);
        if v.is_none() {
            self.error(path, format!("missing required key `{key}`"));
        }
        v
    }

    pub(super) fn string(
        &mut self,
        path: &str,
        m: &Map<String, Value>,
        key: &str,
    ) -> Option<String> {
        let v = self.required(path, m, key)?;
        self.as_string(&join(path, key), v)
    }

    pub(super) fn as_string(&mut self, path: &str, v: &Value) -> Option<String> {
        match v {
            Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
            Value::String(_) => {
                self.error(path, "must not be empty");
                None
            }
            other => {
                self.error(path, format!("expected a string, found {}", kind(other)));
                None
            }
        }
    }

    pub(super) fn opt_bool(
        &mut self,
        path: &str,
        m: &Map<String, Value>,
        key: &str,
    ) -> Option<bool> {
        match m.get(key)? {
            Value::Bool(b) => Some(*b),
            other => {
                self.error(
                    &join(path, key),
                    format!("expected true or false, found {}", kind(other)),
                );
                None
            }
        }
    }

    pub(super) fn opt_u64(&mut self, path: &str, m: &Map<String, Value>, key: &str) -> Option<u64> {
        match m.get(key)? {
            Value::Number(n) if n.as_u64().is_some() => n.as_u64(),
            other => {
                self.error(
                    &join(path, key),
                    format!("expected a non-negative integer, found {}", kind(other)),
                );
                None
            }
        }
    }

    pub(super) fn string_list(
        &mut self,
        path: &str,
        m: &Map<String, Value>,
        key: &str,
    ) -> Option<Vec<String>> {
        let p = join(path, key);
        match m.get(key)? {
            Value::Array(items) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    if let Some(s) = self.as_string(&index(&p, i), item) {
                        out.push(s);
                    }
                }
                Some(out)
            }
            other => {
                self.error(
                    &p,
                    format!("expected an array of strings, found {}", kind(other)),
                );
                None
            }
        }
    }

    pub(super) fn text(&mut self, path: &str, m: &Map<String, Value>, key: &str) -> Option<Text> {
        let v = self.required(path, m, key)?;
        let p = join(path, key);
        let t = self.object(&p, v)?;
        self.known_keys(&p, t, &["en", "ru"]);
        let en = self.string(&p, t, "en");
        let ru = self.string(&p, t, "ru");
        Some(Text { en: en?, ru: ru? })
    }
}

pub(super) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(super) fn join(path: &str, key: &str) -> String {
    format!("{path}.{key}")
}

pub(super) fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}
