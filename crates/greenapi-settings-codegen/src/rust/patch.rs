//! `SettingsPatch`: the struct, its builder, validation, JSON reading and writing.

use proc_macro2::TokenStream;
use quote::quote;

use super::*;
use crate::constraint;
use crate::model::{Rule, RuleKind};

pub(super) fn patch_struct(spec: &Spec) -> TokenStream {
    let fields = spec.settings.iter().map(|s| {
        let id = ident(&s.snake);
        let ty = rust_type(s.ty);
        let docs = doc_attrs(&field_docs(s));
        let dep = deprecated_attr(s);
        quote! { #docs #dep pub #id: ::core::option::Option<#ty>, }
    });
    quote! {
        /// A partial change of settings: the body of one `setSettings` call.
        ///
        /// Unset fields are not sent. Build it with the chained setters, check it with
        /// [`SettingsPatch::validate`], and send it with the client. Serialises to the API's
        /// wire format (camelCase names, `"yes"`/`"no"`); `Debug` never shows secrets.
        ///
        /// `#[non_exhaustive]`: a setting added to the spec adds a field here without breaking
        /// callers; outside this crate, start from [`SettingsPatch::new`] (or `Default`) and use
        /// the setters or assign the fields.
        #[derive(Clone, Default, PartialEq, Eq)]
        #[allow(deprecated)]
        #[non_exhaustive]
        pub struct SettingsPatch { #(#fields)* }
    }
}

/// `(value-to-json, json-to-value)` expressions for one field type.
pub(super) fn to_json(ty: FieldType, v: TokenStream) -> TokenStream {
    let p = private();
    match ty {
        FieldType::YesNo => quote!(#p::yes_no_value(*#v)),
        FieldType::Integer => quote!(#p::serde_json::Value::from(*#v)),
        _ => quote!(#p::serde_json::Value::String(::std::clone::Clone::clone(#v))),
    }
}

pub(super) fn parse_fn(ty: FieldType) -> TokenStream {
    let p = private();
    match ty {
        FieldType::YesNo => quote!(#p::parse_yes_no),
        FieldType::Integer => quote!(#p::parse_integer),
        FieldType::String | FieldType::Url => quote!(#p::parse_string),
        FieldType::Token => quote!(#p::parse_secret),
    }
}

/// Parsers for values read back from `getSettings`: lenient in form (`"Yes"`, `"5000"`), never
/// range-checked (fresh instances report a delay of 0), so a server's quirk is not an outage.
pub(super) fn read_fn(ty: FieldType) -> TokenStream {
    let p = private();
    match ty {
        FieldType::YesNo => quote!(#p::read_yes_no),
        FieldType::Integer => quote!(#p::read_integer),
        FieldType::String | FieldType::Url => quote!(#p::parse_string),
        FieldType::Token => quote!(#p::parse_secret),
    }
}

pub(super) fn check_expr(s: &Setting) -> TokenStream {
    let p = private();
    let id = ident(&s.snake);
    let name = &s.name;
    let length = match s.max_length.map(|n| n as usize) {
        Some(max) => {
            let secret = s.secret;
            quote!(#p::check_length(&mut report, #name, v, #max, #secret);)
        }
        None => TokenStream::new(),
    };
    let body = match s.ty {
        FieldType::YesNo => return TokenStream::new(),
        FieldType::String => TokenStream::new(),
        FieldType::Integer => match s.range {
            Some((lo, hi)) => {
                let unit = opt(s.unit.as_deref());
                let recommended = match s.recommended_max {
                    Some(r) => {
                        quote!(#p::check_recommended_max(&mut report, #name, *v, #r, #unit);)
                    }
                    None => TokenStream::new(),
                };
                quote!(#p::check_range(&mut report, #name, *v, #lo, #hi, #unit); #recommended)
            }
            None => return TokenStream::new(),
        },
        FieldType::Url => {
            let schemes = &s.schemes;
            let allow_empty = s.allow_empty;
            quote!(#p::check_url(&mut report, #name, v, &[#(#schemes),*], #allow_empty);)
        }
        FieldType::Token => quote!(#p::check_token(&mut report, #name, v);),
    };
    if body.is_empty() && length.is_empty() {
        return TokenStream::new();
    }
    quote! { if let ::core::option::Option::Some(v) = &self.#id { #length #body } }
}

pub(super) fn status_expr(s: &Setting) -> TokenStream {
    let p = private();
    let id = ident(&s.snake);
    let name = &s.name;
    let status = status_tokens(s.status);
    match s.status {
        Status::Active | Status::Beta => TokenStream::new(),
        _ => quote! {
            if self.#id.is_some() { #p::status_warning(&mut report, #name, #status); }
        },
    }
}

pub(super) fn rule_expr(spec: &Spec, r: &Rule) -> TokenStream {
    let p = private();
    let snake = |n: &str| ident(&spec.setting(n).expect("checked by the loader").snake);
    let (id, field, msg) = (&r.id, &r.field, &r.description.en);
    let f = snake(field);
    let others = r.kind.others();
    let other_ids: Vec<Ident> = others.iter().map(|o| snake(o)).collect();
    let kind = match r.kind {
        RuleKind::IgnoredWhen(_) => quote!(::greenapi_settings::RuleKind::IgnoredWhen),
        RuleKind::EffectiveOnlyWithAll(_) => {
            quote!(::greenapi_settings::RuleKind::EffectiveOnlyWithAll)
        }
        RuleKind::EffectiveOnlyWithAny(_) => {
            quote!(::greenapi_settings::RuleKind::EffectiveOnlyWithAny)
        }
        RuleKind::Advice => return TokenStream::new(),
    };
    quote! {
        #p::check_rule(
            &mut report, #id, #kind, #field,
            self.#f.is_some() #(|| self.#other_ids.is_some())*,
            state.#f,
            &[#((#others, state.#other_ids)),*],
            #msg,
        );
    }
}

pub(super) fn patch_impl(spec: &Spec) -> TokenStream {
    let p = private();
    let setters = spec.settings.iter().map(|s| {
        let id = ident(&s.snake);
        let docs = format!(" Sets `{}` ({}).", s.name, constraint::docs(s));
        let dep = deprecated_attr(s);
        let (arg_ty, conv) = match s.ty {
            FieldType::YesNo => (quote!(bool), quote!(value)),
            FieldType::Integer => (quote!(i64), quote!(value)),
            _ => (
                quote!(impl ::core::convert::Into<::std::string::String>),
                quote!(value.into()),
            ),
        };
        quote! {
            #[doc = #docs]
            #dep
            #[must_use]
            pub fn #id(mut self, value: #arg_ty) -> Self {
                #[allow(deprecated)]
                { self.#id = ::core::option::Option::Some(#conv); }
                self
            }
        }
    });
    let SettingTokens {
        ids,
        names,
        patterns,
        to_json_arms,
    } = SettingTokens::of(spec);
    let parse_fns: Vec<TokenStream> = spec.settings.iter().map(|s| parse_fn(s.ty)).collect();
    let checks = spec.settings.iter().map(check_expr);
    let statuses = spec.settings.iter().map(status_expr);
    let rules = spec.rules.iter().map(|r| rule_expr(spec, r));
    let debug_fields = spec.settings.iter().map(|s| {
        let id = ident(&s.snake);
        let name = &s.snake;
        if s.secret {
            quote!(if self.#id.is_some() { d.field(#name, &#p::Redacted); })
        } else {
            quote!(if let ::core::option::Option::Some(v) = &self.#id { d.field(#name, v); })
        }
    });
    let secret_flags: Vec<bool> = spec.settings.iter().map(|s| s.secret).collect();
    let min_params = spec.set_settings.min_parameters.unwrap_or(0) as usize;
    let too_few = match min_params {
        0 => quote!(false),
        1 => quote!(self.is_empty()),
        n => quote!(self.len() < #n),
    };

    let deserialize = deserialize_via_json(quote!(SettingsPatch));
    let wire = patch_wire(spec);
    quote! {
        #[allow(deprecated)]
        impl SettingsPatch {
            /// An empty patch (not valid to send until at least one field is set).
            pub fn new() -> Self {
                ::core::default::Default::default()
            }

            #(#setters)*

            /// How many fields are set.
            pub fn len(&self) -> usize {
                #(usize::from(self.#ids.is_some()))+*
            }

            /// Whether no field is set.
            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }

            /// API names of the fields that are set, in spec order.
            pub fn field_names(&self) -> ::std::vec::Vec<&'static str> {
                let mut out = ::std::vec::Vec::new();
                #(if self.#ids.is_some() { out.push(#names); })*
                out
            }

            /// Checks the patch on its own: every error (range, URL, empty patch, ...) and every
            /// warning (unused or broken fields; cross-field rules among the fields it sets).
            pub fn validate(&self) -> ::greenapi_settings::Report {
                self.validate_with(::core::option::Option::None)
            }

            /// Like [`validate`](Self::validate), with cross-field rules evaluated on
            /// `current` merged with this patch (only rules that involve a field the patch sets).
            pub fn validate_against(&self, current: &Settings) -> ::greenapi_settings::Report {
                self.validate_with(::core::option::Option::Some(current))
            }

            fn validate_with(&self, current: ::core::option::Option<&Settings>) -> ::greenapi_settings::Report {
                let mut report = ::greenapi_settings::Report::default();
                if #too_few {
                    #p::too_few_parameters(&mut report, #min_params);
                }
                #(#checks)*
                #(#statuses)*
                let state = match current {
                    ::core::option::Option::Some(c) => {
                        let mut merged = c.to_patch();
                        merged.merge(self);
                        merged
                    }
                    ::core::option::Option::None => ::std::clone::Clone::clone(self),
                };
                #(#rules)*
                report
            }

            /// Overlays the fields set in `other` onto this patch.
            pub fn merge(&mut self, other: &SettingsPatch) {
                #(if let ::core::option::Option::Some(v) = &other.#ids { self.#ids = ::core::option::Option::Some(::std::clone::Clone::clone(v)); })*
            }

            /// Writes the fields set in this patch into `settings`.
            pub fn apply_to(&self, settings: &mut Settings) {
                #(if let ::core::option::Option::Some(v) = &self.#ids { settings.#ids = ::std::clone::Clone::clone(v); })*
            }

            /// The values `current` holds for the fields this patch sets: what applying the
            /// patch to it replaces.
            pub fn current_values(&self, current: &Settings) -> SettingsPatch {
                let mut out = SettingsPatch::default();
                #(if self.#ids.is_some() { out.#ids = ::core::option::Option::Some(::std::clone::Clone::clone(&current.#ids)); })*
                out
            }

            /// The fields whose value differs from `current`, as `(field, current, desired)`.
            pub fn changes(&self, current: &Settings) -> ::std::vec::Vec<::greenapi_settings::Change> {
                let mut out = ::std::vec::Vec::new();
                #(
                    if let ::core::option::Option::Some(v) = &self.#ids {
                        if *v != current.#ids {
                            out.push(::greenapi_settings::Change {
                                field: #names,
                                current: { let v = &current.#ids; #to_json_arms },
                                desired: #to_json_arms,
                                secret: #secret_flags,
                            });
                        }
                    }
                )*
                out
            }

            /// This patch with the fields that already equal `current` removed: what needs sending.
            pub fn changed_only(&self, current: &Settings) -> SettingsPatch {
                let mut out = SettingsPatch::default();
                #(
                    if let ::core::option::Option::Some(v) = &self.#ids {
                        if *v != current.#ids { out.#ids = ::core::option::Option::Some(::std::clone::Clone::clone(v)); }
                    }
                )*
                out
            }

            /// The wire body: a JSON object with the set fields only.
            pub fn to_json_value(&self) -> #p::serde_json::Value {
                let mut m = #p::serde_json::Map::new();
                #(if let ::core::option::Option::Some(v) = &self.#ids { m.insert(::std::string::String::from(#names), #to_json_arms); })*
                #p::serde_json::Value::Object(m)
            }

            /// Sets one field by API name or snake_case name from a JSON value (`"yes"`/`"no"`
            /// or a boolean for yes/no fields). Unknown names and wrong types are violations.
            pub fn set_json(&mut self, name: &str, value: &#p::serde_json::Value) -> ::core::result::Result<(), ::greenapi_settings::Violation> {
                match name {
                    #(#patterns => { self.#ids = ::core::option::Option::Some(#parse_fns(#names, value)?); })*
                    other => return ::core::result::Result::Err(#p::unknown_field(other, FIELDS)),
                }
                ::core::result::Result::Ok(())
            }

            /// The value of one field (by API or snake_case name) in wire form, if set.
            pub fn get_json(&self, name: &str) -> ::core::option::Option<#p::serde_json::Value> {
                match name {
                    #(#patterns => self.#ids.as_ref().map(|v| #to_json_arms),)*
                    _ => ::core::option::Option::None,
                }
            }

            /// Builds a patch from a JSON object (API or snake_case names), collecting *every*
            /// problem: unknown fields, wrong types, bad yes/no values. Ranges are checked by
            /// [`validate`](Self::validate), not here.
            pub fn from_json_value(value: &#p::serde_json::Value) -> ::core::result::Result<Self, ::std::vec::Vec<::greenapi_settings::Violation>> {
                let map = #p::expect_object(value)?;
                let mut patch = SettingsPatch::default();
                let mut problems = ::std::vec::Vec::new();
                let mut seen = #p::Spellings::default();
                for (k, v) in map {
                    if let ::core::option::Option::Some(e) = seen.conflict(k, FIELDS) {
                        problems.push(e);
                    } else if let ::core::result::Result::Err(e) = patch.set_json(k, v) {
                        problems.push(e);
                    }
                }
                if problems.is_empty() { ::core::result::Result::Ok(patch) } else { ::core::result::Result::Err(problems) }
            }

            /// Reads a `setSettings` body in one pass, straight into a patch (no
            /// `serde_json::Value` in between), if it is plain: a JSON object of API names, each
            /// given once, with values [`set_json`](Self::set_json) accepts. The result is then what
            /// [`from_json_value`](Self::from_json_value) returns for it. `None` for any other body
            /// (not JSON, not an object, an unknown or snake_case name, a repeated key, a value of
            /// the wrong type): parse it into a `Value` and call `from_json_value` or `set_json`,
            /// which report every problem.
            pub fn from_plain_json(bytes: &[u8]) -> ::core::option::Option<Self> {
                #p::read_plain::<SettingsPatch>(bytes).map(|read| read.value)
            }
        }

        #[allow(deprecated)]
        impl ::core::fmt::Debug for SettingsPatch {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                let mut d = f.debug_struct("SettingsPatch");
                #(#debug_fields)*
                d.finish()
            }
        }

        #deserialize
        #wire
    }
}
