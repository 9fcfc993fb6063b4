//! The value readers and validators that the generated `SettingsPatch` / `Settings` code
//! calls: one function per wire type (read strictly for patches, leniently for values read
//! back) and per rule (range, URL, length, token characters, status, cross-field rules).
//! Reached by generated code through `__private`.

use serde_json::{Map, Value};

use crate::meta::{FieldInfo, RuleKind, Status};
use crate::redact::REDACTED;
use crate::validation::{Report, Violation};

/// `true` → `"yes"`, `false` → `"no"`.
pub fn yes_no_value(b: bool) -> Value {
    Value::String(if b { "yes" } else { "no" }.to_string())
}

fn describe(v: &Value) -> String {
    match v {
        Value::String(s) if s.chars().count() > 60 => {
            let short: String = s.chars().take(57).collect();
            format!("the string \"{short}...\"")
        }
        Value::String(s) => format!("the string {}", Value::String(s.clone())),
        Value::Null => "null".into(),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
        other => other.to_string(),
    }
}

/// Reads a yes/no field: `"yes"`, `"no"`, or a JSON boolean.
pub fn parse_yes_no(field: &'static str, v: &Value) -> Result<bool, Violation> {
    match v {
        Value::String(s) if s == "yes" => Ok(true),
        Value::String(s) if s == "no" => Ok(false),
        Value::Bool(b) => Ok(*b),
        other => Err(Violation::error(
            Some(field),
            Some(other.clone()),
            "yesNo",
            format!("expected \"yes\" or \"no\", found {}", describe(other)),
        )),
    }
}

/// Reads an integer field (no strings, no fractions, nothing beyond 64 bits).
pub fn parse_integer(field: &'static str, v: &Value) -> Result<i64, Violation> {
    if let Some(i) = v.as_i64() {
        return Ok(i);
    }
    let message = match v {
        Value::Number(n) if n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0) => {
            format!(
                "{n} is beyond the 64-bit integer range ({}..={})",
                i64::MIN,
                i64::MAX
            )
        }
        Value::Number(n) => format!("expected an integer, found the fraction {n}"),
        other => format!("expected an integer, found {}", describe(other)),
    };
    Err(Violation::error(
        Some(field),
        Some(v.clone()),
        "integer",
        message,
    ))
}

/// Reads back a yes/no field leniently: `"yes"`/`"no"` in any case, `"true"`/`"false"`, or a
/// boolean.
pub fn read_yes_no(field: &'static str, v: &Value) -> Result<bool, Violation> {
    if let Value::String(s) = v {
        match s.trim().to_ascii_lowercase().as_str() {
            "yes" | "true" => return Ok(true),
            "no" | "false" => return Ok(false),
            _ => {}
        }
    }
    parse_yes_no(field, v)
}

/// Reads back an integer field leniently: a JSON integer, an integral float (`5000.0`) or a
/// string of digits (`"5000"`).
pub fn read_integer(field: &'static str, v: &Value) -> Result<i64, Violation> {
    match v {
        Value::String(s) => match s.trim().parse::<i64>() {
            Ok(i) => Ok(i),
            Err(_) => parse_integer(field, v),
        },
        Value::Number(n) if n.as_i64().is_none() => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(f as i64),
            _ => parse_integer(field, v),
        },
        _ => parse_integer(field, v),
    }
}

/// Reads a string field.
pub fn parse_string(field: &'static str, v: &Value) -> Result<String, Violation> {
    match v {
        Value::String(s) => Ok(s.clone()),
        other => Err(Violation::error(
            Some(field),
            Some(other.clone()),
            "string",
            format!("expected a string, found {}", describe(other)),
        )),
    }
}

/// Reads a secret string field; a wrong value is never echoed.
pub fn parse_secret(field: &'static str, v: &Value) -> Result<String, Violation> {
    match v {
        Value::String(s) => Ok(s.clone()),
        _ => Err(Violation::error(
            Some(field),
            Some(Value::String(REDACTED.into())),
            "string",
            "expected a string (value not shown: secret)",
        )),
    }
}

/// The body must be a JSON object.
pub fn expect_object(v: &Value) -> Result<&Map<String, Value>, Vec<Violation>> {
    match v {
        Value::Object(m) => Ok(m),
        other => Err(vec![Violation::error(
            None,
            None,
            "object",
            format!(
                "expected a JSON object of settings, found {}",
                describe(other)
            ),
        )]),
    }
}

/// Error for a patch with fewer fields than the API requires.
pub fn too_few_parameters(report: &mut Report, min: usize) {
    report.push(Violation::error(
        None,
        None,
        "atLeastOneParameter",
        format!("the patch sets no field; setSettings needs at least {min} parameter(s)"),
    ));
}

/// Inclusive range check.
pub fn check_range(
    report: &mut Report,
    field: &'static str,
    v: i64,
    min: i64,
    max: i64,
    unit: Option<&str>,
) {
    if !(min..=max).contains(&v) {
        let unit = unit.map(|u| format!(" {u}")).unwrap_or_default();
        report.push(Violation::error(
            Some(field),
            Some(v.into()),
            "range",
            format!("{v} is out of range: must be between {min} and {max}{unit}"),
        ));
    }
}

/// Characters that make text lie about itself when displayed or end a header line on some
/// stacks: Unicode line/paragraph separators and the bidirectional controls (U+202E and kin).
fn is_deceptive(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}' | '\u{061C}' | '\u{200E}' | '\u{200F}'
        | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A string value as shown in messages: JSON-quoted, cut to 60 characters.
fn shown_text(v: &str) -> Value {
    if v.chars().count() > 60 {
        let short: String = v.chars().take(57).collect();
        Value::String(format!("{short}..."))
    } else {
        Value::String(v.to_string())
    }
}

/// Length check for text settings, in characters; a secret's value is never shown.
pub fn check_length(report: &mut Report, field: &'static str, v: &str, max: usize, secret: bool) {
    let len = v.chars().count();
    if len > max {
        let shown = if secret {
            Value::String(REDACTED.into())
        } else {
            shown_text(v)
        };
        report.push(Violation::error(
            Some(field),
            Some(shown),
            "maxLength",
            format!("is {len} characters long; at most {max} are allowed"),
        ));
    }
}

/// Which field each key of one JSON object set, to reject an object that sets a field twice
/// under two spellings (`incomingWebhook` and `incoming_webhook`): which one should win?
#[derive(Default)]
pub struct Spellings(Vec<(&'static str, String)>);

impl Spellings {
    /// Records `key`; a violation if its field was already given under another spelling.
    pub fn conflict(&mut self, key: &str, fields: &[FieldInfo]) -> Option<Violation> {
        let field = fields.iter().find(|f| f.name == key || f.snake == key)?;
        if let Some((_, first)) = self.0.iter().find(|(name, _)| *name == field.name) {
            return Some(Violation::error(
                Some(field.name),
                None,
                "duplicate",
                format!("is given twice, as `{first}` and as `{key}`; give it once"),
            ));
        }
        self.0.push((field.name, key.to_string()));
        None
    }
}

/// Warning for a value above the API's recommended maximum (still within the range).
pub fn check_recommended_max(
    report: &mut Report,
    field: &'static str,
    v: i64,
    recommended: i64,
    unit: Option<&str>,
) {
    if v > recommended {
        let unit = unit.map(|u| format!(" {u}")).unwrap_or_default();
        report.push(Violation::warning(
            Some(field),
            Some(v.into()),
            "aboveRecommended",
            format!("{v} is above the recommended maximum of {recommended}{unit}"),
        ));
    }
}

/// What is wrong with a URL setting, if anything (see [`check_url`]). A plain ASCII
/// `http(s)://host[:port][/...]` URL ([`is_plain_http_url`]) is accepted without the full
/// parse, which was half of the cost of validating a patch; anything else is parsed, and
/// `url_problem_parsed` is the reference the unit tests hold this function to.
fn url_problem(v: &str, schemes: &[&str], allow_empty: bool) -> Option<String> {
    if is_plain_http_url(v, schemes) {
        return None;
    }
    url_problem_parsed(v, schemes, allow_empty)
}

/// [`url_problem`] by the full parse (`url::Url::parse`), for every input.
fn url_problem_parsed(v: &str, schemes: &[&str], allow_empty: bool) -> Option<String> {
    if v.is_empty() {
        (!allow_empty).then(|| "is empty".to_string())
    } else if v.chars().any(|c| c.is_control() || c.is_whitespace()) {
        Some("contains whitespace or control characters".to_string())
    } else if v.chars().any(|c| is_deceptive(c) || c.is_control()) {
        Some("contains bidirectional-override or line-separator characters".to_string())
    } else {
        match url::Url::parse(v) {
            Err(e) => Some(format!("is not an absolute URL ({e})")),
            Ok(u) if !schemes.contains(&u.scheme()) => Some(format!("has scheme `{}`", u.scheme())),
            Ok(u) if u.host_str().is_none_or(str::is_empty) => Some("has no host".to_string()),
            Ok(_) => None,
        }
    }
}

/// Whether `v` is certainly an absolute URL that `url::Url::parse` accepts, with an allowed
/// scheme and a host, by a grammar narrower than the URL standard's:
/// `http://` or `https://` (lowercase, the scheme among `schemes`), then a host of
/// dot-separated labels of `a-z`, `0-9` and inner single hyphens whose last label starts with
/// a letter, then optionally `:` and a port of 1 to 5 digits up to 65535, then the end or
/// `/`, `?` or `#` and any printable ASCII after it (no space, no control character). Why
/// each part cannot fail the full parse:
///
/// - no `@` before the path, so no userinfo; no `%`, so no percent-decoding of the host;
/// - such a host is left as it is by IDNA (lowercase ASCII, no `xn--` label, hyphens are
///   allowed anywhere by the URL standard's UTS 46 options), is not empty, and does not
///   "end in a number" (its last label starts with a letter), so it is no IPv4 address;
/// - the path, query and fragment of a special URL are percent-encoded as needed, never
///   refused.
///
/// Anything outside this grammar (`false`) is left to the full parse.
fn is_plain_http_url(v: &str, schemes: &[&str]) -> bool {
    let (scheme, rest) = if let Some(rest) = v.strip_prefix("https://") {
        ("https", rest)
    } else if let Some(rest) = v.strip_prefix("http://") {
        ("http", rest)
    } else {
        return false;
    };
    if !schemes.contains(&scheme) || v.len() > 1 << 20 {
        return false;
    }
    let b = rest.as_bytes();
    let host_end = b
        .iter()
        .position(|&c| matches!(c, b'/' | b'?' | b'#' | b':'))
        .unwrap_or(b.len());
    let host = &b[..host_end];
    let mut last_label: &[u8] = &[];
    let alnum = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    for label in host.split(|&c| c == b'.') {
        let ok = label.first().is_some_and(alnum)
            && label.last().is_some_and(alnum)
            && label.iter().all(|c| alnum(c) || *c == b'-')
            && !label.windows(2).any(|w| w == b"--");
        if !ok {
            return false;
        }
        last_label = label;
    }
    if !last_label.first().is_some_and(u8::is_ascii_lowercase) {
        return false;
    }
    let mut after = &b[host_end..];
    if let Some(port_and_rest) = after.strip_prefix(b":") {
        let digits = port_and_rest
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if !(1..=5).contains(&digits) {
            return false;
        }
        let port = port_and_rest[..digits]
            .iter()
            .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
        if port > 65535 {
            return false;
        }
        after = &port_and_rest[digits..];
    }
    matches!(after.first(), None | Some(b'/' | b'?' | b'#'))
        && after.iter().all(|&c| c > b' ' && c < 0x7f)
}

/// URL check: empty (when allowed) or an absolute URL with an allowed scheme and a host.
pub fn check_url(
    report: &mut Report,
    field: &'static str,
    v: &str,
    schemes: &[&str],
    allow_empty: bool,
) {
    // The message parts are built only for a problem: a valid URL (the usual case) costs
    // the checks and nothing else.
    if let Some(p) = url_problem(v, schemes, allow_empty) {
        let expected = if allow_empty {
            format!("must be empty or an absolute {} URL", schemes.join("/"))
        } else {
            format!("must be an absolute {} URL", schemes.join("/"))
        };
        let shown = shown_text(v);
        report.push(Violation::error(
            Some(field),
            Some(shown.clone()),
            "url",
            format!("{shown} {p}; {expected}"),
        ));
    }
}

/// Token check: it is sent on in an HTTP header, so no control characters (CR, LF, ...).
pub fn check_token(report: &mut Report, field: &'static str, v: &str) {
    if v.chars().any(|c| c.is_control() || is_deceptive(c)) {
        report.push(Violation::error(
            Some(field),
            Some(Value::String(REDACTED.into())),
            "controlCharacters",
            "contains control characters (CR, LF or others), line/paragraph separators or bidirectional overrides, which cannot be sent safely in an HTTP header (value not shown: secret)",
        ));
    }
}

/// Warning for a field that is set but unused or broken on the API side.
pub fn status_warning(report: &mut Report, field: &'static str, status: Status) {
    let message = match status {
        Status::Unused => "is not used by the API; setting it has no effect",
        Status::Deprecated => "is deprecated: the server accepts and ignores it",
        Status::TemporarilyBroken => {
            "is temporarily not working on the API side; the value is saved but may have no effect"
        }
        Status::Active | Status::Beta => return,
    };
    report.push(Violation::warning(
        Some(field),
        None,
        status.as_str(),
        message,
    ));
}

/// Evaluates one cross-field rule on a (possibly partial) state; `None` means unknown, and a
/// rule with an unknown input stays silent. Only rules that the change `touched` are reported.
#[allow(clippy::too_many_arguments)]
pub fn check_rule(
    report: &mut Report,
    id: &'static str,
    kind: RuleKind,
    field: &'static str,
    touched: bool,
    value: Option<bool>,
    others: &[(&'static str, Option<bool>)],
    message: &'static str,
) {
    if !touched || value != Some(true) {
        return;
    }
    let fires = match kind {
        RuleKind::IgnoredWhen => others.iter().all(|(_, v)| *v == Some(true)),
        RuleKind::EffectiveOnlyWithAll => others.iter().any(|(_, v)| *v == Some(false)),
        RuleKind::EffectiveOnlyWithAny => others.iter().all(|(_, v)| *v == Some(false)),
        RuleKind::Advice => false,
    };
    if fires {
        report.push(Violation::warning(
            Some(field),
            Some(yes_no_value(true)),
            id,
            message,
        ));
    }
}

/// Turns collected violations into one serde error message.
pub fn de_error<E: serde::de::Error>(v: Vec<Violation>) -> E {
    E::custom(
        v.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; "),
    )
}

#[cfg(test)]
mod tests {
    use super::{is_plain_http_url, url_problem, url_problem_parsed};

    const SCHEME_SETS: [&[&str]; 3] = [&["http", "https"], &["https"], &["http"]];

    /// `url_problem` (with the fast path) and `url_problem_parsed` (the full parse) agree on
    /// `v`: the same acceptance and the same message, for every scheme set and both empties.
    fn assert_same(v: &str) {
        for schemes in SCHEME_SETS {
            for allow_empty in [true, false] {
                assert_eq!(
                    url_problem(v, schemes, allow_empty),
                    url_problem_parsed(v, schemes, allow_empty),
                    "{v:?} with schemes {schemes:?}, allow_empty {allow_empty}"
                );
            }
            if is_plain_http_url(v, schemes) {
                assert_eq!(url_problem_parsed(v, schemes, false), None, "{v:?}");
            }
        }
    }

    #[test]
    fn plain_urls_take_the_fast_path() {
        for v in [
            "https://mysite.com/webhook/green-api/",
            "http://localhost",
            "http://localhost:8080/x?y=1#z",
            "https://a-b.c9/",
            "http://1.2.3.example/",
            "http://a.b:0/",
            "http://a.b:65535",
            "http://a.b/%zz?q=%#%",
            "http://a.b/a@b",
            "http://a.b?x",
            "http://a.b#x",
        ] {
            assert!(is_plain_http_url(v, &["http", "https"]), "{v}");
            assert_same(v);
        }
    }

    #[test]
    fn fast_path_agrees_with_the_full_parse_on_edge_cases() {
        let long_host = format!("http://{}.com/", "a".repeat(3000));
        let long_label = format!("http://{}/", "a".repeat(70));
        let many_labels = format!("http://{}x/", "a.".repeat(200));
        let cases: Vec<&str> = vec![
            // empty, schemes, slashes
            "",
            "http://",
            "https://",
            "http:",
            "http:/a.b",
            "http:a.b",
            "http:///a.b",
            "http:////a.b",
            "//a.b",
            "a.b",
            "javascript:alert(1)",
            "file:///etc/passwd",
            "ftp://a.b/",
            "ws://a.b/",
            "HTTP://a.b/",
            "Https://a.b",
            "hTtP://a.b",
            "mailto:x@y.z",
            "data:text/plain,x",
            "http:\\\\a.b\\c",
            "http://a.b\\c",
            "http:/\\a.b/",
            "https:a.b",
            "httpx://a.b",
            "http+s://a.b",
            // ports
            "http://a.b:65536",
            "http://a.b:99999",
            "http://a.b:123456",
            "http://a.b:",
            "http://a.b:/",
            "http://a.b:8o/",
            "http://a.b:00080/",
            "http://a.b:000000080/",
            "http://a.b:80",
            "https://a.b:443/",
            "http://a.b:-1/",
            "http://a.b:+1/",
            "http://a.b:1:2/",
            "http://:80/",
            "http://a.b::80/",
            "http://a.b:80?x",
            "http://a.b:80#x",
            // IPv4 and numbers
            "http://1.2.3.4/",
            "http://1.2.3.256/",
            "http://999999999999/",
            "http://0x7f.1/",
            "http://foo.123/",
            "http://foo.0x1/",
            "http://123/",
            "http://1.2.3.4.5/",
            "http://a.1b/",
            "http://a.b1/",
            "http://foo.09/",
            "http://0x/",
            "http://foo.0x/",
            "http://foo.0xg/",
            "http://1.2.3.4./",
            "http://4294967296/",
            "http://0/",
            "http://a.0/",
            // IDNA, labels, hyphens
            "http://xn--nxasmq6b.com/",
            "http://xn--a.com/",
            "http://xn--/",
            "http://xn--ls8h.la/",
            "http://XN--a.com/",
            "http://bücher.de/",
            "http://BÜCHER.de/",
            "http://a..b/",
            "http://.a/",
            "http://a./",
            "http://./",
            "http://../",
            "http://-a.b/",
            "http://a-.b/",
            "http://a--b.c/",
            "http://ab--c.d",
            "http://EXAMPLE.com/",
            "http://exa_mple.com/",
            "http://ｅｘａｍｐｌｅ.com/",
            "http://a\u{00AD}b.com/",
            "http://\u{200B}.com/",
            "http://a\u{3002}b/",
            "http://例え.テスト/",
            "http://a.b.",
            "http://-/",
            "http://a-/",
            "http://a*b/",
            "http://a<b/",
            "http://a^b/",
            "http://a|b/",
            "http://a'b/",
            &long_host,
            &long_label,
            &many_labels,
            // percent escapes
            "http://exa%41mple.com/",
            "http://%zz/",
            "http://a%2eb/",
            "http://a%2Fb/",
            "http://%/",
            "http://a%00b/",
            "http://a%20b/",
            "http://a.b/%41",
            "http://a.b/%",
            // userinfo
            "http://user@host/",
            "http://user:pass@host/",
            "http://@host",
            "http://host:80@evil/",
            "http://:pass@host/",
            "http://a@/",
            "http://a@b@c/",
            "http://a.b/@",
            "http://a.b?@x",
            // IPv6
            "http://[::1]/",
            "http://[::1]:8080/",
            "http://[::1/",
            "http://[1:2:3:4:5:6:7:8:9]/",
            "http://[::ffff:1.2.3.4]/",
            "http://[zz]/",
            "http://[]/",
            "http://[::1]x/",
            "http://::1/",
            // whitespace, control, bidi
            " http://a.b",
            "http://a.b ",
            "http://a\tb",
            "http://a.b/\n",
            "http://a.b/\r",
            "http://a.b/\u{7f}",
            "http://a.b/\u{0}",
            "http://a.b/\u{85}",
            "http://a.b/\u{a0}",
            "http://a.b/\u{2028}",
            "http://a.b/\u{2029}",
            "http://a.b/\u{202e}",
            "http://a.b/\u{200e}",
            "http://a.b/\u{2066}",
            "http://a.b/\u{61c}",
            "\u{feff}http://a.b",
            "http://a.b/\u{3000}",
            "http://a.b/\u{1f}",
            "http://a.b/\u{b}",
            "http://a.b/ü",
            "http://a.b/?ü#ü",
        ];
        for v in cases {
            assert_same(v);
        }
    }

    /// Random strings from pieces that matter to the URL grammar, most of them starting like
    /// an http(s) URL; the fast path must take many of them and agree on all.
    #[test]
    fn fast_path_agrees_with_the_full_parse_on_random_inputs() {
        const PIECES: &[&str] = &[
            "a",
            "b",
            "z",
            "m",
            "0",
            "1",
            "9",
            "-",
            ".",
            "..",
            ":",
            "/",
            "?",
            "#",
            "@",
            "%",
            "%41",
            "%2e",
            "[",
            "]",
            "::1",
            "x",
            "xn--",
            "0x",
            "8080",
            "65536",
            "99999",
            "ü",
            "\u{202e}",
            " ",
            "\\",
            "A",
            "_",
            "com",
            "localhost",
            "255",
            "256",
            "4294967295",
            "\u{ad}",
            "ｅ",
            "\u{3002}",
            "*",
            "\t",
            "'",
        ];
        const STARTS: &[&str] = &[
            "http://", "https://", "HTTP://", "ftp://", "http:", "", "http:/",
        ];
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            usize::try_from(state % n as u64).expect("fits")
        };
        let mut fast = 0;
        for _ in 0..50_000 {
            let mut v = String::from(if next(4) == 0 {
                STARTS[next(STARTS.len())]
            } else {
                STARTS[next(2)]
            });
            for _ in 0..next(12) {
                // Mostly letters, digits and dots: hosts the fast path takes.
                let piece = if next(2) == 0 {
                    PIECES[next(PIECES.len())]
                } else {
                    ["a", "b", "7", ".", "-", "/"][next(6)]
                };
                v.push_str(piece);
            }
            if is_plain_http_url(&v, &["http", "https"]) {
                fast += 1;
            }
            assert_same(&v);
        }
        assert!(fast > 2_000, "the fast path took only {fast} inputs");
    }
}
