//! Prints what the generator makes of a spec, so generated code can be read and diffed:
//!
//! ```text
//! cargo run -p greenapi-settings-codegen -- rust      [spec/settings.json]
//! cargo run -p greenapi-settings-codegen -- notifications-rust  [spec/settings.json]
//! cargo run -p greenapi-settings-codegen -- notifications-md    [spec/settings.json]  # docs/notifications.md
//! cargo run -p greenapi-settings-codegen -- notifications-py    [spec/settings.json]  # notifications.py
//! cargo run -p greenapi-settings-codegen -- markdown  [spec/settings.json]
//! cargo run -p greenapi-settings-codegen -- pyi       [spec/settings.json]
//! cargo run -p greenapi-settings-codegen -- schema    [spec/settings.json]   # settings-file JSON Schema
//! cargo run -p greenapi-settings-codegen -- check     [spec/settings.json]
//! cargo run -p greenapi-settings-codegen -- diff OLD.json NEW.json   # changelog Markdown, each change
//!                                                                     # with its semver rule and bump
//! ```

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [cmd, old, new] = args.as_slice() {
        if cmd == "diff" {
            return diff(old, new);
        }
    }
    let (what, path) = match args.as_slice() {
        [w] => (w.as_str(), default_spec()),
        [w, p] => (w.as_str(), std::path::PathBuf::from(p)),
        _ => return usage(),
    };
    let spec = match greenapi_settings_codegen::load_file(&path) {
        Ok(s) => s,
        Err(errs) => {
            for e in &errs.0 {
                eprintln!("{}: {e}", path.display());
            }
            return ExitCode::from(1);
        }
    };
    match what {
        "rust" => print!("{}", greenapi_settings_codegen::rust::render(&spec)),
        "notifications-rust" => print!(
            "{}",
            greenapi_settings_codegen::notifications::rust::render(&spec)
        ),
        "notifications-md" => print!(
            "{}",
            greenapi_settings_codegen::notifications::markdown::render(&spec)
        ),
        "notifications-py" => print!(
            "{}",
            greenapi_settings_codegen::notifications::python::render(&spec)
        ),
        "markdown" | "md" => print!("{}", greenapi_settings_codegen::markdown::render(&spec)),
        "pyi" => print!("{}", greenapi_settings_codegen::pyi::render(&spec)),
        "schema" => print!("{}", greenapi_settings_codegen::schema::render(&spec)),
        "check" => println!(
            "{}: ok ({} settings, {} rules)",
            path.display(),
            spec.settings.len(),
            spec.rules.len()
        ),
        _ => return usage(),
    }
    ExitCode::SUCCESS
}

/// Prints the changes from `old` to `new` as a changelog section, each with the rule it falls
/// under and the version bump the whole needs (as cargo-semver-checks would classify them);
/// exit 1 if either does not load.
fn diff(old: &str, new: &str) -> ExitCode {
    let load = |p: &str| {
        greenapi_settings_codegen::load_file(std::path::Path::new(p)).map_err(|errs| {
            for e in &errs.0 {
                eprintln!("{p}: {e}");
            }
        })
    };
    let (Ok(o), Ok(n)) = (load(old), load(new)) else {
        return ExitCode::from(1);
    };
    let changes = greenapi_settings_codegen::diff::diff(&o, &n);
    print!(
        "{}",
        greenapi_settings_codegen::diff::render_markdown(
            &format!("Spec changes: {old} → {new}"),
            &changes
        )
    );
    ExitCode::SUCCESS
}

fn default_spec() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../spec/settings.json")
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: greenapi-settings-codegen <rust|markdown|pyi|schema|check|notifications-rust|notifications-md|notifications-py> [SPEC]"
    );
    eprintln!("       greenapi-settings-codegen diff OLD.json NEW.json");
    ExitCode::from(2)
}
