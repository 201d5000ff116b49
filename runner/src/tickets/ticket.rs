//! What a ticket says: built from the run report, one per failed or errored
//! gate (or per finding at or above a severity). Title and body are Markdown
//! a person can act on: what failed, where, the evidence, the remediation
//! (each rule's help) and the command that reproduces it locally. Every text
//! passes through the [`Redactor`].

use serde::Serialize;

use super::Redactor;
use super::config::Per;
use crate::model::Severity;
use crate::report::Context;
use crate::report::model::{Finding, GateReport, GateStatus, RunReport};
use crate::report::sarif::{self, plugin_name};

/// Evidence lines listed in a body; the rest are counted.
const MAX_EVIDENCE: usize = 20;

/// The marker a body carries so a sink can find the ticket again.
pub fn marker(fingerprint: &str) -> String {
    format!("<!-- mlgate-fingerprint: {fingerprint} -->")
}

/// One ticket.
#[derive(Debug, Clone, Serialize)]
pub struct Ticket {
    /// Stable id: pipeline + gate (+ finding fingerprint with `per: finding`).
    pub fingerprint: String,
    /// Pipeline name.
    pub pipeline: String,
    /// Gate id.
    pub gate: String,
    /// `fail` or `error`.
    pub status: String,
    /// Most severe finding's severity, if any.
    pub severity: Option<Severity>,
    /// Issue title.
    pub title: String,
    /// Markdown body (ends with the fingerprint marker).
    pub body: String,
    /// Findings as evidence (rule, severity, message, location).
    pub evidence: Vec<Evidence>,
    /// `mlgate run ... --only GATE`.
    pub reproduce: String,
    /// Git commit of the run, if known.
    pub commit: Option<String>,
}

/// A finding, as a ticket shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    /// Rule id.
    pub rule_id: String,
    /// Severity.
    pub severity: Severity,
    /// Message (redacted).
    pub message: String,
    /// `path:line`, if any.
    pub location: Option<String>,
    /// The finding's fingerprint.
    pub fingerprint: String,
}

/// The tickets a report calls for under `per`.
pub fn build(
    report: &RunReport,
    ctx: &Context,
    per: Per,
    commit: Option<&str>,
    redactor: &Redactor,
) -> Vec<Ticket> {
    let mut out = Vec::new();
    for gate in &report.gates {
        match per {
            Per::Gate => {
                if matches!(gate.status, GateStatus::Fail | GateStatus::Error) {
                    let fp =
                        super::fingerprint(&["gate", report.pipeline.as_str(), gate.id.as_str()]);
                    let findings: Vec<&Finding> = gate.findings.iter().collect();
                    out.push(make(report, gate, &findings, fp, ctx, commit, redactor));
                }
            }
            Per::Finding(min) => {
                for f in gate.findings.iter().filter(|f| f.severity >= min) {
                    let fp = super::fingerprint(&[
                        "finding",
                        report.pipeline.as_str(),
                        gate.id.as_str(),
                        f.fingerprint.as_str(),
                    ]);
                    out.push(make(report, gate, &[f], fp, ctx, commit, redactor));
                }
            }
        }
    }
    out
}

fn location(f: &Finding) -> Option<String> {
    f.location.as_ref().map(|l| match l.line {
        Some(line) => format!("{}:{line}", l.path),
        None => l.path.clone(),
    })
}

fn make(
    report: &RunReport,
    gate: &GateReport,
    findings: &[&Finding],
    fingerprint: String,
    ctx: &Context,
    commit: Option<&str>,
    r: &Redactor,
) -> Ticket {
    let severity = findings.iter().map(|f| f.severity).max();
    let pipeline_arg = ctx
        .repo
        .pipeline_uri
        .clone()
        .unwrap_or_else(|| "PIPELINE".into());
    let reproduce = format!("mlgate run {pipeline_arg} --only {}", gate.id);
    let title = r.clean(&match (gate.status, findings) {
        (GateStatus::Error, _) => {
            format!("mlgate: gate `{}` errored ({})", gate.id, report.pipeline)
        }
        (_, [one]) => format!(
            "mlgate: {} `{}` in gate `{}`: {}",
            one.severity,
            one.rule_id,
            gate.id,
            truncate(&one.message, 80)
        ),
        _ => format!(
            "mlgate: gate `{}` failed: {} finding(s), worst {} ({})",
            gate.id,
            findings.len(),
            severity.map(|s| s.as_str()).unwrap_or("none"),
            report.pipeline
        ),
    });
    let evidence: Vec<Evidence> = findings
        .iter()
        .map(|f| Evidence {
            rule_id: f.rule_id.clone(),
            severity: f.severity,
            message: r.clean(&f.message),
            location: location(f).map(|l| r.clean(&l)),
            fingerprint: f.fingerprint.clone(),
        })
        .collect();
    let mut body = String::new();
    body.push_str("## What failed\n\n");
    body.push_str(&format!(
        "Gate `{}` (plugin `{}`, stage `{}`) of pipeline `{}` ended with status **{}** (fails at `{}`).\n",
        gate.id,
        gate.plugin,
        gate.stage,
        report.pipeline,
        gate.status.as_str(),
        gate.fail_on
    ));
    if let Some(reason) = &gate.reason {
        body.push_str(&format!("\nReason: {}\n", r.clean(reason)));
    }
    if !gate.summary.is_empty() {
        body.push_str(&format!("\nSummary: {}\n", r.clean(&gate.summary)));
    }
    body.push_str("\n## Where\n\n");
    if let Some(decl) = sarif::declaration(&gate.id, ctx) {
        body.push_str(&format!(
            "- Gate declared at `{}:{}`\n",
            decl.uri,
            decl.line.unwrap_or(1)
        ));
    }
    if let Some(c) = commit {
        body.push_str(&format!("- Commit `{c}`\n"));
    }
    let mut paths: Vec<String> = evidence.iter().filter_map(|e| e.location.clone()).collect();
    paths.sort();
    paths.dedup();
    for p in paths.iter().take(MAX_EVIDENCE) {
        body.push_str(&format!("- `{p}`\n"));
    }
    if !evidence.is_empty() {
        body.push_str(
            "\n## Evidence\n\n| severity | rule | message | location |\n|---|---|---|---|\n",
        );
        for e in evidence.iter().take(MAX_EVIDENCE) {
            body.push_str(&format!(
                "| {} | `{}` | {} | {} |\n",
                e.severity,
                e.rule_id,
                cell(&e.message),
                e.location
                    .as_deref()
                    .map(|l| format!("`{l}`"))
                    .unwrap_or_default()
            ));
        }
        if evidence.len() > MAX_EVIDENCE {
            body.push_str(&format!(
                "\n…and {} more finding(s); run the command below to see them all.\n",
                evidence.len() - MAX_EVIDENCE
            ));
        }
    }
    body.push_str("\n## Remediation\n\n");
    let plugin = plugin_name(&gate.plugin);
    let mut rules: Vec<&str> = findings.iter().map(|f| f.rule_id.as_str()).collect();
    rules.sort();
    rules.dedup();
    if gate.status == GateStatus::Error {
        body.push_str("- The gate could not do its job and fails closed: fix the cause named above (input, limit, plugin) and rerun.\n");
    }
    for rule in rules {
        let help = ctx
            .rules
            .get(&plugin)
            .and_then(|rs| rs.iter().find(|m| m.id == rule))
            .map(|m| m.help.clone())
            .unwrap_or_else(|| format!("see `mlgate plugin inspect {}`", gate.plugin));
        body.push_str(&format!("- `{rule}`: {}\n", r.clean(&help)));
    }
    body.push_str(&format!(
        "\nA finding that is accepted risk can be suppressed, with a reason and an expiry, in `.mlgate/ignore.yaml`.\n\n## Reproduce locally\n\n```sh\n{reproduce}\n```\n\n"
    ));
    body.push_str(&marker(&fingerprint));
    body.push('\n');
    Ticket {
        fingerprint,
        pipeline: report.pipeline.clone(),
        gate: gate.id.clone(),
        status: gate.status.as_str().into(),
        severity,
        title,
        body,
        evidence,
        reproduce,
        commit: commit.map(str::to_string),
    }
}

fn truncate(text: &str, max: usize) -> String {
    let line = text.lines().next().unwrap_or("");
    if line.chars().count() <= max {
        line.to_string()
    } else {
        let mut s: String = line.chars().take(max - 1).collect();
        s.push('…');
        s
    }
}

/// A Markdown table cell: one line, pipes escaped.
fn cell(text: &str) -> String {
    truncate(text, 300).replace('|', "\\|")
}
