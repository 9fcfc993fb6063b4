//! Where the time of a loop goes, per thread of this process, from the kernel's scheduler
//! statistics (`/proc/self/task/TID/schedstat`: nanoseconds on a CPU, nanoseconds runnable
//! but waiting for a CPU, times scheduled in) and context switches (`.../status`). Works
//! without `perf` and without hardware counters (this VM has none).

use std::collections::HashMap;

#[derive(Clone, Copy, Default, Debug)]
pub struct TaskTimes {
    /// Nanoseconds on a CPU.
    pub cpu_ns: u64,
    /// Nanoseconds runnable but waiting for a CPU (wake-up to running).
    pub wait_ns: u64,
    /// Times scheduled in.
    pub slices: u64,
}

/// Every thread of this process: tid → times.
pub fn snapshot() -> HashMap<u32, TaskTimes> {
    let mut out = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for entry in dir.flatten() {
        let Some(tid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
            continue;
        };
        if let Some(t) = read(&format!("/proc/self/task/{tid}/schedstat")) {
            out.insert(tid, t);
        }
    }
    out
}

fn read(path: &str) -> Option<TaskTimes> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut it = text.split_whitespace().map(|v| v.parse::<u64>().ok());
    Some(TaskTimes {
        cpu_ns: it.next()??,
        wait_ns: it.next()??,
        slices: it.next()??,
    })
}

/// This thread's id.
pub fn current_tid() -> u32 {
    std::fs::read_link("/proc/thread-self")
        .ok()
        .and_then(|p| p.file_name()?.to_str()?.parse().ok())
        .unwrap_or(0)
}

/// Time per request of a loop, split between the calling thread (the client) and every other
/// thread of the process (the server), from two snapshots.
#[derive(Clone, Copy, Debug, Default)]
pub struct Split {
    pub client_cpu_ns: f64,
    pub server_cpu_ns: f64,
    /// Runnable but not running (both sides): the scheduler's part of the wake-ups.
    pub wait_ns: f64,
    /// Times a thread was scheduled in, per request.
    pub slices: f64,
}

impl Split {
    /// Adds the times of another stretch of the same loop.
    pub fn add(&mut self, other: &Split) {
        self.client_cpu_ns += other.client_cpu_ns;
        self.server_cpu_ns += other.server_cpu_ns;
        self.wait_ns += other.wait_ns;
        self.slices += other.slices;
    }

    /// From totals to per request, over `requests` requests.
    pub fn divide(&mut self, requests: f64) {
        self.client_cpu_ns /= requests;
        self.server_cpu_ns /= requests;
        self.wait_ns /= requests;
        self.slices /= requests;
    }
}

/// The split of the `requests` requests between snapshots `before` and `after`, with thread
/// `client` the client side.
pub fn split(
    before: &HashMap<u32, TaskTimes>,
    after: &HashMap<u32, TaskTimes>,
    client: u32,
    requests: usize,
) -> Split {
    let mut s = Split::default();
    for (tid, a) in after {
        let b = before.get(tid).copied().unwrap_or_default();
        let cpu = a.cpu_ns.saturating_sub(b.cpu_ns) as f64;
        if *tid == client {
            s.client_cpu_ns += cpu;
        } else {
            s.server_cpu_ns += cpu;
        }
        s.wait_ns += a.wait_ns.saturating_sub(b.wait_ns) as f64;
        s.slices += a.slices.saturating_sub(b.slices) as f64;
    }
    s.divide(requests.max(1) as f64);
    s
}

/// CPU time (user + system) of this process's waited-for children, in seconds (from
/// `/proc/self/stat`: cutime + cstime, in clock ticks of 1/100 s on Linux).
pub fn children_cpu_secs() -> f64 {
    let Ok(text) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = text.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest[0] is field 3 (state); cutime and cstime are fields 16 and 17.
    let ticks = |i: usize| {
        f.get(i - 3)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(16) + ticks(17)) / 100.0
}

/// Peak resident memory (`VmHWM`) of process `pid` in bytes, while it runs.
pub fn peak_rss(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Pins thread `tid` of this process to the CPUs in `list` (`taskset -p -c LIST TID`: no
/// unsafe code here). Returns whether it worked.
pub fn pin(tid: u32, list: &str) -> bool {
    std::process::Command::new("taskset")
        .args(["-p", "-c", list, &tid.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether thread `tid` of this process serves (the sandbox's runtime threads are named
/// `greenapi-sandbox`, the floor server's `floor-server`; `comm` keeps 15 bytes).
fn is_server_thread(tid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/self/task/{tid}/comm"))
        .is_ok_and(|c| c.starts_with("greenapi-sandbo") || c.starts_with("floor-server"))
}

/// Pins the server threads (sandbox, floor server) to CPU 1 and every other thread (the
/// client side) to CPU 0, so that client and server always talk across CPUs (as between two
/// machines, and as in a raw TCP ping-pong between two processes) instead of wherever the
/// scheduler happens to put them; `undo` gives every thread every CPU back. `false` if the
/// machine has one CPU or taskset is missing. `bench/python_bench.py` pins the same way.
pub fn pin_client_and_server(undo: bool) -> bool {
    // Counted before any pinning: afterwards this thread sees only its own CPU.
    static CPUS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    let cpus = *CPUS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if cpus < 2 {
        return false;
    }
    let every = format!("0-{}", cpus - 1);
    snapshot().keys().all(|&tid| {
        let list = if undo {
            every.as_str()
        } else if is_server_thread(tid) {
            "1"
        } else {
            "0"
        };
        pin(tid, list)
    })
}
