//! Policy: what a gate's findings mean for its verdict.
//!
//! Two parts. Suppressions (`.mlgate/ignore.yaml` in the project directory)
//! silence accepted findings, each with a required `reason` and an optional
//! `expires` date after which it stops suppressing and is reported instead,
//! so an exception cannot outlive its review. The verdict applies a gate's
//! `fail_on` threshold to the findings left over.
//!
//! ```yaml
//! - rule: pickle/global-import          # required: the finding's rule id
//!   path: "models/legacy/**"            # optional glob over the finding's path
//!   gate: model-scan                    # optional gate id
//!   fingerprint: 3f2a...                # optional: exactly one finding
//!   reason: vendored model, reviewed in SEC-412   # required
//!   expires: 2026-12-31                 # optional, last day it applies
//! ```

use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobMatcher};
use jiff::civil::Date;
use serde::Deserialize;

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::{FailOn, Position, Severity};
use crate::pipeline::spans::SpanIndex;

/// Where suppressions live, relative to the project directory.
pub const IGNORE_FILE: &str = ".mlgate/ignore.yaml";

/// One accepted finding (or family of findings).
#[derive(Debug, Clone)]
pub struct Suppression {
    /// Rule id it applies to (exact).
    pub rule: String,
    /// Glob over the finding's project-relative path (`*` stays within one
    /// directory, `**` crosses them).
    pub path: Option<String>,
    /// Gate id it applies to.
    pub gate: Option<String>,
    /// Fingerprint of the one finding it applies to.
    pub fingerprint: Option<String>,
    /// Why the finding is accepted.
    pub reason: String,
    /// Last day the suppression applies.
    pub expires: Option<Date>,
    /// Where the entry is in the ignore file.
    pub position: Position,
    matcher: Option<GlobMatcher>,
}

impl Suppression {
    /// Whether the entry no longer applies on `today` (it applies through
    /// its `expires` day).
    pub fn is_expired(&self, today: Date) -> bool {
        self.expires.is_some_and(|e| today > e)
    }

    fn applies(&self, gate: &str, rule: &str, path: Option<&str>, fingerprint: &str) -> bool {
        self.rule == rule
            && self.gate.as_deref().is_none_or(|g| g == gate)
            && self.fingerprint.as_deref().is_none_or(|f| f == fingerprint)
            && match &self.matcher {
                None => true,
                Some(m) => path.is_some_and(|p| m.is_match(p.trim_start_matches("./"))),
            }
    }
}

/// The suppressions of a project.
#[derive(Debug, Clone, Default)]
pub struct Suppressions {
    /// The ignore file (whether or not it exists).
    pub file: PathBuf,
    /// Entries in file order.
    pub entries: Vec<Suppression>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    rule: Option<String>,
    path: Option<String>,
    gate: Option<String>,
    fingerprint: Option<String>,
    reason: Option<String>,
    expires: Option<String>,
}

/// Loads `<project_dir>/.mlgate/ignore.yaml`; a missing file means no
/// suppressions.
pub fn load(project_dir: &Path) -> Result<Suppressions, Diagnostics> {
    let file = project_dir.join(IGNORE_FILE);
    match std::fs::read_to_string(&file) {
        Ok(text) => parse_str(&text, &file),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Suppressions {
            file,
            entries: Vec::new(),
        }),
        Err(e) => Err(Diagnostics::one(Diagnostic::file_level(
            &file,
            format!("cannot read suppressions file: {e}"),
        ))),
    }
}

/// Parses suppressions `text` read from `file` (shown in messages).
pub fn parse_str(text: &str, file: &Path) -> Result<Suppressions, Diagnostics> {
    let located = |line: u32, column: u32, len: usize, message: String| {
        Diagnostic::at(file, text, line, column, len, message)
    };
    let raw: Option<Vec<RawEntry>> = serde_yaml_ng::from_str(text).map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line() as u32, l.column() as u32))
            .unwrap_or((0, 0));
        let message = e.to_string().replacen(&format!(" at line {line} column {column}"), "", 1);
        Diagnostics::one(located(line, column, 1, format!("invalid suppressions file: {message}")).with_help(
            "the file is a list of `{ rule, reason, path?, gate?, fingerprint?, expires? }` entries",
        ))
    })?;
    let spans = SpanIndex::parse(text).unwrap_or_default();
    let mut errors = Vec::new();
    let mut entries = Vec::new();
    for (i, entry) in raw.unwrap_or_default().into_iter().enumerate() {
        let base = format!("[{i}]");
        let at = |field: &str, message: String, help: &str| {
            let s = spans.locate(&format!("{base}.{field}"));
            located(s.line, s.column, s.len, message).with_help(help)
        };
        let start = spans.locate(&base);
        let rule = entry.rule.filter(|r| !r.trim().is_empty());
        if rule.is_none() {
            errors.push(at(
                "rule",
                format!("suppression {} has no `rule`", i + 1),
                "add the rule id of the finding to suppress, e.g. `rule: pickle/global-import`",
            ));
        }
        let reason = entry.reason.filter(|r| !r.trim().is_empty());
        if reason.is_none() {
            errors.push(at(
                "reason",
                format!("suppression {} has no `reason`", i + 1),
                "say why the finding is accepted (a ticket, a review): suppressions need a reason",
            ));
        }
        let matcher = match &entry.path {
            None => None,
            Some(glob) => match GlobBuilder::new(glob).literal_separator(true).build() {
                Ok(g) => Some(g.compile_matcher()),
                Err(e) => {
                    errors.push(at(
                        "path",
                        format!("invalid path glob `{glob}`: {}", e.kind()),
                        "use `*` within a directory and `**` across directories",
                    ));
                    None
                }
            },
        };
        let expires = match &entry.expires {
            None => None,
            Some(text) => match text.parse::<Date>() {
                Ok(d) => Some(d),
                Err(_) => {
                    errors.push(at(
                        "expires",
                        format!("invalid `expires` date `{text}`"),
                        "write the date as YYYY-MM-DD",
                    ));
                    None
                }
            },
        };
        if let (Some(rule), Some(reason)) = (rule, reason) {
            entries.push(Suppression {
                rule,
                path: entry.path,
                gate: entry.gate,
                fingerprint: entry.fingerprint,
                reason,
                expires,
                position: Position {
                    line: start.line,
                    column: start.column,
                },
                matcher,
            });
        }
    }
    if !errors.is_empty() {
        let mut all = Diagnostics(errors);
        all.sort();
        return Err(all);
    }
    Ok(Suppressions {
        file: file.to_path_buf(),
        entries,
    })
}

impl Suppressions {
    /// The first unexpired entry that covers this finding, if any. An entry
    /// with a `path` glob never covers a finding without a path.
    pub fn matches(
        &self,
        today: Date,
        gate_id: &str,
        rule_id: &str,
        path: Option<&str>,
        fingerprint: &str,
    ) -> Option<&Suppression> {
        self.entries
            .iter()
            .find(|s| !s.is_expired(today) && s.applies(gate_id, rule_id, path, fingerprint))
    }

    /// Whether there are no entries at all.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries past their `expires` day (to report: they suppress nothing now).
    pub fn expired(&self, today: Date) -> Vec<&Suppression> {
        self.entries
            .iter()
            .filter(|s| s.is_expired(today))
            .collect()
    }
}

/// A gate's outcome from its findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// No finding at `low` or above.
    Pass,
    /// Findings at `low` or above, all below the threshold.
    Warn,
    /// A finding at or above the threshold.
    Fail,
}

impl Verdict {
    /// `pass`, `warn` or `fail` (the report's gate status).
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Warn => "warn",
            Verdict::Fail => "fail",
        }
    }
}

/// Applies `fail_on` to the severities of a gate's unsuppressed findings:
/// fail if any is at or above the threshold, warn if any is `low` or above,
/// else pass (`info` findings alone pass, unless `fail_on: info`).
pub fn verdict(fail_on: FailOn, severities: impl Iterator<Item = Severity>) -> Verdict {
    let mut out = Verdict::Pass;
    for s in severities {
        if fail_on.fails(s) {
            return Verdict::Fail;
        }
        if s >= Severity::Low {
            out = Verdict::Warn;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    const FILE: &str = "\
- rule: pickle/global-import
  path: \"models/legacy/**\"
  gate: model-scan
  reason: vendored model, reviewed in SEC-412
  expires: 2026-12-31
- rule: secrets/aws-key
  fingerprint: abc123
  reason: test fixture, not a real key
- rule: deps/vuln
  reason: no fix released
  expires: 2025-01-31
";

    fn load() -> Suppressions {
        parse_str(FILE, Path::new(".mlgate/ignore.yaml")).unwrap()
    }

    #[test]
    fn matches_by_rule_path_gate_and_fingerprint() {
        let s = load();
        let today = date(2026, 6, 1);
        let hit = s.matches(
            today,
            "model-scan",
            "pickle/global-import",
            Some("models/legacy/a/b.pkl"),
            "f",
        );
        assert_eq!(hit.map(|h| h.position.line), Some(1));
        assert!(
            s.matches(
                today,
                "other-gate",
                "pickle/global-import",
                Some("models/legacy/a.pkl"),
                "f"
            )
            .is_none()
        );
        assert!(
            s.matches(
                today,
                "model-scan",
                "pickle/global-import",
                Some("models/new.pkl"),
                "f"
            )
            .is_none()
        );
        assert!(
            s.matches(today, "model-scan", "pickle/global-import", None, "f")
                .is_none()
        );
        assert!(
            s.matches(today, "any", "secrets/aws-key", Some("x"), "abc123")
                .is_some()
        );
        assert!(
            s.matches(today, "any", "secrets/aws-key", Some("x"), "other")
                .is_none()
        );
    }

    #[test]
    fn expired_entries_stop_suppressing() {
        let s = load();
        assert!(
            s.matches(date(2025, 1, 31), "g", "deps/vuln", None, "f")
                .is_some(),
            "applies on its last day"
        );
        assert!(
            s.matches(date(2025, 2, 1), "g", "deps/vuln", None, "f")
                .is_none()
        );
        let expired: Vec<&str> = s
            .expired(date(2027, 1, 1))
            .iter()
            .map(|e| e.rule.as_str())
            .collect();
        assert_eq!(expired, ["pickle/global-import", "deps/vuln"]);
        assert!(s.expired(date(2024, 1, 1)).is_empty());
    }

    #[test]
    fn bad_entries_are_located() {
        let text = "- rule: r\n  reason: ok\n  expires: 31/12/2026\n- rule: r2\n  path: \"a/[\"\n";
        let err = parse_str(text, Path::new("ignore.yaml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("invalid `expires` date `31/12/2026`\n --> ignore.yaml:3:12"),
            "{err}"
        );
        assert!(err.contains("suppression 2 has no `reason`"), "{err}");
        assert!(err.contains("invalid path glob `a/[`"), "{err}");
        let err = parse_str("- rule: r\n  reson: x\n", Path::new("i.yaml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `reson`"), "{err}");
    }

    #[test]
    fn missing_file_is_empty() {
        let tmp = tempfile::tempdir().unwrap();
        let s = super::load(tmp.path()).unwrap();
        assert!(s.entries.is_empty());
        assert!(
            parse_str("", Path::new("i.yaml"))
                .unwrap()
                .entries
                .is_empty()
        );
    }

    #[test]
    fn verdict_applies_the_threshold() {
        use Severity::*;
        let high = FailOn::At(High);
        assert_eq!(verdict(high, [].into_iter()), Verdict::Pass);
        assert_eq!(verdict(high, [Info, Info].into_iter()), Verdict::Pass);
        assert_eq!(verdict(high, [Info, Low].into_iter()), Verdict::Warn);
        assert_eq!(verdict(high, [Medium, Critical].into_iter()), Verdict::Fail);
        assert_eq!(verdict(high, [High].into_iter()), Verdict::Fail);
        assert_eq!(
            verdict(FailOn::Never, [Critical].into_iter()),
            Verdict::Warn
        );
        assert_eq!(verdict(FailOn::At(Info), [Info].into_iter()), Verdict::Fail);
    }
}
