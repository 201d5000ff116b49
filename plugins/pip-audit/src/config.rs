//! The gate's `with:` config, validated once, and its JSON schema.

use serde::Deserialize;

use crate::markers::Environment;

/// `with:` block of a `pip-audit` gate.
///
/// ```yaml
/// with:
///   require_hashes: true
///   max_db_age_days: 30
///   environment: { python_version: "3.11", sys_platform: linux }
///   ignore:
///     - { id: CVE-2023-30861, reason: "not behind a caching proxy", expires: 2026-12-31 }
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Every requirement must carry `--hash` (otherwise only when some do).
    pub require_hashes: bool,
    /// Advisories to ignore, by any of their ids or aliases.
    pub ignore: Vec<IgnoreEntry>,
    /// Age in days past which the advisory database is reported as stale.
    pub max_db_age_days: u32,
    /// Names never reported as typosquats (legitimate near-misses you use).
    pub typosquat_allow: Vec<String>,
    /// Index URLs that are yours: an extra index listed here is not reported.
    pub trusted_indexes: Vec<String>,
    /// Target environment for PEP 508 markers; `None`: markers are not
    /// evaluated and every requirement is audited.
    pub environment: Option<Environment>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            require_hashes: false,
            ignore: Vec::new(),
            max_db_age_days: 30,
            typosquat_allow: Vec::new(),
            trusted_indexes: Vec::new(),
            environment: None,
        }
    }
}

/// One ignore-list entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IgnoreEntry {
    /// Advisory id or alias (`PYSEC-…`, `CVE-…`, `GHSA-…`).
    pub id: String,
    /// Why it is acceptable (required: an ignore must be explained).
    pub reason: String,
    /// `YYYY-MM-DD`; from that day on the entry no longer applies.
    #[serde(default)]
    pub expires: Option<String>,
}

/// JSON schema (draft 2020-12) of [`Config`].
pub const SCHEMA: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "require_hashes": {"type": "boolean", "default": false,
      "description": "Report every requirement without --hash (otherwise only when some have one)"},
    "max_db_age_days": {"type": "integer", "minimum": 0, "default": 30,
      "description": "Report the advisory database as stale past this age"},
    "typosquat_allow": {"type": "array", "items": {"type": "string"},
      "description": "Names never reported as typosquats"},
    "trusted_indexes": {"type": "array", "items": {"type": "string"},
      "description": "Extra index URLs that are not reported"},
    "environment": {"type": "object", "additionalProperties": false,
      "description": "Target environment for PEP 508 markers (absent: markers are not evaluated, everything is audited; a key left out is unknown and never excludes a requirement)",
      "properties": {
        "python_version": {"type": "string", "pattern": "^[0-9]+\\.[0-9]+$"},
        "python_full_version": {"type": "string"},
        "sys_platform": {"type": "string"},
        "platform_system": {"type": "string"},
        "platform_machine": {"type": "string"},
        "os_name": {"type": "string"},
        "implementation_name": {"type": "string"},
        "platform_python_implementation": {"type": "string"},
        "implementation_version": {"type": "string"},
        "platform_release": {"type": "string"},
        "platform_version": {"type": "string"}
      }},
    "ignore": {"type": "array", "items": {
      "type": "object", "additionalProperties": false, "required": ["id", "reason"],
      "properties": {
        "id": {"type": "string"},
        "reason": {"type": "string", "minLength": 1},
        "expires": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
      }}}
  }
}"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects_unknown() {
        let c: Config = serde_json::from_value(serde_json::json!({
            "require_hashes": true,
            "ignore": [{"id": "CVE-1", "reason": "r", "expires": "2030-01-01"}]
        }))
        .unwrap();
        assert!(c.require_hashes);
        assert_eq!(c.max_db_age_days, 30);
        assert!(
            serde_json::from_value::<Config>(serde_json::json!({"require_hash": true})).is_err()
        );
        assert!(
            serde_json::from_value::<Config>(serde_json::json!({"ignore": [{"id": "x"}]})).is_err(),
            "reason is required"
        );
        let _: serde_json::Value = serde_json::from_str(SCHEMA).unwrap();
    }
}
