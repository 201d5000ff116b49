//! A REAL OpenSSF model-signing keyless bundle: `model_signing` 1.1.0 signed
//! a two-file model with Sigstore production (Fulcio certificate for
//! `stefanb@us.ibm.com` via IBM's OIDC provider, a Rekor v1 `dsse` v0.0.1
//! entry with SET, inclusion proof and checkpoint, and an RFC 3161 timestamp
//! from the production TSA), committed in sigstore/model-transparency's
//! `scripts/tests/v1.1.0-sigstore/` (sources in
//! tests/fixtures/signature/real-sigstore/README.md). Verified offline
//! against the production `trusted_root.json`.

use std::path::{Path, PathBuf};

use mlgate_plugin_signature::config::Config;
use mlgate_plugin_signature::keyless::KeylessPolicy;
use mlgate_plugin_signature::rules::{
    CERT_EXPIRED, DIGEST_MISMATCH, FILE_MISSING, FILE_UNSIGNED, IDENTITY_MISMATCH,
    TIMESTAMP_INVALID, TLOG_INVALID,
};
use mlgate_plugin_signature::verify::{Outcome, Trust, verify_model};
use serde_json::{Value, json};

mod common;
use common::fx;

const ID: &str = "stefanb@us.ibm.com";
const ISSUER: &str = "https://sigstore.verify.ibm.com/oauth2";

fn model() -> PathBuf {
    fx("model-signing-v1.1.0-sigstore")
}

fn trust(root: &str, id: &str, issuer: &str, time: Option<u64>) -> Trust {
    let cfg: Config = serde_json::from_value(json!({"identity": id, "issuer": issuer})).unwrap();
    let text = std::fs::read(fx(root)).unwrap();
    Trust::Keyless(Box::new(KeylessPolicy::new(&text, &cfg, time).unwrap()))
}

fn good() -> Trust {
    trust("trusted_root.json", ID, ISSUER, None)
}

/// Verify `dir` with the bundle changed by `f`.
fn run(dir: &Path, t: &Trust, f: impl Fn(&mut Value)) -> Outcome {
    let mut b: Value =
        serde_json::from_slice(&std::fs::read(model().join("model.sig")).unwrap()).unwrap();
    f(&mut b);
    let text = serde_json::to_vec(&b).unwrap();
    verify_model(dir, "model.sig", &text, t, &[], None).unwrap()
}

fn rules(o: &Outcome) -> Vec<String> {
    o.findings.iter().map(|f| f.rule_id.clone()).collect()
}

#[test]
fn real_model_signing_sigstore_bundle_verifies() {
    let o = run(&model(), &good(), |_| {});
    assert!(o.findings.is_empty(), "{:?}", o.findings);
    assert!(o.signer.contains(ID), "{}", o.signer);
    assert_eq!(
        o.stats.files, 2,
        "signme-1 and signme-2; ignore-me and model.sig ignored"
    );
}

/// A copy of the model in a temp dir, changed by `f`.
fn copy(f: impl Fn(&Path)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for n in ["signme-1", "signme-2", "ignore-me", "model.sig"] {
        std::fs::copy(model().join(n), dir.path().join(n)).unwrap();
    }
    f(dir.path());
    dir
}

#[test]
fn real_model_signing_sigstore_bundle_model_changes() {
    let d = copy(|p| std::fs::write(p.join("signme-2"), "signme-X").unwrap());
    assert_eq!(rules(&run(d.path(), &good(), |_| {})), [DIGEST_MISMATCH]);
    let d = copy(|p| std::fs::remove_file(p.join("signme-1")).unwrap());
    assert_eq!(rules(&run(d.path(), &good(), |_| {})), [FILE_MISSING]);
    let d = copy(|p| std::fs::write(p.join("extra.bin"), "x").unwrap());
    assert_eq!(rules(&run(d.path(), &good(), |_| {})), [FILE_UNSIGNED]);
    // The ignored file may change freely (the signature says so).
    let d = copy(|p| std::fs::write(p.join("ignore-me"), "anything").unwrap());
    assert!(run(d.path(), &good(), |_| {}).findings.is_empty());
}

#[test]
fn real_model_signing_sigstore_bundle_trust_negatives() {
    let m = model();
    let other = trust("trusted_root.json", "someone@us.ibm.com", ISSUER, None);
    assert_eq!(rules(&run(&m, &other, |_| {})), [IDENTITY_MISMATCH]);
    let google = trust("trusted_root.json", ID, "https://accounts.google.com", None);
    assert_eq!(rules(&run(&m, &google, |_| {})), [IDENTITY_MISMATCH]);
    let staging = trust("staging-trusted_root.json", ID, ISSUER, None);
    assert_eq!(rules(&run(&m, &staging, |_| {})), [TLOG_INVALID]);
    // After the 10-minute certificate.
    let late = trust("trusted_root.json", ID, ISSUER, Some(1_760_063_000));
    assert_eq!(rules(&run(&m, &late, |_| {})), [CERT_EXPIRED]);
    // A forged SET.
    let o = run(&m, &good(), |b| {
        b["verificationMaterial"]["tlogEntries"][0]["inclusionPromise"]["signedEntryTimestamp"] =
            b["dsseEnvelope"]["signatures"][0]["sig"].clone()
    });
    assert_eq!(rules(&o), [TLOG_INVALID]);
    // A timestamp from another bundle (the staging DSSE one: another TSA,
    // another signature).
    let other: Value = serde_json::from_slice(
        &std::fs::read(fx("a.dsse.staging-rekor-v2.txt.sigstore.json")).unwrap(),
    )
    .unwrap();
    let o = run(&m, &good(), |b| {
        b["verificationMaterial"]["timestampVerificationData"] =
            other["verificationMaterial"]["timestampVerificationData"].clone()
    });
    assert_eq!(rules(&o), [TIMESTAMP_INVALID]);
}

/// The same model signed by `model_signing` 1.0.1: no RFC 3161 timestamp
/// (the signing time comes from the Rekor SET) and no ignore paths in the
/// signed payload, so `ignore-me` must be ignored by config, as the
/// repository's test script does with `--ignore-paths`.
#[test]
fn real_model_signing_1_0_1_sigstore_bundle_verifies_with_the_set_time() {
    let dir = fx("model-signing-v1.0.1-sigstore");
    let text = std::fs::read(dir.join("model.sig")).unwrap();
    // `model.sig` lies in the model directory and this payload does not
    // ignore it: the gate skips it as the signature input by content (the
    // runner passes its SHA-256).
    use sha2::Digest as _;
    let own = sha2::Sha256::digest(&text);
    let run = |ignores: &[String], t: &Trust| {
        verify_model(&dir, "model.sig", &text, t, ignores, Some(&own[..])).unwrap()
    };
    let ignore = ["ignore-me".to_string()];
    let o = run(&ignore, &good());
    assert!(o.findings.is_empty(), "{:?}", o.findings);
    assert_eq!(o.stats.files, 2);
    // Without the config ignore, the extra file is unsigned.
    assert_eq!(rules(&run(&[], &good())), [FILE_UNSIGNED]);
    // The certificate lived 10 minutes from 2025-10-07 15:33:47 UTC.
    let late = trust("trusted_root.json", ID, ISSUER, Some(1_759_852_000));
    assert_eq!(rules(&run(&ignore, &late)), [CERT_EXPIRED]);
}
