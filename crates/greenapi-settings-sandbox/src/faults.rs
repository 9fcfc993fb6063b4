//! Fault injection: a deterministic share of requests answered with a 5xx, and lost writes
//! (fields of an acknowledged `setSettings` that never take effect).
//!
//! 5xx faults are spread evenly rather than drawn independently, so a test can count them:
//! over `n` requests exactly `⌊n·rate⌋` or one more fail. The seed (through a small xorshift
//! generator) picks where in the pattern the server starts and which code comes first.
//!
//! Lost writes are drawn field by field from a generator of each instance's own, seeded from
//! the sandbox's seed and the instance id: the same calls to the same instance lose the same
//! fields, whatever other instances receive meanwhile.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use greenapi_settings::SettingsPatch;

/// The codes injected, in turn.
const CODES: [StatusCode; 4] = [
    StatusCode::INTERNAL_SERVER_ERROR,
    StatusCode::BAD_GATEWAY,
    StatusCode::SERVICE_UNAVAILABLE,
    StatusCode::GATEWAY_TIMEOUT,
];

/// xorshift64: tiny, seedable, good enough to vary a phase or draw a field.
#[derive(Clone, Debug, PartialEq, Eq)]
struct XorShift64(u64);

impl XorShift64 {
    fn new(seed: u64) -> Self {
        // Zero is a fixed point of xorshift; mix the seed so 0 is a valid seed too.
        XorShift64((seed ^ 0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Uniform in `[0, 1)`.
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Decides, request by request, whether to fail and with which code.
#[derive(Clone, Debug)]
pub(crate) struct FaultInjector {
    rate: f64,
    seed: u64,
    credit: f64,
    next_code: usize,
}

impl FaultInjector {
    /// An injector failing a `rate` share (0.0–1.0) of requests.
    pub(crate) fn new(rate: f64, seed: u64) -> Self {
        let mut rng = XorShift64::new(seed);
        FaultInjector {
            rate,
            seed,
            credit: rng.next_f64(),
            next_code: (rng.next_u64() % CODES.len() as u64) as usize,
        }
    }

    /// Back to the state right after [`new`](Self::new).
    pub(crate) fn reset(&mut self) {
        *self = Self::new(self.rate, self.seed);
    }

    /// The status to fail this request with, if it is to fail.
    pub(crate) fn roll(&mut self) -> Option<StatusCode> {
        if self.rate <= 0.0 {
            return None;
        }
        self.credit += self.rate;
        if self.credit < 1.0 {
            return None;
        }
        self.credit -= 1.0;
        let code = CODES[self.next_code % CODES.len()];
        self.next_code = (self.next_code + 1) % CODES.len();
        Some(code)
    }
}

/// splitmix64's finaliser: spreads nearby inputs (consecutive instance ids) far apart.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Keeps the lost-write stream apart from the 5xx stream of the same seed.
const LOST_WRITE_STREAM: u64 = 0x4C05_7717_E5ED_0001;

/// One instance's lost writes: which fields of each acknowledged `setSettings` are dropped,
/// and what was dropped so far.
///
/// Every field of a call is dropped independently with probability `rate`: one draw per field
/// the call sets, in spec order, whatever the rate (so rate 0 drops nothing and rate 1 drops
/// everything, exactly, and a given seed loses the same fields of the same calls).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct LostWrites {
    rate: f64,
    rng: XorShift64,
    /// Calls that dropped at least one field.
    pub(crate) writes: u64,
    /// Fields dropped, over all calls.
    pub(crate) fields: u64,
    /// Fields dropped and not kept by any later call since (API names).
    unrepaired: BTreeSet<&'static str>,
}

impl Default for LostWrites {
    fn default() -> Self {
        LostWrites::new(0.0, crate::config::DEFAULT_SEED, 0)
    }
}

impl LostWrites {
    /// Lost writes of instance `id` at `rate` (0.0–1.0) under the sandbox's `seed`.
    pub(crate) fn new(rate: f64, seed: u64, id: u64) -> Self {
        LostWrites {
            rate,
            rng: XorShift64::new(mix(seed ^ mix(id ^ LOST_WRITE_STREAM))),
            writes: 0,
            fields: 0,
            unrepaired: BTreeSet::new(),
        }
    }

    /// Splits an acknowledged call into the fields that take effect and the names of those
    /// that are lost, and counts the loss.
    pub(crate) fn split(&mut self, patch: &SettingsPatch) -> (SettingsPatch, Vec<&'static str>) {
        let names = patch.field_names();
        let mut lost = Vec::new();
        for &name in &names {
            let draw = self.rng.next_f64();
            if draw < self.rate {
                lost.push(name);
                self.unrepaired.insert(name);
            } else {
                self.unrepaired.remove(name);
            }
        }
        if lost.is_empty() {
            return (patch.clone(), lost);
        }
        let mut kept = SettingsPatch::new();
        for name in names.into_iter().filter(|name| !lost.contains(name)) {
            if let Some(value) = patch.get_json(name) {
                // A value read from a patch always parses back into one.
                let _ = kept.set_json(name, &value);
            }
        }
        self.writes += 1;
        self.fields += lost.len() as u64;
        (kept, lost)
    }

    /// Fields lost and not kept by a later call since, in spec order.
    pub(crate) fn unrepaired(&self) -> Vec<&'static str> {
        greenapi_settings::FIELDS
            .iter()
            .map(|f| f.name)
            .filter(|name| self.unrepaired.contains(name))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(rate: f64, seed: u64, n: usize) -> Vec<Option<StatusCode>> {
        let mut f = FaultInjector::new(rate, seed);
        (0..n).map(|_| f.roll()).collect()
    }

    #[test]
    fn a_quarter_of_twenty_requests_is_exactly_five_for_any_seed() {
        for seed in [0, 1, 42, u64::MAX] {
            let failed = run(0.25, seed, 20).iter().flatten().count();
            assert_eq!(failed, 5, "seed {seed}");
        }
    }

    #[test]
    fn codes_cycle_through_500_502_503_504() {
        let codes: Vec<u16> = run(1.0, 7, 8)
            .into_iter()
            .flatten()
            .map(|c| c.as_u16())
            .collect();
        assert_eq!(codes.len(), 8);
        let start = codes[0];
        let order = [500, 502, 503, 504];
        let i = order.iter().position(|c| *c == start).unwrap();
        let expected: Vec<u16> = (0..8).map(|k| order[(i + k) % 4]).collect();
        assert_eq!(codes, expected);
    }

    #[test]
    fn same_seed_same_faults_and_reset_replays_them() {
        assert_eq!(run(0.3, 9, 50), run(0.3, 9, 50));
        let mut f = FaultInjector::new(0.3, 9);
        let first: Vec<_> = (0..50).map(|_| f.roll()).collect();
        f.reset();
        let again: Vec<_> = (0..50).map(|_| f.roll()).collect();
        assert_eq!(first, again);
    }

    #[test]
    fn zero_rate_never_fails() {
        assert!(run(0.0, 1, 100).iter().all(Option::is_none));
    }

    fn three_fields() -> SettingsPatch {
        SettingsPatch::new()
            .incoming_webhook(true)
            .outgoing_webhook(true)
            .delay_send_messages_milliseconds(1500)
    }

    #[test]
    fn lost_write_rates_zero_and_one_are_exact() {
        let mut none = LostWrites::new(0.0, 3, 7);
        let mut all = LostWrites::new(1.0, 3, 7);
        for _ in 0..200 {
            let (kept, lost) = none.split(&three_fields());
            assert_eq!((kept, lost.len()), (three_fields(), 0));
            let (kept, lost) = all.split(&three_fields());
            assert!(kept.is_empty());
            assert_eq!(lost, three_fields().field_names());
        }
        assert_eq!((none.writes, none.fields), (0, 0));
        assert_eq!((all.writes, all.fields), (200, 600));
        assert_eq!(all.unrepaired(), three_fields().field_names());
    }

    #[test]
    fn the_same_seed_and_instance_lose_the_same_fields_and_others_differ() {
        let losses = |seed: u64, id: u64| -> Vec<Vec<&'static str>> {
            let mut lw = LostWrites::new(0.5, seed, id);
            (0..64).map(|_| lw.split(&three_fields()).1).collect()
        };
        assert_eq!(losses(9, 1), losses(9, 1));
        assert_ne!(losses(9, 1), losses(9, 2));
        assert_ne!(losses(9, 1), losses(10, 1));
        let dropped: usize = losses(9, 1).iter().map(Vec::len).sum();
        assert!(
            (64..=128).contains(&dropped),
            "about half of 192: {dropped}"
        );
    }

    #[test]
    fn a_later_kept_field_repairs_an_earlier_loss() {
        let mut lw = LostWrites::new(1.0, 1, 1);
        lw.split(&three_fields());
        lw.rate = 0.0;
        lw.split(&SettingsPatch::new().outgoing_webhook(false));
        assert_eq!(
            lw.unrepaired(),
            ["delaySendMessagesMilliseconds", "incomingWebhook"]
        );
        assert_eq!((lw.writes, lw.fields), (1, 3));
    }
}
