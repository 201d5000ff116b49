//! `hparam-ranges`: an example custom mlgate gate, written the way a security
//! team would write its own. It checks that the hyperparameters of a training
//! config (YAML or JSON) are within the ranges a policy approves, and reports
//! each value out of range with its line.
//!
//! This file is the glue to the WIT world; the work is in [`doc`] (parsing
//! with lines), [`policy`] (the approved ranges) and [`check`] (comparing).

pub mod check;
pub mod doc;
pub mod policy;

use std::path::Path;

use mlgate_plugin_sdk::walk::{self, WalkLimits};
use mlgate_plugin_sdk::{Finding, Gate, GateError, GateResult, PluginInfo, Request};
use serde::Deserialize;

/// Largest config or policy file read (they are small text files).
pub const MAX_FILE_BYTES: u64 = 8 << 20;

/// The gate's `with:` block.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Dotted path under which the hyperparameters live (`training.hparams`).
    pub prefix: Option<String>,
}

const SCHEMA: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "prefix": {"type": "string", "description": "Dotted path under which the hyperparameters live, e.g. training.hparams"}
  }
}"#;

/// The gate.
pub struct HparamRanges;

impl Gate for HparamRanges {
    fn describe() -> PluginInfo {
        use check::*;
        PluginInfo::new(
            "hparam-ranges",
            env!("CARGO_PKG_VERSION"),
            "Training hyperparameters are within the approved ranges",
        )
        .rule(
            OUT_OF_RANGE,
            default_severity(OUT_OF_RANGE),
            "A hyperparameter is outside its approved range",
            "Bring the value into the range of the approved-ranges policy, or get the policy changed through review.",
        )
        .rule(
            NOT_ALLOWED,
            default_severity(NOT_ALLOWED),
            "A hyperparameter is not one of the approved values",
            "Use one of the values the policy lists, or get the new value approved and added to the policy.",
        )
        .rule(
            WRONG_TYPE,
            default_severity(WRONG_TYPE),
            "A hyperparameter has the wrong type",
            "Write the value as a plain number (unquoted); use a whole number where the policy says integer.",
        )
        .rule(
            MISSING,
            default_severity(MISSING),
            "A required hyperparameter is not set",
            "Set the parameter explicitly in the training config so the approved value is recorded.",
        )
        .input("config", "Training config (YAML or JSON), or a directory of them", true)
        .input("policy", "Approved-ranges policy (YAML or JSON)", true)
        .config_schema(SCHEMA)
    }

    fn run(request: &Request) -> Result<GateResult, GateError> {
        let config: Config = request.config()?;
        let policy_path = request.require_input("policy")?;
        let policy = policy::Policy::parse(&read(policy_path)?)
            .map_err(|e| GateError::input(format!("{}: {e}", policy_path.display())))?;
        let root = request.require_input("config")?;
        // A file input is read whatever its name; in a directory, YAML and JSON files.
        let single = root.is_file();
        let walk = walk::files(root, WalkLimits::default());
        if let Some((path, err)) = walk.errors.first() {
            return Err(GateError::input(format!("{}: {err}", path.display())));
        }
        let configs: Vec<_> = walk
            .files
            .iter()
            .filter(|p| single || is_config(p))
            .collect();
        let mut findings = Vec::new();
        for path in &configs {
            let text = read(path)?;
            let documents = doc::parse_all(&text)
                .map_err(|e| GateError::input(format!("{}: {e}", path.display())))?;
            // Each document of a multi-document YAML file is a config.
            for root in &documents {
                for v in check::check(root, &policy, config.prefix.as_deref()) {
                    findings.push(to_finding(&path.to_string_lossy(), v));
                }
            }
        }
        let summary = format!(
            "{} out-of-policy value(s) in {} config file(s), {} approved parameter(s)",
            findings.len(),
            configs.len(),
            policy.parameters.len()
        );
        Ok(GateResult::from_findings(findings, summary)
            .metric("files", configs.len() as f64)
            .metric("parameters", policy.parameters.len() as f64))
    }
}

/// YAML and JSON files, by extension.
fn is_config(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    )
}

fn read(path: &Path) -> Result<String, GateError> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| GateError::io(path.display(), e))?;
    let mut text = String::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| GateError::io(path.display(), e))?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(GateError::input(format!(
            "{}: larger than {MAX_FILE_BYTES} bytes",
            path.display()
        )));
    }
    Ok(text)
}

fn to_finding(path: &str, v: check::Violation) -> Finding {
    let mut f = Finding::new(v.rule, v.severity, format!("{}: {}", v.path, v.message))
        .at(path, v.line)
        .fingerprint(&[v.rule, path, &v.path])
        .property("parameter", v.parameter);
    if let Some(value) = v.value {
        f = f.property("value", value);
    }
    f
}

mlgate_plugin_sdk::export_gate!(HparamRanges);

#[cfg(test)]
mod tests {
    use super::*;
    use mlgate_plugin_sdk::Severity;

    fn request(dir: &Path, config: serde_json::Value) -> Request {
        Request::for_test(
            config,
            &[
                ("config", &dir.join("train.yaml")),
                ("policy", &dir.join("policy.yaml")),
            ],
        )
    }

    fn temp() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "hparam-ranges-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("policy.yaml"),
            "parameters:\n  lr: { min: 0.0001, max: 0.01 }\n  epochs: { max: 50, integer: true }\n",
        )
        .unwrap();
        dir
    }

    #[test]
    fn whole_gate_reports_values_with_lines() {
        let dir = temp();
        std::fs::write(dir.join("train.yaml"), "# run 7\nlr: 0.3\nepochs: 20\n").unwrap();
        let result = HparamRanges::run(&request(&dir, serde_json::json!({}))).unwrap();
        assert_eq!(result.findings.len(), 1, "{:?}", result.findings);
        let f = &result.findings[0];
        assert_eq!(f.rule_id, check::OUT_OF_RANGE);
        assert_eq!(f.severity, Severity::High);
        assert_eq!(f.location.as_ref().unwrap().line, Some(2));
        assert_eq!(f.get_property("value"), Some("0.3"));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn bad_inputs_and_config_are_gate_errors() {
        let dir = temp();
        std::fs::write(dir.join("train.yaml"), "lr: [0.3\n").unwrap();
        let err = HparamRanges::run(&request(&dir, serde_json::json!({}))).unwrap_err();
        assert_eq!(err.code, "input");
        let err = HparamRanges::run(&request(&dir, serde_json::json!({"prefx": "a"}))).unwrap_err();
        assert!(err.message.contains("prefx"), "{}", err.message);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn describe_lists_every_rule_and_a_real_schema() {
        let info = HparamRanges::describe();
        assert_eq!(info.name, "hparam-ranges");
        assert_eq!(info.rules.len(), 4);
        let schema: serde_json::Value = serde_json::from_str(&info.config_schema).unwrap();
        assert!(schema["properties"]["prefix"].is_object());
    }
}
