//! One `check_*` function per part of the spec: each reads its part through [`Ctxt`],
//! records every problem and returns what it could build.

use std::collections::{BTreeMap, HashSet};

use serde_json::{Map, Value};

use super::ctxt::{index, join, kind, Ctxt};
use super::rules::check_rules;
use crate::model::{
    snake_case, FieldType, Method, RateLimit, ReadOnlyField, Setting, Spec, Status,
};

pub(super) fn check_root(cx: &mut Ctxt, root: &Value) -> Option<Spec> {
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
            "notifications",
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
    let notifications = super::notifications::check_notifications(cx, m, &settings);

    Some(Spec {
        set_settings: set_settings?,
        get_settings: get_settings?,
        rate_limit: rate_limit?,
        settings,
        read_only,
        rules,
        notifications,
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
    "maxLength",
    "alwaysReturned",
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
        let (range, recommended_max) = check_range(cx, &path, m, ty).unzip();
        let recommended_max = recommended_max.flatten();
        let always_returned = cx.opt_bool(&path, m, "alwaysReturned").unwrap_or(true);
        let unit = m
            .get("unit")
            .and_then(|u| cx.as_string(&join(&path, "unit"), u));
        let schemes = cx.string_list(&path, m, "schemes");
        let allow_empty = cx.opt_bool(&path, m, "allowEmpty");
        let secret = cx.opt_bool(&path, m, "secret").unwrap_or(false);
        let max_length = cx.opt_u64(&path, m, "maxLength");
        if max_length == Some(0) {
            cx.error(&join(&path, "maxLength"), "must be at least 1");
        }
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
            if max_length.is_some() && !ty.is_text() {
                cx.error(
                    &join(&path, "maxLength"),
                    "`maxLength` applies only to types `string`, `url` and `token`",
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
                recommended_max,
                always_returned,
                unit,
                schemes: schemes.unwrap_or_default(),
                allow_empty: allow_empty.unwrap_or(false),
                secret,
                max_length,
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
) -> Option<((i64, i64), Option<i64>)> {
    let v = m.get("range")?;
    let p = join(path, "range");
    if ty.is_some_and(|t| t != FieldType::Integer) {
        cx.error(&p, "`range` applies only to type `integer`");
        return None;
    }
    let r = cx.object(&p, v)?;
    cx.known_keys(&p, r, &["min", "max", "recommendedMax"]);
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
    let recommended = match r.get("recommendedMax") {
        None => None,
        Some(Value::Number(n)) if n.as_i64().is_some_and(|v| (min..=max).contains(&v)) => {
            n.as_i64()
        }
        Some(other) => {
            cx.error(
                &join(&p, "recommendedMax"),
                format!("must be an integer between min ({min}) and max ({max}), found {other}"),
            );
            None
        }
    };
    Some(((min, max), recommended))
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
    // The notification methods are read with the `notifications` section they serve.
    cx.known_keys(
        "$.methods",
        m,
        &[
            "setSettings",
            "getSettings",
            "receiveNotification",
            "deleteNotification",
        ],
    );
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
        // The client builds URLs and the sandbox routes requests from this template, so its
        // shape is fixed: `{apiUrl}/<prefix>{idInstance}/<method>/{apiTokenInstance}`.
        if crate::model::instance_prefix(t, name).is_none() {
            cx.error(
                &join(&path, "path"),
                format!(
                    "the path template must have the shape `{{apiUrl}}/<letters>{{idInstance}}/{name}/{{apiTokenInstance}}`"
                ),
            );
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
