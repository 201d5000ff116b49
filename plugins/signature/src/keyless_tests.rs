//! Keyless verification on bundles from the local test CA / CT log / Rekor-
//! like log (tests/fixtures/signature/gen_keyless.py), and tampered copies.

use serde_json::{Value, json};

use super::*;
use crate::verify::{Outcome, Trust, verify_model};

fn fx(p: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/signature")
        .join(p)
}

fn policy(cfg: Value, root: &str) -> Trust {
    let cfg: Config = serde_json::from_value(cfg).unwrap();
    let text = std::fs::read(fx(root)).unwrap();
    Trust::Keyless(Box::new(KeylessPolicy::new(&text, &cfg, None).unwrap()))
}

fn good_policy() -> Trust {
    policy(
        json!({"identity": "release@example.com", "issuer": "https://accounts.example.com"}),
        "keyless/trusted_root.json",
    )
}

fn bundle(name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(fx("keyless").join(name)).unwrap()).unwrap()
}

fn run(b: &Value, trust: &Trust) -> Outcome {
    verify_model(
        &fx("model"),
        "sig",
        &serde_json::to_vec(b).unwrap(),
        trust,
        &[],
        None,
    )
    .unwrap()
}

fn rule(o: &Outcome) -> String {
    assert_eq!(o.findings.len(), 1, "{:?}", o.findings);
    o.findings[0].rule_id.clone()
}

#[test]
fn keyless_bundles_of_every_version_verify() {
    for v in ["keyless-v0.3.sig", "keyless-v0.2.sig", "keyless-v0.1.sig"] {
        let o = run(&bundle(v), &good_policy());
        assert!(o.findings.is_empty(), "{v}: {:?}", o.findings);
        assert!(o.signer.contains("release@example.com"), "{}", o.signer);
    }
    let re = policy(
        json!({"identity_regex": ".*@example\\.com", "issuer_regex": "https://accounts\\.example\\.(com|org)"}),
        "keyless/trusted_root.json",
    );
    assert!(run(&bundle("keyless-v0.3.sig"), &re).findings.is_empty());
}

#[test]
fn identity_and_issuer_policy() {
    let b = bundle("keyless-v0.3.sig");
    let other = policy(
        json!({"identity": "attacker@example.com", "issuer": "https://accounts.example.com"}),
        "keyless/trusted_root.json",
    );
    assert_eq!(rule(&run(&b, &other)), rules::IDENTITY_MISMATCH);
    // The regex is anchored: a prefix match is not enough.
    let prefix = policy(
        json!({"identity_regex": "release@example", "issuer": "https://accounts.example.com"}),
        "keyless/trusted_root.json",
    );
    assert_eq!(rule(&run(&b, &prefix)), rules::IDENTITY_MISMATCH);
    let issuer = policy(
        json!({"identity": "release@example.com", "issuer": "https://token.actions.githubusercontent.com"}),
        "keyless/trusted_root.json",
    );
    assert_eq!(rule(&run(&b, &issuer)), rules::IDENTITY_MISMATCH);
    let cfg: Config = serde_json::from_value(json!({"identity": "x"})).unwrap();
    assert!(
        KeylessPolicy::new(
            &std::fs::read(fx("keyless/trusted_root.json")).unwrap(),
            &cfg,
            None
        )
        .is_err()
    );
}

#[test]
fn certificate_without_sct_fails() {
    assert_eq!(
        rule(&run(&bundle("keyless-nosct.sig"), &good_policy())),
        rules::SCT_INVALID
    );
}

#[test]
fn transparency_log_tampering_fails() {
    let base = bundle("keyless-v0.3.sig");
    let entry = |b: &mut Value| b["verificationMaterial"]["tlogEntries"][0].take();
    type Tamper = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Tamper)> = vec![
        (
            "no entry",
            Box::new(|b: &mut Value| b["verificationMaterial"]["tlogEntries"] = json!([])),
        ),
        (
            "proof hash",
            Box::new(|b: &mut Value| {
                b["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["hashes"][0] =
                    json!("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
            }),
        ),
        (
            "tree size",
            Box::new(|b: &mut Value| {
                b["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["treeSize"] =
                    json!("8")
            }),
        ),
        (
            "checkpoint",
            Box::new(|b: &mut Value| {
                let e = &mut b["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]
                    ["envelope"];
                *e = json!(
                    e.as_str()
                        .unwrap()
                        .replace("rekor.test - 2605", "rekor.test - 2606")
                );
            }),
        ),
        (
            "no proof in v0.3",
            Box::new(|b: &mut Value| {
                b["verificationMaterial"]["tlogEntries"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("inclusionProof");
            }),
        ),
        (
            // proof only: the bare integratedTime is unauthenticated and the
            // test log's checkpoint has no timestamp line
            "no SET, no checkpoint time",
            Box::new(|b: &mut Value| {
                b["verificationMaterial"]["tlogEntries"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("inclusionPromise");
            }),
        ),
        (
            "SET",
            Box::new(|b: &mut Value| {
                b["verificationMaterial"]["tlogEntries"][0]["integratedTime"] = json!("1780315300")
            }),
        ),
        (
            "other log",
            Box::new(move |b: &mut Value| {
                let mut e = entry(b);
                e["logId"]["keyId"] = json!("wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0=");
                b["verificationMaterial"]["tlogEntries"][0] = e;
            }),
        ),
    ];
    for (what, tamper) in cases {
        let mut b = base.clone();
        tamper(&mut b);
        // An entry that proves inclusion but gives no authenticated time
        // leaves the bundle without a signing time (no RFC 3161 either).
        let want = if what == "no SET, no checkpoint time" {
            rules::TIMESTAMP_INVALID
        } else {
            rules::TLOG_INVALID
        };
        assert_eq!(rule(&run(&b, &good_policy())), want, "{what}");
    }
}

#[test]
fn entry_must_bind_this_signature_and_payload() {
    // Another payload signed by the same certificate is not what was logged.
    let mut b = bundle("keyless-v0.3.sig");
    let payload = std::fs::read(fx("sigs/sharded-p256.sig")).unwrap();
    let other: Value = serde_json::from_slice(&payload).unwrap();
    b["dsseEnvelope"]["payload"] = other["dsseEnvelope"]["payload"].clone();
    assert_eq!(rule(&run(&b, &good_policy())), rules::TLOG_INVALID);
    // The v0.1 bundle relies on its SET alone; a forged one fails.
    let mut b = bundle("keyless-v0.1.sig");
    b["verificationMaterial"]["tlogEntries"][0]["inclusionPromise"]["signedEntryTimestamp"] =
        bundle("keyless-v0.3.sig")["dsseEnvelope"]["signatures"][0]["sig"].clone();
    assert_eq!(rule(&run(&b, &good_policy())), rules::TLOG_INVALID);
}

#[test]
fn wrong_root_or_time_fails() {
    let b = bundle("keyless-v0.3.sig");
    let prod = policy(
        json!({"identity": "release@example.com", "issuer": "https://accounts.example.com"}),
        "keyless/sigstore-prod-trusted_root.json",
    );
    assert_eq!(rule(&run(&b, &prod)), rules::TLOG_INVALID);
    let cfg: Config = serde_json::from_value(
        json!({"identity": "release@example.com", "issuer": "https://accounts.example.com"}),
    )
    .unwrap();
    let late = KeylessPolicy::new(
        &std::fs::read(fx("keyless/trusted_root.json")).unwrap(),
        &cfg,
        Some(1_900_000_000),
    )
    .unwrap();
    assert_eq!(
        rule(&run(&b, &Trust::Keyless(Box::new(late)))),
        rules::CERT_EXPIRED
    );
}

fn rsa_tsa_bundle(name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(fx("tsa-rsa").join(name)).unwrap()).unwrap()
}

fn with_token(b: &Value, token: &[u8]) -> Value {
    use base64::Engine as _;
    let mut b = b.clone();
    b["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]["signedTimestamp"] =
        json!(base64::engine::general_purpose::STANDARD.encode(token));
    b
}

#[test]
fn rfc3161_timestamp_from_an_rsa_tsa_verifies_end_to_end() {
    // tests/fixtures/signature/gen_tsa_rsa.sh: keyless-v0.3.sig plus a token
    // from a local RSA-2048 TSA (openssl), by issuer+serial and by key id.
    let root = policy(
        json!({"identity": "release@example.com", "issuer": "https://accounts.example.com"}),
        "tsa-rsa/trusted_root.json",
    );
    for name in ["keyless-v0.3-rsa-tsa.sig", "keyless-v0.3-rsa-tsa-ski.sig"] {
        let o = run(&rsa_tsa_bundle(name), &root);
        assert!(o.findings.is_empty(), "{name}: {:?}", o.findings);
    }
    let b = rsa_tsa_bundle("keyless-v0.3-rsa-tsa.sig");
    // The plain test root lists no timestamp authority.
    let o = run(&b, &good_policy());
    assert_eq!(rule(&o), rules::TIMESTAMP_INVALID);
    assert!(
        o.findings[0]
            .message
            .contains("not signed by a timestamp authority"),
        "{}",
        o.findings[0].message
    );
    // A flipped bit in the TSA's RSA signature (the token's last byte).
    let mut tok = std::fs::read(fx("tsa-rsa/cms-bundle-time.der")).unwrap();
    let last = tok.len() - 1;
    tok[last] ^= 1;
    let o = run(&with_token(&b, &tok), &root);
    assert_eq!(rule(&o), rules::TIMESTAMP_INVALID);
    assert!(
        o.findings[0].message.contains("RSA"),
        "{}",
        o.findings[0].message
    );
    // A genuine `openssl ts -reply` token of the same TSA over the same
    // signature, but from 2026-11-26: the 10-minute certificate had expired.
    let late = std::fs::read(fx("tsa-rsa/ts-issuer-serial.tsr")).unwrap();
    assert_eq!(
        rule(&run(&with_token(&b, &late), &root)),
        rules::CERT_EXPIRED
    );
    // A 1024-bit TSA's token fails even though the root is the same.
    let weak = std::fs::read(fx("tsa-rsa/ts-1024.tsr")).unwrap();
    let o = run(&with_token(&b, &weak), &root);
    assert_eq!(rule(&o), rules::TIMESTAMP_INVALID);
    assert!(
        o.findings[0].message.contains("1024 bits; at least 2048"),
        "{}",
        o.findings[0].message
    );
}
