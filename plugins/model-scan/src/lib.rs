//! mlgate gate `model-scan`: no model file reaches production if loading it
//! could run code.
//!
//! Files are dispatched by content ([`sniff`]), never by name. Pickles run
//! through a VM that resolves every reachable global ([`pickle`]), which
//! the [`policy`] classifies; containers and other model formats live in
//! [`formats`]. This file is only the glue to the gate interface.

pub mod config;
pub mod formats;
pub mod pickle;
pub mod policy;
pub mod rules;
pub mod scan;
pub mod sniff;
pub mod source;

/// Helpers shared by the unit tests of every module.
#[cfg(test)]
pub(crate) mod test_support {
    /// A file of the generated corpus in `tests/fixtures/model-scan`.
    pub fn fixture(rel: &str) -> std::path::PathBuf {
        std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/model-scan"
        ))
        .join(rel)
    }
}

use mlgate_plugin_sdk::walk::{self, WalkLimits};
use mlgate_plugin_sdk::{Finding, Gate, GateError, GateResult, PluginInfo, Request, Severity};

use crate::config::Config;
use crate::scan::{Hit, Scanner};

/// The gate.
pub struct ModelScan;

/// Turn a hit on file `path` (guest path; `rel` relative to the input) into
/// a finding.
pub fn to_finding(path: &str, rel: &str, hit: Hit) -> Finding {
    let member = hit.member.join("!");
    let shown = if member.is_empty() {
        rel.to_string()
    } else {
        format!("{rel}!{member}")
    };
    let mut f = Finding::new(hit.rule, hit.severity, format!("{shown}: {}", hit.message))
        .at(path, None)
        .fingerprint(&[hit.rule, rel, &member, &hit.key]);
    if let Some(off) = hit.offset {
        f = f.byte_offset(off).property("offset", off.to_string());
    }
    if !member.is_empty() {
        f = f.property("member", member);
    }
    for (k, v) in hit.props {
        f = f.property(k, v);
    }
    f
}

impl Gate for ModelScan {
    fn describe() -> PluginInfo {
        let mut info = PluginInfo::new(
            "model-scan",
            env!("CARGO_PKG_VERSION"),
            "Scans model files (pickle, PyTorch, numpy, joblib, Keras, SafeTensors, GGUF, ONNX, archives) for code that runs on load",
        )
        .input("models", "A model file or a directory of them (scanned recursively)", true)
        .config_schema(config::SCHEMA);
        for (id, severity, summary, help) in rules::ALL {
            info = info.rule(*id, *severity, *summary, *help);
        }
        info
    }

    fn run(request: &Request) -> Result<GateResult, GateError> {
        let cfg: Config = request.config()?;
        let root = request.require_input("models")?;
        let listing = walk::files(root, WalkLimits::default());
        if listing.files.is_empty() && !listing.errors.is_empty() {
            let (p, e) = &listing.errors[0];
            return Err(GateError::input(format!(
                "cannot read {}: {e}",
                p.display()
            )));
        }
        let mut scanner = Scanner::new(&cfg);
        let mut findings = Vec::new();
        let total = listing.files.len() as u64;
        for (i, path) in listing.files.iter().enumerate() {
            let rel = walk::relative(root, path);
            let guest = path.to_string_lossy().into_owned();
            for hit in scanner.scan_file(path) {
                findings.push(to_finding(&guest, &rel, hit));
            }
            mlgate_plugin_sdk::host::progress(i as u64 + 1, total);
        }
        for (p, e) in &listing.errors {
            findings.push(
                Finding::new(
                    rules::SCAN_LIMIT,
                    Severity::High,
                    format!("cannot read: {e}"),
                )
                .at(p.to_string_lossy(), None)
                .fingerprint(&[rules::SCAN_LIMIT, &walk::relative(root, p), "io"]),
            );
        }
        findings.truncate(9_999);
        let bad = findings
            .iter()
            .filter(|f| f.severity.rank() >= Severity::High.rank())
            .count();
        let summary = format!(
            "{total} file(s) scanned, {} pickle stream(s), {} finding(s) ({bad} high or critical)",
            scanner.stats.pickles,
            findings.len()
        );
        Ok(GateResult::from_findings(findings, summary)
            .metric("files", total as f64)
            .metric("pickles", scanner.stats.pickles as f64)
            .metric("opcodes", scanner.stats.opcodes as f64)
            .metric("archive_members", scanner.stats.members as f64)
            .metric("decompressed_bytes", scanner.stats.inflated as f64))
    }
}

mlgate_plugin_sdk::export_gate!(ModelScan);

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_support::fixture;

    #[test]
    fn describe_lists_every_rule_with_help_and_a_schema() {
        let info = ModelScan::describe();
        assert_eq!(info.name, "model-scan");
        assert_eq!(info.rules.len(), rules::ALL.len());
        assert!(info.rules.iter().all(|r| !r.help.is_empty()));
        let schema: serde_json::Value = serde_json::from_str(&info.config_schema).unwrap();
        assert_eq!(schema["additionalProperties"], false);
    }

    #[test]
    fn run_names_file_member_global_and_offset() {
        let path = fixture("malicious/torch_zip.pt");
        let req = Request::for_test(serde_json::json!({}), &[("models", &path)]);
        let result = ModelScan::run(&req).unwrap();
        let f = &result.findings[0];
        assert_eq!(f.rule_id, rules::DANGEROUS_GLOBAL);
        assert_eq!(f.get_property("global"), Some("posix.system"));
        assert_eq!(f.get_property("member"), Some("archive/data.pkl"));
        let loc = f.location.as_ref().unwrap();
        assert_eq!(loc.path, path.to_string_lossy());
        assert!(loc.byte_offset.is_some());
        assert!(
            f.message.starts_with("torch_zip.pt!archive/data.pkl: "),
            "{}",
            f.message
        );
        let again = ModelScan::run(&req).unwrap();
        assert_eq!(again.findings[0].fingerprint, f.fingerprint);
    }

    #[test]
    fn run_rejects_unknown_config_keys() {
        let path = fixture("benign/model.safetensors");
        let req = Request::for_test(
            serde_json::json!({"unknown_global": "allow"}),
            &[("models", &path)],
        );
        assert_eq!(ModelScan::run(&req).unwrap_err().code, "config");
    }
}
