//! Model-vs-manifest tests on copies of the fixture model signed by the real
//! model_signing, each copy altered one way.

use std::path::{Path, PathBuf};

use super::*;
use crate::bundle::{self, Content};
use crate::statement;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/signature")
}

fn manifest(sig: &str) -> Manifest {
    let text = std::fs::read(fixtures().join("sigs").join(sig)).unwrap();
    let Content::Dsse(env) = bundle::parse(&text).unwrap().content else {
        panic!()
    };
    statement::parse(&env.payload).unwrap()
}

/// A fresh copy of the fixture model in a temp dir.
pub(crate) fn model_copy(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mlgate-sig-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&fixtures().join("model"), &dir);
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn rules_of(f: &[Finding]) -> Vec<(&str, String)> {
    f.iter()
        .map(|f| (f.rule_id.as_str(), f.message.clone()))
        .collect()
}

#[test]
fn untouched_model_matches_every_serialisation() {
    for sig in [
        "key-p256.sig",
        "sharded-p256.sig",
        "blake2-p256.sig",
        "sharded-blake2-p256.sig",
    ] {
        let (f, stats) = compare(&fixtures().join("model"), &manifest(sig), &[], None).unwrap();
        assert!(f.is_empty(), "{sig}: {:?}", rules_of(&f));
        assert_eq!(stats.files, 4, "{sig}");
    }
}

#[test]
fn git_files_at_root_are_ignored_but_not_below() {
    let dir = model_copy("git");
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    std::fs::write(dir.join(".git/HEAD"), "ref").unwrap();
    std::fs::write(dir.join(".gitignore"), "*.tmp").unwrap();
    std::fs::write(dir.join("nested/.gitignore"), "x").unwrap();
    let (f, _) = compare(&dir, &manifest("key-p256.sig"), &[], None).unwrap();
    assert_eq!(f.len(), 1, "{:?}", rules_of(&f));
    assert_eq!(f[0].rule_id, rules::FILE_UNSIGNED);
    assert!(f[0].message.contains("nested/.gitignore"));
}

#[test]
fn changed_added_removed_and_renamed_files_are_named() {
    let dir = model_copy("tamper");
    std::fs::write(dir.join("config.json"), "{\"layers\": 3}\n").unwrap();
    std::fs::write(dir.join("extra.py"), "import os").unwrap();
    std::fs::remove_file(dir.join("README.md")).unwrap();
    std::fs::rename(
        dir.join("nested/tokenizer.json"),
        dir.join("nested/tok.json"),
    )
    .unwrap();
    let (f, _) = compare(&dir, &manifest("key-p256.sig"), &[], None).unwrap();
    let got = rules_of(&f);
    let has = |rule: &str, text: &str| got.iter().any(|(r, m)| *r == rule && m.contains(text));
    assert!(
        has(rules::DIGEST_MISMATCH, "`config.json` changed"),
        "{got:?}"
    );
    assert!(has(rules::FILE_UNSIGNED, "`extra.py`"), "{got:?}");
    assert!(has(rules::FILE_MISSING, "`README.md`"), "{got:?}");
    assert!(
        has(rules::FILE_MISSING, "renamed to `nested/tok.json`"),
        "{got:?}"
    );
    assert!(has(rules::FILE_UNSIGNED, "`nested/tok.json`"), "{got:?}");
    assert_eq!(f.len(), 5, "{got:?}");
}

#[test]
fn sharded_names_the_changed_shard_and_size_changes() {
    let dir = model_copy("shard");
    let mut data = std::fs::read(dir.join("weights.bin")).unwrap();
    data[4000] ^= 0xff;
    std::fs::write(dir.join("weights.bin"), &data).unwrap();
    let (f, _) = compare(&dir, &manifest("sharded-p256.sig"), &[], None).unwrap();
    assert_eq!(f.len(), 1);
    assert!(
        f[0].message.contains("bytes 3000..6000"),
        "{}",
        f[0].message
    );
    data.push(0);
    std::fs::write(dir.join("weights.bin"), &data).unwrap();
    let (f, _) = compare(&dir, &manifest("sharded-p256.sig"), &[], None).unwrap();
    assert!(f[0].message.contains("8193 bytes"), "{}", f[0].message);
}

#[test]
fn config_ignores_and_signature_inside_model_are_skipped() {
    let dir = model_copy("ign");
    std::fs::write(dir.join("notes.txt"), "x").unwrap();
    let sig = std::fs::read(fixtures().join("sigs/key-p256.sig")).unwrap();
    std::fs::write(dir.join("model.sig"), &sig).unwrap();
    let sig_digest = sha2::Sha256::digest(&sig);
    use sha2::Digest as _;
    let (f, _) = compare(
        &dir,
        &manifest("key-p256.sig"),
        &["notes.txt".into()],
        Some(&sig_digest),
    )
    .unwrap();
    assert!(f.is_empty(), "{:?}", rules_of(&f));
}

#[test]
fn bad_names_and_ignores_in_the_manifest_are_findings() {
    let mut m = manifest("key-p256.sig");
    m.resources[0].name = "./README.md".into();
    m.resources[1].name = "../config.json".into();
    m.serialization.ignore_paths.push(".".into());
    let (f, _) = compare(&fixtures().join("model"), &m, &[], None).unwrap();
    let bad = f
        .iter()
        .filter(|f| f.rule_id == rules::PATH_INVALID)
        .count();
    assert_eq!(bad, 3, "{:?}", rules_of(&f));
}

#[cfg(unix)]
#[test]
fn symlinks_out_of_the_model_are_findings() {
    let dir = model_copy("link");
    std::os::unix::fs::symlink("/etc/hostname", dir.join("evil")).unwrap();
    std::os::unix::fs::symlink("config.json", dir.join("alias")).unwrap();
    let (f, _) = compare(&dir, &manifest("key-p256.sig"), &[], None).unwrap();
    let got = rules_of(&f);
    assert!(
        got.iter()
            .any(|(r, m)| *r == rules::SYMLINK && m.contains("outside")),
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|(r, m)| *r == rules::SYMLINK && m.contains("does not allow")),
        "{got:?}"
    );
}

#[test]
fn single_file_model() {
    let m = manifest("single-p256.sig");
    let (f, _) = compare(&fixtures().join("single.bin"), &m, &[], None).unwrap();
    assert!(f.is_empty(), "{:?}", rules_of(&f));
    let (f, _) = compare(&fixtures().join("cosign/blob.bin"), &m, &[], None).unwrap();
    assert!(f.is_empty(), "same bytes under another name verify");
    let (f, _) = compare(&fixtures().join("model"), &m, &[], None).unwrap();
    assert_eq!(f[0].rule_id, rules::PATH_INVALID);
    let (f, _) = compare(&fixtures().join("model/config.json"), &m, &[], None).unwrap();
    assert_eq!(f[0].rule_id, rules::DIGEST_MISMATCH);
}
