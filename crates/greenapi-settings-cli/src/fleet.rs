//! Fleet mode: the same desired settings on many instances, with bounded concurrency, a
//! progress line, per-instance results, a JSON report, and `--resume` to retry failures only.

use std::collections::{BTreeMap, HashSet};
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::future::Future;

use greenapi_settings::{ApiToken, Client, Error, SettingsPatch};
use serde_json::{json, Value};
use tokio::sync::Semaphore;

use crate::creds::ConnArgs;
use crate::exit::{kind, CliError};

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

/// Parses an instances file (`id,token,api_url` per line; `#` comments, blank lines and a
/// header line are skipped), reporting every bad line at once.
pub fn parse_instances(text: &str, shown: &str) -> Result<Vec<Instance>, CliError> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if out.is_empty()
            && problems.is_empty()
            && fields.first().is_some_and(|f| f.parse::<u64>().is_err())
            && fields.len() == 3
        {
            continue; // a header such as `id,token,api_url`
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
            problems.push(format!("{at}: instance id must be a number, found {id:?}"));
            continue;
        };
        if token.is_empty() {
            problems.push(format!("{at}: empty token for instance {id}"));
            continue;
        }
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            problems.push(format!(
                "{at}: api_url of instance {id} must start with http:// or https://, found {url:?}"
            ));
            continue;
        }
        if !seen.insert(id) {
            problems.push(format!("{at}: instance {id} is listed twice"));
            continue;
        }
        out.push(Instance {
            id,
            token: ApiToken::new(*token),
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

/// What happened to one instance.
#[derive(Clone, Debug, PartialEq)]
pub struct InstanceResult {
    /// The instance id.
    pub id: u64,
    /// Its API URL.
    pub api_url: String,
    /// `applied`, `unchanged`, `planned` (plan mode, changes pending) or `failed`.
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
        format!(
            "{} instance(s): {} applied, {} unchanged, {} planned, {} failed in {:.1} s",
            self.results.len(),
            self.count("applied"),
            self.count("unchanged"),
            self.count("planned"),
            self.count("failed"),
            self.duration.as_secs_f64()
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
                "durationMs": self.duration.as_millis() as u64,
            },
            "results": self.results.iter().map(InstanceResult::to_json).collect::<Vec<_>>(),
        })
    }

    /// Writes the report atomically (temporary file, then rename).
    pub fn write(&self, path: &Path) -> Result<(), CliError> {
        let text = serde_json::to_string_pretty(&self.to_json()).unwrap_or_default();
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, text + "\n")
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|e| {
                CliError::failed(format!("cannot write the report {}: {e}", path.display()))
            })
    }
}

/// Reads a previous report: the results of instances already done (`applied` / `unchanged`).
pub fn load_resume(
    path: &Path,
    desired: &SettingsPatch,
) -> Result<BTreeMap<u64, InstanceResult>, CliError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::usage(format!("cannot read {shown}: {e}")))?;
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
    let Some(first) = instances.first() else {
        return Ok(Vec::new());
    };
    let base = conn
        .tune(
            Client::builder()
                .api_url(&first.api_url)
                .id_instance(first.id)
                .api_token(first.token.clone()),
        )
        .build()?;
    let sem = Arc::new(Semaphore::new(concurrency.max(1)));
    let finished = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
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
        let (sem, finished, failed, op) =
            (sem.clone(), finished.clone(), failed.clone(), op.clone());
        tasks.spawn(async move {
            let _permit = sem.acquire_owned().await;
            let t0 = Instant::now();
            let outcome = match builder.build() {
                Ok(client) => op(client).await,
                Err(e) => Err(e),
            };
            if outcome.is_err() {
                failed.fetch_add(1, Ordering::Relaxed);
            }
            finished.fetch_add(1, Ordering::Relaxed);
            (index, inst, outcome, t0.elapsed())
        });
    }
    let mut out = Vec::with_capacity(instances.len());
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(r) => out.push(r),
            Err(e) => return Err(CliError::failed(format!("a worker task failed: {e}"))),
        }
    }
    progress.abort();
    if std::io::stderr().is_terminal() {
        eprintln!();
    }
    out.sort_by_key(|r| r.0);
    Ok(out
        .into_iter()
        .map(|(_, inst, outcome, took)| (inst, outcome, took))
        .collect())
}

/// Runs the fleet plan or apply. Per-instance failures are results, not errors.
pub async fn run(opts: FleetRun<'_>) -> Result<Report, CliError> {
    let started = Instant::now();
    let mut done = opts.done;
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
    let (desired, dry_run) = (opts.desired.clone(), opts.dry_run);
    let outcomes = for_each(
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
    )
    .await?;
    let mut results = carried;
    for (inst, outcome, took) in outcomes {
        let mut r = InstanceResult {
            id: inst.id,
            api_url: inst.api_url,
            status: "failed",
            changes: Vec::new(),
            warnings: Vec::new(),
            error: None,
            duration_ms: took.as_millis() as u64,
            from_previous_run: false,
        };
        match outcome {
            Ok(plan) => {
                r.changes = plan.changes.iter().map(|c| c.field.to_string()).collect();
                r.warnings = plan.warnings.iter().map(ToString::to_string).collect();
                r.status = match (plan.is_noop(), dry_run) {
                    (true, _) => "unchanged",
                    (false, true) => "planned",
                    (false, false) => "applied",
                };
            }
            Err(e) => r.error = Some((kind(&e).to_string(), e.to_string())),
        }
        results.push(r);
    }
    results.sort_by_key(|r| r.id);
    Ok(Report {
        mode: if opts.dry_run { "plan" } else { "apply" },
        desired: opts.desired.to_json_value(),
        results,
        duration: started.elapsed(),
    })
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
        assert!(err.details[0].starts_with("i.csv:2: instance id must be a number"));
        assert!(
            err.details.iter().all(|d| !d.contains("SEKRIT")),
            "{:?}",
            err.details
        );
    }
}
