//! Declarative settings files: TOML or JSON, API spelling (`incomingWebhook = "yes"`) or
//! snake_case (`incoming_webhook = true`), optionally under a `[settings]` table.

use std::path::Path;

use greenapi_settings::SettingsPatch;
use serde_json::Value;

use crate::exit::CliError;

/// Reads a settings file into a patch, reporting every problem (unknown names, wrong types)
/// at once. Ranges and rules are checked by `validate`, not here.
pub fn load(path: &Path) -> Result<SettingsPatch, CliError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::usage(format!("cannot read {shown}: {e}")))?;
    let value = parse(&text, path).map_err(|m| CliError::usage(format!("{shown}: {m}")))?;
    let value = match value {
        Value::Object(mut m) if m.len() == 1 && m.contains_key("settings") => {
            m.remove("settings").unwrap_or_default()
        }
        v => v,
    };
    SettingsPatch::from_json_value(&value).map_err(|problems| {
        CliError::usage(format!(
            "{shown}: {} problem(s); nothing was sent",
            problems.len()
        ))
        .with_problems(problems.iter().map(|p| format!("{shown}: {p}")).collect())
    })
}

fn parse(text: &str, path: &Path) -> Result<Value, String> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "json" => serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}")),
        "toml" => from_toml(text),
        _ => serde_json::from_str(text).or_else(|_| from_toml(text)).map_err(|e| {
            format!("neither JSON nor TOML (name the file .json or .toml for a precise message): {e}")
        }),
    }
}

fn from_toml(text: &str) -> Result<Value, String> {
    let table: toml::Table =
        toml::from_str(text).map_err(|e| format!("invalid TOML: {}", e.to_string().trim()))?;
    serde_json::to_value(table).map_err(|e| format!("invalid TOML value: {e}"))
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
