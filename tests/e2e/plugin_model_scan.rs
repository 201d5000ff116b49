//! `builtin:model-scan` through the real binary, on the generated corpus in
//! `tests/fixtures/model-scan` (made by its gen.py).

use std::path::{Path, PathBuf};

use crate::harness::{check_json, repo_root, temp_dir};

fn fixture(rel: &str) -> PathBuf {
    repo_root().join("tests/fixtures/model-scan").join(rel)
}

fn scan(models: &Path, sets: &[&str]) -> (i32, serde_json::Value) {
    let input = format!("models={}", models.display());
    let mut args = vec!["--input", input.as_str()];
    for s in sets {
        args.extend(["--set", s]);
    }
    let (code, json, stderr) = check_json("model-scan", &args);
    assert!(code == 0 || code == 1, "exit {code}: {stderr}");
    (code, json)
}

fn findings(json: &serde_json::Value) -> Vec<serde_json::Value> {
    json["gates"][0]["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn model_scan_fails_a_torch_zip_with_a_payload_and_names_the_global() {
    let (code, json) = scan(&fixture("malicious/torch_zip.pt"), &[]);
    assert_eq!(code, 1, "{json}");
    assert_eq!(json["gates"][0]["status"], "fail");
    let f = findings(&json);
    let hit = f
        .iter()
        .find(|f| f["rule_id"] == "pickle-dangerous-global")
        .unwrap_or_else(|| panic!("no dangerous-global finding: {json}"));
    assert_eq!(hit["severity"], "critical");
    assert_eq!(hit["properties"]["global"], "posix.system");
    assert_eq!(hit["properties"]["member"], "archive/data.pkl");
    assert!(
        hit["properties"]["offset"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .is_ok()
    );
    assert!(
        hit["location"]["path"]
            .as_str()
            .unwrap()
            .ends_with("torch_zip.pt"),
        "{hit}"
    );
}

#[test]
fn model_scan_passes_the_benign_corpus() {
    let (code, json) = scan(&fixture("benign"), &[]);
    let above_info: Vec<_> = findings(&json)
        .into_iter()
        .filter(|f| f["severity"] != "info")
        .collect();
    assert!(above_info.is_empty(), "{above_info:?}");
    assert_eq!(code, 0, "{json}");
}

#[test]
fn model_scan_unknown_global_policy_is_configurable() {
    let dir = temp_dir();
    std::fs::copy(
        fixture("malicious/unknown_main_global.pkl"),
        dir.path().join("m.pkl"),
    )
    .unwrap();
    let (code, json) = scan(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(findings(&json)[0]["rule_id"], "pickle-unknown-global");
    assert_eq!(findings(&json)[0]["severity"], "high");
    let (code, _) = scan(dir.path(), &["allow_globals=__main__.Backdoor"]);
    assert_eq!(code, 0);
    let (_, json) = scan(dir.path(), &["unknown_globals=medium"]);
    assert_eq!(findings(&json)[0]["severity"], "medium");
    // The allowlist never overrides the dangerous list.
    std::fs::copy(
        fixture("malicious/global_pip_main.pkl"),
        dir.path().join("p.pkl"),
    )
    .unwrap();
    let (code, _) = scan(dir.path(), &["allow_globals=pip.*,__main__.*"]);
    assert_eq!(code, 1);
}

#[test]
fn model_scan_require_safetensors_flags_benign_pickles() {
    let (code, json) = scan(
        &fixture("benign/state_dict.pt"),
        &["require_safetensors=true"],
    );
    assert_eq!(code, 1);
    assert!(
        findings(&json)
            .iter()
            .any(|f| f["rule_id"] == "safetensors-required")
    );
    let (code, _) = scan(
        &fixture("benign/model.safetensors"),
        &["require_safetensors=true"],
    );
    assert_eq!(code, 0);
}

#[test]
fn model_scan_reports_every_malicious_fixture_in_the_sandbox() {
    let (code, json) = scan(&fixture("malicious"), &[]);
    assert_eq!(code, 1, "{json}");
    let f = findings(&json);
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("manifest.json")).expect("manifest.json"),
    )
    .unwrap();
    let mut missed = Vec::new();
    for (name, meta) in manifest.as_object().unwrap() {
        if meta["class"] != "malicious" {
            continue;
        }
        let hit = f.iter().any(|f| {
            f["location"]["path"]
                .as_str()
                .unwrap_or("")
                .ends_with(name.as_str())
                && (f["severity"] == "high" || f["severity"] == "critical")
        });
        if !hit {
            missed.push(name.clone());
        }
    }
    assert!(missed.is_empty(), "missed in the sandbox: {missed:?}");
    // the bomb is reported from its declared size, not by inflating it
    let bomb = f
        .iter()
        .find(|f| {
            f["rule_id"] == "scan-limit"
                && f["location"]["path"]
                    .as_str()
                    .unwrap_or("")
                    .ends_with("bomb.zip")
        })
        .unwrap_or_else(|| panic!("no bomb finding: {json}"));
    assert!(
        bomb["message"].as_str().unwrap().contains("declares"),
        "{bomb}"
    );
}
