//! What changed between two specs, for users of the generated API: settings added, removed or
//! renamed, types, ranges, lengths, URL rules, statuses, read-only fields, cross-field rules
//! and method facts — each marked breaking or not for Rust and for Python callers, rendered as
//! Markdown ready for a changelog.
//!
//! ```
//! let v1 = greenapi_settings_codegen::load_str(include_str!("../tests/fixtures/settings-v1.json")).unwrap();
//! let v2 = greenapi_settings_codegen::load_str(include_str!("../../../spec/settings.json")).unwrap();
//! let changes = greenapi_settings_codegen::diff::diff(&v1, &v2);
//! assert!(changes.iter().any(|c| c.subject == "delaySendMessagesMilliseconds" && c.breaking.rust));
//! ```

use std::fmt::Write as _;

use crate::model::{FieldType, ReadOnlyField, Rule, Setting, Spec, Status};

/// For whom a change breaks code that worked before.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Breaking {
    /// Rust code using the generated types stops compiling or starts failing validation.
    pub rust: bool,
    /// Python code using the package starts raising where it did not.
    pub python: bool,
}

impl Breaking {
    const NONE: Breaking = Breaking {
        rust: false,
        python: false,
    };
    const BOTH: Breaking = Breaking {
        rust: true,
        python: true,
    };

    fn any(self) -> bool {
        self.rust || self.python
    }

    fn label(self) -> &'static str {
        match (self.rust, self.python) {
            (true, true) => "breaking for Rust and Python",
            (true, false) => "breaking for Rust",
            (false, true) => "breaking for Python",
            (false, false) => "not breaking",
        }
    }
}

/// One change between two specs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// What changed: a setting's or read-only field's API name, a rule id, or a method name.
    pub subject: String,
    /// What happened to it, in one sentence.
    pub what: String,
    /// Who it breaks.
    pub breaking: Breaking,
}

fn change(subject: &str, what: impl Into<String>, breaking: Breaking) -> Change {
    Change {
        subject: subject.to_string(),
        what: what.into(),
        breaking,
    }
}

/// Every change from `old` to `new`, in spec order (settings, read-only fields, rules,
/// methods).
pub fn diff(old: &Spec, new: &Spec) -> Vec<Change> {
    let mut out = Vec::new();
    settings(old, new, &mut out);
    read_only(&old.read_only, &new.read_only, &mut out);
    rules(&old.rules, &new.rules, &mut out);
    methods(old, new, &mut out);
    out
}

fn summary(s: &Setting) -> String {
    format!(
        "{}, {}",
        crate::constraint::docs(s).replace('`', ""),
        s.status.spec_name()
    )
}

fn settings(old: &Spec, new: &Spec, out: &mut Vec<Change>) {
    let removed: Vec<&Setting> = old
        .settings
        .iter()
        .filter(|o| new.setting(&o.name).is_none())
        .collect();
    let added: Vec<&Setting> = new
        .settings
        .iter()
        .filter(|n| old.setting(&n.name).is_none())
        .collect();
    // A setting that disappears while one of the same type and description appears is a rename.
    let renamed: Vec<(&Setting, &Setting)> = removed
        .iter()
        .filter_map(|o| {
            added
                .iter()
                .find(|n| n.ty == o.ty && n.description.en == o.description.en)
                .map(|n| (*o, *n))
        })
        .collect();
    for o in &removed {
        match renamed.iter().find(|(r, _)| r.name == o.name) {
            Some((_, n)) => out.push(change(
                &o.name,
                format!(
                    "renamed to `{}` (Rust `{}` → `{}`, Python `{}=` → `{}=`)",
                    n.name, o.snake, n.snake, o.snake, n.snake
                ),
                Breaking::BOTH,
            )),
            None => out.push(change(
                &o.name,
                format!(
                    "removed (the Rust field and builder `{}` and the Python keyword are gone)",
                    o.snake
                ),
                Breaking::BOTH,
            )),
        }
    }
    for n in &new.settings {
        match old.setting(&n.name) {
            Some(o) => setting(o, n, out),
            None if renamed.iter().any(|(_, r)| r.name == n.name) => {}
            None => out.push(change(
                &n.name,
                format!(
                    "added: {} (Rust `{}`, Python `{}=`, CLI `--{}`)",
                    summary(n),
                    n.snake,
                    n.snake,
                    n.snake.replace('_', "-")
                ),
                Breaking::NONE,
            )),
        }
    }
}

fn setting(o: &Setting, n: &Setting, out: &mut Vec<Change>) {
    let name = &n.name;
    if o.ty != n.ty {
        out.push(change(
            name,
            format!("type `{}` → `{}`", o.ty.spec_name(), n.ty.spec_name()),
            Breaking::BOTH,
        ));
    }
    match (o.range, n.range) {
        (a, b) if a == b => {}
        (Some((lo, hi)), Some((nlo, nhi))) => {
            let narrower = nlo > lo || nhi < hi;
            let unit = n
                .unit
                .as_deref()
                .map(|u| format!(" {u}"))
                .unwrap_or_default();
            out.push(change(
                name,
                format!(
                    "range `{lo}..={hi}` → `{nlo}..={nhi}`{unit}{}",
                    if narrower {
                        " (narrower: values accepted before are now errors)"
                    } else {
                        " (wider)"
                    }
                ),
                if narrower {
                    Breaking::BOTH
                } else {
                    Breaking::NONE
                },
            ));
        }
        (None, Some((lo, hi))) => out.push(change(
            name,
            format!("now limited to `{lo}..={hi}`"),
            Breaking::BOTH,
        )),
        (Some(_), None) => out.push(change(name, "no longer limited", Breaking::NONE)),
        (None, None) => {}
    }
    if o.recommended_max != n.recommended_max {
        let what = match n.recommended_max {
            Some(r) => format!("values above {r} now warn (recommended maximum)"),
            None => "no recommended maximum any more".to_string(),
        };
        out.push(change(name, what, Breaking::NONE));
    }
    match (o.max_length, n.max_length) {
        (a, b) if a == b => {}
        (a, Some(b)) if a.is_none_or(|a| b < a) => out.push(change(
            name,
            format!("at most {b} characters (shorter than before: longer values are now errors)"),
            Breaking::BOTH,
        )),
        (_, b) => out.push(change(
            name,
            match b {
                Some(b) => format!("at most {b} characters (longer than before)"),
                None => "no length limit any more".to_string(),
            },
            Breaking::NONE,
        )),
    }
    let lost: Vec<&String> = o
        .schemes
        .iter()
        .filter(|s| !n.schemes.contains(s))
        .collect();
    let gained: Vec<&String> = n
        .schemes
        .iter()
        .filter(|s| !o.schemes.contains(s))
        .collect();
    if !lost.is_empty() || !gained.is_empty() {
        out.push(change(
            name,
            format!(
                "URL schemes {} → {}",
                o.schemes.join("/"),
                n.schemes.join("/")
            ),
            if lost.is_empty() {
                Breaking::NONE
            } else {
                Breaking::BOTH
            },
        ));
    }
    toggled(
        out,
        name,
        (o.allow_empty, n.allow_empty),
        ["may now be empty", "may no longer be empty"],
        Breaking::BOTH,
    );
    if o.status != n.status {
        out.push(change(
            name,
            status_change(o.status, n.status),
            Breaking::NONE,
        ));
    }
    toggled(
        out,
        name,
        (o.secret, n.secret),
        [
            "now a secret: never shown in messages",
            "no longer a secret",
        ],
        Breaking::NONE,
    );
    toggled(
        out,
        name,
        (o.always_returned, n.always_returned),
        [
            "now expected in every getSettings answer",
            "may be missing from a getSettings answer (older servers)",
        ],
        Breaking::NONE,
    );
    if o.description != n.description {
        out.push(change(name, "description updated", Breaking::NONE));
    }
}

/// A yes/no property of setting `name` that went from `old` to `new`: says `[on, off]`'s
/// `on` when it is now true (never breaking) or `off` when it is now false (`off_breaking`).
fn toggled(
    out: &mut Vec<Change>,
    name: &str,
    (old, new): (bool, bool),
    [on, off]: [&str; 2],
    off_breaking: Breaking,
) {
    if old != new {
        out.push(if new {
            change(name, on, Breaking::NONE)
        } else {
            change(name, off, off_breaking)
        });
    }
}

fn status_change(o: Status, n: Status) -> String {
    let effect = match n {
        Status::Unused | Status::Deprecated => {
            "; the Rust field is `#[deprecated]` and sending it warns (Python `DeprecationWarning`)"
        }
        Status::TemporarilyBroken => "; sending it warns (Python `UserWarning`)",
        Status::Active | Status::Beta if o.is_ignored() || o == Status::TemporarilyBroken => {
            "; sending it no longer warns"
        }
        _ => "",
    };
    format!("status `{}` → `{}`{effect}", o.spec_name(), n.spec_name())
}

fn read_only(old: &[ReadOnlyField], new: &[ReadOnlyField], out: &mut Vec<Change>) {
    for o in old {
        if !new.iter().any(|n| n.name == o.name) {
            out.push(change(
                &o.name,
                format!("read-only field removed (`Settings::{}` is gone)", o.snake),
                Breaking::BOTH,
            ));
        }
    }
    for n in new {
        match old.iter().find(|o| o.name == n.name) {
            None => out.push(change(
                &n.name,
                format!(
                    "read-only field added (`Settings::{}`, {})",
                    n.snake,
                    ty_name(n.ty)
                ),
                Breaking::NONE,
            )),
            Some(o) if o.ty != n.ty => out.push(change(
                &n.name,
                format!(
                    "read-only field type `{}` → `{}`",
                    o.ty.spec_name(),
                    n.ty.spec_name()
                ),
                Breaking::BOTH,
            )),
            Some(o) if o.description != n.description => out.push(change(
                &n.name,
                "read-only field description updated",
                Breaking::NONE,
            )),
            Some(_) => {}
        }
    }
}

fn ty_name(t: FieldType) -> &'static str {
    t.spec_name()
}

fn rules(old: &[Rule], new: &[Rule], out: &mut Vec<Change>) {
    for o in old {
        if !new.iter().any(|n| n.id == o.id) {
            out.push(change(
                &o.id,
                format!("rule removed (about `{}`): its warning is gone", o.field),
                Breaking::NONE,
            ));
        }
    }
    for n in new {
        match old.iter().find(|o| o.id == n.id) {
            None => out.push(change(
                &n.id,
                format!("rule added (about `{}`): {}", n.field, n.description.en),
                Breaking::NONE,
            )),
            Some(o) if o.kind != n.kind || o.field != n.field => out.push(change(
                &n.id,
                format!("rule changed (about `{}`): {}", n.field, n.description.en),
                Breaking::NONE,
            )),
            Some(o) if o.description != n.description => out.push(change(
                &n.id,
                format!("rule message: {}", n.description.en),
                Breaking::NONE,
            )),
            Some(_) => {}
        }
    }
}

fn methods(old: &Spec, new: &Spec, out: &mut Vec<Change>) {
    for (o, n) in [
        (&old.get_settings, &new.get_settings),
        (&old.set_settings, &new.set_settings),
    ] {
        if o.path != n.path || o.http_method != n.http_method {
            out.push(change(
                &n.name,
                format!("now `{} {}`", n.http_method, n.path),
                Breaking::BOTH,
            ));
        }
        if o.applies_within_seconds != n.applies_within_seconds
            || o.restarts_instance != n.restarts_instance
            || o.min_parameters != n.min_parameters
        {
            out.push(change(&n.name, "method facts updated", Breaking::NONE));
        }
    }
    if old.rate_limit != new.rate_limit {
        out.push(change(
            "rateLimit",
            format!(
                "now {} request(s) per second",
                new.rate_limit.requests_per_second
            ),
            Breaking::NONE,
        ));
    }
}

/// The changes as a Markdown changelog section titled `title`: breaking changes first.
pub fn render_markdown(title: &str, changes: &[Change]) -> String {
    let mut w = String::new();
    let _ = writeln!(w, "## {title}\n");
    if changes.is_empty() {
        let _ = writeln!(w, "No changes for users of the generated API.");
        return w;
    }
    let (breaking, other): (Vec<&Change>, Vec<&Change>) =
        changes.iter().partition(|c| c.breaking.any());
    for (heading, list) in [("Breaking changes", breaking), ("Other changes", other)] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(w, "### {heading}\n");
        for c in list {
            let _ = writeln!(
                w,
                "- `{}`: {} — *{}*",
                c.subject,
                c.what,
                c.breaking.label()
            );
        }
        let _ = writeln!(w);
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = include_str!("../../../spec/settings.json");

    fn changed(f: impl FnOnce(&mut serde_json::Value)) -> Vec<Change> {
        let mut v: serde_json::Value = serde_json::from_str(SPEC).unwrap();
        f(&mut v);
        let old = crate::load_str(SPEC).unwrap();
        let new = crate::load_str(&v.to_string()).unwrap();
        diff(&old, &new)
    }

    #[test]
    fn the_same_spec_has_no_changes() {
        assert_eq!(changed(|_| {}), []);
        assert!(render_markdown("x", &[]).contains("No changes"));
    }

    #[test]
    fn a_renamed_setting_is_one_breaking_rename() {
        let c = changed(|v| v["settings"][19]["name"] = "editedMessageHook".into());
        assert_eq!(c.len(), 1, "{c:?}");
        assert!(
            c[0].what.starts_with("renamed to `editedMessageHook`"),
            "{c:?}"
        );
        assert_eq!(c[0].breaking, Breaking::BOTH);
    }

    #[test]
    fn a_removed_setting_and_a_wider_range_are_told_apart() {
        let c = changed(|v| {
            v["settings"].as_array_mut().unwrap().remove(23);
            v["settings"][2]["range"]["max"] = 900_000.into();
        });
        let by: Vec<(&str, bool)> = c
            .iter()
            .map(|c| (c.subject.as_str(), c.breaking.any()))
            .collect();
        assert_eq!(
            by,
            [
                ("enableLidMode", true),
                ("delaySendMessagesMilliseconds", false)
            ],
            "{c:?}"
        );
    }

    #[test]
    fn a_shorter_max_length_is_breaking_and_a_longer_one_is_not() {
        let shorter = changed(|v| v["settings"][0]["maxLength"] = 100.into());
        assert!(shorter[0].breaking.any() && shorter[0].what.contains("at most 100"));
        let longer = changed(|v| v["settings"][0]["maxLength"] = 4096.into());
        assert!(!longer[0].breaking.any());
    }
}
