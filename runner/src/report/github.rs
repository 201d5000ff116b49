//! GitHub Actions (`--format github`, the default when `GITHUB_ACTIONS=true`):
//! workflow commands on stdout, one `::group::` per gate, and
//! `::error`/`::warning`/`::notice` annotations for the most severe findings
//! (GitHub shows at most 10 of each kind per step; the rest are counted and
//! listed in the job summary). [`write_step_files`] appends the Markdown
//! summary to `$GITHUB_STEP_SUMMARY` and the outputs to `$GITHUB_OUTPUT`.
//!
//! Escaping follows the workflow-command rules: in data `%`, `\r`, `\n` are
//! percent-encoded; in properties also `:` and `,`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use super::Context;
use super::model::{Finding, GateReport, GateStatus, RunReport, RunStatus};
use super::sarif::{self, Place};
use crate::model::Severity;

/// Annotations of one kind GitHub displays per step.
pub const MAX_PER_KIND: usize = 10;

/// Escape workflow-command data (the message).
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a workflow-command property value.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// The annotation command of a severity.
pub fn kind(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "notice",
    }
}

struct Annotation {
    kind: &'static str,
    /// A gate that errored (listed before findings of the same severity).
    gate_error: bool,
    severity: Severity,
    place: Option<Place>,
    title: String,
    message: String,
}

impl Annotation {
    fn command(&self) -> String {
        let mut props = Vec::new();
        if let Some(p) = &self.place {
            props.push(format!("file={}", escape_property(&p.uri)));
            if let Some(l) = p.line {
                props.push(format!("line={l}"));
                if let Some(c) = p.column {
                    props.push(format!("col={c}"));
                }
            }
        }
        props.push(format!("title={}", escape_property(&self.title)));
        format!(
            "::{} {}::{}",
            self.kind,
            props.join(","),
            escape_data(&self.message)
        )
    }
}

fn finding_annotation(g: &GateReport, f: &Finding, ctx: &Context) -> Annotation {
    let place = sarif::place(Some(f), &g.id, ctx);
    let mut message = f.message.clone();
    if let (Some(p), Some(loc)) = (&place, &f.location)
        && p.declaration
    {
        message.push_str(&format!(" (in {})", loc.path));
    }
    Annotation {
        kind: kind(f.severity),
        gate_error: false,
        severity: f.severity,
        place,
        title: format!("mlgate {}: {} ({})", g.id, f.rule_id, f.severity),
        message,
    }
}

/// All annotations, most severe first, and how many were left out per kind.
fn annotations(report: &RunReport, ctx: &Context) -> (Vec<Annotation>, usize) {
    let mut all = Vec::new();
    for g in &report.gates {
        if g.status == GateStatus::Error {
            all.push(Annotation {
                kind: "error",
                gate_error: true,
                severity: Severity::Critical,
                place: sarif::declaration(&g.id, ctx),
                title: format!("mlgate {}: gate errored", g.id),
                message: g.reason.clone().unwrap_or_else(|| "gate errored".into()),
            });
        }
        all.extend(g.findings.iter().map(|f| finding_annotation(g, f, ctx)));
    }
    all.sort_by_key(|a| std::cmp::Reverse((a.severity, a.gate_error)));
    let mut shown = Vec::new();
    let mut left_out = 0;
    for a in all {
        if shown
            .iter()
            .filter(|s: &&Annotation| s.kind == a.kind)
            .count()
            < MAX_PER_KIND
        {
            shown.push(a);
        } else {
            left_out += 1;
        }
    }
    (shown, left_out)
}

/// The workflow commands for stdout.
pub fn render(report: &RunReport, ctx: &Context) -> String {
    let mut out = String::new();
    for g in &report.gates {
        let _ = writeln!(
            out,
            "::group::{}",
            escape_data(&format!(
                "mlgate {} [{}] {}: {}",
                g.id,
                g.stage,
                g.status.as_str(),
                super::human::counts_text(g)
            ))
        );
        if let Some(reason) = &g.reason {
            let _ = writeln!(out, "reason: {}", escape_data(reason));
        }
        if !g.summary.is_empty() {
            let _ = writeln!(out, "{}", escape_data(&g.summary));
        }
        for f in &g.findings {
            let loc = f
                .location
                .as_ref()
                .map(|l| match l.line {
                    Some(n) => format!(" at {}:{n}", l.path),
                    None => format!(" at {}", l.path),
                })
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "{}",
                escape_data(&format!("{} {}: {}{loc}", f.severity, f.rule_id, f.message))
            );
        }
        out.push_str("::endgroup::\n");
    }
    let (shown, left_out) = annotations(report, ctx);
    for a in &shown {
        let _ = writeln!(out, "{}", a.command());
    }
    if left_out > 0 {
        let _ = writeln!(
            out,
            "mlgate: {left_out} more finding(s) not annotated (GitHub shows {MAX_PER_KIND} per kind); see the job summary"
        );
    }
    let _ = writeln!(
        out,
        "mlgate: pipeline {} {}",
        report.pipeline,
        match report.status {
            RunStatus::Pass => "passed",
            RunStatus::Fail => "failed",
            RunStatus::Error => "errored",
        }
    );
    out
}

/// `GITHUB_OUTPUT` values: `status`, counts, report path.
pub fn outputs(report: &RunReport, report_path: Option<&Path>) -> Vec<(String, String)> {
    let count = |s: GateStatus| report.gates.iter().filter(|g| g.status == s).count();
    let mut out = vec![
        (
            "status".to_string(),
            match report.status {
                RunStatus::Pass => "pass",
                RunStatus::Fail => "fail",
                RunStatus::Error => "error",
            }
            .to_string(),
        ),
        ("gates".into(), report.gates.len().to_string()),
        (
            "passed".into(),
            (count(GateStatus::Pass) + count(GateStatus::Warn)).to_string(),
        ),
        ("failed".into(), count(GateStatus::Fail).to_string()),
        ("errored".into(), count(GateStatus::Error).to_string()),
        ("skipped".into(), count(GateStatus::Skipped).to_string()),
        (
            "findings".into(),
            report
                .gates
                .iter()
                .map(|g| g.findings.len())
                .sum::<usize>()
                .to_string(),
        ),
    ];
    for s in Severity::ALL.iter().rev() {
        let n: usize = report
            .gates
            .iter()
            .flat_map(|g| &g.findings)
            .filter(|f| f.severity == *s)
            .count();
        out.push((s.as_str().to_string(), n.to_string()));
    }
    if let Some(p) = report_path {
        out.push(("report".into(), p.display().to_string()));
    }
    out
}

fn append(path: &Path, text: &str) -> Result<(), String> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| format!("cannot append to {}: {e}", path.display()))
}

/// Append the job summary and the outputs to the files GitHub names in
/// `GITHUB_STEP_SUMMARY` and `GITHUB_OUTPUT` (each skipped when unset).
pub fn write_step_files(
    report: &RunReport,
    ctx: &Context,
    report_path: Option<&Path>,
) -> Result<(), String> {
    if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
        let (_, left_out) = annotations(report, ctx);
        let mut text = super::markdown::render(report, ctx);
        if left_out > 0 {
            let _ = writeln!(
                text,
                "\n_{left_out} finding(s) beyond GitHub's {MAX_PER_KIND} annotations per kind are listed above only._"
            );
        }
        append(Path::new(&path), &(text + "\n"))?;
    }
    if let Some(path) = std::env::var_os("GITHUB_OUTPUT").filter(|p| !p.is_empty()) {
        let mut text = String::new();
        for (k, v) in outputs(report, report_path) {
            if v.contains('\n') || v.contains('\r') {
                let delim = format!(
                    "MLGATE_EOF_{}",
                    crate::tickets::fingerprint(&[v.as_str()])
                        .get(..12)
                        .unwrap_or("x")
                );
                let _ = writeln!(text, "{k}<<{delim}\n{v}\n{delim}");
            } else {
                let _ = writeln!(text, "{k}={v}");
            }
        }
        append(Path::new(&path), &text)?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "github_tests.rs"]
mod tests;
