//! The whole gate on the committed fixtures (`tests/fixtures/data-poisoning`,
//! made by its `gen.py`): each detector finds the rows injected for it,
//! clean data stays under 1% flagged, and the dataset checks and hostile
//! inputs give the findings the contract names.

use std::collections::BTreeSet;
use std::path::PathBuf;

use mlgate_plugin_sdk::{Finding, GateResult, Request, Severity};
use serde_json::json;

pub(crate) fn fixture(name: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/data-poisoning"
    ))
    .join(name)
}

pub(crate) fn run(config: serde_json::Value, inputs: &[(&str, &str)]) -> GateResult {
    let paths: Vec<(&str, PathBuf)> = inputs.iter().map(|(k, f)| (*k, fixture(f))).collect();
    let refs: Vec<(&str, &std::path::Path)> =
        paths.iter().map(|(k, p)| (*k, p.as_path())).collect();
    crate::gate::run(&Request::for_test(config, &refs)).expect("gate runs")
}

fn truth(name: &str) -> BTreeSet<usize> {
    std::fs::read_to_string(fixture(&format!("{name}.truth")))
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect()
}

fn rows_of(findings: &[Finding], kind: Option<&str>) -> BTreeSet<usize> {
    findings
        .iter()
        .filter(|f| kind.is_none_or(|k| f.get_property("kind") == Some(k)))
        .filter_map(|f| f.get_property("row").map(|r| r.parse().unwrap()))
        .collect()
}

pub(crate) fn rules(r: &GateResult) -> Vec<&str> {
    r.findings.iter().map(|f| f.rule_id.as_str()).collect()
}

#[test]
fn each_detector_finds_its_injected_rows() {
    for (file, kind) in [
        ("label_flip.csv", "label_flip"),
        ("outlier.csv", "outlier"),
        ("backdoor.csv", "backdoor"),
        ("duplicate.csv", "duplicate_conflict"),
    ] {
        let r = run(json!({}), &[("dataset", file)]);
        let want = truth(file);
        let all = rows_of(&r.findings, None);
        let of_kind = rows_of(&r.findings, Some(kind));
        let missed: Vec<_> = want.difference(&all).collect();
        let extra: Vec<_> = all.difference(&want).collect();
        assert!(missed.is_empty(), "{file}: missed {missed:?}");
        assert!(extra.len() <= 2, "{file}: extra rows {extra:?}");
        assert!(
            of_kind.intersection(&want).count() * 10 >= want.len() * 8,
            "{file}: {kind} found {of_kind:?}, injected {want:?}"
        );
        for f in r
            .findings
            .iter()
            .filter(|f| f.get_property("row").is_some())
        {
            assert_eq!(f.severity, Severity::Medium);
            assert!(f.get_property("score").is_some() && !f.fingerprint.is_empty());
            assert!(f.message.contains("row "), "{}", f.message);
        }
        assert!(r.summary.contains(kind), "{}", r.summary);
    }
}

#[test]
fn clean_data_flags_at_most_one_percent() {
    for file in ["clean.csv", "baseline.csv", "clean.jsonl"] {
        let r = run(json!({}), &[("dataset", file)]);
        let flagged = rows_of(&r.findings, None).len();
        let rows = r.metrics.iter().find(|m| m.name == "rows").unwrap().value;
        assert!(rows >= 60.0);
        assert!(
            flagged as f64 <= 0.01 * rows,
            "{file}: {flagged} of {rows} flagged"
        );
        assert!(
            !r.findings
                .iter()
                .any(|f| f.severity.rank() >= Severity::High.rank()),
            "{file}: {:?}",
            rules(&r)
        );
    }
}

#[test]
fn ceiling_fails_the_gate() {
    let cfg = json!({"max_flagged_fraction": {"label_flip": 0.01}});
    let r = run(cfg, &[("dataset", "label_flip.csv")]);
    let f = r
        .findings
        .iter()
        .find(|f| f.rule_id == "flagged-fraction-exceeded")
        .unwrap();
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.get_property("kind"), Some("label_flip"));
}

#[test]
fn manifest_checks_the_digest() {
    let ok = run(
        json!({}),
        &[("dataset", "clean.csv"), ("manifest", "SHA256SUMS")],
    );
    assert!(!rules(&ok).iter().any(|r| r.starts_with("checksum")));
    let bad = run(
        json!({}),
        &[("dataset", "label_flip.csv"), ("manifest", "SHA256SUMS")],
    );
    let f = bad
        .findings
        .iter()
        .find(|f| f.rule_id == "checksum-mismatch")
        .unwrap();
    assert_eq!(f.severity, Severity::Critical);
    let none = run(
        json!({}),
        &[("dataset", "outlier.csv"), ("manifest", "SHA256SUMS")],
    );
    assert!(rules(&none).contains(&"checksum-missing"));
}

#[test]
fn baseline_checks_shift_and_schema() {
    let same = run(
        json!({}),
        &[("dataset", "clean.csv"), ("baseline", "baseline.csv")],
    );
    let r = rules(&same);
    assert!(
        !r.iter()
            .any(|r| r.contains("class-shift") || r.contains("schema-drift")),
        "{r:?}"
    );
    let shifted = run(
        json!({}),
        &[("dataset", "shifted.csv"), ("baseline", "baseline.csv")],
    );
    assert!(
        rules(&shifted).contains(&"class-shift"),
        "{:?}",
        rules(&shifted)
    );
    let drift = run(
        json!({}),
        &[
            ("dataset", "schema_drift.csv"),
            ("baseline", "baseline.csv"),
        ],
    );
    let r = rules(&drift);
    for rule in [
        "schema-drift-renamed",
        "schema-drift-dropped",
        "schema-drift-added",
        "schema-drift-null-rate",
    ] {
        assert!(r.contains(&rule), "{rule} not in {r:?}");
    }
}

#[test]
fn hostile_inputs_give_findings_not_traps() {
    let r = run(json!({}), &[("dataset", "hostile.csv")]);
    assert!(rules(&r).contains(&"malformed-rows"), "{:?}", rules(&r));
    assert!(rules(&r).contains(&"non-finite-values"));
    let r = run(json!({}), &[("dataset", "empty.csv")]);
    assert_eq!(rules(&r), vec!["dataset-empty"]);
    let r = run(json!({}), &[("dataset", "many_classes.csv")]);
    assert!(rules(&r).contains(&"too-many-classes"));
    let r = run(json!({"label_column": "nope"}), &[("dataset", "clean.csv")]);
    assert!(rules(&r).contains(&"missing-label-column"));
    let p = fixture("clean.csv");
    let r = run(json!({"format": "parquet"}), &[("dataset", "clean.csv")]);
    assert_eq!(rules(&r), vec!["dataset-unreadable"]);
    let err = crate::gate::run(&Request::for_test(
        json!({"detectors": {"k": 0}}),
        &[("dataset", &p)],
    ));
    assert_eq!(err.unwrap_err().code, "config");
}
