//! Rows measured by the other steps of `scripts/bench` and read here: criterion's means (from
//! `--criterion-dir DIR` or `$CRITERION_HOME`; a relative path is relative to tests/e2e, where
//! cargo runs benches), and the JSON of `bench/python_bench.py --json` (`--python-json FILE`).

use std::path::Path;
use std::time::Duration;

use super::table::{dash, fmt_dur, rate_of, Row};

/// The typed layer's CPU cost (criterion), as a share of `get_mean` (this run's getSettings
/// round trip), then criterion's loopback round trips. No rows without `dir`.
pub fn criterion_rows(dir: Option<&Path>, get_mean: Duration) -> Vec<Row> {
    let Some(dir) = dir else {
        return Vec::new();
    };
    let typed = [
        (
            "patch",
            "full_build_validate_serialise",
            "SettingsPatch: build + validate + serialise, every field",
        ),
        (
            "settings",
            "parse_get_settings_body",
            "Settings: parse a getSettings body (JSON text → Settings)",
        ),
        (
            "patch",
            "validate_against",
            "SettingsPatch::validate_against(current)",
        ),
    ]
    .map(|(group, function, what)| {
        let mean = criterion_mean(dir, group, function);
        Row {
            ratio: mean.map_or_else(dash, |m| {
                format!(
                    "{:.1}% of a getSettings round trip",
                    100.0 * m.as_secs_f64() / get_mean.as_secs_f64()
                )
            }),
            ..criterion_row(format!("{what} [criterion]"), mean)
        }
    });
    let roundtrip = [
        (
            "get_settings",
            "Rust client getSettings round trip [criterion]",
        ),
        (
            "set_settings",
            "Rust client setSettings round trip [criterion]",
        ),
    ]
    .map(|(function, what)| criterion_row(what.into(), criterion_mean(dir, "roundtrip", function)));
    typed.into_iter().chain(roundtrip).collect()
}

/// A criterion row: its mean ("not run" without one) and the rate of that mean.
fn criterion_row(what: String, mean: Option<Duration>) -> Row {
    Row {
        mean: mean.map_or_else(|| "not run".into(), fmt_dur),
        rate: mean.map_or_else(dash, rate_of),
        ..Row::dashes(what)
    }
}

/// Criterion's mean for `group/function`, if that bench ran.
fn criterion_mean(dir: &Path, group: &str, function: &str) -> Option<Duration> {
    let path = dir.join(group).join(function).join("new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let ns = v["mean"]["point_estimate"].as_f64()?;
    Some(Duration::from_nanos(ns.round() as u64))
}

/// Rows for the Python binding, the official SDK and the validation comparison, from the JSON
/// of `bench/python_bench.py --json`; requests/s as a ratio to the Rust client of this run
/// (`rust_get`, `rust_set`) for the SDK, to the SDK for the binding. (The binding's overhead
/// over the Rust client is not taken from here: these rows are measured in another step, with
/// its own luck of VM placement; the paired rows of [`super::sequential`] give it.)
pub fn python_rows(path: Option<&Path>, rust_get: f64, rust_set: f64) -> Vec<Row> {
    let parsed: Option<serde_json::Value> = path
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|t| serde_json::from_str(&t).ok());
    let Some(v) = parsed else {
        return vec![Row::not_measured(
            "Python binding / official SDK / pydantic rows",
            "run scripts/bench (needs Python)",
        )];
    };
    let mut rows = Vec::new();
    let empty = Vec::new();
    let trips = v["roundtrip"].as_array().unwrap_or(&empty);
    let rps_of = |method: &str, official: bool| {
        trips
            .iter()
            .find(|r| {
                r["method"].as_str() == Some(method)
                    && r["client"].as_str().unwrap_or("").contains("official") == official
            })
            .and_then(|r| r["rps"].as_f64())
    };
    let n_of = |r: &serde_json::Value| r["n"].as_u64().map_or_else(dash, |n| n.to_string());
    for r in trips {
        let (method, client) = (
            r["method"].as_str().unwrap_or("?"),
            r["client"].as_str().unwrap_or("?"),
        );
        let rps = r["rps"].as_f64().unwrap_or(0.0);
        let rust = if method == "getSettings" {
            rust_get
        } else {
            rust_set
        };
        let official = client.contains("official");
        let us = |k: &str| fmt_dur(Duration::from_secs_f64(r[k].as_f64().unwrap_or(0.0) / 1e6));
        let ratio = if official {
            format!("{:.2}× the Rust client's req/s", rps / rust)
        } else {
            // Requests/s against the SDK, measured in the same step.
            format!(
                "{} the SDK's req/s (target ≥ 5)",
                rps_of(method, true).map_or_else(dash, |sdk| format!("{:.2}×", rps / sdk))
            )
        };
        rows.push(Row {
            n: n_of(r),
            mean: fmt_dur(Duration::from_secs_f64(1.0 / rps.max(1e-9))),
            p50: us("p50_us"),
            p99: us("p99_us"),
            rate: format!("{rps:.0}/s"),
            ratio,
            ..Row::dashes(format!("{client} {method} round trip"))
        });
    }
    let vals = v["validation"].as_array().unwrap_or(&empty);
    let base = vals
        .last()
        .and_then(|r| r["us_per_call"].as_f64())
        .unwrap_or(1.0);
    for r in vals {
        let us = r["us_per_call"].as_f64().unwrap_or(0.0);
        rows.push(Row {
            n: n_of(r),
            mean: fmt_dur(Duration::from_secs_f64(us / 1e6)),
            rate: format!("{:.0}/s", 1e6 / us.max(1e-9)),
            ratio: format!("{:.2}× pydantic's time (target ≤ 0.50)", us / base),
            ..Row::dashes(format!(
                "Python: {} (full patch)",
                r["what"].as_str().unwrap_or("?")
            ))
        });
    }
    rows
}
