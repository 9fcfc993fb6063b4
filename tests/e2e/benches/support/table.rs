//! The rows and the one table the bench prints on stdout (after two lines on the machine).

use std::time::Duration;

use super::cpu;
use super::samples::Samples;

/// One row of the table.
pub struct Row {
    pub what: String,
    pub n: String,
    pub mean: String,
    pub p50: String,
    pub p99: String,
    pub rate: String,
    pub ratio: String,
    /// Per request: client CPU / server CPU / the rest (wake-ups), for sequential loops.
    pub split: String,
}

impl Row {
    /// A row with every cell after `what` a dash (fill some in with `..Row::dashes(what)`).
    pub fn dashes(what: impl Into<String>) -> Row {
        Row {
            what: what.into(),
            n: dash(),
            mean: dash(),
            p50: dash(),
            p99: dash(),
            rate: dash(),
            ratio: dash(),
            split: dash(),
        }
    }

    /// A row of what was not measured, and why (in the mean column).
    pub fn not_measured(what: &str, why: &str) -> Row {
        Row {
            mean: format!("not measured: {why}"),
            ..Row::dashes(what)
        }
    }

    /// A row of measured latencies: their count, mean, p50, p99, requests/s over the wall
    /// time, `ratio`, and the CPU split when the loop has one.
    pub fn measured(what: impl Into<String>, s: &Samples, ratio: String) -> Row {
        let some = !s.times.is_empty();
        let stat = |d: fn(&Samples) -> Duration| if some { fmt_dur(d(s)) } else { dash() };
        Row {
            n: s.times.len().to_string(),
            mean: stat(Samples::mean),
            p50: stat(|s| s.percentile(50.0)),
            p99: stat(|s| s.percentile(99.0)),
            rate: format!("{:.0}/s", s.per_second()),
            ratio,
            split: s.split.map_or_else(dash, |sp| fmt_split(&sp, s.mean())),
            ..Row::dashes(what)
        }
    }
}

pub fn dash() -> String {
    "—".into()
}

pub fn fmt_dur(d: Duration) -> String {
    let ns = d.as_nanos() as f64;
    if ns < 1_000.0 {
        format!("{ns:.0} ns")
    } else if ns < 1_000_000.0 {
        format!("{:.2} µs", ns / 1e3)
    } else if ns < 1_000_000_000.0 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.3} s", ns / 1e9)
    }
}

/// Per request: client CPU + server CPU + the rest (waiting for the other side to wake up and
/// answer: wake-ups, scheduler delay, the vCPU leaving halt), and context switches.
fn fmt_split(sp: &cpu::Split, mean: Duration) -> String {
    let us = |ns: f64| ns / 1e3;
    let rest = mean.as_nanos() as f64 - sp.client_cpu_ns - sp.server_cpu_ns;
    format!(
        "{:.1} + {:.1} + {:.1} µs (run-queue {:.1} µs, {:.1} switches)",
        us(sp.client_cpu_ns),
        us(sp.server_cpu_ns),
        us(rest.max(0.0)),
        us(sp.wait_ns),
        sp.slices
    )
}

/// Requests per second of one call taking `mean`.
pub fn rate_of(mean: Duration) -> String {
    format!("{:.0}/s", 1.0 / mean.as_secs_f64())
}

const HEADER: [&str; 8] = [
    "benchmark",
    "n",
    "mean",
    "p50",
    "p99",
    "throughput",
    "ratio",
    "per request: client CPU + server CPU + wake-ups",
];

/// The machine, then the rows as a Markdown table with padded columns.
pub fn print(rows: &[Row]) {
    for line in machine() {
        println!("{line}");
    }
    println!();
    let cells: Vec<[&str; 8]> = rows
        .iter()
        .map(|r| {
            [
                r.what.as_str(),
                r.n.as_str(),
                r.mean.as_str(),
                r.p50.as_str(),
                r.p99.as_str(),
                r.rate.as_str(),
                r.ratio.as_str(),
                r.split.as_str(),
            ]
        })
        .collect();
    let mut width = HEADER.map(|h| h.chars().count());
    for row in &cells {
        for (w, c) in width.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cols: [&str; 8]| {
        let padded: Vec<String> = cols
            .iter()
            .zip(width)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
            .collect();
        println!("| {} |", padded.join(" | "));
    };
    line(HEADER);
    let rule: Vec<String> = width.iter().map(|w| "-".repeat(*w)).collect();
    println!("|-{}-|", rule.join("-|-"));
    for row in cells {
        line(row);
    }
}

/// The CPU model, the number of cores and the compiler, for the lines above the table.
fn machine() -> Vec<String> {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let rustc = std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    vec![
        format!("machine: {cores} cores, {cpu}"),
        format!("rustc: {rustc}"),
    ]
}
