//! The wire form without a `serde_json::Value` in between: `Serialize` writing each field
//! straight to the serializer, and `ReadPlain` reading a plain JSON object key by key (the
//! runtime side is the core crate's `wire.rs`). `Deserialize` goes through `from_json_value`,
//! where every check and message lives, once.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::*;

/// A field's value as the serializer takes it, from `v` (a reference to the Rust value).
fn wire_value(ty: FieldType, v: TokenStream) -> TokenStream {
    let p = private();
    match ty {
        FieldType::YesNo => quote!(#p::yes_no_str(*#v)),
        FieldType::Integer | FieldType::String | FieldType::Url | FieldType::Token => v,
    }
}

/// The value of field `id` of `self` as the serializer takes it.
fn field_wire(ty: FieldType, id: &Ident) -> TokenStream {
    let p = private();
    match ty {
        FieldType::YesNo => quote!(#p::yes_no_str(self.#id)),
        FieldType::Integer | FieldType::String | FieldType::Url | FieldType::Token => {
            quote!(&self.#id)
        }
    }
}

/// An index as a literal without a suffix (`3`, not `3usize`).
fn index(i: usize) -> Literal {
    Literal::usize_unsuffixed(i)
}

/// `Deserialize` for a generated type through its `from_json_value`.
pub(super) fn deserialize_via_json(ty: TokenStream) -> TokenStream {
    let p = private();
    quote! {
        impl<'de> #p::serde::Deserialize<'de> for #ty {
            fn deserialize<D: #p::serde::Deserializer<'de>>(deserializer: D) -> ::core::result::Result<Self, D::Error> {
                let value = <#p::serde_json::Value as #p::serde::Deserialize>::deserialize(deserializer)?;
                #ty::from_json_value(&value).map_err(#p::de_error::<D::Error>)
            }
        }
    }
}

/// `Serialize` and `ReadPlain` for `Settings`: the same keys, order and values as
/// `to_json_value` / `from_json_value`.
pub(super) fn settings_wire(spec: &Spec) -> TokenStream {
    let p = private();
    let SettingTokens { ids, names, .. } = SettingTokens::of(spec);
    let wire: Vec<TokenStream> = spec
        .settings
        .iter()
        .zip(&ids)
        .map(|(s, id)| field_wire(s.ty, id))
        .collect();
    let indexes: Vec<Literal> = (0..spec.settings.len()).map(index).collect();
    let ro_ids: Vec<Ident> = spec.read_only.iter().map(|f| ident(&f.snake)).collect();
    let ro_names: Vec<&String> = spec.read_only.iter().map(|f| &f.name).collect();
    let ro_wire: Vec<TokenStream> = spec
        .read_only
        .iter()
        .map(|f| wire_value(f.ty, quote!(v)))
        .collect();
    let ro_indexes: Vec<Literal> = (0..spec.read_only.len())
        .map(|i| index(spec.settings.len() + i))
        .collect();
    let all_names: Vec<&String> = ro_names
        .iter()
        .copied()
        .chain(names.iter().copied())
        .collect();
    let count = index(spec.settings.len());
    let keys = index(spec.settings.len() + spec.read_only.len());
    quote! {
        impl #p::serde::Serialize for Settings {
            fn serialize<S: #p::serde::Serializer>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error> {
                use #p::serde::ser::SerializeMap as _;
                // An `extra` key that names a known field takes that field's place, as in
                // `to_json_value`: rare enough to go the long way.
                if self.extra.keys().any(|k| matches!(k.as_str(), #(#all_names)|*)) {
                    return #p::serde::Serialize::serialize(&self.to_json_value(), serializer);
                }
                let len = #(usize::from(self.#ro_ids.is_some()) +)* #count + self.extra.len();
                let mut map = serializer.serialize_map(::core::option::Option::Some(len))?;
                #(if let ::core::option::Option::Some(v) = &self.#ro_ids { map.serialize_entry(#ro_names, #ro_wire)?; })*
                #(map.serialize_entry(#names, #wire)?;)*
                for (k, v) in &self.extra { map.serialize_entry(k, v)?; }
                map.end()
            }
        }

        impl #p::ReadPlain for Settings {
            const KEYS: usize = #keys;

            fn read_key<'de, A: #p::serde::de::MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> ::core::result::Result<::core::option::Option<usize>, A::Error> {
                let index = match key {
                    #(#names => { self.#ids = #p::read_lenient(map, #names)?; #indexes })*
                    #(#ro_names => { self.#ro_ids = #p::read_lenient_or_null(map, #ro_names)?; #ro_indexes })*
                    _ => {
                        let value = map.next_value()?;
                        if self.extra.insert(::std::string::String::from(key), value).is_some() {
                            return ::core::result::Result::Err(#p::not_plain());
                        }
                        return ::core::result::Result::Ok(::core::option::Option::None);
                    }
                };
                ::core::result::Result::Ok(::core::option::Option::Some(index))
            }
        }
    }
}

/// `Serialize` and `ReadPlain` for `SettingsPatch`: the set fields, as `to_json_value` and
/// `from_json_value` have them (`ReadPlain` knows the API spelling only).
pub(super) fn patch_wire(spec: &Spec) -> TokenStream {
    let p = private();
    let SettingTokens { ids, names, .. } = SettingTokens::of(spec);
    let wire: Vec<TokenStream> = spec
        .settings
        .iter()
        .map(|s| wire_value(s.ty, quote!(v)))
        .collect();
    let indexes: Vec<Literal> = (0..spec.settings.len()).map(index).collect();
    let keys = index(spec.settings.len());
    quote! {
        #[allow(deprecated)]
        impl #p::serde::Serialize for SettingsPatch {
            fn serialize<S: #p::serde::Serializer>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error> {
                use #p::serde::ser::SerializeMap as _;
                let mut map = serializer.serialize_map(::core::option::Option::Some(self.len()))?;
                #(if let ::core::option::Option::Some(v) = &self.#ids { map.serialize_entry(#names, #wire)?; })*
                map.end()
            }
        }

        #[allow(deprecated)]
        impl #p::ReadPlain for SettingsPatch {
            const KEYS: usize = #keys;

            fn read_key<'de, A: #p::serde::de::MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> ::core::result::Result<::core::option::Option<usize>, A::Error> {
                let index = match key {
                    #(#names => { self.#ids = ::core::option::Option::Some(#p::read_strict(map, #names)?); #indexes })*
                    _ => return ::core::result::Result::Err(#p::not_plain()),
                };
                ::core::result::Result::Ok(::core::option::Option::Some(index))
            }
        }
    }
}
