//! Reading the API path `/waInstance{idInstance}/{method}/{apiTokenInstance}`: which method,
//! which instance, which token segment.

use axum::http::Method;

/// The methods this sandbox serves: the spec's, generated into the core crate, so a path
/// exists in code only as the spec gives it.
pub(crate) use greenapi_settings::ApiMethod;

/// The only HTTP verb `method` answers to (from the spec's `httpMethod`).
pub(crate) fn verb(method: ApiMethod) -> Method {
    Method::from_bytes(method.http_method().as_bytes()).unwrap_or(Method::GET)
}

/// What an API request calls: a settings method of the spec, or a notification method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Call {
    /// getSettings / setSettings.
    Settings(ApiMethod),
    /// receiveNotification / deleteNotification.
    Notifications(crate::notifications::api::Method),
}

impl Call {
    /// The method with this API name (ASCII case ignored, as the API does).
    pub(crate) fn from_name(name: &str) -> Option<Call> {
        ApiMethod::from_name(name)
            .map(Call::Settings)
            .or_else(|| crate::notifications::api::Method::from_name(name).map(Call::Notifications))
    }

    /// Every method's name and verb, for the 404 of an unknown one: `getSettings (GET)`.
    pub(crate) fn served() -> Vec<String> {
        let settings = ApiMethod::ALL
            .iter()
            .map(|m| format!("{} ({})", m.name(), m.http_method()));
        let notifications = crate::notifications::api::Method::ALL
            .iter()
            .map(|m| format!("{} ({})", m.name(), m.verb()));
        settings.chain(notifications).collect()
    }

    /// The API spelling.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Call::Settings(m) => m.name(),
            Call::Notifications(m) => m.name(),
        }
    }

    /// The one HTTP verb it answers to.
    pub(crate) fn verb(self) -> Method {
        match self {
            Call::Settings(m) => verb(m),
            Call::Notifications(m) => m.verb(),
        }
    }

    /// Whether its path may have a fourth segment (deleteNotification's receipt id).
    pub(crate) fn takes_receipt(self) -> bool {
        matches!(self, Call::Notifications(m) if m.takes_receipt())
    }
}

/// The segments of an API path with a fourth one allowed (deleteNotification's receipt id):
/// `(instance, method, token, receipt)`. `None` for any other shape.
pub(crate) fn split_api_path_with_receipt(path: &str) -> Option<(&str, &str, &str, Option<&str>)> {
    if let Some((instance, method, token)) = split_api_path(path) {
        return Some((instance, method, token, None));
    }
    let (head, receipt) = path.rsplit_once('/')?;
    let (instance, method, token) = split_api_path(head)?;
    (!receipt.is_empty()).then_some((instance, method, token, Some(receipt)))
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

/// What the first segment of an API path names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum InstanceSegment {
    /// `waInstance` and an id written the one way the API writes it.
    Id(u64),
    /// `waInstance` and digits that are no id this sandbox can serve: a leading zero
    /// (`01101000001` is not `1101000001`) or too many digits.
    Unknown,
    /// Not `waInstance<digits>` at all.
    Malformed,
}

/// An id written in canonical decimal: digits only, no sign, no leading zero (except `0`),
/// within `u64`.
pub(crate) fn canonical_id(digits: &str) -> Option<u64> {
    let all_digits = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    let leading_zero = digits.len() > 1 && digits.starts_with('0');
    if !all_digits || leading_zero {
        return None;
    }
    digits.parse().ok()
}

/// Reads a `waInstance<digits>` segment (the prefix comes from the spec). The prefix is matched exactly, as the API does.
pub(crate) fn parse_instance_segment(segment: &str) -> InstanceSegment {
    let Some(digits) = segment.strip_prefix(greenapi_settings::INSTANCE_SEGMENT_PREFIX) else {
        return InstanceSegment::Malformed;
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return InstanceSegment::Malformed;
    }
    canonical_id(digits).map_or(InstanceSegment::Unknown, InstanceSegment::Id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_names_are_case_insensitive() {
        assert_eq!(
            ApiMethod::from_name("getSettings"),
            Some(ApiMethod::GetSettings)
        );
        assert_eq!(
            ApiMethod::from_name("GETSETTINGS"),
            Some(ApiMethod::GetSettings)
        );
        assert_eq!(
            ApiMethod::from_name("setsettings"),
            Some(ApiMethod::SetSettings)
        );
        assert_eq!(ApiMethod::from_name("getSettingz"), None);
        assert_eq!(ApiMethod::from_name(""), None);
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
    fn a_fourth_segment_is_split_off_for_the_receipt() {
        assert_eq!(
            split_api_path_with_receipt("/waInstance1/deleteNotification/t/42"),
            Some(("waInstance1", "deleteNotification", "t", Some("42")))
        );
        assert_eq!(
            split_api_path_with_receipt("/waInstance1/getSettings/t"),
            Some(("waInstance1", "getSettings", "t", None))
        );
        assert_eq!(
            split_api_path_with_receipt("/waInstance1/deleteNotification/t/"),
            None
        );
        assert_eq!(split_api_path_with_receipt("/waInstance1/d/t/4/2"), None);
        assert_eq!(split_api_path_with_receipt("/waInstance1//t/4"), None);
    }

    #[test]
    fn instance_segment_needs_the_prefix_and_only_digits() {
        use InstanceSegment::{Id, Malformed, Unknown};
        assert_eq!(
            parse_instance_segment("waInstance1101000001"),
            Id(1_101_000_001)
        );
        assert_eq!(parse_instance_segment("waInstance0"), Id(0));
        assert_eq!(parse_instance_segment("wainstance1"), Malformed);
        assert_eq!(parse_instance_segment("waInstance"), Malformed);
        assert_eq!(parse_instance_segment("waInstance+1"), Malformed);
        assert_eq!(parse_instance_segment("waInstance12a"), Malformed);
        assert_eq!(
            parse_instance_segment("waInstance99999999999999999999999"),
            Unknown
        );
        assert_eq!(parse_instance_segment("1101000001"), Malformed);
    }

    #[test]
    fn a_leading_zero_makes_another_id() {
        assert_eq!(
            parse_instance_segment("waInstance01101000001"),
            InstanceSegment::Unknown
        );
        assert_eq!(
            parse_instance_segment("waInstance00"),
            InstanceSegment::Unknown
        );
        assert_eq!(canonical_id("01101000001"), None);
        assert_eq!(canonical_id("+1101000001"), None);
        assert_eq!(canonical_id("1101000001"), Some(1_101_000_001));
        assert_eq!(canonical_id("0"), Some(0));
    }
}
