//! `sandbox`: the local sandbox server in the foreground until Ctrl-C, with the same options
//! as the `greenapi-settings-sandbox` binary.

use clap::ArgMatches;
use greenapi_settings_sandbox::{options as sandbox_options, Sandbox};

use crate::exit::{CliError, Exit};

/// Runs `sandbox`.
pub(crate) async fn run(m: &ArgMatches) -> Result<Exit, CliError> {
    // Every option was checked while parsing (bad ones exit 2 there).
    let config = sandbox_options::config(m);
    let ids = config.instance_ids();
    let handle = Sandbox::start(config).await.map_err(|e| {
        let message = format!(
            "cannot start the sandbox: {}",
            crate::terminal::text(&e.to_string())
        );
        // Settings judged only at start (TLS files that cannot be read or used, a
        // too-short token) are the caller's input, like any bad option.
        if e.kind() == std::io::ErrorKind::InvalidInput {
            CliError::usage(message)
        } else {
            CliError::failed(message)
        }
    })?;
    crate::outln!("listening on {}", handle.url());
    if let [_, more @ ..] = handle.urls().as_slice() {
        if !more.is_empty() {
            crate::outln!("also listening on {}", more.join(", "));
        }
    }
    if let Some(path) = handle.ca_path() {
        let path = path.display().to_string();
        crate::outln!(
            "CA certificate: {} (trust it in the client, e.g. curl --cacert FILE)",
            crate::terminal::text(&path)
        );
    }
    let shown: Vec<String> = ids.iter().take(5).map(u64::to_string).collect();
    let more = if ids.len() > 5 {
        format!(" and {} more", ids.len() - 5)
    } else {
        String::new()
    };
    crate::outln!(
        "instances: {}{more} (tokens are not printed; see --help)",
        shown.join(", ")
    );
    crate::outln!("press Ctrl-C to stop");
    if handle.is_tls() {
        // `sandbox trigger` only talks to a plain-HTTP sandbox (it trusts no extra CA).
        crate::outln!(
            "notifications: POST {}/sandbox/instances/ID/notify (see --help)",
            handle.url()
        );
    } else {
        crate::outln!(
            "notifications: greenapi-settings sandbox trigger TYPE --instance ID --url {}",
            handle.url()
        );
    }
    let _ = tokio::signal::ctrl_c().await;
    handle
        .shutdown()
        .await
        .map_err(|e| CliError::failed(format!("shutdown: {e}")))?;
    Ok(Exit::Ok)
}
