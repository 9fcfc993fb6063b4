//! Reading the API path `/waInstance{idInstance}/{method}/{apiTokenInstance}`: which method,
//! which instance, which token segment.

use axum::http::Method;

/// The two methods this sandbox serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ApiMethod {
    /// `GET …/getSettings/…`
    GetSettings,
    /// `POST …/setSettings/…`
    SetSettings,
}

impl ApiMethod {
    /// The method named by a path segment, case-insensitively (the API accepts any case).
    pub(crate) fn parse(segment: &str) -> Option<Self> {
        if segment.eq_ignore_ascii_case("getSettings") {
            Some(ApiMethod::GetSettings)
        } else if segment.eq_ignore_ascii_case("setSettings") {
            Some(ApiMethod::SetSettings)
        } else {
            None
        }
    }

    /// The API spelling.
    pub(crate) fn name(self) -> &'static str {
        match self {
            ApiMethod::GetSettings => "getSettings",
            ApiMethod::SetSettings => "setSettings",
        }
    }

    /// The only HTTP verb the method answers to.
    pub(crate) fn verb(self) -> Method {
        match self {
            ApiMethod::GetSettings => Method::GET,
            ApiMethod::SetSettings => Method::POST,
        }
    }
}

/// The three segments of an API path, or `None` for any other shape (including empty
/// segments and trailing slashes).
pub(crate) fn split_api_path(path: &str) -> Option<(&str, &str, &str)> {
    let mut parts = path.strip_prefix('/')?.split('/');
    let instance = parts.next()?;
    let method = parts.next()?;
    let token = parts.next()?;
    let well_formed =
        parts.next().is_none() && !instance.is_empty() && !method.is_empty() && !token.is_empty();
    well_formed.then_some((instance, method, token))
}

/// The id in a `waInstance<digits>` segment. The prefix is matched exactly, as the API does.
pub(crate) fn parse_instance_segment(segment: &str) -> Option<u64> {
    let digits = segment.strip_prefix("waInstance")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_names_are_case_insensitive() {
        assert_eq!(
            ApiMethod::parse("getSettings"),
            Some(ApiMethod::GetSettings)
        );
        assert_eq!(
            ApiMethod::parse("GETSETTINGS"),
            Some(ApiMethod::GetSettings)
        );
        assert_eq!(
            ApiMethod::parse("setsettings"),
            Some(ApiMethod::SetSettings)
        );
        assert_eq!(ApiMethod::parse("getSettingz"), None);
        assert_eq!(ApiMethod::parse(""), None);
    }

    #[test]
    fn only_three_non_empty_segments_form_an_api_path() {
        assert_eq!(
            split_api_path("/waInstance1/getSettings/t"),
            Some(("waInstance1", "getSettings", "t"))
        );
        assert_eq!(split_api_path("/waInstance1/getSettings/t/"), None);
        assert_eq!(split_api_path("/waInstance1/getSettings"), None);
        assert_eq!(split_api_path("/waInstance1//t"), None);
        assert_eq!(split_api_path("waInstance1/getSettings/t"), None);
        assert_eq!(split_api_path("/"), None);
        assert_eq!(split_api_path(""), None);
    }

    #[test]
    fn instance_segment_needs_the_prefix_and_only_digits() {
        assert_eq!(
            parse_instance_segment("waInstance1101000001"),
            Some(1_101_000_001)
        );
        assert_eq!(parse_instance_segment("wainstance1"), None);
        assert_eq!(parse_instance_segment("waInstance"), None);
        assert_eq!(parse_instance_segment("waInstance+1"), None);
        assert_eq!(parse_instance_segment("waInstance12a"), None);
        assert_eq!(
            parse_instance_segment("waInstance99999999999999999999999"),
            None
        );
        assert_eq!(parse_instance_segment("1101000001"), None);
    }
}
