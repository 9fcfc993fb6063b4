//! `Settings` (the full getSettings shape) and `SetSettingsResponse`.

use proc_macro2::TokenStream;
use quote::quote;

use super::patch::{read_fn, to_json};
use super::*;
use crate::model::ReadOnlyField;

pub(super) fn ro_type(f: &ReadOnlyField) -> TokenStream {
    rust_type(f.ty)
}

pub(super) fn settings_struct(spec: &Spec) -> TokenStream {
    let p = private();
    let fields = spec.settings.iter().map(|s| {
        let id = ident(&s.snake);
        let ty = rust_type(s.ty);
        let docs = doc_attrs(&field_docs(s));
        quote! { #docs pub #id: #ty, }
    });
    let ro_fields = spec.read_only.iter().map(|f| {
        let id = ident(&f.snake);
        let ty = ro_type(f);
        let doc = format!(
            " {} (read-only, `{}`; `None` when the server does not send it)",
            f.description.en, f.name
        );
        quote! { #[doc = #doc] pub #id: ::core::option::Option<#ty>, }
    });
    let SettingTokens {
        ids,
        names,
        patterns,
        to_json_arms,
    } = SettingTokens::of(spec);
    let parse_fns: Vec<TokenStream> = spec.settings.iter().map(|s| read_fn(s.ty)).collect();
    let ro_ids: Vec<Ident> = spec.read_only.iter().map(|f| ident(&f.snake)).collect();
    let ro_names: Vec<&String> = spec.read_only.iter().map(|f| &f.name).collect();
    let ro_snakes: Vec<&String> = spec.read_only.iter().map(|f| &f.snake).collect();
    let ro_patterns: Vec<TokenStream> = spec
        .read_only
        .iter()
        .map(|f| name_pattern(&f.name, &f.snake))
        .collect();
    let ro_parse: Vec<TokenStream> = spec.read_only.iter().map(|f| read_fn(f.ty)).collect();
    let ro_to_json: Vec<TokenStream> = spec
        .read_only
        .iter()
        .map(|f| to_json(f.ty, quote!(v)))
        .collect();
    let debug_fields = spec.settings.iter().map(|s| {
        let id = ident(&s.snake);
        let name = &s.snake;
        if s.secret {
            quote!(d.field(#name, &#p::RedactedIfSet(!self.#id.is_empty()));)
        } else {
            quote!(d.field(#name, &self.#id);)
        }
    });

    let deserialize = deserialize_via_json(quote!(Settings));
    let wire = settings_wire(spec);
    quote! {
        /// The full settings of an instance, as `getSettings` returns them.
        ///
        /// Defaults are the API's "all settings off" state. Fields this version does not know
        /// are kept in [`extra`](Self::extra) and written back unchanged. `Debug` never shows
        /// secrets.
        ///
        /// `#[non_exhaustive]`: a setting or read-only field added to the spec adds a field here
        /// without breaking callers; outside this crate, start from `Settings::default()` and
        /// assign the fields.
        #[derive(Clone, Default, PartialEq)]
        #[non_exhaustive]
        pub struct Settings {
            #(#fields)*
            #(#ro_fields)*
            /// Fields the spec does not know yet, kept as the server sent them.
            pub extra: #p::serde_json::Map<::std::string::String, #p::serde_json::Value>,
        }

        impl Settings {
            /// Every writable setting as a patch (all fields set).
            #[allow(deprecated)]
            pub fn to_patch(&self) -> SettingsPatch {
                SettingsPatch { #(#ids: ::core::option::Option::Some(::std::clone::Clone::clone(&self.#ids)),)* }
            }

            /// The value of one field (API or snake_case name, writable or read-only) in wire form.
            pub fn get_json(&self, name: &str) -> ::core::option::Option<#p::serde_json::Value> {
                match name {
                    #(#patterns => { let v = &self.#ids; ::core::option::Option::Some(#to_json_arms) })*
                    #(#ro_patterns => self.#ro_ids.as_ref().map(|v| #ro_to_json),)*
                    other => self.extra.get(other).cloned(),
                }
            }

            /// The wire form: known fields, read-only fields that are present, then `extra`.
            pub fn to_json_value(&self) -> #p::serde_json::Value {
                let mut m = #p::serde_json::Map::new();
                #(if let ::core::option::Option::Some(v) = &self.#ro_ids { m.insert(::std::string::String::from(#ro_names), #ro_to_json); })*
                #({ let v = &self.#ids; m.insert(::std::string::String::from(#names), #to_json_arms); })*
                for (k, v) in &self.extra { m.insert(::std::clone::Clone::clone(k), ::std::clone::Clone::clone(v)); }
                #p::serde_json::Value::Object(m)
            }

            /// Reads a `getSettings` body. Missing known fields keep their default, unknown ones
            /// go to `extra`, out-of-range values are accepted; a known field of the wrong type
            /// is reported (all of them at once).
            pub fn from_json_value(value: &#p::serde_json::Value) -> ::core::result::Result<Self, ::std::vec::Vec<::greenapi_settings::Violation>> {
                let map = #p::expect_object(value)?;
                let mut out = Settings::default();
                let mut problems = ::std::vec::Vec::new();
                for (k, v) in map {
                    let r: ::core::result::Result<(), ::greenapi_settings::Violation> = match k.as_str() {
                        #(#names => #parse_fns(#names, v).map(|x| out.#ids = x),)*
                        #(#ro_names => if v.is_null() { ::core::result::Result::Ok(()) } else { #ro_parse(#ro_names, v).map(|x| out.#ro_ids = ::core::option::Option::Some(x)) },)*
                        _ => { out.extra.insert(::std::clone::Clone::clone(k), ::std::clone::Clone::clone(v)); ::core::result::Result::Ok(()) }
                    };
                    if let ::core::result::Result::Err(e) = r { problems.push(e); }
                }
                if problems.is_empty() { ::core::result::Result::Ok(out) } else { ::core::result::Result::Err(problems) }
            }

            /// Reads a `getSettings` body in one pass, straight into `Settings` (no
            /// `serde_json::Value` in between), if it is plain: a JSON object whose keys all
            /// differ and whose known fields hold values [`from_json_value`](Self::from_json_value)
            /// accepts. The result is then what `from_json_value` returns for it. `None` for any
            /// other body (not JSON, not an object, a repeated key, a value of the wrong type):
            /// parse it into a `Value` and call `from_json_value`, which reports every problem.
            pub fn from_plain_json(bytes: &[u8]) -> ::core::option::Option<Self> {
                #p::read_plain::<Settings>(bytes).map(|read| read.value)
            }
        }

        impl ::core::fmt::Debug for Settings {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                let mut d = f.debug_struct("Settings");
                #(#debug_fields)*
                #(d.field(#ro_snakes, &self.#ro_ids);)*
                if !self.extra.is_empty() { d.field("extra", &self.extra); }
                d.finish()
            }
        }

        #deserialize
        #wire
    }
}

pub(super) fn response_struct() -> TokenStream {
    let p = private();
    quote! {
        /// The response of `setSettings`: `{"saveSettings": true}`.
        #[derive(Clone, Debug, Default, PartialEq, Eq)]
        pub struct SetSettingsResponse {
            /// Whether the settings were saved.
            pub save_settings: bool,
        }

        impl #p::serde::Serialize for SetSettingsResponse {
            fn serialize<S: #p::serde::Serializer>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error> {
                use #p::serde::ser::SerializeMap as _;
                let mut map = serializer.serialize_map(::core::option::Option::Some(1))?;
                map.serialize_entry("saveSettings", &self.save_settings)?;
                map.end()
            }
        }

        impl<'de> #p::serde::Deserialize<'de> for SetSettingsResponse {
            fn deserialize<D: #p::serde::Deserializer<'de>>(deserializer: D) -> ::core::result::Result<Self, D::Error> {
                let value = <#p::serde_json::Value as #p::serde::Deserialize>::deserialize(deserializer)?;
                match value.get("saveSettings") {
                    ::core::option::Option::Some(#p::serde_json::Value::Bool(b)) => ::core::result::Result::Ok(SetSettingsResponse { save_settings: *b }),
                    _ => ::core::result::Result::Err(<D::Error as #p::serde::de::Error>::custom("expected an object with a boolean `saveSettings`")),
                }
            }
        }
    }
}
