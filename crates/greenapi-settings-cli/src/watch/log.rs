//! The watch loop's log: one line per event on stderr through `tracing` (the core's own
//! events — retries, verification — join in), as text or, with `--log-format json`, as JSON
//! lines for log shippers. Never a secret: records carry no token, and secret values
//! (`webhookUrlToken`) are written as `<redacted>`.

use std::net::SocketAddr;
use std::time::Duration;

use greenapi_settings::redact::REDACTED;
use tracing::{info, warn};

use super::record::{CycleSummary, InstanceRecord, InstanceState};
use crate::exit::CliError;

/// Installs the subscriber: `text` (default) or `json`, level INFO, on stderr. A second call
/// in one process (tests) keeps the first.
pub fn init(format: Option<&str>) -> Result<(), CliError> {
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_max_level(tracing::Level::INFO);
    let _ = match format.unwrap_or("text") {
        "text" => builder.try_init(),
        "json" => builder.json().flatten_event(true).try_init(),
        other => {
            return Err(CliError::usage(format!(
                "--log-format: expected text or json, found {}",
                crate::input::clip(other)
            )))
        }
    };
    Ok(())
}

/// The loop's own events.
pub enum Event<'a> {
    /// The loop started.
    Started {
        /// Instances watched.
        instances: usize,
        /// `--every`.
        every: Duration,
        /// `--repair`.
        repair: bool,
    },
    /// `--metrics` is being served.
    MetricsListening {
        /// The bound address.
        addr: SocketAddr,
    },
    /// The files were read again and took effect.
    Reloaded {
        /// Instances now watched.
        instances: usize,
    },
    /// The files were read again and refused; the loop keeps the old ones.
    ReloadRefused {
        /// The error's one line.
        why: String,
        /// How many problem lines it had.
        problems: usize,
    },
    /// The loop stopped.
    Stopped {
        /// The signal that stopped it, if one did.
        by: Option<&'a str>,
    },
}

/// Logs one of the loop's own events.
pub fn event(e: Event<'_>) {
    match e {
        Event::Started {
            instances,
            every,
            repair,
        } => info!(
            event = "started",
            instances,
            every = %humantime::format_duration(every),
            mode = if repair { "repair" } else { "reportOnly" },
            "watching {instances} instance(s)"
        ),
        Event::MetricsListening { addr } => {
            info!(event = "metrics", %addr, "metrics on http://{addr}/metrics")
        }
        Event::Reloaded { instances } => info!(
            event = "reloaded",
            instances, "files re-read: watching {instances} instance(s)"
        ),
        Event::ReloadRefused { why, problems } => warn!(
            event = "reloadRefused",
            problems,
            "files re-read and refused, keeping the previous ones: {}",
            crate::terminal::text(&why)
        ),
        Event::Stopped { by } => info!(
            event = "stopped",
            by = by.unwrap_or("end"),
            "stopped{}",
            by.map(|b| format!(" by {b}")).unwrap_or_default()
        ),
    }
}

/// Logs what an instance's record says: each drifted field (with the read), the repair, or
/// the error. Instances in sync (the common case) log nothing.
pub fn record(r: &InstanceRecord) {
    let id = r.id;
    for d in r.drifts.iter().filter(|_| r.repair.is_none()) {
        let (observed, desired) = if d.secret {
            (REDACTED.to_string(), REDACTED.to_string())
        } else {
            (d.observed.to_string(), d.desired.to_string())
        };
        info!(
            event = "drift",
            instance = id,
            setting = d.field,
            observed = %crate::terminal::text(&observed),
            desired = %crate::terminal::text(&desired),
            "instance {id}: {} drifted", d.field
        );
    }
    if let Some(rep) = &r.repair {
        let fields = rep.fields.join(",");
        let took = rep.took.as_secs_f64();
        if rep.stage == super::record::RepairStage::Sent {
            info!(
                event = "repairSent",
                instance = id,
                fields = %fields,
                "instance {id}: re-sending {fields}"
            );
        } else if rep.outcome == "converged" {
            info!(
                event = "repaired",
                instance = id,
                fields = %fields,
                resends = rep.resends,
                took_seconds = took,
                "instance {id}: repaired {fields}"
            );
        } else {
            warn!(
                event = "repairFailed",
                instance = id,
                fields = %fields,
                outcome = rep.outcome,
                error_kind = rep.error_kind.unwrap_or(""),
                "instance {id}: repair of {fields}: {}",
                rep.outcome
            );
        }
    }
    match r.state {
        InstanceState::Unreachable => warn!(
            event = "unreachable",
            instance = id,
            error_kind = r.error_kind.unwrap_or(""),
            "instance {id}: {}",
            crate::terminal::text(r.error.as_deref().unwrap_or("unreachable"))
        ),
        InstanceState::Parked => tracing::debug!(
            event = "parked",
            instance = id,
            reason = r.error_kind.unwrap_or(""),
            "instance {id}: not contacted ({})",
            r.error_kind.unwrap_or("")
        ),
        _ => {}
    }
}

/// Logs the end of a cycle.
pub fn cycle(id: i64, s: &CycleSummary) {
    let took = match (s.started, s.finished) {
        (Some(a), Some(b)) => b.duration_since(a).unwrap_or_default().as_secs_f64(),
        _ => 0.0,
    };
    info!(
        event = "cycle",
        cycle = id,
        instances = s.instances,
        in_sync = s.in_sync,
        drifted = s.drifted,
        unreachable = s.unreachable,
        parked = s.parked,
        repaired = s.repaired,
        interrupted = s.interrupted,
        took_seconds = took,
        "cycle {id}: {} in sync, {} drifted, {} unreachable, {} parked, {} repaired{}",
        s.in_sync,
        s.drifted,
        s.unreachable,
        s.parked,
        s.repaired,
        if s.interrupted { " (stopped)" } else { "" }
    );
}
