//! One instance's settings over time: accepted changes that are not visible yet (the apply
//! delay), changes that took effect and may drift back, and the drift itself.
//!
//! Nothing runs in the background: every reader first [`advance`](Timeline::advance)s the
//! timeline to "now", playing the due events in time order (a change becoming visible before
//! a drift due at the same instant). So what a client sees depends only on when it asks, and
//! the state file can hold the settings as they will be once every scheduled event happened.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use greenapi_settings::{Settings, SettingsPatch};

/// Changes remembered per instance for a scheduled drift; older ones are forgotten (they
/// never drift). Only reached with the rate limit off and a long drift delay.
const MAX_REMEMBERED: usize = 1024;

/// When and what drifts (from [`SandboxConfig`](crate::SandboxConfig)).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct DriftPolicy {
    /// Time from a change taking effect to its drift; `None`: no scheduled drift.
    pub(crate) after: Option<Duration>,
    /// Fields that may drift (API names); `None`: every field the change set.
    pub(crate) fields: Option<Vec<&'static str>>,
    /// Scheduled drifts per instance at most; `None`: no limit.
    pub(crate) limit: Option<u64>,
}

impl DriftPolicy {
    fn may_drift(&self, name: &str) -> bool {
        self.fields
            .as_ref()
            .is_none_or(|fields| fields.contains(&name))
    }
}

/// A change that took effect: the values it set and the ones they replaced.
#[derive(Clone, Debug)]
struct Effect {
    at: Instant,
    set: SettingsPatch,
    before: SettingsPatch,
}

/// `at + d`, or a moment too far away to matter when that does not fit in an `Instant`.
pub(crate) fn later(at: Instant, d: Duration) -> Instant {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
    at.checked_add(d)
        .or_else(|| at.checked_add(CENTURY))
        .unwrap_or(at)
}

/// The settings of one instance and the events still to come.
#[derive(Clone, Debug, Default)]
pub(crate) struct Timeline {
    /// What `getSettings` shows (once advanced to now).
    pub(crate) settings: Settings,
    /// Accepted patches not yet visible, oldest first, each with the moment it becomes visible.
    pending: VecDeque<(Instant, SettingsPatch)>,
    /// Changes that took effect and have not drifted (with no scheduled drift: the last one,
    /// for a drift triggered without values).
    effects: VecDeque<Effect>,
    /// Scheduled drifts that happened (for the limit).
    scheduled_drifts: u64,
    /// Drifts that changed at least one field (scheduled and triggered).
    pub(crate) drifts: u64,
    /// Fields changed by drifts.
    pub(crate) drifted_fields: u64,
}

impl Timeline {
    /// Settings loaded from the state file, nothing to come.
    pub(crate) fn with_settings(settings: Settings) -> Self {
        Timeline {
            settings,
            ..Timeline::default()
        }
    }

    /// Schedules `patch` to become visible at `due` (not before the patches already pending).
    pub(crate) fn push(&mut self, due: Instant, patch: SettingsPatch) {
        self.pending.push_back((due, patch));
    }

    /// Plays every event due at or before `now` (all of them with `None`), in time order.
    pub(crate) fn advance(&mut self, now: Option<Instant>, policy: &DriftPolicy) {
        loop {
            let next_change = self.pending.front().map(|(due, _)| *due);
            let next_drift = policy
                .after
                .and_then(|after| self.effects.front().map(|e| later(e.at, after)));
            let (at, is_change) = match (next_change, next_drift) {
                (None, None) => break,
                (Some(c), Some(d)) if d < c => (d, false),
                (Some(c), _) => (c, true),
                (None, Some(d)) => (d, false),
            };
            if now.is_some_and(|now| at > now) {
                break;
            }
            if is_change {
                if let Some((due, patch)) = self.pending.pop_front() {
                    self.take_effect(due, patch, policy);
                }
            } else if let Some(effect) = self.effects.pop_front() {
                // Past the limit, a due drift is dropped: the change sticks.
                let allowed = policy
                    .limit
                    .is_none_or(|limit| self.scheduled_drifts < limit);
                if allowed && !self.revert(&effect, policy).is_empty() {
                    self.scheduled_drifts += 1;
                }
            }
        }
    }

    fn take_effect(&mut self, at: Instant, set: SettingsPatch, policy: &DriftPolicy) {
        let before = set.current_values(&self.settings);
        set.apply_to(&mut self.settings);
        self.effects.push_back(Effect { at, set, before });
        let keep = if policy.after.is_some() {
            MAX_REMEMBERED
        } else {
            1
        };
        while self.effects.len() > keep {
            self.effects.pop_front();
        }
    }

    /// Puts back the values `effect` replaced, for the fields that may drift and still hold
    /// the value it set; counts a drift if anything changed. Returns the fields changed.
    fn revert(&mut self, effect: &Effect, policy: &DriftPolicy) -> Vec<&'static str> {
        let mut back = SettingsPatch::new();
        for name in effect.set.field_names() {
            if !policy.may_drift(name) {
                continue;
            }
            let (Some(set), Some(old)) = (effect.set.get_json(name), effect.before.get_json(name))
            else {
                continue;
            };
            if set != old && self.settings.get_json(name).as_ref() == Some(&set) {
                let _ = back.set_json(name, &old);
            }
        }
        self.drift_to(&back)
    }

    /// A drift now. With values: those fields take them. Without: the most recent change that
    /// took effect and has not drifted is reverted (see [`revert`](Self::revert)) and will not
    /// drift again. Returns the fields that changed (API names, spec order).
    pub(crate) fn drift_now(
        &mut self,
        to: Option<&SettingsPatch>,
        policy: &DriftPolicy,
    ) -> Vec<&'static str> {
        match to {
            Some(values) => self.drift_to(values),
            None => match self.effects.pop_back() {
                Some(effect) => self.revert(&effect, policy),
                None => Vec::new(),
            },
        }
    }

    /// Writes `values` into the settings as a drift; counts it if anything changed.
    fn drift_to(&mut self, values: &SettingsPatch) -> Vec<&'static str> {
        let changed: Vec<&'static str> = values
            .field_names()
            .into_iter()
            .filter(|n| values.get_json(n) != self.settings.get_json(n))
            .collect();
        if !changed.is_empty() {
            values.apply_to(&mut self.settings);
            self.drifts += 1;
            self.drifted_fields += changed.len() as u64;
        }
        changed
    }

    /// The settings once every pending change and scheduled drift has happened.
    pub(crate) fn eventual_settings(&self, policy: &DriftPolicy) -> Settings {
        let mut future = self.clone();
        future.advance(None, policy);
        future.settings
    }

    /// Accepted changes not visible yet, merged.
    pub(crate) fn pending_patch(&self) -> Option<SettingsPatch> {
        let mut iter = self.pending.iter();
        let (_, first) = iter.next()?;
        let mut merged = first.clone();
        for (_, patch) in iter {
            merged.merge(patch);
        }
        Some(merged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drift_after(ms: u64) -> DriftPolicy {
        DriftPolicy {
            after: Some(Duration::from_millis(ms)),
            ..DriftPolicy::default()
        }
    }

    fn ms(t0: Instant, ms: u64) -> Option<Instant> {
        Some(t0 + Duration::from_millis(ms))
    }

    #[test]
    fn pending_patches_become_visible_in_order_when_due() {
        let t0 = Instant::now();
        let policy = DriftPolicy::default();
        let mut tl = Timeline::default();
        tl.push(
            t0 + Duration::from_secs(1),
            SettingsPatch::new().delay_send_messages_milliseconds(1000),
        );
        tl.push(
            t0 + Duration::from_secs(2),
            SettingsPatch::new()
                .delay_send_messages_milliseconds(2000)
                .incoming_webhook(true),
        );
        assert_eq!(
            tl.eventual_settings(&policy)
                .delay_send_messages_milliseconds,
            2000
        );
        tl.advance(Some(t0), &policy);
        assert_eq!(tl.settings.delay_send_messages_milliseconds, 0);
        let pending = tl.pending_patch().unwrap();
        assert_eq!(pending.delay_send_messages_milliseconds, Some(2000));
        assert_eq!(pending.incoming_webhook, Some(true));
        tl.advance(ms(t0, 1000), &policy);
        assert_eq!(tl.settings.delay_send_messages_milliseconds, 1000);
        tl.advance(ms(t0, 5000), &policy);
        assert_eq!(tl.settings.delay_send_messages_milliseconds, 2000);
        assert!(tl.settings.incoming_webhook);
        assert!(tl.pending_patch().is_none());
    }

    #[test]
    fn a_change_drifts_back_after_the_delay_counted_once() {
        let t0 = Instant::now();
        let policy = drift_after(500);
        let mut tl = Timeline::default();
        tl.push(t0, SettingsPatch::new().incoming_webhook(true));
        tl.advance(Some(t0), &policy);
        assert!(tl.settings.incoming_webhook);
        assert!(!tl.eventual_settings(&policy).incoming_webhook);
        tl.advance(ms(t0, 499), &policy);
        assert!(tl.settings.incoming_webhook);
        tl.advance(ms(t0, 500), &policy);
        assert!(!tl.settings.incoming_webhook);
        tl.advance(ms(t0, 5000), &policy);
        assert_eq!((tl.drifts, tl.drifted_fields), (1, 1));
    }

    #[test]
    fn drift_counts_from_when_the_change_became_visible_and_spares_later_changes() {
        let t0 = Instant::now();
        let policy = drift_after(500);
        let mut tl = Timeline::default();
        // Visible at 300 ms (apply delay), drifts at 800 ms.
        tl.push(t0 + Duration::from_millis(300), {
            SettingsPatch::new()
                .incoming_webhook(true)
                .outgoing_webhook(true)
        });
        // outgoingWebhook set again (to another value) at 600 ms: not the first change's to undo.
        tl.push(
            t0 + Duration::from_millis(600),
            SettingsPatch::new().outgoing_webhook(false),
        );
        tl.advance(ms(t0, 799), &policy);
        assert!(tl.settings.incoming_webhook);
        tl.advance(ms(t0, 800), &policy);
        assert!(!tl.settings.incoming_webhook);
        assert_eq!((tl.drifts, tl.drifted_fields), (1, 1));
        // The second change drifts at 1100 ms back to `true` (what it replaced).
        tl.advance(ms(t0, 1100), &policy);
        assert!(tl.settings.outgoing_webhook);
        assert_eq!((tl.drifts, tl.drifted_fields), (2, 2));
    }

    #[test]
    fn only_the_named_fields_drift_and_the_limit_holds() {
        let t0 = Instant::now();
        let policy = DriftPolicy {
            fields: Some(vec!["incomingWebhook"]),
            limit: Some(1),
            ..drift_after(100)
        };
        let both = SettingsPatch::new()
            .incoming_webhook(true)
            .outgoing_webhook(true);
        let mut tl = Timeline::default();
        tl.push(t0, both.clone());
        tl.advance(ms(t0, 100), &policy);
        assert!(!tl.settings.incoming_webhook);
        assert!(tl.settings.outgoing_webhook);
        tl.push(t0 + Duration::from_millis(200), both);
        tl.advance(ms(t0, 1000), &policy);
        assert!(
            tl.settings.incoming_webhook,
            "the limit of one drift is used"
        );
        assert_eq!((tl.drifts, tl.drifted_fields), (1, 1));
    }

    #[test]
    fn a_triggered_drift_sets_values_or_reverts_the_last_change_once() {
        let t0 = Instant::now();
        let policy = DriftPolicy::default();
        let mut tl = Timeline::default();
        tl.push(
            t0,
            SettingsPatch::new().delay_send_messages_milliseconds(1500),
        );
        tl.push(t0, SettingsPatch::new().incoming_webhook(true));
        tl.advance(Some(t0), &policy);
        assert_eq!(tl.drift_now(None, &policy), ["incomingWebhook"]);
        assert!(!tl.settings.incoming_webhook);
        assert_eq!(tl.settings.delay_send_messages_milliseconds, 1500);
        assert!(
            tl.drift_now(None, &policy).is_empty(),
            "only the last is kept"
        );
        let to = SettingsPatch::new()
            .delay_send_messages_milliseconds(1500)
            .outgoing_webhook(true);
        assert_eq!(tl.drift_now(Some(&to), &policy), ["outgoingWebhook"]);
        assert_eq!((tl.drifts, tl.drifted_fields), (2, 2));
    }
}
