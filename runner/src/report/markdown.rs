//! The Markdown format (`--format markdown`), also the GitHub job summary:
//! a status table, the pipeline DAG as a Mermaid diagram, then the findings
//! of each gate. Guest text is one-lined and its pipes escaped so it cannot
//! break the tables.

use std::fmt::Write as _;

use super::Context;
use super::human::counts_text;
use super::model::{GateReport, GateStatus, RunReport, RunStatus};

/// Findings listed per gate; the rest are counted.
const MAX_PER_GATE: usize = 50;

fn icon(status: GateStatus) -> &'static str {
    match status {
        GateStatus::Pass => "✅ pass",
        GateStatus::Warn => "⚠️ warn",
        GateStatus::Fail => "❌ fail",
        GateStatus::Error => "💥 error",
        GateStatus::Skipped => "⏭️ skipped",
    }
}

/// A table cell: one line, bounded, `|` and backticks escaped.
pub fn cell(text: &str) -> String {
    let line: String = text
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .take(300)
        .collect();
    line.replace('|', "\\|").replace('`', "'")
}

fn verdict(report: &RunReport) -> &'static str {
    match report.status {
        RunStatus::Pass => "✅ passed",
        RunStatus::Fail => "❌ failed",
        RunStatus::Error => "💥 errored",
    }
}

/// Render the Markdown report.
pub fn render(report: &RunReport, ctx: &Context) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## mlgate: pipeline `{}` {}\n",
        cell(&report.pipeline),
        verdict(report)
    );
    if report.dry_run {
        out.push_str("_Dry run: no tickets were filed, no audit log was written._\n\n");
    }
    if let Some(git) = &report.git {
        let _ = writeln!(
            out,
            "Commit `{}`{}{}\n",
            git.short_commit().unwrap_or("(none yet)"),
            git.branch
                .as_deref()
                .map(|b| format!(" on `{}`", cell(b)))
                .unwrap_or_default(),
            if git.dirty {
                ", with uncommitted changes"
            } else {
                ""
            }
        );
    }
    if let Some(line) = super::human::narrowed_line(report) {
        let _ = writeln!(
            out,
            "_{}_\n",
            line.trim_start_matches('(').trim_end_matches(')')
        );
    }
    out.push_str(
        "| gate | stage | plugin | status | findings | time |\n|---|---|---|---|---|---|\n",
    );
    for g in &report.gates {
        let _ = writeln!(
            out,
            "| `{}` | {} | `{}` | {} | {} | {:.1} s |",
            cell(&g.id),
            g.stage,
            cell(&g.plugin),
            icon(g.status),
            counts_text(g),
            g.duration_ms as f64 / 1000.0
        );
    }
    if let (Some(graph), Some(pipeline)) = (ctx.graph, ctx.pipeline) {
        let _ = write!(
            out,
            "\n### Pipeline\n\n```mermaid\n{}```\n",
            graph.to_mermaid(pipeline)
        );
    }
    let with_findings: Vec<&GateReport> = report
        .gates
        .iter()
        .filter(|g| !g.findings.is_empty() || g.reason.is_some())
        .collect();
    if !with_findings.is_empty() {
        out.push_str("\n### Findings by gate\n");
    }
    for g in with_findings {
        gate(&mut out, g);
    }
    if !report.skipped_side_effects.is_empty() {
        out.push_str("\n### Skipped by the dry run\n\n");
        for s in &report.skipped_side_effects {
            let _ = writeln!(out, "- {}", cell(s));
        }
    }
    if !report.expired_suppressions.is_empty() {
        out.push_str("\n### Expired suppressions\n\n");
        for s in &report.expired_suppressions {
            let _ = writeln!(
                out,
                "- `{}` expired {}: {}",
                cell(&s.rule),
                s.expires,
                cell(&s.reason)
            );
        }
    }
    out
}

fn gate(out: &mut String, g: &GateReport) {
    let _ = writeln!(out, "\n#### `{}` ({})\n", cell(&g.id), icon(g.status));
    if let Some(reason) = &g.reason {
        let _ = writeln!(out, "{}\n", cell(reason));
    }
    if g.findings.is_empty() {
        return;
    }
    out.push_str("| severity | rule | message | location |\n|---|---|---|---|\n");
    for f in g.findings.iter().take(MAX_PER_GATE) {
        let loc = f
            .location
            .as_ref()
            .map(|l| match l.line {
                Some(n) => format!("`{}:{n}`", cell(&l.path)),
                None => format!("`{}`", cell(&l.path)),
            })
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {} |",
            f.severity,
            cell(&f.rule_id),
            cell(&f.message),
            loc
        );
    }
    if g.findings.len() > MAX_PER_GATE {
        let _ = writeln!(
            out,
            "\n…and {} more; see the full report.",
            g.findings.len() - MAX_PER_GATE
        );
    }
}
