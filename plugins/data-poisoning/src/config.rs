//! The gate's `with:` config, validated once (unknown keys are errors).

use serde::Deserialize;

/// The whole `with:` block.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Name of the label column.
    pub label_column: String,
    /// `csv` or `jsonl`; by default from the file extension.
    pub format: Option<String>,
    /// Columns that are not features (ids, timestamps).
    pub ignore_columns: Vec<String>,
    /// Stop reading after this many rows (the rest is reported as unchecked).
    pub max_rows: usize,
    /// A label column with more classes than this is not a classification label.
    pub max_classes: usize,
    /// Class-distribution shift test against the baseline.
    pub class_shift: ClassShift,
    /// Per-feature drift (PSI) against the baseline.
    pub drift: Drift,
    /// A column's null rate may grow by this much over the baseline.
    pub max_null_rate_increase: f64,
    /// Row-level detectors.
    pub detectors: Detectors,
    /// Most rows of each kind that may be flagged before the gate fails.
    pub max_flagged_fraction: Ceilings,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            label_column: "label".into(),
            format: None,
            ignore_columns: Vec::new(),
            max_rows: 5_000_000,
            max_classes: 1000,
            class_shift: ClassShift::default(),
            drift: Drift::default(),
            max_null_rate_increase: 0.05,
            detectors: Detectors::default(),
            max_flagged_fraction: Ceilings::default(),
        }
    }
}

/// Class-shift thresholds: both must be exceeded to fail.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClassShift {
    /// Chi-square p-value below which the shift is significant.
    pub alpha: f64,
    /// Total-variation distance between the class distributions above which
    /// the shift matters (0..1).
    pub min_effect: f64,
}

impl Default for ClassShift {
    fn default() -> Self {
        ClassShift {
            alpha: 0.001,
            min_effect: 0.05,
        }
    }
}

/// Feature drift settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Drift {
    /// Run the per-feature drift check when a baseline is given.
    pub enabled: bool,
    /// Population stability index above which a feature has drifted.
    pub psi: f64,
}

impl Default for Drift {
    fn default() -> Self {
        Drift {
            enabled: true,
            psi: 0.25,
        }
    }
}

/// Which row-level detectors run, and their knobs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Detectors {
    /// Label noise by confident learning.
    pub label_flip: bool,
    /// Exact and near duplicates with conflicting labels.
    pub duplicate_conflict: bool,
    /// Outliers (robust z-score and ECOD).
    pub outlier: bool,
    /// Backdoor triggers.
    pub backdoor: bool,
    /// Neighbours per row for the kNN class probabilities.
    pub k: usize,
    /// A feature value this many robust standard deviations out is an outlier.
    pub outlier_z: f64,
}

impl Default for Detectors {
    fn default() -> Self {
        Detectors {
            label_flip: true,
            duplicate_conflict: true,
            outlier: true,
            backdoor: true,
            k: 10,
            outlier_z: 8.0,
        }
    }
}

/// Ceilings per poisoning kind, as fractions of the rows.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Ceilings {
    /// Rows flagged as label flips.
    pub label_flip: f64,
    /// Rows flagged as outliers.
    pub outlier: f64,
    /// Rows flagged as backdoor-trigger carriers.
    pub backdoor: f64,
    /// Rows flagged as conflicting duplicates.
    pub duplicate_conflict: f64,
}

impl Default for Ceilings {
    fn default() -> Self {
        Ceilings {
            label_flip: 0.03,
            outlier: 0.02,
            backdoor: 0.01,
            duplicate_conflict: 0.01,
        }
    }
}

/// JSON schema (draft 2020-12) of [`Config`], for `describe()`.
pub const SCHEMA: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "label_column": {"type": "string", "default": "label"},
    "format": {"enum": ["csv", "jsonl", "parquet"]},
    "ignore_columns": {"type": "array", "items": {"type": "string"}},
    "max_rows": {"type": "integer", "minimum": 1, "default": 5000000},
    "max_classes": {"type": "integer", "minimum": 2, "default": 1000},
    "class_shift": {"type": "object", "additionalProperties": false, "properties": {
      "alpha": {"type": "number", "exclusiveMinimum": 0, "maximum": 1, "default": 0.001},
      "min_effect": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.05}}},
    "drift": {"type": "object", "additionalProperties": false, "properties": {
      "enabled": {"type": "boolean", "default": true},
      "psi": {"type": "number", "minimum": 0, "default": 0.25}}},
    "max_null_rate_increase": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.05},
    "detectors": {"type": "object", "additionalProperties": false, "properties": {
      "label_flip": {"type": "boolean", "default": true},
      "duplicate_conflict": {"type": "boolean", "default": true},
      "outlier": {"type": "boolean", "default": true},
      "backdoor": {"type": "boolean", "default": true},
      "k": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10},
      "outlier_z": {"type": "number", "exclusiveMinimum": 0, "default": 8.0}}},
    "max_flagged_fraction": {"type": "object", "additionalProperties": false, "properties": {
      "label_flip": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.03},
      "outlier": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.02},
      "backdoor": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.01},
      "duplicate_conflict": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.01}}}
  }
}"#;

impl Config {
    /// Check ranges serde cannot express.
    pub fn validate(&self) -> Result<(), String> {
        if self.label_column.is_empty() {
            return Err("`label_column` must not be empty".into());
        }
        if let Some(f) = &self.format
            && !["csv", "jsonl", "parquet"].contains(&f.as_str())
        {
            return Err(format!("`format` must be csv, jsonl or parquet, not `{f}`"));
        }
        if !(self.class_shift.alpha > 0.0 && self.class_shift.alpha <= 1.0) {
            return Err("`class_shift.alpha` must be in (0, 1]".into());
        }
        if self.detectors.k == 0 || self.detectors.k > 100 {
            return Err("`detectors.k` must be in 1..=100".into());
        }
        if self.max_classes < 2 || self.max_rows == 0 {
            return Err("`max_classes` must be >= 2 and `max_rows` >= 1".into());
        }
        let c = &self.max_flagged_fraction;
        for (name, v) in [
            ("label_flip", c.label_flip),
            ("outlier", c.outlier),
            ("backdoor", c.backdoor),
            ("duplicate_conflict", c.duplicate_conflict),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(format!("`max_flagged_fraction.{name}` must be in [0, 1]"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_typos() {
        let c: Config = serde_json::from_str("{}").unwrap();
        assert_eq!(c.label_column, "label");
        assert!(c.validate().is_ok());
        assert!(serde_json::from_str::<Config>(r#"{"lable_column": "y"}"#).is_err());
        let c: Config = serde_json::from_str(r#"{"detectors": {"k": 0}}"#).unwrap();
        assert!(c.validate().is_err());
        let _: serde_json::Value = serde_json::from_str(SCHEMA).unwrap();
    }
}
