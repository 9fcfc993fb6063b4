//! Per-instance backoff of the watch loop. An instance that failed is skipped for a growing
//! number of cycles (1, 2, 4, ... up to [`MAX_SKIP`]) so that a dead host does not cost a
//! request every cycle; an instance whose credentials were refused (`auth`, `forbidden`) or
//! whose configuration is wrong (`config`) is parked: not contacted again, only reported, until
//! the settings file or the instances file changes (a reload starts every instance afresh).

/// The most cycles an unreachable instance is skipped in a row.
pub const MAX_SKIP: u32 = 16;

/// Error kinds that retrying cannot fix: the instance is parked until its files change.
const PERMANENT: [&str; 3] = ["auth", "forbidden", "config"];

/// One instance's backoff state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Backoff {
    failures: u32,
    skip: u32,
    parked: Option<&'static str>,
}

impl Backoff {
    /// Whether the instance is contacted this cycle. A skipped cycle counts down the skip.
    pub fn due(&mut self) -> bool {
        if self.parked.is_some() {
            return false;
        }
        if self.skip > 0 {
            self.skip -= 1;
            return false;
        }
        true
    }

    /// The error kind an instance is parked for, if it is.
    pub fn parked(&self) -> Option<&'static str> {
        self.parked
    }

    /// After a cycle's work on the instance: `failure` is the error kind when its settings
    /// could not be read (or a repair failed), `None` when it was read.
    pub fn after(&mut self, failure: Option<&'static str>) {
        match failure {
            None => *self = Backoff::default(),
            Some(kind) if PERMANENT.contains(&kind) => self.parked = Some(kind),
            Some(_) => {
                self.failures = self.failures.saturating_add(1);
                // 1st failure: contacted again next cycle; then skip 1, 3, 7, 15, 16, 16 ...
                let exp = self.failures.min(6) - 1;
                self.skip = ((1u32 << exp) - 1).min(MAX_SKIP);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(b: &mut Backoff, cycles: usize, fails: bool) -> String {
        (0..cycles)
            .map(|_| {
                if b.due() {
                    b.after(fails.then_some("transport"));
                    'x'
                } else {
                    '.'
                }
            })
            .collect()
    }

    #[test]
    fn failures_back_off_exponentially_up_to_a_cap_and_a_read_resets() {
        let mut b = Backoff::default();
        assert_eq!(
            pattern(&mut b, 40, true),
            "xx.x...x.......x...............x........"
        );
        b.after(None);
        assert_eq!(pattern(&mut b, 3, false), "xxx");
    }

    #[test]
    fn auth_errors_park_the_instance_until_it_is_reset() {
        let mut b = Backoff::default();
        assert!(b.due());
        b.after(Some("auth"));
        assert_eq!(b.parked(), Some("auth"));
        assert_eq!(pattern(&mut b, 5, false), ".....");
        // A reload starts afresh.
        let mut b = Backoff::default();
        assert!(b.due());
    }
}
