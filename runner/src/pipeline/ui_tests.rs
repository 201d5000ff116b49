//! Snapshot tests of every configuration error: each `tests/ui/invalid/*.yaml`
//! must fail to load with exactly the message in the `.err` beside it, and
//! each `tests/ui/valid/*.yaml` must load. `MLGATE_BLESS=1` rewrites the
//! `.err` files from the current output (review the diff before committing).

use std::fs;
use std::path::{Path, PathBuf};

use super::parse_str;

/// Built-in names the snapshots are written against.
const BUILTINS: &[&str] = &[
    "data-poisoning",
    "model-scan",
    "pip-audit",
    "provenance",
    "signature",
];

/// The repository root (the first ancestor of this crate with `tests/ui`).
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|p| p.join("tests/ui/invalid").is_dir())
        .expect("tests/ui/invalid not found above the crate")
        .to_path_buf()
}

fn cases(dir: &Path) -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    cases.sort();
    cases
}

#[test]
fn invalid_pipelines_report_exact_errors() {
    let root = repo_root();
    let dir = root.join("tests/ui/invalid");
    let bless = std::env::var_os("MLGATE_BLESS").is_some();
    let mut failures = Vec::new();
    let all = cases(&dir);
    assert!(
        all.len() >= 20,
        "expected the full set of error cases, found {}",
        all.len()
    );
    for case in all {
        let text = fs::read_to_string(&case).unwrap();
        let rendered = match parse_str(&text, &case, &dir, BUILTINS, true) {
            Ok(_) => "<loaded without error>".to_string(),
            Err(mut diags) => {
                diags.relativize(&root);
                diags.to_string()
            }
        };
        let expected_file = case.with_extension("err");
        if bless {
            fs::write(&expected_file, format!("{rendered}\n")).unwrap();
            continue;
        }
        let expected = fs::read_to_string(&expected_file).unwrap_or_default();
        if expected.trim_end() != rendered {
            failures.push(format!(
                "--- {}\nexpected:\n{}\nactual:\n{rendered}\n",
                case.display(),
                expected.trim_end()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} snapshot(s) differ (MLGATE_BLESS=1 rewrites them):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn valid_pipelines_load() {
    let root = repo_root();
    let dir = root.join("tests/ui/valid");
    let all = cases(&dir);
    assert!(!all.is_empty());
    for case in all {
        let text = fs::read_to_string(&case).unwrap();
        if let Err(e) = parse_str(&text, &case, &dir, BUILTINS, true) {
            panic!("{} should load:\n{e}", case.display());
        }
    }
}
