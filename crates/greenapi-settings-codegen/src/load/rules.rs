//! The cross-field rules of the spec (`$.rules`): kinds, fields they name, and that every
//! named field is a known yes/no setting.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::ctxt::{index, join, kind, Ctxt};
use crate::model::{FieldType, Rule, RuleKind, Setting};

pub(super) fn check_rules(
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
