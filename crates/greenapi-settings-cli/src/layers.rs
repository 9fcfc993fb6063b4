//! Resolving a [`SettingsFile`] for instances: defaults overlaid with the instance's override,
//! placeholders expanded ([`crate::template`]), the result validated. Every instance is
//! resolved and validated before anything is sent; problems are listed all at once, naming
//! instance and field, and never show a value taken from the environment.

use std::collections::BTreeMap;
use std::sync::Arc;

use greenapi_settings::{FieldInfo, SettingsPatch, Violation};
use serde_json::{Map, Value};

use crate::exit::CliError;
use crate::settings_file::SettingsFile;
use crate::template::{expand, Env, Expanded, ID_PLACEHOLDER};

/// The instance id used to check defaults on their own (`validate` without instances).
pub const SAMPLE_ID: u64 = 1_101_000_000;

/// Most problem lines printed; the rest are counted.
const MAX_PROBLEM_LINES: usize = 100;

/// One instance's desired settings, resolved and valid.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolved {
    /// The instance.
    pub id: u64,
    /// The desired settings.
    pub patch: SettingsPatch,
    /// Validation warnings (messages already [`hide`](Resolved::hide)-den).
    pub warnings: Vec<Violation>,
    /// API name of each setting whose value came (in part) from the environment, with the
    /// expansion that made it.
    from_env: Vec<(&'static str, Expanded)>,
}

impl Resolved {
    /// A copy of `v` that shows no environment value of the setting it is about.
    pub fn hide(&self, v: &Violation) -> Violation {
        hide_with(&self.from_env, v)
    }
}

fn hide_with(from_env: &[(&'static str, Expanded)], v: &Violation) -> Violation {
    let field = v.field.as_deref().and_then(FieldInfo::find).map(|f| f.name);
    let mut out = v.clone();
    for (name, exp) in from_env {
        if field == Some(*name) {
            out.message = exp.hide(&out.message);
            out.value = out.value.take().map(|val| match val {
                Value::String(s) => Value::String(exp.hide(&s)),
                other => other,
            });
        }
    }
    out
}

/// Expands and parses one table for `id`: the patch, and the settings that used `${NAME}`.
/// A value with a problem is left out (and its problem listed), so the rest is still checked.
fn table_patch(
    table: &Map<String, Value>,
    id: u64,
    env: Env<'_>,
    problems: &mut Vec<String>,
) -> (SettingsPatch, Vec<(&'static str, Expanded)>) {
    let mut expanded = Map::new();
    let mut from_env = Vec::new();
    for (key, value) in table {
        let name = FieldInfo::find(key).map(|f| f.name);
        match value {
            Value::String(raw) => match expand(raw, id, env) {
                Ok(e) => {
                    expanded.insert(key.clone(), Value::String(e.text.clone()));
                    if let (Some(name), false) = (name, e.from_env.is_empty()) {
                        from_env.push((name, e));
                    }
                }
                Err(p) => problems.push(format!("{key}: {p}")),
            },
            other => {
                expanded.insert(key.clone(), other.clone());
            }
        }
    }
    match SettingsPatch::from_json_value(&Value::Object(expanded.clone())) {
        Ok(p) => (p, from_env),
        Err(vs) => {
            for v in &vs {
                problems.push(hide_with(&from_env, v).to_string());
                if let Some(f) = &v.field {
                    expanded.retain(|k, _| {
                        k != f && FieldInfo::find(k).map(|i| i.name) != Some(f.as_str())
                    });
                }
            }
            let rest = SettingsPatch::from_json_value(&Value::Object(expanded)).unwrap_or_default();
            (rest, from_env)
        }
    }
}

/// Resolves the file for instance `id`: every problem (as `field: message [rule]` lines), or
/// the valid desired settings with their warnings.
pub fn resolve(file: &SettingsFile, id: u64, env: Env<'_>) -> Result<Resolved, Vec<String>> {
    let mut problems = Vec::new();
    let (mut patch, mut from_env) = table_patch(&file.defaults, id, env, &mut problems);
    if let Some(over) = file.instances.get(&id) {
        let (o, o_env) = table_patch(over, id, env, &mut problems);
        // An override replaces the default's value, and with it the default's env origin.
        let overridden = o.field_names();
        from_env.retain(|(name, _)| !overridden.contains(name));
        from_env.extend(o_env);
        patch.merge(&o);
    }
    let report = patch.validate();
    // With values left out for their problems, "no settings at all" says nothing new.
    let known_problems = !problems.is_empty();
    problems.extend(
        report
            .errors
            .iter()
            .filter(|v| !(known_problems && v.field.is_none()))
            .map(|v| hide_with(&from_env, v).to_string()),
    );
    if !problems.is_empty() {
        return Err(problems);
    }
    let warnings = report
        .warnings
        .iter()
        .map(|v| hide_with(&from_env, v))
        .collect();
    Ok(Resolved {
        id,
        patch,
        warnings,
        from_env,
    })
}

/// Resolves the file for every instance of `ids`, or fails (exit 2, nothing sent) listing
/// every problem of every instance: a problem shared by many instances is one line naming
/// them (`instances 1101000001, 1101000002 and 3 more: …`).
pub fn resolve_all(
    file: &SettingsFile,
    ids: &[u64],
    env: Env<'_>,
) -> Result<BTreeMap<u64, Resolved>, CliError> {
    Ok(resolve_fleet(file, ids, env)?
        .by_id
        .into_iter()
        .map(|(id, r)| {
            (
                id,
                Resolved {
                    id,
                    ..Arc::unwrap_or_clone(r)
                },
            )
        })
        .collect())
}

/// Every instance's desired settings of a fleet run, resolved and valid. The instances whose
/// settings cannot depend on the instance (no override, no `{idInstance}` in the defaults)
/// share one resolution: a 20,000-instance fleet resolves and keeps its settings once.
#[derive(Clone, Debug, Default)]
pub struct FleetDesired {
    by_id: BTreeMap<u64, Arc<Resolved>>,
}

impl FleetDesired {
    /// The desired settings of instance `id`, if it is in the fleet. A shared resolution
    /// carries the id of the first instance it was resolved for: use the patch, the warnings
    /// and [`Resolved::hide`], not its `id`.
    pub fn get(&self, id: u64) -> Option<&Arc<Resolved>> {
        self.by_id.get(&id)
    }

    /// How many instances have desired settings.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether no instance has desired settings.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

/// [`resolve_all`] for a fleet run: the same checks and the same problem lines, the settings
/// that do not depend on the instance resolved once and shared ([`FleetDesired`]).
pub fn resolve_fleet(
    file: &SettingsFile,
    ids: &[u64],
    env: Env<'_>,
) -> Result<FleetDesired, CliError> {
    // `{idInstance}` is the only way the defaults can differ from one instance to the next
    // (`${NAME}` reads the same environment for each); `{{idInstance}}` (a literal) counts too,
    // which only costs resolving per instance.
    let per_instance_defaults = file
        .defaults
        .values()
        .any(|v| matches!(v, Value::String(s) if s.contains(ID_PLACEHOLDER)));
    let mut common: Option<Result<Arc<Resolved>, Vec<String>>> = None;
    let mut ok = BTreeMap::new();
    // Problem text -> the instances that have it, in first-seen order.
    let mut problems: Vec<(String, Vec<u64>)> = Vec::new();
    let mut bad = 0;
    for &id in ids {
        let resolved = if per_instance_defaults || file.instances.contains_key(&id) {
            resolve(file, id, env).map(Arc::new)
        } else {
            common
                .get_or_insert_with(|| resolve(file, id, env).map(Arc::new))
                .clone()
        };
        match resolved {
            Ok(r) => {
                ok.insert(id, r);
            }
            Err(ps) => {
                bad += 1;
                for p in ps {
                    match problems.iter_mut().find(|(text, _)| *text == p) {
                        Some((_, who)) => who.push(id),
                        None => problems.push((p, vec![id])),
                    }
                }
            }
        }
    }
    if problems.is_empty() {
        return Ok(FleetDesired { by_id: ok });
    }
    let shown = &file.shown;
    let total = problems.len();
    let mut lines: Vec<String> = problems
        .iter()
        .take(MAX_PROBLEM_LINES)
        .map(|(p, who)| format!("{shown}: {}: {p}", who_text(who, ids.len())))
        .collect();
    if total > MAX_PROBLEM_LINES {
        lines.push(format!(
            "… and {} more problem(s)",
            total - MAX_PROBLEM_LINES
        ));
    }
    Err(CliError::usage(format!(
        "{shown}: {total} problem(s) in {bad} instance(s); nothing was sent"
    ))
    .with_problems(lines))
}

fn who_text(who: &[u64], of: usize) -> String {
    match who {
        [one] => format!("instance {one}"),
        _ if who.len() == of && of > 1 => format!("all {of} instances"),
        _ if who.len() <= 3 => format!(
            "instances {}",
            who.iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => format!(
            "instances {}, {}, {} and {} more",
            who[0],
            who[1],
            who[2],
            who.len() - 3
        ),
    }
}

/// Overrides for instances not in `ids` (a fleet file): an error naming them, since such an
/// override is most likely a typo that would leave an instance at the defaults.
pub fn check_overrides_known(file: &SettingsFile, ids: &[u64], csv: &str) -> Result<(), CliError> {
    let unknown: Vec<String> = file
        .instances
        .keys()
        .filter(|id| !ids.contains(id))
        .map(u64::to_string)
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    Err(CliError::usage(format!(
        "{}: override(s) for instance(s) not in {csv}: {}; remove them or add the instances; nothing was sent",
        file.shown,
        unknown.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;

    use super::*;
    use crate::settings_file::from_value;
    use serde_json::json;

    fn env(name: &str) -> Option<OsString> {
        match name {
            "TOKEN" => Some("tok-SECRET-1".into()),
            "BAD_URL" => Some("ftp://SECRET.example/x".into()),
            _ => None,
        }
    }

    fn file(v: Value) -> SettingsFile {
        from_value("f.toml", v).unwrap()
    }

    #[test]
    fn an_override_wins_field_by_field_and_placeholders_resolve_per_instance() {
        let f = file(json!({
            "settings": {"incomingWebhook": "yes", "webhookUrl": "https://h.example/{idInstance}", "webhookUrlToken": "${TOKEN}"},
            "instances": {"7": {"incoming_webhook": false, "delaySendMessagesMilliseconds": 900}}
        }));
        let r7 = resolve(&f, 7, &env).unwrap();
        assert_eq!(
            r7.patch,
            SettingsPatch::new()
                .incoming_webhook(false)
                .webhook_url("https://h.example/7")
                .webhook_url_token("tok-SECRET-1")
                .delay_send_messages_milliseconds(900)
        );
        let r8 = resolve(&f, 8, &env).unwrap();
        assert_eq!(
            r8.patch.get_json("webhookUrl"),
            Some(json!("https://h.example/8"))
        );
        assert_eq!(r8.patch.get_json("incomingWebhook"), Some(json!("yes")));
    }

    #[test]
    fn a_fleet_shares_one_resolution_where_the_instance_cannot_matter() {
        let f = file(json!({
            "settings": {"webhookUrl": "https://h.example/", "webhookUrlToken": "${TOKEN}"},
            "instances": {"7": {"delaySendMessagesMilliseconds": 900}}
        }));
        let ids = [5, 6, 7, 8];
        let fleet = resolve_fleet(&f, &ids, &env).unwrap();
        assert_eq!(fleet.len(), 4);
        for id in ids {
            let own = resolve(&f, id, &env).unwrap();
            let got = fleet.get(id).unwrap();
            assert_eq!((&got.patch, &got.warnings), (&own.patch, &own.warnings));
        }
        assert!(Arc::ptr_eq(fleet.get(5).unwrap(), fleet.get(8).unwrap()));
        assert!(!Arc::ptr_eq(fleet.get(5).unwrap(), fleet.get(7).unwrap()));
        // resolve_all still gives each instance its own id.
        let all = resolve_all(&f, &ids, &env).unwrap();
        assert!(all
            .iter()
            .all(|(id, r)| r.id == *id && *r == resolve(&f, *id, &env).unwrap()));
        // `{idInstance}` in the defaults: each instance resolved for itself.
        let f = file(json!({"webhookUrl": "https://h.example/{idInstance}"}));
        let fleet = resolve_fleet(&f, &ids, &env).unwrap();
        for id in ids {
            assert_eq!(
                fleet.get(id).unwrap().patch.get_json("webhookUrl"),
                Some(json!(format!("https://h.example/{id}")))
            );
        }
        assert!(fleet.get(9).is_none());
    }

    #[test]
    fn every_instance_problem_is_listed_once_naming_instances_and_no_env_value() {
        let f = file(json!({
            "settings": {"webhookUrl": "${BAD_URL}", "webhookUrlToken": "${NOPE}"},
            "instances": {"1": {"delaySendMessagesMilliseconds": 1}, "2": {}}
        }));
        let e = resolve_all(&f, &[1, 2, 3, 4], &env).unwrap_err();
        let all = format!("{} {:?}", e.message, e.details);
        assert!(!all.contains("SECRET"), "{all}");
        assert_eq!(e.exit, crate::exit::Exit::Usage);
        assert!(e.message.contains("in 4 instance(s)"), "{all}");
        assert!(
            e.details.iter().any(|d| d.contains(
                "all 4 instances: webhookUrlToken: environment variable NOPE is not set"
            )),
            "{all}"
        );
    }

    #[test]
    fn validation_errors_hide_values_from_the_environment() {
        let f = file(json!({"webhookUrl": "${BAD_URL}", "delaySendMessagesMilliseconds": 1}));
        let ps = resolve(&f, 1, &env).unwrap_err();
        assert_eq!(ps.len(), 2, "{ps:?}");
        assert!(
            ps.iter()
                .any(|p| p.starts_with("webhookUrl:") && p.contains("${BAD_URL}")),
            "{ps:?}"
        );
        assert!(!ps.concat().contains("SECRET"), "{ps:?}");
    }

    #[test]
    fn overrides_for_instances_outside_the_fleet_are_named() {
        let f = file(json!({"stateWebhook": "yes", "instances": {"5": {}, "6": {}}}));
        assert!(check_overrides_known(&f, &[5, 6], "f.csv").is_ok());
        let e = check_overrides_known(&f, &[5], "f.csv").unwrap_err();
        assert!(e.message.contains("not in f.csv: 6"), "{}", e.message);
    }
}
