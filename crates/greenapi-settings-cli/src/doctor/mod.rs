//! `doctor`: for one instance or a fleet (`--instances CSV`), reads the settings and says, for
//! every notification kind of the spec, whether it will arrive and, if not, exactly why
//! ([`rules`]); with `--probe`, checks the receiver at `webhookUrl` from this machine
//! ([`probe`]). Text grouped by verdict ([`render`]), or the envelope (`command` "doctor")
//! with `--json`. Exit 0 when everything the settings ask for can arrive, 1 when something
//! cannot (or an instance could not be read), 2 for bad input (nothing sent).

pub(crate) mod probe;
pub(crate) mod render;
pub(crate) mod rules;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use clap::ArgMatches;
use greenapi_settings::Settings;
use serde_json::{json, Value};

use greenapi_settings::{NotificationInfo, NotificationStatus, NOTIFICATIONS};

use crate::args;
use crate::creds::ConnArgs;
use crate::envelope::{self, Envelope, Started};
use crate::exit::{CliError, Exit};
use crate::fleet::Outcome;
use crate::style::Style;
use rules::{Severity, Verdict};

/// What `doctor` found for one instance.
pub(crate) struct Diagnosis {
    /// The instance.
    pub id_instance: u64,
    /// Its API URL.
    pub api_url: String,
    /// `webhookUrl` fit to print (see [`rules::shown_url`]), `""` when empty.
    pub webhook_url: String,
    /// Whether `webhookUrlToken` is set.
    pub token_set: bool,
    /// Every kind's verdict.
    pub kinds: Vec<rules::KindReport>,
    /// General findings (webhookUrl), then the probe's.
    pub findings: Vec<rules::Finding>,
    /// The probe, if asked for and there was a URL to probe.
    pub probe: Option<probe::Probe>,
}

impl Diagnosis {
    /// Whether something the settings ask for cannot arrive.
    pub(crate) fn has_problems(&self) -> bool {
        self.kinds.iter().any(|k| k.verdict == Verdict::Blocked)
            || self
                .findings
                .iter()
                .any(|f| f.severity == Severity::Problem)
    }

    /// The instance's entry of the envelope.
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "idInstance": self.id_instance,
            "apiUrl": self.api_url,
            "status": if self.has_problems() { "problems" } else { "ok" },
            "webhookUrl": self.webhook_url,
            "webhookUrlTokenSet": self.token_set,
            "findings": self.findings.iter().map(rules::Finding::to_json).collect::<Vec<_>>(),
            "notifications": self.kinds.iter().map(rules::KindReport::to_json).collect::<Vec<_>>(),
            "probe": self.probe.as_ref().map(probe::Probe::to_json),
            "error": null,
        })
    }
}

/// The options of `doctor`, checked before anything is sent.
pub(crate) struct Options {
    probe: bool,
    probe_timeout: Duration,
}

fn options(m: &ArgMatches) -> Result<Options, CliError> {
    let probe_timeout = match m.get_one::<String>("probe-timeout") {
        Some(v) => {
            if !m.get_flag("probe") {
                return Err(CliError::usage(
                    "--probe-timeout only applies with --probe; nothing was sent",
                ));
            }
            crate::numbers::duration_within("--probe-timeout", v, 300.0)?
        }
        None => probe::DEFAULT_TIMEOUT,
    };
    Ok(Options {
        probe: m.get_flag("probe"),
        probe_timeout,
    })
}

/// The probes made so far in this run, by receiver (webhookUrl and token): instances of a
/// fleet that share a receiver get one probe, and it one test POST.
pub(crate) type Probed = HashMap<(String, String), probe::Probe>;

/// Diagnoses one instance's `settings` (and probes its receiver if asked, unless `probed`
/// has it already).
pub(crate) async fn diagnose(
    id_instance: u64,
    api_url: &str,
    settings: &Settings,
    o: &Options,
    probed: &mut Probed,
) -> Diagnosis {
    let url = settings.webhook_url.clone();
    let token = settings.webhook_url_token.clone();
    let kinds = rules::kinds(settings);
    let any_arrives = kinds.iter().any(|k| k.verdict == Verdict::Arrives);
    let mut findings = rules::webhook_findings(settings, any_arrives);
    let probe = if o.probe && !url.trim().is_empty() {
        let key = (url.clone(), token.clone());
        let p = match probed.get(&key) {
            Some(p) => p.clone(),
            None => {
                let token = (!token.is_empty()).then_some(token.as_str());
                let p = probe::probe(&url, token, o.probe_timeout, id_instance).await;
                probed.insert(key, p.clone());
                p
            }
        };
        findings.extend(p.findings.iter().cloned());
        Some(p)
    } else {
        None
    };
    if o.probe && url.trim().is_empty() {
        findings.push(rules::Finding::new(
            Severity::Notice,
            "nothingToProbe",
            "--probe: webhookUrl is empty, there is no receiver to probe",
        ));
    }
    Diagnosis {
        id_instance,
        api_url: api_url.to_string(),
        webhook_url: if url.trim().is_empty() {
            String::new()
        } else {
            rules::shown_url(&url, &token)
        },
        token_set: !token.is_empty(),
        kinds,
        findings,
        probe,
    }
}

/// Runs `doctor`.
pub(crate) async fn run(conn: &ConnArgs, m: &ArgMatches, style: Style) -> Result<Exit, CliError> {
    args::refuse_fleet_options_alone(m)?;
    let o = options(m)?;
    let json = args::json_output_wanted(m);
    if let Some(csv) = m.get_one::<PathBuf>("instances") {
        conn.refuse_in_fleet()?;
        return fleet(conn, m, csv, &o, json, style).await;
    }
    let target = conn.resolve().await?;
    let client = &target.client;
    let settings = match client.get_settings().await {
        Ok(s) => s,
        Err(e) if json => {
            crate::errln!("error: {}", crate::terminal::lines(&e.to_string()));
            let error = envelope::result_error(e.kind(), &e.to_string());
            let r = json!({"idInstance": client.id_instance(), "apiUrl": client.api_url(),
                "status": "failed", "webhookUrl": null, "webhookUrlTokenSet": null, "findings": [],
                "notifications": [], "probe": null, "error": error});
            Envelope::of_results("doctor", Started::of_command(), vec![r]).print();
            return Ok(Exit::Failed);
        }
        Err(e) => return Err(e.into()),
    };
    let d = diagnose(
        client.id_instance(),
        client.api_url(),
        &settings,
        &o,
        &mut Probed::new(),
    )
    .await;
    crate::out!("{}", render::text(&d, style));
    let exit = if d.has_problems() {
        Exit::Failed
    } else {
        Exit::Ok
    };
    if json {
        Envelope::of_results("doctor", Started::of_command(), vec![d.to_json()])
            .with("probe", o.probe.into())
            .print();
    }
    Ok(exit)
}

/// `doctor --instances`: every instance read (`--concurrency` at a time), then diagnosed (and
/// probed, one receiver at a time, each once) in file order.
async fn fleet(
    conn: &ConnArgs,
    m: &ArgMatches,
    csv: &std::path::Path,
    o: &Options,
    json: bool,
    style: Style,
) -> Result<Exit, CliError> {
    let (outcomes, signals) = crate::commands::get::read_fleet(conn, m, csv).await?;
    let mut results = Vec::new();
    let mut bad = 0usize;
    let mut probed = Probed::new();
    for (inst, outcome, _) in &outcomes {
        let error = |kind: &str, message: String| {
            json!({"idInstance": inst.id, "apiUrl": inst.api_url, "status": if kind == "notStarted" { "notStarted" } else { "failed" },
                "webhookUrl": null, "webhookUrlTokenSet": null, "findings": [], "notifications": [],
                "probe": null, "error": envelope::result_error(kind, &message)})
        };
        let r = match outcome {
            Outcome::Done(Ok(settings)) => {
                // After Ctrl-C or SIGTERM the settings read are still diagnosed, unprobed.
                let o = &Options {
                    probe: o.probe && signals.exit().is_none(),
                    probe_timeout: o.probe_timeout,
                };
                let d = diagnose(inst.id, &inst.api_url, settings, o, &mut probed).await;
                crate::out!("{}", render::text(&d, style));
                bad += usize::from(d.has_problems());
                d.to_json()
            }
            Outcome::Done(Err(e)) => {
                let message = inst.token.scrub(&e.to_string());
                crate::outln!(
                    "instance {}: not read: {}\n",
                    inst.id,
                    crate::terminal::text(&message)
                );
                bad += 1;
                error(e.kind(), message)
            }
            Outcome::NotStarted | Outcome::Interrupted => {
                bad += 1;
                error(
                    "notStarted",
                    format!("not read: the run was stopped by {}", signals.name()),
                )
            }
        };
        results.push(r);
    }
    crate::errln!(
        "{} instance(s): {} fine, {bad} with problems or not read",
        outcomes.len(),
        outcomes.len() - bad
    );
    if json {
        let mut env = Envelope::of_results("doctor", Started::of_command(), results)
            .with("probe", o.probe.into());
        env.interrupted = signals.exit().is_some();
        env.print();
    }
    Ok(match signals.exit() {
        Some(code) => code,
        None if bad > 0 => Exit::Failed,
        None => Exit::Ok,
    })
}
