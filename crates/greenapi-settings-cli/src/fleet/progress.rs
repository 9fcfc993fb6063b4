//! The progress line of a fleet run on stderr (only when stderr is a terminal).

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Whether stderr is a terminal, asked once: a fleet clears the progress line before each
/// instance's line, and asking each time was a system call per instance.
fn stderr_is_terminal() -> bool {
    static IS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *IS.get_or_init(|| std::io::stderr().is_terminal())
}

/// Clears the progress line (on a terminal), so that a line printed next starts clean.
pub fn clear_progress_line() {
    if stderr_is_terminal() {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K");
        let _ = err.flush();
    }
}

/// A progress line on stderr, redrawn every 100 ms, when stderr is a terminal.
pub(super) fn spawn_progress(
    total: usize,
    finished: Arc<AtomicUsize>,
    failed: Arc<AtomicUsize>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if !stderr_is_terminal() || total == 0 || crate::out::quiet() {
            return;
        }
        loop {
            let done = finished.load(Ordering::Relaxed);
            let width = 30;
            let filled = done * width / total;
            {
                let mut err = std::io::stderr().lock();
                let _ = write!(
                    err,
                    "\r[{}{}] {done}/{total} done, {} failed",
                    "#".repeat(filled),
                    " ".repeat(width - filled),
                    failed.load(Ordering::Relaxed)
                );
                let _ = err.flush();
            }
            if done >= total {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
}
