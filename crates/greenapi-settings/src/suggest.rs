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

/// Up to three known names (API or snake_case spelling, whichever is closer) near `name`.
pub fn suggest(name: &str, fields: &[FieldInfo]) -> Vec<&'static str> {
    let lower = name.to_ascii_lowercase();
    let mut scored: Vec<(usize, &'static str)> = fields
        .iter()
        .map(|f| {
            let d_api = distance(&lower, &f.name.to_ascii_lowercase());
            let d_snake = distance(&lower, f.snake);
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

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
