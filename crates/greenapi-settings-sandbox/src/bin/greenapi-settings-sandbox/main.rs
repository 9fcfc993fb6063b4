//! `greenapi-settings-sandbox`: runs the sandbox server until Ctrl-C (or SIGTERM).
//!
//! Prints `listening on http://127.0.0.1:PORT` and the instance ids (never tokens). Bad
//! arguments: the error and the usage on stderr, exit code 2 (the same rules and messages
//! as `greenapi-settings sandbox`, from [`greenapi_settings_sandbox::options`]); a server
//! that cannot start: exit code 1.

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
