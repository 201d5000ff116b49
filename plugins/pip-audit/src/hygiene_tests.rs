//! Hygiene tests on the hand-written requirements fixture and small locks.

use std::path::PathBuf;

use super::*;

fn reqs_fixture() -> Lockfile {
    let root = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/pip-audit/reqs"
    ));
    crate::lock::requirements::parse(&root.join("requirements.txt"), &root).unwrap()
}

fn rules_for(findings: &[Finding], rule: &str) -> Vec<String> {
    findings
        .iter()
        .filter(|f| f.rule_id == rule)
        .map(|f| f.message.clone())
        .collect()
}

#[test]
fn requirements_fixture_hygiene() {
    let lock = reqs_fixture();
    let f = check(&lock, &Config::default(), &|p| p.display().to_string());
    let unpinned = rules_for(&f, "unpinned-requirement");
    assert_eq!(
        unpinned.len(),
        1,
        "pyyaml; urllib3>=1.26 and numpy==1.* are pinned by -c: {unpinned:?}"
    );
    assert!(unpinned[0].starts_with("pyyaml "));
    // Flask and Jinja2 have hashes, so pip's hash mode needs them everywhere.
    let missing = rules_for(&f, "missing-hash");
    assert!(
        missing.iter().any(|m| m.starts_with("requests ")),
        "{missing:?}"
    );
    assert!(!missing.iter().any(|m| m.starts_with("Flask ")));
    assert_eq!(rules_for(&f, "extra-index-url").len(), 1);
    assert_eq!(
        rules_for(&f, "known-malicious-package").len(),
        1,
        "torchtriton"
    );
    assert_eq!(
        rules_for(&f, "direct-reference").len(),
        3,
        "git, wheel URL, -e git"
    );
    assert_eq!(rules_for(&f, "local-path-requirement").len(), 1);
    assert_eq!(
        rules_for(&f, "lockfile-problem").len(),
        1,
        "the include outside the input"
    );
}

#[test]
fn trusted_index_and_require_hashes() {
    let lock = reqs_fixture();
    let config = Config {
        trusted_indexes: vec!["https://pkgs.example.internal/simple/".into()],
        require_hashes: true,
        ..Config::default()
    };
    let f = check(&lock, &config, &|p| p.display().to_string());
    assert!(rules_for(&f, "extra-index-url").is_empty());
    assert!(
        rules_for(&f, "missing-hash")
            .iter()
            .any(|m| m.contains("require_hashes"))
    );
}

#[test]
fn typosquats() {
    let lock_with = |names: &[&str]| {
        let mut lock = reqs_fixture();
        lock.requirements = names
            .iter()
            .map(|n| {
                let mut r = Requirement::new(n, std::path::Path::new("r.txt"), Some(1));
                r.version = Some("1.0".into());
                r
            })
            .collect();
        lock.indexes.clear();
        lock.problems.clear();
        lock
    };
    let f = check(
        &lock_with(&[
            "troch",
            "numpi",
            "scikit_learn",
            "scapy",
            "requets",
            "jax",
            "fastai",
        ]),
        &Config::default(),
        &|_| String::new(),
    );
    let hits = rules_for(&f, "typosquat-name");
    assert_eq!(hits.len(), 3, "{hits:?}");
    let allow = Config {
        typosquat_allow: vec!["Troch".into()],
        ..Config::default()
    };
    let f = check(&lock_with(&["troch"]), &allow, &|_| String::new());
    assert!(rules_for(&f, "typosquat-name").is_empty());
}

#[test]
fn several_lock_sources_are_extra_indexes() {
    let path = std::env::temp_dir().join(format!("uv-two-{}/uv.lock", std::process::id()));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        &path,
        "version = 1\n\n[[package]]\nname = \"a\"\nversion = \"1.0\"\nsource = { registry = \"https://pypi.org/simple\" }\n\n\
         [[package]]\nname = \"b\"\nversion = \"1.0\"\nsource = { registry = \"http://corp.example/simple\" }\n",
    )
    .unwrap();
    let lock = crate::lock::toml_locks::parse_uv(&path).unwrap();
    let f = check(&lock, &Config::default(), &|_| String::new());
    assert_eq!(rules_for(&f, "extra-index-url").len(), 2);
    assert_eq!(rules_for(&f, "insecure-index").len(), 1);
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}
