//! Text from outside (the server's messages, unknown field names and values, a settings file's
//! values) made safe to print on a terminal: every control character is shown as an escape
//! (`\x1b`, `\n`, `\u{9b}`) instead of being sent raw, so a hostile server cannot move the
//! cursor, rewrite earlier lines, set the window title, ring the bell or fake a line of output.
//! Bidirectional overrides (which reorder what is shown) are escaped too. JSON output needs
//! none of this: serde_json escapes control characters itself.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` must not reach a terminal raw.
fn unsafe_char(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn escape(c: char, out: &mut String) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x80 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

fn clean_with(s: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !s.chars().any(|c| unsafe_char(c) && !keep(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if unsafe_char(c) && !keep(c) {
            escape(c, &mut out);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// One line of outside text: every control character escaped, line breaks included.
pub fn text(s: &str) -> Cow<'_, str> {
    clean_with(s, |_| false)
}

/// Text of several lines (a parse error with its source line and caret): line breaks kept,
/// every other control character escaped.
pub fn lines(s: &str) -> Cow<'_, str> {
    clean_with(s, |c| c == '\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_not_sent() {
        assert_eq!(text("plain text, é"), "plain text, é");
        assert!(matches!(text("plain"), Cow::Borrowed(_)));
        assert_eq!(text("a\x1b[2Jb\x07"), "a\\x1b[2Jb\\x07");
        assert_eq!(text("x\nsaved"), "x\\nsaved");
        assert_eq!(text("\u{9b}31m\u{202E}abc"), "\\u{9b}31m\\u{202e}abc");
        assert_eq!(lines("line 1\nline\x1b 2"), "line 1\nline\\x1b 2");
    }
}
