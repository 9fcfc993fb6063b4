//! The progress line of a fleet run, drawn by indicatif on stderr when stderr is a terminal
//! (never with `--quiet`): done/total, failed, in flight, rate and ETA, fitted to the
//! terminal's width so that it never wraps. While it is shown, every line printed through
//! `out.rs` goes above it ([`suspended`]) instead of through it.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// The bar being shown, for [`suspended`]; `SHOWN` saves a lock when there is none (every
/// command but a fleet run on a terminal).
static ACTIVE: Mutex<Option<ProgressBar>> = Mutex::new(None);
static SHOWN: AtomicBool = AtomicBool::new(false);

/// Runs `f` (which prints) with the progress line taken away and drawn again after it, so a
/// line never lands in the middle of the bar; without a bar shown, just runs `f`.
pub fn suspended<R>(f: impl FnOnce() -> R) -> R {
    if !SHOWN.load(Ordering::Relaxed) {
        return f();
    }
    let bar = ACTIVE.lock().ok().and_then(|b| b.clone());
    match bar {
        Some(bar) => bar.suspend(f),
        None => f(),
    }
}

/// The counts the line shows besides indicatif's own (done, rate, ETA).
#[derive(Default)]
struct Counts {
    failed: AtomicUsize,
    in_flight: AtomicUsize,
}

/// A fleet run's progress line (hidden when stderr is not a terminal or with `--quiet`).
pub(super) struct Progress {
    bar: ProgressBar,
    hidden: bool,
    counts: Arc<Counts>,
    total: usize,
    /// The width the style was fitted to, and when the width was last looked at.
    width: usize,
    checked: Instant,
}

/// How often the terminal's width is looked at again (a window may be resized mid-run).
const REFIT_EVERY: Duration = Duration::from_millis(500);

impl Progress {
    /// The line for a run of `total` instances, shown if stderr is a terminal, not `--quiet`.
    pub(super) fn start(total: usize) -> Progress {
        let counts = Arc::new(Counts::default());
        let shown = total > 0 && !crate::out::quiet() && std::io::stderr().is_terminal();
        if !shown {
            return Progress {
                bar: ProgressBar::hidden(),
                hidden: true,
                counts,
                total,
                width: 0,
                checked: Instant::now(),
            };
        }
        let width = terminal_width();
        let bar = ProgressBar::with_draw_target(
            Some(total as u64),
            ProgressDrawTarget::stderr_with_hz(10),
        );
        bar.set_style(style(width, total, &counts));
        bar.enable_steady_tick(Duration::from_millis(200));
        if let Ok(mut active) = ACTIVE.lock() {
            *active = Some(bar.clone());
            SHOWN.store(true, Ordering::Relaxed);
        }
        Progress {
            bar,
            hidden: false,
            counts,
            total,
            width,
            checked: Instant::now(),
        }
    }

    /// An instance was started.
    pub(super) fn started(&self) {
        if self.hidden {
            return;
        }
        self.counts.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    /// An instance was settled: it had been started (`was_in_flight`), and it `failed`. The
    /// failed count is raised before the done count, so the line never shows an instance as
    /// done and not failed that the lines and the summary count as failed.
    pub(super) fn settled(&mut self, was_in_flight: bool, failed: bool) {
        // Hidden (not a terminal, --quiet): nothing to count, not even a clock read per
        // instance (a large fleet's CPU per request is measured by the loopback benchmark).
        if self.hidden {
            return;
        }
        if was_in_flight {
            self.counts.in_flight.fetch_sub(1, Ordering::Relaxed);
        }
        if failed {
            self.counts.failed.fetch_add(1, Ordering::Relaxed);
        }
        self.bar.inc(1);
        if self.checked.elapsed() >= REFIT_EVERY {
            self.checked = Instant::now();
            let width = terminal_width();
            if width != self.width {
                self.width = width;
                self.bar.set_style(style(width, self.total, &self.counts));
            }
        }
    }

    /// Takes the line away (before the closing lines of the run).
    pub(super) fn finish(&mut self) {
        if self.hidden {
            return;
        }
        self.hidden = true;
        if let Ok(mut active) = ACTIVE.lock() {
            SHOWN.store(false, Ordering::Relaxed);
            *active = None;
        }
        self.bar.finish_and_clear();
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// The width of the terminal on stderr (console's default, 79, if it cannot tell).
fn terminal_width() -> usize {
    usize::from(console::Term::stderr().size().1)
}

/// The line's templates, most detailed first; the first whose widest rendering fits is used.
const TEMPLATES: [&str; 6] = [
    "[{wide_bar}] {pos}/{len} done, {failed} failed, {in_flight} in flight, {rate}, ETA {eta}",
    "{pos}/{len} done, {failed} failed, {in_flight} in flight, {rate}, ETA {eta}",
    "{pos}/{len} done, {failed} failed, ETA {eta}",
    "{pos}/{len} done, {failed} failed",
    "{pos}/{len}, {failed} failed",
    "{pos}/{len}",
];

/// The least room the bar of the first template is worth drawing in.
const MIN_BAR: usize = 10;

/// The widest `template` can render for a fleet of `total`: every count as wide as the total,
/// the rate and the ETA at their widest.
fn widest(template: &str, total: usize) -> usize {
    let digits = total.to_string().len();
    let n = "9".repeat(digits);
    template
        .replace("{wide_bar}", &"#".repeat(MIN_BAR))
        .replace("{pos}", &n)
        .replace("{len}", &n)
        .replace("{failed}", &n)
        .replace("{in_flight}", &n)
        .replace("{rate}", "99999.9/s")
        .replace("{eta}", "999d")
        .len()
}

/// The most detailed template that fits in `width` columns (one is left free: a line that
/// fills the last column wraps on some terminals), or none if not even `pos/len` fits.
fn template_for(width: usize, total: usize) -> &'static str {
    TEMPLATES
        .into_iter()
        .find(|t| widest(t, total) < width)
        .unwrap_or("")
}

fn style(width: usize, total: usize, counts: &Arc<Counts>) -> ProgressStyle {
    let template = template_for(width, total);
    let failed = counts.clone();
    let in_flight = counts.clone();
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("#>-")
        .with_key(
            "failed",
            move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{}", failed.failed.load(Ordering::Relaxed));
            },
        )
        .with_key(
            "in_flight",
            move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{}", in_flight.in_flight.load(Ordering::Relaxed));
            },
        )
        .with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{:.1}/s", s.per_sec().min(99_999.9));
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_fits_the_width_with_a_column_to_spare() {
        for total in [1, 9, 500, 20_000, 1_000_000] {
            for width in 0..200 {
                let t = template_for(width, total);
                if !t.is_empty() {
                    assert!(widest(t, total) < width, "{width} {total}: {t}");
                }
            }
        }
        // A 40-column terminal and 500 instances still show done and failed.
        assert_eq!(
            template_for(40, 500),
            "{pos}/{len} done, {failed} failed, ETA {eta}"
        );
        assert_eq!(template_for(80, 500), TEMPLATES[0]);
        assert_eq!(template_for(3, 500), "");
    }

    #[test]
    fn every_template_is_valid() {
        for t in TEMPLATES {
            assert!(ProgressStyle::with_template(t).is_ok(), "{t}");
        }
    }
}
