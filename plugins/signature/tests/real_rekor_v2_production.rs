//! A REAL entry of the production Rekor v2 log `log2025-1.rekor.sigstore.dev`
//! (log index 412114 of a 412115-leaf tile log, Ed25519-signed checkpoint),
//! as sigstore-js records the log's response in its tests (source in
//! tests/fixtures/signature/real-sigstore/README.md). It is a log response,
//! not a bundle (its verifier is a bare public key), so the log side is
//! checked here against the production `trusted_root.json`: the checkpoint
//! signature under the pinned Ed25519 key and the RFC 9162 inclusion proof.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use mlgate_plugin_signature::rekor::{checkpoint, root_from_proof};
use mlgate_plugin_signature::trusted_root::{self, LogKey, LogPublicKey};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

mod common;
use common::fx;

fn entry() -> Value {
    serde_json::from_slice(&std::fs::read(fx("production-rekor-v2-log-entry.json")).unwrap())
        .unwrap()
}

fn log_of(root: &str, e: &Value) -> Option<LogKey> {
    let root = trusted_root::parse(&std::fs::read(fx(root)).unwrap()).unwrap();
    let id = STANDARD
        .decode(e["logId"]["keyId"].as_str().unwrap())
        .unwrap();
    root.tlogs.into_iter().find(|l| l.key_id == id)
}

fn proof(e: &Value) -> (u64, u64, Vec<u8>, Vec<Vec<u8>>) {
    let p = &e["inclusionProof"];
    let n = |k: &str| p[k].as_str().unwrap().parse::<u64>().unwrap();
    let b = |t: &Value| STANDARD.decode(t.as_str().unwrap()).unwrap();
    let hashes = p["hashes"].as_array().unwrap().iter().map(b).collect();
    (n("logIndex"), n("treeSize"), b(&p["rootHash"]), hashes)
}

fn leaf_hash(e: &Value) -> Vec<u8> {
    let body = STANDARD
        .decode(e["canonicalizedBody"].as_str().unwrap())
        .unwrap();
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(&body);
    h.finalize().to_vec()
}

#[test]
fn production_rekor_v2_checkpoint_and_inclusion_proof_verify() {
    let e = entry();
    let log = log_of("trusted_root.json", &e).expect("log2025-1 is in the production root");
    assert!(matches!(log.key, Ok(LogPublicKey::Ed25519(_))));
    let note = e["inclusionProof"]["checkpoint"]["envelope"]
        .as_str()
        .unwrap();
    let (size, root, stamp) = checkpoint(note, &log).unwrap();
    let (index, tree, root_hash, hashes) = proof(&e);
    assert_eq!((size, &root, stamp), (tree, &root_hash, None));
    assert_eq!(
        root_from_proof(index, tree, &leaf_hash(&e), &hashes),
        Some(root_hash.clone())
    );
    // Another body, another proof hash or another index: not in the tree.
    let mut other = leaf_hash(&e);
    other[0] ^= 1;
    assert_ne!(
        root_from_proof(index, tree, &other, &hashes),
        Some(root_hash.clone())
    );
    let mut bad = hashes.clone();
    bad[3][5] ^= 1;
    assert_ne!(
        root_from_proof(index, tree, &leaf_hash(&e), &bad),
        Some(root_hash.clone())
    );
    assert_ne!(
        root_from_proof(index - 1, tree, &leaf_hash(&e), &hashes),
        Some(root_hash)
    );
    // An edited checkpoint (tree size) no longer verifies under the key.
    let edited = note.replacen("\n412115\n", "\n412116\n", 1);
    assert!(checkpoint(&edited, &log).is_err());
    // A flipped bit in the Ed25519 signature fails too.
    let (body, sig_line) = note.split_once("\n\n").unwrap();
    let (prefix, sig) = sig_line.trim_end().rsplit_once(' ').unwrap();
    let mut raw = STANDARD.decode(sig).unwrap();
    raw[10] ^= 1;
    let forged = format!("{body}\n\n{prefix} {}\n", STANDARD.encode(raw));
    assert!(checkpoint(&forged, &log).is_err());
}

#[test]
fn production_rekor_v2_log_is_not_in_the_staging_root() {
    assert!(log_of("staging-trusted_root.json", &entry()).is_none());
}
