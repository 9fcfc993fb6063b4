//! The wire facts generated from the spec's method table: URLs and method names.

use greenapi_settings::{facts, ApiMethod, INSTANCE_SEGMENT_PREFIX};

#[test]
fn urls_follow_the_spec_path_templates() {
    assert_eq!(
        ApiMethod::GetSettings.url("https://1101.api.greenapi.com", 1101000001, "tok"),
        "https://1101.api.greenapi.com/waInstance1101000001/getSettings/tok"
    );
    assert_eq!(
        ApiMethod::SetSettings.url("http://127.0.0.1:9", 7, "t"),
        "http://127.0.0.1:9/waInstance7/setSettings/t"
    );
    assert_eq!(
        ApiMethod::GetSettings.path_template(),
        facts::GET_SETTINGS_PATH
    );
    assert_eq!(
        ApiMethod::SetSettings.path_template(),
        facts::SET_SETTINGS_PATH
    );
    assert_eq!(INSTANCE_SEGMENT_PREFIX, "waInstance");
}

#[test]
fn method_names_are_matched_without_case_and_carry_their_http_method() {
    assert_eq!(
        ApiMethod::from_name("GETSETTINGS"),
        Some(ApiMethod::GetSettings)
    );
    assert_eq!(
        ApiMethod::from_name("setSettings"),
        Some(ApiMethod::SetSettings)
    );
    assert_eq!(ApiMethod::from_name("sendMessage"), None);
    assert_eq!(ApiMethod::GetSettings.http_method(), "GET");
    assert_eq!(ApiMethod::SetSettings.http_method(), "POST");
    assert_eq!(ApiMethod::ALL.len(), 2);
}

#[test]
fn a_token_that_looks_like_a_placeholder_is_substituted_once() {
    assert_eq!(
        ApiMethod::GetSettings.url("http://h", 1, "{idInstance}"),
        "http://h/waInstance1/getSettings/{idInstance}"
    );
}
