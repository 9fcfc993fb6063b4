//! What changed between two specs, for users of the generated API: settings added, removed or
//! renamed, types, ranges, lengths, URL rules, statuses, read-only fields, cross-field rules
//! and method facts — each classified the way cargo-semver-checks would (a [`Lint`] with the
//! version bump it needs), marked breaking or not for Rust and for Python callers, and
//! rendered as Markdown ready for a changelog.
//!
//! The generated `SettingsPatch` and `Settings` are `#[non_exhaustive]`, so a setting added to
//! the spec (a new public field) needs a minor version only; without it, it would be
//! cargo-semver-checks' `constructible_struct_adds_field`, a major one.
//!
//! ```
//! let v1 = greenapi_settings_codegen::load_str(include_str!("../tests/fixtures/settings-v1.json")).unwrap();
//! let v2 = greenapi_settings_codegen::load_str(include_str!("../../../spec/settings.json")).unwrap();
//! let changes = greenapi_settings_codegen::diff::diff(&v1, &v2);
//! assert!(changes.iter().any(|c| c.subject == "delaySendMessagesMilliseconds" && c.breaking.rust));
//! ```

use std::fmt::Write as _;

use crate::model::{FieldType, ReadOnlyField, Rule, Setting, Spec, Status};

/// The version bump a change needs under semver (Cargo's rules: for `0.x`, read major as the
/// `x`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Bump {
    /// Nothing a caller can observe changes but text (docs, messages, facts).
    Patch,
    /// Something is added or relaxed; every caller keeps compiling and working.
    Minor,
    /// Some caller stops compiling or starts failing where it did not.
    Major,
}

impl Bump {
    fn name(self) -> &'static str {
        match self {
            Bump::Patch => "patch",
            Bump::Minor => "minor",
            Bump::Major => "major",
        }
    }
}

/// The rule a change falls under, named like cargo-semver-checks' lints. The API rules are
/// what cargo-semver-checks reports on the generated crate (`struct_pub_field_missing`,
/// `struct_field_marked_deprecated` are its own names); the behaviour rules are changes it
/// cannot see (the API compiles the same, the values it accepts differ), named in its style.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Lint {
    /// A public field (and its builder method and Python keyword) is gone: a setting or
    /// read-only field removed or renamed. Major.
    StructPubFieldMissing,
    /// A public field's type changed (and the builder method's parameter). Major.
    StructPubFieldTypeChanged,
    /// A public field added to a `#[non_exhaustive]` struct (`SettingsPatch`, `Settings`):
    /// nobody can have built it with a struct literal, so nothing breaks. Minor.
    NonExhaustiveStructPubFieldAdded,
    /// A field is now `#[deprecated]` (status `unused` or `deprecated`). Minor: a warning.
    StructFieldMarkedDeprecated,
    /// Validation is stricter: values accepted before are now errors. Major (behaviour).
    ValidationNarrowed,
    /// Validation is looser: values refused before are now accepted. Minor (behaviour).
    ValidationWidened,
    /// A warning (recommended maximum, cross-field rule) was added, removed or reworded;
    /// nothing that passed fails. Patch.
    WarningChanged,
    /// A method's path or HTTP method changed: requests go elsewhere. Major (behaviour).
    ApiMethodChanged,
    /// Facts, statuses, secrecy, descriptions: text and metadata only. Patch.
    MetadataChanged,
}

impl Lint {
    /// The rule's name, e.g. `struct_pub_field_missing`.
    pub fn name(self) -> &'static str {
        match self {
            Lint::StructPubFieldMissing => "struct_pub_field_missing",
            Lint::StructPubFieldTypeChanged => "struct_pub_field_type_changed",
            Lint::NonExhaustiveStructPubFieldAdded => "non_exhaustive_struct_pub_field_added",
            Lint::StructFieldMarkedDeprecated => "struct_field_marked_deprecated",
            Lint::ValidationNarrowed => "validation_narrowed",
            Lint::ValidationWidened => "validation_widened",
            Lint::WarningChanged => "warning_changed",
            Lint::ApiMethodChanged => "api_method_changed",
            Lint::MetadataChanged => "metadata_changed",
        }
    }

    /// The version bump a change under this rule needs.
    pub fn bump(self) -> Bump {
        match self {
            Lint::StructPubFieldMissing
            | Lint::StructPubFieldTypeChanged
            | Lint::ValidationNarrowed
            | Lint::ApiMethodChanged => Bump::Major,
            Lint::NonExhaustiveStructPubFieldAdded
            | Lint::StructFieldMarkedDeprecated
            | Lint::ValidationWidened => Bump::Minor,
            Lint::WarningChanged | Lint::MetadataChanged => Bump::Patch,
        }
    }

    /// Who a change under this rule breaks: every major one breaks Rust and Python callers
    /// alike (the Python keywords and checks follow the same spec).
    fn breaking(self) -> Breaking {
        if self.bump() == Bump::Major {
            Breaking::BOTH
        } else {
            Breaking::NONE
        }
    }
}

/// The bump the whole set of changes needs: the largest of its rules' (patch if none).
pub fn required_bump(changes: &[Change]) -> Bump {
    changes
        .iter()
        .map(|c| c.lint.bump())
        .max()
        .unwrap_or(Bump::Patch)
}

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

/// One change between two specs. `#[non_exhaustive]`: made by [`diff`] only, so what it tells
/// can grow (as `lint` did) without breaking readers.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Change {
    /// What changed: a setting's or read-only field's API name, a rule id, or a method name.
    pub subject: String,
    /// What happened to it, in one sentence.
    pub what: String,
    /// Who it breaks (follows from `lint`).
    pub breaking: Breaking,
    /// The rule it falls under, and so the version bump it needs.
    pub lint: Lint,
}

fn change(subject: &str, what: impl Into<String>, lint: Lint) -> Change {
    Change {
        subject: subject.to_string(),
        what: what.into(),
        breaking: lint.breaking(),
        lint,
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
                Lint::StructPubFieldMissing,
            )),
            None => out.push(change(
                &o.name,
                format!(
                    "removed (the Rust field and builder `{}` and the Python keyword are gone)",
                    o.snake
                ),
                Lint::StructPubFieldMissing,
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
                Lint::NonExhaustiveStructPubFieldAdded,
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
            Lint::StructPubFieldTypeChanged,
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
                    Lint::ValidationNarrowed
                } else {
                    Lint::ValidationWidened
                },
            ));
        }
        (None, Some((lo, hi))) => out.push(change(
            name,
            format!("now limited to `{lo}..={hi}`"),
            Lint::ValidationNarrowed,
        )),
        (Some(_), None) => out.push(change(name, "no longer limited", Lint::ValidationWidened)),
        (None, None) => {}
    }
    if o.recommended_max != n.recommended_max {
        let what = match n.recommended_max {
            Some(r) => format!("values above {r} now warn (recommended maximum)"),
            None => "no recommended maximum any more".to_string(),
        };
        out.push(change(name, what, Lint::WarningChanged));
    }
    match (o.max_length, n.max_length) {
        (a, b) if a == b => {}
        (a, Some(b)) if a.is_none_or(|a| b < a) => out.push(change(
            name,
            format!("at most {b} characters (shorter than before: longer values are now errors)"),
            Lint::ValidationNarrowed,
        )),
        (_, b) => out.push(change(
            name,
            match b {
                Some(b) => format!("at most {b} characters (longer than before)"),
                None => "no length limit any more".to_string(),
            },
            Lint::ValidationWidened,
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
                Lint::ValidationWidened
            } else {
                Lint::ValidationNarrowed
            },
        ));
    }
    toggled(
        out,
        name,
        (o.allow_empty, n.allow_empty),
        ["may now be empty", "may no longer be empty"],
        [Lint::ValidationWidened, Lint::ValidationNarrowed],
    );
    if o.status != n.status {
        out.push(change(
            name,
            status_change(o.status, n.status),
            if n.status.is_ignored() && !o.status.is_ignored() {
                Lint::StructFieldMarkedDeprecated
            } else {
                Lint::MetadataChanged
            },
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
        [Lint::MetadataChanged; 2],
    );
    toggled(
        out,
        name,
        (o.always_returned, n.always_returned),
        [
            "now expected in every getSettings answer",
            "may be missing from a getSettings answer (older servers)",
        ],
        [Lint::MetadataChanged; 2],
    );
    if o.description != n.description {
        out.push(change(name, "description updated", Lint::MetadataChanged));
    }
}

/// A yes/no property of setting `name` that went from `old` to `new`: says `[on, off]`'s
/// `on` when it is now true or `off` when it is now false, under the matching lint.
fn toggled(
    out: &mut Vec<Change>,
    name: &str,
    (old, new): (bool, bool),
    [on, off]: [&str; 2],
    [on_lint, off_lint]: [Lint; 2],
) {
    if old != new {
        out.push(if new {
            change(name, on, on_lint)
        } else {
            change(name, off, off_lint)
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
                Lint::StructPubFieldMissing,
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
                Lint::NonExhaustiveStructPubFieldAdded,
            )),
            Some(o) if o.ty != n.ty => out.push(change(
                &n.name,
                format!(
                    "read-only field type `{}` → `{}`",
                    o.ty.spec_name(),
                    n.ty.spec_name()
                ),
                Lint::StructPubFieldTypeChanged,
            )),
            Some(o) if o.description != n.description => out.push(change(
                &n.name,
                "read-only field description updated",
                Lint::MetadataChanged,
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
                Lint::WarningChanged,
            ));
        }
    }
    for n in new {
        match old.iter().find(|o| o.id == n.id) {
            None => out.push(change(
                &n.id,
                format!("rule added (about `{}`): {}", n.field, n.description.en),
                Lint::WarningChanged,
            )),
            Some(o) if o.kind != n.kind || o.field != n.field => out.push(change(
                &n.id,
                format!("rule changed (about `{}`): {}", n.field, n.description.en),
                Lint::WarningChanged,
            )),
            Some(o) if o.description != n.description => out.push(change(
                &n.id,
                format!("rule message: {}", n.description.en),
                Lint::WarningChanged,
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
                Lint::ApiMethodChanged,
            ));
        }
        if o.applies_within_seconds != n.applies_within_seconds
            || o.restarts_instance != n.restarts_instance
            || o.min_parameters != n.min_parameters
        {
            out.push(change(
                &n.name,
                "method facts updated",
                Lint::MetadataChanged,
            ));
        }
    }
    if old.rate_limit != new.rate_limit {
        out.push(change(
            "rateLimit",
            format!(
                "now {} request(s) per second",
                new.rate_limit.requests_per_second
            ),
            Lint::MetadataChanged,
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
    let _ = writeln!(
        w,
        "Semver: needs a **{}** version (each change names its rule, as cargo-semver-checks would).\n",
        required_bump(changes).name()
    );
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
                "- `{}`: {} — *{}* (`{}`, {})",
                c.subject,
                c.what,
                c.breaking.label(),
                c.lint.name(),
                c.lint.bump().name()
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

    /// The changes from the spec with `f` applied to the project spec: `f` edits the *old*
    /// side (removing something there is adding it in the new one).
    fn changed_from(f: impl FnOnce(&mut serde_json::Value)) -> Vec<Change> {
        let mut v: serde_json::Value = serde_json::from_str(SPEC).unwrap();
        f(&mut v);
        let old = crate::load_str(&v.to_string()).unwrap();
        let new = crate::load_str(SPEC).unwrap();
        diff(&old, &new)
    }

    /// Renames setting 19 (`editedMessageWebhook`), in the notification rules that name it too.
    fn rename_edited(v: &mut serde_json::Value) {
        v["settings"][19]["name"] = "editedMessageHook".into();
        for kind in v["notifications"]["kinds"].as_array_mut().unwrap() {
            for src in kind["sources"].as_array_mut().unwrap() {
                for r in src["requires"].as_array_mut().unwrap() {
                    if r == "editedMessageWebhook" {
                        *r = "editedMessageHook".into();
                    }
                }
            }
        }
    }

    /// `(subject, rule)` of each change, for comparing classifications.
    fn lints(c: &[Change]) -> Vec<(&str, &'static str)> {
        c.iter()
            .map(|c| (c.subject.as_str(), c.lint.name()))
            .collect()
    }

    /// The premise of `NonExhaustiveStructPubFieldAdded`: the structs a new setting or
    /// read-only field adds a field to are `#[non_exhaustive]` in the generated code.
    #[test]
    fn the_structs_an_added_setting_grows_are_non_exhaustive() {
        let code = crate::rust::render(&crate::load_str(SPEC).unwrap());
        for name in ["SettingsPatch", "Settings"] {
            let at = code
                .find(&format!("pub struct {name} {{"))
                .unwrap_or_else(|| panic!("no struct {name}"));
            let attrs_start = code[..at].rfind("///").unwrap();
            assert!(
                code[attrs_start..at].contains("#[non_exhaustive]"),
                "{name} is not #[non_exhaustive]: adding a setting would break struct literals"
            );
        }
    }

    /// Issue 19: with `#[non_exhaustive]` an added setting or read-only field needs a minor
    /// version only (it would be `constructible_struct_adds_field`, major, without it).
    #[test]
    fn an_added_setting_or_read_only_field_is_minor() {
        let c = changed_from(|v| {
            v["settings"].as_array_mut().unwrap().remove(23);
            v["readOnly"].as_array_mut().unwrap().remove(0);
        });
        assert_eq!(
            lints(&c),
            [
                ("enableLidMode", "non_exhaustive_struct_pub_field_added"),
                ("wid", "non_exhaustive_struct_pub_field_added"),
            ]
        );
        assert!(c.iter().all(|c| !c.breaking.any()));
        assert_eq!(required_bump(&c), Bump::Minor);
    }

    #[test]
    fn a_removed_or_renamed_setting_or_read_only_field_is_a_missing_field_major() {
        let removed = changed(|v| {
            v["settings"].as_array_mut().unwrap().remove(23);
            v["readOnly"].as_array_mut().unwrap().remove(0);
        });
        assert_eq!(
            lints(&removed),
            [
                ("enableLidMode", "struct_pub_field_missing"),
                ("wid", "struct_pub_field_missing"),
            ]
        );
        let renamed = changed(rename_edited);
        assert_eq!(
            lints(&renamed),
            [("editedMessageWebhook", "struct_pub_field_missing")]
        );
        for c in removed.iter().chain(&renamed) {
            assert_eq!(c.breaking, Breaking::BOTH, "{c:?}");
            assert_eq!(c.lint.bump(), Bump::Major);
        }
    }

    #[test]
    fn a_changed_rust_type_is_major() {
        let c = changed(|v| {
            v["settings"][6]["type"] = "yesNo".into();
            v["settings"][6]
                .as_object_mut()
                .unwrap()
                .remove("maxLength");
            v["readOnly"][0]["type"] = "integer".into();
        });
        assert_eq!(
            lints(&c)
                .into_iter()
                .filter(|(_, l)| *l == "struct_pub_field_type_changed")
                .count(),
            2,
            "{c:?}"
        );
        assert_eq!(required_bump(&c), Bump::Major);
    }

    #[test]
    fn a_setting_marked_deprecated_is_minor_and_a_status_word_is_patch() {
        let c = changed(|v| v["settings"][21]["status"] = "deprecated".into());
        assert_eq!(
            lints(&c),
            [("autoTyping", "struct_field_marked_deprecated")]
        );
        assert_eq!(required_bump(&c), Bump::Minor);
        // Already `#[deprecated]` (unused → deprecated): no new attribute, text only.
        let c = changed(|v| v["settings"][5]["status"] = "unused".into());
        assert_eq!(lints(&c), [("sharedSession", "metadata_changed")]);
        assert_eq!(required_bump(&c), Bump::Patch);
    }

    #[test]
    fn stricter_validation_is_a_major_behaviour_change_and_looser_a_minor_one() {
        let stricter = changed(|v| {
            v["settings"][2]["range"]["max"] = 400_000.into();
            v["settings"][0]["maxLength"] = 100.into();
        });
        assert_eq!(
            lints(&stricter),
            [
                ("webhookUrl", "validation_narrowed"),
                ("delaySendMessagesMilliseconds", "validation_narrowed"),
            ]
        );
        assert_eq!(required_bump(&stricter), Bump::Major);
        let looser = changed(|v| {
            v["settings"][2]["range"]["max"] = 900_000.into();
            v["settings"][0]["maxLength"] = 4096.into();
        });
        assert!(
            looser.iter().all(|c| c.lint == Lint::ValidationWidened),
            "{looser:?}"
        );
        assert_eq!(required_bump(&looser), Bump::Minor);
    }

    #[test]
    fn wording_and_warnings_are_patch() {
        let c = changed(|v| {
            v["settings"][15]["description"]["en"] = "Keeps the account online.".into();
            v["rules"][0]["description"]["en"] = "Reworded.".into();
        });
        assert_eq!(
            c.iter().map(|c| c.lint).collect::<Vec<_>>(),
            [Lint::MetadataChanged, Lint::WarningChanged],
            "{c:?}"
        );
        assert_eq!(required_bump(&c), Bump::Patch);
        assert_eq!(required_bump(&[] as &[Change]), Bump::Patch);
    }

    #[test]
    fn the_markdown_names_each_changes_rule_and_the_bump() {
        let c = changed(|v| {
            v["settings"].as_array_mut().unwrap().remove(23);
        });
        let md = render_markdown("x", &c);
        assert!(md.contains("Semver: needs a **major** version"), "{md}");
        assert!(
            md.contains("*breaking for Rust and Python* (`struct_pub_field_missing`, major)"),
            "{md}"
        );
    }

    #[test]
    fn the_same_spec_has_no_changes() {
        assert_eq!(changed(|_| {}), []);
        assert!(render_markdown("x", &[]).contains("No changes"));
    }

    #[test]
    fn a_renamed_setting_is_one_breaking_rename() {
        let c = changed(rename_edited);
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
