//! The server's state: per-instance settings and counters behind one mutex, plus the fault
//! injector and the lock that orders writes of the state file.
//!
//! The std mutex is never held across an `.await`; the async `persist_lock` is, so accepted
//! changes reach the file in the order they were made. With a state file, each change is made
//! and written by a task of its own that the request only waits for: when a client hangs up,
//! its request is dropped, but the task keeps the lock until its write has landed, so an
//! older snapshot can never overwrite a newer, acknowledged one.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::StatusCode;
use greenapi_settings::redact::MIN_TOKEN_CHARS;
use greenapi_settings::{Settings, SettingsPatch};

use crate::config::SandboxConfig;
use crate::faults::{FaultInjector, LostWrites};
use crate::notifications::hub::Hub;
use crate::persist;
use crate::ratelimit::RateWindow;
use crate::request::{ApiMethod, Call};
use crate::server_stats::Counters;
use crate::stats::InstanceStats;
use crate::timeline::{later, DriftPolicy, Timeline};

/// One instance: its settings over time, its lost writes, and what happened.
#[derive(Debug, Default)]
pub(crate) struct InstanceState {
    timeline: Timeline,
    lost: LostWrites,
    restarts: u64,
    set_calls: u64,
    get_calls: u64,
    rejected: u64,
    rate_limited: u64,
    unauthorized: u64,
    quota_used: u64,
    window: RateWindow,
    /// The rate windows of receiveNotification and deleteNotification: a polling receiver
    /// calls both in a row, which one shared window would refuse.
    notify_windows: [RateWindow; 2],
    starting_until: Option<Instant>,
    /// The last getSettings answer as sent, with the settings it shows: sent again while
    /// they are unchanged (most reads), so the settings are serialised once per change.
    answer: Option<(Settings, Bytes)>,
}

/// What an accepted change (or a triggered drift) replaced, to undo it when the state file
/// cannot be written.
pub(crate) struct Checkpoint {
    timeline: Timeline,
    lost: LostWrites,
    restarts: u64,
    starting_until: Option<Instant>,
}

impl InstanceState {
    /// A fresh instance `id` (default settings, zero counters) under `config`.
    fn new(id: u64, config: &SandboxConfig) -> Self {
        InstanceState {
            lost: LostWrites::new(config.lost_write_rate, config.seed, id),
            ..InstanceState::default()
        }
    }

    /// The settings once every pending change and scheduled drift happened (what the state
    /// file keeps).
    pub(crate) fn eventual_settings(&self, policy: &DriftPolicy) -> Settings {
        self.timeline.eventual_settings(policy)
    }

    /// Restarts persisted or counted so far.
    pub(crate) fn restarts(&self) -> u64 {
        self.restarts
    }

    fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            timeline: self.timeline.clone(),
            lost: self.lost.clone(),
            restarts: self.restarts,
            starting_until: self.starting_until,
        }
    }

    fn restore(&mut self, c: Checkpoint) {
        self.timeline = c.timeline;
        self.lost = c.lost;
        self.restarts = c.restarts;
        self.starting_until = c.starting_until;
    }

    fn stats(&mut self, id: u64, now: Instant, policy: &DriftPolicy) -> InstanceStats {
        self.timeline.advance(Some(now), policy);
        InstanceStats {
            id_instance: id,
            restarts: self.restarts,
            set_settings_calls: self.set_calls,
            get_settings_calls: self.get_calls,
            rejected: self.rejected,
            rate_limited: self.rate_limited,
            unauthorized: self.unauthorized,
            quota_used: self.quota_used,
            settings: self.timeline.settings.clone(),
            pending: self.timeline.pending_patch(),
            lost_writes: self.lost.writes,
            lost_fields: self.lost.fields,
            unrepaired_lost_fields: self.lost.unrepaired(),
            drifts: self.timeline.drifts,
            drifted_fields: self.timeline.drifted_fields,
        }
    }
}

/// Whether a request may go on past the rate limit and the "starting" check.
pub(crate) enum Admission {
    /// Go on.
    Go,
    /// Over the rate limit; retry after `wait`.
    RateLimited {
        /// Time until one more request would be admitted.
        wait: Duration,
        /// The configured limit, for the message.
        per_second: u32,
    },
    /// The instance is restarting after a `setSettings`.
    Starting,
}

/// Everything the request handlers share.
pub(crate) struct Shared {
    /// Behaviour (its instance list is emptied: tokens live in `tokens` only).
    pub(crate) config: SandboxConfig,
    tokens: HashMap<u64, Box<[u8]>>,
    instances: Mutex<BTreeMap<u64, InstanceState>>,
    faults: Mutex<FaultInjector>,
    persist_lock: tokio::sync::Mutex<()>,
    /// Every instance's notifications (queues, records, delivery workers).
    pub(crate) notifications: Hub,
    /// Server-wide connection and handshake counters (not reset by a reset).
    pub(crate) counters: Counters,
    /// Test hook: delays of the next state-file writes, oldest first, so tests can make a
    /// write slow and race it against a newer one.
    #[cfg(test)]
    pub(crate) slow_writes: Mutex<std::collections::VecDeque<Duration>>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere must not take the whole sandbox down with it.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// Builds the state from `config`, loading the state file when there is one.
    pub(crate) fn new(mut config: SandboxConfig) -> io::Result<Self> {
        let mut tokens = HashMap::new();
        let mut instances = BTreeMap::new();
        for (id, token) in config.effective_instances() {
            // No client accepts a shorter token, so an instance with one could never be used.
            if token.chars().count() < MIN_TOKEN_CHARS {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "instance {id} has a token shorter than {MIN_TOKEN_CHARS} characters (no client accepts it; value not shown)"
                    ),
                ));
            }
            tokens.insert(id, token.into_bytes().into_boxed_slice());
            instances.insert(id, InstanceState::new(id, &config));
        }
        config.instances.clear();
        let mut queues = Vec::new();
        if let Some(path) = &config.state_file {
            for saved in persist::load(path)?.unwrap_or_default() {
                // Instances no longer configured are dropped: there is no token to serve them.
                if let Some(state) = instances.get_mut(&saved.id) {
                    state.timeline = Timeline::with_settings(saved.settings);
                    state.restarts = saved.restarts;
                    queues.extend(saved.notifications.map(|q| (saved.id, q)));
                }
            }
        }
        let notifications = Hub::new(config.notify.clone(), queues);
        let faults = FaultInjector::new(config.error_rate, config.seed);
        Ok(Shared {
            config,
            tokens,
            instances: Mutex::new(instances),
            faults: Mutex::new(faults),
            persist_lock: tokio::sync::Mutex::new(()),
            notifications,
            counters: Counters::default(),
            #[cfg(test)]
            slow_writes: Mutex::new(std::collections::VecDeque::new()),
        })
    }

    /// The settings instance `id` shows now (`None` if it is not served).
    pub(crate) fn current_settings(&self, id: u64) -> Option<Settings> {
        let now = Instant::now();
        self.with_instance(id, |inst| {
            inst.timeline.advance(Some(now), &self.config.drift);
            inst.timeline.settings.clone()
        })
    }

    /// Writes the state file now (if there is one), in order with every other write; like
    /// [`accept`](Self::accept), runs to the end even if the caller is dropped. For changes
    /// of the notification queues.
    pub(crate) async fn persist(self: &Arc<Self>) -> io::Result<()> {
        if self.config.state_file.is_none() {
            return Ok(());
        }
        let shared = Arc::clone(self);
        detached(async move {
            let _order = shared.persist_lock.lock().await;
            let snapshot = shared.snapshot(&lock(&shared.instances));
            shared.save(snapshot).await
        })
        .await
    }

    /// The token of a configured instance.
    pub(crate) fn token(&self, id: u64) -> Option<&[u8]> {
        self.tokens.get(&id).map(|t| &t[..])
    }

    /// Ids of every instance, ascending.
    pub(crate) fn instance_ids(&self) -> Vec<u64> {
        lock(&self.instances).keys().copied().collect()
    }

    fn with_instance<R>(&self, id: u64, f: impl FnOnce(&mut InstanceState) -> R) -> Option<R> {
        lock(&self.instances).get_mut(&id).map(f)
    }

    /// Counts an authenticated call, then applies the rate limit and the "starting" check.
    pub(crate) fn admit(&self, id: u64, call: Call, now: Instant) -> Admission {
        let limit = self.config.rate_limit;
        self.with_instance(id, |inst| {
            let window = match call {
                Call::Settings(ApiMethod::GetSettings) => {
                    inst.get_calls += 1;
                    &mut inst.window
                }
                Call::Settings(ApiMethod::SetSettings) => {
                    inst.set_calls += 1;
                    &mut inst.window
                }
                Call::Notifications(method) => &mut inst.notify_windows[method as usize],
            };
            if let Some(per_second) = limit {
                if let Err(wait) = window.admit(now, per_second) {
                    inst.rate_limited += 1;
                    return Admission::RateLimited { wait, per_second };
                }
            }
            if inst.starting_until.is_some_and(|until| now < until) {
                inst.rejected += 1;
                return Admission::Starting;
            }
            Admission::Go
        })
        .unwrap_or(Admission::Go)
    }

    /// Counts a request with a wrong token.
    pub(crate) fn count_unauthorized(&self, id: u64) {
        self.with_instance(id, |inst| inst.unauthorized += 1);
    }

    /// Counts a request answered with an error (other than 401 and 429).
    pub(crate) fn count_rejected(&self, id: u64) {
        self.with_instance(id, |inst| inst.rejected += 1);
    }

    /// The injected fault for this request, if any.
    pub(crate) fn roll_fault(&self) -> Option<StatusCode> {
        lock(&self.faults).roll()
    }

    /// Uses one call of the quota; `Err((used, total))` once it is spent.
    pub(crate) fn charge_quota(&self, id: u64) -> Result<(), (u64, u64)> {
        let Some(total) = self.config.quota else {
            return Ok(());
        };
        self.with_instance(id, |inst| {
            if inst.quota_used >= total {
                Err((inst.quota_used, total))
            } else {
                inst.quota_used += 1;
                Ok(())
            }
        })
        .unwrap_or(Ok(()))
    }

    /// The getSettings answer of instance `id` now, as sent: `render` serialises the settings
    /// it shows, and is only called when they changed since its last answer.
    pub(crate) fn settings_answer(
        &self,
        id: u64,
        now: Instant,
        render: impl FnOnce(&Settings) -> serde_json::Result<Vec<u8>>,
    ) -> Option<serde_json::Result<Bytes>> {
        let policy = &self.config.drift;
        self.with_instance(id, |inst| {
            inst.timeline.advance(Some(now), policy);
            let settings = &inst.timeline.settings;
            if let Some((shown, bytes)) = &inst.answer {
                if shown == settings {
                    return Ok(bytes.clone());
                }
            }
            let bytes = Bytes::from(render(settings)?);
            inst.answer = Some((settings.clone(), bytes.clone()));
            Ok(bytes)
        })
    }

    /// Accepts a valid patch: drops the fields a lost write loses, merges the rest (now or
    /// after the apply delay), counts a restart, and writes the state file before returning.
    /// If the file cannot be written the change is undone and the error returned.
    ///
    /// With a state file the work runs in a task of its own (see the module docs), which
    /// finishes even if the caller is dropped.
    pub(crate) async fn accept(self: &Arc<Self>, id: u64, patch: SettingsPatch) -> io::Result<()> {
        if self.config.state_file.is_none() {
            return self.accept_in_order(id, patch).await;
        }
        let shared = Arc::clone(self);
        detached(async move { shared.accept_in_order(id, patch).await }).await
    }

    async fn accept_in_order(&self, id: u64, patch: SettingsPatch) -> io::Result<()> {
        let _order = match self.config.state_file {
            Some(_) => Some(self.persist_lock.lock().await),
            None => None,
        };
        let (undo, snapshot) = {
            let mut map = lock(&self.instances);
            let now = Instant::now();
            let Some(inst) = map.get_mut(&id) else {
                return Err(io::Error::new(io::ErrorKind::NotFound, "unknown instance"));
            };
            let undo = inst.checkpoint();
            let policy = &self.config.drift;
            inst.timeline.advance(Some(now), policy);
            let (kept, _lost) = inst.lost.split(&patch);
            if !kept.is_empty() {
                inst.timeline
                    .push(later(now, self.config.apply_delay), kept);
                // With no apply delay the change is visible before the answer.
                inst.timeline.advance(Some(now), policy);
            }
            inst.restarts += 1;
            if !self.config.restart_duration.is_zero() {
                inst.starting_until = Some(now + self.config.restart_duration);
            }
            (undo, self.snapshot(&map))
        };
        if let Err(e) = self.save(snapshot).await {
            self.with_instance(id, |inst| {
                inst.restore(undo);
                inst.rejected += 1;
            });
            return Err(e);
        }
        Ok(())
    }

    /// The state to write, if there is a state file.
    fn snapshot(&self, map: &BTreeMap<u64, InstanceState>) -> Option<persist::Snapshot> {
        self.config
            .state_file
            .as_ref()
            .map(|_| persist::snapshot(map, &self.config.drift, &self.notifications))
    }

    /// A drift now on instance `id` (see [`Timeline::drift_now`]): to `values` if given,
    /// otherwise back from the most recent change. Written to the state file like an accepted
    /// change (and undone if it cannot be). Returns the fields that changed; `NotFound` for an
    /// instance that is not served.
    pub(crate) async fn drift(
        self: &Arc<Self>,
        id: u64,
        values: Option<SettingsPatch>,
    ) -> io::Result<Vec<&'static str>> {
        if self.config.state_file.is_none() {
            return self.drift_in_order(id, values).await;
        }
        let shared = Arc::clone(self);
        tokio::spawn(async move { shared.drift_in_order(id, values).await })
            .await
            .unwrap_or_else(|e| Err(io::Error::other(e)))
    }

    async fn drift_in_order(
        &self,
        id: u64,
        values: Option<SettingsPatch>,
    ) -> io::Result<Vec<&'static str>> {
        let _order = match self.config.state_file {
            Some(_) => Some(self.persist_lock.lock().await),
            None => None,
        };
        let (undo, changed, snapshot) = {
            let mut map = lock(&self.instances);
            let Some(inst) = map.get_mut(&id) else {
                return Err(io::Error::new(io::ErrorKind::NotFound, "unknown instance"));
            };
            let undo = inst.checkpoint();
            let policy = &self.config.drift;
            inst.timeline.advance(Some(Instant::now()), policy);
            let changed = inst.timeline.drift_now(values.as_ref(), policy);
            let snapshot = if changed.is_empty() {
                None
            } else {
                self.snapshot(&map)
            };
            (undo, changed, snapshot)
        };
        if let Err(e) = self.save(snapshot).await {
            self.with_instance(id, |inst| inst.restore(undo));
            return Err(e);
        }
        Ok(changed)
    }

    /// Every instance back to default settings and zero counters; faults start over.
    /// Like [`accept`](Self::accept), runs to the end even if the caller is dropped.
    pub(crate) async fn reset(self: &Arc<Self>) -> io::Result<()> {
        if self.config.state_file.is_none() {
            return self.reset_in_order().await;
        }
        let shared = Arc::clone(self);
        detached(async move { shared.reset_in_order().await }).await
    }

    /// Waits until every change made so far is in the state file.
    pub(crate) async fn flushed(&self) {
        drop(self.persist_lock.lock().await);
    }

    async fn reset_in_order(&self) -> io::Result<()> {
        let _order = match self.config.state_file {
            Some(_) => Some(self.persist_lock.lock().await),
            None => None,
        };
        let snapshot = {
            let mut map = lock(&self.instances);
            for (id, inst) in map.iter_mut() {
                *inst = InstanceState::new(*id, &self.config);
            }
            self.notifications.reset();
            self.snapshot(&map)
        };
        lock(&self.faults).reset();
        self.save(snapshot).await
    }

    async fn save(&self, snapshot: Option<persist::Snapshot>) -> io::Result<()> {
        let (Some(path), Some(snapshot)) = (self.config.state_file.clone(), snapshot) else {
            return Ok(());
        };
        #[cfg(test)]
        let slow = lock(&self.slow_writes).pop_front();
        tokio::task::spawn_blocking(move || {
            #[cfg(test)]
            if let Some(delay) = slow {
                std::thread::sleep(delay);
            }
            persist::save(&path, &snapshot)
        })
        .await
        .unwrap_or_else(|e| Err(io::Error::other(e)))
    }

    /// Inspection data of one instance.
    pub(crate) fn stats(&self, id: u64) -> Option<InstanceStats> {
        let now = Instant::now();
        self.with_instance(id, |inst| inst.stats(id, now, &self.config.drift))
    }

    /// Inspection data of every instance, by ascending id.
    pub(crate) fn all_stats(&self) -> Vec<InstanceStats> {
        let now = Instant::now();
        lock(&self.instances)
            .iter_mut()
            .map(|(id, inst)| inst.stats(*id, now, &self.config.drift))
            .collect()
    }
}

/// Runs `work` as a task of its own and waits for it; dropping the returned future leaves
/// the task running to its end.
async fn detached(
    work: impl std::future::Future<Output = io::Result<()>> + Send + 'static,
) -> io::Result<()> {
    tokio::spawn(work)
        .await
        .unwrap_or_else(|e| Err(io::Error::other(e)))
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[test]
    fn an_empty_or_short_token_is_refused_at_start_without_showing_it() {
        for token in ["", "Zq7-4k2"] {
            let err = Shared::new(SandboxConfig::default().with_instance(1, token))
                .err()
                .unwrap();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
            assert!(err.to_string().contains("shorter than 8"), "{err}");
            assert!(
                token.is_empty() || !err.to_string().contains(token),
                "{err}"
            );
        }
        assert!(Shared::new(SandboxConfig::default().with_instance(1, "Zq7-4k2p")).is_ok());
    }

    #[test]
    fn quota_counts_calls_until_spent() {
        let shared = Shared::new(SandboxConfig::default().quota(Some(2))).unwrap();
        let id = crate::DEFAULT_INSTANCE_ID;
        assert_eq!(shared.charge_quota(id), Ok(()));
        assert_eq!(shared.charge_quota(id), Ok(()));
        assert_eq!(shared.charge_quota(id), Err((2, 2)));
    }

    #[test]
    fn the_answer_is_serialised_again_only_when_the_settings_change() {
        let shared = Shared::new(SandboxConfig::default()).expect("state");
        let id = shared.instance_ids()[0];
        let renders = Cell::new(0);
        let answer = || {
            let render = |s: &Settings| {
                renders.set(renders.get() + 1);
                serde_json::to_vec(s)
            };
            let bytes = shared.settings_answer(id, Instant::now(), render);
            bytes.expect("instance").expect("serialised")
        };
        let first = answer();
        assert_eq!(answer(), first);
        assert_eq!(renders.get(), 1);
        shared.with_instance(id, |inst| inst.timeline.settings.incoming_webhook = true);
        let changed = answer();
        assert_ne!(changed, first);
        assert!(
            Settings::from_plain_json(&changed)
                .unwrap()
                .incoming_webhook
        );
        assert_eq!(answer(), changed);
        assert_eq!(renders.get(), 2);
        assert!(shared
            .settings_answer(7, Instant::now(), serde_json::to_vec)
            .is_none());
    }
}
