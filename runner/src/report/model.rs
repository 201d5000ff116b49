//! The result model every renderer reads: one [`RunReport`] with one
//! [`GateReport`] per selected gate. The JSON renderer serialises it as is,
//! so field names here are the JSON contract (DESIGN.md, "CLI and report").

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{Severity, Stage};

/// Outcome of the whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Every gate passed (or warned).
    Pass,
    /// A gate failed its policy.
    Fail,
    /// A gate errored (trap, timeout, limit, bad result, interrupted).
    Error,
}

/// Outcome of one gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GateStatus {
    /// No finding at or above the threshold, nothing below it either.
    Pass,
    /// Findings below the threshold.
    Warn,
    /// A finding at or above `fail_on`.
    Fail,
    /// The gate could not run or misbehaved; fails the run.
    Error,
    /// Not run (a gate it needs did not pass, or the run was interrupted).
    Skipped,
}

impl GateStatus {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            GateStatus::Pass => "pass",
            GateStatus::Warn => "warn",
            GateStatus::Fail => "fail",
            GateStatus::Error => "error",
            GateStatus::Skipped => "skipped",
        }
    }

    /// Whether dependents may run after this outcome.
    pub fn lets_dependents_run(self) -> bool {
        matches!(self, GateStatus::Pass | GateStatus::Warn)
    }
}

/// Where a finding is, project-relative.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingLocation {
    /// Project-relative path (or the guest path if it maps to no input).
    pub path: String,
    /// 1-based line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// 1-based column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// Byte offset in the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub byte_offset: Option<u64>,
}

/// One finding, validated and sanitised.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Rule id.
    pub rule_id: String,
    /// Severity.
    pub severity: Severity,
    /// Message (escape-free, bounded).
    pub message: String,
    /// Location, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<FindingLocation>,
    /// Stable fingerprint.
    pub fingerprint: String,
    /// Extra key/values.
    pub properties: BTreeMap<String, String>,
}

/// A suppressed finding and the suppression that matched it.
#[derive(Debug, Clone, Serialize)]
pub struct Suppressed {
    /// The finding.
    pub finding: Finding,
    /// The suppression's reason.
    pub reason: String,
}

/// A log line a plugin sent through the host.
#[derive(Debug, Clone, Serialize)]
pub struct LogLine {
    /// `debug|info|warn|error`.
    pub level: &'static str,
    /// Sanitised text.
    pub message: String,
}

/// What one gate did.
#[derive(Debug, Clone, Serialize)]
pub struct GateReport {
    /// Gate id.
    pub id: String,
    /// Plugin reference (`builtin:NAME` or the `.wasm` path).
    pub plugin: String,
    /// Stage.
    pub stage: Stage,
    /// Outcome.
    pub status: GateStatus,
    /// Why the gate errored or was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Wall time.
    pub duration_ms: u64,
    /// The threshold applied.
    pub fail_on: String,
    /// Unsuppressed findings, most severe first.
    pub findings: Vec<Finding>,
    /// Findings a suppression matched.
    pub suppressed: Vec<Suppressed>,
    /// The plugin's summary line.
    pub summary: String,
    /// The plugin's metrics.
    pub metrics: BTreeMap<String, f64>,
    /// Log lines (capped).
    pub logs: Vec<LogLine>,
    /// Log lines and stdout/stderr bytes dropped by the caps.
    pub logs_dropped: u64,
    /// Captured stdout+stderr of the guest (capped, sanitised).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub output: String,
    /// Whether the component came from the compile cache.
    pub cached: bool,
    /// Set when this pre-commit gate saw only changed files (`mlgate run
    /// --changed` / `--changed-since`, or the pre-commit default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub narrowed: Option<Narrowed>,
}

/// How a gate was narrowed to changed files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Narrowed {
    /// `staged` (content from the git index) or `changed-since` (working tree).
    pub mode: String,
    /// The revision of `changed-since`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// Changed files the gate saw (0 when it was skipped for having none).
    pub files: usize,
}

impl GateReport {
    /// A report for a gate that did not run.
    pub fn skipped(id: &str, plugin: &str, stage: Stage, fail_on: String, reason: String) -> Self {
        GateReport {
            id: id.to_string(),
            plugin: plugin.to_string(),
            stage,
            status: GateStatus::Skipped,
            reason: Some(reason),
            duration_ms: 0,
            fail_on,
            findings: Vec::new(),
            suppressed: Vec::new(),
            summary: String::new(),
            metrics: BTreeMap::new(),
            logs: Vec::new(),
            logs_dropped: 0,
            output: String::new(),
            cached: false,
            narrowed: None,
        }
    }

    /// Count of unsuppressed findings per severity.
    pub fn counts(&self) -> BTreeMap<Severity, usize> {
        let mut counts = BTreeMap::new();
        for f in &self.findings {
            *counts.entry(f.severity).or_insert(0) += 1;
        }
        counts
    }
}

/// An expired suppression, reported so someone renews or removes it.
#[derive(Debug, Clone, Serialize)]
pub struct ExpiredSuppression {
    /// Rule it named.
    pub rule: String,
    /// Its expiry date.
    pub expires: String,
    /// Its reason.
    pub reason: String,
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// `pass|fail|error`.
    pub status: RunStatus,
    /// Pipeline name (or `check` for a single gate).
    pub pipeline: String,
    /// mlgate version.
    pub mlgate_version: String,
    /// Total wall time.
    pub duration_ms: u64,
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// Side effects a dry run skipped (human-readable).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped_side_effects: Vec<String>,
    /// Whether Ctrl-C interrupted the run.
    pub interrupted: bool,
    /// Expired suppressions found in `.mlgate/ignore.yaml`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expired_suppressions: Vec<ExpiredSuppression>,
    /// The git commit, branch and dirty state of the project, when it is
    /// in a git work tree.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub git: Option<crate::git::RepoState>,
    /// One entry per selected gate, in run order.
    pub gates: Vec<GateReport>,
}

impl RunReport {
    /// Derive the run status from the gates: any error → error, else any
    /// fail → fail, else pass.
    pub fn status_of(gates: &[GateReport]) -> RunStatus {
        if gates.iter().any(|g| g.status == GateStatus::Error) {
            RunStatus::Error
        } else if gates.iter().any(|g| g.status == GateStatus::Fail) {
            RunStatus::Fail
        } else {
            RunStatus::Pass
        }
    }

    /// Exit status by the contract: 0 pass, 1 fail or error.
    pub fn exit_code(&self) -> u8 {
        match self.status {
            RunStatus::Pass => 0,
            RunStatus::Fail | RunStatus::Error => 1,
        }
    }
}
