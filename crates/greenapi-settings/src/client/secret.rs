//! The API token: kept out of every `Debug`, `Display`, error and log line.

use std::fmt;

use crate::redact::{MIN_TOKEN_CHARS, REDACTED};

/// An API token (`apiTokenInstance`). It can only be read back with [`ApiToken::expose`];
/// `Debug` and `Display` show `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken(String);

impl ApiToken {
    /// Wraps a token.
    pub fn new(token: impl Into<String>) -> Self {
        ApiToken(token.into())
    }

    /// The token itself, for building the request URL. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Replaces every occurrence of the token in `text` (server messages may echo the URL):
    /// as given, percent-encoded (as it travels in the URL path, or with every byte encoded),
    /// or JSON-escaped, in any ASCII letter case. A token shorter than
    /// [`MIN_TOKEN_CHARS`](crate::redact::MIN_TOKEN_CHARS) never rewrites anything: no client
    /// is built with one (the builder refuses it), and scrubbing a placeholder such as `"t"`
    /// would blank that letter out of every message.
    ///
    /// ```
    /// use greenapi_settings::ApiToken;
    /// let t = ApiToken::new("<É>-secret");
    /// assert_eq!(t.scrub("path /x/%3c%C3%89%3E-SECRET/y"), "path /x/<redacted>/y");
    /// assert_eq!(ApiToken::new("t").scrub("api_url is not a URL"), "api_url is not a URL");
    /// ```
    pub fn scrub(&self, text: &str) -> String {
        if !self.is_long_enough() {
            return text.to_string();
        }
        let mut out = replace_matches(text, |h, i| encoded_match(h, i, self.0.as_bytes()));
        if let Ok(quoted) = serde_json::to_string(&self.0) {
            let escaped = &quoted.as_bytes()[1..quoted.len() - 1];
            if escaped != self.0.as_bytes() {
                out = replace_matches(&out, |h, i| {
                    (h.len() - i >= escaped.len() && h[i..i + escaped.len()] == *escaped)
                        .then_some(escaped.len())
                });
            }
        }
        out
    }

    /// Whether `text` contains the token in any of the forms [`scrub`](Self::scrub) removes
    /// (never, for a token shorter than [`MIN_TOKEN_CHARS`](crate::redact::MIN_TOKEN_CHARS)).
    pub fn appears_in(&self, text: &str) -> bool {
        self.is_long_enough() && self.scrub(text) != text
    }

    /// Whether the token has at least [`MIN_TOKEN_CHARS`](crate::redact::MIN_TOKEN_CHARS)
    /// characters (the client builder refuses shorter ones).
    pub(crate) fn is_long_enough(&self) -> bool {
        self.0.chars().nth(MIN_TOKEN_CHARS - 1).is_some()
    }
}

/// The length of the match of `token` at `h[i..]`, where each byte of the token may appear as
/// itself (ASCII letters in any case) or percent-encoded (`%3c`, `%3C`).
fn encoded_match(h: &[u8], i: usize, token: &[u8]) -> Option<usize> {
    let mut at = i;
    for &b in token {
        let here = *h.get(at)?;
        if here.eq_ignore_ascii_case(&b) {
            at += 1;
        } else if here == b'%' {
            let hex = std::str::from_utf8(h.get(at + 1..at + 3)?).ok()?;
            if u8::from_str_radix(hex, 16).ok()? != b {
                return None;
            }
            at += 3;
        } else {
            return None;
        }
    }
    Some(at - i)
}

/// Replaces each non-overlapping match (found by `at`, which returns its length) with
/// `<redacted>`. Matches start on a char boundary of valid UTF-8 and cover whole chars, so
/// the result stays valid UTF-8.
fn replace_matches(text: &str, at: impl Fn(&[u8], usize) -> Option<usize>) -> String {
    let h = text.as_bytes();
    let mut out = Vec::with_capacity(h.len());
    let mut i = 0;
    while i < h.len() {
        match at(h, i).filter(|n| *n > 0) {
            Some(n) => {
                out.extend_from_slice(REDACTED.as_bytes());
                i += n;
            }
            None => {
                out.push(h[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl From<&str> for ApiToken {
    fn from(s: &str) -> Self {
        ApiToken::new(s)
    }
}

impl From<String> for ApiToken {
    fn from(s: String) -> Self {
        ApiToken::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_scrubbed_as_given_encoded_and_in_any_case() {
        let t = ApiToken::new("Ab<{É}>9");
        for shown in [
            "x Ab<{É}>9 y",
            "x aB<{É}>9 y",
            "x Ab%3C%7B%C3%89%7D%3E9 y",
            "x ab%3c%7b%c3%89%7d%3e9 y",
            "x %41%62%3C%7B%C3%89%7D%3E%39 y",
        ] {
            assert_eq!(t.scrub(shown), "x <redacted> y", "{shown}");
            assert!(t.appears_in(shown));
        }
        assert!(!t.appears_in("nothing here"));
    }

    #[test]
    fn an_eight_character_token_is_scrubbed() {
        let t = ApiToken::new("q7z-4k2p");
        assert_eq!(
            t.scrub("/waInstance1/getSettings/Q7Z-4K2P"),
            "/waInstance1/getSettings/<redacted>"
        );
        assert!(t.appears_in("x q7z-4k2p"));
    }

    #[test]
    fn a_token_shorter_than_eight_characters_never_rewrites_text() {
        for short in ["t", "tok", "q7z-4k2"] {
            let t = ApiToken::new(short);
            let text = format!("api_url is not a URL; token {short} at /x/{short}");
            assert_eq!(t.scrub(&text), text, "{short}");
            assert!(!t.appears_in(&text), "{short}");
        }
    }

    #[test]
    fn a_json_escaped_token_is_scrubbed() {
        let t = ApiToken::new("a\"b\\c-long");
        assert_eq!(t.scrub(r#"{"m":"a\"b\\c-long"}"#), r#"{"m":"<redacted>"}"#);
    }

    #[test]
    fn scrubbing_keeps_other_non_ascii_text_intact() {
        let t = ApiToken::new("tok-3f9a");
        assert_eq!(
            t.scrub("Ошибка: TOK-3F9A и ещё"),
            "Ошибка: <redacted> и ещё"
        );
    }
}
