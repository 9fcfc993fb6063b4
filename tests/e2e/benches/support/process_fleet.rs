//! The fleet across processes: the sandbox binary in one process, the `greenapi-settings` CLI
//! binary (`apply FILE --instances CSV`) in another, each with its default pacing of 1 request/s per instance. Rows: wall time against the ideal, the
//! client process's CPU per request and peak RSS, the 429s the sandbox counted. The processes
//! themselves are started and measured by [`super::procs`].

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use greenapi_settings::facts;

use super::floor::FloorClient;
use super::options::Options;
use super::procs;
use super::samples::Samples;
use super::setup::{current_thread_runtime, FLEET_RUNS};
use super::table::{fmt_dur, Row};

/// The fleet across processes, the CLI binary against the sandbox binary: 2,000 instances at
/// concurrency 1,000; with `--fleet-large` also 20,000 at concurrency 2,000 (100 ms answers).
/// A row saying why when the binaries are not found. `false` if an instance failed.
pub fn rows(opts: &Options) -> (Vec<Row>, bool) {
    let (Some(cli), Some(sandbox_bin)) = (
        binary(&opts.cli_bin, "greenapi-settings"),
        binary(&opts.sandbox_bin, "greenapi-settings-sandbox"),
    ) else {
        let row = Row::not_measured(
            "fleet across processes (CLI binary | sandbox binary)",
            "build greenapi-settings and greenapi-settings-sandbox (release) or pass --cli-bin/--sandbox-bin",
        );
        return (vec![row], true);
    };
    // (instances, concurrency, latency, TLS on that many loopback hosts, HTTP/2 offered by
    // the sandbox and the client)
    let mut runs = vec![
        (2_000, 1_000, Duration::from_millis(20), None, false),
        (2_000, 1_000, Duration::from_millis(20), Some(20), false),
    ];
    if opts.fleet_large {
        runs.push((20_000, 2_000, Duration::from_millis(100), None, false));
        runs.push((20_000, 2_000, Duration::from_millis(100), Some(20), false));
        runs.push((20_000, 2_000, Duration::from_millis(100), Some(20), true));
    }
    let (mut rows, mut ok) = (Vec::new(), true);
    for (instances, concurrency, latency, tls_hosts, http2) in runs {
        let tls = tls_hosts.map(|hosts| (hosts, http2));
        match process_fleet(&sandbox_bin, &cli, instances, concurrency, latency, tls) {
            Ok((new_rows, complete)) => {
                rows.extend(new_rows);
                ok &= complete;
            }
            Err(e) => {
                ok = false;
                eprintln!("loopback: fleet across processes: {e}");
            }
        }
    }
    (rows, ok)
}

/// The binary `given`, or `name` next to this bench's directory (`target/release/`), if it
/// is a file.
pub fn binary(given: &Option<PathBuf>, name: &str) -> Option<PathBuf> {
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|p| Some(p.parent()?.parent()?.to_path_buf()));
    given
        .clone()
        .or_else(|| exe_dir.map(|d| d.join(name)))
        .filter(|p| p.is_file())
}

/// Apply, then apply again, on `instances` instances of the sandbox binary (`latency` on
/// every answer, its default rate limit of 1 request/s per instance) from a fleet client in
/// another process with its default pacing (1 request/s per instance), `concurrency` at once;
/// over TLS if `tls` (the instances spread over that many loopback addresses of one TLS
/// sandbox, its CA given with `--ca-cert`; HTTP/2 offered by both sides if asked). Rows: wall time against the ideal, the client
/// process's CPU per request and peak RSS, the connections (TLS handshakes) its pool opened
/// and the sandbox counted, 429s seen by the sandbox. `Ok(false)` if an instance failed.
fn process_fleet(
    sandbox_bin: &Path,
    cli: &Path,
    instances: usize,
    concurrency: usize,
    latency: Duration,
    tls: Option<(u8, bool)>,
) -> Result<(Vec<Row>, bool), String> {
    let tls_hosts = tls.map(|(hosts, _)| hosts);
    let http2 = tls.is_some_and(|(_, h2)| h2);
    let who = match tls {
        None => "CLI process".to_string(),
        Some((h, false)) => format!("CLI process over TLS, {h} hosts"),
        Some((h, true)) => format!("CLI process over TLS + HTTP/2 (--http2), {h} hosts"),
    };
    eprintln!(
        "loopback: fleet across processes ({who}): {instances} instances, concurrency {concurrency}, {} ms ...",
        latency.as_millis()
    );
    let setup =
        procs::FleetSetup::start_tls(sandbox_bin, instances, concurrency, latency, "bench", tls)?;
    let (sandbox, dir, csv) = (&setup.sandbox, &setup.dir, &setup.csv);
    let inspect = Inspect::new(&sandbox.url, setup.ca.as_deref())?;
    let desired = dir.join("desired.json");
    let report = dir.join("report.json");
    std::fs::write(&desired, facts::SET_SETTINGS_EXAMPLE_BODY).map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    let mut ok = true;
    for (label, requests, expected) in FLEET_RUNS {
        if requests == 1 {
            // A new process cannot know when the last one contacted each instance: like a
            // user, wait out the API's one-second window before running again.
            std::thread::sleep(Duration::from_millis(1100));
        }
        let mut cmd = Command::new(cli);
        cmd.arg("apply")
            .arg(&desired)
            .arg("--instances")
            .arg(csv)
            .args(["--concurrency", &concurrency.to_string()])
            .arg("--report")
            .arg(&report);
        if let Some(ca) = &setup.ca {
            cmd.arg("--ca-cert").arg(ca);
        }
        if http2 {
            cmd.arg("--http2");
        }
        let handshakes_before = inspect.handshakes();
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        let m = procs::run_measured(cmd, Duration::from_secs(600))?;
        let summary: serde_json::Value = std::fs::read_to_string(&report)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        let count = |k: &str| summary["summary"][k].as_u64().unwrap_or(0) as usize;
        let complete = m.status.is_some_and(|s| s.success())
            && count(expected) == instances
            && count("failed") == 0
            && summary["interrupted"] != serde_json::Value::Bool(true);
        if !complete {
            ok = false;
            eprintln!(
                "loopback: fleet {label} ({who}): exit {:?}, {} {expected}, {} failed of {instances}",
                m.status,
                count(expected),
                count("failed")
            );
        }
        let times: Vec<Duration> = summary["results"]
            .as_array()
            .map(|rs| {
                rs.iter()
                    .filter_map(|r| r["durationMs"].as_u64())
                    .map(Duration::from_millis)
                    .collect()
            })
            .unwrap_or_default();
        let samples = Samples {
            times,
            wall: m.wall,
            requests_per_sample: requests,
            split: None,
        };
        // Read first: this reading's own handshake is the one to take off.
        let handshakes_after = inspect.handshakes();
        let rate_limited = inspect.rate_limited();
        let opened = summary["summary"]["connectionsOpened"].as_u64();
        let handshakes = match (tls_hosts, handshakes_before, handshakes_after) {
            (Some(_), Some(before), Some(after)) => format!(
                "; {} TLS handshakes by the client's pool (the sandbox counted {}; target ≤ {concurrency}, the concurrency)",
                opened.map_or("?".into(), |n| n.to_string()),
                after.saturating_sub(before).saturating_sub(1)
            ),
            _ => format!(
                "; {} connections opened",
                opened.map_or("?".into(), |n| n.to_string())
            ),
        };
        // Each instance: its requests' latency, and the 1 s the pacing keeps between them.
        let req = requests as u32;
        let per_instance = latency * req + Duration::from_secs(1) * (req - 1);
        let waves = instances.div_ceil(concurrency.max(1)) as u32;
        let ideal = per_instance * waves;
        let total_requests = instances as f64 * requests as f64;
        let ratio = format!(
            "wall {} / ideal {} = {:.2} (target ≤ 1.15){}",
            fmt_dur(m.wall),
            fmt_dur(ideal),
            m.wall.as_secs_f64() / ideal.as_secs_f64(),
            if complete { "" } else { "; INCOMPLETE" }
        );
        rows.push(Row {
            rate: format!("{:.0}/s", total_requests / m.wall.as_secs_f64()),
            split: format!(
                "client process: {:.1} µs CPU per request (target ≤ {}), peak RSS {:.0} MB (target ≤ 150){handshakes}; sandbox: {}",
                m.cpu.as_secs_f64() * 1e6 / total_requests,
                if tls_hosts.is_some() { "60, handshakes included" } else { "40" },
                m.peak_rss.unwrap_or(0) as f64 / 1e6,
                match rate_limited {
                    Some(n) => format!("{n} × 429"),
                    None => "429s not read".into(),
                }
            ),
            ..Row::measured(
                format!(
                    "fleet {label}, {who}: {instances} instances × {requests} req, {} ms, concurrency {concurrency}, 1 req/s per instance",
                    latency.as_millis()
                ),
                &samples,
                ratio,
            )
        });
    }
    drop(setup);
    Ok((rows, ok))
}

/// The sandbox's inspection endpoints, over plain HTTP or TLS (trusting its CA).
struct Inspect {
    addr: std::net::SocketAddr,
    tls: Option<tokio_rustls::TlsConnector>,
}

impl Inspect {
    fn new(url: &str, ca: Option<&Path>) -> Result<Inspect, String> {
        let hostport = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("https://"))
            .ok_or_else(|| format!("sandbox URL {url}"))?;
        let addr = hostport
            .parse()
            .map_err(|e| format!("sandbox URL {url}: {e}"))?;
        let tls = match ca {
            Some(path) => {
                let pem = std::fs::read_to_string(path)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                Some(super::tls_floor::connector(&[&pem]))
            }
            None => None,
        };
        Ok(Inspect { addr, tls })
    }

    fn get(&self, path: &str) -> Option<serde_json::Value> {
        let rt = current_thread_runtime();
        let body = rt.block_on(async {
            let mut c = match &self.tls {
                Some(connector) => super::tls_floor::connect(connector, self.addr).await,
                None => FloorClient::connect(self.addr).await,
            };
            c.request(path, None).await
        });
        serde_json::from_slice(&body).ok()
    }

    /// 429 answers the sandbox gave so far.
    fn rate_limited(&self) -> Option<u64> {
        let all = self.get("/sandbox/instances")?;
        Some(
            all.as_array()?
                .iter()
                .filter_map(|s| s["rateLimited"].as_u64())
                .sum(),
        )
    }

    /// TLS handshakes the sandbox completed so far (the inspection's own included).
    fn handshakes(&self) -> Option<u64> {
        self.get("/sandbox/server")?["tlsHandshakes"].as_u64()
    }
}
