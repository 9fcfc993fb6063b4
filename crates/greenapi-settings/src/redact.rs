//! Secrets out of sight: the one `<redacted>` marker of the workspace and the helpers that put
//! it in place of the API token and of secret settings (`webhookUrlToken`) — in `Debug`
//! output, in JSON shown to people, and in server text quoted in errors.

use std::fmt;

use serde_json::Value;

use crate::settings::FIELDS;

/// Placeholder shown instead of a secret.
pub const REDACTED: &str = "<redacted>";

/// The fewest characters an API token may have. The API's tokens are about 50 characters; a
/// shorter one is a placeholder (`"x"`, `"tok"`), and scrubbing it would blank that text out
/// of every message. The client refuses such tokens when it is built, and
/// [`ApiToken::scrub`](crate::ApiToken::scrub) never rewrites text for them; the sandbox
/// refuses them too, so every token it serves works for a client.
pub const MIN_TOKEN_CHARS: usize = 8;

/// `Debug`s as `<redacted>`.
pub struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// `Debug`s as `<redacted>` when a secret is set, `""` when it is empty.
pub struct RedactedIfSet(pub bool);

impl fmt::Debug for RedactedIfSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 {
            f.write_str(REDACTED)
        } else {
            f.write_str("\"\"")
        }
    }
}

/// Replaces the value of every non-empty secret setting (e.g. `webhookUrlToken`) in a settings
/// object with [`REDACTED`]; an empty one stays visible, since "not set" is not a secret.
///
/// ```
/// let mut v = serde_json::json!({"webhookUrlToken": "s3cret", "webhookUrl": ""});
/// greenapi_settings::redact::secret_settings(&mut v);
/// assert_eq!(v["webhookUrlToken"], "<redacted>");
/// ```
pub fn secret_settings(value: &mut Value) {
    if let Value::Object(map) = value {
        for field in FIELDS.iter().filter(|f| f.secret) {
            if let Some(v) = map.get_mut(field.name) {
                if v.as_str() != Some("") {
                    *v = Value::String(REDACTED.into());
                }
            }
        }
    }
}

/// Replaces the value after every `"<secret setting>"` key in JSON-ish text, whether or not
/// the text parses (a body cut short, or broken JSON, must not show it either).
///
/// ```
/// let shown = greenapi_settings::redact::secret_values_in_text(r#"{"webhookUrlToken": "s3cr"#);
/// assert_eq!(shown, r#"{"webhookUrlToken": "<redacted>""#);
/// ```
pub fn secret_values_in_text(text: &str) -> String {
    let quoted = format!("\"{REDACTED}\"");
    let mut out = text.to_string();
    for field in FIELDS.iter().filter(|f| f.secret) {
        let key = format!("\"{}\"", field.name);
        let mut from = 0;
        while let Some(at) = out[from..].find(&key).map(|i| i + from) {
            let after_key = at + key.len();
            let rest = &out[after_key..];
            let colon = rest.len() - rest.trim_start().len();
            if !rest[colon..].starts_with(':') {
                from = after_key;
                continue;
            }
            let value_start = after_key + colon + 1;
            let rest = &out[value_start..];
            let value_start = value_start + (rest.len() - rest.trim_start().len());
            let value_end = json_value_end(&out[value_start..]) + value_start;
            out.replace_range(value_start..value_end, &quoted);
            from = value_start + quoted.len();
        }
    }
    out
}

/// The length of the JSON value at the start of `s`: a string up to its closing quote, any
/// other value up to the next `,` `}` `]` or line end; the rest of `s` if it never ends.
fn json_value_end(s: &str) -> usize {
    let bytes = s.as_bytes();
    if bytes.first() == Some(&b'"') {
        let mut escaped = false;
        for (i, &b) in bytes.iter().enumerate().skip(1) {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => return i + 1,
                _ => {}
            }
        }
        return s.len();
    }
    s.find([',', '}', ']', '\n']).unwrap_or(s.len())
}
