//! `builtin:pip-audit` through the real binary and sandbox: the PyPA snapshot
//! as the advisory database, lockfiles from the fixtures, pip-audit's own
//! report as an ingest input.

use std::collections::BTreeSet;

use crate::harness::{check_json, repo_root, shared_data};

fn snapshot() -> String {
    let path = shared_data().join("osv-pypi/pypa-advisories.jsonl");
    assert!(
        path.is_file(),
        "shared test data missing: {}",
        path.display()
    );
    path.display().to_string()
}

fn vuln_ids(report: &serde_json::Value) -> BTreeSet<String> {
    report["gates"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["properties"]["advisory"].is_string())
        .map(|f| f["rule_id"].as_str().unwrap().to_string())
        .collect()
}

fn expected_status(report: &serde_json::Value) -> i32 {
    let severe = report["gates"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| matches!(f["severity"].as_str(), Some("high" | "critical")));
    i32::from(severe)
}

#[test]
fn pip_audit_sample_offline_in_the_sandbox() {
    let lockfile = shared_data().join("osv-pypi/pip-audit-sample/requirements.txt");
    let (code, report, stderr) = check_json(
        "pip-audit",
        &[
            "--input",
            &format!("lockfile={}", lockfile.display()),
            "--input",
            &format!("advisories={}", snapshot()),
            "--set",
            "max_db_age_days=100000",
        ],
    );
    let gate = &report["gates"][0];
    assert_ne!(gate["status"], "error", "{gate}\n{stderr}");
    let ids = vuln_ids(&report);
    for id in [
        "PYSEC-2018-66",
        "PYSEC-2021-871",
        "PYSEC-2022-42969",
        "PYSEC-2021-142",
    ] {
        assert!(ids.contains(id), "{id} missing from {ids:?}");
    }
    assert_eq!(
        ids.len(),
        14,
        "pip-audit's 15 rows, the two distributed records merged: {ids:?}"
    );
    let flask = gate["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "PYSEC-2023-62")
        .unwrap();
    assert_eq!(flask["properties"]["fix_versions"], "2.2.5,2.3.2");
    assert_eq!(flask["location"]["line"], 2);
    assert_eq!(code, expected_status(&report), "{stderr}");
}

#[test]
fn uv_lock_and_pip_audit_report_agree() {
    let uv = repo_root().join("tests/fixtures/pip-audit/locks/uv.lock");
    let (_, from_lock, stderr) = check_json(
        "pip-audit",
        &[
            "--input",
            &format!("lockfile={}", uv.display()),
            "--input",
            &format!("advisories={}", snapshot()),
        ],
    );
    assert_ne!(from_lock["gates"][0]["status"], "error", "{stderr}");
    assert!(vuln_ids(&from_lock).len() >= 10);
    assert!(
        from_lock["gates"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule_id"] == "advisory-db-stale"),
        "the 2024 snapshot is older than the default 30 days"
    );

    let sample = shared_data().join("osv-pypi/pip-audit-sample/pip-audit.default.json");
    let (_, ingested, stderr) = check_json(
        "pip-audit",
        &["--input", &format!("report={}", sample.display())],
    );
    assert_ne!(ingested["gates"][0]["status"], "error", "{stderr}");
    assert_eq!(
        vuln_ids(&ingested).len(),
        14,
        "no database: the report's ids, merged by their aliases"
    );
}
