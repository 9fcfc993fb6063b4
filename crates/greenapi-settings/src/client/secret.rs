//! The API token: kept out of every `Debug`, `Display`, error and log line.

use std::fmt;

use crate::__private::REDACTED;

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

    /// Replaces every occurrence of the token in `text` (server messages may echo the URL).
    pub fn scrub(&self, text: &str) -> String {
        if self.0.len() < 4 {
            // Too short to scrub without mangling ordinary words; such tokens never leave
            // the URL, and the URL is never put into messages.
            return text.to_string();
        }
        text.replace(&self.0, REDACTED)
    }
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
