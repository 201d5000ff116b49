//! Unit tests of the comparison, on real temp directories (the SDK's native
//! stand-in hashes the files).

use std::path::Path;

use sha2::{Digest, Sha256};

use super::*;
use crate::manifest::parse;

fn sha(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// A dataset dir with three files and a manifest text for it.
fn dataset() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let files: [(&str, &[u8]); 3] = [
        ("train.csv", b"a,b\n1,2\n"),
        ("sub/labels.txt", b"cat\ndog\n"),
        ("model.bin", &[0, 1, 2, 3]),
    ];
    let mut manifest = String::new();
    for (rel, data) in files {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, data).unwrap();
        manifest.push_str(&format!("{}  {rel}\n", sha(data)));
    }
    (dir, manifest)
}

fn run(dataset: &Path, manifest_text: &str, manifest_path: &Path) -> Outcome {
    let manifest = parse(manifest_text).unwrap();
    let source = ManifestSource {
        path: manifest_path,
        bytes: manifest_text.as_bytes(),
    };
    verify(dataset, &manifest, &source, true).unwrap()
}

fn rules(outcome: &Outcome) -> Vec<(String, String)> {
    outcome
        .findings
        .iter()
        .map(|f| {
            let path = f.location.as_ref().unwrap().path.clone();
            (f.rule_id.clone(), path)
        })
        .collect()
}

#[test]
fn intact_dataset_has_no_findings() {
    let (dir, manifest) = dataset();
    let outcome = run(dir.path(), &manifest, Path::new("/elsewhere/SHA256SUMS"));
    assert!(outcome.findings.is_empty(), "{:?}", rules(&outcome));
    assert_eq!(outcome.files_checked, 3);
    assert_eq!(outcome.bytes_hashed, 8 + 8 + 4);
}

#[test]
fn changed_missing_and_unexpected_files_are_named() {
    let (dir, manifest) = dataset();
    let root = dir.path();
    std::fs::write(root.join("train.csv"), b"a,b\n1,3\n").unwrap();
    std::fs::remove_file(root.join("sub/labels.txt")).unwrap();
    std::fs::write(root.join("sub/injected.csv"), b"evil").unwrap();
    let outcome = run(root, &manifest, Path::new("/elsewhere/SHA256SUMS"));
    let found = rules(&outcome);
    let at = |rel: &str| root.join(rel).to_string_lossy().into_owned();
    assert_eq!(
        found,
        [
            (MISSING.to_string(), at("sub/labels.txt")),
            (CHANGED.to_string(), at("train.csv")),
            (UNEXPECTED.to_string(), at("sub/injected.csv")),
        ]
    );
    let changed = &outcome.findings[1];
    assert_eq!(changed.severity, Severity::Critical);
    assert_eq!(
        changed.get_property("expected"),
        Some(sha(b"a,b\n1,2\n").as_str())
    );
    assert_eq!(
        changed.get_property("actual"),
        Some(sha(b"a,b\n1,3\n").as_str())
    );
    assert_eq!(changed.get_property("manifest_line"), Some("1"));
    assert_eq!(outcome.findings[0].severity, Severity::High);
    assert_eq!(
        (outcome.changed, outcome.missing, outcome.unexpected),
        (1, 1, 1)
    );
    // Fingerprints depend on rule and path, not on run details.
    let again = run(root, &manifest, Path::new("/other/SHA256SUMS"));
    let fps = |o: &Outcome| {
        o.findings
            .iter()
            .map(|f| f.fingerprint.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(fps(&outcome), fps(&again));
    assert!(fps(&outcome).iter().all(|f| f.len() == 32));
}

#[test]
fn unexpected_files_can_be_allowed() {
    let (dir, manifest) = dataset();
    std::fs::write(dir.path().join("extra"), b"x").unwrap();
    let parsed = parse(&manifest).unwrap();
    let source = ManifestSource {
        path: Path::new("/m/SHA256SUMS"),
        bytes: manifest.as_bytes(),
    };
    let outcome = verify(dir.path(), &parsed, &source, false).unwrap();
    assert!(outcome.findings.is_empty());
}

#[test]
fn a_copy_of_the_manifest_inside_the_dataset_is_not_unexpected() {
    let (dir, manifest) = dataset();
    let inside = dir.path().join("SHA256SUMS");
    std::fs::write(&inside, &manifest).unwrap();
    let outcome = run(dir.path(), &manifest, &inside);
    assert!(outcome.findings.is_empty(), "{:?}", rules(&outcome));
    // Same name, different content: still unexpected.
    std::fs::write(&inside, manifest.replace("train", "trian")).unwrap();
    let outcome = run(dir.path(), &manifest, Path::new("/m/SHA256SUMS"));
    assert_eq!(
        rules(&outcome),
        [(UNEXPECTED.into(), inside.to_string_lossy().into())]
    );
}

#[test]
fn a_single_file_dataset_matches_by_name_digest_or_sole_entry() {
    let (dir, manifest) = dataset();
    let file = dir.path().join("train.csv");
    let m = Path::new("/m/SHA256SUMS");
    // By name among several entries.
    assert!(run(&file, &manifest, m).findings.is_empty());
    // Renamed (as a sandbox might), matched by digest.
    let renamed = dir.path().join("input-file");
    std::fs::copy(&file, &renamed).unwrap();
    assert!(run(&renamed, &manifest, m).findings.is_empty());
    // Changed, with a one-entry manifest under another name.
    std::fs::write(&renamed, b"tampered").unwrap();
    let one = format!("{}  data/train.csv\n", sha(b"a,b\n1,2\n"));
    assert_eq!(rules(&run(&renamed, &one, m))[0].0, CHANGED);
    // Changed, matched by name.
    std::fs::write(&file, b"tampered").unwrap();
    let outcome = run(&file, &manifest, m);
    assert_eq!(
        rules(&outcome),
        [(CHANGED.into(), file.to_string_lossy().into())]
    );
    // Neither name nor digest among several entries: unexpected.
    assert_eq!(rules(&run(&renamed, &manifest, m))[0].0, UNEXPECTED);
}

#[test]
fn json_manifest_with_sha512_verifies() {
    let (dir, _) = dataset();
    let sha512 = |d: &[u8]| hex::encode(sha2::Sha512::digest(d));
    let text = serde_json::json!({
        "version": 1, "algorithm": "sha512",
        "files": {
            "train.csv": sha512(b"a,b\n1,2\n"),
            "sub/labels.txt": sha512(b"cat\ndog\n"),
            "model.bin": sha512(&[9]),
        }
    })
    .to_string();
    let outcome = run(dir.path(), &text, Path::new("/m/manifest.json"));
    assert_eq!(
        rules(&outcome),
        [(
            CHANGED.into(),
            dir.path().join("model.bin").to_string_lossy().into()
        )]
    );
    assert_eq!(
        outcome.findings[0].get_property("algorithm"),
        Some("sha512")
    );
}

#[test]
fn unreadable_dataset_is_an_error() {
    let (dir, manifest) = dataset();
    let parsed = parse(&manifest).unwrap();
    let source = ManifestSource {
        path: Path::new("/m/SHA256SUMS"),
        bytes: manifest.as_bytes(),
    };
    let err = verify(&dir.path().join("nope"), &parsed, &source, true).unwrap_err();
    assert_eq!(err.code, "input");
}
