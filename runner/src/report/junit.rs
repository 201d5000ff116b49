//! JUnit XML: one `<testsuite>` per stage, one `<testcase>` per gate; a
//! failed gate is a `<failure>` listing its findings, an errored one an
//! `<error>` with the reason, a skipped one `<skipped>`.

use std::fmt::Write as _;

use super::model::{GateStatus, RunReport};
use crate::model::Stage;

/// Escape text for XML content and attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 forbids most control characters even when escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// Render the report as JUnit XML.
pub fn render(report: &RunReport) -> String {
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let count = |s: GateStatus| report.gates.iter().filter(|g| g.status == s).count();
    writeln!(
        x,
        "<testsuites name=\"mlgate {}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\">",
        escape(&report.pipeline),
        report.gates.len(),
        count(GateStatus::Fail),
        count(GateStatus::Error),
        count(GateStatus::Skipped),
        report.duration_ms as f64 / 1000.0
    )
    .unwrap();
    for stage in Stage::ALL {
        let gates: Vec<_> = report.gates.iter().filter(|g| g.stage == stage).collect();
        if gates.is_empty() {
            continue;
        }
        let n = |s: GateStatus| gates.iter().filter(|g| g.status == s).count();
        writeln!(
            x,
            "  <testsuite name=\"{stage}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">",
            gates.len(),
            n(GateStatus::Fail),
            n(GateStatus::Error),
            n(GateStatus::Skipped)
        )
        .unwrap();
        for g in gates {
            write!(
                x,
                "    <testcase classname=\"{stage}\" name=\"{}\" time=\"{:.3}\"",
                escape(&g.id),
                g.duration_ms as f64 / 1000.0
            )
            .unwrap();
            let findings: String = g
                .findings
                .iter()
                .map(|f| {
                    let at = f
                        .location
                        .as_ref()
                        .map(|l| match l.line {
                            Some(line) => format!(" at {}:{line}", l.path),
                            None => format!(" at {}", l.path),
                        })
                        .unwrap_or_default();
                    format!("[{}] {}: {}{at}\n", f.severity, f.rule_id, f.message)
                })
                .collect();
            match g.status {
                GateStatus::Pass | GateStatus::Warn if findings.is_empty() => x.push_str("/>\n"),
                GateStatus::Pass | GateStatus::Warn => {
                    writeln!(
                        x,
                        ">\n      <system-out>{}</system-out>\n    </testcase>",
                        escape(&findings)
                    )
                    .unwrap();
                }
                GateStatus::Fail => {
                    writeln!(
                        x,
                        ">\n      <failure message=\"{} finding(s); fails at {}\" type=\"policy\">{}</failure>\n    </testcase>",
                        g.findings.len(),
                        escape(&g.fail_on),
                        escape(&findings)
                    )
                    .unwrap();
                }
                GateStatus::Error => {
                    writeln!(
                        x,
                        ">\n      <error message=\"{}\" type=\"gate-error\"/>\n    </testcase>",
                        escape(g.reason.as_deref().unwrap_or("error"))
                    )
                    .unwrap();
                }
                GateStatus::Skipped => {
                    writeln!(
                        x,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                        escape(g.reason.as_deref().unwrap_or("skipped"))
                    )
                    .unwrap();
                }
            }
        }
        x.push_str("  </testsuite>\n");
    }
    x.push_str("</testsuites>\n");
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_controls() {
        assert_eq!(
            escape("<a href=\"x\">&'\u{1}"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;"
        );
    }
}
