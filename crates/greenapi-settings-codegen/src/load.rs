//! Loading a spec: JSON text → checked [`Spec`], collecting *every* problem with its JSON path
//! (the serde_derive `Ctxt` pattern: record, carry on, report all at the end).

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use serde_json::{Map, Value};

use crate::model::{
    snake_case, FieldType, Method, RateLimit, ReadOnlyField, Rule, RuleKind, Setting, Spec, Status,
    Text,
};

/// One problem in a spec file: where (a JSON path such as `$.settings[2].range`) and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecError {
    /// JSON path of the offending value, `$` for the document itself.
    pub path: String,
    /// What is wrong, in one sentence.
    pub message: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Every problem found in one spec, in document order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecErrors(pub Vec<SpecError>);

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SpecErrors {}

/// Reads and checks a spec file from disk. `display` is how the path is shown in messages.
pub fn load_file(path: &std::path::Path) -> Result<Spec, SpecErrors> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        SpecErrors(vec![SpecError {
            path: "$".into(),
            message: format!("cannot read the spec file: {}", io_kind(&e)),
        }])
    })?;
    load_str(&text)
}

/// A stable description of an I/O error (no OS-specific wording, no absolute paths).
pub fn io_kind(e: &std::io::Error) -> &'static str {
    match e.kind() {
        std::io::ErrorKind::NotFound => "file not found",
        std::io::ErrorKind::PermissionDenied => "permission denied",
        std::io::ErrorKind::InvalidData => "not valid UTF-8",
        std::io::ErrorKind::IsADirectory => "is a directory",
        _ => "I/O error",
    }
}

/// Parses and checks spec text, reporting every problem at once.
pub fn load_str(text: &str) -> Result<Spec, SpecErrors> {
    let root: Value = serde_json::from_str(text).map_err(|e| {
        let full = e.to_string();
        let what = full.split(" at line ").next().unwrap_or(&full).to_string();
        SpecErrors(vec![SpecError {
            path: "$".into(),
            message: format!(
                "invalid JSON at line {}, column {}: {what}",
                e.line(),
                e.column()
            ),
        }])
    })?;
    let mut cx = Ctxt::default();
    let spec = check_root(&mut cx, &root);
    match (spec, cx.errors.is_empty()) {
        (Some(spec), true) => Ok(spec),
        _ => Err(SpecErrors(cx.errors)),
    }
}

#[derive(Default)]
struct Ctxt {
    errors: Vec<SpecError>,
}

impl Ctxt {
    fn error(&mut self, path: &str, message: impl Into<String>) {
        self.errors.push(SpecError {
            path: path.to_string(),
            message: message.into(),
        });
    }

    fn object<'v>(&mut self, path: &str, v: &'v Value) -> Option<&'v Map<String, Value>> {
        match v {
            Value::Object(m) => Some(m),
            other => {
                self.error(path, format!("expected an object, found {}", kind(other)));
                None
            }
        }
    }

    /// Reports keys that the format does not define (catches typos such as `rnage`).
    fn known_keys(&mut self, path: &str, m: &Map<String, Value>, allowed: &[&str]) {
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

    fn required<'v>(
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

    fn string(&mut self, path: &str, m: &Map<String, Value>, key: &str) -> Option<String> {
        let v = self.required(path, m, key)?;
        self.as_string(&join(path, key), v)
    }

    fn as_string(&mut self, path: &str, v: &Value) -> Option<String> {
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

    fn opt_bool(&mut self, path: &str, m: &Map<String, Value>, key: &str) -> Option<bool> {
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

    fn opt_u64(&mut self, path: &str, m: &Map<String, Value>, key: &str) -> Option<u64> {
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

    fn string_list(
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

    fn text(&mut self, path: &str, m: &Map<String, Value>, key: &str) -> Option<Text> {
        let v = self.required(path, m, key)?;
        let p = join(path, key);
        let t = self.object(&p, v)?;
        self.known_keys(&p, t, &["en", "ru"]);
        let en = self.string(&p, t, "en");
        let ru = self.string(&p, t, "ru");
        Some(Text { en: en?, ru: ru? })
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn join(path: &str, key: &str) -> String {
    format!("{path}.{key}")
}

fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

fn check_root(cx: &mut Ctxt, root: &Value) -> Option<Spec> {
    let m = cx.object("$", root)?;
    cx.known_keys(
        "$",
        m,
        &[
            "$schema",
            "formatVersion",
            "source",
            "methods",
            "rateLimit",
            "defaultsAfterCreation",
            "settings",
            "readOnly",
            "rules",
        ],
    );
    match cx.required("$", m, "formatVersion") {
        Some(Value::Number(n)) if n.as_u64() == Some(1) => {}
        Some(other) => cx.error(
            "$.formatVersion",
            format!("unsupported format version {other} (this generator reads 1)"),
        ),
        None => {}
    }
    if let Some(d) = m.get("defaultsAfterCreation") {
        if d != "allOff" {
            cx.error(
                "$.defaultsAfterCreation",
                "the only supported value is \"allOff\"",
            );
        }
    }

    let settings = check_settings(cx, m);
    // Names declared at all, even by settings with other problems, so that one bad setting
    // does not also make every rule that names it "unknown".
    let names: HashSet<String> = match m.get("settings") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| i.get("name").and_then(Value::as_str).map(str::to_string))
            .collect(),
        _ => HashSet::new(),
    };
    let read_only = check_read_only(cx, m, &settings);
    let (set_settings, get_settings) = check_methods(cx, m, &settings).unzip();
    let rate_limit = check_rate_limit(cx, m);
    let rules = check_rules(cx, m, &settings, &names);

    Some(Spec {
        set_settings: set_settings?,
        get_settings: get_settings?,
        rate_limit: rate_limit?,
        settings,
        read_only,
        rules,
    })
}

const SETTING_KEYS: &[&str] = &[
    "name",
    "type",
    "status",
    "range",
    "unit",
    "schemes",
    "allowEmpty",
    "secret",
    "description",
    "notes",
    "since",
];

fn check_settings(cx: &mut Ctxt, root: &Map<String, Value>) -> Vec<Setting> {
    let Some(v) = cx.required("$", root, "settings") else {
        return Vec::new();
    };
    let Value::Array(items) = v else {
        cx.error(
            "$.settings",
            format!("expected an array, found {}", kind(v)),
        );
        return Vec::new();
    };
    if items.is_empty() {
        cx.error("$.settings", "must list at least one setting");
    }
    let mut out = Vec::new();
    // name -> first path, to report duplicates (also names that collide once snake_cased).
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        let path = index("$.settings", i);
        let Some(m) = cx.object(&path, item) else {
            continue;
        };
        cx.known_keys(&path, m, SETTING_KEYS);
        let name = cx
            .string(&path, m, "name")
            .filter(|n| check_name(cx, &join(&path, "name"), n));
        if let Some(n) = &name {
            note_unique(cx, &mut seen, n, &join(&path, "name"));
        }
        let ty = cx.string(&path, m, "type").and_then(|t| {
            let ty = FieldType::from_spec_name(&t);
            if ty.is_none() {
                cx.error(
                    &join(&path, "type"),
                    format!(
                        "unknown type `{t}` (expected one of: {})",
                        FieldType::ALL.join(", ")
                    ),
                );
            }
            ty
        });
        let status = cx.string(&path, m, "status").and_then(|s| {
            let st = Status::from_spec_name(&s);
            if st.is_none() {
                cx.error(
                    &join(&path, "status"),
                    format!(
                        "unknown status `{s}` (expected one of: {})",
                        Status::ALL.join(", ")
                    ),
                );
            }
            st
        });
        let range = check_range(cx, &path, m, ty);
        let unit = m
            .get("unit")
            .and_then(|u| cx.as_string(&join(&path, "unit"), u));
        let schemes = cx.string_list(&path, m, "schemes");
        let allow_empty = cx.opt_bool(&path, m, "allowEmpty");
        let secret = cx.opt_bool(&path, m, "secret").unwrap_or(false);
        let description = cx.text(&path, m, "description");
        let notes = cx.string_list(&path, m, "notes").unwrap_or_default();
        if m.contains_key("since") {
            let _ = cx.as_string(&join(&path, "since"), &m["since"]);
        }
        if let Some(ty) = ty {
            if ty != FieldType::Url && (schemes.is_some() || allow_empty.is_some()) {
                cx.error(&path, "`schemes` and `allowEmpty` apply only to type `url`");
            }
            if ty != FieldType::Integer && unit.is_some() {
                cx.error(
                    &join(&path, "unit"),
                    "`unit` applies only to type `integer`",
                );
            }
            if ty == FieldType::Url && schemes.as_ref().is_none_or(|s| s.is_empty()) {
                cx.error(&path, "a `url` setting must list its allowed `schemes`");
            }
        }
        if let (Some(name), Some(ty), Some(status), Some(description)) =
            (name, ty, status, description)
        {
            out.push(Setting {
                snake: snake_case(&name),
                name,
                ty,
                status,
                range,
                unit,
                schemes: schemes.unwrap_or_default(),
                allow_empty: allow_empty.unwrap_or(false),
                secret,
                description,
                notes,
            });
        }
    }
    out
}

fn check_name(cx: &mut Ctxt, path: &str, name: &str) -> bool {
    let ok = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_alphanumeric());
    if !ok {
        cx.error(
            path,
            format!(
                "`{name}` is not a camelCase API name (letters and digits, starting lower-case)"
            ),
        );
        return false;
    }
    let snake = snake_case(name);
    if syn::parse_str::<syn::Ident>(&snake).is_err() {
        cx.error(path, format!("`{name}` becomes `{snake}`, a Rust keyword"));
        return false;
    }
    true
}

fn note_unique(cx: &mut Ctxt, seen: &mut BTreeMap<String, String>, name: &str, path: &str) {
    let key = snake_case(name);
    if let Some(first) = seen.get(&key) {
        cx.error(
            path,
            format!("duplicate field `{name}` (first defined at {first})"),
        );
    } else {
        seen.insert(key, path.to_string());
    }
}

fn check_range(
    cx: &mut Ctxt,
    path: &str,
    m: &Map<String, Value>,
    ty: Option<FieldType>,
) -> Option<(i64, i64)> {
    let v = m.get("range")?;
    let p = join(path, "range");
    if ty.is_some_and(|t| t != FieldType::Integer) {
        cx.error(&p, "`range` applies only to type `integer`");
        return None;
    }
    let r = cx.object(&p, v)?;
    cx.known_keys(&p, r, &["min", "max"]);
    let mut bound = |key: &str| match cx.required(&p, r, key) {
        Some(Value::Number(n)) if n.as_i64().is_some() => n.as_i64(),
        Some(other) => {
            cx.error(
                &join(&p, key),
                format!("expected an integer, found {}", kind(other)),
            );
            None
        }
        None => None,
    };
    let (min, max) = (bound("min")?, bound("max")?);
    if min > max {
        cx.error(&p, format!("min ({min}) is greater than max ({max})"));
        return None;
    }
    Some((min, max))
}

fn check_read_only(
    cx: &mut Ctxt,
    root: &Map<String, Value>,
    settings: &[Setting],
) -> Vec<ReadOnlyField> {
    let Some(v) = root.get("readOnly") else {
        return Vec::new();
    };
    let Value::Array(items) = v else {
        cx.error(
            "$.readOnly",
            format!("expected an array, found {}", kind(v)),
        );
        return Vec::new();
    };
    let mut seen: BTreeMap<String, String> = settings
        .iter()
        .enumerate()
        .map(|(i, s)| (s.snake.clone(), format!("$.settings[{i}].name")))
        .collect();
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = index("$.readOnly", i);
        let Some(m) = cx.object(&path, item) else {
            continue;
        };
        cx.known_keys(&path, m, &["name", "type", "description"]);
        let name = cx
            .string(&path, m, "name")
            .filter(|n| check_name(cx, &join(&path, "name"), n));
        if let Some(n) = &name {
            note_unique(cx, &mut seen, n, &join(&path, "name"));
        }
        let ty = cx.string(&path, m, "type").and_then(|t| match FieldType::from_spec_name(&t) {
            Some(ty @ (FieldType::String | FieldType::Integer | FieldType::YesNo)) => Some(ty),
            _ => {
                cx.error(&join(&path, "type"), format!("unknown read-only type `{t}` (expected one of: string, integer, yesNo)"));
                None
            }
        });
        let description = cx.text(&path, m, "description");
        if let (Some(name), Some(ty), Some(description)) = (name, ty, description) {
            out.push(ReadOnlyField {
                snake: snake_case(&name),
                name,
                ty,
                description,
            });
        }
    }
    out
}

fn check_methods(
    cx: &mut Ctxt,
    root: &Map<String, Value>,
    settings: &[Setting],
) -> Option<(Method, Method)> {
    let v = cx.required("$", root, "methods")?;
    let m = cx.object("$.methods", v)?;
    cx.known_keys("$.methods", m, &["setSettings", "getSettings"]);
    let set = check_method(cx, m, "setSettings", "POST", settings);
    let get = check_method(cx, m, "getSettings", "GET", settings);
    Some((set?, get?))
}

fn check_method(
    cx: &mut Ctxt,
    methods: &Map<String, Value>,
    name: &str,
    http: &str,
    settings: &[Setting],
) -> Option<Method> {
    let path = join("$.methods", name);
    let v = cx.required("$.methods", methods, name)?;
    let m = cx.object(&path, v)?;
    cx.known_keys(
        &path,
        m,
        &[
            "httpMethod",
            "path",
            "contentType",
            "restartsInstance",
            "appliesWithinSeconds",
            "minParameters",
            "response",
            "exampleBody",
            "exampleResponse",
            "description",
        ],
    );
    let http_method = cx.string(&path, m, "httpMethod");
    if let Some(h) = &http_method {
        if h != http {
            cx.error(
                &join(&path, "httpMethod"),
                format!("{name} is called with {http}, not {h}"),
            );
        }
    }
    let template = cx.string(&path, m, "path");
    if let Some(t) = &template {
        for part in ["{apiUrl}", "{idInstance}", "{apiTokenInstance}", name] {
            if !t.contains(part) {
                cx.error(
                    &join(&path, "path"),
                    format!("the path template must contain `{part}`"),
                );
            }
        }
    }
    let restarts_instance = cx.opt_bool(&path, m, "restartsInstance").unwrap_or(false);
    let applies_within_seconds = cx.opt_u64(&path, m, "appliesWithinSeconds");
    let min_parameters = cx.opt_u64(&path, m, "minParameters");
    let example_body = m.get("exampleBody").cloned();
    if let Some(body) = &example_body {
        let bp = join(&path, "exampleBody");
        if let Some(b) = cx.object(&bp, body) {
            for k in b.keys() {
                if !settings.iter().any(|s| &s.name == k) {
                    cx.error(
                        &join(&bp, k),
                        format!("`{k}` is not a setting of this spec"),
                    );
                }
            }
        }
    }
    let example_response = m.get("exampleResponse").cloned();
    let description = cx.text(&path, m, "description");
    Some(Method {
        name: name.to_string(),
        http_method: http_method?,
        path: template?,
        restarts_instance,
        applies_within_seconds,
        min_parameters,
        example_body,
        example_response,
        description: description?,
    })
}

fn check_rate_limit(cx: &mut Ctxt, root: &Map<String, Value>) -> Option<RateLimit> {
    let v = cx.required("$", root, "rateLimit")?;
    let m = cx.object("$.rateLimit", v)?;
    cx.known_keys(
        "$.rateLimit",
        m,
        &["requestsPerSecond", "scope", "httpStatus", "methods"],
    );
    let rps = cx.opt_u64("$.rateLimit", m, "requestsPerSecond");
    if rps.is_none() && !m.contains_key("requestsPerSecond") {
        cx.error("$.rateLimit", "missing required key `requestsPerSecond`");
    }
    let scope = cx.string("$.rateLimit", m, "scope");
    let status = cx.opt_u64("$.rateLimit", m, "httpStatus").unwrap_or(429);
    let _ = cx.string_list("$.rateLimit", m, "methods");
    Some(RateLimit {
        requests_per_second: rps?,
        scope: scope?,
        http_status: u16::try_from(status).unwrap_or(429),
    })
}

fn check_rules(
    cx: &mut Ctxt,
    root: &Map<String, Value>,
    settings: &[Setting],
    names: &HashSet<String>,
) -> Vec<Rule> {
    let Some(v) = root.get("rules") else {
        return Vec::new();
    };
    let Value::Array(items) = v else {
        cx.error("$.rules", format!("expected an array, found {}", kind(v)));
        return Vec::new();
    };
    let mut ids = HashSet::new();
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = index("$.rules", i);
        let Some(m) = cx.object(&path, item) else {
            continue;
        };
        cx.known_keys(
            &path,
            m,
            &[
                "id",
                "kind",
                "field",
                "when",
                "allOf",
                "anyOf",
                "description",
            ],
        );
        let id = cx.string(&path, m, "id");
        if let Some(id) = &id {
            if !ids.insert(id.clone()) {
                cx.error(&join(&path, "id"), format!("duplicate rule id `{id}`"));
            }
        }
        let field = cx.string(&path, m, "field");
        if let Some(f) = &field {
            check_rule_field(cx, &join(&path, "field"), f, settings, names);
        }
        let when = cx.string_list(&path, m, "when");
        let all_of = cx.string_list(&path, m, "allOf");
        let any_of = cx.string_list(&path, m, "anyOf");
        for (key, list) in [("when", &when), ("allOf", &all_of), ("anyOf", &any_of)] {
            let Some(list) = list else { continue };
            if list.is_empty() {
                cx.error(&join(&path, key), "must name at least one setting");
            }
            for (j, other) in list.iter().enumerate() {
                let p = index(&join(&path, key), j);
                check_rule_field(cx, &p, other, settings, names);
                if Some(other) == field.as_ref() {
                    cx.error(
                        &p,
                        format!("a rule cannot depend on its own field `{other}`"),
                    );
                }
            }
        }
        let kind_name = cx.string(&path, m, "kind");
        let kind = kind_name.and_then(|k| {
            let lists = (when.clone(), all_of.clone(), any_of.clone());
            match (k.as_str(), lists) {
                ("ignoredWhen", (Some(w), None, None)) => Some(RuleKind::IgnoredWhen(w)),
                ("effectiveOnlyWith", (None, Some(a), None)) => Some(RuleKind::EffectiveOnlyWithAll(a)),
                ("effectiveOnlyWith", (None, None, Some(a))) => Some(RuleKind::EffectiveOnlyWithAny(a)),
                ("advice", (None, None, None)) => Some(RuleKind::Advice),
                ("ignoredWhen", _) => {
                    cx.error(&path, "an `ignoredWhen` rule takes `when` and no `allOf`/`anyOf`");
                    None
                }
                ("effectiveOnlyWith", _) => {
                    cx.error(&path, "an `effectiveOnlyWith` rule takes exactly one of `allOf` or `anyOf`");
                    None
                }
                ("advice", _) => {
                    cx.error(&path, "an `advice` rule takes no `when`/`allOf`/`anyOf`");
                    None
                }
                (other, _) => {
                    cx.error(
                        &join(&path, "kind"),
                        format!("unknown rule kind `{other}` (expected one of: ignoredWhen, effectiveOnlyWith, advice)"),
                    );
                    None
                }
            }
        });
        let description = cx.text(&path, m, "description");
        if let (Some(id), Some(field), Some(kind), Some(description)) =
            (id, field, kind, description)
        {
            out.push(Rule {
                id,
                field,
                kind,
                description,
            });
        }
    }
    out
}

fn check_rule_field(
    cx: &mut Ctxt,
    path: &str,
    name: &str,
    settings: &[Setting],
    names: &HashSet<String>,
) {
    if !names.contains(name) {
        cx.error(path, format!("rule names unknown field `{name}`"));
    } else if settings
        .iter()
        .any(|s| s.name == name && s.ty != FieldType::YesNo)
    {
        cx.error(
            path,
            format!("rules relate yes/no settings; `{name}` is not one"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<String> {
        load_str(text)
            .unwrap_err()
            .0
            .iter()
            .map(|e| e.to_string())
            .collect()
    }

    const SPEC: &str = include_str!("../../../spec/settings.json");

    fn with(f: impl FnOnce(&mut Value)) -> String {
        let mut v: Value = serde_json::from_str(SPEC).unwrap();
        f(&mut v);
        v.to_string()
    }

    #[test]
    fn the_project_spec_loads_with_all_19_settings() {
        let spec = load_str(SPEC).unwrap();
        assert_eq!(spec.settings.len(), 19);
        assert_eq!(spec.rules.len(), 5);
        assert!(spec.set_settings.restarts_instance);
        assert_eq!(spec.set_settings.min_parameters, Some(1));
        assert_eq!(spec.set_settings.applies_within_seconds, Some(300));
        let delay = spec.setting("delaySendMessagesMilliseconds").unwrap();
        assert_eq!(delay.range, Some((500, 86_400_000)));
    }

    #[test]
    fn invalid_json_reports_line_and_column() {
        let e = errors("{\n  \"settings\": [,]\n}");
        assert_eq!(e.len(), 1);
        assert!(
            e[0].starts_with("$: invalid JSON at line 2, column 16"),
            "{e:?}"
        );
    }

    #[test]
    fn every_problem_is_reported_in_one_pass() {
        let text = with(|v| {
            v["settings"][2]["range"]["min"] = 900_000_000.into();
            v["settings"][3]["type"] = "boolean".into();
            v["settings"][4]["name"] = "webhookUrl".into();
            v["rules"][0]["field"] = "noSuchField".into();
        });
        let e = errors(&text);
        assert!(
            e.contains(
                &"$.settings[2].range: min (900000000) is greater than max (86400000)".to_string()
            ),
            "{e:?}"
        );
        assert!(
            e.iter()
                .any(|m| m.starts_with("$.settings[3].type: unknown type `boolean`")),
            "{e:?}"
        );
        assert!(e.contains(&"$.settings[4].name: duplicate field `webhookUrl` (first defined at $.settings[0].name)".to_string()), "{e:?}");
        assert!(
            e.contains(&"$.rules[0].field: rule names unknown field `noSuchField`".to_string()),
            "{e:?}"
        );
    }

    #[test]
    fn unknown_keys_are_reported_as_typos() {
        let text = with(|v| v["settings"][2]["rnage"] = Value::Null);
        assert!(errors(&text)[0].starts_with("$.settings[2].rnage: unknown key `rnage`"));
    }

    #[test]
    fn missing_descriptions_and_bad_statuses_are_reported() {
        let text = with(|v| {
            v["settings"][0]
                .as_object_mut()
                .unwrap()
                .remove("description");
            v["settings"][1]["status"] = "retired".into();
        });
        let e = errors(&text);
        assert!(
            e.contains(&"$.settings[0]: missing required key `description`".to_string()),
            "{e:?}"
        );
        assert!(
            e.iter()
                .any(|m| m.starts_with("$.settings[1].status: unknown status `retired`")),
            "{e:?}"
        );
    }

    #[test]
    fn rules_must_relate_yes_no_settings_and_not_themselves() {
        let text = with(|v| {
            v["rules"][1]["allOf"] =
                serde_json::json!(["delaySendMessagesMilliseconds", "outgoingMessageWebhook"]);
        });
        let e = errors(&text);
        assert!(e.contains(&"$.rules[1].allOf[0]: rules relate yes/no settings; `delaySendMessagesMilliseconds` is not one".to_string()), "{e:?}");
        assert!(e.contains(&"$.rules[1].allOf[1]: a rule cannot depend on its own field `outgoingMessageWebhook`".to_string()), "{e:?}");
    }

    #[test]
    fn example_body_may_only_name_known_settings() {
        let text = with(|v| v["methods"]["setSettings"]["exampleBody"]["webhookURL"] = "x".into());
        assert_eq!(errors(&text), vec!["$.methods.setSettings.exampleBody.webhookURL: `webhookURL` is not a setting of this spec"]);
    }

    #[test]
    fn path_templates_must_carry_the_credentials() {
        let text = with(|v| v["methods"]["getSettings"]["path"] = "{apiUrl}/getSettings".into());
        let e = errors(&text);
        assert!(
            e.contains(
                &"$.methods.getSettings.path: the path template must contain `{idInstance}`"
                    .to_string()
            ),
            "{e:?}"
        );
        assert!(
            e.contains(
                &"$.methods.getSettings.path: the path template must contain `{apiTokenInstance}`"
                    .to_string()
            ),
            "{e:?}"
        );
    }

    #[test]
    fn a_missing_file_is_a_clear_error() {
        let e = load_file(std::path::Path::new("/nonexistent/spec.json")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "$: cannot read the spec file: file not found"
        );
    }
}
