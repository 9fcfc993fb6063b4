//! Where the CLI sends requests: the flags, else the environment, else a profile file, each as
//! a whole (never mixed field by field), and with no credentials at all an embedded sandbox
//! started in this process (for commands that change settings, only with `--sandbox`).

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

pub use greenapi_settings::ENV_CA_CERT;

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
    /// `--sandbox`: target an embedded sandbox on purpose (needed by commands that change
    /// settings, which otherwise refuse to run without credentials).
    pub sandbox: bool,
    /// `--ca-cert FILE` / `GREEN_API_CA_CERT`: extra trusted roots (PEM).
    pub ca_cert: Option<PathBuf>,
    /// `--proxy URL` (its credentials never printed).
    pub proxy: Option<String>,
    /// `--allow-insecure-proxy`: a plain-HTTP API URL may go through a proxy.
    pub allow_insecure_proxy: bool,
    /// `--http2`: offer HTTP/2 to `https://` API hosts.
    pub http2: bool,
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

    /// Applies the network options (extra roots, proxy, plain HTTP through a proxy) to the
    /// builder of a client that makes its own connection pool: a single instance's, or a
    /// fleet's shared pool. The clients that share that pool get them with it, so a CA file
    /// is read once per run, not once per instance.
    pub fn network(&self, mut b: ClientBuilder) -> Result<ClientBuilder, greenapi_settings::Error> {
        if let Some(path) = &self.ca_cert {
            b = b.ca_cert_file(path)?;
        }
        if let Some(proxy) = &self.proxy {
            b = b.proxy(proxy)?;
        }
        Ok(b.allow_insecure_proxy(self.allow_insecure_proxy)
            .http2(self.http2))
    }

    /// Resolves credentials for a command that only reads: with none at all, starts the
    /// embedded sandbox and says so on stderr.
    pub async fn resolve(&self) -> Result<Target, CliError> {
        self.resolve_for(Purpose::Read).await
    }

    /// Resolves credentials from one source as a whole: the flags (`--api-url`,
    /// `--id-instance`, `--api-token`, or `--profile NAME`), else the `GREEN_API_*`
    /// environment, else the `default` profile. A source that gives some fields but not all is
    /// an error naming the sources (never the values): the other fields are not taken from a
    /// lower source, so a token never goes to a URL from somewhere else. With no credentials at
    /// all, a command that only reads starts the embedded sandbox; one that changes settings
    /// refuses (exit 2) unless `--sandbox` asked for the embedded sandbox on purpose.
    pub async fn resolve_for(&self, purpose: Purpose) -> Result<Target, CliError> {
        let source = self.choose_source(purpose)?;
        let Some((url, id, token)) = source else {
            return self.embedded().await;
        };
        check_api_url(&url, Some(&token))
            .map_err(|p| CliError::usage(format!("the API URL {p}")))?;
        let client = self
            .network(
                self.tune(
                    Client::builder()
                        .api_url(url.as_str())
                        .id_instance(id)
                        .api_token(token.clone()),
                ),
            )
            .and_then(ClientBuilder::build)
            .map_err(|e| hide_secrets(e.into(), &url, &token))?;
        Ok(Target {
            client,
            sandbox: None,
        })
    }

    /// Refuses connection options that a fleet run (`--instances`) does not use: each line of
    /// the instances file names its instance, token and URL.
    pub fn refuse_in_fleet(&self) -> Result<(), CliError> {
        let mut given = Partial {
            url: self.api_url.clone(),
            id: self.id_instance,
            token: self.api_token.clone(),
        }
        .names(FLAG_NAMES);
        if self.profile.is_some() {
            given.push("--profile".into());
        }
        if self.sandbox {
            given.push("--sandbox".into());
        }
        if given.is_empty() {
            return Ok(());
        }
        Err(CliError::usage(format!(
            "{} cannot be used with --instances: each line of the instances file gives its instance's id, token and api_url",
            given.join(", ")
        )))
    }

    /// The one source the credentials come from (`None`: the embedded sandbox).
    fn choose_source(&self, purpose: Purpose) -> Result<Option<Complete>, CliError> {
        let flags = Partial {
            url: self.api_url.clone(),
            id: self.id_instance,
            token: self.api_token.clone(),
        };
        let from_env = Partial::from_env()?;
        let empty_env: Vec<&str> = [ENV_API_URL, ENV_ID_INSTANCE, ENV_TOKEN]
            .into_iter()
            .filter(|n| std::env::var_os(n).is_some() && env(n).is_none())
            .collect();
        if self.sandbox {
            let mut given = flags.names(FLAG_NAMES);
            if self.profile.is_some() {
                given.push("--profile".into());
            }
            if !given.is_empty() {
                return Err(CliError::usage(format!(
                    "--sandbox targets an embedded sandbox; it cannot be combined with {}",
                    given.join(", ")
                )));
            }
            return Ok(None);
        }
        if !flags.is_empty() {
            if let Some(name) = &self.profile {
                return Err(CliError::usage(format!(
                    "credentials come from one source: --profile {name} cannot be combined with {}",
                    flags.names(FLAG_NAMES).join(", ")
                )));
            }
            return flags.complete("the command line", FLAG_NAMES, &from_env, "the environment");
        }
        if let Some(name) = &self.profile {
            let p = load_profile(Some(name))?.unwrap_or_default();
            let shown = format!("profile {name}");
            return p.complete(&shown, PROFILE_NAMES, &from_env, "the environment");
        }
        if !from_env.is_empty() {
            return from_env.complete("the environment", ENV_NAMES, &Partial::default(), "");
        }
        if let Some(p) = load_profile(None)? {
            if !p.is_empty() {
                return p.complete("profile default", PROFILE_NAMES, &Partial::default(), "");
            }
        }
        if purpose == Purpose::Change {
            let mut msg = format!(
                "no credentials given, and this command changes settings: give {ENV_API_URL}, \
                 {ENV_ID_INSTANCE} and {ENV_TOKEN} (or --profile NAME, or --api-url, \
                 --id-instance and --api-token), or --sandbox to target an embedded sandbox on purpose"
            );
            if !empty_env.is_empty() {
                msg.push_str(&format!(" ({} set but empty)", empty_env.join(", ")));
            }
            return Err(CliError::usage(msg));
        }
        if !empty_env.is_empty() {
            crate::note!(
                "note: {} set but empty; treated as not given",
                empty_env.join(", ")
            );
        }
        Ok(None)
    }

    /// Starts the embedded sandbox and a client of its default instance, saying so on stderr.
    async fn embedded(&self) -> Result<Target, CliError> {
        let sandbox = Sandbox::start(SandboxConfig::default())
            .await
            .map_err(|e| CliError::failed(format!("cannot start the embedded sandbox: {e}")))?;
        crate::note!(
            "note: {}; using an embedded sandbox at {} (instance {DEFAULT_INSTANCE_ID}). \
             Set {ENV_API_URL}, {ENV_ID_INSTANCE} and {ENV_TOKEN} (or --profile) for a real instance.",
            if self.sandbox {
                "--sandbox given"
            } else {
                "no credentials given"
            },
            sandbox.url()
        );
        // The network options apply here too (ignoring them silently would hide a typo in a
        // job's CA path): a bad CA file is refused, and the plain-HTTP sandbox through a proxy
        // is refused as any plain-HTTP API URL is.
        let client = self
            .network(
                self.tune(
                    Client::builder()
                        .api_url(sandbox.url())
                        .id_instance(DEFAULT_INSTANCE_ID)
                        .api_token(DEFAULT_TOKEN),
                ),
            )
            .and_then(ClientBuilder::build)?;
        Ok(Target {
            client,
            sandbox: Some(sandbox),
        })
    }
}

/// What a command does with the instance, which decides what happens without credentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Only reads (`get`, `plan`, `export`, `spec-check`): no credentials means the embedded
    /// sandbox, with a note.
    Read,
    /// Changes settings (`set`, `apply`): no credentials is an error unless `--sandbox`.
    Change,
}

/// URL, id and token, all given.
type Complete = (String, u64, ApiToken);

/// Credentials from one source, each field perhaps missing.
#[derive(Clone, Debug, Default)]
struct Partial {
    url: Option<String>,
    id: Option<u64>,
    token: Option<ApiToken>,
}

const FLAG_NAMES: [&str; 3] = ["--api-url", "--id-instance", "--api-token"];
const ENV_NAMES: [&str; 3] = [ENV_API_URL, ENV_ID_INSTANCE, ENV_TOKEN];
const PROFILE_NAMES: [&str; 3] = ["api_url", "id_instance", "api_token"];

impl Partial {
    fn from_env() -> Result<Partial, CliError> {
        Ok(Partial {
            url: env(ENV_API_URL),
            id: env(ENV_ID_INSTANCE)
                .map(|v| crate::numbers::id_instance(ENV_ID_INSTANCE, &v))
                .transpose()?,
            token: env(ENV_TOKEN).map(ApiToken::new),
        })
    }

    fn is_empty(&self) -> bool {
        self.url.is_none() && self.id.is_none() && self.token.is_none()
    }

    fn given(&self) -> [bool; 3] {
        [self.url.is_some(), self.id.is_some(), self.token.is_some()]
    }

    /// The names (in `names`' spelling) of the fields this source gives.
    fn names(&self, names: [&str; 3]) -> Vec<String> {
        self.given()
            .iter()
            .zip(names)
            .filter(|(g, _)| **g)
            .map(|(_, n)| n.to_string())
            .collect()
    }

    /// All three fields, or an error naming what `source` lacks (and, when `lower` would have
    /// given them, that it is not used for them).
    fn complete(
        self,
        source: &str,
        names: [&str; 3],
        lower: &Partial,
        lower_name: &str,
    ) -> Result<Option<Complete>, CliError> {
        match self {
            Partial {
                url: Some(u),
                id: Some(i),
                token: Some(t),
            } => Ok(Some((u, i, t))),
            p => {
                let missing: Vec<&str> = p
                    .given()
                    .iter()
                    .zip(names)
                    .filter(|(g, _)| !**g)
                    .map(|(_, n)| n)
                    .collect();
                let gives = p.names(names);
                let gives = if gives.is_empty() {
                    format!("{source} gives none of {}", missing.join(", "))
                } else {
                    format!(
                        "{source} gives {} but not {}",
                        gives.join(", "),
                        missing.join(", ")
                    )
                };
                let mut msg = format!(
                    "incomplete credentials: {gives}; credentials come from one source as a whole \
                     (flags, else {ENV_API_URL}/{ENV_ID_INSTANCE}/{ENV_TOKEN}, else the profile), \
                     so give all three there"
                );
                let from_lower = lower.names(ENV_NAMES);
                if !from_lower.is_empty() {
                    msg.push_str(&format!(
                        " ({} from {lower_name} not combined with it)",
                        from_lower.join(", ")
                    ));
                }
                Err(CliError::usage(msg))
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
    e.hint = e.hint.as_deref().map(clean);
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

/// Reads `[profiles.<name>]` (`api_url`, `id_instance`, `api_token`). A named profile that is
/// missing is an error; the implicit `default` profile may be absent.
fn load_profile(name: Option<&str>) -> Result<Option<Partial>, CliError> {
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
    Ok(Some(Partial {
        url: v.get("api_url").and_then(Value::as_str).map(str::to_string),
        id,
        token: v
            .get("api_token")
            .and_then(Value::as_str)
            .map(ApiToken::new),
    }))
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
        assert!(check_api_url(
            "http://127.0.0.1:8080/prefix/",
            Some(&ApiToken::new("abc-4f1c"))
        )
        .is_ok());
        assert!(check_api_url(
            "http://127.0.0.1:8080/ABC-4F1C",
            Some(&ApiToken::new("abc-4f1c"))
        )
        .is_err());
    }

    #[test]
    fn core_errors_lose_the_url_and_token() {
        let url = "https://h.example/SEKRITTOKEN";
        let e = CliError::usage(format!("api_url {:?} is odd; SEKRITTOKEN", url));
        let e = hide_secrets(e, url, &ApiToken::new("SEKRITTOKEN"));
        assert!(!e.message.contains("SEKRIT"), "{}", e.message);
    }
}
