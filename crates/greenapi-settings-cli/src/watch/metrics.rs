//! `watch --metrics ADDR`: the loop's state in the Prometheus text format (prometheus-client's
//! registry and encoder), served on `/metrics`, with `/healthz` answering 200 while the loop is
//! alive. Loopback by default; nothing here ever holds a token (labels are instance ids,
//! setting names, outcomes and error kinds).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::record::{CycleSummary, InstanceRecord, InstanceState};
use crate::exit::CliError;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SettingLabel {
    setting: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RepairLabel {
    setting: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: &'static str,
}

/// The loop's metrics. Cheap to clone (the families are shared).
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    instances: Family<StateLabel, Gauge>,
    drifts: Family<SettingLabel, Counter>,
    repairs: Family<RepairLabel, Counter>,
    errors: Family<KindLabel, Counter>,
    cycles: Counter,
    cycle_seconds: Histogram,
    last_cycle: Gauge<f64, AtomicU64>,
    /// Seconds since the epoch of the loop's last sign of life (see [`Metrics::alive`]).
    heartbeat: Arc<AtomicU64>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// A registry with every metric of the loop, all at zero.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("greenapi_watch");
        let instances = Family::<StateLabel, Gauge>::default();
        registry.register(
            "instances",
            "Instances by state at the end of the last cycle (inSync, drifted, unreachable, parked)",
            instances.clone(),
        );
        let drifts = Family::<SettingLabel, Counter>::default();
        registry.register(
            "drift_events",
            "Drifted fields seen, by setting (a field counts once per cycle it reads wrong)",
            drifts.clone(),
        );
        let repairs = Family::<RepairLabel, Counter>::default();
        registry.register(
            "repairs",
            "Fields re-sent by --repair, by setting and outcome",
            repairs.clone(),
        );
        let errors = Family::<KindLabel, Counter>::default();
        registry.register(
            "errors",
            "Instances that could not be read or repaired, by error kind",
            errors.clone(),
        );
        let cycles = Counter::default();
        registry.register("cycles", "Cycles completed", cycles.clone());
        let cycle_seconds = Histogram::new([
            0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 600.0, 1800.0, 3600.0,
        ]);
        registry.register(
            "cycle_duration_seconds",
            "Wall time of a cycle, from its start to its last instance",
            cycle_seconds.clone(),
        );
        let last_cycle = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "last_cycle_completed_timestamp_seconds",
            "When the last cycle completed (seconds since the Unix epoch)",
            last_cycle.clone(),
        );
        for state in ALL_STATES {
            instances.get_or_create(&StateLabel { state }).set(0);
        }
        let m = Metrics {
            registry: Arc::new(registry),
            instances,
            drifts,
            repairs,
            errors,
            cycles,
            cycle_seconds,
            last_cycle,
            heartbeat: Arc::new(AtomicU64::new(0)),
        };
        m.beat();
        m
    }

    /// Counts what one instance's record says (drift events, repairs, errors). A repair's
    /// record repeats the drifts of the read before it: they are counted once, with the read.
    pub fn record(&self, r: &InstanceRecord) {
        for d in r.drifts.iter().filter(|_| r.repair.is_none()) {
            self.drifts
                .get_or_create(&SettingLabel { setting: d.field })
                .inc();
        }
        // A repair is counted when its outcome is known, not when it is sent.
        if let Some(repair) = r
            .repair
            .as_ref()
            .filter(|x| x.stage != super::record::RepairStage::Sent)
        {
            for field in &repair.fields {
                self.repairs
                    .get_or_create(&RepairLabel {
                        setting: field,
                        outcome: repair.outcome,
                    })
                    .inc();
            }
            if let Some(kind) = repair.error_kind {
                self.errors.get_or_create(&KindLabel { kind }).inc();
            }
        }
        if r.state == InstanceState::Unreachable {
            if let Some(kind) = r.error_kind {
                self.errors.get_or_create(&KindLabel { kind }).inc();
            }
        }
        self.beat();
    }

    /// Sets the per-state gauges and the cycle's timing from its summary.
    pub fn cycle(&self, s: &CycleSummary) {
        for (state, n) in [
            ("inSync", s.in_sync),
            ("drifted", s.drifted),
            ("unreachable", s.unreachable),
            ("parked", s.parked),
        ] {
            self.instances
                .get_or_create(&StateLabel { state })
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
        if let (Some(start), Some(end)) = (s.started, s.finished) {
            let took = end.duration_since(start).unwrap_or_default();
            self.cycle_seconds.observe(took.as_secs_f64());
            self.last_cycle.set(epoch_seconds(end));
        }
        if !s.interrupted {
            self.cycles.inc();
        }
        self.beat();
    }

    /// The loop is alive: called at every record, every cycle and while it waits.
    pub fn beat(&self) {
        self.heartbeat
            .store(epoch_seconds(SystemTime::now()) as u64, Ordering::Relaxed);
    }

    /// Whether the loop gave a sign of life within `within`.
    pub fn alive(&self, within: Duration) -> bool {
        let last = self.heartbeat.load(Ordering::Relaxed);
        let now = epoch_seconds(SystemTime::now()) as u64;
        now.saturating_sub(last) <= within.as_secs().max(1)
    }

    /// The text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

const ALL_STATES: [&str; 4] = ["inSync", "drifted", "unreachable", "parked"];

fn epoch_seconds(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

/// Binds `addr` and serves `/metrics` and `/healthz` until the runtime ends. `/healthz` is 200
/// while the loop gave a sign of life within `alive_within`, else 503. Binding happens here,
/// before the loop starts, so a taken port is an error at start (exit 2), not a log line.
pub async fn serve(
    addr: SocketAddr,
    metrics: Metrics,
    alive_within: Duration,
) -> Result<SocketAddr, CliError> {
    use axum::http::{header, StatusCode};
    use axum::routing::get;

    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| CliError::usage(format!("--metrics {addr}: cannot listen there: {e}")))?;
    let bound = listener
        .local_addr()
        .map_err(|e| CliError::usage(format!("--metrics {addr}: {e}")))?;
    let for_metrics = metrics.clone();
    let app = axum::Router::new()
        .route(
            "/metrics",
            get(move || {
                let m = for_metrics.clone();
                async move {
                    (
                        [(
                            header::CONTENT_TYPE,
                            "application/openmetrics-text; version=1.0.0; charset=utf-8",
                        )],
                        m.encode(),
                    )
                }
            }),
        )
        .route(
            "/healthz",
            get(move || {
                let m = metrics.clone();
                async move {
                    if m.alive(alive_within) {
                        (StatusCode::OK, "ok\n")
                    } else {
                        (StatusCode::SERVICE_UNAVAILABLE, "the watch loop is stuck\n")
                    }
                }
            }),
        );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(bound)
}

/// `--metrics ADDR`: a socket address; a bare port means 127.0.0.1:PORT. Any address may be
/// given on purpose, but the default and the bare port are loopback.
pub fn parse_addr(text: &str) -> Result<SocketAddr, CliError> {
    let text = text.trim();
    if let Ok(port) = text.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    text.parse::<SocketAddr>().map_err(|_| {
        CliError::usage(format!(
            "--metrics: expected ADDRESS:PORT such as 127.0.0.1:9464 (or a bare port), found {:?}",
            crate::input::clip(text)
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use greenapi_settings::reconcile::Drift;

    #[test]
    fn a_record_and_a_cycle_show_in_the_exposition() {
        let m = Metrics::new();
        let drift: Drift = (&greenapi_settings::Change {
            field: "incomingWebhook",
            current: "no".into(),
            desired: "yes".into(),
            secret: false,
        })
            .into();
        let read = InstanceRecord {
            id: 1,
            at: SystemTime::now(),
            state: InstanceState::Drifted,
            drifts: vec![drift],
            error_kind: None,
            error: None,
            repair: None,
        };
        let mut repaired = read.clone();
        repaired.state = InstanceState::InSync;
        repaired.repair = Some(super::super::record::RepairRecord {
            stage: Default::default(),
            fields: vec!["incomingWebhook"],
            outcome: "converged",
            resends: 0,
            took: Duration::from_secs(1),
            still_wrong: vec![],
            error_kind: None,
        });
        // The read, then the repair's record repeating its drifts: one drift event.
        m.record(&read);
        m.record(&repaired);
        let now = SystemTime::now();
        m.cycle(&CycleSummary {
            started: Some(now - Duration::from_secs(2)),
            finished: Some(now),
            instances: 1,
            in_sync: 1,
            ..CycleSummary::default()
        });
        let text = m.encode();
        for line in [
            "greenapi_watch_instances{state=\"inSync\"} 1",
            "greenapi_watch_instances{state=\"drifted\"} 0",
            "greenapi_watch_drift_events_total{setting=\"incomingWebhook\"} 1",
            "greenapi_watch_repairs_total{setting=\"incomingWebhook\",outcome=\"converged\"} 1",
            "greenapi_watch_cycles_total 1",
            "greenapi_watch_cycle_duration_seconds_count 1",
        ] {
            assert!(text.contains(line), "{line}\n{text}");
        }
        assert!(text.ends_with("# EOF\n"), "{text}");
    }

    #[test]
    fn a_bare_port_is_loopback_and_garbage_is_refused() {
        assert_eq!(parse_addr("9464").unwrap().to_string(), "127.0.0.1:9464");
        assert_eq!(parse_addr("[::1]:9").unwrap().to_string(), "[::1]:9");
        assert!(parse_addr("localhost").is_err());
    }
}
