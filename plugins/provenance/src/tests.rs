//! The gate through its `Gate` interface, natively: config, inputs, summary,
//! metrics and errors.

use std::path::Path;

use mlgate_plugin_sdk::{Gate, Request};
use serde_json::json;

use super::*;

fn request(config: serde_json::Value, dataset: &Path, manifest: &Path) -> Request {
    Request::for_test(config, &[("dataset", dataset), ("manifest", manifest)])
}

fn metric(result: &GateResult, name: &str) -> f64 {
    result
        .metrics
        .iter()
        .find(|m| m.name == name)
        .unwrap()
        .value
}

#[test]
fn describe_names_the_gate_and_its_rules() {
    let info = Provenance::describe();
    assert_eq!(info.name, "provenance");
    let ids: Vec<_> = info.rules.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, [CHANGED, MISSING, UNEXPECTED]);
    assert!(info.rules.iter().all(|r| !r.help.is_empty()));
    let schema: serde_json::Value = serde_json::from_str(&info.config_schema).unwrap();
    assert_eq!(schema["additionalProperties"], false);
}

#[test]
fn run_reports_summary_and_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("a.csv"), "x,y\n").unwrap();
    std::fs::write(data.join("b.csv"), "1,2\n").unwrap();
    let manifest = dir.path().join("SHA256SUMS");
    let a = hex::encode(sha2::Sha256::digest(b"x,y\n"));
    std::fs::write(&manifest, format!("{a}  a.csv\n{a}  gone.csv\n")).unwrap();
    let result = Provenance::run(&request(json!({}), &data, &manifest)).unwrap();
    assert_eq!(
        result.summary,
        "0 changed, 1 missing, 1 unexpected (1 files checked against 2 entries, 4 B hashed)"
    );
    assert_eq!(metric(&result, "files"), 1.0);
    assert_eq!(metric(&result, "bytes_hashed"), 4.0);
    assert_eq!(metric(&result, "missing"), 1.0);
    assert_eq!(result.findings.len(), 2);
    let quiet = Provenance::run(&request(
        json!({"report_unexpected": false}),
        &data,
        &manifest,
    ))
    .unwrap();
    assert_eq!(quiet.findings.len(), 1);
}

#[test]
fn bad_config_and_bad_manifest_are_gate_errors() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("m");
    std::fs::write(&manifest, "# ok\nthis is not a manifest line\n").unwrap();
    let err = Provenance::run(&request(
        json!({"report_unexpectd": false}),
        dir.path(),
        &manifest,
    ))
    .unwrap_err();
    assert_eq!(err.code, "config");
    let err = Provenance::run(&request(json!({}), dir.path(), &manifest)).unwrap_err();
    assert_eq!(err.code, "manifest");
    assert!(err.message.contains("line 2:"), "{}", err.message);
    std::fs::write(&manifest, [0xff, 0xfe]).unwrap();
    let err = Provenance::run(&request(json!({}), dir.path(), &manifest)).unwrap_err();
    assert!(err.message.contains("UTF-8"), "{}", err.message);
    let err =
        Provenance::run(&Request::for_test(json!({}), &[("dataset", dir.path())])).unwrap_err();
    assert!(err.message.contains("`manifest`"), "{}", err.message);
}

#[test]
fn findings_are_capped_with_full_counts_kept() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let manifest = dir.path().join("SHA256SUMS");
    let a = hex::encode(sha2::Sha256::digest(b""));
    let text: String = (0..MAX_FINDINGS + 7)
        .map(|i| format!("{a}  f{i}\n"))
        .collect();
    std::fs::write(&manifest, text).unwrap();
    let result = Provenance::run(&request(json!({}), &data, &manifest)).unwrap();
    assert_eq!(result.findings.len(), MAX_FINDINGS);
    assert_eq!(metric(&result, "missing"), (MAX_FINDINGS + 7) as f64);
    assert!(
        result.summary.ends_with(&format!(
            "first {MAX_FINDINGS} of {} findings shown",
            MAX_FINDINGS + 7
        )),
        "{}",
        result.summary
    );
}

use sha2::Digest as _;

/// `tests/fixtures/provenance` (made by its gen.sh with real `sha256sum`).
fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/provenance")
}

/// Copy a directory tree (files and directories only).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Apply `tampered.json` to a copy of the dataset; returns its `expect` list.
pub(crate) fn tamper(dataset: &Path) -> Vec<(String, String, String)> {
    let spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("tampered.json")).unwrap())
            .unwrap();
    for (rel, text) in spec["modify"].as_object().unwrap() {
        std::fs::write(dataset.join(rel), text.as_str().unwrap()).unwrap();
    }
    for rel in spec["delete"].as_array().unwrap() {
        std::fs::remove_file(dataset.join(rel.as_str().unwrap())).unwrap();
    }
    for (rel, text) in spec["add"].as_object().unwrap() {
        std::fs::write(dataset.join(rel), text.as_str().unwrap()).unwrap();
    }
    spec["expect"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let field = |k: &str| e[k].as_str().unwrap().to_string();
            (field("rule_id"), field("severity"), field("path"))
        })
        .collect()
}

#[test]
fn fixture_dataset_matches_all_three_manifest_forms() {
    let dataset = fixtures().join("dataset");
    for name in ["SHA256SUMS", "SHA256SUMS.binary", "manifest.json"] {
        let result =
            Provenance::run(&request(json!({}), &dataset, &fixtures().join(name))).unwrap();
        assert!(result.findings.is_empty(), "{name}: {:?}", result.findings);
        assert_eq!(metric(&result, "files"), 5.0, "{name}");
        assert_eq!(
            result.summary,
            "all 5 files match the manifest (5 entries, 4.3 kB hashed)"
        );
    }
}

#[test]
fn tampered_fixture_copy_reports_exactly_the_spec() {
    let dir = tempfile::tempdir().unwrap();
    let dataset = dir.path().join("dataset");
    copy_tree(&fixtures().join("dataset"), &dataset);
    let mut expect = tamper(&dataset);
    expect.sort();
    for name in ["SHA256SUMS", "SHA256SUMS.binary", "manifest.json"] {
        let result =
            Provenance::run(&request(json!({}), &dataset, &fixtures().join(name))).unwrap();
        let mut got: Vec<(String, String, String)> = result
            .findings
            .iter()
            .map(|f| {
                let path = Path::new(&f.location.as_ref().unwrap().path);
                let rel = path
                    .strip_prefix(&dataset)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                (f.rule_id.clone(), f.severity.as_str().to_string(), rel)
            })
            .collect();
        got.sort();
        assert_eq!(got, expect, "{name}");
    }
}
