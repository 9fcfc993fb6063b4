//! `watch` across processes (issue 20): the sandbox binary in one process, the
//! `greenapi-settings watch` CLI binary in another. Rows: one cycle's wall time against its
//! ideal (`--once`, every read at once within the concurrency), the client's CPU per
//! instance-cycle and peak RSS; then a loop of [`LOOP_CYCLES`] cycles recording into a history:
//! RSS at every cycle (flat within ±10% once warm?), CPU per instance-cycle, and the history's
//! size per 1,000 drift events. Everything on 127.0.0.1; every process killed at its deadline.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::cpu;
use super::options::Options;
use super::procs;
use super::samples::Samples;
use super::table::{fmt_dur, Row};

/// Cycles of the loop run.
pub const LOOP_CYCLES: usize = 50;

/// Cycles left out of the RSS comparison while the process warms up (pools, allocator).
const WARM_CYCLES: usize = 5;

/// With `--watch`: 10,000 instances at 100 ms, concurrency 1,000 (`--quick`: 2,000 at 20 ms,
/// concurrency 500). A row saying why when the binaries are not found. `false` if a run
/// failed.
pub fn rows(opts: &Options) -> (Vec<Row>, bool) {
    if !opts.watch {
        return (Vec::new(), true);
    }
    let (Some(cli), Some(sandbox_bin)) = (
        super::process_fleet::binary(&opts.cli_bin, "greenapi-settings"),
        super::process_fleet::binary(&opts.sandbox_bin, "greenapi-settings-sandbox"),
    ) else {
        let row = Row::not_measured(
            "watch across processes (CLI binary | sandbox binary)",
            "build greenapi-settings and greenapi-settings-sandbox (release) or pass --cli-bin/--sandbox-bin",
        );
        return (vec![row], true);
    };
    let (instances, concurrency, latency) = if opts.quick {
        (2_000, 500, Duration::from_millis(20))
    } else {
        (10_000, 1_000, Duration::from_millis(100))
    };
    match run(&sandbox_bin, &cli, instances, concurrency, latency) {
        Ok(rows) => (rows, true),
        Err(e) => {
            eprintln!("loopback: watch across processes: {e}");
            (vec![Row::not_measured("watch across processes", &e)], false)
        }
    }
}

fn run(
    sandbox_bin: &Path,
    cli: &Path,
    instances: usize,
    concurrency: usize,
    latency: Duration,
) -> Result<Vec<Row>, String> {
    eprintln!(
        "loopback: watch across processes: {instances} instances, concurrency {concurrency}, {} ms ...",
        latency.as_millis()
    );
    let setup = procs::FleetSetup::start(sandbox_bin, instances, concurrency, latency, "watch")?;
    let (dir, csv) = (&setup.dir, &setup.csv);
    // One setting that every fresh instance has otherwise: one drift event per instance.
    let desired = dir.join("desired.toml");
    let history = dir.join("history.sqlite3");
    std::fs::write(&desired, "incomingWebhook = \"yes\"\n").map_err(|e| e.to_string())?;
    let waves = instances.div_ceil(concurrency) as u32;
    let ideal = latency * waves;
    let conc = concurrency.to_string();
    let common = |cmd: &mut Command| {
        cmd.arg("watch")
            .arg(&desired)
            .arg("--instances")
            .arg(csv)
            .args(["--concurrency", &conc, "--spread", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null());
    };

    // One cycle (`--once`): report-only, every instance drifted, exit 2.
    let mut cmd = Command::new(cli);
    common(&mut cmd);
    cmd.args(["--once", "--no-history"]).stderr(Stdio::null());
    let m = procs::run_measured(cmd, Duration::from_secs(600))?;
    let complete = m.status.and_then(|s| s.code()) == Some(2);
    let mut rows = vec![Row {
        rate: format!("{:.0}/s", instances as f64 / m.wall.as_secs_f64()),
        split: format!(
            "client process (start, files, {instances} clients, one cycle): {:.1} µs CPU per instance, peak RSS {:.0} MB",
            m.cpu.as_secs_f64() * 1e6 / instances as f64,
            m.peak_rss.unwrap_or(0) as f64 / 1e6
        ),
        ..Row::measured(
            format!(
                "watch --once, CLI process: {instances} instances, {} ms, concurrency {concurrency}",
                latency.as_millis()
            ),
            &Samples {
                times: Vec::new(),
                wall: m.wall,
                requests_per_sample: 1,
                split: None,
            },
            format!(
                "wall {} / ideal {} = {:.2} (process start included){}",
                fmt_dur(m.wall),
                fmt_dur(ideal),
                m.wall.as_secs_f64() / ideal.as_secs_f64(),
                if complete { "" } else { "; exit was not 2 (drift)" }
            ),
        )
    }];

    // The loop: LOOP_CYCLES cycles every second, recording into a history.
    std::thread::sleep(Duration::from_millis(1100));
    let cpu_before = cpu::children_cpu_secs();
    let mut cmd = Command::new(cli);
    common(&mut cmd);
    cmd.args(["--every", "1s", "--log-format", "json", "--history"])
        .arg(&history)
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = cmd.spawn().map_err(|e| format!("spawn: {e}"))?;
    let pid = child.id();
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let mut cycles: Vec<(f64, u64)> = Vec::new(); // (took seconds, RSS bytes) per cycle
    let mut peak: Option<u64> = None;
    let deadline = Duration::from_secs(60 + 4 * LOOP_CYCLES as u64);
    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if v["event"] == "cycle" {
            let took = v["took_seconds"].as_f64().unwrap_or(0.0);
            cycles.push((took, rss(pid).unwrap_or(0)));
            // A high-water mark: the last reading is the peak so far.
            peak = cpu::peak_rss(pid).or(peak);
            if cycles.len() == LOOP_CYCLES {
                let _ = Command::new("kill")
                    .args(["-TERM", &pid.to_string()])
                    .status();
            }
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            break;
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    let cpu = cpu::children_cpu_secs() - cpu_before;
    let db_bytes: u64 = ["", "-wal"]
        .iter()
        .filter_map(|s| std::fs::metadata(format!("{}{s}", history.display())).ok())
        .map(|m| m.len())
        .sum();
    drop(setup);
    if cycles.len() < LOOP_CYCLES {
        return Err(format!(
            "the loop logged {} of {LOOP_CYCLES} cycles (exit {status:?})",
            cycles.len()
        ));
    }
    let mut took: Vec<f64> = cycles.iter().map(|c| c.0).collect();
    took.sort_by(f64::total_cmp);
    let median = took[took.len() / 2];
    let warm: Vec<u64> = cycles[WARM_CYCLES..].iter().map(|c| c.1).collect();
    let (lo, hi) = (
        *warm.iter().min().unwrap_or(&0) as f64,
        *warm.iter().max().unwrap_or(&0) as f64,
    );
    let mid = (lo + hi) / 2.0;
    let spread = if mid > 0.0 {
        (hi - lo) / 2.0 / mid
    } else {
        0.0
    };
    rows.push(Row {
        rate: format!("{:.0}/s", instances as f64 / median),
        split: format!(
            "{:.1} µs CPU per instance-cycle over {} cycles; RSS cycles {}–{}: {:.0}–{:.0} MB (±{:.1}%, target ±10%), peak {:.0} MB; history {:.0} KB for {instances} drift events = {:.0} KB per 1,000",
            cpu * 1e6 / (instances * cycles.len()) as f64,
            cycles.len(),
            WARM_CYCLES + 1,
            cycles.len(),
            lo / 1e6,
            hi / 1e6,
            spread * 100.0,
            peak.unwrap_or(0) as f64 / 1e6,
            db_bytes as f64 / 1e3,
            db_bytes as f64 / instances as f64,
        ),
        ..Row::measured(
            format!(
                "watch loop, CLI process: {instances} instances × {} cycles every 1 s, {} ms, concurrency {concurrency}, history",
                cycles.len(),
                latency.as_millis()
            ),
            &Samples {
                times: cycles
                    .iter()
                    .map(|c| Duration::from_secs_f64(c.0))
                    .collect(),
                wall: started.elapsed(),
                requests_per_sample: 1,
                split: None,
            },
            format!(
                "cycle median {} / ideal {} = {:.2} (target ≤ 1.15)",
                fmt_dur(Duration::from_secs_f64(median)),
                fmt_dur(ideal),
                median / ideal.as_secs_f64()
            ),
        )
    });
    Ok(rows)
}

/// Resident memory of process `pid` now (`VmRSS`).
fn rss(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
