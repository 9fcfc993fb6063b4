//! Property tests (proptest, bounded case counts so the whole file runs in seconds):
//! any *valid* patch survives serialise → deserialise; reading patches and settings from any
//! JSON value never panics; the spec loader never panics on mutations of the real spec.
//!
//! A longer run: `PROPTEST_CASES=20000 cargo test -p greenapi-settings-e2e --test properties`.

mod common;

use common::arb::{cases, json_value, key, settings_like_object};
use greenapi_settings::{FieldInfo, FieldKind, Settings, SettingsPatch, FIELDS};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::Value;

const SPEC: &str = include_str!("../../../spec/settings.json");

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

/// An absolute URL with one of `schemes`, which `validate` must accept.
fn valid_url(schemes: &'static [&'static str]) -> impl Strategy<Value = String> {
    (
        select(schemes.to_vec()),
        // Labels never hold `--`: `xn--a` (punycode) and other reserved R-LDH labels are
        // hosts the URL parser rightly rejects, and made this property flaky.
        "[a-z]([a-z0-9]{0,7}(-[a-z0-9]{1,6})?)?(\\.[a-z]{2,6}){0,2}",
        prop::option::of(1u16..),
        "(/[A-Za-z0-9._~-]{0,10}){0,4}",
        prop::option::of("[a-z]{1,5}=[A-Za-z0-9]{0,6}"),
    )
        .prop_map(|(scheme, host, port, path, query)| {
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            let query = query.map(|q| format!("?{q}")).unwrap_or_default();
            format!("{scheme}://{host}{port}{path}{query}")
        })
}

/// A value the spec allows for `f`, in wire form.
fn valid_value(f: &'static FieldInfo) -> BoxedStrategy<Value> {
    match f.kind {
        FieldKind::YesNo => any::<bool>()
            .prop_map(|b| Value::from(if b { "yes" } else { "no" }))
            .boxed(),
        FieldKind::Integer => (f.min.unwrap_or(i64::MIN)..=f.max.unwrap_or(i64::MAX))
            .prop_map(Value::from)
            .boxed(),
        FieldKind::String => prop::collection::vec(any::<char>(), 0..=f.max_length.unwrap_or(200))
            .prop_map(|cs| Value::String(cs.into_iter().collect()))
            .boxed(),
        FieldKind::Url if f.allow_empty => prop_oneof![
            1 => Just(String::new()),
            4 => valid_url(f.schemes),
        ]
        .prop_map(Value::String)
        .boxed(),
        FieldKind::Url => valid_url(f.schemes).prop_map(Value::String).boxed(),
        // No control, line-separator or bidirectional-override characters.
        FieldKind::Token => {
            "[^\\p{Cc}\\x{2028}\\x{2029}\\x{061C}\\x{200E}\\x{200F}\\x{202A}-\\x{202E}\\x{2066}-\\x{2069}]{0,40}"
                .prop_map(Value::String)
                .boxed()
        }
        other => panic!("field kind {other:?} is new: teach valid_value about it"),
    }
}

/// A patch with at least one field, every field valid.
fn valid_patch() -> impl Strategy<Value = SettingsPatch> {
    let per_field: Vec<_> = FIELDS
        .iter()
        .map(|f| prop::option::of(valid_value(f)).prop_map(move |v| (f.name, v)))
        .collect();
    per_field
        .prop_filter("at least one field", |fields| {
            fields.iter().any(|(_, v)| v.is_some())
        })
        .prop_map(|fields| {
            let mut patch = SettingsPatch::new();
            for (name, value) in fields {
                if let Some(v) = value {
                    patch
                        .set_json(name, &v)
                        .expect("generated values are well typed");
                }
            }
            patch
        })
}

/// Exercises everything a caller may do with a patch: none of it may panic.
fn use_patch(patch: &SettingsPatch) {
    let report = patch.validate();
    for v in report.iter() {
        let _ = v.to_string();
    }
    let _ = patch.validate_against(&Settings::default());
    let _ = format!("{patch:?}");
    let _ = serde_json::to_string(patch).expect("a patch always serialises");
    let mut settings = Settings::default();
    patch.apply_to(&mut settings);
    let _ = patch.changed_only(&settings);
    if let Err(e) = report.into_result() {
        let _ = e.to_string();
    }
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(cases(512))]

    #[test]
    fn a_valid_patch_survives_serialise_then_deserialise(patch in valid_patch()) {
        let report = patch.validate();
        prop_assert!(report.is_ok(), "generated patch is invalid: {:?}", report.errors);

        let text = serde_json::to_string(&patch).unwrap();
        let back: SettingsPatch = serde_json::from_str(&text)
            .map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?;
        prop_assert_eq!(&back, &patch);
        let from_value = SettingsPatch::from_json_value(&patch.to_json_value());
        prop_assert_eq!(from_value.as_ref(), Ok(&patch));

        // Only set fields go on the wire, under their API names, yes/no as strings.
        let wire = patch.to_json_value();
        let wire = wire.as_object().unwrap();
        prop_assert_eq!(wire.len(), patch.len());
        for (name, value) in wire {
            let field = FieldInfo::find(name).unwrap();
            prop_assert_eq!(field.name, name.as_str());
            if field.kind == FieldKind::YesNo {
                prop_assert!(value == "yes" || value == "no", "{}: {}", name, value);
            }
        }

        // Applied to settings and read back, every set field keeps its value.
        let mut settings = Settings::default();
        patch.apply_to(&mut settings);
        let read = Settings::from_json_value(&settings.to_json_value()).unwrap();
        for name in patch.field_names() {
            prop_assert_eq!(read.get_json(name), patch.get_json(name), "{}", name);
        }
        prop_assert!(patch.changed_only(&read).is_empty());
    }

    #[test]
    fn patch_from_any_json_value_never_panics(value in json_value()) {
        if let Ok(patch) = SettingsPatch::from_json_value(&value) {
            use_patch(&patch);
        }
        let _ = serde_json::from_value::<SettingsPatch>(value);
    }

    #[test]
    fn patch_from_any_settings_like_object_never_panics(value in settings_like_object()) {
        match SettingsPatch::from_json_value(&value) {
            Ok(patch) => use_patch(&patch),
            Err(problems) => {
                prop_assert!(!problems.is_empty());
                for p in &problems {
                    let _ = p.to_string();
                }
            }
        }
    }

    #[test]
    fn patch_from_any_number_text_never_panics(
        name in select(FIELDS.iter().map(|f| f.name).collect::<Vec<_>>()),
        number in "-?[0-9]{1,40}(\\.[0-9]{1,5})?([eE][-+]?[0-9]{1,4})?",
    ) {
        let text = format!("{{\"{name}\": {number}}}");
        if let Ok(patch) = serde_json::from_str::<SettingsPatch>(&text) {
            use_patch(&patch);
        }
    }

    #[test]
    fn settings_from_any_json_value_never_panics_and_reads_back_the_same(
        value in prop_oneof![json_value(), settings_like_object()],
    ) {
        if let Ok(settings) = Settings::from_json_value(&value) {
            let _ = format!("{settings:?}");
            let _ = settings.to_patch().validate();
            // What was read is written back and read again unchanged (unknown fields too).
            let again = Settings::from_json_value(&settings.to_json_value());
            prop_assert_eq!(again.as_ref(), Ok(&settings));
        }
        let _ = serde_json::from_value::<Settings>(value);
    }
}

// ---------------------------------------------------------------------------------------------
// The spec loader
// ---------------------------------------------------------------------------------------------

/// One structural change to the spec's JSON tree. `path` picks a node: at each level the
/// child `selector % len`.
#[derive(Clone, Debug)]
enum Mutation {
    Replace(Vec<usize>, Value),
    Remove(Vec<usize>),
    RenameKey(Vec<usize>, String),
    Duplicate(Vec<usize>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let path = prop::collection::vec(any::<usize>(), 1..7);
    prop_oneof![
        4 => (path.clone(), json_value()).prop_map(|(p, v)| Mutation::Replace(p, v)),
        2 => path.clone().prop_map(Mutation::Remove),
        1 => (path.clone(), key()).prop_map(|(p, k)| Mutation::RenameKey(p, k)),
        1 => path.prop_map(Mutation::Duplicate),
    ]
}

fn apply(node: &mut Value, m: &Mutation) {
    let path = match m {
        Mutation::Replace(p, _)
        | Mutation::Remove(p)
        | Mutation::RenameKey(p, _)
        | Mutation::Duplicate(p) => p.as_slice(),
    };
    apply_at(node, path, m);
}

fn apply_at(node: &mut Value, path: &[usize], m: &Mutation) {
    let Some((&sel, rest)) = path.split_first() else {
        return;
    };
    match node {
        Value::Object(map) if !map.is_empty() => {
            let key = map.keys().nth(sel % map.len()).cloned().unwrap();
            if rest.is_empty() || !matches!(map[&key], Value::Object(_) | Value::Array(_)) {
                match m {
                    Mutation::Replace(_, v) => map[&key] = v.clone(),
                    Mutation::Remove(_) => {
                        map.remove(&key);
                    }
                    Mutation::RenameKey(_, new) => {
                        if let Some(v) = map.remove(&key) {
                            map.insert(new.clone(), v);
                        }
                    }
                    Mutation::Duplicate(_) => {
                        let v = map[&key].clone();
                        map.insert(format!("{key}2"), v);
                    }
                }
            } else {
                apply_at(map.get_mut(&key).unwrap(), rest, m);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let i = sel % items.len();
            if rest.is_empty() || !matches!(items[i], Value::Object(_) | Value::Array(_)) {
                match m {
                    Mutation::Replace(_, v) => items[i] = v.clone(),
                    Mutation::Remove(_) => {
                        items.remove(i);
                    }
                    Mutation::RenameKey(_, new) => items[i] = Value::String(new.clone()),
                    Mutation::Duplicate(_) => {
                        let v = items[i].clone();
                        items.push(v);
                    }
                }
            } else {
                apply_at(&mut items[i], rest, m);
            }
        }
        _ => {}
    }
}

/// The largest char boundary at or below `i`.
fn boundary(text: &str, i: usize) -> usize {
    let mut i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn check_loader(text: &str) -> Result<(), TestCaseError> {
    match greenapi_settings_codegen::load_str(text) {
        Ok(spec) => {
            // A spec that loads renders without panicking too.
            let _ = greenapi_settings_codegen::markdown::render(&spec);
        }
        Err(errors) => {
            prop_assert!(!errors.0.is_empty(), "an error result lists no error");
            for e in &errors.0 {
                let _ = e.to_string();
            }
        }
    }
    Ok(())
}

#[test]
fn the_real_spec_loads() {
    let spec = greenapi_settings_codegen::load_str(SPEC).expect("the spec loads");
    assert_eq!(spec.settings.len(), FIELDS.len());
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn spec_loader_never_panics_on_structural_mutations(
        mutations in prop::collection::vec(mutation(), 1..5),
    ) {
        let mut spec: Value = serde_json::from_str(SPEC).unwrap();
        for m in &mutations {
            apply(&mut spec, m);
        }
        check_loader(&serde_json::to_string(&spec).unwrap())?;
    }

    #[test]
    fn spec_loader_never_panics_on_text_mutations(
        cut in any::<usize>(),
        at in any::<usize>(),
        len in 0usize..64,
        insert in prop_oneof![any::<String>(), select(vec![
            "{".to_string(), "}".into(), "[".into(), "]".into(), "\"".into(), ",".into(),
            ":".into(), "null".into(), "-1".into(), "1e999".into(), "\\u0000".into(),
        ])],
        truncate in any::<bool>(),
    ) {
        let mut text = SPEC.to_string();
        let start = boundary(&text, at % text.len());
        let end = boundary(&text, start + len);
        text.replace_range(start..end, &insert);
        if truncate {
            text.truncate(boundary(&text, cut % (text.len() + 1)));
        }
        check_loader(&text)?;
    }

    #[test]
    fn spec_loader_never_panics_on_any_text_or_json(
        text in prop_oneof![
            any::<String>(),
            json_value().prop_map(|v| v.to_string()),
        ],
    ) {
        check_loader(&text)?;
    }
}

#[test]
fn the_url_generator_makes_only_urls_the_validator_accepts() {
    // `http://xn--a` once came out of it about once in a hundred runs and failed CI.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, TestRunner};
    let mut runner = TestRunner::new(Config::default());
    let urls = valid_url(&["http", "https"]);
    for _ in 0..5_000 {
        let url = urls.new_tree(&mut runner).unwrap().current();
        let report = SettingsPatch::new().webhook_url(url.clone()).validate();
        assert!(report.is_ok(), "{url}: {:?}", report.errors);
    }
}
