//! The validated pipeline: what the YAML means once every reference is
//! resolved. `pipeline` builds it (with located errors), `graph` orders it,
//! the `scheduler` runs it. Nothing here knows about YAML or wasmtime.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How bad a finding is; ordered `info < low < medium < high < critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational, never fails a gate unless `fail_on: info`.
    Info,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl Severity {
    /// All severities, least severe first.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// Lower-case name as written in pipelines and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Parse a lower-case name.
    pub fn parse(text: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The threshold a gate fails at: a severity, or `never` (report only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    /// Fail when an unsuppressed finding is at or above this severity.
    At(Severity),
    /// Never fail on findings (errors still fail).
    Never,
}

impl FailOn {
    /// Whether a finding of `severity` fails the gate.
    pub fn fails(self, severity: Severity) -> bool {
        match self {
            FailOn::At(threshold) => severity >= threshold,
            FailOn::Never => false,
        }
    }
}

impl fmt::Display for FailOn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailOn::At(s) => s.fmt(f),
            FailOn::Never => f.write_str("never"),
        }
    }
}

/// The three stages, in run order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// Secrets and dependency audit on changed files.
    PreCommit,
    /// Dataset provenance and poisoning checks before training.
    Training,
    /// Model scan and signature verification before shipping.
    Deployment,
}

impl Stage {
    /// All stages in run order.
    pub const ALL: [Stage; 3] = [Stage::PreCommit, Stage::Training, Stage::Deployment];

    /// Name as written in pipelines.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::PreCommit => "pre-commit",
            Stage::Training => "training",
            Stage::Deployment => "deployment",
        }
    }

    /// Parse a stage name.
    pub fn parse(text: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a gate's plugin comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum PluginRef {
    /// A plugin embedded in the binary: `builtin:NAME`.
    Builtin {
        /// Plugin name, e.g. `model-scan`.
        name: String,
    },
    /// A `.wasm` component on disk, pinned by SHA-256.
    File {
        /// Absolute path.
        path: PathBuf,
        /// Lower-case hex SHA-256 the file must have.
        sha256: String,
    },
}

impl fmt::Display for PluginRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PluginRef::Builtin { name } => write!(f, "builtin:{name}"),
            PluginRef::File { path, .. } => write!(f, "{}", path.display()),
        }
    }
}

/// Resource limits of one gate's sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// Linear-memory cap in bytes.
    pub memory_bytes: u64,
    /// Wall-clock deadline for instantiate + run.
    #[serde(with = "duration_ms")]
    pub timeout: Duration,
}

impl Default for Limits {
    /// 512 MiB and 120 s.
    fn default() -> Self {
        Limits {
            memory_bytes: 512 << 20,
            timeout: Duration::from_secs(120),
        }
    }
}

mod duration_ms {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }
}

/// A declared input or output: the path as written and where it resolves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathBinding {
    /// Input name (`dataset`, `models`, ...).
    pub name: String,
    /// The path as written in the pipeline (or on the command line).
    pub declared: String,
    /// Absolute host path.
    pub path: PathBuf,
}

/// Position of something in the pipeline file (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Position {
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

/// One gate, validated.
#[derive(Debug, Clone, Serialize)]
pub struct GateSpec {
    /// Gate id (the key under `gates:`).
    pub id: String,
    /// Stage it runs in.
    pub stage: Stage,
    /// Which plugin.
    pub plugin: PluginRef,
    /// Gates that must pass first.
    pub needs: Vec<String>,
    /// Read-only inputs.
    pub inputs: Vec<PathBinding>,
    /// Writable output directories.
    pub outputs: Vec<PathBinding>,
    /// The `with:` block as a JSON object.
    pub config: serde_json::Value,
    /// Effective limits (gate overrides defaults).
    pub limits: Limits,
    /// Effective failure threshold.
    pub fail_on: FailOn,
    /// Where the gate is declared (its key), for reports that point at the pipeline.
    pub position: Position,
}

/// A validated pipeline.
#[derive(Debug, Clone, Serialize)]
pub struct Pipeline {
    /// `name:` (defaults to the file stem).
    pub name: String,
    /// The pipeline file.
    pub file: PathBuf,
    /// Directory input paths are relative to.
    pub project_dir: PathBuf,
    /// Gates in file order.
    pub gates: Vec<GateSpec>,
    /// The raw `tickets:` sinks (validated by the tickets module).
    pub tickets: Vec<serde_json::Value>,
}

impl Pipeline {
    /// Index of a gate by id.
    pub fn gate_index(&self, id: &str) -> Option<usize> {
        self.gates.iter().position(|g| g.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_orders_and_parses() {
        assert!(Severity::Critical > Severity::High);
        assert_eq!(Severity::parse("medium"), Some(Severity::Medium));
        assert_eq!(Severity::parse("severe"), None);
        assert!(FailOn::At(Severity::High).fails(Severity::Critical));
        assert!(!FailOn::At(Severity::High).fails(Severity::Medium));
        assert!(!FailOn::Never.fails(Severity::Critical));
    }
}
