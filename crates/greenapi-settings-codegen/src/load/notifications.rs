//! Checks of the spec's `notifications` section and of the two notification methods
//! (`receiveNotification`, `deleteNotification`) in `$.methods`.
//!
//! A rule that names anything but a yes/no setting is an error, and so is an example body
//! that does not fit its type (a field not declared, a required one missing, a JSON type that
//! differs), or a variant whose field does not hold its value: the sandbox builds bodies from
//! these examples and `doctor` reads these rules, so neither may drift from the spec.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::ctxt::{index, join, kind, Ctxt};
use crate::model::{FieldType, Setting};
use crate::notifications::{
    BodyField, BodyObject, DeleteMethod, Delivery, FieldTy, Kind, KindStatus, Notifications,
    ReceiveMethod, SourceRule, Variant, SOURCES,
};

/// The `notifications` section, if the spec has one (spec v1 has none).
pub(super) fn check_notifications(
    cx: &mut Ctxt,
    root: &Map<String, Value>,
    settings: &[Setting],
) -> Option<Notifications> {
    let v = root.get("notifications")?;
    let path = "$.notifications";
    let m = cx.object(path, v)?;
    cx.known_keys(
        path,
        m,
        &["sources", "delivery", "objects", "types", "values", "kinds"],
    );
    let sources = cx.string(path, m, "sources");
    let delivery = check_delivery(cx, m);
    let methods = root.get("methods").and_then(Value::as_object);
    let receive = methods.and_then(|ms| check_receive(cx, ms));
    let delete = methods.and_then(|ms| check_delete(cx, ms));
    let objects = check_objects(cx, m, "objects");
    let types = check_objects(cx, m, "types");
    let names: HashSet<&str> = objects.iter().map(|o| o.name.as_str()).collect();
    for (list, o) in [("objects", &objects), ("types", &types)] {
        for obj in o {
            for f in &obj.fields {
                check_refs(
                    cx,
                    &format!("{path}.{list}.{}.{}", obj.name, f.name),
                    &f.ty,
                    &names,
                );
            }
        }
    }
    let values = check_values(cx, m, &objects, &types);
    let yes_no: HashSet<&str> = settings
        .iter()
        .filter(|s| s.ty == FieldType::YesNo)
        .map(|s| s.name.as_str())
        .collect();
    let all: HashSet<&str> = settings.iter().map(|s| s.name.as_str()).collect();
    let draft = Notifications {
        sources: sources.unwrap_or_default(),
        delivery: delivery?,
        receive: receive?,
        delete: delete?,
        objects,
        types,
        values,
        kinds: Vec::new(),
    };
    let kinds = check_kinds(cx, m, &draft, &yes_no, &all);
    Some(Notifications { kinds, ..draft })
}

fn check_delivery(cx: &mut Ctxt, m: &Map<String, Value>) -> Option<Delivery> {
    let path = "$.notifications.delivery";
    let v = cx.required("$.notifications", m, "delivery")?;
    let d = cx.object(path, v)?;
    cx.known_keys(
        path,
        d,
        &[
            "httpMethod",
            "contentType",
            "responseTimeoutSeconds",
            "retryPauseSeconds",
            "successStatus",
            "authorizationScheme",
            "guaranteedWithinHours",
            "citation",
            "description",
        ],
    );
    if let Some(h) = cx.string(path, d, "httpMethod") {
        if h != "POST" {
            cx.error(
                &join(path, "httpMethod"),
                "notifications are delivered with POST",
            );
        }
    }
    if let Some(c) = cx.string(path, d, "contentType") {
        if c != "application/json" {
            cx.error(
                &join(path, "contentType"),
                "bodies are JSON: application/json",
            );
        }
    }
    let positive = |cx: &mut Ctxt, key: &str| -> Option<u64> {
        cx.required(path, d, key)?;
        match cx.opt_u64(path, d, key)? {
            0 => {
                cx.error(&join(path, key), "must be greater than 0");
                None
            }
            n => Some(n),
        }
    };
    let timeout = positive(cx, "responseTimeoutSeconds");
    let pause = positive(cx, "retryPauseSeconds");
    let hours = positive(cx, "guaranteedWithinHours");
    let status = positive(cx, "successStatus").and_then(|s| match u16::try_from(s) {
        Ok(s) if (200..300).contains(&s) => Some(s),
        _ => {
            cx.error(&join(path, "successStatus"), "must be a 2xx status");
            None
        }
    });
    let scheme = cx.string(path, d, "authorizationScheme");
    let citation = cx.string(path, d, "citation");
    let description = cx.string(path, d, "description");
    Some(Delivery {
        response_timeout_seconds: timeout?,
        retry_pause_seconds: pause?,
        success_status: status?,
        authorization_scheme: scheme?,
        guaranteed_within_hours: hours?,
        citation: citation?,
        description: description?,
    })
}

/// A notification method's path template: fixed shape, so the sandbox can route it.
fn check_path(cx: &mut Ctxt, path: &str, template: &str, name: &str, extra: &[&str]) {
    let mut want = vec![
        "{apiUrl}".to_string(),
        "{idInstance}".into(),
        "{apiTokenInstance}".into(),
    ];
    want.push(format!("/{name}/"));
    want.extend(extra.iter().map(|s| s.to_string()));
    for part in want {
        if !template.contains(&part) {
            cx.error(path, format!("the path template must contain `{part}`"));
        }
    }
}

fn method<'v>(
    cx: &mut Ctxt,
    methods: &'v Map<String, Value>,
    name: &str,
    keys: &[&str],
) -> Option<(String, &'v Map<String, Value>)> {
    let Some(v) = methods.get(name) else {
        cx.error(
            "$.methods",
            format!("missing required key `{name}` (the spec has notifications)"),
        );
        return None;
    };
    let path = join("$.methods", name);
    let m = cx.object(&path, v)?;
    cx.known_keys(&path, m, keys);
    Some((path, m))
}

fn check_receive(cx: &mut Ctxt, methods: &Map<String, Value>) -> Option<ReceiveMethod> {
    let name = "receiveNotification";
    let (path, m) = method(
        cx,
        methods,
        name,
        &["httpMethod", "path", "receiveTimeout", "description"],
    )?;
    let http = cx.string(&path, m, "httpMethod");
    if http.as_deref().is_some_and(|h| h != "GET") {
        cx.error(
            &join(&path, "httpMethod"),
            format!("{name} is called with GET"),
        );
    }
    let template = cx.string(&path, m, "path");
    if let Some(t) = &template {
        check_path(cx, &join(&path, "path"), t, name, &[]);
    }
    let description = cx.text(&path, m, "description");
    let tp = join(&path, "receiveTimeout");
    let t = cx
        .required(&path, m, "receiveTimeout")
        .and_then(|v| cx.object(&tp, v));
    let (mut min, mut max, mut default) = (None, None, None);
    if let Some(t) = t {
        cx.known_keys(&tp, t, &["min", "max", "default", "unit"]);
        for k in ["min", "max", "default"] {
            cx.required(&tp, t, k);
        }
        min = cx.opt_u64(&tp, t, "min");
        max = cx.opt_u64(&tp, t, "max");
        default = cx.opt_u64(&tp, t, "default");
        if let (Some(lo), Some(hi), Some(d)) = (min, max, default) {
            if lo > hi || !(lo..=hi).contains(&d) {
                cx.error(
                    &tp,
                    format!("needs min <= default <= max (got {lo}, {d}, {hi})"),
                );
            }
        }
        if t.get("unit").and_then(Value::as_str) != Some("s") {
            cx.error(
                &join(&tp, "unit"),
                "receiveTimeout is in seconds: `\"unit\": \"s\"`",
            );
        }
    }
    Some(ReceiveMethod {
        http_method: http?,
        path: template?,
        timeout_range: (min?, max?),
        timeout_default: default?,
        description: description?.en,
    })
}

fn check_delete(cx: &mut Ctxt, methods: &Map<String, Value>) -> Option<DeleteMethod> {
    let name = "deleteNotification";
    let (path, m) = method(cx, methods, name, &["httpMethod", "path", "description"])?;
    let http = cx.string(&path, m, "httpMethod");
    if http.as_deref().is_some_and(|h| h != "DELETE") {
        cx.error(
            &join(&path, "httpMethod"),
            format!("{name} is called with DELETE"),
        );
    }
    let template = cx.string(&path, m, "path");
    if let Some(t) = &template {
        check_path(cx, &join(&path, "path"), t, name, &["{receiptId}"]);
    }
    let description = cx.text(&path, m, "description");
    Some(DeleteMethod {
        http_method: http?,
        path: template?,
        description: description?.en,
    })
}

/// `"string"`, `"Name?"`, `"PollOption[]?"`.
fn parse_ty(spelled: &str) -> Option<(FieldTy, bool)> {
    let (s, optional) = match spelled.strip_suffix('?') {
        Some(s) => (s, true),
        None => (spelled, false),
    };
    fn one(s: &str) -> Option<FieldTy> {
        if let Some(inner) = s.strip_suffix("[]") {
            return Some(FieldTy::Array(Box::new(one(inner)?)));
        }
        Some(match s {
            "string" => FieldTy::String,
            "integer" => FieldTy::Integer,
            "boolean" => FieldTy::Boolean,
            n if n.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                && n.chars().all(|c| c.is_ascii_alphanumeric()) =>
            {
                FieldTy::Object(n.to_string())
            }
            _ => return None,
        })
    }
    Some((one(s)?, optional))
}

fn check_objects(cx: &mut Ctxt, m: &Map<String, Value>, key: &str) -> Vec<BodyObject> {
    let path = join("$.notifications", key);
    let Some(v) = cx.required("$.notifications", m, key) else {
        return Vec::new();
    };
    let Some(objs) = cx.object(&path, v) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, fields) in objs {
        let op = join(&path, name);
        let Some(fm) = cx.object(&op, fields) else {
            continue;
        };
        let mut fs = Vec::new();
        for (fname, spelled) in fm {
            let fp = join(&op, fname);
            let Some(s) = cx.as_string(&fp, spelled) else {
                continue;
            };
            match parse_ty(&s) {
                Some((ty, optional)) => fs.push(BodyField {
                    name: fname.clone(),
                    ty,
                    optional,
                }),
                None => cx.error(
                    &fp,
                    format!(
                        "unknown type `{s}` (expected string, integer, boolean, an object's name, \
                         `T[]`, with `?` for an optional field)"
                    ),
                ),
            }
        }
        out.push(BodyObject {
            name: name.clone(),
            fields: fs,
        });
    }
    out
}

fn check_refs(cx: &mut Ctxt, path: &str, ty: &FieldTy, names: &HashSet<&str>) {
    match ty {
        FieldTy::Object(n) if !names.contains(n.as_str()) => cx.error(
            path,
            format!("names unknown object `{n}` (not in $.notifications.objects)"),
        ),
        FieldTy::Array(t) => check_refs(cx, path, t, names),
        _ => {}
    }
}

fn check_values(
    cx: &mut Ctxt,
    m: &Map<String, Value>,
    objects: &[BodyObject],
    types: &[BodyObject],
) -> Vec<(String, Vec<String>)> {
    let path = "$.notifications.values";
    let Some(v) = m.get("values") else {
        return Vec::new();
    };
    let Some(vm) = cx.object(path, v) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for key in vm.keys() {
        let owner_field = key.split_once('.');
        let field = owner_field.and_then(|(owner, field)| {
            objects
                .iter()
                .chain(types)
                .find(|o| o.name == owner)?
                .fields
                .iter()
                .find(|f| f.name == field)
        });
        match field {
            Some(f) if f.ty == FieldTy::String => {}
            Some(_) => cx.error(&join(path, key), "values are listed for text fields only"),
            None => cx.error(
                &join(path, key),
                "names no field: expected `Object.field` or `typeWebhook.field`",
            ),
        }
        if let Some(list) = cx.string_list(path, vm, key) {
            out.push((key.clone(), list));
        }
    }
    out
}

fn check_kinds(
    cx: &mut Ctxt,
    m: &Map<String, Value>,
    n: &Notifications,
    yes_no: &HashSet<&str>,
    all: &HashSet<&str>,
) -> Vec<Kind> {
    let path = "$.notifications.kinds";
    let Some(v) = cx.required("$.notifications", m, "kinds") else {
        return Vec::new();
    };
    let Value::Array(items) = v else {
        cx.error(path, format!("expected an array, found {}", kind(v)));
        return Vec::new();
    };
    let mut out: Vec<Kind> = Vec::new();
    let mut keys = HashSet::new();
    for (i, item) in items.iter().enumerate() {
        let p = index(path, i);
        let Some(k) = check_kind(cx, &p, item, n, yes_no, all) else {
            continue;
        };
        if !keys.insert(k.key()) {
            cx.error(&p, format!("duplicate kind `{}`", k.key()));
        }
        out.push(k);
    }
    out
}

fn check_kind(
    cx: &mut Ctxt,
    p: &str,
    item: &Value,
    n: &Notifications,
    yes_no: &HashSet<&str>,
    all: &HashSet<&str>,
) -> Option<Kind> {
    let m = cx.object(p, item)?;
    cx.known_keys(
        p,
        m,
        &[
            "typeWebhook",
            "variant",
            "status",
            "description",
            "sources",
            "notes",
            "body",
        ],
    );
    let type_webhook = cx.string(p, m, "typeWebhook");
    if let Some(t) = &type_webhook {
        if n.body_type(t).is_none() {
            cx.error(
                &join(p, "typeWebhook"),
                format!("`{t}` has no body type in $.notifications.types"),
            );
        }
    }
    let status = cx.string(p, m, "status").and_then(|s| {
        let st = KindStatus::from_spec_name(&s);
        if st.is_none() {
            cx.error(
                &join(p, "status"),
                format!(
                    "unknown status `{s}` (expected one of: {})",
                    KindStatus::ALL.join(", ")
                ),
            );
        }
        st
    });
    let description = cx.string(p, m, "description");
    let notes = if m.contains_key("notes") {
        cx.string_list(p, m, "notes").unwrap_or_default()
    } else {
        Vec::new()
    };
    let variant = match m.get("variant") {
        None => Some(None),
        Some(v) => check_variant(cx, &join(p, "variant"), v).map(Some),
    };
    let sources = check_sources(cx, p, m, yes_no, all);
    let body = cx.required(p, m, "body").cloned();
    if let (Some(b), Some(t)) = (&body, &type_webhook) {
        check_body(
            cx,
            &join(p, "body"),
            b,
            t,
            variant.as_ref().and_then(Option::as_ref),
            n,
        );
    }
    Some(Kind {
        type_webhook: type_webhook?,
        variant: variant?,
        status: status?,
        description: description?,
        sources: sources?,
        notes,
        body: body?,
    })
}

fn check_variant(cx: &mut Ctxt, p: &str, v: &Value) -> Option<Variant> {
    let m = cx.object(p, v)?;
    cx.known_keys(p, m, &["name", "field", "value"]);
    let name = cx.string(p, m, "name");
    if let Some(nm) = &name {
        if !nm.chars().all(|c| c.is_ascii_alphanumeric()) {
            cx.error(
                &join(p, "name"),
                "letters and digits only (it is part of a key `type:variant`)",
            );
        }
    }
    let field = cx.string(p, m, "field");
    let value = cx.required(p, m, "value").cloned();
    Some(Variant {
        name: name?,
        field: field?,
        value: value?,
    })
}

fn check_sources(
    cx: &mut Ctxt,
    p: &str,
    m: &Map<String, Value>,
    yes_no: &HashSet<&str>,
    all: &HashSet<&str>,
) -> Option<Vec<SourceRule>> {
    let sp = join(p, "sources");
    let v = cx.required(p, m, "sources")?;
    let Value::Array(items) = v else {
        cx.error(&sp, format!("expected an array, found {}", kind(v)));
        return None;
    };
    if items.is_empty() {
        cx.error(&sp, "every rule needs at least one source");
    }
    let mut out = Vec::new();
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let ip = index(&sp, i);
        let Some(s) = cx.object(&ip, item) else {
            ok = false;
            continue;
        };
        cx.known_keys(&ip, s, &["source", "requires", "citation"]);
        let source = cx.string(&ip, s, "source");
        if let Some(src) = &source {
            if !SOURCES.contains(&src.as_str()) {
                cx.error(
                    &join(&ip, "source"),
                    format!(
                        "unknown source `{src}` (expected one of: {})",
                        SOURCES.join(", ")
                    ),
                );
            }
        }
        cx.required(&ip, s, "requires");
        let requires = cx.string_list(&ip, s, "requires");
        if let Some(r) = &requires {
            for (j, name) in r.iter().enumerate() {
                let rp = index(&join(&ip, "requires"), j);
                if !all.contains(name.as_str()) {
                    cx.error(&rp, format!("rule names unknown setting `{name}`"));
                } else if !yes_no.contains(name.as_str()) {
                    cx.error(
                        &rp,
                        format!("rule names `{name}`, which is not a yes/no setting"),
                    );
                }
            }
        }
        let citation = cx.string(&ip, s, "citation");
        match (source, requires, citation) {
            (Some(source), Some(requires), Some(citation)) => out.push(SourceRule {
                source,
                requires,
                citation,
            }),
            _ => ok = false,
        }
    }
    ok.then_some(out)
}

/// The example body fits its type; its typeWebhook and variant field say what the kind is.
fn check_body(
    cx: &mut Ctxt,
    p: &str,
    body: &Value,
    type_webhook: &str,
    variant: Option<&Variant>,
    n: &Notifications,
) {
    let Some(ty) = n.body_type(type_webhook) else {
        return;
    };
    if body.get("typeWebhook").and_then(Value::as_str) != Some(type_webhook) {
        cx.error(
            &join(p, "typeWebhook"),
            format!("must be \"{type_webhook}\", the kind's typeWebhook"),
        );
    }
    if let Some(v) = variant {
        let at = v.field.split('.').try_fold(body, |node, key| node.get(key));
        if at != Some(&v.value) {
            cx.error(
                &join(p, &v.field),
                format!("must be {}, the value of variant `{}`", v.value, v.name),
            );
        }
    }
    check_fits(cx, p, body, ty, n);
}

fn check_fits(cx: &mut Ctxt, p: &str, v: &Value, obj: &BodyObject, n: &Notifications) {
    let Some(m) = cx.object(p, v) else {
        return;
    };
    for f in &obj.fields {
        match m.get(&f.name) {
            None if !f.optional => cx.error(
                p,
                format!("missing field `{}` ({} requires it)", f.name, obj.name),
            ),
            None => {}
            Some(x) => check_value(cx, &join(p, &f.name), x, &f.ty, n),
        }
    }
    for k in m.keys() {
        if !obj.fields.iter().any(|f| &f.name == k) {
            cx.error(&join(p, k), format!("field not declared in {}", obj.name));
        }
    }
}

fn check_value(cx: &mut Ctxt, p: &str, v: &Value, ty: &FieldTy, n: &Notifications) {
    let ok = match (ty, v) {
        (FieldTy::String, Value::String(_)) | (FieldTy::Boolean, Value::Bool(_)) => true,
        (FieldTy::Integer, Value::Number(x)) => x.is_i64() || x.is_u64(),
        (FieldTy::Array(t), Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                check_value(cx, &index(p, i), item, t, n);
            }
            true
        }
        (FieldTy::Object(name), Value::Object(_)) => {
            if let Some(o) = n.object(name) {
                check_fits(cx, p, v, o, n);
            }
            true
        }
        _ => false,
    };
    if !ok {
        cx.error(p, format!("expected {}, found {}", ty.spec_name(), kind(v)));
    }
}
