//! The Python binding's round trips in the same step as the Rust client's, for a per-call
//! overhead that is a measurement: `bench/python_bench.py --worker` (a process of its own,
//! with its own in-process `gs.Sandbox`, rate limit off and no latency, like the sandbox of
//! [`super::sequential`]; its sandbox threads pinned to CPU 1, its Python thread to CPU 0, like
//! this bench's) answers rounds of binding calls on request, and [`super::sequential`] asks
//! for one round of getSettings and one of setSettings after each of its own rounds. Each
//! round's binding mean minus the same round's Rust client mean is one paired difference; the
//! row reports their mean, a 95% interval and their range.
//!
//! Protocol (one JSON line per answer): the worker first prints `{"ready": true, "pinned": ..}`
//! or `{"error": ..}`; then `get N` / `set N` on its stdin makes N calls and answers
//! `{"ns": [N per-call times], "wall_ns": .., "client_cpu_ns": .., "server_cpu_ns": ..,
//! "wait_ns": .., "slices": ..}`; `quit` (or the end of its stdin) ends it. Every answer is
//! awaited at most [`ANSWER_DEADLINE`]; the worker is killed when dropped.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use super::cpu;
use super::samples::Samples;

/// Longest wait for one line of the worker (its start, or one round).
const ANSWER_DEADLINE: Duration = Duration::from_secs(30);

/// The script, from this crate's directory (tests/e2e).
pub fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/python_bench.py")
}

/// A running `bench/python_bench.py --worker`.
struct Worker {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
}

impl Worker {
    /// Starts the worker with interpreter `python` and waits for its ready line.
    fn start(python: &Path, pin: bool) -> Result<(Worker, serde_json::Value), String> {
        let mut cmd = Command::new(python);
        cmd.arg(script()).arg("--worker");
        if !pin {
            cmd.arg("--no-pin");
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("{}: {e}", python.display()))?;
        let (stdin, stdout) = match (child.stdin.take(), child.stdout.take()) {
            (Some(i), Some(o)) => (i, o),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err("no pipes to the worker".into());
            }
        };
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut w = Worker {
            child,
            stdin,
            lines,
        };
        let ready = w.answer()?;
        Ok((w, ready))
    }

    /// The next JSON line of the worker; its `{"error": ..}` as an error.
    fn answer(&mut self) -> Result<serde_json::Value, String> {
        let line = match self.lines.recv_timeout(ANSWER_DEADLINE) {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) => {
                return Err(format!("no answer within {} s", ANSWER_DEADLINE.as_secs()))
            }
            Err(RecvTimeoutError::Disconnected) => {
                let status = self
                    .child
                    .wait()
                    .map_or_else(|e| e.to_string(), |s| s.to_string());
                return Err(format!("the worker ended ({status}; its stderr is above)"));
            }
        };
        let v: serde_json::Value =
            serde_json::from_str(&line).map_err(|e| format!("worker said {line:.80?}: {e}"))?;
        match v["error"].as_str() {
            Some(e) => Err(format!("worker: {e}")),
            None => Ok(v),
        }
    }

    /// `n` calls of `method` ("get" or "set"): their times, the loop's wall time, the split.
    fn round(
        &mut self,
        method: &str,
        n: usize,
    ) -> Result<(Vec<Duration>, Duration, cpu::Split), String> {
        writeln!(self.stdin, "{method} {n}")
            .and_then(|()| self.stdin.flush())
            .map_err(|e| format!("writing to the worker: {e}"))?;
        let v = self.answer()?;
        let ns = |k: &str| v[k].as_f64().unwrap_or(0.0);
        let times: Vec<Duration> = v["ns"]
            .as_array()
            .ok_or("an answer without times")?
            .iter()
            .map(|t| Duration::from_nanos(t.as_u64().unwrap_or(0)))
            .collect();
        if times.len() != n {
            return Err(format!("{} times for {n} calls", times.len()));
        }
        let split = cpu::Split {
            client_cpu_ns: ns("client_cpu_ns"),
            server_cpu_ns: ns("server_cpu_ns"),
            wait_ns: ns("wait_ns"),
            slices: ns("slices"),
        };
        Ok((times, Duration::from_nanos(ns("wall_ns") as u64), split))
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "quit").and_then(|()| self.stdin.flush());
        let until = Instant::now() + Duration::from_secs(5);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The binding's rounds, next to the Rust client's: getSettings and setSettings samples (in
/// the rounds' order, `per_round` per round), or why there are none.
pub struct Paired {
    worker: Option<Worker>,
    pub get: Samples,
    pub set: Samples,
    /// Why the rows are missing or cut short (the worker did not start, or failed).
    pub error: Option<String>,
    pub pinned: bool,
    /// The worker's Python version.
    pub python: String,
}

fn empty() -> Samples {
    Samples {
        times: Vec::new(),
        wall: Duration::ZERO,
        requests_per_sample: 1,
        split: Some(cpu::Split::default()),
    }
}

impl Paired {
    /// Starts the worker (`python`: its interpreter; `None`: no Python rows, and why).
    pub fn start(python: Option<&Path>, pin: bool) -> Paired {
        let mut p = Paired {
            worker: None,
            get: empty(),
            set: empty(),
            error: None,
            pinned: false,
            python: String::new(),
        };
        match python.map(|py| Worker::start(py, pin)) {
            None => {
                p.error =
                    Some("no --python-worker PYTHON (scripts/bench passes .venv-bench's)".into())
            }
            Some(Err(e)) => p.error = Some(format!("the Python worker did not start: {e}")),
            Some(Ok((w, ready))) => {
                p.pinned = ready["pinned"].as_bool().unwrap_or(false);
                p.python = ready["python"].as_str().unwrap_or("?").to_string();
                if pin && !p.pinned {
                    eprintln!("loopback: the Python worker could not pin its threads");
                }
                p.worker = Some(w);
            }
        }
        p
    }

    /// `warmup` unmeasured calls of each method.
    pub fn warm_up(&mut self, warmup: usize) {
        if self.worker.is_some() {
            eprintln!("loopback: warm-up, the Python binding (worker process) ...");
        }
        for method in ["get", "set"] {
            if warmup > 0 {
                self.ask(method, warmup);
            }
        }
    }

    /// One round of `per_round` calls of `method` ("get" or "set").
    pub fn round(&mut self, method: &str, per_round: usize) {
        if let Some((times, wall, split)) = self.ask(method, per_round) {
            let s = if method == "get" {
                &mut self.get
            } else {
                &mut self.set
            };
            s.times.extend(times);
            s.wall += wall;
            if let Some(acc) = s.split.as_mut() {
                acc.add(&split);
            }
        }
    }

    /// Asks the worker for one round; on any failure, ends the worker and keeps why.
    fn ask(&mut self, method: &str, n: usize) -> Option<(Vec<Duration>, Duration, cpu::Split)> {
        let w = self.worker.as_mut()?;
        match w.round(method, n) {
            Ok(r) => Some(r),
            Err(e) => {
                eprintln!("loopback: the Python worker failed: {e}");
                self.error = Some(format!("the Python worker failed: {e}"));
                self.worker = None;
                None
            }
        }
    }

    /// Ends the worker; per-request splits from the totals.
    pub fn finish(&mut self) {
        self.worker = None;
        for s in [&mut self.get, &mut self.set] {
            let k = s.times.len().max(1) as f64;
            if let Some(acc) = s.split.as_mut() {
                acc.divide(k);
            }
        }
    }
}

/// The paired comparison of `ours` (the binding) with `rust` (the Rust client), both in
/// rounds of `per_round` calls, round by round, in µs: the differences of the rounds' means,
/// and of their medians (the latter unmoved by the few calls another process delays).
pub fn round_differences(ours: &Samples, rust: &Samples, per_round: usize) -> (Vec<f64>, Vec<f64>) {
    let us = |d: &Duration| d.as_secs_f64() * 1e6;
    let mean = |c: &[Duration]| c.iter().map(us).sum::<f64>() / c.len().max(1) as f64;
    let median = |c: &[Duration]| {
        let mut v = c.to_vec();
        v.sort_unstable();
        v.get(v.len() / 2).map_or(0.0, us)
    };
    ours.times
        .chunks(per_round.max(1))
        .zip(rust.times.chunks(per_round.max(1)))
        .map(|(a, b)| (mean(a) - mean(b), median(a) - median(b)))
        .unzip()
}

/// The ratio cell of a paired row, from the per-round differences (`means`, `medians`, as
/// [`round_differences`] gives them) and the two loops (`ours`: the binding, `rust`): the mean
/// of the per-round mean differences with a 95% interval and their range; the median of the
/// per-round median differences; the difference in client CPU per call (calling thread, or
/// every thread but the sandbox's for the binding); the binding's time as a multiple of the
/// Rust client's.
pub fn overhead_text(means: &[f64], medians: &[f64], ours: &Samples, rust: &Samples) -> String {
    if means.is_empty() {
        return "no paired rounds".into();
    }
    let k = means.len() as f64;
    let mean = means.iter().sum::<f64>() / k;
    let sd = if means.len() > 1 {
        (means.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (k - 1.0)).sqrt()
    } else {
        0.0
    };
    // Student's t at 97.5% for k - 1 degrees of freedom (Cornish-Fisher, within 1% from 5).
    let df = (k - 1.0).max(1.0);
    let z: f64 = 1.96;
    let t = z
        + (z.powi(3) + z) / (4.0 * df)
        + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * df * df);
    let ci = t * sd / k.sqrt();
    let (lo, hi) = means
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &x| {
            (l.min(x), h.max(x))
        });
    let mut sorted = medians.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or(0.0);
    let cpu = match (ours.split, rust.split) {
        (Some(a), Some(b)) => format!(
            "; client CPU {:+.1}",
            (a.client_cpu_ns - b.client_cpu_ns) / 1e3
        ),
        _ => String::new(),
    };
    format!(
        "{mean:+.1} µs per call over the Rust client (target ≤ 30): mean of {} paired rounds ±{ci:.1} (95% CI), rounds {lo:+.1}..{hi:+.1}; p50s {median:+.1} (median of rounds){cpu}; {:.2}× its time",
        means.len(),
        ours.mean().as_secs_f64() / rust.mean().as_secs_f64().max(1e-12)
    )
}
