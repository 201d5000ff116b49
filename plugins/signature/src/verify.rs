//! Verification of a model signature bundle, end to end: bundle → signer key
//! (trusted key, certificate chain or keyless) → every DSSE signature over the
//! PAE → in-toto statement → model on disk. Fail-closed: anything that cannot
//! be parsed or is not supported is a critical finding, never a pass.

use std::path::Path;

use mlgate_plugin_sdk::{Finding, GateError};

use crate::bundle::{self, Bundle, BundleError, Content, IN_TOTO_PAYLOAD_TYPE};
use crate::compare::{self, Stats};
use crate::keyless::{self, KeylessPolicy};
use crate::keys::PublicKey;
use crate::rules::{self, finding};
use crate::statement;
use crate::x509;

/// What the signer must be trusted by.
pub enum Trust {
    /// A trusted public key (model_signing `key` mode, cosign `--key`).
    Key(PublicKey),
    /// Trusted root and intermediate certificates (DER) for certificate mode,
    /// and the time at which the chain must be valid.
    Certificates {
        /// Trust anchors and intermediates, DER.
        pool: Vec<Vec<u8>>,
        /// Unix seconds at which every certificate must be valid.
        time: u64,
    },
    /// Sigstore keyless against a trusted root and an identity policy.
    Keyless(Box<KeylessPolicy>),
}

/// The result of a verification that could run.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Everything found (empty = verified).
    pub findings: Vec<Finding>,
    /// Files and bytes checked.
    pub stats: Stats,
    /// Who signed, when known (key curve, certificate subject, identity).
    pub signer: String,
}

impl Outcome {
    fn one(f: impl Into<Box<Finding>>) -> Self {
        Outcome {
            findings: vec![*f.into()],
            ..Default::default()
        }
    }
}

/// Parse a bundle, mapping errors to findings on the signature file.
pub fn parse_bundle(sig_path: &str, text: &[u8]) -> Result<Bundle, Box<Finding>> {
    bundle::parse(text).map_err(|e| {
        Box::new(match e {
            BundleError::Malformed(m) => finding(
                rules::BUNDLE_INVALID,
                sig_path,
                "bundle",
                format!("the signature file is unusable: {m}"),
            ),
            BundleError::MediaType(t) => finding(
                rules::UNSUPPORTED_MEDIA_TYPE,
                sig_path,
                &t,
                format!("bundle media type `{t}` is not a Sigstore bundle v0.1, v0.2 or v0.3"),
            ),
        })
    })
}

/// Find the key that must have signed, checking the bundle's verification
/// material against the trust given. Errors are findings.
pub fn signer_key(
    b: &Bundle,
    trust: &Trust,
    sig_path: &str,
    signed: &[u8],
) -> Result<(PublicKey, String), Box<Finding>> {
    match trust {
        Trust::Key(key) => {
            if let Some(hint) = &b.material.key_hint
                && *hint != key.hint()
            {
                return Err(Box::new(finding(
                    rules::UNTRUSTED_KEY,
                    sig_path,
                    hint,
                    format!(
                        "the bundle was made with another key (hint {hint}), not the trusted {} public key (hint {})",
                        key.curve(),
                        key.hint()
                    ),
                )));
            }
            Ok((
                key.clone(),
                format!("{} public key {}", key.curve(), &key.hint()[..16]),
            ))
        }
        Trust::Certificates { pool, time } => {
            x509::verify_chain(&b.material.certificates, pool, *time)
                .map(|leaf| (leaf.key, leaf.subject))
                .map_err(|e| Box::new(finding(e.rule, sig_path, e.rule, e.message)))
        }
        Trust::Keyless(policy) => keyless::verify(b, policy, signed)
            .map(|leaf| (leaf.key, leaf.subject))
            .map_err(|e| Box::new(finding(e.rule, sig_path, e.rule, e.message))),
    }
}

/// Verify the model at `model` against the bundle at `sig_path` (already read
/// into `text`). `Err` only when the gate cannot do its job (I/O).
pub fn verify_model(
    model: &Path,
    sig_path: &str,
    text: &[u8],
    trust: &Trust,
    extra_ignores: &[String],
    signature_sha256: Option<&[u8]>,
) -> Result<Outcome, GateError> {
    let b = match parse_bundle(sig_path, text) {
        Ok(b) => b,
        Err(f) => return Ok(Outcome::one(f)),
    };
    let Content::Dsse(env) = &b.content else {
        return crate::cosign::verify_bundle(model, sig_path, &b, trust);
    };
    let (key, signer) = match signer_key(&b, trust, sig_path, &env.payload) {
        Ok(k) => k,
        Err(f) => return Ok(Outcome::one(f)),
    };
    let pae = bundle::pae(&env.payload_type, &env.payload);
    for (i, sig) in env.signatures.iter().enumerate() {
        if !key.verify(&pae, sig) {
            let which = if env.signatures.len() > 1 {
                format!("signature {} of {}", i + 1, env.signatures.len())
            } else {
                "the signature".into()
            };
            return Ok(Outcome::one(finding(
                rules::BAD_SIGNATURE,
                sig_path,
                &format!("sig{i}"),
                format!(
                    "{which} does not verify with the {signer}: the signed statement was altered or signed by another key"
                ),
            )));
        }
    }
    if env.payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Ok(Outcome::one(finding(
            rules::UNSUPPORTED,
            sig_path,
            &env.payload_type,
            format!(
                "DSSE payload type `{}` is not {IN_TOTO_PAYLOAD_TYPE}",
                env.payload_type
            ),
        )));
    }
    let manifest = match statement::parse(&env.payload) {
        Ok(m) => m,
        Err(e) => return Ok(Outcome::one(finding(e.rule, sig_path, e.rule, e.message))),
    };
    let (findings, stats) = compare::compare(model, &manifest, extra_ignores, signature_sha256)?;
    Ok(Outcome {
        findings,
        stats,
        signer,
    })
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
