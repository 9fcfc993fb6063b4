//! Retry policy: exponential backoff with full jitter, bounded in attempts and total time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How the client retries retryable failures (429, 502/503/504, transport errors, timeouts).
///
/// ```
/// use std::time::Duration;
/// let p = greenapi_settings::RetryPolicy::default().max_attempts(5).base_delay(Duration::from_millis(100));
/// assert_eq!(p.attempts(), 5);
/// assert!(greenapi_settings::RetryPolicy::none().attempts() == 1);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
    max_elapsed: Duration,
}

impl Default for RetryPolicy {
    /// 4 attempts, backoff from 500 ms doubling up to 8 s, at most 30 s spent waiting in all.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            max_elapsed: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// Never retry: one attempt.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Total attempts, including the first (at least 1).
    #[must_use]
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// The first backoff; each later one doubles, up to [`max_delay`](Self::max_delay).
    #[must_use]
    pub fn base_delay(mut self, d: Duration) -> Self {
        self.base_delay = d;
        self
    }

    /// The longest single backoff.
    #[must_use]
    pub fn max_delay(mut self, d: Duration) -> Self {
        self.max_delay = d;
        self
    }

    /// The most time spent waiting between attempts, in all; a retry that would exceed it is
    /// not made and the last error is returned.
    #[must_use]
    pub fn max_elapsed(mut self, d: Duration) -> Self {
        self.max_elapsed = d;
        self
    }

    /// Total attempts allowed.
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The wait before attempt `attempt + 1` (attempt counts from 1), honouring a server's
    /// `Retry-After` as a floor. Full jitter: uniform in `[cap/2, cap]`.
    pub(crate) fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
        let cap = exp.min(self.max_delay);
        let jittered = cap / 2 + cap.mul_f64(jitter() / 2.0);
        jittered.max(retry_after.unwrap_or_default())
    }

    pub(crate) fn budget(&self) -> Duration {
        self.max_elapsed
    }
}

/// A cheap, good-enough uniform number in [0, 1) (xorshift over a shared seed).
fn jitter() -> f64 {
    static STATE: AtomicU64 = AtomicU64::new(0);
    let mut x = STATE.load(Ordering::Relaxed);
    if x == 0 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9E37_79B9_7F4A_7C15);
        x = nanos | 1;
    }
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    STATE.store(x, Ordering::Relaxed);
    (x >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_is_capped_and_honours_retry_after() {
        let p = RetryPolicy::default()
            .base_delay(Duration::from_millis(100))
            .max_delay(Duration::from_millis(400));
        for _ in 0..50 {
            let b1 = p.backoff(1, None);
            assert!(
                b1 >= Duration::from_millis(50) && b1 <= Duration::from_millis(100),
                "{b1:?}"
            );
            let b3 = p.backoff(3, None);
            assert!(
                b3 >= Duration::from_millis(200) && b3 <= Duration::from_millis(400),
                "{b3:?}"
            );
            let b9 = p.backoff(9, None);
            assert!(b9 <= Duration::from_millis(400), "{b9:?}");
            assert!(p.backoff(1, Some(Duration::from_secs(2))) >= Duration::from_secs(2));
        }
    }
}
