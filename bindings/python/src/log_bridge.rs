//! Rust-side events to Python's `logging`: a `tracing` subscriber, installed when the module
//! is imported, takes the events of the core crate (target `greenapi_settings`: retries with
//! their reason and delay, each response's method and status) and hands them to the logger
//! `greenapi_settings` (a target `greenapi_settings::x` goes to `greenapi_settings.x`).
//!
//! Events fire on the runtime's threads, which must never wait for the GIL: an event is
//! formatted there and queued (bounded; beyond that it is counted and dropped), and the queue
//! is emptied into `logging` by threads that hold the GIL anyway — every step of a call, each
//! 50 ms slice of a blocking wait, each resumption of a coroutine — so a call's records are
//! logged, in order and with the time they happened, before the call returns. Nothing is
//! queued once interpreter exit began. The events carry no token (the core never logs URLs
//! and scrubs the token from error text); webhook secrets in quoted server text are redacted
//! here once more.
//!
//! Hand-written rather than pyo3-log (issue 19), by measurement: pyo3-log 0.13.5 supports this
//! pyo3 (0.30; it takes `>=0.26, <0.31`), but it logs on the thread the event fires on, taking
//! the GIL there, and the `AsyncClient`'s requests run on one shared I/O thread that then waits
//! for the event loop's thread on every response. Paired runs (8 rounds × 3,000 getSettings
//! against the sandbox, a wheel with each bridge, 2026-12-07): `AsyncClient`, 16 concurrent
//! calls, +22.4 and +27.2 µs per call (median of rounds; 47→72 µs) with nobody listening,
//! +30.4 µs with DEBUG on: the binding's whole ≤ 30 µs per-call overhead target; the blocking
//! `Client` +0.5 µs (noise). Its level cache, which would avoid the GIL for unwanted records,
//! misses changes of `logging`'s configuration (`caplog.at_level`, a logger made anew).

use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record as SpanRecord};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};

use greenapi_settings::redact::secret_values_in_text;

/// The logger of the package, and the `tracing` target of the core crate.
const ROOT: &str = "greenapi_settings";

/// Records waiting for the GIL at most; a burst beyond is counted and dropped.
const CAPACITY: usize = 1000;

struct Record {
    pid: u32,
    logger: String,
    level: u8,
    message: String,
    file: &'static str,
    line: u32,
    module: &'static str,
    created: f64,
}

/// The queue: lock-free to send to (the runtime's threads), read under the GIL only (so a
/// `fork()`, which holds the GIL, never finds the reading side locked). A child made by
/// `fork()` drops the parent's records it inherited.
struct Queue {
    tx: SyncSender<Record>,
    rx: Mutex<Receiver<Record>>,
    dropped: AtomicU64,
}

static QUEUE: OnceLock<Queue> = OnceLock::new();
static STOPPED: AtomicBool = AtomicBool::new(false);

fn queue() -> &'static Queue {
    QUEUE.get_or_init(|| {
        let (tx, rx) = mpsc::sync_channel(CAPACITY);
        Queue {
            tx,
            rx: Mutex::new(rx),
            dropped: AtomicU64::new(0),
        }
    })
}

fn ours(target: &str) -> bool {
    target == ROOT
        || target
            .strip_prefix(ROOT)
            .is_some_and(|rest| rest.starts_with("::"))
}

fn python_level(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 40,
        Level::WARN => 30,
        Level::INFO => 20,
        Level::DEBUG => 10,
        Level::TRACE => 5,
    }
}

/// `message: key=value key="value with spaces"`.
#[derive(Default)]
struct Text {
    message: String,
    fields: String,
}

impl Text {
    /// Adds a field's text, with webhook secrets in quoted JSON redacted. The redaction
    /// replaces the value after a quoted key (`"webhookUrlToken": ...`), so text without a
    /// quote is left as it is without the search: a response's record has five fields, and
    /// searching each was a quarter of the client's instructions per request.
    fn add(&mut self, field: &Field, value: String) {
        let value = if value.contains('"') {
            secret_values_in_text(&value)
        } else {
            value
        };
        self.add_shown(field, value);
    }

    /// Adds a field's text as it is (a number, or text already redacted).
    fn add_shown(&mut self, field: &Field, value: String) {
        if field.name() == "message" {
            self.message = value;
            return;
        }
        let plain = !value.is_empty()
            && !value
                .chars()
                .any(|c| c.is_whitespace() || c == '"' || c == '=' || c.is_control());
        let _ = if plain {
            write!(self.fields, " {}={value}", field.name())
        } else {
            write!(self.fields, " {}={value:?}", field.name())
        };
    }

    fn finish(self) -> String {
        match (self.message.is_empty(), self.fields.is_empty()) {
            (_, true) => self.message,
            (true, false) => self.fields.trim_start().to_string(),
            (false, false) => format!("{}:{}", self.message, self.fields),
        }
    }
}

impl Visit for Text {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.add(field, value.to_string());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.add(field, format!("{value:?}"));
    }

    // Numbers and booleans hold no secret: shown as their `Debug` text, without the search.
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.add_shown(field, value.to_string());
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.add_shown(field, value.to_string());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.add_shown(field, value.to_string());
    }
}

/// The subscriber: events of the `greenapi_settings` targets into the queue; no spans.
struct Bridge;

impl Subscriber for Bridge {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if ours(metadata.target()) && metadata.is_event() {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        ours(metadata.target()) && metadata.is_event()
    }

    fn new_span(&self, _span: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _span: &Id, _values: &SpanRecord<'_>) {}

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, event: &Event<'_>) {
        if STOPPED.load(Ordering::Relaxed) {
            return;
        }
        let meta = event.metadata();
        let mut text = Text::default();
        event.record(&mut text);
        let created = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        let record = Record {
            pid: std::process::id(),
            logger: meta.target().replace("::", "."),
            level: python_level(meta.level()),
            message: text.finish(),
            file: meta.file().unwrap_or(""),
            line: meta.line().unwrap_or(0),
            module: meta.module_path().unwrap_or(""),
            created,
        };
        let q = queue();
        if let Err(TrySendError::Full(_)) = q.tx.try_send(record) {
            q.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn enter(&self, _span: &Id) {}

    fn exit(&self, _span: &Id) {}
}

/// Installs the subscriber for the process, unless another one is installed already (then
/// that one gets the events).
pub fn install() {
    queue();
    let _ = tracing::subscriber::set_global_default(Bridge);
}

/// Stops queueing: run by the `atexit` hook, after a last flush.
pub fn shutdown(py: Python<'_>) {
    flush(py);
    STOPPED.store(true, Ordering::Relaxed);
}

/// Hands the queued records to `logging`. Call with the GIL held; never fails (a failing
/// handler is `logging`'s business: it reports it on stderr).
pub fn flush(py: Python<'_>) {
    let q = queue();
    let pid = std::process::id();
    let records: Vec<Record> = {
        let rx = q.rx.lock().unwrap_or_else(PoisonError::into_inner);
        rx.try_iter().filter(|r| r.pid == pid).collect()
    };
    let dropped = q.dropped.swap(0, Ordering::Relaxed);
    for record in records {
        let _ = emit(py, &record);
    }
    if dropped > 0 {
        let note = Record {
            pid,
            logger: ROOT.to_string(),
            level: 30,
            message: format!("{dropped} log records were dropped (too many at once)"),
            file: file!(),
            line: line!(),
            module: module_path!(),
            created: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64()),
        };
        let _ = emit(py, &note);
    }
}

/// `logging.getLogger(name)`: for a logger that exists already, what `getLogger` would
/// return, found in `logging.Logger.manager.loggerDict` without calling it (`getLogger` takes
/// logging's module lock: most of the cost of a record nobody listens to, every call).
fn logger<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
    static LOGGING: PyOnceLock<(Py<PyAny>, Py<PyAny>)> = PyOnceLock::new();
    let (logger_class, get_logger) = LOGGING.get_or_try_init(py, || {
        let logging = py.import("logging")?;
        PyResult::Ok((
            logging.getattr("Logger")?.unbind(),
            logging.getattr("getLogger")?.unbind(),
        ))
    })?;
    let logger_class = logger_class.bind(py);
    let known = logger_class
        .getattr(intern!(py, "manager"))?
        .getattr(intern!(py, "loggerDict"))?
        .cast_into::<PyDict>()
        .ok()
        .and_then(|loggers| loggers.get_item(name).ok().flatten())
        .filter(|l| l.is_instance(logger_class).unwrap_or(false));
    match known {
        Some(logger) => Ok(logger),
        None => get_logger.bind(py).call1((name,)),
    }
}

fn emit(py: Python<'_>, r: &Record) -> PyResult<()> {
    let logger = logger(py, &r.logger)?;
    if !logger
        .call_method1("isEnabledFor", (r.level,))?
        .is_truthy()?
    {
        return Ok(());
    }
    let kwargs = PyDict::new(py);
    kwargs.set_item("func", r.module)?;
    let record = logger.call_method(
        "makeRecord",
        (
            &r.logger,
            r.level,
            r.file,
            r.line,
            &r.message,
            (),
            py.None(),
        ),
        Some(&kwargs),
    )?;
    // When it happened, not when the GIL was free to log it.
    record.setattr("created", r.created)?;
    record.setattr("msecs", (r.created.fract() * 1000.0).floor())?;
    logger.call_method1("handle", (record,))?;
    Ok(())
}
