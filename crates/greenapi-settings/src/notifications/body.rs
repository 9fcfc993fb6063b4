//! A body for a kind: its spec example with the instance, the time and the message id filled
//! in, then the caller's fields merged (what `sandbox trigger --field` and the sandbox's
//! `notify` endpoint send). A field that would change what the kind is (its `typeWebhook`,
//! its variant's field) or the JSON type of a value is refused, so a triggered body always
//! parses into the generated type of its kind.

use serde_json::{Map, Value};

use super::{Notification, NotificationInfo};

/// What a body is about: the instance, the time, the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodyContext<'a> {
    /// `instanceData.idInstance`.
    pub id_instance: u64,
    /// `instanceData.wid`: the account's WhatsApp id (`79001234567@c.us`).
    pub wid: &'a str,
    /// `timestamp`, UNIX seconds.
    pub timestamp: u64,
    /// `idMessage`, for the kinds that have one.
    pub id_message: &'a str,
}

impl NotificationInfo {
    /// A body of this kind: the skeleton with `instanceData.idInstance`, `instanceData.wid`,
    /// `timestamp` and (where the kind has one) `idMessage` from `ctx`, then `fields` merged in
    /// (objects key by key, other values replaced).
    ///
    /// Refuses, naming every such field at once, a `fields` that changes `typeWebhook` or the
    /// variant's field, gives a value another JSON type than the skeleton's or than the body
    /// type declares (an integer past i64 too), or nests deeper than [`MAX_FIELD_DEPTH`]. New
    /// fields are allowed (the API adds fields; the body types ignore the ones they do not
    /// know), so a body made here always parses into [`Notification`].
    ///
    /// ```
    /// use greenapi_settings::{BodyContext, NotificationInfo};
    /// let kind = NotificationInfo::find("stateInstanceChanged").unwrap();
    /// let ctx = BodyContext { id_instance: 1101000001, wid: "79001234567@c.us", timestamp: 1700000000, id_message: "" };
    /// let mut fields = serde_json::Map::new();
    /// fields.insert("stateInstance".into(), "starting".into());
    /// let body = kind.body(&ctx, &fields).unwrap();
    /// assert_eq!(body["stateInstance"], "starting");
    /// assert_eq!(body["instanceData"]["idInstance"], 1101000001);
    /// fields.insert("typeWebhook".into(), "incomingCall".into());
    /// assert!(kind.body(&ctx, &fields).unwrap_err().contains("typeWebhook"));
    ///
    /// // A new field is kept; a declared one must have its declared type.
    /// let call = NotificationInfo::find("incomingCall").unwrap();
    /// let mut fields = serde_json::Map::new();
    /// fields.insert("note".into(), "kept".into());
    /// assert_eq!(call.body(&ctx, &fields).unwrap()["note"], "kept");
    /// fields.insert("duration".into(), "abc".into());
    /// assert!(call.body(&ctx, &fields).unwrap_err().starts_with("duration: does not fit the incomingCall body"));
    /// ```
    pub fn body(
        &self,
        ctx: &BodyContext<'_>,
        fields: &Map<String, Value>,
    ) -> Result<Value, String> {
        let mut body: Value =
            serde_json::from_str(self.skeleton).map_err(|e| format!("{}: {e}", self.key()))?;
        if let Some(inst) = body.get_mut("instanceData").and_then(Value::as_object_mut) {
            inst.insert("idInstance".into(), ctx.id_instance.into());
            inst.insert("wid".into(), ctx.wid.into());
        }
        if let Some(m) = body.as_object_mut() {
            m.insert("timestamp".into(), ctx.timestamp.into());
            if m.contains_key("idMessage") && !ctx.id_message.is_empty() {
                m.insert("idMessage".into(), ctx.id_message.into());
            }
        }
        let mut problems = Vec::new();
        let base = body.clone();
        for (k, v) in fields {
            if depth(v) > MAX_FIELD_DEPTH {
                problems.push(format!("{k}: nested deeper than {MAX_FIELD_DEPTH} levels"));
                continue;
            }
            if k == "typeWebhook" && v.as_str() != Some(self.type_webhook) {
                problems.push(format!(
                    "typeWebhook: is {}, it cannot be changed (trigger another type instead)",
                    self.type_webhook
                ));
                continue;
            }
            if let Some(vf) = self.variant_field {
                let top = vf.split('.').next().unwrap_or(vf);
                if k == top {
                    let before = pointer(&body, vf).cloned();
                    let mut probe = body.clone();
                    merge(&mut probe, k, v, k, &mut Vec::new());
                    if pointer(&probe, vf) != before.as_ref() {
                        problems.push(format!(
                            "{vf}: says the variant ({}), it cannot be changed (trigger another variant instead)",
                            self.variant.unwrap_or_default()
                        ));
                        continue;
                    }
                }
            }
            merge(&mut body, k, v, k, &mut problems);
        }
        if problems.is_empty() {
            problems = self.misfits(&base, &body, fields);
        }
        if problems.is_empty() {
            Ok(body)
        } else {
            Err(problems.join("; "))
        }
    }

    /// The fields that make `body` not parse into the generated type of its `typeWebhook`
    /// (a value of another type than declared, an integer past i64), each tried alone on
    /// `base`, so each is named; empty when `body` parses.
    fn misfits(&self, base: &Value, body: &Value, fields: &Map<String, Value>) -> Vec<String> {
        if Notification::from_value(body.clone()).is_ok() {
            return Vec::new();
        }
        let mut out = Vec::new();
        for (k, v) in fields {
            let mut alone = base.clone();
            merge(&mut alone, k, v, k, &mut Vec::new());
            if let Err(e) = Notification::from_value(alone) {
                out.push(format!(
                    "{k}: does not fit the {} body ({e})",
                    self.type_webhook
                ));
            }
        }
        if out.is_empty() {
            out.push(format!(
                "the fields together do not fit the {} body",
                self.type_webhook
            ));
        }
        out
    }
}

/// How deep a caller's field value may nest: a body is stored, listed and re-read (the state
/// file, `receiveNotification` answers nest it a few levels deeper), and JSON readers stop at
/// 128 levels.
pub const MAX_FIELD_DEPTH: usize = 32;

/// How deep `v` nests (a scalar is 0); stops counting past [`MAX_FIELD_DEPTH`].
fn depth(v: &Value) -> usize {
    fn go(v: &Value, level: usize) -> usize {
        if level > MAX_FIELD_DEPTH {
            return level;
        }
        match v {
            Value::Array(items) => items
                .iter()
                .map(|i| go(i, level + 1))
                .max()
                .unwrap_or(level + 1),
            Value::Object(m) => m
                .values()
                .map(|i| go(i, level + 1))
                .max()
                .unwrap_or(level + 1),
            _ => level,
        }
    }
    go(v, 0)
}

/// The value at a dotted path.
fn pointer<'v>(v: &'v Value, dotted: &str) -> Option<&'v Value> {
    dotted.split('.').try_fold(v, |node, key| node.get(key))
}

/// Merges `value` into `target[key]`: objects key by key, other values replaced when their
/// JSON type is the same (or the field is new); `path` names the field in problems.
fn merge(target: &mut Value, key: &str, value: &Value, path: &str, problems: &mut Vec<String>) {
    let Some(obj) = target.as_object_mut() else {
        return;
    };
    match (obj.get_mut(key), value) {
        (Some(Value::Object(into)), Value::Object(from)) => {
            let mut inner = Value::Object(std::mem::take(into));
            for (k, v) in from {
                merge(&mut inner, k, v, &format!("{path}.{k}"), problems);
            }
            if let (Some(Value::Object(slot)), Value::Object(merged)) = (obj.get_mut(key), inner) {
                *slot = merged;
            }
        }
        (Some(old), new) if same_type(old, new) => *old = new.clone(),
        (Some(old), new) => problems.push(format!(
            "{path}: expected {} like the skeleton's, found {}",
            json_type(old),
            json_type(new)
        )),
        (None, new) => {
            obj.insert(key.to_string(), new.clone());
        }
    }
}

fn same_type(a: &Value, b: &Value) -> bool {
    json_type(a) == json_type(b)
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
