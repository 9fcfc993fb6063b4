//! `settings_api!("spec/settings.json")`: reads the spec at compile time and expands to the
//! typed settings (`SettingsPatch`, `Settings`, validators, metadata). All logic lives in
//! `greenapi-settings-codegen`; this crate only resolves the path and turns errors into
//! `compile_error!`s spanned on the path literal, one per problem, as
//! `spec/settings.json: $.settings[2].range: min (900) is greater than max (500)`.
//!
//! The path is relative to the invoking crate's directory or, failing that, to its nearest
//! ancestor that has it (so a workspace member can name `spec/settings.json` at the root).
//! The expansion `include_str!`s the file, so editing the spec rebuilds the invoking crate.
//!
//! ```ignore
//! greenapi_settings_macros::settings_api!("spec/settings.json");
//! ```

use std::path::{Path, PathBuf};

use proc_macro::TokenStream;
use quote::quote;
use syn::{parse_macro_input, LitStr};

/// Expands to the typed settings API generated from the spec file at the given path.
#[proc_macro]
pub fn settings_api(input: TokenStream) -> TokenStream {
    let lit = parse_macro_input!(input as LitStr);
    expand(&lit, greenapi_settings_codegen::rust::generate, true).into()
}

/// Expands to the notifications table, delivery facts and body types generated from the
/// spec's `notifications` section (the core crate's `notifications` module).
#[proc_macro]
pub fn notifications_api(input: TokenStream) -> TokenStream {
    let lit = parse_macro_input!(input as LitStr);
    expand(
        &lit,
        greenapi_settings_codegen::notifications::rust::generate,
        false,
    )
    .into()
}

fn expand(
    lit: &LitStr,
    generate: fn(&greenapi_settings_codegen::Spec) -> proc_macro2::TokenStream,
    stand_ins: bool,
) -> proc_macro2::TokenStream {
    let shown = lit.value();
    let Some(path) = resolve(&shown) else {
        return errors(
            lit,
            &shown,
            &["$: cannot read the spec file: file not found".to_string()],
            stand_ins,
        );
    };
    match greenapi_settings_codegen::load_file(&path) {
        Ok(spec) => {
            let abs = path.to_string_lossy().into_owned();
            let body = generate(&spec);
            quote! {
                // Makes cargo rebuild the invoking crate when the spec changes.
                const _: &str = ::core::include_str!(#abs);
                #body
            }
        }
        Err(errs) => {
            let msgs: Vec<String> = errs.0.iter().map(ToString::to_string).collect();
            errors(lit, &shown, &msgs, stand_ins)
        }
    }
}

fn resolve(rel: &str) -> Option<PathBuf> {
    let p = Path::new(rel);
    if p.is_absolute() {
        return p.exists().then(|| p.to_path_buf());
    }
    let base = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR")?);
    base.ancestors()
        .map(|dir| dir.join(p))
        .find(|c| c.is_file())
}

/// One `compile_error!` per problem, plus empty stand-ins for the main types so the invoking
/// crate does not drown the real message in follow-on "cannot find type" errors.
fn errors(lit: &LitStr, shown: &str, msgs: &[String], stand_ins: bool) -> proc_macro2::TokenStream {
    let errs = msgs.iter().map(|m| {
        let text = format!("{shown}: {m}");
        quote::quote_spanned!(lit.span()=> ::core::compile_error!(#text);)
    });
    if !stand_ins {
        return quote!(#(#errs)*);
    }
    quote! {
        #(#errs)*
        /// Stand-in: the spec did not load.
        pub struct SettingsPatch {}
        /// Stand-in: the spec did not load.
        pub struct Settings {}
    }
}
