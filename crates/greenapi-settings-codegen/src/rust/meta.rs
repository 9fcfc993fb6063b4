//! The static tables (`FIELDS`, `READ_ONLY_FIELDS`, `RULES`) and `facts`.

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use super::*;
use crate::model::RuleKind;

pub(super) fn meta_tables(spec: &Spec) -> TokenStream {
    let fields = spec.settings.iter().map(|s| {
        let (name, snake) = (&s.name, &s.snake);
        let kind = kind_tokens(s.ty);
        let status = status_tokens(s.status);
        let min = opt(s.range.map(|r| r.0));
        let max = opt(s.range.map(|r| r.1));
        let unit = opt(s.unit.as_deref());
        let schemes = &s.schemes;
        let allow_empty = s.allow_empty;
        let secret = s.secret;
        let max_length = opt(s.max_length.map(|n| n as usize));
        let recommended_max = opt(s.recommended_max);
        let always_returned = s.always_returned;
        let (en, ru) = (&s.description.en, &s.description.ru);
        let notes = &s.notes;
        quote! {
            ::greenapi_settings::FieldInfo {
                name: #name, snake: #snake, kind: #kind, status: #status, read_only: false,
                min: #min, max: #max, unit: #unit, schemes: &[#(#schemes),*],
                allow_empty: #allow_empty, secret: #secret, max_length: #max_length,
                recommended_max: #recommended_max, always_returned: #always_returned,
                description: #en, description_ru: #ru, notes: &[#(#notes),*],
            }
        }
    });
    let read_only = spec.read_only.iter().map(|f| {
        let (name, snake) = (&f.name, &f.snake);
        let kind = kind_tokens(f.ty);
        let (en, ru) = (&f.description.en, &f.description.ru);
        quote! {
            ::greenapi_settings::FieldInfo {
                name: #name, snake: #snake, kind: #kind,
                status: ::greenapi_settings::Status::Active, read_only: true,
                min: ::core::option::Option::None, max: ::core::option::Option::None,
                unit: ::core::option::Option::None, schemes: &[], allow_empty: true, secret: false,
                max_length: ::core::option::Option::None,
                recommended_max: ::core::option::Option::None, always_returned: false,
                description: #en, description_ru: #ru, notes: &[],
            }
        }
    });
    let rules = spec.rules.iter().map(|r| {
        let (id, field) = (&r.id, &r.field);
        let kind = match r.kind {
            RuleKind::IgnoredWhen(_) => quote!(::greenapi_settings::RuleKind::IgnoredWhen),
            RuleKind::EffectiveOnlyWithAll(_) => {
                quote!(::greenapi_settings::RuleKind::EffectiveOnlyWithAll)
            }
            RuleKind::EffectiveOnlyWithAny(_) => {
                quote!(::greenapi_settings::RuleKind::EffectiveOnlyWithAny)
            }
            RuleKind::Advice => quote!(::greenapi_settings::RuleKind::Advice),
        };
        let others = r.kind.others();
        let (en, ru) = (&r.description.en, &r.description.ru);
        quote! {
            ::greenapi_settings::RuleInfo {
                id: #id, kind: #kind, field: #field, others: &[#(#others),*],
                description: #en, description_ru: #ru,
            }
        }
    });
    quote! {
        /// Every writable setting of `setSettings`, in spec order.
        pub const FIELDS: &[::greenapi_settings::FieldInfo] = &[#(#fields),*];
        /// Fields that only `getSettings` returns.
        pub const READ_ONLY_FIELDS: &[::greenapi_settings::FieldInfo] = &[#(#read_only),*];
        /// Cross-field rules from the API's "Applying settings" section.
        pub const RULES: &[::greenapi_settings::RuleInfo] = &[#(#rules),*];
    }
}

pub(super) fn facts(spec: &Spec) -> TokenStream {
    let set = &spec.set_settings;
    let get = &spec.get_settings;
    let (set_path, get_path) = (&set.path, &get.path);
    let restarts = set.restarts_instance;
    let within = set.applies_within_seconds.unwrap_or(0);
    let min_params = set.min_parameters.unwrap_or(0) as usize;
    let rps = spec.rate_limit.requests_per_second as u32;
    let rl_status = spec.rate_limit.http_status;
    let body = set
        .example_body
        .as_ref()
        .map(|b| serde_json::to_string_pretty(b).expect("json"))
        .unwrap_or_default();
    let resp = set
        .example_response
        .as_ref()
        .map(|b| b.to_string())
        .unwrap_or_default();
    let (set_doc, get_doc) = (&set.description.en, &get.description.en);
    let api_method = api_method(spec);
    quote! {
        #api_method

        /// Method-level facts of the API, from the spec.
        pub mod facts {
            /// Path template of `setSettings` (POST).
            #[doc = #set_doc]
            pub const SET_SETTINGS_PATH: &str = #set_path;
            /// Path template of `getSettings` (GET).
            #[doc = #get_doc]
            pub const GET_SETTINGS_PATH: &str = #get_path;
            /// Whether a `setSettings` call restarts the instance.
            pub const SET_SETTINGS_RESTARTS_INSTANCE: bool = #restarts;
            /// How long the API may take to apply a `setSettings` call, in seconds.
            pub const SET_SETTINGS_APPLIES_WITHIN_SECONDS: u64 = #within;
            /// How many parameters a `setSettings` call needs at least.
            pub const SET_SETTINGS_MIN_PARAMETERS: usize = #min_params;
            /// Requests per second allowed per instance for the settings methods.
            pub const RATE_LIMIT_REQUESTS_PER_SECOND: u32 = #rps;
            /// HTTP status returned over the rate limit.
            pub const RATE_LIMIT_HTTP_STATUS: u16 = #rl_status;
            /// The documented example body of `setSettings`.
            pub const SET_SETTINGS_EXAMPLE_BODY: &str = #body;
            /// The documented example response of `setSettings`.
            pub const SET_SETTINGS_EXAMPLE_RESPONSE: &str = #resp;
        }
    }
}

/// `ApiMethod`: the methods of the spec with their wire facts. The client builds its URLs with
/// it and the sandbox routes by it, so a path exists in code only as generated from the spec.
fn api_method(spec: &Spec) -> TokenStream {
    let methods = [&spec.get_settings, &spec.set_settings];
    let variants: Vec<Ident> = methods
        .iter()
        .map(|m| {
            let mut name = m.name.clone();
            name[..1].make_ascii_uppercase();
            Ident::new(&name, Span::call_site())
        })
        .collect();
    let names: Vec<&String> = methods.iter().map(|m| &m.name).collect();
    let http: Vec<&String> = methods.iter().map(|m| &m.http_method).collect();
    let paths: Vec<&String> = methods.iter().map(|m| &m.path).collect();
    let prefix = crate::model::instance_prefix(&spec.get_settings.path, &spec.get_settings.name)
        .expect("checked by the loader")
        .to_string();
    let docs: Vec<String> = methods
        .iter()
        .map(|m| format!("`{}` ({}): {}", m.name, m.http_method, m.description.en))
        .collect();
    quote! {
        /// The text before the instance id in the first segment of every API path
        /// (`waInstance` in `/waInstance1101000001/getSettings/…`).
        pub const INSTANCE_SEGMENT_PREFIX: &str = #prefix;

        /// One method of the API, with its wire facts from the spec.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ApiMethod {
            #(#[doc = #docs] #variants,)*
        }

        impl ApiMethod {
            /// Every method, in spec order.
            pub const ALL: &'static [ApiMethod] = &[#(ApiMethod::#variants),*];

            /// The API spelling, e.g. `getSettings`.
            pub fn name(self) -> &'static str {
                match self { #(ApiMethod::#variants => #names,)* }
            }

            /// The HTTP method: `GET` or `POST`.
            pub fn http_method(self) -> &'static str {
                match self { #(ApiMethod::#variants => #http,)* }
            }

            /// The path template, e.g. `{apiUrl}/waInstance{idInstance}/getSettings/{apiTokenInstance}`.
            pub fn path_template(self) -> &'static str {
                match self { #(ApiMethod::#variants => #paths,)* }
            }

            /// The method with this API name, ignoring ASCII case (as the API does).
            pub fn from_name(name: &str) -> ::core::option::Option<ApiMethod> {
                ApiMethod::ALL.iter().copied().find(|m| m.name().eq_ignore_ascii_case(name))
            }

            /// The request URL: the path template filled in (the loader checked its shape,
            /// `{apiUrl}/<prefix>{idInstance}/<method>/{apiTokenInstance}`). `api_url` has no
            /// trailing `/`; nothing is substituted twice.
            pub fn url(self, api_url: &str, id_instance: u64, api_token: &str) -> ::std::string::String {
                ::std::format!("{api_url}/{INSTANCE_SEGMENT_PREFIX}{id_instance}/{}/{api_token}", self.name())
            }
        }
    }
}
