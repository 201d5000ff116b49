//! The gate's `with:` config and its JSON schema.

use serde::Deserialize;

/// `with:` config of the signature gate.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Extra model-root-relative paths whose files need not be signed
    /// (`a,b` or a list), like `model_signing verify --ignore-paths`.
    #[serde(default)]
    pub ignore_paths: Option<StringOrList>,
    /// Keyless: the exact signer identity (SAN email or URI).
    pub identity: Option<String>,
    /// Keyless: a regex the signer identity must match (whole string).
    pub identity_regex: Option<String>,
    /// Keyless: the exact OIDC issuer.
    pub issuer: Option<String>,
    /// Keyless: a regex the OIDC issuer must match (whole string).
    pub issuer_regex: Option<String>,
    /// Time at which certificates must be valid (RFC 3339, e.g.
    /// `2030-01-01T00:00:00Z`); default: now (certificate mode) or the
    /// transparency-log time (keyless).
    pub verify_time: Option<String>,
}

/// A list given as a list or as a comma-separated string.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum StringOrList {
    /// `a,b`
    Text(String),
    /// `[a, b]`
    List(Vec<String>),
}

impl Config {
    /// The extra ignore paths, split and trimmed.
    pub fn ignore_paths(&self) -> Vec<String> {
        match &self.ignore_paths {
            None => Vec::new(),
            Some(StringOrList::Text(t)) => t
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            Some(StringOrList::List(l)) => l.iter().map(|s| s.trim().to_string()).collect(),
        }
    }
}

/// JSON schema (draft 2020-12) of [`Config`].
pub const SCHEMA: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "ignore_paths": {
      "description": "Model-root-relative paths that need not be signed (comma-separated string or list)",
      "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
    },
    "identity": {"type": "string", "description": "Keyless: exact signer identity (certificate SAN)"},
    "identity_regex": {"type": "string", "description": "Keyless: regex the signer identity must match"},
    "issuer": {"type": "string", "description": "Keyless: exact OIDC issuer"},
    "issuer_regex": {"type": "string", "description": "Keyless: regex the OIDC issuer must match"},
    "verify_time": {"type": "string", "description": "RFC 3339 time at which certificates must be valid (default: now, or the log time for keyless)"}
  }
}"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_paths_as_text_or_list() {
        let c: Config =
            serde_json::from_value(serde_json::json!({"ignore_paths": "a, b/c,"})).unwrap();
        assert_eq!(c.ignore_paths(), ["a", "b/c"]);
        let c: Config = serde_json::from_value(serde_json::json!({"ignore_paths": ["x"]})).unwrap();
        assert_eq!(c.ignore_paths(), ["x"]);
        assert!(serde_json::from_value::<Config>(serde_json::json!({"ignore_path": "x"})).is_err());
        let _: serde_json::Value = serde_json::from_str(SCHEMA).unwrap();
    }
}
