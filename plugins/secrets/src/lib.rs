//! `secrets`: a gate that finds credentials in text files and notebooks.
//!
//! Thin glue: [`rules`] is the rule table, [`scan`] runs it on a text with
//! the checks in [`checks`] and [`generic`], [`notebook`] decodes `.ipynb`
//! JSON with offsets, [`files`] turns hits into redacted findings, and
//! [`config`] holds the allowlist and baseline.

pub mod checks;
pub mod config;
pub mod files;
pub mod generic;
pub use mlgate_plugin_sdk::notebook;
pub mod rules;
pub mod scan;

use mlgate_plugin_sdk::walk::{self, WalkLimits};
use mlgate_plugin_sdk::{Gate, GateError, GateResult, PluginInfo, Request, Severity, host};

use crate::config::Config;
use crate::scan::Scanner;

/// Most findings returned (the host caps a gate at 10 000).
const MAX_FINDINGS: usize = 9_000;

/// The `secrets` gate.
pub struct Secrets;

impl Gate for Secrets {
    fn describe() -> PluginInfo {
        let mut info = PluginInfo::new(
            "secrets",
            env!("CARGO_PKG_VERSION"),
            "Credentials in text files and notebooks, with checksum, entropy and format checks; secrets are redacted in every finding",
        )
        .input("paths", "a file or directory scanned recursively", true)
        .input("baseline", "JSON of accepted findings (a saved report or {\"fingerprints\": [...]})", false)
        .config_schema(config::SCHEMA);
        for rule in rules::RULES {
            info = info.rule(rule.id, rule.severity, rule.summary, rule.help);
        }
        info.rule(
            files::SKIPPED_ID,
            Severity::Info,
            "File larger than max_file_bytes was not scanned",
            "Raise `max_file_bytes` or allowlist the path if it cannot hold secrets.",
        )
    }

    fn run(request: &Request) -> Result<GateResult, GateError> {
        let root = request.require_input("paths")?;
        let config: Config = request.config()?;
        let baseline = match request.input("baseline") {
            Some(path) => {
                Some(std::fs::read_to_string(path).map_err(|e| GateError::io(path.display(), e))?)
            }
            None => None,
        };
        let filters = config::filters(config, baseline.as_deref())?;
        let scanner = Scanner::new().map_err(|e| GateError::new("internal", e.to_string()))?;
        let walk = walk::files(root, WalkLimits::default());
        if walk.files.is_empty() && !walk.errors.is_empty() {
            let (path, err) = &walk.errors[0];
            return Err(GateError::input(format!("{}: {err}", path.display())));
        }
        let mut stats = files::Stats::default();
        let mut findings = Vec::new();
        let total = walk.files.len() as u64;
        let mut buf = Vec::new();
        for (i, path) in walk.files.iter().enumerate() {
            let relative = walk::relative(root, path);
            if let Err(e) = files::scan_file(
                &scanner,
                &filters,
                path,
                &relative,
                &mut stats,
                &mut findings,
                &mut buf,
            ) {
                host::warn(&format!("{}: {e}", path.display()));
            }
            if i % 1000 == 0 {
                host::progress(i as u64, total);
            }
        }
        let truncated = findings.len() > MAX_FINDINGS;
        findings.truncate(MAX_FINDINGS);
        let summary = format!(
            "{} secret(s) in {} file(s) scanned ({} binary skipped, {} suppressed){}",
            findings
                .iter()
                .filter(|f| f.rule_id != files::SKIPPED_ID)
                .count(),
            stats.scanned,
            stats.binary,
            stats.suppressed,
            if truncated {
                ", findings truncated"
            } else {
                ""
            }
        );
        Ok(GateResult::from_findings(findings, summary)
            .metric("files_scanned", stats.scanned as f64)
            .metric("bytes_scanned", stats.bytes as f64)
            .metric("binary_skipped", stats.binary as f64)
            .metric("suppressed", stats.suppressed as f64))
    }
}

mlgate_plugin_sdk::export_gate!(Secrets);
