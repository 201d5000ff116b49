//! A shared `with:` config for file-scanning gates (allowlist by path glob,
//! rule id or fingerprint; a size bound) and the baseline file of accepted
//! findings. Both only ever remove findings; neither can add. Enabled by the
//! SDK's `allowlist` feature (it brings in `globset`).
//!
//! ```
//! use mlgate_plugin_sdk::allowlist::{Config, Filters};
//! let config: Config = serde_json::from_str(
//!     r#"{"allowlist": {"paths": ["tests/**"], "rules": ["eval-exec"]}}"#,
//! ).unwrap();
//! let filters = Filters::new(config, None, 4 << 20).unwrap();
//! assert!(filters.path_allowed("tests/data/a.py"));
//! assert!(filters.finding_allowed("eval-exec", "00"));
//! assert_eq!(filters.max_file_bytes, 4 << 20);
//! ```

use std::collections::HashSet;

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;

use crate::GateError;

/// `with:` block.
///
/// ```yaml
/// with:
///   allowlist:
///     paths: ["tests/fixtures/**", "**/*.lock"]
///     rules: [jwt]
///     fingerprints: ["3f1c...", "9a0b..."]
///   max_file_bytes: 8388608
/// ```
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// What never to report.
    pub allowlist: Allowlist,
    /// Largest file scanned, in bytes.
    pub max_file_bytes: Option<u64>,
}

/// Findings to drop by path glob (relative to the input), rule id or fingerprint.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Allowlist {
    /// Globs on the path relative to the input (`**` crosses directories).
    pub paths: Vec<String>,
    /// Rule ids never reported.
    pub rules: Vec<String>,
    /// Fingerprints of accepted findings.
    pub fingerprints: Vec<String>,
}

/// The config in the form the scan uses.
pub struct Filters {
    paths: GlobSet,
    rules: HashSet<String>,
    fingerprints: HashSet<String>,
    /// Largest file scanned.
    pub max_file_bytes: u64,
}

/// JSON schema of [`Config`] for `describe()`.
pub const SCHEMA: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "allowlist": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "paths": {"type": "array", "items": {"type": "string"}, "description": "globs relative to the input"},
        "rules": {"type": "array", "items": {"type": "string"}},
        "fingerprints": {"type": "array", "items": {"type": "string"}}
      }
    },
    "max_file_bytes": {"type": "integer", "minimum": 1, "description": "larger files are skipped with an info finding"}
  }
}"#;

impl Filters {
    /// Compile the config; `baseline` is the text of the baseline input, if
    /// any; `default_max_file_bytes` applies when the config sets no bound.
    pub fn new(
        config: Config,
        baseline: Option<&str>,
        default_max_file_bytes: u64,
    ) -> Result<Self, GateError> {
        let mut builder = GlobSetBuilder::new();
        for pattern in &config.allowlist.paths {
            let glob = Glob::new(pattern).map_err(|e| {
                GateError::config(format!("allowlist.paths: bad glob `{pattern}`: {e}"))
            })?;
            builder.add(glob);
        }
        let paths = builder
            .build()
            .map_err(|e| GateError::config(format!("allowlist.paths: {e}")))?;
        let mut fingerprints: HashSet<String> = config.allowlist.fingerprints.into_iter().collect();
        if let Some(text) = baseline {
            fingerprints.extend(baseline_fingerprints(text)?);
        }
        Ok(Filters {
            paths,
            rules: config.allowlist.rules.into_iter().collect(),
            fingerprints,
            max_file_bytes: config.max_file_bytes.unwrap_or(default_max_file_bytes),
        })
    }

    /// Whether files at this relative path are skipped.
    pub fn path_allowed(&self, relative: &str) -> bool {
        self.paths.is_match(relative)
    }

    /// Whether a finding with this rule and fingerprint is dropped.
    pub fn finding_allowed(&self, rule: &str, fingerprint: &str) -> bool {
        self.rules.contains(rule) || self.fingerprints.contains(fingerprint)
    }
}

/// Fingerprints in a baseline: a `{"fingerprints": [...]}` file or any JSON
/// with `fingerprint` fields, such as a saved `mlgate ... --format json` report.
pub fn baseline_fingerprints(text: &str) -> Result<Vec<String>, GateError> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| GateError::config(format!("baseline is not JSON: {e}")))?;
    let mut out = Vec::new();
    collect(&value, &mut out, 0);
    Ok(out)
}

fn collect(value: &serde_json::Value, out: &mut Vec<String>, depth: usize) {
    if depth > 32 {
        return;
    }
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("fingerprint", serde_json::Value::String(s)) => out.push(s.clone()),
                    ("fingerprints", serde_json::Value::Array(items)) => {
                        out.extend(items.iter().filter_map(|i| i.as_str().map(str::to_string)))
                    }
                    _ => collect(v, out, depth + 1),
                }
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                collect(item, out, depth + 1);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baseline_reads_reports_and_lists() {
        let report = r#"{"gates":[{"findings":[{"fingerprint":"aa"},{"fingerprint":"bb"}]}]}"#;
        assert_eq!(baseline_fingerprints(report).unwrap(), ["aa", "bb"]);
        assert_eq!(
            baseline_fingerprints(r#"{"fingerprints":["cc"]}"#).unwrap(),
            ["cc"]
        );
        assert!(baseline_fingerprints("not json").is_err());
    }

    #[test]
    fn allowlist_globs_rules_and_fingerprints() {
        let config: Config = serde_json::from_value(serde_json::json!({
            "allowlist": {"paths": ["docs/**", "*.lock"], "rules": ["jwt"], "fingerprints": ["ff"]}
        }))
        .unwrap();
        let f = Filters::new(config, Some(r#"{"fingerprints":["ee"]}"#), 7).unwrap();
        assert_eq!(f.max_file_bytes, 7);
        assert!(f.path_allowed("docs/a/b.md"));
        assert!(f.path_allowed("Cargo.lock"));
        assert!(!f.path_allowed("src/main.py"));
        assert!(f.finding_allowed("jwt", "00"));
        assert!(f.finding_allowed("x", "ff") && f.finding_allowed("x", "ee"));
        assert!(!f.finding_allowed("x", "00"));
    }

    #[test]
    fn unknown_keys_are_errors() {
        let r: Result<Config, _> = serde_json::from_value(serde_json::json!({"allowlst": {}}));
        assert!(r.is_err());
    }
}
