//! Running one operation on every instance of a fleet: at most `concurrency` at once, each
//! instance with its own client (one shared connection pool) and pacing, Ctrl-C stopping the
//! run gracefully, and what became of each instance ([`Outcome`]).

use std::future::Future;
use std::time::{Duration, Instant};

use greenapi_settings::{Client, Error};

use super::controls::{Controls, Ended};
use super::progress::Progress;
use super::Instance;
use crate::creds::ConnArgs;
use crate::exit::CliError;

/// Runs `op` on every instance, at most `concurrency` at once, each with its own client (one
/// connection pool shared by all) and its own 1 request/second pacing unless `min_interval`
/// says otherwise. Shows a progress line on a terminal. Returns each instance's outcome and
/// the time it took, in instance order.
pub async fn for_each<T, F, Fut>(
    instances: &[Instance],
    concurrency: usize,
    conn: &ConnArgs,
    min_interval: Option<Duration>,
    op: F,
) -> Result<Vec<(Instance, Result<T, Error>, Duration)>, CliError>
where
    T: Send + 'static,
    F: Fn(Client) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<T, Error>> + Send + 'static,
{
    let (_never, interrupts) = tokio::sync::mpsc::unbounded_channel();
    let (outcomes, _) = for_each_until(
        instances,
        concurrency,
        conn,
        min_interval,
        op,
        interrupts,
        |_, _: &Outcome<T>| {},
    )
    .await?;
    Ok(outcomes
        .into_iter()
        .map(|(inst, outcome, took)| {
            let r = match outcome {
                Outcome::Done(r) => r,
                // Unreachable without interrupts; a result rather than a panic all the same.
                Outcome::NotStarted | Outcome::Interrupted => {
                    Err(Error::Config("interrupted".into()))
                }
            };
            (inst, r, took)
        })
        .collect())
}

/// What became of one instance in an interruptible run.
#[derive(Debug)]
pub enum Outcome<T> {
    /// The operation ran to its end.
    Done(Result<T, Error>),
    /// The run was interrupted before this instance was contacted.
    NotStarted,
    /// The run was interrupted (a second time, or past the grace period) while this instance
    /// was in progress: a change may or may not have been sent.
    Interrupted,
}

/// How long in-flight instances may finish after the first interrupt.
pub const INTERRUPT_GRACE: Duration = Duration::from_secs(30);

/// Like [`for_each`], but stops starting instances at the first message on `interrupts`
/// (Ctrl-C), lets those in flight finish for up to [`INTERRUPT_GRACE`] (or until a second
/// message), and calls `on_done` as each instance is settled. Returns the outcomes in instance
/// order, and whether the run was interrupted.
pub async fn for_each_until<T, F, Fut>(
    instances: &[Instance],
    concurrency: usize,
    conn: &ConnArgs,
    min_interval: Option<Duration>,
    op: F,
    interrupts: tokio::sync::mpsc::UnboundedReceiver<()>,
    mut on_done: impl FnMut(&Instance, &Outcome<T>),
) -> Result<(Vec<(Instance, Outcome<T>, Duration)>, bool), CliError>
where
    T: Send + 'static,
    F: Fn(Client) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<T, Error>> + Send + 'static,
{
    let mut settled: Vec<Option<(Outcome<T>, Duration)>> = instances.iter().map(|_| None).collect();
    let ended = run_each(
        instances,
        concurrency,
        conn,
        min_interval,
        Controls::default(),
        op,
        interrupts,
        |index, outcome, took| {
            on_done(&instances[index], &outcome);
            let failed = matches!(outcome, Outcome::Done(Err(_)));
            settled[index] = Some((outcome, took));
            failed
        },
    )
    .await?;
    let out = instances
        .iter()
        .zip(settled)
        .map(|(inst, slot)| {
            let (outcome, took) = slot.unwrap_or((Outcome::NotStarted, Duration::ZERO));
            (inst.clone(), outcome, took)
        })
        .collect();
    Ok((out, ended.interrupted))
}

/// The engine of [`for_each_until`]: hands each instance's outcome (by index into
/// `instances`) to `on_settled` as it is known, every instance exactly once, and says how the
/// run ended. `on_settled` says whether the instance failed (the caller's rule: a fleet
/// apply's `notConverged` or `notSaved` is an `Ok` here), for the progress line and
/// `--max-failures`.
///
/// An instance's task (its client and the future of `op`) exists only while the instance is
/// in flight: at most `concurrency` of them at a time, however long the fleet. With
/// `controls.batch`, instances are started a batch at a time: the next batch once the
/// previous one has settled and the pause has passed (Ctrl-C or SIGTERM during the pause ends
/// the run at once). With `controls.max_failures`, no instance is started once that many
/// have failed; those in flight finish.
// Every argument is one part of the run, as in `for_each_until`.
#[allow(clippy::too_many_arguments)]
pub(super) async fn run_each<T, F, Fut>(
    instances: &[Instance],
    concurrency: usize,
    conn: &ConnArgs,
    min_interval: Option<Duration>,
    controls: Controls,
    op: F,
    mut interrupts: tokio::sync::mpsc::UnboundedReceiver<()>,
    mut on_settled: impl FnMut(usize, Outcome<T>, Duration) -> bool,
) -> Result<Ended, CliError>
where
    T: Send + 'static,
    F: Fn(Client) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<T, Error>> + Send + 'static,
{
    let mut ended = Ended::default();
    if instances.is_empty() {
        return Ok(ended);
    }
    let total = instances.len();
    let limit = concurrency.max(1);
    super::fds::ensure_open_files(limit)?;
    let base = pool(conn, limit)?;
    refuse_plain_http_through_proxy(instances, &base)?;
    let mut progress = Progress::start(total);
    // Instances `..next` have been started (or settled without starting); `in_flight` of them
    // are running. `settled[i]`: instance `i`'s outcome was handed to `on_settled`. Instances
    // `..batch_end` may be started now; `pause` is the end of the pause between two batches.
    let mut next = 0;
    let mut in_flight = 0usize;
    let mut settled = vec![false; total];
    let mut stopping = false;
    let mut failures = 0usize;
    let batch_size = controls.batch.map_or(total, |b| b.size.max(1));
    let batches = total.div_ceil(batch_size);
    let mut batch_end = batch_size.min(total);
    let mut pause: Option<tokio::time::Instant> = None;
    let mut tasks = tokio::task::JoinSet::new();
    let mut interrupts_open = true;
    let mut deadline: Option<tokio::time::Instant> = None;
    loop {
        while !stopping && in_flight < limit && next < batch_end {
            let (index, inst) = (next, &instances[next]);
            next += 1;
            in_flight += 1;
            progress.started();
            let mut builder = conn.tune(Client::builder()).share_connections_with(&base);
            if let Some(mi) = min_interval {
                builder = builder.min_interval(mi);
            }
            let built = builder
                .api_url(&inst.api_url)
                .id_instance(inst.id)
                .api_token(inst.token.clone())
                .build();
            let op = op.clone();
            tasks.spawn(async move {
                let t0 = Instant::now();
                let outcome = match built {
                    Ok(client) => op(client).await,
                    Err(e) => Err(e),
                };
                (index, outcome, t0.elapsed())
            });
        }
        if in_flight == 0 {
            if stopping || next >= total {
                break;
            }
            // A batch has settled and more are to come: pause before the next one.
            if pause.is_none() {
                let wait = controls.batch.map_or(Duration::ZERO, |b| b.pause);
                crate::note!(
                    "batch {}/{batches} done ({next} of {total} instances); the next starts in {} (Ctrl-C to stop here)",
                    next.div_ceil(batch_size),
                    humantime::format_duration(wait)
                );
                pause = Some(tokio::time::Instant::now() + wait);
            }
        }
        tokio::select! {
            joined = tasks.join_next(), if in_flight > 0 => match joined {
                None => break,
                Some(Ok((index, outcome, took))) => {
                    in_flight -= 1;
                    settled[index] = true;
                    let failed = on_settled(index, Outcome::Done(outcome), took);
                    progress.settled(true, failed);
                    if failed {
                        failures += 1;
                        if let Some(max) = controls.max_failures.filter(|&m| failures >= m) {
                            if !stopping {
                                stopping = true;
                                ended.max_failures = Some(max);
                                let waiting = match in_flight {
                                    0 => String::new(),
                                    n => format!("; waiting for {n} in progress"),
                                };
                                crate::errln!(
                                    "{failures} instance(s) failed (--max-failures {max}): starting no more instances{waiting}"
                                );
                            }
                        }
                    }
                }
                // Aborted past the grace period: settled below, as interrupted.
                Some(Err(e)) if e.is_cancelled() => {
                    in_flight -= 1;
                    progress.settled(true, false);
                }
                Some(Err(e)) => {
                    return Err(CliError::failed(format!("a worker task failed: {e}")));
                }
            },
            got = interrupts.recv(), if interrupts_open => match got {
                None => interrupts_open = false,
                Some(()) if deadline.is_none() => {
                    stopping = true;
                    ended.interrupted = true;
                    if in_flight == 0 {
                        crate::errln!("interrupted: starting no more instances");
                    } else {
                        crate::errln!(
                            "interrupted: starting no more instances; waiting up to {} s for {in_flight} in progress (Ctrl-C again to stop now)",
                            INTERRUPT_GRACE.as_secs()
                        );
                    }
                    deadline = Some(tokio::time::Instant::now() + INTERRUPT_GRACE);
                }
                Some(()) => {
                    interrupts_open = false;
                    deadline = Some(tokio::time::Instant::now());
                }
            },
            () = sleep_until_opt(deadline) => {
                tasks.abort_all();
                deadline = None;
                interrupts_open = false;
            }
            () = sleep_until_opt(pause), if in_flight == 0 && !stopping => {
                pause = None;
                batch_end = (batch_end + batch_size).min(total);
            }
        }
    }
    progress.finish();
    // Aborted ones were in flight past the grace period; the rest were never started.
    for (index, done) in settled.into_iter().enumerate() {
        if !done {
            let o = if index < next {
                Outcome::Interrupted
            } else {
                Outcome::NotStarted
            };
            on_settled(index, o, Duration::ZERO);
        }
    }
    ended.connections_opened = base.connections_opened();
    Ok(ended)
}

async fn sleep_until_opt(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Refuses the run, before anything is sent, when an instance's plain-HTTP API URL would go
/// through a proxy (`--proxy`, or the environment's) without `--allow-insecure-proxy`: the
/// proxy would see its token. Checked once per distinct URL; `https://` ones need no check.
fn refuse_plain_http_through_proxy(instances: &[Instance], base: &Client) -> Result<(), CliError> {
    let mut checked = std::collections::HashSet::new();
    for inst in instances {
        let url = inst.api_url.as_str();
        if !url
            .trim_start()
            .get(..7)
            .is_some_and(|s| s.eq_ignore_ascii_case("http://"))
            || !checked.insert(url)
        {
            continue;
        }
        Client::builder()
            .share_connections_with(base)
            .api_url(url)
            .id_instance(inst.id)
            .api_token(inst.token.clone())
            .check()
            .map_err(|e| {
                CliError::usage(format!("instance {}: {}", inst.id, e)).with_hint(
                    "nothing was sent; every instance's API URL is checked before the run",
                )
            })?;
    }
    Ok(())
}

/// A placeholder client whose only use is its connection pool, shared by every instance's
/// client of a fleet run or a `watch` (`share_connections_with`), with `conn`'s timeout,
/// retries, extra roots and proxy (the instances' clients get the last two with the pool).
/// Each instance in flight holds at most one connection: more than `concurrency` idle ones
/// are never needed. Its URL is `https://`: a plain-HTTP placeholder would be refused with a
/// proxy, though it never sends anything (each instance's own URL is checked).
pub(crate) fn pool(conn: &ConnArgs, concurrency: usize) -> Result<Client, Error> {
    conn.network(
        conn.tune(
            Client::builder()
                .api_url("https://127.0.0.1")
                .id_instance(1)
                .api_token("pool-placeholder")
                .pool_max_idle_per_host(concurrency),
        ),
    )?
    .build()
}
