//! The processes of the fleet across processes ([`super::process_fleet`]): the sandbox binary
//! in one process, the fleet client (the `greenapi-settings` CLI) in another, so that the client's CPU time and peak memory are its own.
//! Every server listens on 127.0.0.1; every process is killed at its deadline.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::cpu;

/// The `greenapi-settings-sandbox` binary, running until dropped.
pub struct SandboxProc {
    child: Child,
    pub url: String,
}

impl SandboxProc {
    pub fn start(bin: &Path, args: &[String]) -> Result<Self, String> {
        let mut child = Command::new(bin)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("{}: {e}", bin.display()))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        reader
            .read_line(&mut line)
            .map_err(|e| format!("sandbox stdout: {e}"))?;
        // The sandbox prints more (its instance ids): keep its stdout open and drained.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .ok_or_else(|| format!("sandbox said {line:?}"))?
            .to_string();
        Ok(SandboxProc { child, url })
    }
}

impl Drop for SandboxProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The sandbox binary serving `instances` generated instances (`latency` on every answer,
/// room for `concurrency` clients' connections) and a scratch directory holding their
/// instances file, removed when dropped. Over TLS ([`FleetSetup::start_tls`]) the sandbox
/// serves HTTPS on 127.0.0.1..=127.0.0.N (one port), the instances are spread over those
/// hosts in turn, and `ca` is its throw-away CA's PEM file (for `--ca-cert`).
pub struct FleetSetup {
    pub sandbox: SandboxProc,
    pub dir: std::path::PathBuf,
    pub csv: std::path::PathBuf,
    pub ca: Option<std::path::PathBuf>,
}

impl FleetSetup {
    pub fn start(
        sandbox_bin: &Path,
        instances: usize,
        concurrency: usize,
        latency: Duration,
        name: &str,
    ) -> Result<FleetSetup, String> {
        FleetSetup::start_tls(sandbox_bin, instances, concurrency, latency, name, None)
    }

    /// [`FleetSetup::start`], over TLS if `tls` is `Some((hosts, http2))`: on that many
    /// loopback addresses, offering HTTP/2 too if `http2`.
    pub fn start_tls(
        sandbox_bin: &Path,
        instances: usize,
        concurrency: usize,
        latency: Duration,
        name: &str,
        tls: Option<(u8, bool)>,
    ) -> Result<FleetSetup, String> {
        let tls_hosts = tls.map(|(hosts, _)| hosts);
        let dir = std::env::temp_dir().join(format!("greenapi-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let ca = tls_hosts.map(|_| dir.join("ca.pem"));
        let mut args: Vec<String> = Vec::new();
        if let (Some((hosts, http2)), Some(ca)) = (tls, &ca) {
            args.extend([
                "--tls".into(),
                "--hosts".into(),
                hosts.to_string(),
                "--tls-ca-out".into(),
                ca.display().to_string(),
            ]);
            if http2 {
                args.push("--offer-http2".into());
            }
        }
        let sandbox = SandboxProc::start(
            sandbox_bin,
            &[
                args,
                vec![
                    "--instances".into(),
                    instances.to_string(),
                    "--latency-ms".into(),
                    latency.as_millis().to_string(),
                    // The client's pool may hold more connections than instances in flight (a
                    // request that finds none idle opens one while another is being given back);
                    // at the sandbox's cap, further connects would wait for an idle one to time
                    // out.
                    "--max-connections".into(),
                    (concurrency * 4).max(4_096).to_string(),
                ],
            ]
            .concat(),
        )?;
        // With --hosts N the sandbox listens on 127.0.0.1..=127.0.0.N, one port.
        let urls: Vec<String> = match tls_hosts {
            Some(hosts) => {
                let port = sandbox
                    .url
                    .rsplit(':')
                    .next()
                    .unwrap_or_default()
                    .to_string();
                (1..=hosts)
                    .map(|h| format!("https://127.0.0.{h}:{port}"))
                    .collect()
            }
            None => vec![sandbox.url.clone()],
        };
        let csv = dir.join("fleet.csv");
        let mut text = String::with_capacity(instances * 64);
        for (i, id) in super::setup::generated_ids(instances as u64).enumerate() {
            text.push_str(&format!(
                "{id},{},{}\n",
                greenapi_settings_sandbox::generated_token(id),
                urls[i % urls.len()]
            ));
        }
        std::fs::write(&csv, text).map_err(|e| e.to_string())?;
        Ok(FleetSetup {
            sandbox,
            dir,
            csv,
            ca,
        })
    }
}

impl Drop for FleetSetup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What one measured process did.
pub struct Measured {
    pub wall: Duration,
    /// User + system CPU time of the process (and of any children it waited for).
    pub cpu: Duration,
    /// Peak resident memory, polled every 10 ms (`VmHWM` is itself a high-water mark, so
    /// the last reading before exit is the peak).
    pub peak_rss: Option<u64>,
    pub status: Option<ExitStatus>,
}

/// Runs `cmd` to its end (killed at `deadline`), measuring wall time, CPU time and peak RSS.
pub fn run_measured(mut cmd: Command, deadline: Duration) -> Result<Measured, String> {
    let cpu_before = cpu::children_cpu_secs();
    let started = Instant::now();
    let mut child = cmd.spawn().map_err(|e| format!("spawn: {e}"))?;
    let pid = child.id();
    let mut peak = None;
    let status = loop {
        if let Some(rss) = cpu::peak_rss(pid) {
            peak = Some(rss);
        }
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(format!("wait: {e}")),
        }
    };
    let wall = started.elapsed();
    let cpu = Duration::from_secs_f64((cpu::children_cpu_secs() - cpu_before).max(0.0));
    Ok(Measured {
        wall,
        cpu,
        peak_rss: peak,
        status,
    })
}
