//! Per-instance rate limit: a sliding one-second window over admitted requests.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(1);

/// The admitted requests of one instance within the last second.
#[derive(Debug, Default)]
pub(crate) struct RateWindow {
    hits: VecDeque<Instant>,
}

impl RateWindow {
    /// Admits (and records) a request at `now` when fewer than `per_second` were admitted in
    /// the preceding second; otherwise returns how long until one more would be.
    pub(crate) fn admit(&mut self, now: Instant, per_second: u32) -> Result<(), Duration> {
        while let Some(&first) = self.hits.front() {
            if now.saturating_duration_since(first) >= WINDOW {
                self.hits.pop_front();
            } else {
                break;
            }
        }
        let limit = usize::try_from(per_second).unwrap_or(usize::MAX);
        if self.hits.len() < limit {
            self.hits.push_back(now);
            return Ok(());
        }
        let oldest = self.hits.front().copied().unwrap_or(now);
        Err(WINDOW.saturating_sub(now.saturating_duration_since(oldest)))
    }
}

/// The `Retry-After` value for a wait: whole seconds, rounded up, at least 1.
pub(crate) fn retry_after_secs(wait: Duration) -> u64 {
    let whole = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    whole.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_up_to_the_limit_within_a_second_then_again_after_it() {
        let t0 = Instant::now();
        let mut w = RateWindow::default();
        assert!(w.admit(t0, 2).is_ok());
        assert!(w.admit(t0 + Duration::from_millis(100), 2).is_ok());
        let wait = w.admit(t0 + Duration::from_millis(200), 2).unwrap_err();
        assert_eq!(wait, Duration::from_millis(800));
        assert!(w.admit(t0 + Duration::from_millis(1000), 2).is_ok());
    }

    #[test]
    fn rejected_requests_do_not_extend_the_wait() {
        let t0 = Instant::now();
        let mut w = RateWindow::default();
        assert!(w.admit(t0, 1).is_ok());
        for ms in [10, 500, 900] {
            assert!(w.admit(t0 + Duration::from_millis(ms), 1).is_err());
        }
        assert!(w.admit(t0 + Duration::from_secs(1), 1).is_ok());
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds_and_is_at_least_one() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1000)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1001)), 2);
    }
}
