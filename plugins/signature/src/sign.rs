//! The signer for `mlgate sign` (runs natively on the host, not in the
//! sandbox): hash a model file or directory as model_signing v1.0 does
//! (files in sorted order, SHA-256, the default `.git*` ignores at the model
//! root), wrap the in-toto statement in a DSSE envelope signed with an ECDSA
//! key, and return the Sigstore bundle v0.3 JSON that `model_signing verify
//! key|certificate` and this gate accept.
//!
//! ```no_run
//! let key = std::fs::read_to_string("release.pem").unwrap();
//! let bundle = mlgate_plugin_signature::sign::sign_model(
//!     std::path::Path::new("models/"), &key, &["model.sig".to_string()]).unwrap();
//! std::fs::write("models/model.sig", bundle).unwrap();
//! ```

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ecdsa::signature::Signer as _;
use p256::pkcs8::DecodePrivateKey;
use serde_json::json;

use crate::bundle::{self, IN_TOTO_PAYLOAD_TYPE};
use crate::keys::PublicKey;
use crate::scan;
use crate::statement::{self, HashKind, Manifest, Method, Resource, Serialization};

/// The bundle media type written (what model_signing 1.x writes and accepts).
pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// A private signing key.
enum SigningKey {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    P521(p521::ecdsa::SigningKey),
}

impl SigningKey {
    /// Parse an unencrypted PEM key: PKCS#8 `PRIVATE KEY` or SEC1 `EC PRIVATE KEY`.
    fn from_pem(pem: &str) -> Result<Self, String> {
        if let Ok(k) =
            p256::SecretKey::from_pkcs8_pem(pem).or_else(|_| p256::SecretKey::from_sec1_pem(pem))
        {
            return Ok(SigningKey::P256(k.into()));
        }
        if let Ok(k) =
            p384::SecretKey::from_pkcs8_pem(pem).or_else(|_| p384::SecretKey::from_sec1_pem(pem))
        {
            return Ok(SigningKey::P384(k.into()));
        }
        if let Ok(k) =
            p521::SecretKey::from_pkcs8_pem(pem).or_else(|_| p521::SecretKey::from_sec1_pem(pem))
        {
            return p521::ecdsa::SigningKey::from_bytes(&k.to_bytes())
                .map(SigningKey::P521)
                .map_err(|e| e.to_string());
        }
        Err("not an unencrypted PEM ECDSA P-256/P-384/P-521 private key".into())
    }

    fn public(&self) -> PublicKey {
        match self {
            SigningKey::P256(k) => PublicKey::P256(*k.verifying_key()),
            SigningKey::P384(k) => PublicKey::P384(*k.verifying_key()),
            SigningKey::P521(k) => PublicKey::P521(p521::ecdsa::VerifyingKey::from(k)),
        }
    }

    /// DER signature over `msg` with the curve's hash (as model_signing).
    fn sign_der(&self, msg: &[u8]) -> Vec<u8> {
        match self {
            SigningKey::P256(k) => {
                let s: p256::ecdsa::Signature = k.sign(msg);
                s.to_der().as_bytes().to_vec()
            }
            SigningKey::P384(k) => {
                let s: p384::ecdsa::Signature = k.sign(msg);
                s.to_der().as_bytes().to_vec()
            }
            SigningKey::P521(k) => {
                let s: p521::ecdsa::Signature = k.sign(msg);
                s.to_der().as_bytes().to_vec()
            }
        }
    }
}

/// Build the v1.0 manifest of the model at `model` (files, SHA-256), leaving
/// out `ignore_paths` (model-root-relative) and the default `.git*` entries.
pub fn manifest(model: &Path, ignore_paths: &[String]) -> Result<Manifest, String> {
    let listing = scan::list(model)?;
    if let Some(l) = listing.links.first() {
        return Err(format!(
            "{}: symbolic links are not signed; replace the link by its file",
            l.path.display()
        ));
    }
    let mut ignores: Vec<String> = Vec::new();
    if !listing.single_file {
        for i in ignore_paths {
            let t = i.trim_end_matches('/');
            if !scan::is_normalised(t) {
                return Err(format!(
                    "ignore path `{i}` must be a normalised path relative to the model root"
                ));
            }
            ignores.push(t.to_string());
        }
        ignores.extend(scan::DEFAULT_GIT_IGNORES.iter().map(|s| s.to_string()));
    }
    let files: Vec<_> = listing
        .files
        .into_iter()
        .filter(|f| !scan::is_ignored(&f.rel, &ignores))
        .collect();
    let jobs: Vec<_> = files
        .iter()
        .map(|f| mlgate_plugin_sdk::host::DigestJob {
            path: f.path.display().to_string(),
            algorithm: mlgate_plugin_sdk::DigestAlgorithm::Sha256,
            range: None,
        })
        .collect();
    let mut resources = Vec::with_capacity(files.len());
    for (f, d) in files
        .iter()
        .zip(mlgate_plugin_sdk::host::digest_batch(&jobs))
    {
        resources.push(Resource {
            name: f.rel.clone(),
            digest: d?,
        });
    }
    let canonical = std::fs::canonicalize(model).unwrap_or_else(|_| model.to_path_buf());
    let model_name = canonical
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    Ok(Manifest {
        model_name,
        serialization: Serialization {
            method: Method::Files,
            hash: HashKind::Sha256,
            allow_symlinks: false,
            ignore_paths: ignores,
        },
        resources,
    })
}

/// Sign the model at `model` with the PEM private key `key_pem` (key mode:
/// the bundle names the key by model_signing's hint). Returns the bundle JSON.
pub fn sign_model(model: &Path, key_pem: &str, ignore_paths: &[String]) -> Result<String, String> {
    sign_inner(model, key_pem, None, ignore_paths)
}

/// Sign in certificate mode: `chain_pem` holds the signing certificate first,
/// then the intermediates (the root may be left out). The certificate's key
/// must be the private key's pair.
pub fn sign_model_with_certificate(
    model: &Path,
    key_pem: &str,
    chain_pem: &[u8],
    ignore_paths: &[String],
) -> Result<String, String> {
    sign_inner(model, key_pem, Some(chain_pem), ignore_paths)
}

fn sign_inner(
    model: &Path,
    key_pem: &str,
    chain_pem: Option<&[u8]>,
    ignore_paths: &[String],
) -> Result<String, String> {
    let key = SigningKey::from_pem(key_pem)?;
    let material = match chain_pem {
        None => json!({"publicKey": {"hint": key.public().hint()}, "tlogEntries": []}),
        Some(pem) => {
            let certs = crate::x509::pem_pool(pem)?;
            let leaf = cert_key_pem(&certs[0])?;
            if leaf != key.public().to_pem() {
                return Err(
                    "the signing certificate's public key is not the private key's pair".into(),
                );
            }
            let list: Vec<_> = certs
                .iter()
                .map(|c| json!({"rawBytes": STANDARD.encode(c)}))
                .collect();
            json!({"x509CertificateChain": {"certificates": list}, "tlogEntries": []})
        }
    };
    let m = manifest(model, ignore_paths)?;
    let payload = serde_json::to_vec(&statement::to_statement(&m)).map_err(|e| e.to_string())?;
    let sig = key.sign_der(&bundle::pae(IN_TOTO_PAYLOAD_TYPE, &payload));
    let b = json!({
        "mediaType": BUNDLE_MEDIA_TYPE,
        "verificationMaterial": material,
        "dsseEnvelope": {
            "payload": STANDARD.encode(&payload),
            "payloadType": IN_TOTO_PAYLOAD_TYPE,
            "signatures": [{"sig": STANDARD.encode(&sig), "keyid": ""}],
        },
    });
    serde_json::to_string_pretty(&b).map_err(|e| e.to_string())
}

/// The PEM of a DER certificate's public key, to compare key pairs.
fn cert_key_pem(der: &[u8]) -> Result<String, String> {
    use x509_cert::der::{Decode, Encode};
    let c = x509_cert::Certificate::from_der(der).map_err(|e| e.to_string())?;
    let spki = c
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| e.to_string())?;
    Ok(PublicKey::from_spki_der(&spki)?.to_pem())
}

#[cfg(test)]
#[path = "sign_tests.rs"]
mod tests;
