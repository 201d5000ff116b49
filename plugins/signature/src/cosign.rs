//! Cosign blob signatures for a single-file model: the `cosign sign-blob
//! --key` output (base64 of an ASN.1 DER ECDSA signature over the SHA-256 of
//! the file), cosign's legacy JSON bundle (`base64Signature`), and Sigstore
//! bundles with a `messageSignature`. The file digest comes from the host.
//!
//! Cosign hashes with SHA-256 whatever the curve, so the check is a prehash
//! verification. Transparency-log entries are not required in key mode (the
//! sandbox is offline: like `cosign verify-blob --insecure-ignore-tlog`).

use std::path::Path;

use mlgate_plugin_sdk::host;
use mlgate_plugin_sdk::{DigestAlgorithm, GateError};

use crate::bundle::{self, Bundle, Content};
use crate::compare::Stats;
use crate::keys::PublicKey;
use crate::rules::{self, finding};
use crate::verify::{Outcome, Trust, signer_key};

fn file_digest(model: &Path) -> Result<(Vec<u8>, u64), GateError> {
    let meta = std::fs::metadata(model).map_err(|e| GateError::io(model.display(), e))?;
    if !meta.is_file() {
        return Err(GateError::input(format!(
            "{}: a cosign blob signature covers one file, but `model` is a directory",
            model.display()
        )));
    }
    let path = model.display().to_string();
    let digest = host::digest(&path, DigestAlgorithm::Sha256)
        .map_err(|e| GateError::new("io", format!("cannot hash {path}: {e}")))?;
    Ok((digest, meta.len()))
}

fn check(
    model: &Path,
    sig_path: &str,
    key: &PublicKey,
    signer: String,
    sig: &[u8],
    digest: &[u8],
    size: u64,
) -> Outcome {
    let path = model.display().to_string();
    let mut out = Outcome {
        signer,
        stats: Stats {
            files: 1,
            bytes: size,
        },
        ..Default::default()
    };
    if !key.verify_prehash(digest, sig) {
        out.findings.push(finding(rules::BAD_SIGNATURE, sig_path, &path, format!(
            "the cosign signature does not verify for `{path}` (SHA-256 {}) with the {}: the file changed or another key signed it",
            hex::encode(digest), out.signer)));
    }
    out
}

/// Verify a detached `cosign sign-blob` signature (base64 DER, or cosign's
/// legacy JSON bundle) with a trusted key.
pub fn verify_blob(
    model: &Path,
    sig_path: &str,
    text: &[u8],
    key: &PublicKey,
) -> Result<Outcome, GateError> {
    let trimmed = String::from_utf8_lossy(text).trim().to_string();
    let b64 = if trimmed.starts_with('{') {
        let v: serde_json::Value = serde_json::from_str(&trimmed).unwrap_or_default();
        match v.get("base64Signature").and_then(|s| s.as_str()) {
            Some(s) => s.to_string(),
            None => {
                return Ok(Outcome {
                    findings: vec![finding(
                        rules::BUNDLE_INVALID,
                        sig_path,
                        "cosign",
                        "the signature file is JSON but neither a Sigstore bundle nor a cosign bundle (`base64Signature`)",
                    )],
                    ..Default::default()
                });
            }
        }
    } else {
        trimmed
    };
    let Ok(sig) = bundle::b64("signature", &b64) else {
        return Ok(Outcome {
            findings: vec![finding(
                rules::BUNDLE_INVALID,
                sig_path,
                "cosign",
                "the signature file is neither a JSON bundle nor a base64 cosign signature",
            )],
            ..Default::default()
        });
    };
    let (digest, size) = file_digest(model)?;
    Ok(check(
        model,
        sig_path,
        key,
        format!("{} public key", key.curve()),
        &sig,
        &digest,
        size,
    ))
}

/// Verify a Sigstore bundle whose content is a `messageSignature` over a
/// single file (what `cosign sign-blob --bundle --new-bundle-format` writes).
pub fn verify_bundle(
    model: &Path,
    sig_path: &str,
    b: &Bundle,
    trust: &Trust,
) -> Result<Outcome, GateError> {
    let Content::Message {
        algorithm,
        digest: signed_digest,
        signature,
    } = &b.content
    else {
        return Err(GateError::new("internal", "not a message-signature bundle"));
    };
    let (digest, size) = file_digest(model)?;
    let path = model.display().to_string();
    if !signed_digest.is_empty() {
        if algorithm != "SHA2_256" {
            return Ok(Outcome {
                findings: vec![finding(
                    rules::UNSUPPORTED,
                    sig_path,
                    algorithm,
                    format!("message digest algorithm `{algorithm}` is not supported (SHA2_256)"),
                )],
                ..Default::default()
            });
        }
        if *signed_digest != digest {
            return Ok(Outcome {
                findings: vec![finding(
                    rules::DIGEST_MISMATCH,
                    &path,
                    &path,
                    format!(
                        "`{path}` changed after signing: SHA-256 is {}, the bundle says {}",
                        hex::encode(&digest),
                        hex::encode(signed_digest)
                    ),
                )],
                ..Default::default()
            });
        }
    }
    let (key, signer) = match signer_key(b, trust, sig_path, &digest) {
        Ok(k) => k,
        Err(f) => {
            return Ok(Outcome {
                findings: vec![*f],
                ..Default::default()
            });
        }
    };
    Ok(check(
        model, sig_path, &key, signer, signature, &digest, size,
    ))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn fx(p: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/signature")
            .join(p)
    }

    fn key(name: &str) -> PublicKey {
        PublicKey::from_pem(&std::fs::read_to_string(fx(name)).unwrap()).unwrap()
    }

    #[test]
    fn openssl_made_cosign_signature_verifies() {
        let sig = std::fs::read(fx("cosign/blob.sig")).unwrap();
        let out = verify_blob(&fx("cosign/blob.bin"), "sig", &sig, &key("keys/p256.pub")).unwrap();
        assert!(out.findings.is_empty(), "{:?}", out.findings);
        // P-384 key, SHA-256 over the file: what cosign does for any curve.
        let p384 = std::fs::read(fx("cosign/blob-p384-sha256.sig")).unwrap();
        let out = verify_blob(&fx("cosign/blob.bin"), "sig", &p384, &key("keys/p384.pub")).unwrap();
        assert!(out.findings.is_empty(), "{:?}", out.findings);
    }

    #[test]
    fn wrong_key_or_changed_file_fails() {
        let sig = std::fs::read(fx("cosign/blob.sig")).unwrap();
        let out = verify_blob(&fx("cosign/blob.bin"), "sig", &sig, &key("keys/other.pub")).unwrap();
        assert_eq!(out.findings[0].rule_id, rules::BAD_SIGNATURE);
        let out =
            verify_blob(&fx("model/config.json"), "sig", &sig, &key("keys/p256.pub")).unwrap();
        assert_eq!(out.findings[0].rule_id, rules::BAD_SIGNATURE);
        let out =
            verify_blob(&fx("cosign/blob.bin"), "sig", b"%%%", &key("keys/p256.pub")).unwrap();
        assert_eq!(out.findings[0].rule_id, rules::BUNDLE_INVALID);
    }

    #[test]
    fn message_signature_bundles_and_legacy_cosign_bundles() {
        use base64::Engine as _;
        use sha2::Digest as _;
        let sig = std::fs::read_to_string(fx("cosign/blob.sig")).unwrap();
        let blob = std::fs::read(fx("cosign/blob.bin")).unwrap();
        let digest = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&blob));
        let bundle = serde_json::json!({
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {"publicKey": {"hint": ""}, "tlogEntries": []},
            "messageSignature": {"messageDigest": {"algorithm": "SHA2_256", "digest": digest}, "signature": sig.trim()},
        });
        let text = serde_json::to_vec(&bundle).unwrap();
        let trust = Trust::Key(key("keys/p256.pub"));
        let out =
            crate::verify::verify_model(&fx("cosign/blob.bin"), "b", &text, &trust, &[], None)
                .unwrap();
        assert!(out.findings.is_empty(), "{:?}", out.findings);
        let out =
            crate::verify::verify_model(&fx("single.bin"), "b", &text, &trust, &[], None).unwrap();
        assert!(out.findings.is_empty(), "same bytes: {:?}", out.findings);
        let out =
            crate::verify::verify_model(&fx("model/config.json"), "b", &text, &trust, &[], None)
                .unwrap();
        assert_eq!(out.findings[0].rule_id, rules::DIGEST_MISMATCH);
        let legacy = serde_json::json!({"base64Signature": sig.trim(), "cert": ""});
        let out = verify_blob(
            &fx("cosign/blob.bin"),
            "b",
            &serde_json::to_vec(&legacy).unwrap(),
            &key("keys/p256.pub"),
        )
        .unwrap();
        assert!(out.findings.is_empty(), "{:?}", out.findings);
    }
}
