//! Where the CLI sends requests: flags, then environment, then a profile file, and with no
//! credentials at all an embedded sandbox started in this process.

use std::path::PathBuf;
use std::time::Duration;

use greenapi_settings::{
    ApiToken, Client, ClientBuilder, RetryPolicy, ENV_API_URL, ENV_ID_INSTANCE, ENV_TOKEN,
};
use greenapi_settings_sandbox::{
    Sandbox, SandboxConfig, SandboxHandle, DEFAULT_INSTANCE_ID, DEFAULT_TOKEN,
};
use serde_json::Value;

use crate::exit::CliError;
use crate::input::{read_capped, SMALL_FILE_CAP};
use crate::parse::toml_table;

/// Environment variable naming the profile file (default `~/.config/greenapi-settings/profiles.toml`).
pub const ENV_PROFILES: &str = "GREENAPI_SETTINGS_PROFILES";

/// Connection options common to every command.
#[derive(Clone, Debug, Default)]
pub struct ConnArgs {
    /// `--api-url`.
    pub api_url: Option<String>,
    /// `--id-instance`.
    pub id_instance: Option<u64>,
    /// `--api-token` (never printed).
    pub api_token: Option<ApiToken>,
    /// `--profile`.
    pub profile: Option<String>,
    /// `--timeout` in seconds.
    pub timeout: Option<f64>,
    /// `--retries` (total attempts = retries + 1).
    pub retries: Option<u32>,
}

/// A client, and the embedded sandbox it talks to when no credentials were given.
pub struct Target {
    /// The client.
    pub client: Client,
    /// The embedded sandbox, kept alive as long as the target.
    pub sandbox: Option<SandboxHandle>,
}

impl ConnArgs {
    /// Applies timeout and retries to a builder.
    pub fn tune(&self, mut b: ClientBuilder) -> ClientBuilder {
        // The CLI refuses bad values with a message (`numbers::timeout`); a library caller's
        // nonsense is clamped here instead of panicking in `Duration`.
        if let Some(t) = self.timeout {
            if let Ok(d) =
                Duration::try_from_secs_f64(t.clamp(0.001, crate::numbers::MAX_TIMEOUT_SECS))
            {
                b = b.timeout(d);
            }
        }
        if let Some(r) = self.retries {
            b = b.retry(RetryPolicy::default().max_attempts(r.saturating_add(1)));
        }
        b
    }

    /// Resolves credentials; with none at all, starts the embedded sandbox and says so on stderr.
    pub async fn resolve(&self) -> Result<Target, CliError> {
        let mut url = self.api_url.clone().or_else(|| env(ENV_API_URL));
        let mut id = self.id_instance;
        if id.is_none() {
            if let Some(v) = env(ENV_ID_INSTANCE) {
                id = Some(crate::numbers::id_instance(ENV_ID_INSTANCE, &v)?);
            }
        }
        let mut token = self
            .api_token
            .clone()
            .or_else(|| env(ENV_TOKEN).map(ApiToken::new));
        if self.profile.is_some() || (url.is_none() && id.is_none() && token.is_none()) {
            if let Some(p) = load_profile(self.profile.as_deref())? {
                url = url.or(p.0);
                id = id.or(p.1);
                token = token.or(p.2);
            }
        }
        match (url, id, token) {
            (None, None, None) => {
                let sandbox = Sandbox::start(SandboxConfig::default())
                    .await
                    .map_err(|e| {
                        CliError::failed(format!("cannot start the embedded sandbox: {e}"))
                    })?;
                eprintln!(
                    "note: no credentials given; using an embedded sandbox at {} (instance {DEFAULT_INSTANCE_ID}). \
                     Set {ENV_API_URL}, {ENV_ID_INSTANCE} and {ENV_TOKEN} (or --profile) for a real instance.",
                    sandbox.url()
                );
                let client = self
                    .tune(
                        Client::builder()
                            .api_url(sandbox.url())
                            .id_instance(DEFAULT_INSTANCE_ID)
                            .api_token(DEFAULT_TOKEN),
                    )
                    .build()?;
                Ok(Target {
                    client,
                    sandbox: Some(sandbox),
                })
            }
            (Some(url), Some(id), Some(token)) => {
                check_api_url(&url, Some(&token))
                    .map_err(|p| CliError::usage(format!("the API URL {p}")))?;
                let client = self
                    .tune(
                        Client::builder()
                            .api_url(url.as_str())
                            .id_instance(id)
                            .api_token(token.clone()),
                    )
                    .build()
                    .map_err(|e| hide_secrets(e.into(), &url, &token))?;
                Ok(Target {
                    client,
                    sandbox: None,
                })
            }
            (url, id, token) => {
                let mut missing = Vec::new();
                if url.is_none() {
                    missing.push(format!("--api-url / {ENV_API_URL}"));
                }
                if id.is_none() {
                    missing.push(format!("--id-instance / {ENV_ID_INSTANCE}"));
                }
                if token.is_none() {
                    missing.push(format!("--api-token / {ENV_TOKEN}"));
                }
                Err(CliError::usage(format!(
                    "incomplete credentials: missing {}",
                    missing.join(", ")
                )))
            }
        }
    }
}

/// Checks an API URL before it is used or printed. The problem returned never quotes the URL:
/// a URL may carry the token (`https://host/waInstance1101/getSettings/TOKEN`, a user name
/// and password), and the URL is printed in progress lines and written to fleet reports.
pub fn check_api_url(url: &str, token: Option<&ApiToken>) -> Result<(), String> {
    check_api_url_alone(url)?.check_token(token)
}

/// What [`check_api_url`] looks at to find a token in a URL that passed its other checks.
#[derive(Debug)]
pub struct CheckedUrl {
    /// The URL as written and percent-decoded, in lower case.
    forms: [String; 2],
    /// Its path, as written and percent-decoded, in lower case.
    paths: [String; 2],
}

/// The checks of [`check_api_url`] that do not involve the token, in the same order: for
/// checking many lines with the same URL (a fleet's instances file) once per URL.
pub fn check_api_url_alone(url: &str) -> Result<CheckedUrl, String> {
    const HIDDEN: &str = "(the value is not shown: it may contain a secret)";
    let url = url.trim();
    if url.is_empty() {
        return Err("is empty".into());
    }
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(format!("contains spaces or control characters {HIDDEN}"));
    }
    let lower = url.to_ascii_lowercase();
    let Some(rest) = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
    else {
        return Err(format!("must start with http:// or https:// {HIDDEN}"));
    };
    if rest.contains(['?', '#']) {
        return Err(format!("must not have a query or fragment {HIDDEN}"));
    }
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    if authority.contains('@') {
        return Err(format!("must not contain a user name or password {HIDDEN}"));
    }
    if authority.is_empty() || authority.starts_with(':') {
        return Err(format!("has no host {HIDDEN}"));
    }
    let decoded_path = percent_decode(path).to_lowercase();
    let prefix = greenapi_settings::INSTANCE_SEGMENT_PREFIX.to_lowercase();
    if decoded_path
        .split('/')
        .any(|seg| seg.starts_with(prefix.as_str()))
    {
        return Err(format!(
            "must be the API's base URL (like https://1101.api.greenapi.com), not the URL of a method {HIDDEN}"
        ));
    }
    Ok(CheckedUrl {
        // The URL as written and percent-decoded, in any case.
        forms: [lower.to_lowercase(), percent_decode(&lower).to_lowercase()],
        paths: [path.to_lowercase(), decoded_path],
    })
}

impl CheckedUrl {
    /// The last check of [`check_api_url`]: the token is not in the URL.
    pub fn check_token(&self, token: Option<&ApiToken>) -> Result<(), String> {
        const HIDDEN: &str = "(the value is not shown: it may contain a secret)";
        if let Some(t) = token.map(ApiToken::expose).filter(|t| !t.is_empty()) {
            let t = t.to_lowercase();
            // Short tokens (test tokens) are only looked for as whole path segments: as
            // substrings they would match ordinary host names.
            let in_path = self.paths.iter().any(|p| p.split('/').any(|seg| seg == t));
            if in_path || (t.chars().count() >= 8 && self.forms.iter().any(|f| f.contains(&t))) {
                return Err(format!(
                    "contains the API token; give the API's base URL (like https://1101.api.greenapi.com) {HIDDEN}"
                ));
            }
        }
        Ok(())
    }
}

/// `%XX` sequences decoded (invalid ones kept as they are), lossily as UTF-8.
fn percent_decode(s: &str) -> String {
    let hex = |c: u8| char::from(c).to_digit(16);
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if let (b'%', Some(&h), Some(&l)) = (b[i], b.get(i + 1), b.get(i + 2)) {
            if let (Some(h), Some(l)) = (hex(h), hex(l)) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A core error about this URL and token with both removed from its text (the core quotes a
/// URL it cannot parse).
pub fn hide_secrets(mut e: CliError, url: &str, token: &ApiToken) -> CliError {
    let quoted = format!("{:?}", url.trim().trim_end_matches('/'));
    let clean = |s: &str| {
        let s = s.replace(&quoted, "<api_url>");
        let s = if url.is_empty() {
            s
        } else {
            s.replace(url, "<api_url>")
        };
        token.scrub(&s)
    };
    e.message = clean(&e.message);
    e.details = e.details.iter().map(|d| clean(d)).collect();
    e
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn profiles_path() -> Option<PathBuf> {
    if let Some(p) = env(ENV_PROFILES) {
        return Some(PathBuf::from(p));
    }
    let base = env("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("greenapi-settings").join("profiles.toml"))
}

type Profile = (Option<String>, Option<u64>, Option<ApiToken>);

/// Reads `[profiles.<name>]` (`api_url`, `id_instance`, `api_token`). A named profile that is
/// missing is an error; the implicit `default` profile may be absent.
fn load_profile(name: Option<&str>) -> Result<Option<Profile>, CliError> {
    let Some(path) = profiles_path() else {
        return Ok(None);
    };
    let shown = path.display().to_string();
    if name.is_none() && !path.exists() {
        return Ok(None);
    }
    let text = read_capped(&path, SMALL_FILE_CAP).map_err(|mut e| {
        e.message = format!("profile file: {}", e.message);
        e
    })?;
    // The message says where, never what: the line may be the token's.
    let table =
        toml_table(&text).map_err(|e| CliError::usage(format!("{shown}: invalid TOML: {e}")))?;
    let wanted = name.unwrap_or("default");
    let profile = table.get("profiles").and_then(|p| p.get(wanted));
    let Some(profile) = profile else {
        return match name {
            Some(n) => Err(CliError::usage(format!(
                "{shown}: no profile [profiles.{n}]"
            ))),
            None => Ok(None),
        };
    };
    let v: Value = serde_json::to_value(profile).unwrap_or_default();
    let id = match v.get("id_instance") {
        None => None,
        Some(Value::Number(n)) => Some(n.as_u64().ok_or_else(|| {
            CliError::usage(format!(
                "{shown}: [profiles.{wanted}] id_instance must be a positive whole number"
            ))
        })?),
        Some(Value::String(s)) => Some(crate::numbers::id_instance(
            &format!("{shown}: [profiles.{wanted}] id_instance"),
            s,
        )?),
        Some(_) => {
            return Err(CliError::usage(format!(
                "{shown}: [profiles.{wanted}] id_instance must be a number"
            )))
        }
    };
    Ok(Some((
        v.get("api_url").and_then(Value::as_str).map(str::to_string),
        id,
        v.get("api_token")
            .and_then(Value::as_str)
            .map(ApiToken::new),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_urls_with_a_method_path_credentials_or_the_token_are_refused() {
        let t = ApiToken::new("SEKRIT<>{}É-0123456789");
        for bad in [
            "https://h.example/waInstance1/getSettings/x",
            "https://h.example/%57aInstance1",
            "https://h.example/p/sekrit%3C%3E%7B%7D%C3%A9-0123456789",
            "https://SEKRIT<>{}É-0123456789.h.example",
            "https://u:p@h.example",
            "https://h.example/?a=b",
            "h.example",
            "https://",
            "https://:80",
        ] {
            let p = check_api_url(bad, Some(&t)).unwrap_err();
            assert!(!p.to_lowercase().contains("sekrit"), "{p}");
        }
        assert!(check_api_url("https://1101.api.greenapi.com", Some(&t)).is_ok());
        assert!(
            check_api_url("http://127.0.0.1:8080/prefix/", Some(&ApiToken::new("abc"))).is_ok()
        );
        assert!(check_api_url("http://127.0.0.1:8080/ABC", Some(&ApiToken::new("abc"))).is_err());
    }

    #[test]
    fn core_errors_lose_the_url_and_token() {
        let url = "https://h.example/SEKRITTOKEN";
        let e = CliError::usage(format!("api_url {:?} is odd; SEKRITTOKEN", url));
        let e = hide_secrets(e, url, &ApiToken::new("SEKRITTOKEN"));
        assert!(!e.message.contains("SEKRIT"), "{}", e.message);
    }
}
