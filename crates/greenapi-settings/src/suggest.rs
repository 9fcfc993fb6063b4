//! "Did you mean" hints: the known setting names closest to a misspelt one.

use crate::meta::FieldInfo;
use crate::validation::Violation;

/// Error for a field name the spec does not know, with close matches.
pub fn unknown_field(name: &str, fields: &[FieldInfo]) -> Violation {
    let suggestions = suggest(name, fields);
    let hint = if suggestions.is_empty() {
        String::new()
    } else {
        format!(
            "; did you mean {}?",
            suggestions
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(" or ")
        )
    };
    Violation::error(
        Some(name),
        None,
        "unknownField",
        format!("unknown setting `{name}`{hint}"),
    )
}

/// Up to three known names (API or snake_case spelling, whichever is closer) near `name`:
/// at most a third of its length (and at least 2) edits away, by `strsim`'s Levenshtein
/// distance over chars.
pub fn suggest(name: &str, fields: &[FieldInfo]) -> Vec<&'static str> {
    let lower = name.to_ascii_lowercase();
    let mut scored: Vec<(usize, &'static str)> = fields
        .iter()
        .map(|f| {
            let d_api = strsim::levenshtein(&lower, &f.name.to_ascii_lowercase());
            let d_snake = strsim::levenshtein(&lower, f.snake);
            if d_snake < d_api {
                (d_snake, f.snake)
            } else {
                (d_api, f.name)
            }
        })
        .filter(|(d, _)| *d <= (name.len() / 3).max(2))
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, n)| n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::FIELDS;

    /// The suggestions the hand-written Levenshtein gave before `strsim` replaced it (issue 19),
    /// pinned: the same names, the same order, the same cut-off.
    #[test]
    fn suggestions_are_the_same_as_before_strsim() {
        for (typo, expected) in [
            ("webhookURL", &["webhookUrl"][..]),
            (
                "incoming_webhok",
                &["incoming_webhook", "incomingCallWebhook"],
            ),
            ("incomingWebhok", &["incomingWebhook"]),
            ("delaySendMessages", &[]),
            ("stateWebhok", &["stateWebhook"]),
            (
                "outgoing_webhook",
                &["outgoing_webhook", "incoming_webhook"],
            ),
            ("keepOnline", &[]),
            ("xyz", &[]),
            ("", &[]),
            ("markIncomingMessagesRead", &["markIncomingMessagesReaded"]),
            ("webhook", &[]),
            ("devicewebhook", &["deviceWebhook"]),
            ("webhook_url_tokn", &["webhook_url_token", "webhook_url"]),
            ("linkPrev", &[]),
        ] {
            assert_eq!(suggest(typo, FIELDS), expected, "{typo:?}");
        }
    }

    #[test]
    fn an_unknown_field_names_its_closest_matches() {
        let v = unknown_field("webhookURL", FIELDS);
        assert_eq!(
            v.message,
            "unknown setting `webhookURL`; did you mean `webhookUrl`?"
        );
        let v = unknown_field("zzzz", FIELDS);
        assert_eq!(v.message, "unknown setting `zzzz`");
    }
}
