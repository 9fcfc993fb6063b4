//! `greenapi-settings-sandbox`: runs the sandbox server until Ctrl-C (or SIGTERM).
//!
//! Prints `listening on http://127.0.0.1:PORT` (`https://` with `--tls`) and the instance
//! ids (never tokens); with TLS, a third line names the CA's PEM file (`CA certificate:
//! PATH`) and with `--hosts N` a line lists the other URLs. Bad arguments: the error and the
//! usage on stderr, exit code 2 (the same rules and messages as `greenapi-settings sandbox`,
//! from [`greenapi_settings_sandbox::options`]); so are `--tls-cert`/`--tls-key` files that
//! cannot be read or used (known only at start); a server that cannot start: exit code 1.

use std::io::Write;
use std::process::ExitCode;

use greenapi_settings_sandbox::{options, Sandbox, SandboxConfig};

fn main() -> ExitCode {
    let config = match options::command("greenapi-settings-sandbox").try_get_matches() {
        Ok(matches) => options::config(&matches),
        // `--help` and `--version` (exit 0) or a usage error (exit 2).
        Err(e) => e.exit(),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("greenapi-settings-sandbox: cannot start a runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(config)) {
        Ok(()) => ExitCode::SUCCESS,
        // A configuration only judged at start (TLS files, a too-short token): a usage error.
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            eprintln!("greenapi-settings-sandbox: {e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("greenapi-settings-sandbox: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: SandboxConfig) -> std::io::Result<()> {
    // Handlers go in before the "listening" line: whoever reads that line may signal at once.
    let stop = StopSignal::install()?;
    let sandbox = Sandbox::start(config).await?;
    let ids = sandbox.instance_ids();
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on {}", sandbox.url())?;
    writeln!(out, "instances: {}", describe_ids(&ids))?;
    if let Some(path) = sandbox.ca_path() {
        writeln!(out, "CA certificate: {}", path.display())?;
    }
    if let [_, more @ ..] = sandbox.urls().as_slice() {
        if !more.is_empty() {
            writeln!(out, "also listening on {}", more.join(", "))?;
        }
    }
    out.flush()?;
    drop(out);
    stop.wait().await;
    sandbox.shutdown().await
}

/// All ids for a few instances; the range and count for a fleet.
fn describe_ids(ids: &[u64]) -> String {
    match ids {
        [first, .., last] if ids.len() > 10 => {
            format!("{first}..={last} ({} instances)", ids.len())
        }
        _ => ids
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// Ctrl-C, or SIGTERM on Unix (what process managers and test harnesses send).
#[cfg(unix)]
struct StopSignal {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl StopSignal {
    fn install() -> std::io::Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(StopSignal {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    async fn wait(mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}

/// Ctrl-C elsewhere.
#[cfg(not(unix))]
struct StopSignal;

#[cfg(not(unix))]
impl StopSignal {
    fn install() -> std::io::Result<Self> {
        Ok(StopSignal)
    }

    async fn wait(self) {
        let _ = tokio::signal::ctrl_c().await;
    }
}
