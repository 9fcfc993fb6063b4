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
        if let Some(t) = self.timeout {
            b = b.timeout(Duration::from_secs_f64(t.max(0.001)));
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
                id = Some(v.trim().parse().map_err(|_| {
                    CliError::usage(format!("{ENV_ID_INSTANCE} must be a number, found {v:?}"))
                })?);
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
                let client = self
                    .tune(
                        Client::builder()
                            .api_url(url)
                            .id_instance(id)
                            .api_token(token),
                    )
                    .build()?;
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
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(_) if name.is_none() => return Ok(None),
        Err(e) => {
            return Err(CliError::usage(format!(
                "cannot read the profile file {shown}: {e}"
            )))
        }
    };
    let table: toml::Table = toml::from_str(&text)
        .map_err(|e| CliError::usage(format!("{shown}: invalid TOML: {}", e.to_string().trim())))?;
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
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        Some(_) => None,
    };
    Ok(Some((
        v.get("api_url").and_then(Value::as_str).map(str::to_string),
        id,
        v.get("api_token")
            .and_then(Value::as_str)
            .map(ApiToken::new),
    )))
}
