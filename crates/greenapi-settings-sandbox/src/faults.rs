//! Fault injection: a deterministic share of requests answered with a 5xx.
//!
//! Faults are spread evenly rather than drawn independently, so a test can count them: over
//! `n` requests exactly `⌊n·rate⌋` or one more fail. The seed (through a small xorshift
//! generator) picks where in the pattern the server starts and which code comes first.

use axum::http::StatusCode;

/// The codes injected, in turn.
const CODES: [StatusCode; 4] = [
    StatusCode::INTERNAL_SERVER_ERROR,
    StatusCode::BAD_GATEWAY,
    StatusCode::SERVICE_UNAVAILABLE,
    StatusCode::GATEWAY_TIMEOUT,
];

/// xorshift64: tiny, seedable, good enough to vary a phase.
#[derive(Clone, Debug)]
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
}
