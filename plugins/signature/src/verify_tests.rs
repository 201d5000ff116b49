//! End-to-end verification tests (native) on bundles written by the real
//! model_signing CLI, and on tampered copies of them.

use std::path::{Path, PathBuf};

use super::*;

pub(crate) fn fx(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/signature")
        .join(p)
}

pub(crate) fn key(name: &str) -> Trust {
    Trust::Key(PublicKey::from_pem(&std::fs::read_to_string(fx(name)).unwrap()).unwrap())
}

pub(crate) fn run(model: &Path, sig: &str, trust: &Trust) -> Outcome {
    let text = std::fs::read(fx("sigs").join(sig)).unwrap();
    verify_model(model, sig, &text, trust, &[], None).unwrap()
}

fn rule(o: &Outcome) -> &str {
    assert_eq!(o.findings.len(), 1, "{:?}", o.findings);
    &o.findings[0].rule_id
}

#[test]
fn model_signing_key_bundles_verify_on_all_curves() {
    for c in ["p256", "p384", "p521"] {
        let o = run(
            &fx("model"),
            &format!("key-{c}.sig"),
            &key(&format!("keys/{c}.pub")),
        );
        assert!(o.findings.is_empty(), "{c}: {:?}", o.findings);
        assert_eq!(o.stats.files, 4);
    }
    for sig in [
        "sharded-p256.sig",
        "blake2-p256.sig",
        "sharded-blake2-p256.sig",
        "key-p256-ignore-readme.sig",
    ] {
        let o = run(&fx("model"), sig, &key("keys/p256.pub"));
        assert!(o.findings.is_empty(), "{sig}: {:?}", o.findings);
    }
    let o = run(&fx("single.bin"), "single-p256.sig", &key("keys/p256.pub"));
    assert!(o.findings.is_empty(), "{:?}", o.findings);
}

#[test]
fn wrong_key_is_untrusted() {
    assert_eq!(
        rule(&run(&fx("model"), "key-p256.sig", &key("keys/other.pub"))),
        rules::UNTRUSTED_KEY
    );
    assert_eq!(
        rule(&run(&fx("model"), "key-p384.sig", &key("keys/p256.pub"))),
        rules::UNTRUSTED_KEY
    );
}

#[test]
fn wrong_key_without_hint_is_a_bad_signature() {
    let mut b: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fx("sigs/key-p256.sig")).unwrap()).unwrap();
    b["verificationMaterial"]["publicKey"] = serde_json::json!({});
    let text = serde_json::to_vec(&b).unwrap();
    let o = verify_model(&fx("model"), "s", &text, &key("keys/other.pub"), &[], None).unwrap();
    assert_eq!(rule(&o), rules::BAD_SIGNATURE);
}

#[test]
fn tampered_bundles_fail_with_their_own_rule() {
    let k = key("keys/p256.pub");
    assert_eq!(
        rule(&run(&fx("model"), "tampered-badsig.sig", &k)),
        rules::BAD_SIGNATURE
    );
    assert_eq!(
        rule(&run(&fx("model"), "tampered-payload.sig", &k)),
        rules::BAD_SIGNATURE
    );
    assert_eq!(
        rule(&run(&fx("model"), "tampered-mediatype.sig", &k)),
        rules::UNSUPPORTED_MEDIA_TYPE
    );
    let o = verify_model(&fx("model"), "s", b"not json", &k, &[], None).unwrap();
    assert_eq!(rule(&o), rules::BUNDLE_INVALID);
}

#[test]
fn every_signature_of_the_envelope_must_verify() {
    let mut b: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fx("sigs/key-p256.sig")).unwrap()).unwrap();
    let good = b["dsseEnvelope"]["signatures"][0].clone();
    let bad: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fx("sigs/tampered-badsig.sig")).unwrap()).unwrap();
    b["dsseEnvelope"]["signatures"] =
        serde_json::json!([good, bad["dsseEnvelope"]["signatures"][0]]);
    let o = verify_model(
        &fx("model"),
        "s",
        &serde_json::to_vec(&b).unwrap(),
        &key("keys/p256.pub"),
        &[],
        None,
    )
    .unwrap();
    assert_eq!(rule(&o), rules::BAD_SIGNATURE);
    assert!(o.findings[0].message.contains("signature 2 of 2"));
}

#[test]
fn changed_model_fails_after_a_good_signature() {
    let dir = crate::compare::tests::model_copy("verify");
    std::fs::write(dir.join("weights.bin"), b"trojan").unwrap();
    let o = run(&dir, "key-p256.sig", &key("keys/p256.pub"));
    assert_eq!(rule(&o), rules::DIGEST_MISMATCH);
    assert!(o.findings[0].message.contains("weights.bin"));
}

fn chain_trust(time: u64) -> Trust {
    Trust::Certificates {
        pool: crate::x509::pem_pool(&std::fs::read(fx("pki/root.crt")).unwrap()).unwrap(),
        time,
    }
}

const NOW: u64 = 1_800_000_000; // 2027-01-15, inside every fixture's validity

#[test]
fn certificate_mode_from_model_signing() {
    let o = run(&fx("model"), "cert.sig", &chain_trust(NOW));
    assert!(o.findings.is_empty(), "{:?}", o.findings);
    assert!(o.signer.contains("release-signer"), "{}", o.signer);
    assert_eq!(
        rule(&run(&fx("model"), "cert-noeku.sig", &chain_trust(NOW))),
        rules::CERT_USAGE
    );
    assert_eq!(
        rule(&run(&fx("model"), "cert-rogue.sig", &chain_trust(NOW))),
        rules::CERT_UNTRUSTED
    );
    // Long after the leaf expired, and before it was issued.
    assert_eq!(
        rule(&run(&fx("model"), "cert.sig", &chain_trust(4_102_444_800))),
        rules::CERT_EXPIRED
    );
    assert_eq!(
        rule(&run(&fx("model"), "cert.sig", &chain_trust(1_000_000_000))),
        rules::CERT_EXPIRED
    );
    // Key mode material is not a certificate.
    assert_eq!(
        rule(&run(&fx("model"), "key-p256.sig", &chain_trust(NOW))),
        rules::CERT_UNTRUSTED
    );
}

#[test]
fn bundles_from_mlgate_sign_that_model_signing_accepted_verify_here() {
    // sigs/mlgate-*.sig were written by `sign` and verified by the real
    // model_signing CLI (tests/fixtures/signature/interop.sh, interop.txt).
    for c in ["p256", "p384", "p521"] {
        let o = run(
            &fx("model"),
            &format!("mlgate-{c}.sig"),
            &key(&format!("keys/{c}.pub")),
        );
        assert!(o.findings.is_empty(), "{c}: {:?}", o.findings);
    }
    let o = run(
        &fx("single.bin"),
        "mlgate-single.sig",
        &key("keys/p256.pub"),
    );
    assert!(o.findings.is_empty(), "{:?}", o.findings);
    let o = run(&fx("model"), "mlgate-cert.sig", &chain_trust(NOW));
    assert!(o.findings.is_empty(), "{:?}", o.findings);
}
