//! The approved-ranges policy: which hyperparameters are bounded, and how.
//!
//! ```yaml
//! version: 1
//! parameters:
//!   learning_rate:         { min: 1.0e-6, max: 1.0e-2 }
//!   batch_size:            { min: 8, max: 4096, integer: true }
//!   optimizer.name:        { allowed: [adam, adamw, sgd] }
//!   layers.*.dropout:      { min: 0.0, max: 0.5 }
//!   gradient_clip_norm:    { min: 0.1, max: 10, required: true, severity: medium }
//! ```
//!
//! A parameter key is a dotted path into the training config; `*` matches
//! any one key or list index. The policy is YAML or JSON (read by [`crate::doc`]).

use std::collections::BTreeMap;

use mlgate_plugin_sdk::Severity;
use serde::Deserialize;

/// The whole policy file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Format version; only 1 exists.
    #[serde(default = "one")]
    pub version: u32,
    /// Dotted parameter path → what is approved for it.
    pub parameters: BTreeMap<String, Approved>,
}

fn one() -> u32 {
    1
}

/// What is approved for one parameter.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approved {
    /// Smallest approved value (inclusive).
    pub min: Option<f64>,
    /// Largest approved value (inclusive).
    pub max: Option<f64>,
    /// The value must be a whole number.
    #[serde(default)]
    pub integer: bool,
    /// The value must be one of these (strings, numbers or booleans).
    pub allowed: Option<Vec<serde_json::Value>>,
    /// The parameter must be present.
    #[serde(default)]
    pub required: bool,
    /// Severity of this parameter's findings, instead of the rule's default.
    pub severity: Option<String>,
    /// Why the range is what it is (shown in findings).
    pub reason: Option<String>,
}

impl Approved {
    /// Whether the value must be numeric.
    pub fn numeric(&self) -> bool {
        self.min.is_some() || self.max.is_some() || self.integer
    }

    /// The severity override, parsed.
    pub fn severity(&self) -> Option<Severity> {
        self.severity.as_deref().and_then(Severity::parse)
    }
}

impl Policy {
    /// Parse a policy from YAML or JSON text and check it makes sense.
    pub fn parse(text: &str) -> Result<Policy, String> {
        let node = crate::doc::parse(text)?.ok_or("the policy is empty")?;
        let policy: Policy =
            serde_json::from_value(node.to_json()).map_err(|e| format!("invalid policy: {e}"))?;
        policy.validate()?;
        Ok(policy)
    }

    fn validate(&self) -> Result<(), String> {
        if self.version != 1 {
            return Err(format!(
                "unsupported policy version {} (expected 1)",
                self.version
            ));
        }
        for (key, approved) in &self.parameters {
            if key.is_empty() || key.split('.').any(str::is_empty) {
                return Err(format!("parameter `{key}`: empty path segment"));
            }
            if let (Some(min), Some(max)) = (approved.min, approved.max)
                && min > max
            {
                return Err(format!("parameter `{key}`: min {min} is above max {max}"));
            }
            if let Some(s) = &approved.severity
                && Severity::parse(s).is_none()
            {
                return Err(format!(
                    "parameter `{key}`: severity `{s}` is not info|low|medium|high|critical"
                ));
            }
            if !approved.numeric() && approved.allowed.is_none() && !approved.required {
                return Err(format!(
                    "parameter `{key}`: approves everything (give min, max, integer, allowed or required)"
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_documented_policy() {
        let p = Policy::parse(
            "version: 1\nparameters:\n  learning_rate: { min: 1.0e-6, max: 1.0e-2 }\n  \
             optimizer.name: { allowed: [adam, sgd] }\n  batch_size: { max: 64, integer: true, severity: medium }\n",
        )
        .unwrap();
        assert_eq!(p.parameters["learning_rate"].max, Some(1e-2));
        assert_eq!(
            p.parameters["batch_size"].severity(),
            Some(Severity::Medium)
        );
        assert!(p.parameters["optimizer.name"].allowed.is_some());
    }

    #[test]
    fn nonsense_policies_are_refused_with_the_key() {
        for (text, needle) in [
            (
                "parameters: { lr: { min: 2, max: 1 } }",
                "min 2 is above max 1",
            ),
            ("parameters: { lr: { mni: 2 } }", "mni"),
            ("parameters: { lr: { max: 1, severity: severe } }", "severe"),
            ("parameters: { lr: {} }", "approves everything"),
            ("parameters: { a..b: { max: 1 } }", "empty path segment"),
            ("version: 2\nparameters: {}", "version 2"),
            ("", "empty"),
        ] {
            let err = Policy::parse(text).unwrap_err();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }
}
