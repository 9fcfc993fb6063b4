//! Exit codes and the one-line error the CLI prints.

use std::fmt;
use std::process::ExitCode;

/// The documented exit codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Everything worked.
    Ok = 0,
    /// The API or the network failed (for a fleet: at least one instance failed).
    Failed = 1,
    /// Invalid input or usage: bad flags, unreadable or invalid settings file. Nothing was sent.
    Usage = 2,
    /// Interrupted (Ctrl-C, 128 + SIGINT): a fleet run stopped early; its report lists the
    /// instances not started, and `--resume` carries on.
    Interrupted = 130,
    /// Stopped by SIGTERM (128 + 15), like [`Exit::Interrupted`]: report written, `--resume`
    /// carries on.
    Terminated = 143,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e as u8)
    }
}

/// A failure of a command: what to print, and with which exit code.
#[derive(Debug)]
pub struct CliError {
    /// The exit code.
    pub exit: Exit,
    /// One line saying what went wrong.
    pub message: String,
    /// More lines: every violation, or details shown with `--verbose`.
    pub details: Vec<String>,
    /// Whether `details` are shown without `--verbose` (e.g. every validation problem).
    pub always_show_details: bool,
    /// What to do about it, shown always (not only with `--verbose`): a hint is for the
    /// person who has to fix the failure, who may not know about `--verbose`.
    pub hint: Option<String>,
}

impl CliError {
    /// Invalid input or usage (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        CliError {
            exit: Exit::Usage,
            message: message.into(),
            details: Vec::new(),
            always_show_details: false,
            hint: None,
        }
    }

    /// A failure talking to the API (exit 1).
    pub fn failed(message: impl Into<String>) -> Self {
        CliError {
            exit: Exit::Failed,
            message: message.into(),
            details: Vec::new(),
            always_show_details: false,
            hint: None,
        }
    }

    /// Adds lines shown always (every problem of invalid input).
    pub fn with_problems(mut self, lines: Vec<String>) -> Self {
        self.details = lines;
        self.always_show_details = true;
        self
    }

    /// Adds a hint, shown with the message.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Adds lines shown with `--verbose`.
    pub fn with_details(mut self, lines: Vec<String>) -> Self {
        self.details = lines;
        self
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<greenapi_settings::ValidationError> for CliError {
    fn from(e: greenapi_settings::ValidationError) -> Self {
        greenapi_settings::Error::Validation(e).into()
    }
}

/// What to do about a TLS failure, by its cause.
fn tls_hint(cause: &greenapi_settings::TlsCause) -> &'static str {
    use greenapi_settings::TlsCause as C;
    match cause {
        C::NotTrusted => "pass --ca-cert FILE (or GREEN_API_CA_CERT) with the CA that signed the server's certificate (behind a TLS-inspecting proxy: that proxy's CA); certificate checks cannot be turned off",
        C::Expired | C::NotYetValid => "the server's certificate is outside its validity period: it must be renewed, or this machine's clock is wrong; --ca-cert cannot help",
        C::WrongName => "the certificate names another host: check the API URL's host name",
        C::NotTls => "that port answers plain HTTP: check the API URL's scheme and port",
        C::HandshakeTimeout { .. } => "the server accepted the connection but never completed TLS: check the port, or a proxy or firewall in between",
        _ => "check the API URL, and --ca-cert if the server uses a private CA",
    }
}

impl From<greenapi_settings::Error> for CliError {
    fn from(e: greenapi_settings::Error) -> Self {
        use greenapi_settings::Error as E;
        match e {
            E::Validation(v) => CliError::usage(format!(
                "invalid settings ({} problem{}); nothing was sent",
                v.violations.len(),
                if v.violations.len() == 1 { "" } else { "s" }
            ))
            .with_problems(
                v.violations
                    .iter()
                    .map(|v| crate::terminal::text(&v.to_string()).into_owned())
                    .collect(),
            ),
            E::Config(m) => CliError::usage(format!("invalid configuration: {m}")),
            other => {
                let hint = match &other {
                    E::Auth => Some("check the API token (GREEN_API_TOKEN or --api-token)"),
                    E::Forbidden => Some("check the instance id and the API URL"),
                    E::RateLimited { .. } => {
                        Some("the API allows 1 request per second per instance; try again shortly")
                    }
                    E::QuotaExceeded { .. } => Some("the plan's quota is used up"),
                    E::Timeout { .. } => Some("raise --timeout or try again"),
                    E::Tls { cause, .. } => Some(tls_hint(cause)),
                    E::Transport(m) if m.contains("proxy authorization required") => Some(
                        "the proxy wants credentials: give them in its URL (--proxy http://USER:PASSWORD@HOST:PORT, or HTTPS_PROXY); they are never shown",
                    ),
                    _ => None,
                };
                // The server's text, escaped whole: a line break in it cannot fake a line.
                let mut err =
                    CliError::failed(crate::terminal::text(&other.to_string()).into_owned());
                err.hint = hint.map(str::to_string);
                err.details.push(format!("kind: {}", other.kind()));
                if let E::Tls { cause, .. } = &other {
                    err.details.push(format!("cause: {}", cause.name()));
                }
                err
            }
        }
    }
}
