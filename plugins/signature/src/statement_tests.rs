//! Tests of the statement parser on payloads written by the real model_signing.

use super::*;
use crate::bundle::{self, Content};

fn payload(sig: &str) -> Vec<u8> {
    let text = std::fs::read(format!(
        "{}/../../tests/fixtures/signature/sigs/{sig}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    match bundle::parse(&text).unwrap().content {
        Content::Dsse(env) => env.payload,
        Content::Message { .. } => panic!("not DSSE"),
    }
}

#[test]
fn files_manifest_from_model_signing() {
    let m = parse(&payload("key-p256.sig")).unwrap();
    assert_eq!(m.model_name, "model");
    assert_eq!(m.serialization.method, Method::Files);
    assert_eq!(m.serialization.hash, HashKind::Sha256);
    let names: Vec<_> = m.resources.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "README.md",
            "config.json",
            "nested/tokenizer.json",
            "weights.bin"
        ]
    );
    let mut ignore = m.serialization.ignore_paths.clone();
    ignore.sort();
    assert_eq!(ignore, [".git", ".gitattributes", ".github", ".gitignore"]);
}

#[test]
fn sharded_and_blake2_manifests() {
    let m = parse(&payload("sharded-p256.sig")).unwrap();
    assert_eq!(m.serialization.method, Method::Shards { shard_size: 3000 });
    assert!(
        m.resources
            .iter()
            .any(|r| r.name == "weights.bin:3000:6000")
    );
    let m = parse(&payload("blake2-p256.sig")).unwrap();
    assert_eq!(m.serialization.hash, HashKind::Blake2b);
    assert_eq!(m.resources[0].digest.len(), 64);
}

#[test]
fn edited_resource_breaks_root_digest() {
    let err = parse(&payload("tampered-payload.sig")).unwrap_err();
    assert_eq!(err.rule, rules::MANIFEST_INCONSISTENT);
}

#[test]
fn refuses_other_predicates_and_hashes() {
    let mut st: Value = serde_json::from_slice(&payload("key-p256.sig")).unwrap();
    st["predicateType"] = "https://model_signing/Digests/v0.1".into();
    let err = parse(&serde_json::to_vec(&st).unwrap()).unwrap_err();
    assert_eq!(err.rule, rules::UNSUPPORTED);
    let mut st: Value = serde_json::from_slice(&payload("key-p256.sig")).unwrap();
    st["predicate"]["serialization"]["hash_type"] = "blake3".into();
    assert_eq!(
        parse(&serde_json::to_vec(&st).unwrap()).unwrap_err().rule,
        rules::UNSUPPORTED
    );
    assert_eq!(parse(b"[1,2]").unwrap_err().rule, rules::BUNDLE_INVALID);
}

#[test]
fn statement_round_trips() {
    let m = parse(&payload("sharded-p256.sig")).unwrap();
    let again = parse(&serde_json::to_vec(&to_statement(&m)).unwrap()).unwrap();
    assert_eq!(again.resources, m.resources);
    assert_eq!(again.serialization, m.serialization);
}
