//! Numeric command-line options, checked here rather than by clap so that a bad value gets a
//! message saying what is allowed, the echoed value is clipped, and a value that may be a
//! misplaced token (an instance id) is not echoed at all.

use crate::exit::CliError;
use crate::input::clip;

/// Longest `--timeout`, in seconds (one hour; a request that takes longer is not coming back).
pub const MAX_TIMEOUT_SECS: f64 = 3600.0;

/// Most `--retries`.
pub const MAX_RETRIES: u32 = 100;

/// Most `--concurrency`. Each instance worked on holds a connection (a file descriptor): a
/// fleet run also checks that its concurrency fits under `RLIMIT_NOFILE`, raising the soft
/// limit if need be ([`crate::fleet::ensure_open_files`]). Beyond this bound a run would need
/// more than ~12,500 descriptors and ephemeral ports toward one API host, for no gain under
/// the API's 1 request/second per instance.
pub const MAX_CONCURRENCY: usize = 10_000;

/// `--timeout DURATION`: seconds (`30`, `0.5`) or a duration (`30s`, `2m`, `1m 30s`), more
/// than 0 and at most an hour; returned in seconds.
pub fn timeout(raw: &str) -> Result<f64, CliError> {
    duration_within("--timeout", raw, MAX_TIMEOUT_SECS).map(|d| d.as_secs_f64())
}

/// Longest `--wait`, in seconds (an hour: the API applies a change within 5 minutes).
pub const MAX_WAIT_SECS: f64 = 3600.0;

/// A duration option `name` (`--wait`, `--settle`): seconds (`300`, `0.5`) or a duration in
/// humantime's grammar (`5m`, `90s`, `1h`, `1m 30s`, `500ms`), more than 0 and at most
/// [`MAX_WAIT_SECS`].
pub fn duration(name: &str, raw: &str) -> Result<std::time::Duration, CliError> {
    duration_within(name, raw, MAX_WAIT_SECS)
}

/// Longest age option (`--since`, `--keep`), in seconds: ten years of 365 days.
pub const MAX_AGE_SECS: f64 = 10.0 * 365.0 * 86_400.0;

/// An age option `name` (`history --since`, `watch --keep`): how far back, in the same
/// grammar as [`duration`] (`24h`, `7days`, `30d`, `90` seconds), more than 0 and at most
/// [`MAX_AGE_SECS`].
pub fn age(name: &str, raw: &str) -> Result<std::time::Duration, CliError> {
    duration_within(name, raw, MAX_AGE_SECS)
}

/// The one duration grammar of the command line: a bare number is in seconds (each option's
/// documented unit), anything else is read by `humantime` (`30s`, `5m`, `1h 30m`, `250ms`);
/// the result must be more than 0 and at most `max_secs`.
pub(crate) fn duration_within(
    name: &str,
    raw: &str,
    max_secs: f64,
) -> Result<std::time::Duration, CliError> {
    let bad = || {
        CliError::usage(format!(
            "{name}: expected a duration such as 30, 90s, 5m or 1m 30s (seconds when no unit is given; more than 0, at most {}), found {}",
            humantime::format_duration(std::time::Duration::from_secs_f64(max_secs)),
            clip(raw)
        ))
    };
    let t = raw.trim();
    let d = match t.parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs > 0.0 && secs <= max_secs => {
            std::time::Duration::from_secs_f64(secs)
        }
        Ok(_) => return Err(bad()),
        Err(_) => humantime::parse_duration(t).map_err(|_| bad())?,
    };
    if d.is_zero() || d.as_secs_f64() > max_secs {
        return Err(bad());
    }
    Ok(d)
}

/// A whole-number option `name` between `min` and `max`.
pub fn whole<T>(name: &str, raw: &str, min: T, max: T) -> Result<T, CliError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    match raw.trim().parse::<T>() {
        Ok(v) if v >= min && v <= max => Ok(v),
        _ => Err(CliError::usage(format!(
            "{name}: expected a whole number from {min} to {max}, found {}",
            clip(raw)
        ))),
    }
}

/// An instance id from `source` (`--id-instance`, `GREEN_API_ID_INSTANCE`, a profile). The
/// value is not echoed: a token pasted into the wrong place must not be printed.
pub fn id_instance(source: &str, raw: &str) -> Result<u64, CliError> {
    raw.trim().parse::<u64>().map_err(|_| {
        CliError::usage(format!(
            "{source} must be a number (the value is not shown: it may be a misplaced token)"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_must_be_finite_positive_and_sane() {
        for bad in [
            "inf", "-inf", "1e20", "-1", "0", "nan", "NaN", "x", "", "3601",
        ] {
            let e = timeout(bad).unwrap_err();
            assert_eq!(e.exit, crate::exit::Exit::Usage, "{bad}");
            assert!(
                e.message.starts_with("--timeout: expected"),
                "{}",
                e.message
            );
        }
        assert_eq!(timeout("0.5").unwrap(), 0.5);
        assert_eq!(timeout("30s").unwrap(), 30.0);
        assert_eq!(timeout("2m").unwrap(), 120.0);
        assert_eq!(timeout("250ms").unwrap(), 0.25);
        assert_eq!(timeout("3600").unwrap(), 3600.0);
    }

    #[test]
    fn whole_numbers_are_bounded_and_long_values_clipped() {
        assert_eq!(whole("--concurrency", "32", 1usize, 1000).unwrap(), 32);
        for bad in ["0", "-1", "1001", "1e3", "18446744073709551616"] {
            assert!(whole("--concurrency", bad, 1usize, 1000).is_err(), "{bad}");
        }
        let e = whole("--retries", &"9".repeat(500), 0u32, 100).unwrap_err();
        assert!(e.message.len() < 200, "{}", e.message);
    }

    #[test]
    fn durations_take_seconds_or_a_unit_and_are_bounded() {
        use std::time::Duration;
        assert_eq!(duration("--wait", "300").unwrap(), Duration::from_secs(300));
        assert_eq!(duration("--wait", "5m").unwrap(), Duration::from_secs(300));
        assert_eq!(
            duration("--wait", "1s 500ms").unwrap(),
            Duration::from_millis(1500)
        );
        assert_eq!(
            duration("--wait", "0.5").unwrap(),
            Duration::from_millis(500)
        );
        assert_eq!(
            duration("--wait", "1m 30s").unwrap(),
            Duration::from_secs(90)
        );
        assert_eq!(duration("--wait", "1h").unwrap(), Duration::from_secs(3600));
        for bad in ["0", "0s", "-1", "inf", "nan", "2h", "5x", "", "m", "-5m"] {
            let e = duration("--wait", bad).unwrap_err();
            assert!(
                e.message.starts_with("--wait: expected a duration"),
                "{bad}: {}",
                e.message
            );
        }
    }

    #[test]
    fn ages_reach_years_but_not_forever() {
        use std::time::Duration;
        assert_eq!(age("--since", "24h").unwrap(), Duration::from_secs(86_400));
        assert_eq!(
            age("--keep", "30days").unwrap(),
            Duration::from_secs(30 * 86_400)
        );
        assert_eq!(age("--since", "3600").unwrap(), Duration::from_secs(3600));
        for bad in ["0", "11years", "-1h", "soon"] {
            let e = age("--since", bad).unwrap_err();
            assert!(
                e.message.starts_with("--since: expected a duration"),
                "{bad}: {}",
                e.message
            );
        }
    }

    #[test]
    fn a_bad_instance_id_is_not_echoed() {
        let e = id_instance("GREEN_API_ID_INSTANCE", "SEKRIT<>{}É").unwrap_err();
        assert!(!e.message.contains("SEKRIT"), "{}", e.message);
        assert_eq!(id_instance("x", " 1101000001 ").unwrap(), 1_101_000_001);
    }
}
