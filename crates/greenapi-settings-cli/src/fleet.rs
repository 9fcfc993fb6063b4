//! Fleet mode: the same desired settings on many instances, with bounded concurrency, a
//! progress line, per-instance results, a JSON report, and `--resume` to retry failures only.

use std::collections::{BTreeMap, HashSet};
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::future::Future;

use greenapi_settings::{ApiToken, Client, Error, SettingsPatch};
use serde_json::{json, Value};
use tokio::sync::Semaphore;

use crate::creds::{check_api_url, hide_secrets, ConnArgs};
use crate::exit::CliError;
use crate::input::{read_capped, strip_bom, FLEET_FILE_CAP};

/// One line of the instances file: `id,token,api_url`.
#[derive(Clone, Debug)]
pub struct Instance {
    /// The instance id.
    pub id: u64,
    /// Its API token (never printed).
    pub token: ApiToken,
    /// Its API URL.
    pub api_url: String,
}

/// Parses an instances file (`id,token,api_url` per line; `#` comments, blank lines, a UTF-8
/// byte order mark and a first line that looks like a header (`id,token,api_url`) are skipped),
/// checking every line's id, token and URL before anything is sent and reporting every bad
/// line at once. No message quotes a token or a URL: a token in the wrong column is not echoed.
pub fn parse_instances(text: &str, shown: &str) -> Result<Vec<Instance>, CliError> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    let mut first = true;
    // Builds a throwaway client per line, so whatever the core would refuse is refused here,
    // before the first request of the run.
    let base = Client::builder()
        .api_url("http://127.0.0.1")
        .id_instance(1)
        .api_token("check")
        .build()?;
    for (i, raw) in strip_bom(text).lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if std::mem::take(&mut first) && looks_like_header(&fields) {
            continue;
        }
        let at = format!("{shown}:{}", i + 1);
        let [id, token, url] = fields.as_slice() else {
            problems.push(format!(
                "{at}: expected 3 fields `id,token,api_url`, found {}",
                fields.len()
            ));
            continue;
        };
        let Ok(id) = id.parse::<u64>() else {
            problems.push(format!(
                "{at}: the instance id must be a number (the value is not shown: it may be a misplaced token)"
            ));
            continue;
        };
        if token.is_empty() {
            problems.push(format!("{at}: empty token for instance {id}"));
            continue;
        }
        if token
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || matches!(c, '/' | '?' | '#'))
        {
            problems.push(format!(
                "{at}: the token of instance {id} contains characters a token cannot have (the value is not shown)"
            ));
            continue;
        }
        let token = ApiToken::new(*token);
        if let Err(p) = check_api_url(url, Some(&token)) {
            problems.push(format!("{at}: the api_url of instance {id} {p}"));
            continue;
        }
        if let Err(e) = Client::builder()
            .share_connections_with(&base)
            .api_url(*url)
            .id_instance(id)
            .api_token(token.clone())
            .build()
        {
            let e = hide_secrets(e.into(), url, &token);
            problems.push(format!("{at}: instance {id}: {}", e.message));
            continue;
        }
        if !seen.insert(id) {
            problems.push(format!("{at}: instance {id} is listed twice"));
            continue;
        }
        out.push(Instance {
            id,
            token,
            api_url: url.to_string(),
        });
    }
    if !problems.is_empty() {
        return Err(CliError::usage(format!(
            "{shown}: {} bad line(s); nothing was sent",
            problems.len()
        ))
        .with_problems(problems));
    }
    if out.is_empty() {
        return Err(CliError::usage(format!("{shown}: no instances listed")));
    }
    Ok(out)
}

/// A header line names the columns: `id,token,api_url`, `idInstance,apiTokenInstance,apiUrl`…
/// Anything else on the first line is data, and checked as such (a typo in the first id must
/// not silently drop that instance).
fn looks_like_header(fields: &[&str]) -> bool {
    let norm = |f: &str| -> String {
        f.chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase()
    };
    fields.len() == 3
        && matches!(
            norm(fields[0]).as_str(),
            "id" | "idinstance" | "instance" | "instanceid"
        )
        && norm(fields[1]).contains("token")
        && norm(fields[2]).contains("url")
}

/// Checks, before a run, that the report can be written where asked (so a long run does not
/// end in "cannot write the report").
pub fn check_report_path(path: &Path) -> Result<(), CliError> {
    let shown = path.display();
    if path.is_dir() {
        return Err(CliError::usage(format!(
            "cannot write the report {shown}: it is a directory; nothing was sent"
        )));
    }
    let tmp = report_tmp(path);
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .and_then(|_| std::fs::remove_file(&tmp))
        .map_err(|e| {
            CliError::usage(format!(
                "cannot write the report {shown}: {e}; nothing was sent"
            ))
        })
}

fn report_tmp(path: &Path) -> std::path::PathBuf {
    path.with_extension("json.tmp")
}

/// What happened to one instance.
#[derive(Clone, Debug, PartialEq)]
pub struct InstanceResult {
    /// The instance id.
    pub id: u64,
    /// Its API URL.
    pub api_url: String,
    /// `applied`, `unchanged`, `planned` (plan mode, changes pending), `failed`, or
    /// `notStarted` (the run was interrupted before this instance was contacted).
    pub status: &'static str,
    /// API names of the changed (or to-be-changed) settings.
    pub changes: Vec<String>,
    /// Warning lines.
    pub warnings: Vec<String>,
    /// `(kind, message)` when failed.
    pub error: Option<(String, String)>,
    /// Time spent on this instance.
    pub duration_ms: u64,
    /// Carried over from the report given to `--resume` (not contacted again).
    pub from_previous_run: bool,
}

impl InstanceResult {
    fn to_json(&self) -> Value {
        json!({
            "idInstance": self.id,
            "apiUrl": self.api_url,
            "status": self.status,
            "changes": self.changes,
            "warnings": self.warnings,
            "error": self.error.as_ref().map(|(k, m)| json!({"kind": k, "message": m})),
            "durationMs": self.duration_ms,
            "fromPreviousRun": self.from_previous_run,
        })
    }

    fn from_json(v: &Value) -> Option<InstanceResult> {
        let status = match v.get("status")?.as_str()? {
            "applied" => "applied",
            "unchanged" => "unchanged",
            "planned" => "planned",
            "notStarted" => "notStarted",
            _ => "failed",
        };
        let strings = |k: &str| -> Vec<String> {
            v.get(k)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        Some(InstanceResult {
            id: v.get("idInstance")?.as_u64()?,
            api_url: v
                .get("apiUrl")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            status,
            changes: strings("changes"),
            warnings: strings("warnings"),
            error: None,
            duration_ms: v.get("durationMs").and_then(Value::as_u64).unwrap_or(0),
            from_previous_run: true,
        })
    }
}

/// The outcome of a fleet run.
#[derive(Clone, Debug)]
pub struct Report {
    /// `apply` or `plan`.
    pub mode: &'static str,
    /// The desired settings, wire form.
    pub desired: Value,
    /// One result per instance, by id.
    pub results: Vec<InstanceResult>,
    /// Wall time of the run.
    pub duration: Duration,
    /// Whether the run was interrupted (Ctrl-C): instances not started are `notStarted`.
    pub interrupted: bool,
}

impl Report {
    /// How many results have `status`.
    pub fn count(&self, status: &str) -> usize {
        self.results.iter().filter(|r| r.status == status).count()
    }

    /// Whether any instance failed.
    pub fn any_failed(&self) -> bool {
        self.count("failed") > 0
    }

    /// The one-line summary.
    pub fn summary(&self) -> String {
        let not_started = match self.count("notStarted") {
            0 => String::new(),
            n => format!(", {n} not started"),
        };
        format!(
            "{} instance(s): {} applied, {} unchanged, {} planned, {} failed{not_started} in {:.1} s{}",
            self.results.len(),
            self.count("applied"),
            self.count("unchanged"),
            self.count("planned"),
            self.count("failed"),
            self.duration.as_secs_f64(),
            if self.interrupted { " (interrupted)" } else { "" }
        )
    }

    /// The report as JSON (no tokens in it).
    pub fn to_json(&self) -> Value {
        json!({
            "mode": self.mode,
            "desired": self.desired,
            "summary": {
                "total": self.results.len(),
                "applied": self.count("applied"),
                "unchanged": self.count("unchanged"),
                "planned": self.count("planned"),
                "failed": self.count("failed"),
                "notStarted": self.count("notStarted"),
                "durationMs": self.duration.as_millis() as u64,
            },
            "interrupted": self.interrupted,
            "results": self.results.iter().map(InstanceResult::to_json).collect::<Vec<_>>(),
        })
    }

    /// Writes the report atomically (temporary file, then rename).
    pub fn write(&self, path: &Path) -> Result<(), CliError> {
        let text = serde_json::to_string_pretty(&self.to_json()).unwrap_or_default();
        let tmp = report_tmp(path);
        std::fs::write(&tmp, text + "\n")
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|e| {
                CliError::failed(format!("cannot write the report {}: {e}", path.display()))
            })
    }
}

/// Reads a previous report (at most [`FLEET_FILE_CAP`] bytes): the results of instances
/// already done (`applied` / `unchanged`). [`run`] contacts them again if their `api_url`
/// changed since.
pub fn load_resume(
    path: &Path,
    desired: &SettingsPatch,
) -> Result<BTreeMap<u64, InstanceResult>, CliError> {
    let shown = path.display().to_string();
    let text = read_capped(path, FLEET_FILE_CAP)?;
    let v: Value = serde_json::from_str(&text)
        .map_err(|e| CliError::usage(format!("{shown}: not a fleet report: {e}")))?;
    if v.get("mode").and_then(Value::as_str) != Some("apply") {
        return Err(CliError::usage(format!(
            "{shown}: not the report of a fleet apply"
        )));
    }
    if v.get("desired") != Some(&desired.to_json_value()) {
        return Err(CliError::usage(format!(
            "{shown}: the report was made for different desired settings; resume only with the same settings file"
        )));
    }
    let results = v
        .get("results")
        .and_then(Value::as_array)
        .ok_or_else(|| CliError::usage(format!("{shown}: no results")))?;
    Ok(results
        .iter()
        .filter_map(InstanceResult::from_json)
        .filter(|r| r.status == "applied" || r.status == "unchanged")
        .map(|r| (r.id, r))
        .collect())
}

/// Options of a fleet run.
pub struct FleetRun<'a> {
    /// Desired settings (already validated).
    pub desired: &'a SettingsPatch,
    /// The instances.
    pub instances: Vec<Instance>,
    /// Most instances worked on at once.
    pub concurrency: usize,
    /// `true` for `plan` (read only), `false` for `apply`.
    pub dry_run: bool,
    /// Results carried over from a previous report (those instances are not contacted).
    pub done: BTreeMap<u64, InstanceResult>,
    /// Timeout and retries.
    pub conn: &'a ConnArgs,
    /// Least time between two requests to the same instance (the API allows 1 per second).
    pub min_interval: Option<Duration>,
}

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

/// Clears the progress line (on a terminal), so that a line printed next starts clean.
pub fn clear_progress_line() {
    if std::io::stderr().is_terminal() {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K");
        let _ = err.flush();
    }
}

/// Runs the fleet plan or apply. Per-instance failures are results, not errors.
pub async fn run(opts: FleetRun<'_>) -> Result<Report, CliError> {
    let (_never, interrupts) = tokio::sync::mpsc::unbounded_channel();
    run_until(opts, interrupts, |_| {}).await
}

/// [`run`], interruptible: at the first message on `interrupts` no more instances are started,
/// those in flight finish (see [`for_each_until`]), and the rest are `notStarted` in the report,
/// which `--resume` then retries. `on_result` sees each result as it is known: first those
/// carried over from a previous report, then each instance as it finishes.
pub async fn run_until(
    opts: FleetRun<'_>,
    interrupts: tokio::sync::mpsc::UnboundedReceiver<()>,
    mut on_result: impl FnMut(&InstanceResult),
) -> Result<Report, CliError> {
    let started = Instant::now();
    let mut done = opts.done;
    // A result from a previous run counts only for the same instance at the same URL.
    done.retain(|id, r| {
        opts.instances
            .iter()
            .any(|i| i.id == *id && same_url(&i.api_url, &r.api_url))
    });
    let todo: Vec<Instance> = opts
        .instances
        .iter()
        .filter(|i| !done.contains_key(&i.id))
        .cloned()
        .collect();
    let carried: Vec<InstanceResult> = opts
        .instances
        .iter()
        .filter_map(|i| done.remove(&i.id))
        .collect();
    for r in &carried {
        on_result(r);
    }
    let (desired, dry_run) = (opts.desired.clone(), opts.dry_run);
    let (outcomes, interrupted) = for_each_until(
        &todo,
        opts.concurrency,
        opts.conn,
        opts.min_interval,
        move |client: Client| {
            let desired = desired.clone();
            async move {
                if dry_run {
                    client.plan(&desired).await
                } else {
                    client.apply(&desired).await.map(|a| a.plan)
                }
            }
        },
        interrupts,
        |inst, outcome| {
            // `notStarted` ones are listed in the report and the summary, not line by line.
            if !matches!(outcome, Outcome::NotStarted) {
                on_result(&result_of(inst, outcome, Duration::ZERO, dry_run));
            }
        },
    )
    .await?;
    let mut results = carried;
    for (inst, outcome, took) in &outcomes {
        results.push(result_of(inst, outcome, *took, dry_run));
    }
    results.sort_by_key(|r| r.id);
    Ok(Report {
        mode: if opts.dry_run { "plan" } else { "apply" },
        desired: opts.desired.to_json_value(),
        results,
        duration: started.elapsed(),
        interrupted,
    })
}

fn same_url(a: &str, b: &str) -> bool {
    a.trim().trim_end_matches('/') == b.trim().trim_end_matches('/')
}

fn result_of(
    inst: &Instance,
    outcome: &Outcome<greenapi_settings::Plan>,
    took: Duration,
    dry_run: bool,
) -> InstanceResult {
    let mut r = InstanceResult {
        id: inst.id,
        api_url: inst.api_url.clone(),
        status: "failed",
        changes: Vec::new(),
        warnings: Vec::new(),
        error: None,
        duration_ms: took.as_millis() as u64,
        from_previous_run: false,
    };
    match outcome {
        Outcome::Done(Ok(plan)) => {
            r.changes = plan.changes.iter().map(|c| c.field.to_string()).collect();
            r.warnings = plan.warnings.iter().map(ToString::to_string).collect();
            r.status = match (plan.is_noop(), dry_run) {
                (true, _) => "unchanged",
                (false, true) => "planned",
                (false, false) => "applied",
            };
        }
        Outcome::Done(Err(e)) => r.error = Some((e.kind().to_string(), inst.token.scrub(&e.to_string()))),
        Outcome::NotStarted => r.status = "notStarted",
        Outcome::Interrupted => {
            r.error = Some((
                "interrupted".into(),
                "stopped by Ctrl-C while in progress: the change may or may not have been sent; --resume retries it".into(),
            ))
        }
    }
    r
}

/// A progress line on stderr, redrawn every 100 ms, when stderr is a terminal.
fn spawn_progress(
    total: usize,
    finished: Arc<AtomicUsize>,
    failed: Arc<AtomicUsize>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if !std::io::stderr().is_terminal() || total == 0 {
            return;
        }
        loop {
            let done = finished.load(Ordering::Relaxed);
            let width = 30;
            let filled = done * width / total;
            {
                let mut err = std::io::stderr().lock();
                let _ = write!(
                    err,
                    "\r[{}{}] {done}/{total} done, {} failed",
                    "#".repeat(filled),
                    " ".repeat(width - filled),
                    failed.load(Ordering::Relaxed)
                );
                let _ = err.flush();
            }
            if done >= total {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instances_file_skips_header_and_comments_and_reports_every_bad_line() {
        let ok = parse_instances(
            "id,token,api_url\n# prod\n1,tok1,https://a.example\n\n2, tok2 , http://127.0.0.1:9\n",
            "i.csv",
        )
        .unwrap();
        assert_eq!(ok.iter().map(|i| i.id).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(ok[1].token.expose(), "tok2");
        let err = parse_instances("1,SEKRIT,https://a\nx,SEKRIT,https://a\n1,SEKRIT,https://a\n3,,https://a\n4,SEKRIT,ftp://a\n5,SEKRIT\n", "i.csv").unwrap_err();
        assert_eq!(err.details.len(), 5, "{:?}", err.details);
        assert!(err.details[0].starts_with("i.csv:2: the instance id must be a number"));
        assert!(
            err.details.iter().all(|d| !d.contains("SEKRIT")),
            "{:?}",
            err.details
        );
    }

    fn problems(text: &str) -> Vec<String> {
        parse_instances(text, "i.csv").unwrap_err().details
    }

    #[test]
    fn only_a_line_that_looks_like_a_header_is_skipped() {
        for header in [
            "id,token,api_url",
            "idInstance,apiTokenInstance,apiUrl",
            "ID , Token , URL",
        ] {
            let ok =
                parse_instances(&format!("{header}\n1,t,https://a.example\n"), "i.csv").unwrap();
            assert_eq!(ok.len(), 1, "{header}");
        }
        // A typo in the first id, or a BOM the file should not have had, is not a header.
        let p = problems("l101000001,tok,https://a.example\n2,tok,https://a.example\n");
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with("i.csv:1: the instance id must be a number"),
            "{p:?}"
        );
        let ok = parse_instances("\u{feff}1,tok,https://a.example\n", "i.csv").unwrap();
        assert_eq!(ok[0].id, 1);
        let ok = parse_instances(
            "\u{feff}id,token,api_url\n1,tok,https://a.example\n",
            "i.csv",
        )
        .unwrap();
        assert_eq!(ok[0].id, 1);
    }

    #[test]
    fn every_token_and_url_is_checked_before_the_run() {
        let p = problems(
            "1,tok,https://a.example\n2,tok,https://a.example\n3,to k,https://a.example\n4,tok,https://a.example/x?y\n5,tok,https://a.example/waInstance5/getSettings/tok\n6,tok,https://u:p@a.example\n7,tok,https://\n",
        );
        assert_eq!(p.len(), 5, "{p:?}");
        assert!(
            p[0].starts_with("i.csv:3: the token of instance 3"),
            "{p:?}"
        );
        assert!(
            p[1].starts_with("i.csv:4: the api_url of instance 4 must not have a query"),
            "{p:?}"
        );
        assert!(
            p[2].starts_with("i.csv:5: the api_url of instance 5 must be the API's base URL"),
            "{p:?}"
        );
        assert!(
            p[3].starts_with("i.csv:6: the api_url of instance 6 must not contain a user"),
            "{p:?}"
        );
        assert!(
            p[4].starts_with("i.csv:7: the api_url of instance 7 has no host"),
            "{p:?}"
        );
    }

    #[test]
    fn a_token_in_the_id_or_url_column_is_not_echoed() {
        for token in ["SEKRIT<>{}É-long-token-value", "SEK", "sekrit%3Cé"] {
            let misplaced = [
                format!("{token},1,https://a.example\n"),
                format!("1,https://a.example,{token}\n"),
                format!("1,{token},https://a.example/{token}\n"),
                format!("1,{token},https://a.example/{}\n", token.to_uppercase()),
                format!("1,{token},https://a.example/waInstance1/{token}\n"),
                format!("1,{token},https://{token}@a.example\n"),
                format!("1,{token},ftp://a.example/{token}\n"),
                format!("1,{token},https://a.example/{token} x\n"),
            ];
            for text in misplaced {
                let e = parse_instances(&text, "i.csv").unwrap_err();
                let all = format!("{} {:?}", e.message, e.details);
                assert!(
                    !all.contains(token) && !all.to_lowercase().contains(&token.to_lowercase()),
                    "{text}: {all}"
                );
            }
        }
    }

    #[test]
    fn a_token_percent_encoded_in_the_url_is_found() {
        let p = problems("1,SEKRIT<>{}É-long-token-value,https://a.example/p/SEKRIT%3C%3E%7B%7D%C3%89-long-token-value/q\n");
        assert!(p[0].contains("contains the API token"), "{p:?}");
    }
}
