//! `builtin:provenance` and `mlgate manifest create` through the real binary,
//! on the fixtures in `tests/fixtures/provenance` (made by real `sha256sum`).

use std::path::{Path, PathBuf};

use crate::harness::{check_json, mlgate, repo_root, run, temp_dir};

fn fixtures() -> PathBuf {
    repo_root().join("tests/fixtures/provenance")
}

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

/// Apply `tampered.json` to `dataset`; returns its sorted `expect` list as
/// `(rule_id, severity, relative path)`.
fn tamper(dataset: &Path) -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(fixtures().join("tampered.json")).unwrap();
    let spec: serde_json::Value = serde_json::from_str(&text).unwrap();
    for (rel, content) in spec["modify"].as_object().unwrap() {
        std::fs::write(dataset.join(rel), content.as_str().unwrap()).unwrap();
    }
    for rel in spec["delete"].as_array().unwrap() {
        std::fs::remove_file(dataset.join(rel.as_str().unwrap())).unwrap();
    }
    for (rel, content) in spec["add"].as_object().unwrap() {
        std::fs::write(dataset.join(rel), content.as_str().unwrap()).unwrap();
    }
    let mut expect: Vec<_> = spec["expect"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let field = |k: &str| e[k].as_str().unwrap().to_string();
            (field("rule_id"), field("severity"), field("path"))
        })
        .collect();
    expect.sort();
    expect
}

fn provenance(dataset: &Path, manifest: &Path) -> (i32, serde_json::Value, String) {
    let dataset = format!("dataset={}", dataset.display());
    let manifest = format!("manifest={}", manifest.display());
    check_json("provenance", &["--input", &dataset, "--input", &manifest])
}

#[test]
fn provenance_passes_on_the_fixture_with_every_manifest_form() {
    for name in ["SHA256SUMS", "SHA256SUMS.binary", "manifest.json"] {
        let (code, report, stderr) =
            provenance(&fixtures().join("dataset"), &fixtures().join(name));
        assert_eq!(code, 0, "{name}: {report:#}\n{stderr}");
        let gate = &report["gates"][0];
        assert_eq!(gate["status"], "pass", "{name}: {gate:#}");
        assert_eq!(gate["findings"].as_array().unwrap().len(), 0, "{name}");
    }
}

#[test]
fn provenance_reports_the_tampered_copy_exactly() {
    let tmp = temp_dir();
    let dataset = tmp.path().join("dataset");
    copy_tree(&fixtures().join("dataset"), &dataset);
    let expect = tamper(&dataset);
    let (code, report, stderr) = provenance(&dataset, &fixtures().join("SHA256SUMS"));
    assert_eq!(code, 1, "{report:#}\n{stderr}");
    assert_eq!(report["status"], "fail");
    let gate = &report["gates"][0];
    assert_eq!(gate["status"], "fail");
    let mut got: Vec<(String, String, String)> = gate["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let path = f["location"]["path"].as_str().unwrap();
            // The host maps guest paths back; match on the dataset-relative tail.
            let rel = expect
                .iter()
                .map(|e| e.2.as_str())
                .find(|rel| path.ends_with(rel))
                .unwrap_or(path);
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                rel.to_string(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(got, expect, "{gate:#}");
    let changed = gate["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "provenance-changed")
        .unwrap();
    assert_eq!(
        changed["properties"]["expected"].as_str().unwrap().len(),
        64
    );
    assert_ne!(
        changed["properties"]["expected"],
        changed["properties"]["actual"]
    );
}

#[test]
fn provenance_malformed_manifest_is_a_gate_error_naming_the_line() {
    let tmp = temp_dir();
    let manifest = tmp.path().join("SHA256SUMS");
    let good = std::fs::read_to_string(fixtures().join("SHA256SUMS")).unwrap();
    std::fs::write(&manifest, format!("{good}not a manifest line\n")).unwrap();
    let (code, report, _) = provenance(&fixtures().join("dataset"), &manifest);
    assert_eq!(code, 1, "{report:#}");
    let gate = &report["gates"][0];
    assert_eq!(gate["status"], "error");
    let reason = gate["reason"].as_str().unwrap();
    assert!(reason.contains("line 7"), "{reason}");
}

#[test]
fn manifest_create_matches_gnu_sha256sum_and_the_json_fixture() {
    let (code, stdout, stderr) = run(mlgate()
        .args(["manifest", "create"])
        .arg(fixtures().join("dataset")));
    assert_eq!(code, 0, "{stderr}");
    let gnu: String = std::fs::read_to_string(fixtures().join("SHA256SUMS"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(stdout, gnu);
    let (code, stdout, stderr) = run(mlgate()
        .args(["manifest", "create", "--format", "json"])
        .arg(fixtures().join("dataset")));
    assert_eq!(code, 0, "{stderr}");
    let ours: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let fixture: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(ours, fixture);
}

#[test]
fn manifest_created_inside_the_dataset_leaves_itself_out_and_verifies() {
    let tmp = temp_dir();
    let dataset = tmp.path().join("dataset");
    copy_tree(&fixtures().join("dataset"), &dataset);
    let output = dataset.join("SHA256SUMS");
    for _ in 0..2 {
        // Twice: the second run must not list the first run's manifest.
        let (code, _, stderr) = run(mlgate()
            .args(["manifest", "create"])
            .arg(&dataset)
            .arg("--output")
            .arg(&output));
        assert_eq!(code, 0, "{stderr}");
    }
    let text = std::fs::read_to_string(&output).unwrap();
    assert_eq!(text.lines().count(), 5, "{text}");
    assert!(!text.contains("SHA256SUMS"), "{text}");
    // The copy of the manifest inside the dataset is not "unexpected".
    let (code, report, stderr) = provenance(&dataset, &output);
    assert_eq!(code, 0, "{report:#}\n{stderr}");
}

#[test]
fn manifest_create_missing_dir_is_a_usage_error() {
    let (code, _, stderr) = run(mlgate()
        .args(["manifest", "create"])
        .arg(repo_root().join("no/such/dir")));
    assert_eq!(code, 2);
    assert!(stderr.contains("no/such/dir"), "{stderr}");
}
