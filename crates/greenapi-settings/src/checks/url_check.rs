//! The URL check of URL settings ([`check_url`]): a plain `http(s)://host[:port][/...]` URL is
//! accepted by a narrow grammar ([`is_plain_http_url`]) without the full parse, anything else
//! is parsed by `url::Url::parse`; the unit tests hold the two paths to the same answers.

use super::{is_deceptive, shown_text};
use crate::validation::{Report, Violation};

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
