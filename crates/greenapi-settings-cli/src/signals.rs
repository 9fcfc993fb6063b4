//! Stopping a run from outside: Ctrl-C (SIGINT) and SIGTERM (what systemd, Kubernetes,
//! `timeout` and CI cancellation send) are handled alike. The first one stops the starting of
//! new instances and the waits in flight; the run then writes its report and exits 128 + the
//! signal's number (130 for SIGINT, 143 for SIGTERM), as a shell reports a process killed by
//! it. Each later one is passed on too (a fleet run stops waiting for instances in flight).

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tokio::task::JoinHandle;

use crate::exit::Exit;

const NONE: u8 = 0;
const INT: u8 = 1;
const TERM: u8 = 2;

/// Listens for SIGINT and SIGTERM while it lives.
pub struct Signals {
    first: Arc<AtomicU8>,
    tasks: Vec<JoinHandle<()>>,
}

impl Signals {
    /// Starts listening: each signal sets `stop` and sends one message on the receiver.
    pub fn listen(stop: Arc<AtomicBool>) -> (Signals, UnboundedReceiver<()>) {
        let (tx, rx) = unbounded_channel();
        let first = Arc::new(AtomicU8::new(NONE));
        let mut tasks = Vec::new();
        let on = |which: u8, tx: UnboundedSender<()>| {
            let first = first.clone();
            let stop = stop.clone();
            move || {
                let _ = first.compare_exchange(NONE, which, Ordering::SeqCst, Ordering::SeqCst);
                stop.store(true, Ordering::SeqCst);
                tx.send(()).is_ok()
            }
        };
        let on_int = on(INT, tx.clone());
        tasks.push(tokio::spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                if !on_int() {
                    break;
                }
            }
        }));
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let on_term = on(TERM, tx);
            if let Ok(mut term) = signal(SignalKind::terminate()) {
                tasks.push(tokio::spawn(async move {
                    while term.recv().await.is_some() {
                        if !on_term() {
                            break;
                        }
                    }
                }));
            }
        }
        #[cfg(not(unix))]
        drop(tx);
        (Signals { first, tasks }, rx)
    }

    /// The exit code for the first signal received (130 or 143), if any.
    pub fn exit(&self) -> Option<Exit> {
        match self.first.load(Ordering::SeqCst) {
            INT => Some(Exit::Interrupted),
            TERM => Some(Exit::Terminated),
            _ => None,
        }
    }

    /// What stopped the run, for messages: `Ctrl-C` or `SIGTERM`.
    pub fn name(&self) -> &'static str {
        match self.first.load(Ordering::SeqCst) {
            TERM => "SIGTERM",
            _ => "Ctrl-C",
        }
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}
