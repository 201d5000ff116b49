//! Whole-gate tests, natively: the real pip-audit sample, the same dependency
//! set locked by five tools, report ingest, ignores and the database date.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use mlgate_plugin_sdk::{GateResult, Request};
use serde_json::json;

use super::*;
use crate::osv::db::tests_support::snapshot_dir;

fn fixtures() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/pip-audit"
    ))
}

fn db() -> PathBuf {
    snapshot_dir().join("pypa-advisories.jsonl")
}

fn gate(config: serde_json::Value, inputs: &[(&str, &Path)]) -> GateResult {
    run(&Request::for_test(config, inputs)).unwrap_or_else(|e| panic!("{}: {}", e.code, e.message))
}

fn prop<'a>(f: &'a mlgate_plugin_sdk::Finding, key: &str) -> &'a str {
    f.get_property(key).unwrap_or("")
}

/// (package, PYSEC id) pairs of the vulnerability findings, aliases included.
fn pysec_pairs(result: &GateResult) -> BTreeSet<(String, String)> {
    result
        .findings
        .iter()
        .filter(|f| f.get_property("advisory").is_some())
        .flat_map(|f| {
            let pkg = normalize(prop(f, "package"));
            std::iter::once(prop(f, "advisory").to_string())
                .chain(prop(f, "aliases").split(',').map(str::to_string))
                .filter(|id| id.starts_with("PYSEC-"))
                .map(move |id| (pkg.clone(), id))
        })
        .collect()
}

fn pip_audit_pairs(file: &str) -> BTreeSet<(String, String)> {
    let text = std::fs::read_to_string(snapshot_dir().join("pip-audit-sample").join(file)).unwrap();
    report::parse(&text)
        .unwrap()
        .iter()
        .flat_map(|d| {
            d.vulns
                .iter()
                .map(move |v| (normalize(&d.name), v.id.clone()))
        })
        .collect()
}

#[test]
fn offline_audit_finds_what_pip_audit_found() {
    let req = snapshot_dir().join("pip-audit-sample/requirements.txt");
    let result = gate(
        json!({"max_db_age_days": 100000}),
        &[("lockfile", &req), ("advisories", &db())],
    );
    assert_eq!(
        pysec_pairs(&result),
        pip_audit_pairs("pip-audit.default.json")
    );
    let vulns: Vec<_> = result
        .findings
        .iter()
        .filter(|f| f.get_property("advisory").is_some())
        .collect();
    assert_eq!(
        vulns.len(),
        14,
        "15 pip-audit rows, PYSEC-2021-871/872 merged by their shared CVE"
    );
    let distributed = vulns
        .iter()
        .find(|f| prop(f, "package") == "distributed")
        .unwrap();
    assert_eq!(distributed.rule_id, "PYSEC-2021-871");
    assert!(prop(distributed, "aliases").contains("PYSEC-2021-872"));
    assert!(prop(distributed, "aliases").contains("CVE-2021-42343"));
    let flask = vulns.iter().find(|f| f.rule_id == "PYSEC-2023-62").unwrap();
    assert_eq!(prop(flask, "fix_versions"), "2.2.5,2.3.2");
    assert_eq!(flask.location.as_ref().unwrap().line, Some(2));
    let py = vulns
        .iter()
        .find(|f| f.rule_id == "PYSEC-2022-42969")
        .unwrap();
    assert_eq!(prop(py, "fix_versions"), "");
    // The VCS and editable lines are reported as not auditable.
    assert!(
        result
            .findings
            .iter()
            .any(|f| f.rule_id == "direct-reference" && f.message.contains("private-lib"))
    );
    assert!(
        result
            .findings
            .iter()
            .any(|f| f.rule_id == "local-path-requirement")
    );
    assert!(
        result.summary.contains("data of 2024-10-"),
        "{}",
        result.summary
    );
}

#[test]
fn report_ingest_gives_the_same_vulnerabilities() {
    let req = snapshot_dir().join("pip-audit-sample/requirements.txt");
    let offline = gate(
        json!({"max_db_age_days": 100000}),
        &[("lockfile", &req), ("advisories", &db())],
    );
    for file in [
        "pip-audit.default.json",
        "pip-audit.desc-off-aliases-off.json",
    ] {
        let report = snapshot_dir().join("pip-audit-sample").join(file);
        let ingested = gate(json!({}), &[("report", &report), ("advisories", &db())]);
        assert_eq!(pysec_pairs(&ingested), pysec_pairs(&offline), "{file}");
        let ids = |r: &GateResult| -> BTreeSet<String> {
            r.findings
                .iter()
                .filter(|f| f.get_property("advisory").is_some())
                .map(|f| f.rule_id.clone())
                .collect()
        };
        assert_eq!(
            ids(&ingested),
            ids(&offline),
            "{file}: same findings under the same policy"
        );
        let skipped = ingested
            .findings
            .iter()
            .filter(|f| f.rule_id == "report-skipped-dependency")
            .count();
        assert_eq!(skipped, 2);
    }
    // Without a database the report still yields findings (severity medium).
    let report = snapshot_dir().join("pip-audit-sample/pip-audit.default.json");
    let alone = gate(json!({}), &[("report", &report)]);
    assert_eq!(pysec_pairs(&alone).len(), 15);
}

#[test]
fn every_lock_format_gives_the_same_advisories() {
    let mut results = Vec::new();
    for name in [
        "requirements.txt",
        "pylock.toml",
        "uv.lock",
        "poetry.lock",
        "Pipfile.lock",
    ] {
        let path = fixtures().join("locks").join(name);
        let r = gate(
            json!({"max_db_age_days": 100000}),
            &[("lockfile", &path), ("advisories", &db())],
        );
        results.push((name, pysec_pairs(&r)));
    }
    let (_, first) = &results[0];
    assert!(first.len() >= 10, "{first:?}");
    for (name, pairs) in &results[1..] {
        assert_eq!(pairs, first, "{name}");
    }
}

#[test]
fn ignores_apply_until_they_expire() {
    let req = snapshot_dir().join("pip-audit-sample/requirements.txt");
    let config = json!({
        "max_db_age_days": 100000,
        "ignore": [
            {"id": "CVE-2020-29651", "reason": "svn helpers unused"},
            {"id": "PYSEC-2018-66", "reason": "old", "expires": "2020-01-01"}
        ]
    });
    let result = gate(config, &[("lockfile", &req), ("advisories", &db())]);
    let ids: Vec<_> = result.findings.iter().map(|f| f.rule_id.as_str()).collect();
    assert!(
        !ids.contains(&"PYSEC-2020-92"),
        "ignored through its CVE alias"
    );
    assert!(
        ids.contains(&"PYSEC-2018-66"),
        "expired entry no longer applies"
    );
    assert!(ids.contains(&"ignore-expired"));
    let bad = json!({"ignore": [{"id": "x", "reason": "r", "expires": "next week"}]});
    assert!(
        run(&Request::for_test(
            bad,
            &[("lockfile", &req), ("advisories", &db())]
        ))
        .is_err()
    );
}

#[test]
fn stale_database_and_missing_inputs() {
    let req = snapshot_dir().join("pip-audit-sample/requirements.txt");
    let result = gate(json!({}), &[("lockfile", &req), ("advisories", &db())]);
    let stale = result
        .findings
        .iter()
        .find(|f| f.rule_id == "advisory-db-stale")
        .expect("2024 data is stale");
    assert!(stale.message.contains("2024-10-"));
    let err = run(&Request::for_test(json!({}), &[("lockfile", &req)])).unwrap_err();
    assert!(
        err.message.contains("run `mlgate advisories fetch`"),
        "the message names the fix: {}",
        err.message
    );
    let err = run(&Request::for_test(json!({}), &[])).unwrap_err();
    assert_eq!(err.code, "input");
}

#[test]
fn directory_input_finds_every_lockfile() {
    let result = gate(
        json!({"max_db_age_days": 100000}),
        &[
            ("lockfile", &fixtures().join("locks")),
            ("advisories", &db()),
        ],
    );
    for name in [
        "requirements.txt",
        "pylock.toml",
        "uv.lock",
        "poetry.lock",
        "Pipfile.lock",
    ] {
        assert!(result.summary.contains(name), "{}", result.summary);
    }
}

#[test]
fn describe_lists_rules_and_schema() {
    let info = describe();
    assert_eq!(info.name, "pip-audit");
    assert!(
        info.rules
            .iter()
            .all(|r| !r.help.is_empty() && !r.summary.is_empty())
    );
    assert!(info.rules.iter().any(|r| r.id == "extra-index-url"));
    let _: serde_json::Value = serde_json::from_str(&info.config_schema).unwrap();
}

/// (package, advisory) of the vulnerability findings.
fn advisories_of(result: &GateResult) -> BTreeSet<(String, String)> {
    result
        .findings
        .iter()
        .filter(|f| f.get_property("advisory").is_some())
        .map(|f| {
            (
                prop(f, "package").to_string(),
                prop(f, "advisory").to_string(),
            )
        })
        .collect()
}

#[test]
fn markers_are_evaluated_against_the_configured_environment() {
    let lock = fixtures().join("markers/requirements.txt");
    let audit = |env: serde_json::Value| {
        let mut config = json!({"max_db_age_days": 100000});
        if !env.is_null() {
            config["environment"] = env;
        }
        gate(config, &[("lockfile", &lock), ("advisories", &db())])
    };
    let has = |r: &GateResult, pkg: &str, id: &str| {
        advisories_of(r).contains(&(pkg.to_string(), id.to_string()))
    };
    // No environment: every requirement is audited, whatever its marker.
    let all = audit(serde_json::Value::Null);
    for (pkg, id) in [
        ("gunicorn", "PYSEC-2018-55"),
        ("pywin32", "PYSEC-2021-112"),
        ("waitress", "PYSEC-2019-136"),
        ("tornado", "PYSEC-2023-75"),
    ] {
        assert!(has(&all, pkg, id), "{pkg} {id}: {:?}", advisories_of(&all));
    }
    assert!(!all.summary.contains("markers"), "{}", all.summary);
    // Linux, Python 3.12: the Windows-only and pre-3.12 requirements are not installed.
    let linux = audit(json!({"python_version": "3.12", "sys_platform": "linux"}));
    assert!(has(&linux, "gunicorn", "PYSEC-2018-55"));
    let packages: BTreeSet<String> = advisories_of(&linux).into_iter().map(|p| p.0).collect();
    assert_eq!(
        packages,
        BTreeSet::from(["gunicorn".to_string(), "jupyter-core".to_string()]),
        "jupyter-core has no marker; pywin32, waitress and tornado are not installed"
    );
    assert!(
        linux
            .summary
            .contains("; 11 requirements not installed in the target environment"),
        "{}",
        linux.summary
    );
    // Windows, Python 3.11: the reverse.
    let windows = audit(json!({"python_version": "3.11", "sys_platform": "win32"}));
    assert!(has(&windows, "pywin32", "PYSEC-2021-112"));
    assert!(has(&windows, "waitress", "PYSEC-2019-136"));
    assert!(has(&windows, "tornado", "PYSEC-2023-75"));
    assert!(!has(&windows, "gunicorn", "PYSEC-2018-55"));
    // A bad environment is a config error; a bad marker is reported and audited.
    let err = run(&Request::for_test(
        json!({"environment": {"python_version": "three"}}),
        &[("lockfile", &lock), ("advisories", &db())],
    ))
    .unwrap_err();
    assert_eq!(err.code, "config", "{}", err.message);
    let dir = std::env::temp_dir().join(format!("pip-audit-marker-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("requirements.txt");
    std::fs::write(&bad, "gunicorn==19.4.0 ; python_version <> '3'\n").unwrap();
    let result = gate(
        json!({"max_db_age_days": 100000, "environment": {"sys_platform": "win32"}}),
        &[("lockfile", &bad), ("advisories", &db())],
    );
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(has(&result, "gunicorn", "PYSEC-2018-55"), "audited anyway");
    assert!(
        result
            .findings
            .iter()
            .any(|f| f.rule_id == "lockfile-problem" && f.message.contains("not PEP 508")),
        "{:?}",
        result.findings
    );
}
