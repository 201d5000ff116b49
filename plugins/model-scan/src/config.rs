//! The gate's `with:` config, its defaults and its JSON schema.
//!
//! ```yaml
//! with:
//!   unknown_globals: high        # high | medium | allow
//!   allow_globals: [mypkg.models.*, mypkg.utils.Vocab]   # or "a.b, c.*"
//!   deny_globals: [collections.Counter]
//!   require_safetensors: false   # any pickle-based model file is `high`
//!   max_member_bytes: 268435456  # decompressed bytes kept per archive member
//! ```

use serde::Deserialize;

/// What to do with a global that is neither known safe nor known dangerous.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum UnknownGlobals {
    /// Report as `high` (default).
    #[default]
    High,
    /// Report as `medium`.
    Medium,
    /// Do not report.
    Allow,
}

/// Parsed `with:` block.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Severity policy for unknown globals.
    pub unknown_globals: UnknownGlobals,
    /// Extra safe globals: `module.name` or `module.*` (a list, or one
    /// comma-separated string as `mlgate check --set` passes it).
    #[serde(deserialize_with = "list_or_csv")]
    pub allow_globals: Vec<String>,
    /// Extra dangerous globals, same forms as `allow_globals`.
    #[serde(deserialize_with = "list_or_csv")]
    pub deny_globals: Vec<String>,
    /// Report every pickle-based model file as `high`.
    pub require_safetensors: bool,
    /// Most decompressed bytes kept for one archive member or compressed
    /// stream; past it the rest is not scanned and a `scan-limit` finding
    /// is raised (zip bombs end here).
    pub max_member_bytes: u64,
    /// Most bytes held in memory at once across nested decompressions.
    pub max_memory_bytes: u64,
    /// Deepest archive nesting followed.
    pub max_depth: u32,
    /// Most pickle opcodes executed per stream.
    pub max_opcodes: u64,
    /// Longest HDF5 attribute string read; bytes of an HDF5 file searched
    /// for a Keras `model_config` when its attributes cannot be read.
    pub hdf5_search_bytes: u64,
    /// Report files in formats the scanner does not know (`info`).
    pub report_unscanned: bool,
}

/// A list of strings, or one comma-separated string.
fn list_or_csv<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Form {
        List(Vec<String>),
        Csv(String),
    }
    Ok(match Form::deserialize(d)? {
        Form::List(v) => v,
        Form::Csv(s) => s
            .split(',')
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect(),
    })
}

impl Default for Config {
    fn default() -> Self {
        Config {
            unknown_globals: UnknownGlobals::High,
            allow_globals: Vec::new(),
            deny_globals: Vec::new(),
            require_safetensors: false,
            max_member_bytes: 256 << 20,
            max_memory_bytes: 320 << 20,
            max_depth: 8,
            max_opcodes: 50_000_000,
            hdf5_search_bytes: 64 << 20,
            report_unscanned: true,
        }
    }
}

/// JSON schema of [`Config`] for `describe`.
pub const SCHEMA: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "unknown_globals": {"enum": ["high", "medium", "allow"], "default": "high",
      "description": "Severity of a pickle global that is neither known safe nor known dangerous"},
    "allow_globals": {"oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}],
      "description": "Extra safe globals, `module.name` or `module.*` (never overrides the dangerous list)"},
    "deny_globals": {"oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}],
      "description": "Extra dangerous globals, `module.name` or `module.*`"},
    "require_safetensors": {"type": "boolean", "default": false,
      "description": "Report every pickle-based model file as high"},
    "max_member_bytes": {"type": "integer", "minimum": 1024, "default": 268435456},
    "max_memory_bytes": {"type": "integer", "minimum": 1024, "default": 335544320},
    "max_depth": {"type": "integer", "minimum": 1, "maximum": 32, "default": 8},
    "max_opcodes": {"type": "integer", "minimum": 1000, "default": 50000000},
    "hdf5_search_bytes": {"type": "integer", "minimum": 0, "default": 67108864},
    "report_unscanned": {"type": "boolean", "default": true}
  }
}"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_typos() {
        let c: Config = serde_json::from_str(r#"{"unknown_globals": "medium"}"#).unwrap();
        assert_eq!(c.unknown_globals, UnknownGlobals::Medium);
        assert_eq!(c.max_depth, 8);
        assert!(serde_json::from_str::<Config>(r#"{"unknown_global": "medium"}"#).is_err());
        let c: Config = serde_json::from_str(r#"{"allow_globals": "a.b, c.*"}"#).unwrap();
        assert_eq!(c.allow_globals, ["a.b", "c.*"]);
        let c: Config = serde_json::from_str(r#"{"deny_globals": ["x.y"]}"#).unwrap();
        assert_eq!(c.deny_globals, ["x.y"]);
        let schema: serde_json::Value = serde_json::from_str(SCHEMA).unwrap();
        assert_eq!(schema["type"], "object");
    }
}
