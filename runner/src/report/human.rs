//! The human format: a status table, then each gate's findings, then a
//! verdict line. Colour only when writing to a terminal and `NO_COLOR` is
//! unset. All guest text was sanitised when the result was validated.

use std::fmt::Write as _;

use super::model::{GateReport, GateStatus, RunReport, RunStatus};
use crate::model::Severity;

/// Styling switch.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// Emit ANSI colours.
    pub color: bool,
}

impl Style {
    /// Colour if `tty` and `NO_COLOR` is unset or empty.
    pub fn detect(tty: bool) -> Style {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Style {
            color: tty && !no_color,
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

fn status_code(status: GateStatus) -> &'static str {
    match status {
        GateStatus::Pass => "32",
        GateStatus::Warn => "33",
        GateStatus::Fail | GateStatus::Error => "1;31",
        GateStatus::Skipped => "2",
    }
}

fn severity_code(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "1;31",
        Severity::High => "31",
        Severity::Medium => "33",
        Severity::Low => "36",
        Severity::Info => "2",
    }
}

/// `2 critical, 1 high` or `—`.
pub fn counts_text(gate: &GateReport) -> String {
    let counts = gate.counts();
    if counts.is_empty() {
        return "—".to_string();
    }
    counts
        .iter()
        .rev()
        .map(|(s, n)| format!("{n} {s}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `(pre-commit gates saw only the staged files: secrets 2, ml-code 1; ...)`
/// when gates ran narrowed to changed files.
pub fn narrowed_line(report: &RunReport) -> Option<String> {
    let gates: Vec<(&str, &super::model::Narrowed)> = report
        .gates
        .iter()
        .filter_map(|g| Some((g.id.as_str(), g.narrowed.as_ref()?)))
        .filter(|(_, n)| n.files > 0)
        .collect();
    let (_, first) = gates.first()?;
    let what = match &first.since {
        Some(rev) => format!("the files changed since {rev}"),
        None => "the staged files".to_string(),
    };
    let counts: Vec<String> = gates
        .iter()
        .map(|(id, n)| format!("{id} {}", n.files))
        .collect();
    Some(format!(
        "(pre-commit gates saw only {what}: {}; `--all-files` scans everything)",
        counts.join(", ")
    ))
}

/// Render the whole report.
pub fn render(report: &RunReport, style: Style) -> String {
    let mut out = String::new();
    let id_w = report
        .gates
        .iter()
        .map(|g| g.id.len())
        .max()
        .unwrap_or(4)
        .max(4);
    writeln!(
        out,
        "{:<id_w$}  {:<10}  {:<7}  {:<24}  TIME",
        "GATE", "STAGE", "STATUS", "FINDINGS"
    )
    .unwrap();
    for g in &report.gates {
        let status = format!("{:<7}", g.status.as_str());
        let detail = match g.status {
            GateStatus::Skipped | GateStatus::Error => g.reason.clone().unwrap_or_default(),
            _ => counts_text(g),
        };
        writeln!(
            out,
            "{:<id_w$}  {:<10}  {}  {:<24}  {}",
            g.id,
            g.stage.as_str(),
            style.paint(status_code(g.status), &status),
            detail,
            if g.status == GateStatus::Skipped {
                String::new()
            } else {
                format!("{}ms", g.duration_ms)
            }
        )
        .unwrap();
    }
    if let Some(line) = narrowed_line(report) {
        writeln!(out, "{line}").unwrap();
    }
    for g in &report.gates {
        if g.findings.is_empty() && g.suppressed.is_empty() && g.logs_dropped == 0 {
            continue;
        }
        writeln!(out).unwrap();
        writeln!(
            out,
            "{} ({}) — {}, fails at {}{}",
            style.paint("1", &g.id),
            g.plugin,
            g.status.as_str(),
            g.fail_on,
            if g.summary.is_empty() {
                String::new()
            } else {
                format!(": {}", g.summary)
            }
        )
        .unwrap();
        for f in &g.findings {
            let at = f
                .location
                .as_ref()
                .map(|l| match l.line {
                    Some(line) => format!("{}:{line}", l.path),
                    None => l.path.clone(),
                })
                .unwrap_or_default();
            writeln!(
                out,
                "  {}  {}  {}\n      {}",
                style.paint(
                    severity_code(f.severity),
                    &format!("{:<8}", f.severity.as_str())
                ),
                f.rule_id,
                at,
                f.message.replace('\n', "\n      ")
            )
            .unwrap();
        }
        if !g.suppressed.is_empty() {
            writeln!(
                out,
                "  ({} finding(s) suppressed by .mlgate/ignore.yaml)",
                g.suppressed.len()
            )
            .unwrap();
        }
        if g.logs_dropped > 0 {
            writeln!(
                out,
                "  ({} log line(s)/output byte(s) dropped by the cap)",
                g.logs_dropped
            )
            .unwrap();
        }
    }
    for e in &report.expired_suppressions {
        writeln!(
            out,
            "\nwarning: suppression of `{}` expired on {} and no longer applies ({})",
            e.rule, e.expires, e.reason
        )
        .unwrap();
    }
    if report.dry_run && !report.skipped_side_effects.is_empty() {
        writeln!(
            out,
            "\ndry run: skipped {}",
            report.skipped_side_effects.join("; ")
        )
        .unwrap();
    }
    if let Some(git) = &report.git {
        let commit = git.short_commit().unwrap_or("no commit yet");
        writeln!(
            out,
            "\ngit: {commit}{}{}",
            git.branch
                .as_deref()
                .map(|b| format!(" on {b}"))
                .unwrap_or_default(),
            if git.dirty {
                " (uncommitted changes)"
            } else {
                ""
            }
        )
        .unwrap();
    }
    let n = |s: GateStatus| report.gates.iter().filter(|g| g.status == s).count();
    let verdict = match report.status {
        RunStatus::Pass => style.paint("1;32", "PASS"),
        RunStatus::Fail => style.paint("1;31", "FAIL"),
        RunStatus::Error => style.paint("1;31", "ERROR"),
    };
    writeln!(
        out,
        "\n{verdict}: {} gate(s): {} passed, {} warned, {} failed, {} errored, {} skipped ({} ms){}",
        report.gates.len(),
        n(GateStatus::Pass),
        n(GateStatus::Warn),
        n(GateStatus::Fail),
        n(GateStatus::Error),
        n(GateStatus::Skipped),
        report.duration_ms,
        if report.interrupted { " — interrupted by Ctrl-C" } else { "" }
    )
    .unwrap();
    out
}
