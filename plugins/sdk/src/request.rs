//! The run request as plugins use it: config as JSON, inputs by name.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use crate::{GateError, RunContext, RunRequest};

/// One declared input, as a guest path.
#[derive(Debug, Clone)]
pub struct Input {
    /// The input's name in the pipeline (`dataset`, `models`, ...).
    pub name: String,
    /// Guest path: the file itself, or the directory.
    pub path: PathBuf,
    /// Whether the input is a directory.
    pub is_dir: bool,
}

/// A parsed run request.
#[derive(Debug, Clone)]
pub struct Request {
    /// The gate's `with:` block (always a JSON object).
    pub config: serde_json::Value,
    /// Declared inputs in pipeline order.
    pub inputs: Vec<Input>,
    /// Writable output directory, if declared.
    pub output_dir: Option<PathBuf>,
    /// Pipeline, stage, gate id, commit, changed files.
    pub context: RunContext,
}

impl Request {
    /// Parse the WIT request; a config that is not a JSON object is an error.
    pub fn from_wit(raw: RunRequest) -> Result<Self, GateError> {
        let config: serde_json::Value = if raw.config.trim().is_empty() {
            serde_json::Value::Object(Default::default())
        } else {
            serde_json::from_str(&raw.config)
                .map_err(|e| GateError::config(format!("config is not valid JSON: {e}")))?
        };
        if !config.is_object() {
            return Err(GateError::config("config must be a mapping"));
        }
        Ok(Request {
            config,
            inputs: raw
                .inputs
                .into_iter()
                .map(|i| Input {
                    name: i.name,
                    path: PathBuf::from(i.path),
                    is_dir: i.is_dir,
                })
                .collect(),
            output_dir: raw.output_dir.map(PathBuf::from),
            context: raw.context,
        })
    }

    /// A request for native unit tests: config JSON and `(name, path)` inputs.
    pub fn for_test(config: serde_json::Value, inputs: &[(&str, &Path)]) -> Self {
        Request {
            config,
            inputs: inputs
                .iter()
                .map(|(name, path)| Input {
                    name: name.to_string(),
                    path: path.to_path_buf(),
                    is_dir: path.is_dir(),
                })
                .collect(),
            output_dir: None,
            context: RunContext {
                pipeline: "test".into(),
                stage: "test".into(),
                gate_id: "test".into(),
                git_commit: None,
                changed_files: Vec::new(),
            },
        }
    }

    /// The input with this name, if declared.
    pub fn input(&self, name: &str) -> Option<&Path> {
        self.inputs
            .iter()
            .find(|i| i.name == name)
            .map(|i| i.path.as_path())
    }

    /// The input with this name, or a `GateError` naming it.
    pub fn require_input(&self, name: &str) -> Result<&Path, GateError> {
        self.input(name).ok_or_else(|| {
            GateError::input(format!(
                "missing required input `{name}` (declare it under `inputs:`)"
            ))
        })
    }

    /// The whole config deserialised into `T` (use `#[serde(deny_unknown_fields)]`
    /// on `T` so typos are errors).
    pub fn config<T: DeserializeOwned>(&self) -> Result<T, GateError> {
        serde_json::from_value(self.config.clone())
            .map_err(|e| GateError::config(format!("invalid `with:` config: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_config_rejects_unknown_fields() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct C {
            threshold: f64,
        }
        let r = Request::for_test(serde_json::json!({"threshold": 1.0}), &[]);
        assert!(r.config::<C>().is_ok());
        let r = Request::for_test(serde_json::json!({"treshold": 1.0}), &[]);
        let err = r.config::<C>().unwrap_err();
        assert!(err.message.contains("treshold"), "{}", err.message);
    }

    #[test]
    fn missing_input_names_it() {
        let r = Request::for_test(serde_json::json!({}), &[]);
        assert!(
            r.require_input("dataset")
                .unwrap_err()
                .message
                .contains("`dataset`")
        );
    }
}
