//! Keyless verification of REAL bundles made by the Sigstore public-good
//! (production) instance, copied from public repositories with the artifact
//! they sign and the production `trusted_root.json`
//! (tests/fixtures/signature/real-sigstore/README.md names the sources).
//! Everything runs offline.

use std::path::Path;

use mlgate_plugin_signature::config::Config;
use mlgate_plugin_signature::keyless::KeylessPolicy;
use mlgate_plugin_signature::verify::{Outcome, Trust, verify_model};
use serde_json::{Value, json};

mod common;
use common::fx;

/// The sigstore-conformance signer: a GitHub Actions workflow identity.
const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn policy(cfg: Value, root: &str) -> Trust {
    let cfg: Config = serde_json::from_value(cfg).unwrap();
    let text = std::fs::read(fx(root)).unwrap();
    Trust::Keyless(Box::new(KeylessPolicy::new(&text, &cfg, None).unwrap()))
}

fn good() -> Trust {
    policy(
        json!({"identity": IDENTITY, "issuer": ISSUER}),
        "trusted_root.json",
    )
}

fn run(artifact: &Path, bundle: &str, trust: &Trust) -> Outcome {
    let text = std::fs::read(fx(bundle)).unwrap();
    verify_model(artifact, bundle, &text, trust, &[], None).unwrap()
}

fn rules(o: &Outcome) -> Vec<String> {
    o.findings
        .iter()
        .map(|f| format!("{}: {}", f.rule_id, f.message))
        .collect()
}

#[test]
fn production_message_signature_bundle_v02_verifies() {
    let o = run(&fx("a.txt"), "a.txt.v0.2.sigstore.json", &good());
    assert!(o.findings.is_empty(), "{:?}", rules(&o));
    assert!(o.signer.contains(IDENTITY), "{}", o.signer);
}

fn rule_of(o: &Outcome) -> String {
    assert_eq!(o.findings.len(), 1, "{:?}", rules(o));
    o.findings[0].rule_id.clone()
}

/// The bundle as JSON, changed by `f`, written to a temp file; verified.
fn run_changed(artifact: &Path, trust: &Trust, f: impl Fn(&mut Value)) -> Outcome {
    let mut b: Value =
        serde_json::from_slice(&std::fs::read(fx("a.txt.v0.2.sigstore.json")).unwrap()).unwrap();
    f(&mut b);
    let text = serde_json::to_vec(&b).unwrap();
    verify_model(artifact, "changed.sigstore.json", &text, trust, &[], None).unwrap()
}

#[test]
fn production_bundle_identity_policy() {
    let re = policy(
        json!({"identity_regex": "https://github\\.com/sigstore-conformance/.*@refs/heads/main", "issuer": ISSUER}),
        "trusted_root.json",
    );
    let o = run(&fx("a.txt"), "a.txt.v0.2.sigstore.json", &re);
    assert!(o.findings.is_empty(), "{:?}", rules(&o));
    for cfg in [
        json!({"identity": "https://github.com/attacker/repo/.github/workflows/release.yml@refs/heads/main", "issuer": ISSUER}),
        json!({"identity": IDENTITY, "issuer": "https://accounts.google.com"}),
        // anchored: the workflow path without the ref is not the identity
        json!({"identity_regex": "https://github\\.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon", "issuer": ISSUER}),
    ] {
        let o = run(
            &fx("a.txt"),
            "a.txt.v0.2.sigstore.json",
            &policy(cfg.clone(), "trusted_root.json"),
        );
        assert_eq!(
            rule_of(&o),
            mlgate_plugin_signature::rules::IDENTITY_MISMATCH,
            "{cfg}"
        );
    }
}

#[test]
fn production_bundle_rejects_a_modified_artifact() {
    use mlgate_plugin_signature::rules::{BAD_SIGNATURE, DIGEST_MISMATCH, TLOG_INVALID};
    let dir = tempfile::tempdir().unwrap();
    let changed = dir.path().join("a.txt");
    let mut bytes = std::fs::read(fx("a.txt")).unwrap();
    bytes[0] = b'd';
    std::fs::write(&changed, &bytes).unwrap();
    let o = run(&changed, "a.txt.v0.2.sigstore.json", &good());
    assert_eq!(rule_of(&o), DIGEST_MISMATCH);
    // The bundle's digest rewritten to the changed file: the signature (and
    // the log entry) are over the original, so it still fails.
    use base64::Engine as _;
    use sha2::Digest as _;
    let digest = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&bytes));
    let o = run_changed(&changed, &good(), |b| {
        b["messageSignature"]["messageDigest"]["digest"] = json!(digest)
    });
    let r = rule_of(&o);
    assert!(r == TLOG_INVALID || r == BAD_SIGNATURE, "{r}");
}

#[test]
fn production_bundle_needs_the_production_trusted_root() {
    use mlgate_plugin_signature::rules::TLOG_INVALID;
    let staging = policy(
        json!({"identity": IDENTITY, "issuer": ISSUER}),
        "staging-trusted_root.json",
    );
    assert_eq!(
        rule_of(&run(&fx("a.txt"), "a.txt.v0.2.sigstore.json", &staging)),
        TLOG_INVALID
    );
    // The local test root of gen_keyless.py does not vouch for it either.
    let test_root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/signature/keyless/trusted_root.json");
    let cfg: Config =
        serde_json::from_value(json!({"identity": IDENTITY, "issuer": ISSUER})).unwrap();
    let local = Trust::Keyless(Box::new(
        KeylessPolicy::new(&std::fs::read(test_root).unwrap(), &cfg, None).unwrap(),
    ));
    assert_eq!(
        rule_of(&run(&fx("a.txt"), "a.txt.v0.2.sigstore.json", &local)),
        TLOG_INVALID
    );
}

#[test]
fn production_bundle_time_comes_from_the_signed_checkpoint() {
    use mlgate_plugin_signature::rules::{CERT_EXPIRED, TLOG_INVALID};
    // No SET: the bare integratedTime is not authenticated, so moving it
    // changes nothing (the signed checkpoint's timestamp is used)...
    let o = run_changed(&fx("a.txt"), &good(), |b| {
        b["verificationMaterial"]["tlogEntries"][0]["integratedTime"] = json!("1900000000")
    });
    assert!(o.findings.is_empty(), "{:?}", rules(&o));
    // ...and a checkpoint whose timestamp is edited no longer verifies.
    let o = run_changed(&fx("a.txt"), &good(), |b| {
        let e = &mut b["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]["envelope"];
        *e = json!(
            e.as_str()
                .unwrap()
                .replace("Timestamp: 16891773", "Timestamp: 16891779")
        );
    });
    assert_eq!(rule_of(&o), TLOG_INVALID);
    // A checkpoint without a timestamp leaves no authenticated time: refused.
    let o = run_changed(&fx("a.txt"), &good(), |b| {
        let e = &mut b["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]["envelope"];
        *e = json!(
            e.as_str()
                .unwrap()
                .replace("Timestamp: 1689177396617352539\n", "")
        );
    });
    assert_eq!(rule_of(&o), TLOG_INVALID);
    // The Fulcio certificate lived 10 minutes: a later verify_time fails.
    let cfg: Config =
        serde_json::from_value(json!({"identity": IDENTITY, "issuer": ISSUER})).unwrap();
    let late = Trust::Keyless(Box::new(
        KeylessPolicy::new(
            &std::fs::read(fx("trusted_root.json")).unwrap(),
            &cfg,
            Some(1_689_178_000),
        )
        .unwrap(),
    ));
    assert_eq!(
        rule_of(&run(&fx("a.txt"), "a.txt.v0.2.sigstore.json", &late)),
        CERT_EXPIRED
    );
}

/// sigstore-js's release workflow, which signed the npm provenance.
const NPM_IDENTITY: &str =
    "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main";
const NPM_BUNDLE: &str = "sigstore-3.1.0.sigstore.json";

fn npm_policy(identity: &str, root: &str) -> mlgate_plugin_signature::keyless::KeylessPolicy {
    let cfg: Config =
        serde_json::from_value(json!({"identity": identity, "issuer": ISSUER})).unwrap();
    KeylessPolicy::new(&std::fs::read(fx(root)).unwrap(), &cfg, None).unwrap()
}

/// Keyless verification of the npm provenance bundle (changed by `f`).
fn npm_keyless(
    policy: &KeylessPolicy,
    f: impl Fn(&mut Value),
) -> Result<String, mlgate_plugin_signature::x509::ChainError> {
    use mlgate_plugin_signature::bundle::{self, Content};
    let mut v: Value = serde_json::from_slice(&std::fs::read(fx(NPM_BUNDLE)).unwrap()).unwrap();
    f(&mut v);
    let b = bundle::parse(&serde_json::to_vec(&v).unwrap()).unwrap();
    let Content::Dsse(env) = &b.content else {
        panic!("a DSSE bundle")
    };
    mlgate_plugin_signature::keyless::verify(&b, policy, &env.payload).map(|leaf| leaf.subject)
}

#[test]
fn production_npm_provenance_dsse_bundle_verifies_keyless() {
    // Fulcio chain, SCT, Rekor `intoto` v0.0.2 entry (SET + inclusion proof
    // + checkpoint) and identity: all verify against the production root.
    let subject = npm_keyless(&npm_policy(NPM_IDENTITY, "trusted_root.json"), |_| {}).unwrap();
    assert!(subject.contains(NPM_IDENTITY), "{subject}");
    // Through the gate's verifier: the DSSE signature verifies too, then the
    // payload (SLSA provenance, not a model signature) is refused: fail closed.
    let o = run(
        &fx("a.txt"),
        NPM_BUNDLE,
        &Trust::Keyless(Box::new(npm_policy(NPM_IDENTITY, "trusted_root.json"))),
    );
    assert_eq!(rule_of(&o), mlgate_plugin_signature::rules::UNSUPPORTED);
    assert!(
        o.findings[0].message.contains("slsa.dev/provenance"),
        "{:?}",
        rules(&o)
    );
}

#[test]
fn production_npm_provenance_dsse_bundle_negatives() {
    use mlgate_plugin_signature::rules::{IDENTITY_MISMATCH, TLOG_INVALID};
    let good = npm_policy(NPM_IDENTITY, "trusted_root.json");
    let other = npm_policy(
        "https://github.com/sigstore/sigstore-js/.github/workflows/ci.yml@refs/heads/main",
        "trusted_root.json",
    );
    assert_eq!(
        npm_keyless(&other, |_| {}).unwrap_err().rule,
        IDENTITY_MISMATCH
    );
    let staging = npm_policy(NPM_IDENTITY, "staging-trusted_root.json");
    assert_eq!(
        npm_keyless(&staging, |_| {}).unwrap_err().rule,
        TLOG_INVALID
    );
    // Another payload under the same signature: not what the log recorded.
    let e = npm_keyless(&good, |v| {
        v["dsseEnvelope"]["payload"] =
            json!("eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjEifQ==")
    })
    .unwrap_err();
    assert_eq!(e.rule, TLOG_INVALID, "{}", e.message);
    // A forged SET (the DSSE signature in its place) is refused.
    let e = npm_keyless(&good, |v| {
        v["verificationMaterial"]["tlogEntries"][0]["inclusionPromise"]["signedEntryTimestamp"] =
            v["dsseEnvelope"]["signatures"][0]["sig"].clone()
    })
    .unwrap_err();
    assert_eq!(e.rule, TLOG_INVALID, "{}", e.message);
}

#[test]
fn production_npm_intoto_entry_envelope_hash_is_recomputed() {
    use mlgate_plugin_signature::bundle::{self, Content};
    use mlgate_plugin_signature::rekor::intoto_envelope_hash;
    use mlgate_plugin_signature::rules::TLOG_INVALID;
    // The real entry's `spec.content.hash` is exactly sigstore-js's scheme.
    let v: Value = serde_json::from_slice(&std::fs::read(fx(NPM_BUNDLE)).unwrap()).unwrap();
    let b = bundle::parse(&serde_json::to_vec(&v).unwrap()).unwrap();
    let Content::Dsse(env) = &b.content else {
        panic!("a DSSE bundle")
    };
    use base64::Engine as _;
    let std_b64 = base64::engine::general_purpose::STANDARD;
    let body: Value = serde_json::from_slice(
        &std_b64
            .decode(
                v["verificationMaterial"]["tlogEntries"][0]["canonicalizedBody"]
                    .as_str()
                    .unwrap(),
            )
            .unwrap(),
    )
    .unwrap();
    let content = &body["spec"]["content"];
    let pem = String::from_utf8(
        std_b64
            .decode(
                content["envelope"]["signatures"][0]["publicKey"]
                    .as_str()
                    .unwrap(),
            )
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        intoto_envelope_hash(env, &pem).as_deref(),
        content["hash"]["value"].as_str()
    );
    // A key id added to the envelope: the DSSE signature does not cover it
    // and the payload hash and signature still match the entry, but the
    // recorded envelope hash does not.
    let e = npm_keyless(&npm_policy(NPM_IDENTITY, "trusted_root.json"), |v| {
        v["dsseEnvelope"]["signatures"][0]["keyid"] = json!("attacker")
    })
    .unwrap_err();
    assert_eq!(e.rule, TLOG_INVALID, "{}", e.message);
    assert!(e.message.contains("envelope hash"), "{}", e.message);
    // The entry body with another envelope hash (its inclusion proof and SET
    // then fail too, but the hash check comes first and names the cause).
    let e = npm_keyless(&npm_policy(NPM_IDENTITY, "trusted_root.json"), |v| {
        let entry = &mut v["verificationMaterial"]["tlogEntries"][0];
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut body: Value = serde_json::from_slice(
            &b64.decode(entry["canonicalizedBody"].as_str().unwrap())
                .unwrap(),
        )
        .unwrap();
        body["spec"]["content"]["hash"]["value"] = json!("00".repeat(32));
        entry["canonicalizedBody"] = json!(b64.encode(serde_json::to_vec(&body).unwrap()));
    })
    .unwrap_err();
    assert_eq!(e.rule, TLOG_INVALID, "{}", e.message);
    assert!(e.message.contains("envelope hash"), "{}", e.message);
    // Another payload type under the same payload and signature.
    let e = npm_keyless(&npm_policy(NPM_IDENTITY, "trusted_root.json"), |v| {
        v["dsseEnvelope"]["payloadType"] = json!("application/json")
    })
    .unwrap_err();
    assert_eq!(e.rule, TLOG_INVALID, "{}", e.message);
    assert!(e.message.contains("payload type"), "{}", e.message);
}
