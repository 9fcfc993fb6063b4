//! The instances file of a fleet run (`id,token,api_url` per line, or any column order under a
//! header): read with the `csv` crate and checked whole, every bad line reported at once,
//! before anything is sent.

use std::collections::HashSet;

use greenapi_settings::{ApiToken, Client};

use super::Instance;
use crate::creds::{check_api_url_alone, hide_secrets, CheckedUrl};
use crate::exit::CliError;
use crate::input::strip_bom;

/// One line of the instances file, by column name (`id`, `token`, `api_url` after the header
/// is read; other columns of an inventory are ignored).
#[derive(serde::Deserialize)]
struct Row<'a> {
    id: &'a str,
    token: &'a str,
    api_url: &'a str,
}

/// Parses an instances file and checks every line's id, token and URL before anything is sent,
/// reporting every bad line at once. The file is CSV (RFC 4180: quoted fields, `""` inside
/// quotes), its separator `,`, `;` or a tab (the one the first line uses most); `#` comment
/// lines, blank lines and a UTF-8 byte order mark are skipped. A first line that names the
/// columns (`id`/`idInstance`, a column with `token`, one with `url`, in any order) is a header:
/// the columns are then found by name and any other column is ignored. Without one, each line
/// is `id,token,api_url`. No message quotes a token or a URL: a token in the wrong column is
/// not echoed.
pub fn parse_instances(text: &str, shown: &str) -> Result<Vec<Instance>, CliError> {
    let text = strip_bom(text);
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .trim(::csv::Trim::All)
        .delimiter(separator(text))
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    // URLs the core's checks passed. Those checks depend on the URL and on the token's
    // characters only, and the token was checked for those characters above: a URL that
    // passed with one token passes with any other that got this far.
    let mut urls_passed: HashSet<String> = HashSet::new();
    // The last line's URL and its token-independent checks (`check_api_url` is those, then
    // the token's): consecutive lines nearly always share their URL.
    let mut last_url: Option<(String, Result<CheckedUrl, String>)> = None;
    let mut columns: Option<Columns> = None;
    let mut record = ::csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                problems.push(format!("{}: {}", At(shown, line as usize), csv_problem(&e)));
                break;
            }
        }
        if record.iter().all(str::is_empty) {
            continue; // a line of blanks
        }
        let at = At(shown, record.position().map_or(0, |p| p.line() as usize));
        let cols: &Columns = if let Some(c) = &columns {
            c
        } else {
            let (found, header) = Columns::of_first(&record);
            match header {
                Ok(true) => {
                    columns = Some(found);
                    continue;
                }
                Ok(false) => columns.insert(found),
                Err(p) => {
                    problems.push(format!("{at}: {p}"));
                    break;
                }
            }
        };
        if record.len() < cols.needed || (cols.exact && record.len() != cols.needed) {
            problems.push(format!(
                "{at}: expected {} fields `{}`, found {}",
                cols.needed,
                cols.shape,
                record.len()
            ));
            continue;
        }
        let row: Row<'_> = match record.deserialize(Some(&cols.names)) {
            Ok(row) => row,
            Err(e) => {
                problems.push(format!("{at}: {}", csv_problem(&e)));
                continue;
            }
        };
        let Ok(id) = row.id.parse::<u64>() else {
            problems.push(format!(
                "{at}: the instance id must be a number (the value is not shown: it may be a misplaced token)"
            ));
            continue;
        };
        let (token, url) = (row.token, row.api_url);
        if token.is_empty() {
            problems.push(format!("{at}: empty token for instance {id}"));
            continue;
        }
        if token
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || matches!(c, '/' | '?' | '#'))
        {
            problems.push(format!(
                "{at}: the token of instance {id} contains characters a token cannot have (the value is not shown)"
            ));
            continue;
        }
        // Checked on every line: the builder's own check below runs once per URL.
        if token.chars().count() < greenapi_settings::redact::MIN_TOKEN_CHARS {
            problems.push(format!(
                "{at}: the token of instance {id} is shorter than {} characters, so it is not a GREEN-API token (the value is not shown)",
                greenapi_settings::redact::MIN_TOKEN_CHARS
            ));
            continue;
        }
        let token = ApiToken::new(token);
        if last_url.as_ref().is_none_or(|(seen, _)| seen != url) {
            last_url = Some((url.to_string(), check_api_url_alone(url)));
        }
        let checked = match last_url.as_ref().map(|(_, c)| c) {
            Some(Ok(c)) => c.check_token(Some(&token)),
            Some(Err(p)) => Err(p.clone()),
            None => Err("is not checked".into()),
        };
        if let Err(p) = checked {
            problems.push(format!("{at}: the api_url of instance {id} {p}"));
            continue;
        }
        // Every check the core's client builder makes, so whatever it would refuse is refused
        // here, before the first request of the run (without building a client per line).
        if !urls_passed.contains(url) {
            if let Err(e) = Client::builder()
                .api_url(url)
                .id_instance(id)
                .api_token(token.clone())
                .check()
            {
                let e = hide_secrets(e.into(), url, &token);
                problems.push(format!("{at}: instance {id}: {}", e.message));
                continue;
            }
            urls_passed.insert(url.to_string());
        }
        if !seen.insert(id) {
            problems.push(format!("{at}: instance {id} is listed twice"));
            continue;
        }
        out.push(Instance {
            id,
            token,
            api_url: url.to_string(),
        });
    }
    if !problems.is_empty() {
        return Err(CliError::usage(format!(
            "{shown}: {} bad line(s); nothing was sent",
            problems.len()
        ))
        .with_problems(problems));
    }
    if out.is_empty() {
        return Err(CliError::usage(format!("{shown}: no instances listed")));
    }
    Ok(out)
}

/// The separator the first line that is not blank or a comment uses most: `,`, `;` or a tab
/// (`,` on a tie; quoted text is counted too, which a first line of ids, tokens and URLs does
/// not have).
fn separator(text: &str) -> u8 {
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or("");
    let count = |c: char| first.matches(c).count();
    [b';', b'\t']
        .into_iter()
        .filter(|&d| count(d as char) > count(','))
        .max_by_key(|&d| count(d as char))
        .unwrap_or(b',')
}

/// A `csv` error as a problem, without the field's text (it may be a token): the crate's
/// messages name positions and kinds, and a deserialize error names the column.
fn csv_problem(e: &::csv::Error) -> String {
    match e.kind() {
        ::csv::ErrorKind::Deserialize { err, .. } => match err.field() {
            Some(i) => format!("column {} could not be read", i + 1),
            None => "a column is missing".to_string(),
        },
        ::csv::ErrorKind::Utf8 { .. } => "not UTF-8 text".to_string(),
        _ => "not a CSV line".to_string(),
    }
}

/// Where the three columns are: by position, or by the header's names.
struct Columns {
    /// The names serde reads the record with (`id`, `token`, `api_url`, or other names that
    /// the row ignores).
    names: ::csv::StringRecord,
    /// Fields a line needs (the last named column's position + 1).
    needed: usize,
    /// Whether a line must have exactly `needed` fields (no header: extra fields are a mistake).
    exact: bool,
    /// The shape named in a "wrong number of fields" problem.
    shape: String,
}

impl Columns {
    fn positional() -> Columns {
        Columns {
            names: ::csv::StringRecord::from(vec!["id", "token", "api_url"]),
            needed: 3,
            exact: true,
            shape: "id,token,api_url".into(),
        }
    }

    /// The columns the first line gives, and whether it is a header (`Ok(true)`), data
    /// (`Ok(false)`), or a header that names a column twice (`Err`).
    fn of_first(first: &::csv::StringRecord) -> (Columns, Result<bool, String>) {
        let kinds: Vec<Option<&'static str>> = first.iter().map(column_kind).collect();
        let position = |name: &str| kinds.iter().position(|k| *k == Some(name));
        let (Some(id), Some(token), Some(url)) =
            (position("id"), position("token"), position("api_url"))
        else {
            return (Columns::positional(), Ok(false));
        };
        for name in ["id", "token", "api_url"] {
            if kinds.iter().filter(|k| **k == Some(name)).count() > 1 {
                return (
                    Columns::positional(),
                    Err(format!("the header names the {name} column twice")),
                );
            }
        }
        let names = kinds
            .iter()
            .enumerate()
            .map(|(i, k)| k.map_or_else(|| format!("_{i}"), str::to_string))
            .collect::<Vec<_>>();
        let columns = Columns {
            names: ::csv::StringRecord::from(names),
            needed: id.max(token).max(url) + 1,
            exact: false,
            shape: first.iter().collect::<Vec<_>>().join(","),
        };
        (columns, Ok(true))
    }
}

/// What a header cell names: the instance id (`id`, `idInstance`, `instance`, `instanceId`),
/// the token (any name with `token`) or the URL (any name with `url`); `None` for any other
/// column. Anything else on the first line is data, and checked as such (a typo in the first
/// id must not silently drop that instance).
fn column_kind(cell: &str) -> Option<&'static str> {
    let norm: String = cell
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    if matches!(
        norm.as_str(),
        "id" | "idinstance" | "instance" | "instanceid"
    ) {
        Some("id")
    } else if norm.contains("token") {
        Some("token")
    } else if norm.contains("url") {
        Some("api_url")
    } else {
        None
    }
}

/// Where a line is, `FILE:LINE`, written only into a problem's message (formatting it for
/// every line was ~1k instructions a line).
#[derive(Clone, Copy)]
struct At<'a>(&'a str, usize);

impl std::fmt::Display for At<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.0, self.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instances_file_skips_header_and_comments_and_reports_every_bad_line() {
        let ok = parse_instances(
            "id,token,api_url\n# prod\n1,tok1-4f1c,https://a.example\n\n2, tok2-4f1c , http://127.0.0.1:9\n",
            "i.csv",
        )
        .unwrap();
        assert_eq!(ok.iter().map(|i| i.id).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(ok[1].token.expose(), "tok2-4f1c");
        let err = parse_instances("1,SEKRIT-99,https://a\nx,SEKRIT-99,https://a\n1,SEKRIT-99,https://a\n3,,https://a\n4,SEKRIT-99,ftp://a\n5,SEKRIT-99\n", "i.csv").unwrap_err();
        assert_eq!(err.details.len(), 5, "{:?}", err.details);
        assert!(err.details[0].starts_with("i.csv:2: the instance id must be a number"));
        assert!(
            err.details.iter().all(|d| !d.contains("SEKRIT")),
            "{:?}",
            err.details
        );
    }

    fn problems(text: &str) -> Vec<String> {
        parse_instances(text, "i.csv").unwrap_err().details
    }

    #[test]
    fn only_a_line_that_looks_like_a_header_is_skipped() {
        for header in [
            "id,token,api_url",
            "idInstance,apiTokenInstance,apiUrl",
            "ID , Token , URL",
        ] {
            let ok = parse_instances(
                &format!("{header}\n1,tok-4f1c,https://a.example\n"),
                "i.csv",
            )
            .unwrap();
            assert_eq!(ok.len(), 1, "{header}");
        }
        // A typo in the first id, or a BOM the file should not have had, is not a header.
        let p = problems("l101000001,tok-4f1c,https://a.example\n2,tok-4f1c,https://a.example\n");
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with("i.csv:1: the instance id must be a number"),
            "{p:?}"
        );
        let ok = parse_instances("\u{feff}1,tok-4f1c,https://a.example\n", "i.csv").unwrap();
        assert_eq!(ok[0].id, 1);
        let ok = parse_instances(
            "\u{feff}id,token,api_url\n1,tok-4f1c,https://a.example\n",
            "i.csv",
        )
        .unwrap();
        assert_eq!(ok[0].id, 1);
    }

    #[test]
    fn every_token_and_url_is_checked_before_the_run() {
        let p = problems(
            "1,tok-4f1c,https://a.example\n2,tok-4f1c,https://a.example\n3,to k,https://a.example\n4,tok-4f1c,https://a.example/x?y\n5,tok-4f1c,https://a.example/waInstance5/getSettings/tok\n6,tok-4f1c,https://u:p@a.example\n7,tok-4f1c,https://\n",
        );
        assert_eq!(p.len(), 5, "{p:?}");
        assert!(
            p[0].starts_with("i.csv:3: the token of instance 3"),
            "{p:?}"
        );
        assert!(
            p[1].starts_with("i.csv:4: the api_url of instance 4 must not have a query"),
            "{p:?}"
        );
        assert!(
            p[2].starts_with("i.csv:5: the api_url of instance 5 must be the API's base URL"),
            "{p:?}"
        );
        assert!(
            p[3].starts_with("i.csv:6: the api_url of instance 6 must not contain a user"),
            "{p:?}"
        );
        assert!(
            p[4].starts_with("i.csv:7: the api_url of instance 7 has no host"),
            "{p:?}"
        );
    }

    #[test]
    fn a_url_already_checked_is_still_checked_for_each_lines_token() {
        // Line 1's URL passes; on line 2 the same URL holds line 2's token.
        let p = problems("1,tok1-4f1c,https://a.example/abc-4f1c\n2,abc-4f1c,https://a.example/abc-4f1c\n3,tok3-4f1c,https://a.example/abc-4f1c\n");
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with("i.csv:2: the api_url of instance 2 contains the API token"),
            "{p:?}"
        );
        // The core's own check (here: the port) is made for a URL not seen before.
        let p = problems("1,tok-4f1c,https://a.example\n2,tok-4f1c,https://a.example:99999\n3,tok-4f1c,https://a.example:99999\n");
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[0].starts_with("i.csv:2: instance 2: "), "{p:?}");
        assert!(p[1].starts_with("i.csv:3: instance 3: "), "{p:?}");
    }

    #[test]
    fn lines_sharing_a_url_get_each_lines_own_answer() {
        // Each line's problem (or none) is what `check_api_url` says of that line alone,
        // whatever the lines before it (same URL, another URL, a bad one).
        let urls = [
            "https://a.example/abcdefgh",
            "https://a.example/ABCDEFGH",
            "https://a.example/%61bcdefgh",
            "http://a.example/long-token-1",
            "ftp://a.example",
            "https://a.example?q",
        ];
        let tokens = ["tok-4f1c9a", "abcdefgh", "long-token-1", "LONG-TOKEN-1"];
        let mut text = String::new();
        let mut expected = Vec::new();
        let mut n = 0;
        for round in 0..3 {
            for (i, url) in urls.iter().enumerate() {
                for (j, token) in tokens.iter().enumerate() {
                    // Same URL on consecutive lines, then URLs interleaved.
                    let url = if round == 1 {
                        urls[(i + j) % urls.len()]
                    } else {
                        url
                    };
                    n += 1;
                    text.push_str(&format!("{n},{token},{url}\n"));
                    if let Err(p) = crate::creds::check_api_url(url, Some(&ApiToken::new(*token))) {
                        expected.push(format!("i.csv:{n}: the api_url of instance {n} {p}"));
                    }
                }
            }
        }
        let got: Vec<String> = problems(&text)
            .into_iter()
            .filter(|p| p.contains("the api_url of"))
            .collect();
        assert!(expected.len() > 10, "{expected:?}");
        assert_eq!(got, expected);
    }

    #[test]
    fn a_token_in_the_id_or_url_column_is_not_echoed() {
        for token in ["SEKRIT<>{}É-long-token-value", "SEK", "sekrit%3Cé"] {
            let misplaced = [
                format!("{token},1,https://a.example\n"),
                format!("1,https://a.example,{token}\n"),
                format!("1,{token},https://a.example/{token}\n"),
                format!("1,{token},https://a.example/{}\n", token.to_uppercase()),
                format!("1,{token},https://a.example/waInstance1/{token}\n"),
                format!("1,{token},https://{token}@a.example\n"),
                format!("1,{token},ftp://a.example/{token}\n"),
                format!("1,{token},https://a.example/{token} x\n"),
            ];
            for text in misplaced {
                let e = parse_instances(&text, "i.csv").unwrap_err();
                let all = format!("{} {:?}", e.message, e.details);
                assert!(
                    !all.contains(token) && !all.to_lowercase().contains(&token.to_lowercase()),
                    "{text}: {all}"
                );
            }
        }
    }

    #[test]
    fn a_token_percent_encoded_in_the_url_is_found() {
        let p = problems("1,SEKRIT<>{}É-long-token-value,https://a.example/p/SEKRIT%3C%3E%7B%7D%C3%89-long-token-value/q\n");
        assert!(p[0].contains("contains the API token"), "{p:?}");
    }

    #[test]
    fn quoted_fields_any_column_order_extra_columns_and_semicolons_are_read() {
        // An inventory export: header in another order, extra columns, quoted fields.
        let ok = parse_instances(
            "region,apiUrl,\"note, with comma\",apiTokenInstance,idInstance\n\
             eu,https://a.example,\"said \"\"hi\"\"\",tok1-4f1c,1\n\
             us,\"https://b.example\",,\"tok2-4f1c\",2\n",
            "i.csv",
        )
        .unwrap();
        assert_eq!(ok.iter().map(|i| i.id).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(ok[0].token.expose(), "tok1-4f1c");
        assert_eq!(ok[1].token.expose(), "tok2-4f1c");
        assert_eq!(ok[1].api_url, "https://b.example");
        // `;` (a spreadsheet in a locale that writes decimal commas) and a tab.
        for sep in [";", "\t"] {
            let text = format!("id{sep}token{sep}api_url\n1{sep}tok-4f1c{sep}https://a.example\n");
            let ok = parse_instances(&text, "i.csv").unwrap();
            assert_eq!(ok.len(), 1, "{sep:?}");
        }
        let ok = parse_instances(
            "1;tok-4f1c;https://a.example\n2;tok-4f1c;https://a.example\n",
            "i.csv",
        )
        .unwrap();
        assert_eq!(ok.len(), 2);
    }

    #[test]
    fn a_header_line_names_its_problems_and_short_lines_are_counted() {
        let p = problems("id,token,token_2,api_url\n1,a,b,https://a.example\n");
        assert_eq!(p, ["i.csv:1: the header names the token column twice"]);
        // Without a header every line is exactly id,token,api_url; with one, extra columns
        // are fine but the named ones must be there.
        let p = problems("1,tok,https://a.example,extra\n");
        assert!(
            p[0].starts_with("i.csv:1: expected 3 fields `id,token,api_url`, found 4"),
            "{p:?}"
        );
        let p = problems("url,id,token,note\nhttps://a.example,1\n");
        assert!(
            p[0].starts_with("i.csv:2: expected 3 fields `url,id,token,note`, found 2"),
            "{p:?}"
        );
        // An unterminated quote is a problem with a line number, never the field's text.
        let p = problems("1,\"SEKRIT,https://a.example\n");
        assert!(p.iter().all(|d| !d.contains("SEKRIT")), "{p:?}");
    }

    #[test]
    fn a_short_token_is_refused_on_every_line_even_after_its_url_was_checked() {
        let p =
            problems("1,a-token-long-enough-1,https://a.example\n2,short7x,https://a.example\n");
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with("i.csv:2: the token of instance 2 is shorter than 8"),
            "{p:?}"
        );
        assert!(!p[0].contains("short7x"), "{p:?}");
    }
}
