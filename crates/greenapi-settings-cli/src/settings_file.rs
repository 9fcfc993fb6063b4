//! Declarative settings files: TOML or JSON, API spelling (`incomingWebhook = "yes"`) or
//! snake_case (`incoming_webhook = true`), optionally under a `[settings]` table.

use std::path::Path;

use greenapi_settings::SettingsPatch;
use serde_json::Value;

use crate::exit::CliError;
use crate::input::{read_capped, SMALL_FILE_CAP};
use crate::parse::{json_strict, toml_table, toml_to_json};

/// Reads a settings file (at most [`SMALL_FILE_CAP`] bytes; a UTF-8 byte order mark is
/// allowed) into a patch, reporting every problem (unknown names, wrong types, duplicate keys)
/// at once. Ranges and rules are checked by `validate`, not here. No message quotes the file's
/// lines, which may hold the webhookUrlToken.
pub fn load(path: &Path) -> Result<SettingsPatch, CliError> {
    let shown = path.display().to_string();
    let text = read_capped(path, SMALL_FILE_CAP)?;
    let value = parse(&text, path).map_err(|problems| match problems.as_slice() {
        [one] => CliError::usage(format!("{shown}: {one}")),
        _ => CliError::usage(format!(
            "{shown}: {} problem(s); nothing was sent",
            problems.len()
        ))
        .with_problems(problems.iter().map(|p| format!("{shown}: {p}")).collect()),
    })?;
    patch_from_value(value).map_err(|problems| {
        CliError::usage(format!(
            "{shown}: {} problem(s); nothing was sent",
            problems.len()
        ))
        .with_problems(problems.iter().map(|p| format!("{shown}: {p}")).collect())
    })
}

/// A patch from a parsed settings document (optionally under `settings`).
pub fn patch_from_value(value: Value) -> Result<SettingsPatch, Vec<String>> {
    let value = match value {
        Value::Object(mut m) if m.len() == 1 && m.contains_key("settings") => {
            m.remove("settings").unwrap_or_default()
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

    fn write(name: &str, text: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("gas-cli-{}-{name}", std::process::id()));
        std::fs::write(&dir, text).unwrap();
        dir
    }

    #[test]
    fn toml_with_snake_case_and_booleans_loads() {
        let p = write("a.toml", "incoming_webhook = true\ndelaySendMessagesMilliseconds = 5000\nwebhookUrl = \"https://x.example/hook\"\n");
        let patch = load(&p).unwrap();
        assert_eq!(
            patch,
            SettingsPatch::new()
                .incoming_webhook(true)
                .delay_send_messages_milliseconds(5000)
                .webhook_url("https://x.example/hook")
        );
    }

    #[test]
    fn a_settings_table_is_accepted() {
        let p = write("b.toml", "[settings]\nstateWebhook = \"yes\"\n");
        assert_eq!(load(&p).unwrap(), SettingsPatch::new().state_webhook(true));
    }

    #[test]
    fn every_problem_of_a_file_is_listed() {
        let p = write(
            "c.json",
            r#"{"incomingWebhok": "yes", "outgoingWebhook": "maybe", "delaySendMessagesMilliseconds": "1s"}"#,
        );
        let e = load(&p).unwrap_err();
        assert_eq!(e.details.len(), 3, "{:?}", e.details);
        assert!(
            e.details[0].contains("did you mean `incomingWebhook`"),
            "{:?}",
            e.details
        );
    }

    #[test]
    fn syntax_errors_name_the_file() {
        let p = write("d.toml", "incoming_webhook = \n");
        let e = load(&p).unwrap_err();
        assert!(e.message.contains("d.toml: invalid TOML"), "{}", e.message);
    }
}
