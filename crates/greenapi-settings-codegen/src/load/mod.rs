//! Loading a spec: JSON text → checked [`Spec`], collecting *every* problem with its JSON path
//! (the serde_derive `Ctxt` pattern: record, carry on, report all at the end).
//!
//! - `ctxt`: the error collector and typed readers of JSON nodes (every read records its
//!   own problem and carries on);
//! - `check`: one `check_*` function per part of the spec (root, settings, read-only
//!   fields, methods, rate limit, rules);
//! - `notifications`: the `notifications` section and the two notification methods.

mod check;
mod ctxt;
mod notifications;
mod rules;

use std::fmt;

use serde_json::Value;

use crate::model::Spec;
use check::check_root;
use ctxt::Ctxt;

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

    const SPEC: &str = include_str!("../../../../spec/settings.json");

    fn with(f: impl FnOnce(&mut Value)) -> String {
        let mut v: Value = serde_json::from_str(SPEC).unwrap();
        f(&mut v);
        v.to_string()
    }

    #[test]
    fn the_project_spec_loads_with_all_24_settings() {
        let spec = load_str(SPEC).unwrap();
        assert_eq!(spec.settings.len(), 24);
        assert_eq!(spec.rules.len(), 5);
        assert!(spec.set_settings.restarts_instance);
        assert_eq!(spec.set_settings.min_parameters, Some(1));
        assert_eq!(spec.set_settings.applies_within_seconds, Some(300));
        let delay = spec.setting("delaySendMessagesMilliseconds").unwrap();
        assert_eq!(delay.range, Some((500, 600_000)));
        assert_eq!(delay.recommended_max, Some(300_000));
        let typing = spec.setting("autoTyping").unwrap();
        assert_eq!(
            (typing.range, typing.always_returned),
            (Some((0, 4)), false)
        );
    }

    #[test]
    fn a_notification_rule_naming_an_unknown_or_non_yes_no_setting_is_an_error_with_its_path() {
        let text = with(|v| {
            v["notifications"]["kinds"][0]["sources"][0]["requires"] =
                serde_json::json!(["incomingWebhooks", "webhookUrl"]);
        });
        assert_eq!(
            errors(&text),
            [
                "$.notifications.kinds[0].sources[0].requires[0]: rule names unknown setting `incomingWebhooks`",
                "$.notifications.kinds[0].sources[0].requires[1]: rule names `webhookUrl`, which is not a yes/no setting",
            ]
        );
    }

    #[test]
    fn a_notification_body_that_does_not_fit_its_type_or_variant_is_an_error() {
        let text = with(|v| {
            let kinds = v["notifications"]["kinds"].as_array_mut().unwrap();
            kinds[0]["body"]["timestamp"] = "yesterday".into();
            kinds[0]["body"]["extra"] = 1.into();
            kinds[1]["body"]["messageData"]["typeMessage"] = "textMessage".into();
            kinds[2]["body"]
                .as_object_mut()
                .unwrap()
                .remove("senderData");
            kinds[3]["typeWebhook"] = "nope".into();
        });
        assert_eq!(
            errors(&text),
            [
                "$.notifications.kinds[0].body.timestamp: expected integer, found a string",
                "$.notifications.kinds[0].body.extra: field not declared in incomingMessageReceived",
                "$.notifications.kinds[1].body.messageData.typeMessage: must be \"pollMessage\", the value of variant `pollMessage`",
                "$.notifications.kinds[2].body: missing field `senderData` (incomingMessageReceived requires it)",
                "$.notifications.kinds[3].typeWebhook: `nope` has no body type in $.notifications.types",
            ]
        );
    }

    #[test]
    fn two_kinds_with_one_key_are_an_error() {
        let text = with(|v| {
            let kinds = v["notifications"]["kinds"].as_array_mut().unwrap();
            let first = kinds[0].clone();
            kinds.push(first);
        });
        let errs = errors(&text);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            errs[0].ends_with("duplicate kind `incomingMessageReceived`"),
            "{errs:?}"
        );
    }

    #[test]
    fn the_v1_fixture_still_loads() {
        let v1 = include_str!("../../tests/fixtures/settings-v1.json");
        let spec = load_str(v1).unwrap();
        assert_eq!(spec.settings.len(), 19);
        assert!(spec.settings.iter().all(|s| s.always_returned));
    }

    #[test]
    fn a_recommended_maximum_outside_the_range_is_an_error() {
        let text = with(|v| v["settings"][2]["range"]["recommendedMax"] = 700_000.into());
        assert_eq!(
            errors(&text),
            ["$.settings[2].range.recommendedMax: must be an integer between min (500) and max (600000), found 700000"]
        );
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
                &"$.settings[2].range: min (900000000) is greater than max (600000)".to_string()
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

    #[test]
    fn a_path_template_of_another_shape_is_an_error() {
        let mut v: serde_json::Value = serde_json::from_str(SPEC).unwrap();
        v["methods"]["getSettings"]["path"] =
            "{apiUrl}/getSettings/{idInstance}/{apiTokenInstance}".into();
        let errs = errors(&v.to_string());
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            errs[0]
                .starts_with("$.methods.getSettings.path: the path template must have the shape"),
            "{errs:?}"
        );
    }
}
