//! Keras: the `config.json` of a `.keras` zip (and any JSON model config),
//! and the `model_config` attribute of a legacy HDF5 `.h5` model.
//!
//! HDF5: the root group's attributes are read ([`super::hdf5`]) and every
//! JSON object among them (`model_config`, `training_config`) is checked,
//! wherever the file stores it. When the attribute reader cannot read the
//! file (dense attribute storage, an unsupported layout), the first
//! `hdf5_search_bytes` are searched for `{"class_name"` instead and the
//! JSON parsed from there; a bare `"class_name": "Lambda"` byte pattern is
//! then reported even when the JSON around it cannot be parsed.

use mlgate_plugin_sdk::Severity;
use serde_json::Value;

use crate::policy::{self, Verdict};
use crate::rules;
use crate::scan::Scanner;
use crate::source::Blob;

/// Largest JSON document parsed.
const MAX_JSON: u64 = 32 << 20;

/// Module prefixes whose objects Keras itself provides.
const KERAS_MODULES: &[&str] = &[
    "keras",
    "tf_keras",
    "tensorflow.keras",
    "tensorflow.python.keras",
];

fn keras_module(m: &str) -> bool {
    KERAS_MODULES
        .iter()
        .any(|k| m == *k || m.starts_with(&format!("{k}.")))
}

/// One problem found in a Keras config.
#[derive(Debug, PartialEq)]
pub struct Problem {
    /// Rule id.
    pub rule: &'static str,
    /// Severity.
    pub severity: Severity,
    /// Message.
    pub message: String,
    /// The matched thing.
    pub key: String,
}

/// Walk a Keras config and list what would run code on load.
/// `allow`/`deny` are the gate's `allow_globals`/`deny_globals`: an allowed
/// custom object (`mypkg.layers.MyLayer`) is not reported.
pub fn check_config(v: &Value, allow: &[String], deny: &[String]) -> Vec<Problem> {
    let mut out = Vec::new();
    walk(v, 0, allow, deny, &mut out);
    out
}

fn walk(v: &Value, depth: usize, allow: &[String], deny: &[String], out: &mut Vec<Problem>) {
    if depth > 512 || out.len() > 1000 {
        return;
    }
    match v {
        Value::Array(items) => items
            .iter()
            .for_each(|i| walk(i, depth + 1, allow, deny, out)),
        Value::Object(map) => {
            let class = map.get("class_name").and_then(Value::as_str).unwrap_or("");
            let module = map.get("module").and_then(Value::as_str).unwrap_or("");
            let layer = map
                .get("config")
                .and_then(|c| c.get("name"))
                .and_then(Value::as_str)
                .unwrap_or("?");
            if class == "__lambda__" {
                out.push(Problem {
                    rule: rules::KERAS_LAMBDA,
                    severity: Severity::Critical,
                    message: "Keras config holds a serialized Python lambda (`__lambda__`) that runs on load".into(),
                    key: "__lambda__".into(),
                });
            }
            if class == "Lambda" {
                out.push(Problem {
                    rule: rules::KERAS_LAMBDA,
                    severity: Severity::Critical,
                    message: format!(
                        "Keras Lambda layer `{layer}` carries Python code that runs on load"
                    ),
                    key: format!("lambda:{layer}"),
                });
            }
            if class != "Lambda"
                && map.get("function_type").and_then(Value::as_str) == Some("lambda")
            {
                out.push(Problem {
                    rule: rules::KERAS_LAMBDA,
                    severity: Severity::Critical,
                    message: format!("Keras layer `{layer}` has a serialized lambda function"),
                    key: format!("function:{layer}"),
                });
            }
            if class == "TFSMLayer" {
                out.push(Problem {
                    rule: rules::KERAS_REFERENCE,
                    severity: Severity::High,
                    message: format!(
                        "Keras TFSMLayer `{layer}` loads an external SavedModel graph"
                    ),
                    key: format!("tfsm:{layer}"),
                });
            }
            if !module.is_empty() && !class.is_empty() {
                // Keras 3 functions: {"module": m, "class_name": "function", "config": name}
                let target = match (class, map.get("config")) {
                    ("function", Some(Value::String(f))) => f.clone(),
                    _ => class.to_string(),
                };
                let full = format!("{module}.{target}");
                let fetch = target.contains("get_file") || target.contains("urlretrieve");
                let verdict = policy::classify(module, &target, allow, deny);
                if fetch || matches!(verdict, Verdict::Dangerous(_)) {
                    out.push(Problem {
                        rule: rules::KERAS_REFERENCE,
                        severity: Severity::Critical,
                        message: format!(
                            "Keras config reaches `{full}`, which is dangerous to call on load"
                        ),
                        key: full,
                    });
                } else if !keras_module(module) && verdict != Verdict::Safe {
                    out.push(Problem {
                        rule: rules::KERAS_REFERENCE,
                        severity: Severity::High,
                        message: format!(
                            "Keras config imports `{full}` from outside Keras on load"
                        ),
                        key: full,
                    });
                }
            }
            map.values()
                .for_each(|i| walk(i, depth + 1, allow, deny, out));
        }
        _ => {}
    }
}

fn report(scanner: &mut Scanner, chain: &[String], problems: Vec<Problem>, offset: Option<u64>) {
    for p in problems {
        let props = vec![
            ("format".into(), "keras".into()),
            ("reference".into(), p.key.clone()),
        ];
        scanner.hit(p.rule, p.severity, chain, offset, p.message, props, &p.key);
    }
}

/// Scan a JSON document (a Keras `config.json`, `model.json`, ...). JSON
/// that is not a Keras config has nothing to run and passes.
pub fn scan_json(scanner: &mut Scanner, blob: &Blob, chain: &mut [String]) -> bool {
    let Ok(Some(bytes)) = blob.read_all(MAX_JSON) else {
        return false;
    };
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(v) => {
            let problems = check_config(&v, &scanner.cfg.allow_globals, &scanner.cfg.deny_globals);
            report(scanner, chain, problems, None);
            true
        }
        Err(_) => false,
    }
}

/// Scan an HDF5 file's root attributes for a Keras `model_config` (byte
/// search as the fallback).
pub fn scan_hdf5(scanner: &mut Scanner, blob: &Blob, chain: &mut [String]) -> bool {
    let why = match super::hdf5::root_attributes(blob, scanner.cfg.hdf5_search_bytes) {
        Ok(root) if root.dense && !root.attrs.iter().any(|a| a.name == "model_config") => {
            "dense attribute storage in a layout this reader does not follow".to_string()
        }
        Ok(root) => return scan_root(scanner, chain, &root),
        Err(e) => e,
    };
    search_hdf5(scanner, blob, chain, &why)
}

/// Check the JSON attributes the HDF5 reader found.
fn scan_root(scanner: &mut Scanner, chain: &mut [String], root: &super::hdf5::Root) -> bool {
    // model_config, and any other JSON object attribute (training_config
    // names losses and metrics Keras deserializes too)
    for a in &root.attrs {
        let Some(text) = &a.text else { continue };
        if !text.trim_ascii_start().starts_with(b"{") {
            continue;
        }
        if let Ok(v) = serde_json::from_slice::<Value>(text) {
            let problems = check_config(&v, &scanner.cfg.allow_globals, &scanner.cfg.deny_globals);
            report(scanner, chain, problems, None);
        }
    }
    true
}

/// Not readable by the attribute reader (`why`: an unsupported layout,
/// corruption, a string over the bound): search the bytes instead, and
/// say so when no config turns up (a config beyond the bytes searched
/// would go unchecked).
fn search_hdf5(scanner: &mut Scanner, blob: &Blob, chain: &mut [String], why: &str) -> bool {
    let n = blob.len().min(scanner.cfg.hdf5_search_bytes) as usize;
    let Ok(bytes) = blob.read_at(0, n) else {
        return true;
    };
    let mut found_config = false;
    let mut found_lambda = false;
    let mut at = 0;
    while let Some(i) = find(&bytes[at..], b"{\"class_name\"") {
        let start = at + i;
        let mut it = serde_json::Deserializer::from_slice(&bytes[start..]).into_iter::<Value>();
        if let Some(Ok(v)) = it.next() {
            found_config = true;
            let problems = check_config(&v, &scanner.cfg.allow_globals, &scanner.cfg.deny_globals);
            found_lambda |= problems.iter().any(|p| p.rule == rules::KERAS_LAMBDA);
            report(scanner, chain, problems, Some(start as u64));
            at = start + it.byte_offset().max(1);
        } else {
            at = start + 1;
        }
    }
    for pat in [
        &b"\"class_name\": \"Lambda\""[..],
        b"\"class_name\":\"Lambda\"",
    ] {
        if !found_lambda && let Some(i) = find(&bytes, pat) {
            found_lambda = true;
            report(
                scanner,
                chain,
                vec![Problem {
                    rule: rules::KERAS_LAMBDA,
                    severity: Severity::Critical,
                    message: "HDF5 model config names a Keras Lambda layer".into(),
                    key: "lambda".into(),
                }],
                Some(i as u64),
            );
        }
    }
    if !found_config && !found_lambda {
        scanner.hit(
            rules::SCAN_LIMIT,
            Severity::Medium,
            chain,
            None,
            format!("HDF5 root attributes could not be read ({why}); no Keras config in the first {n} bytes searched, so a model_config stored elsewhere is not checked"),
            vec![("format".into(), "hdf5".into())],
            "hdf5-attributes",
        );
    }
    true
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_lambda_and_foreign_modules() {
        let v: Value = serde_json::from_str(
            r#"{"class_name": "Functional", "config": {"layers": [
                {"class_name": "Dense", "module": "keras.layers", "config": {"name": "d"}},
                {"class_name": "Sequential", "config": {"layers": [
                    {"class_name": "Lambda", "config": {"name": "evil"}}]}},
                {"module": "os", "class_name": "function", "config": "system"},
                {"module": "mypkg.layers", "class_name": "MyLayer", "config": {"name": "m"}}
            ]}}"#,
        )
        .unwrap();
        let p = check_config(&v, &[], &[]);
        let allowed = check_config(&v, &["mypkg.*".to_string()], &[]);
        assert_eq!(allowed.len(), 2);
        assert!(
            p.iter()
                .any(|p| p.rule == rules::KERAS_LAMBDA && p.message.contains("evil"))
        );
        assert!(
            p.iter()
                .any(|p| p.key == "os.system" && p.severity == Severity::Critical)
        );
        assert!(
            p.iter()
                .any(|p| p.key == "mypkg.layers.MyLayer" && p.severity == Severity::High)
        );
        assert_eq!(p.len(), 3);
    }

    #[test]
    fn get_file_gadget() {
        let v: Value = serde_json::from_str(
            r#"{"module": "keras.utils", "class_name": "function", "config": "get_file"}"#,
        )
        .unwrap();
        assert_eq!(check_config(&v, &[], &[])[0].severity, Severity::Critical);
    }
}
