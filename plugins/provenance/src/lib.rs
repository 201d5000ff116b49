//! The `provenance` gate: checks a dataset or model (a directory or one file)
//! against its SHA-256 manifest and reports changed, missing and unexpected
//! files. Parsing lives in [`manifest`], the comparison in [`verify`]; this
//! file binds them to the WIT world.

pub mod manifest;
pub mod verify;

use std::io::Read;

use mlgate_plugin_sdk::{Gate, GateError, GateResult, PluginInfo, Request, Severity};
use serde::Deserialize;

use crate::verify::{CHANGED, MISSING, ManifestSource, UNEXPECTED};

/// Most findings returned; the sandbox caps a gate at 10 000, and the summary
/// and metrics keep the full counts.
pub const MAX_FINDINGS: usize = 5_000;

/// The gate's `with:` config.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// Report files that are present but not in the manifest (default true).
    #[serde(default = "yes")]
    report_unexpected: bool,
}

fn yes() -> bool {
    true
}

const CONFIG_SCHEMA: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "report_unexpected": {
      "type": "boolean",
      "default": true,
      "description": "Report files present in the dataset but absent from the manifest (provenance-unexpected)."
    }
  }
}"#;

/// The gate.
pub struct Provenance;

impl Gate for Provenance {
    fn describe() -> PluginInfo {
        PluginInfo::new(
            "provenance",
            env!("CARGO_PKG_VERSION"),
            "Verifies a dataset or model against its SHA-256 manifest (sha256sum or JSON form): \
             changed, missing and unexpected files",
        )
        .input(
            "dataset",
            "The dataset or model: a directory or one file",
            true,
        )
        .input(
            "manifest",
            "Its manifest: `sha256sum` output (text/binary/--tag) or mlgate's JSON form; \
             `mlgate manifest create DIR --output FILE` writes one",
            true,
        )
        .rule(
            CHANGED,
            Severity::Critical,
            "A file's digest differs from the manifest",
            "The file was modified after the manifest was made. If the change is legitimate, \
             regenerate the manifest (`mlgate manifest create`) in a reviewed commit; otherwise \
             restore the file from a trusted source and find out how it was altered.",
        )
        .rule(
            MISSING,
            Severity::High,
            "A file listed in the manifest is absent",
            "Restore the file, or remove it from the manifest in a reviewed commit if it was \
             deliberately dropped.",
        )
        .rule(
            UNEXPECTED,
            Severity::High,
            "A file is present but not listed in the manifest",
            "Remove the file if it is not meant to be there (it may be injected data), or add it \
             to the manifest by regenerating it in a reviewed commit. Set \
             `report_unexpected: false` to allow extra files.",
        )
        .config_schema(CONFIG_SCHEMA)
    }

    fn run(request: &Request) -> Result<GateResult, GateError> {
        let config: Config = request.config()?;
        let dataset = request.require_input("dataset")?;
        let manifest_path = request.require_input("manifest")?;
        let bytes = read_manifest(manifest_path)?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|e| GateError::new("manifest", format!("manifest is not UTF-8 text: {e}")))?;
        let parsed = manifest::parse(text).map_err(|invalid| {
            GateError::new(
                "manifest",
                format!("{}: {invalid}", manifest_path.display()),
            )
        })?;
        let source = ManifestSource {
            path: manifest_path,
            bytes: &bytes,
        };
        let outcome = verify::verify(dataset, &parsed, &source, config.report_unexpected)?;
        Ok(result(outcome, parsed.entries.len()))
    }
}

/// Read the manifest, refusing one larger than
/// [`manifest::MAX_MANIFEST_BYTES`] before allocating for it.
fn read_manifest(path: &std::path::Path) -> Result<Vec<u8>, GateError> {
    let file = std::fs::File::open(path).map_err(|e| GateError::io(path.display(), e))?;
    let mut bytes = Vec::new();
    file.take(manifest::MAX_MANIFEST_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| GateError::io(path.display(), e))?;
    if bytes.len() as u64 > manifest::MAX_MANIFEST_BYTES {
        return Err(GateError::new(
            "manifest",
            format!(
                "{}: manifest is larger than {} MiB",
                path.display(),
                manifest::MAX_MANIFEST_BYTES >> 20
            ),
        ));
    }
    Ok(bytes)
}

/// Findings (capped), summary line and metrics.
fn result(mut outcome: verify::Outcome, entries: usize) -> GateResult {
    let total = outcome.findings.len();
    outcome.findings.truncate(MAX_FINDINGS);
    let mut summary = if total == 0 {
        format!(
            "all {} files match the manifest ({} entries, {} hashed)",
            outcome.files_checked,
            entries,
            human_bytes(outcome.bytes_hashed)
        )
    } else {
        format!(
            "{} changed, {} missing, {} unexpected ({} files checked against {} entries, {} hashed)",
            outcome.changed,
            outcome.missing,
            outcome.unexpected,
            outcome.files_checked,
            entries,
            human_bytes(outcome.bytes_hashed)
        )
    };
    if total > MAX_FINDINGS {
        summary.push_str(&format!("; first {MAX_FINDINGS} of {total} findings shown"));
    }
    GateResult::from_findings(outcome.findings, summary)
        .metric("files", outcome.files_checked as f64)
        .metric("bytes_hashed", outcome.bytes_hashed as f64)
        .metric("manifest_entries", entries as f64)
        .metric("changed", outcome.changed as f64)
        .metric("missing", outcome.missing as f64)
        .metric("unexpected", outcome.unexpected as f64)
}

fn human_bytes(n: u64) -> String {
    match n {
        0..1_000 => format!("{n} B"),
        1_000..1_000_000 => format!("{:.1} kB", n as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", n as f64 / 1e6),
        _ => format!("{:.2} GB", n as f64 / 1e9),
    }
}

mlgate_plugin_sdk::export_gate!(Provenance);

#[cfg(test)]
mod tests;
