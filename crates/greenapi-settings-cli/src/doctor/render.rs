//! `doctor`'s text for people: per instance, where notifications go, the general findings,
//! then the kinds grouped by verdict (arrives / does not arrive though asked for, and why /
//! off, and why), then the probe's steps and a one-line result.

use super::rules::{Severity, Verdict};
use super::Diagnosis;
use crate::style::Style;

/// The block of one instance (ends with an empty line).
pub(crate) fn text(d: &Diagnosis, style: Style) -> String {
    let mut out = String::new();
    let line = |out: &mut String, s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    line(
        &mut out,
        style.bold(&format!(
            "instance {} ({})",
            d.id_instance,
            crate::terminal::text(&d.api_url)
        )),
    );
    line(
        &mut out,
        if d.webhook_url.is_empty() {
            "webhookUrl: (empty)".into()
        } else {
            format!(
                "webhookUrl: {} (webhookUrlToken {})",
                d.webhook_url,
                if d.token_set { "set" } else { "not set" }
            )
        },
    );
    for f in &d.findings {
        let label = match f.severity {
            Severity::Problem => style.red("problem:"),
            Severity::Warning => style.yellow("warning:"),
            Severity::Notice => style.dim("note:"),
        };
        line(&mut out, format!("  {label} {}", f.message));
    }
    let groups = [
        (Verdict::Arrives, "arrives"),
        (
            Verdict::Blocked,
            "does NOT arrive, though the settings ask for it",
        ),
        (Verdict::Off, "off"),
    ];
    for (verdict, title) in groups {
        let kinds: Vec<_> = d.kinds.iter().filter(|k| k.verdict == verdict).collect();
        if kinds.is_empty() {
            continue;
        }
        let title = format!("{title} ({}):", kinds.len());
        line(
            &mut out,
            match verdict {
                Verdict::Arrives => style.green(&title),
                Verdict::Blocked => style.red(&title),
                Verdict::Off => style.dim(&title),
            },
        );
        for k in kinds {
            let key = k.info.key();
            // A reason from the rules starts with the kind's key already.
            match &k.why {
                None => line(&mut out, format!("  {key}")),
                Some(why) if why.starts_with(&key) => line(&mut out, format!("  {why}")),
                Some(why) => line(&mut out, format!("  {key}: {why}")),
            }
            if let (Verdict::Blocked, Some(differ)) = (verdict, &k.sources_differ) {
                line(&mut out, style.dim(&format!("    {differ}")));
            }
        }
    }
    if let Some(p) = &d.probe {
        line(&mut out, "probe:".into());
        for s in &p.steps {
            line(
                &mut out,
                format!(
                    "  {:4} {}  {}",
                    s.name,
                    if s.ok {
                        style.green("ok  ")
                    } else {
                        style.red("FAIL")
                    },
                    s.detail
                ),
            );
        }
    }
    let problems = d
        .kinds
        .iter()
        .filter(|k| k.verdict == Verdict::Blocked)
        .count()
        + d.findings
            .iter()
            .filter(|f| f.severity == Severity::Problem)
            .count();
    line(
        &mut out,
        if problems == 0 {
            style.green("result: everything the settings ask for can arrive")
        } else {
            style.red(&format!("result: {problems} problem(s)"))
        },
    );
    out.push('\n');
    out
}
