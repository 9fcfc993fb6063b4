//! The latencies of one loop (or of one fleet run's instances) and its wall time.

use std::time::Duration;

use super::cpu;

/// Latency samples of one loop and its wall time.
pub struct Samples {
    pub times: Vec<Duration>,
    pub wall: Duration,
    /// Requests per sample (a fleet instance makes two).
    pub requests_per_sample: usize,
    /// Where the time went (sequential loops only).
    pub split: Option<cpu::Split>,
}

impl Samples {
    pub fn percentile(&self, p: f64) -> Duration {
        let mut v = self.times.clone();
        v.sort_unstable();
        // Nearest rank.
        let rank = ((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
        v[rank.min(v.len()) - 1]
    }

    pub fn mean(&self) -> Duration {
        self.times.iter().sum::<Duration>() / self.times.len().max(1) as u32
    }

    pub fn per_second(&self) -> f64 {
        (self.times.len() * self.requests_per_sample) as f64 / self.wall.as_secs_f64()
    }
}
