//! The OSV record model (schema 1.x) as far as the audit needs it, the
//! database loader ([`db`]) and the version matcher ([`matcher`]).
//!
//! Fields are lenient on purpose: the PyPA data has records that fail the OSV
//! JSON schema (short GIT hashes, a `0001-01-01` timestamp), and one bad field
//! must not hide a whole record.

pub mod db;
pub mod matcher;

use serde::Deserialize;

/// One OSV vulnerability record.
#[derive(Debug, Clone, Deserialize)]
pub struct Record {
    /// `PYSEC-…`, `GHSA-…`, `MAL-…`.
    pub id: String,
    /// Last modification time (RFC 3339 text, kept as written).
    #[serde(default)]
    pub modified: Option<String>,
    /// Withdrawal time: a withdrawn record never matches.
    #[serde(default)]
    pub withdrawn: Option<String>,
    /// Other ids of the same vulnerability (CVE, GHSA, PYSEC…).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// One-line summary.
    #[serde(default)]
    pub summary: Option<String>,
    /// Long description.
    #[serde(default)]
    pub details: Option<String>,
    /// CVSS vectors of the record.
    #[serde(default)]
    pub severity: Vec<SeverityScore>,
    /// Affected packages and versions.
    #[serde(default)]
    pub affected: Vec<Affected>,
    /// Free-form data; GHSA puts `severity: "HIGH"` here.
    #[serde(default)]
    pub database_specific: Option<serde_json::Value>,
}

/// A `severity[]` entry: `type` (`CVSS_V3`, `CVSS_V4`, …) and vector text.
#[derive(Debug, Clone, Deserialize)]
pub struct SeverityScore {
    /// Scoring system.
    #[serde(rename = "type")]
    pub kind: String,
    /// The vector string (or score) as written.
    pub score: String,
}

/// One `affected[]` entry.
#[derive(Debug, Clone, Deserialize)]
pub struct Affected {
    /// Ecosystem and name; absent means the entry applies to nothing here.
    #[serde(default)]
    pub package: Option<Package>,
    /// Version ranges.
    #[serde(default)]
    pub ranges: Vec<Range>,
    /// Explicit affected versions (compared as PEP 440 versions).
    #[serde(default)]
    pub versions: Vec<String>,
    /// Per-package severity (OSV 1.4+).
    #[serde(default)]
    pub severity: Vec<SeverityScore>,
    /// Free-form data.
    #[serde(default)]
    pub database_specific: Option<serde_json::Value>,
}

/// `affected[].package`.
#[derive(Debug, Clone, Deserialize)]
pub struct Package {
    /// `PyPI` for the Python ecosystem.
    #[serde(default)]
    pub ecosystem: String,
    /// Package name as written (normalise before comparing).
    #[serde(default)]
    pub name: String,
}

/// `affected[].ranges[]`.
#[derive(Debug, Clone, Deserialize)]
pub struct Range {
    /// `ECOSYSTEM`, `SEMVER` or `GIT`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Events in file order (not necessarily sorted).
    #[serde(default)]
    pub events: Vec<Event>,
}

/// One range event: exactly one of the fields is set in valid data.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Event {
    /// First affected version (`"0"` = since the beginning).
    #[serde(default)]
    pub introduced: Option<String>,
    /// First fixed version.
    #[serde(default)]
    pub fixed: Option<String>,
    /// Last affected version (inclusive).
    #[serde(default)]
    pub last_affected: Option<String>,
    /// Upper bound: versions at or above it are outside the range.
    #[serde(default)]
    pub limit: Option<String>,
}

impl Record {
    /// Whether the record is withdrawn (any non-empty `withdrawn` value).
    pub fn is_withdrawn(&self) -> bool {
        self.withdrawn
            .as_deref()
            .is_some_and(|w| !w.trim().is_empty())
    }

    /// Whether the record describes a malicious package (`MAL-` id or alias).
    pub fn is_malicious(&self) -> bool {
        std::iter::once(&self.id)
            .chain(&self.aliases)
            .any(|id| id.starts_with("MAL-"))
    }
}

/// Whether an OSV ecosystem string is PyPI (`PyPI`, or `PyPI:…` variants).
pub fn is_pypi(ecosystem: &str) -> bool {
    ecosystem == "PyPI" || ecosystem.starts_with("PyPI:")
}

#[cfg(test)]
mod reference_tests;
