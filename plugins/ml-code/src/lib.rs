//! `ml-code`: a gate that finds unsafe model loading and code execution in
//! Python sources and notebooks.
//!
//! Thin glue: [`source`] prepares text (notebook magics, prefilter, bounds),
//! [`notebook`] decodes `.ipynb` with offsets, ruff's parser builds the AST,
//! [`resolve`] maps names through the imports, [`analyze`] applies the
//! [`rules`], and [`files`] turns hits into findings.

pub mod analyze;
pub mod config;
pub mod files;
pub use mlgate_plugin_sdk::notebook;
pub mod resolve;
pub mod rules;
pub mod source;

use mlgate_plugin_sdk::walk::{self, WalkLimits};
use mlgate_plugin_sdk::{Gate, GateError, GateResult, PluginInfo, Request, host};

use crate::config::Config;

/// Most findings returned (the host caps a gate at 10 000).
const MAX_FINDINGS: usize = 9_000;

/// The `ml-code` gate.
pub struct MlCode;

impl Gate for MlCode {
    fn describe() -> PluginInfo {
        let mut info = PluginInfo::new(
            "ml-code",
            env!("CARGO_PKG_VERSION"),
            "Unsafe model loading and code execution in Python sources and notebooks (parsed, aliases resolved)",
        )
        .input("paths", "a file or directory scanned recursively (.py, .pyi, .pyw, .ipynb)", true)
        .input("baseline", "JSON of accepted findings (a saved report or {\"fingerprints\": [...]})", false)
        .config_schema(config::SCHEMA);
        for rule in rules::RULES {
            info = info.rule(rule.id, rule.severity, rule.summary, rule.help);
        }
        info
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
        let prefilter = source::prefilter();
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
                &prefilter,
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
            "{} unsafe pattern(s) in {} Python file(s)/notebook(s) analysed ({} suppressed){}",
            findings
                .iter()
                .filter(|f| f.rule_id != rules::SKIPPED)
                .count(),
            stats.analysed,
            stats.suppressed,
            if truncated {
                ", findings truncated"
            } else {
                ""
            }
        );
        Ok(GateResult::from_findings(findings, summary)
            .metric("files_analysed", stats.analysed as f64)
            .metric("files_prefiltered", stats.prefiltered as f64)
            .metric("syntax_errors", stats.syntax_errors as f64)
            .metric("suppressed", stats.suppressed as f64))
    }
}

mlgate_plugin_sdk::export_gate!(MlCode);
