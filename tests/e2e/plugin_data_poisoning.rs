//! `builtin:data-poisoning` through the real binary and sandbox, on the
//! committed fixtures (`tests/fixtures/data-poisoning`, made by `gen.py`).

use std::collections::BTreeSet;

use crate::harness::{check_json, repo_root};

fn fixture(name: &str) -> String {
    repo_root()
        .join("tests/fixtures/data-poisoning")
        .join(name)
        .display()
        .to_string()
}

fn flagged_rows(report: &serde_json::Value) -> BTreeSet<usize> {
    report["gates"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["properties"]["row"].as_str())
        .map(|r| r.parse().unwrap())
        .collect()
}

#[test]
fn data_poisoning_finds_flipped_rows_and_fails_over_the_ceiling() {
    let data = fixture("label_flip.csv");
    let (code, report, stderr) = check_json(
        "data-poisoning",
        &[
            "--input",
            &format!("dataset={data}"),
            "--set",
            "label_column=label",
        ],
    );
    let truth: BTreeSet<usize> = std::fs::read_to_string(format!("{data}.truth"))
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(flagged_rows(&report), truth, "stderr: {stderr}");
    let findings = report["gates"][0]["findings"].as_array().unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f["rule_id"] == "flagged-fraction-exceeded")
    );
    assert!(
        findings
            .iter()
            .filter(|f| f["properties"]["row"].is_string())
            .all(|f| f["properties"]["kind"] == "label_flip")
    );
    assert_eq!(report["gates"][0]["status"], "fail");
    assert_eq!(code, 1);
}

#[test]
fn data_poisoning_passes_clean_data_with_a_matching_manifest() {
    let (code, report, stderr) = check_json(
        "data-poisoning",
        &[
            "--input",
            &format!("dataset={}", fixture("clean.csv")),
            "--input",
            &format!("manifest={}", fixture("SHA256SUMS")),
            "--input",
            &format!("baseline={}", fixture("baseline.csv")),
        ],
    );
    assert!(
        flagged_rows(&report).is_empty(),
        "{report}\nstderr: {stderr}"
    );
    // Phase timings (wall seconds) come back as metrics.
    let metrics = &report["gates"][0]["metrics"];
    for phase in ["load", "knn", "softmax", "backdoor"] {
        assert!(
            metrics[format!("seconds_{phase}")]
                .as_f64()
                .is_some_and(|s| s >= 0.0),
            "{metrics}"
        );
    }
    assert_eq!(report["status"], "pass");
    assert_eq!(code, 0);
}

#[test]
fn data_poisoning_reports_an_empty_dataset_without_trapping() {
    let (code, report, _) = check_json(
        "data-poisoning",
        &["--input", &format!("dataset={}", fixture("empty.csv"))],
    );
    let gate = &report["gates"][0];
    assert_ne!(gate["status"], "error", "{report}");
    assert_eq!(gate["findings"][0]["rule_id"], "dataset-empty");
    assert_eq!(code, 1);
}

#[test]
fn data_poisoning_reads_parquet_in_the_sandbox_like_the_csv() {
    // The Parquet copies (tests/fixtures/data-poisoning/gen_parquet.py) of
    // backdoor.csv: the gate opens the file per read inside WASI.
    let rows = |file: &str| {
        let (_, report, stderr) = check_json(
            "data-poisoning",
            &["--input", &format!("dataset={}", fixture(file))],
        );
        assert_ne!(report["gates"][0]["status"], "error", "{report}\n{stderr}");
        flagged_rows(&report)
    };
    let csv = rows("backdoor.csv");
    assert!(!csv.is_empty());
    assert_eq!(rows("parquet/backdoor.parquet"), csv);
    // ZSTD pages are decompressed by ruzstd inside the sandbox (v1 and v2).
    assert_eq!(rows("parquet/zstd/backdoor.parquet"), csv);
    assert_eq!(rows("parquet/zstd/backdoor.v2.parquet"), csv);
    let (_, report, _) = check_json(
        "data-poisoning",
        &[
            "--input",
            &format!("dataset={}", fixture("parquet/clean.lz4.parquet")),
        ],
    );
    let gate = &report["gates"][0];
    assert_eq!(gate["status"], "error", "{report}");
    assert!(gate.to_string().contains("LZ4_RAW"), "{report}");
}
