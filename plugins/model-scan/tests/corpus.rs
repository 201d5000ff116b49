//! The generated fixture corpus (tests/fixtures/model-scan, made by gen.py):
//! every malicious file is detected at high or critical, no benign file is
//! reported above info, every malformed file yields a finding, and nothing
//! panics.

use std::path::PathBuf;

use mlgate_plugin_model_scan::config::Config;
use mlgate_plugin_model_scan::scan::{Hit, Scanner};
use mlgate_plugin_sdk::Severity;

fn corpus() -> (PathBuf, serde_json::Map<String, serde_json::Value>) {
    let root = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/model-scan"
    ));
    let text = std::fs::read_to_string(root.join("manifest.json"))
        .expect("tests/fixtures/model-scan/manifest.json (run gen.py)");
    let manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    (root, manifest.as_object().unwrap().clone())
}

/// A config with a small decompression bound so the bomb stops quickly.
fn config() -> Config {
    Config {
        max_member_bytes: 16 << 20,
        ..Config::default()
    }
}

fn scan_class(class: &str) -> Vec<(String, Vec<Hit>)> {
    let (root, manifest) = corpus();
    let cfg = config();
    let mut scanner = Scanner::new(&cfg);
    let mut out = Vec::new();
    for (name, meta) in &manifest {
        if meta["class"] != class {
            continue;
        }
        out.push((name.clone(), scanner.scan_file(&root.join(name))));
    }
    assert!(out.len() >= 5, "too few {class} fixtures");
    out
}

fn max_rank(hits: &[Hit]) -> u8 {
    hits.iter().map(|h| h.severity.rank()).max().unwrap_or(0)
}

fn show(hits: &[Hit]) -> String {
    hits.iter()
        .map(|h| format!("  {:?} {} {}", h.severity, h.rule, h.message))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_malicious_fixture_is_high_or_critical() {
    let mut missed = Vec::new();
    for (name, hits) in scan_class("malicious") {
        if max_rank(&hits) < Severity::High.rank() {
            missed.push(format!("{name}:\n{}", show(&hits)));
        }
    }
    assert!(missed.is_empty(), "missed:\n{}", missed.join("\n"));
}

#[test]
fn no_benign_fixture_is_reported_above_info() {
    let mut flagged = Vec::new();
    for (name, hits) in scan_class("benign") {
        if max_rank(&hits) > Severity::Info.rank() {
            flagged.push(format!("{name}:\n{}", show(&hits)));
        }
    }
    assert!(
        flagged.is_empty(),
        "false positives:\n{}",
        flagged.join("\n")
    );
}

#[test]
fn every_malformed_fixture_is_reported() {
    let mut silent = Vec::new();
    for (name, hits) in scan_class("malformed") {
        if max_rank(&hits) < Severity::Medium.rank() {
            silent.push(format!("{name}:\n{}", show(&hits)));
        }
    }
    assert!(silent.is_empty(), "not reported:\n{}", silent.join("\n"));
}
