//! What one instance's settings mean for its notifications, from the spec's table alone
//! ([`NOTIFICATIONS`]): for every kind, whether it arrives and, if not, why; and the general
//! findings about `webhookUrl`. No kind and no setting is named in code here, so a new rule in
//! the spec is reported (and tested) without a change to this file.
//!
//! Whether the settings *ask for* a kind: a kind's own settings are those it needs beyond its
//! plain kind (a variant: beyond the kind of its `typeWebhook` without a variant, so
//! `pollMessageWebhook` for incoming poll messages) or, for a plain kind, beyond what the
//! other types' plain kinds need (`incomingCallWebhook` for `incomingCall`: `incomingWebhook`
//! is also `incomingMessageReceived`'s). The kind is asked for when one of its own settings is
//! on or, when it has none of its own (`incomingMessageReceived`), when any of its settings
//! is on. So `incomingWebhook` on and `incomingCallWebhook` off is "off" for calls, but
//! `incomingCallWebhook` on and `incomingWebhook` off is a problem. A kind asked for that cannot arrive (a
//! setting it needs is off, or the API documents it as not working) is a problem (exit 1); a
//! kind not asked for is only listed as off.

use greenapi_settings::Settings;
use serde_json::{json, Value};

use super::{NotificationInfo, NotificationStatus, NOTIFICATIONS};

/// How bad a finding is. Only [`Severity::Problem`] changes the exit code (1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Severity {
    /// Something the settings ask for cannot arrive.
    Problem,
    /// It arrives, but not as it should (a token sent in clear).
    Warning,
    /// Worth knowing (notifications wait for `receiveNotification`).
    Notice,
}

impl Severity {
    /// The JSON spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Severity::Problem => "problem",
            Severity::Warning => "warning",
            Severity::Notice => "notice",
        }
    }
}

/// A general finding about the settings or the receiver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Finding {
    /// How bad it is.
    pub severity: Severity,
    /// A stable name for scripts (`webhookUrlEmpty`).
    pub code: &'static str,
    /// The sentence shown (no secret in it).
    pub message: String,
}

impl Finding {
    pub(crate) fn new(severity: Severity, code: &'static str, message: impl Into<String>) -> Self {
        Finding {
            severity,
            code,
            message: message.into(),
        }
    }

    /// The JSON form.
    pub(crate) fn to_json(&self) -> Value {
        json!({"severity": self.severity.as_str(), "code": self.code, "message": self.message})
    }
}

/// What the settings mean for one kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Every setting it needs is on and the API sends it.
    Arrives,
    /// The settings ask for it, and it cannot arrive.
    Blocked,
    /// The settings do not ask for it.
    Off,
}

impl Verdict {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Verdict::Arrives => "arrives",
            Verdict::Blocked => "blocked",
            Verdict::Off => "off",
        }
    }
}

/// One kind's line of the report.
#[derive(Clone, Debug)]
pub(crate) struct KindReport {
    /// The kind.
    pub info: &'static NotificationInfo,
    /// Arrives, blocked, or off.
    pub verdict: Verdict,
    /// Its required settings that are off (in the order of `requires`).
    pub missing: Vec<&'static str>,
    /// Why it does not arrive (`None` when it does).
    pub why: Option<String>,
    /// When a source does not list a setting that is off: which (the rule followed is the
    /// stricter union of the sources).
    pub sources_differ: Option<String>,
}

impl KindReport {
    /// The JSON form.
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "kind": self.info.key(),
            "typeWebhook": self.info.type_webhook,
            "variant": self.info.variant,
            "requires": self.info.requires,
            "status": self.info.status.as_str(),
            "verdict": self.verdict.as_str(),
            "missing": self.missing,
            "why": self.why,
            "sourcesDiffer": self.sources_differ,
            "description": self.info.description,
            "sources": self.info.sources.iter().map(|r| json!({
                "source": r.source, "requires": r.requires, "citation": r.citation,
            })).collect::<Vec<_>>(),
            "notes": self.info.notes,
        })
    }
}

/// The sentence for a kind whose settings are on but that the API does not send.
pub(crate) fn not_sent(status: NotificationStatus) -> Option<&'static str> {
    match status {
        NotificationStatus::Active => None,
        NotificationStatus::TemporarilyBroken => {
            Some("will not arrive: the API documents it as temporarily not working")
        }
        NotificationStatus::Deprecated => {
            Some("will not arrive: the API documents it as deprecated")
        }
    }
}

/// The settings `kind` needs beyond its plain kind: for a variant, beyond the kind of the same
/// `typeWebhook` without one; for a plain kind (or a variant whose type has none), beyond what
/// the plain kinds of the other types need.
fn own_settings(kind: &NotificationInfo) -> Vec<&'static str> {
    let plain_of_type = NOTIFICATIONS
        .iter()
        .find(|k| k.variant.is_none() && k.type_webhook == kind.type_webhook && *k != kind);
    let base: Vec<&'static str> = match plain_of_type {
        Some(plain) => plain.requires.to_vec(),
        None => NOTIFICATIONS
            .iter()
            .filter(|k| k.variant.is_none() && k.type_webhook != kind.type_webhook)
            .flat_map(|k| k.requires.iter().copied())
            .collect(),
    };
    kind.requires
        .iter()
        .copied()
        .filter(|s| !base.contains(s))
        .collect()
}

/// Whether the settings ask for `kind` (see the module's header).
fn asked_for(kind: &NotificationInfo, missing: &[&str]) -> bool {
    let own = own_settings(kind);
    if own.is_empty() {
        kind.requires.iter().any(|s| !missing.contains(s))
    } else {
        own.iter().any(|s| !missing.contains(s))
    }
}

/// The name of a source of the spec's rules, for people.
fn source_name(source: &str) -> &str {
    match source {
        "D" => "the API's documentation",
        "P" => "the Postman collection",
        "SDK" => "the official SDKs",
        other => other,
    }
}

/// "the Postman collection does not list incomingWebhook": the sources that do not require a
/// setting of `missing` (so the kind may arrive without it, if that source is right).
fn sources_differ(info: &NotificationInfo, missing: &[&str]) -> Option<String> {
    let parts: Vec<String> = info
        .sources
        .iter()
        .filter_map(|r| {
            let unlisted: Vec<&str> = missing
                .iter()
                .copied()
                .filter(|s| !r.requires.contains(s))
                .collect();
            (!unlisted.is_empty()).then(|| {
                format!(
                    "{} does not list {}",
                    source_name(r.source),
                    unlisted.join(" and ")
                )
            })
        })
        .collect();
    (!parts.is_empty()).then(|| {
        format!(
            "sources differ: {} (the stricter rule is followed)",
            parts.join("; ")
        )
    })
}

/// Every kind of [`NOTIFICATIONS`], in spec order, judged against `settings`.
pub(crate) fn kinds(settings: &Settings) -> Vec<KindReport> {
    NOTIFICATIONS
        .iter()
        .map(|info| {
            let missing = info.missing(settings);
            let wanted = asked_for(info, &missing);
            let (verdict, why) = match (info.why_suppressed(settings), not_sent(info.status)) {
                (None, None) => (Verdict::Arrives, None),
                (None, Some(why)) => (Verdict::Blocked, Some(why.to_string())),
                (Some(why), _) if wanted => (Verdict::Blocked, Some(why)),
                (Some(why), _) => (Verdict::Off, Some(why)),
            };
            let sources_differ = sources_differ(info, &missing);
            KindReport {
                info,
                verdict,
                missing,
                why,
                sources_differ,
            }
        })
        .collect()
}

/// The general findings about where notifications go: `webhookUrl` empty (they wait for
/// `receiveNotification`), `http://` (with a token: the token travels in clear), a host only
/// this machine can reach. The URL itself is never quoted (it may hold a secret).
pub(crate) fn webhook_findings(settings: &Settings, any_arrives: bool) -> Vec<Finding> {
    let url = &settings.webhook_url;
    let token_set = !settings.webhook_url_token.is_empty();
    let mut out = Vec::new();
    if url.trim().is_empty() {
        if any_arrives {
            out.push(Finding::new(
                Severity::Notice,
                "webhookUrlEmpty",
                "webhookUrl is empty: notifications wait in the queue for receiveNotification",
            ));
        }
        return out;
    }
    match url::Url::parse(url.trim()) {
        Err(_) => out.push(Finding::new(
            Severity::Problem,
            "webhookUrlInvalid",
            "webhookUrl is not a valid URL: nothing can be delivered",
        )),
        Ok(u) => {
            match u.scheme() {
                "https" => {}
                "http" if token_set => out.push(Finding::new(
                    Severity::Warning,
                    "webhookUrlHttpWithToken",
                    "webhookUrl is http://: the webhook token travels unencrypted",
                )),
                "http" => out.push(Finding::new(
                    Severity::Notice,
                    "webhookUrlHttp",
                    "webhookUrl is http://: notifications travel unencrypted",
                )),
                _ => out.push(Finding::new(
                    Severity::Problem,
                    "webhookUrlScheme",
                    "webhookUrl is neither http:// nor https://: nothing can be delivered",
                )),
            }
            if is_local(&u) {
                out.push(Finding::new(
                    Severity::Notice,
                    "webhookUrlLocal",
                    "webhookUrl names this machine (loopback): only a local sandbox can deliver there, not the API's servers",
                ));
            }
            if !any_arrives {
                out.push(Finding::new(
                    Severity::Notice,
                    "nothingSwitchedOn",
                    "no notification is switched on: nothing is sent to webhookUrl",
                ));
            }
        }
    }
    out
}

/// Whether `u`'s host is loopback (`localhost`, 127.0.0.0/8, ::1).
fn is_local(u: &url::Url) -> bool {
    match u.host() {
        Some(url::Host::Domain(d)) => {
            d.eq_ignore_ascii_case("localhost") || d.to_ascii_lowercase().ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// `u` fit to print: scheme, host, port and path; userinfo dropped and a query or fragment
/// shown as `?<redacted>` / `#<redacted>` (either may hold a secret), and the whole path shown
/// as `/<redacted>` when it holds `secret` (the webhook token) in any form: receivers that
/// take their token in the path exist.
pub(crate) fn shown_url(raw: &str, secret: &str) -> String {
    match url::Url::parse(raw.trim()) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            let query = u.query().is_some();
            let fragment = u.fragment().is_some();
            u.set_query(None);
            u.set_fragment(None);
            let mut s = if holds(u.path(), secret) {
                format!("{}/<redacted>", u.origin().ascii_serialization())
            } else {
                u.to_string()
            };
            if query {
                s.push_str("?<redacted>");
            }
            if fragment {
                s.push_str("#<redacted>");
            }
            crate::terminal::text(&s).into_owned()
        }
        Err(_) => "<not a URL>".into(),
    }
}

/// Whether `text` holds `secret` as given or encoded (any letter case; a short secret only as
/// given, where scrubbing would blank letters out of everything).
fn holds(text: &str, secret: &str) -> bool {
    if secret.is_empty() {
        return false;
    }
    text.contains(secret)
        || text
            .to_ascii_lowercase()
            .contains(&secret.to_ascii_lowercase())
        || greenapi_settings::ApiToken::new(secret).appears_in(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (review of issue 21): a webhook token in the URL's path was printed.
    #[test]
    fn a_shown_url_hides_a_path_that_holds_the_webhook_token_in_any_form() {
        for url in [
            "https://hooks.example.com/in/Wh00kS3cretZZ",
            "https://hooks.example.com/in/wh00ks3cretzz/x",
            "https://hooks.example.com/in/%57h00kS3cretZZ",
        ] {
            assert_eq!(
                shown_url(url, "Wh00kS3cretZZ"),
                "https://hooks.example.com/<redacted>",
                "{url}"
            );
        }
        assert_eq!(
            shown_url("https://hooks.example.com/in", "Wh00kS3cretZZ"),
            "https://hooks.example.com/in"
        );
    }

    #[test]
    fn a_shown_url_has_no_userinfo_query_or_fragment() {
        assert_eq!(
            shown_url(
                "https://user:pa55@hooks.example.com:8443/in?key=s3cret#x",
                ""
            ),
            "https://hooks.example.com:8443/in?<redacted>#<redacted>"
        );
        assert_eq!(shown_url("http://h/p", ""), "http://h/p");
        assert_eq!(shown_url("not a url s3cret", ""), "<not a URL>");
    }
}
