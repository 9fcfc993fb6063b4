//! Open files for a fleet run. Every instance in flight holds a connection, that is a file
//! descriptor, so `--concurrency` must fit under the process's `RLIMIT_NOFILE`. When the soft
//! limit is too low it is raised toward the hard limit (as servers do; many systems start
//! processes at a soft limit of 1,024), and a concurrency that cannot fit even then is refused
//! before anything is sent, with a message naming the limit and the concurrency that fits.

use crate::exit::CliError;

/// Descriptors kept aside for everything but the connections: stdio, the runtime's own, the
/// files a run reads and writes (instances, settings, report), an embedded sandbox's.
pub const RESERVE: u64 = 64;

/// Open files a fleet run of `concurrency` may hold at once: a connection per instance in
/// flight, a quarter more for connections opened while another is being given back to the
/// pool (a fleet run's pool keeps at most `concurrency` idle ones), and
/// [`RESERVE`](crate::fleet::OPEN_FILES_RESERVE).
pub fn needed(concurrency: usize) -> u64 {
    let c = concurrency as u64;
    c + c.div_ceil(4) + RESERVE
}

/// The largest concurrency whose [`needed`] fits in `limit` open files.
pub fn fitting(limit: u64) -> usize {
    let mut c = (limit.saturating_sub(RESERVE) * 4 / 5) as usize;
    while c > 0 && needed(c) > limit {
        c -= 1;
    }
    c
}

/// What to do about the limits `soft`, `hard` for `concurrency`: nothing (`Ok(None)`), raise
/// the soft limit to this (`Ok(Some(_))`: to twice what is needed for headroom, at most the
/// hard limit), or refuse (`Err` with the message).
fn decide(concurrency: usize, soft: u64, hard: u64) -> Result<Option<u64>, String> {
    let need = needed(concurrency);
    if need <= soft {
        return Ok(None);
    }
    if need <= hard {
        return Ok(Some(need.saturating_mul(2).min(hard)));
    }
    Err(refusal(concurrency, hard, "hard limit"))
}

fn refusal(concurrency: usize, limit: u64, which: &str) -> String {
    let fit = fitting(limit);
    let instead = if fit == 0 {
        "raise the limit".to_string()
    } else {
        format!("use --concurrency {fit} or less, or raise the limit")
    };
    format!(
        "--concurrency {concurrency} needs up to {} open files (a connection per instance in flight, and some spare), but this process may open at most {limit} (RLIMIT_NOFILE {which}; see `ulimit -n`): {instead}; nothing was sent",
        needed(concurrency)
    )
}

/// Makes room for `concurrency` instances in flight: raises the soft `RLIMIT_NOFILE` if it is
/// too low and the hard limit allows; otherwise a usage error (exit 2) naming the limit.
pub fn ensure_open_files(concurrency: usize) -> Result<(), CliError> {
    imp::ensure(concurrency).map_err(CliError::usage)
}

#[cfg(unix)]
mod imp {
    //! `getrlimit` / `setrlimit` through the `rlimit` crate (safe wrappers; this file used to
    //! hold the workspace's only `unsafe`).

    use rlimit::Resource;

    pub(super) fn ensure(concurrency: usize) -> Result<(), String> {
        // A limit that cannot be read is not checked: the run goes on as it always did.
        let Ok((soft, hard)) = rlimit::getrlimit(Resource::NOFILE) else {
            return Ok(());
        };
        match super::decide(concurrency, soft, hard)? {
            None => Ok(()),
            Some(raised) => rlimit::setrlimit(Resource::NOFILE, raised, hard).map_err(|e| {
                format!(
                    "{} (raising it to {raised} failed: {e})",
                    super::refusal(concurrency, soft, "soft limit")
                        .trim_end_matches("; nothing was sent")
                ) + "; nothing was sent"
            }),
        }
    }
}

#[cfg(not(unix))]
mod imp {
    pub(super) fn ensure(_concurrency: usize) -> Result<(), String> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_concurrency_that_fits_under_the_soft_limit_changes_nothing() {
        assert_eq!(needed(32), 32 + 8 + RESERVE);
        assert_eq!(decide(32, 1024, 1024), Ok(None));
        assert_eq!(decide(768, 1024, 1024), Ok(None));
    }

    #[test]
    fn the_soft_limit_is_raised_toward_the_hard_limit() {
        // 2,000 in flight need 2,564 descriptors: twice that, within the hard limit.
        assert_eq!(decide(2000, 1024, 1_048_576), Ok(Some(5128)));
        assert_eq!(decide(2000, 1024, 4096), Ok(Some(4096)));
        assert_eq!(decide(2000, 1024, 2564), Ok(Some(2564)));
    }

    #[test]
    fn a_concurrency_beyond_the_hard_limit_is_refused_naming_it() {
        let e = decide(2000, 1024, 1024).unwrap_err();
        assert!(e.contains("RLIMIT_NOFILE hard limit"), "{e}");
        assert!(e.contains("at most 1024"), "{e}");
        assert!(e.contains("needs up to 2564 open files"), "{e}");
        assert!(e.contains("use --concurrency 768 or less"), "{e}");
        assert!(e.ends_with("nothing was sent"), "{e}");
        assert_eq!(fitting(1024), 768);
        assert!(needed(fitting(1024)) <= 1024 && needed(fitting(1024) + 1) > 1024);
        assert_eq!(fitting(10), 0);
        assert!(decide(1, 10, 10)
            .unwrap_err()
            .contains(": raise the limit;"));
    }
}
