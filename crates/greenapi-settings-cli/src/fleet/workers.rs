//! Running one operation on every instance of a fleet: at most `concurrency` at once, each
//! instance with its own client (one shared connection pool) and pacing, Ctrl-C stopping the
//! run gracefully, and what became of each instance ([`Outcome`]).

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use greenapi_settings::{Client, Error};
use tokio::sync::Semaphore;

use super::progress::{clear_progress_line, spawn_progress};
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
    mut interrupts: tokio::sync::mpsc::UnboundedReceiver<()>,
    mut on_done: impl FnMut(&Instance, &Outcome<T>),
) -> Result<(Vec<(Instance, Outcome<T>, Duration)>, bool), CliError>
where
    T: Send + 'static,
    F: Fn(Client) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<T, Error>> + Send + 'static,
{
    if instances.is_empty() {
        return Ok((Vec::new(), false));
    }
    // A placeholder whose only use is its connection pool, shared by every instance's client.
    let base = conn
        .tune(
            Client::builder()
                .api_url("http://127.0.0.1")
                .id_instance(1)
                .api_token("pool"),
        )
        .build()?;
    let sem = Arc::new(Semaphore::new(concurrency.clamp(1, Semaphore::MAX_PERMITS)));
    let finished = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let stopping = Arc::new(AtomicBool::new(false));
    let started: Arc<Vec<AtomicBool>> =
        Arc::new(instances.iter().map(|_| AtomicBool::new(false)).collect());
    let progress = spawn_progress(instances.len(), finished.clone(), failed.clone());

    let mut tasks = tokio::task::JoinSet::new();
    for (index, inst) in instances.iter().cloned().enumerate() {
        let mut builder = conn.tune(Client::builder()).share_connections_with(&base);
        if let Some(mi) = min_interval {
            builder = builder.min_interval(mi);
        }
        let builder = builder
            .api_url(&inst.api_url)
            .id_instance(inst.id)
            .api_token(inst.token.clone());
        let (sem, finished, failed, op, stopping, started) = (
            sem.clone(),
            finished.clone(),
            failed.clone(),
            op.clone(),
            stopping.clone(),
            started.clone(),
        );
        tasks.spawn(async move {
            let _permit = sem.acquire_owned().await;
            if stopping.load(Ordering::SeqCst) {
                return (index, Outcome::NotStarted, Duration::ZERO);
            }
            started[index].store(true, Ordering::SeqCst);
            let t0 = Instant::now();
            let outcome = match builder.build() {
                Ok(client) => op(client).await,
                Err(e) => Err(e),
            };
            if outcome.is_err() {
                failed.fetch_add(1, Ordering::Relaxed);
            }
            finished.fetch_add(1, Ordering::Relaxed);
            (index, Outcome::Done(outcome), t0.elapsed())
        });
    }
    let mut settled: Vec<Option<(Outcome<T>, Duration)>> = instances.iter().map(|_| None).collect();
    let mut interrupts_open = true;
    let mut deadline: Option<tokio::time::Instant> = None;
    loop {
        tokio::select! {
            joined = tasks.join_next() => match joined {
                None => break,
                Some(Ok((index, outcome, took))) => {
                    on_done(&instances[index], &outcome);
                    settled[index] = Some((outcome, took));
                }
                Some(Err(e)) if e.is_cancelled() => {}
                Some(Err(e)) => {
                    progress.abort();
                    return Err(CliError::failed(format!("a worker task failed: {e}")));
                }
            },
            got = interrupts.recv(), if interrupts_open => match got {
                None => interrupts_open = false,
                Some(()) if deadline.is_none() => {
                    stopping.store(true, Ordering::SeqCst);
                    let in_flight = started
                        .iter()
                        .filter(|s| s.load(Ordering::SeqCst))
                        .count()
                        .saturating_sub(settled.iter().filter(|s| s.is_some()).count());
                    clear_progress_line();
                    eprintln!(
                        "interrupted: starting no more instances; waiting up to {} s for {in_flight} in progress (Ctrl-C again to stop now)",
                        INTERRUPT_GRACE.as_secs()
                    );
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
        }
    }
    progress.abort();
    clear_progress_line();
    let mut out = Vec::with_capacity(instances.len());
    for (index, (inst, slot)) in instances.iter().zip(settled).enumerate() {
        let (outcome, took) = match slot {
            Some(settled) => settled,
            None => {
                // Aborted: in flight past the grace period, or still waiting for a permit.
                let o = if started[index].load(Ordering::SeqCst) {
                    Outcome::Interrupted
                } else {
                    Outcome::NotStarted
                };
                on_done(inst, &o);
                (o, Duration::ZERO)
            }
        };
        out.push((inst.clone(), outcome, took));
    }
    Ok((out, stopping.load(Ordering::SeqCst)))
}

async fn sleep_until_opt(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
