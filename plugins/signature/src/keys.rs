//! ECDSA public keys (P-256, P-384, P-521) and signature checks.
//!
//! Model signing hashes with the curve's own hash (SHA-256, SHA-384,
//! SHA-512), as model_signing's `get_ec_key_hash` does; cosign hashes with
//! SHA-256 whatever the curve, so a prehash check is offered too.

use p256::pkcs8::DecodePublicKey;
use sha2::{Digest as _, Sha256};
use spki::EncodePublicKey;

/// A trusted ECDSA verifying key.
#[derive(Clone)]
pub enum PublicKey {
    /// NIST P-256 with SHA-256.
    P256(p256::ecdsa::VerifyingKey),
    /// NIST P-384 with SHA-384.
    P384(p384::ecdsa::VerifyingKey),
    /// NIST P-521 with SHA-512.
    P521(p521::ecdsa::VerifyingKey),
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({}, {})", self.curve(), self.hint())
    }
}

impl PublicKey {
    /// Parse a PEM `PUBLIC KEY` (SubjectPublicKeyInfo).
    pub fn from_pem(pem: &str) -> Result<Self, String> {
        if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_pem(pem) {
            return Ok(PublicKey::P256(k));
        }
        if let Ok(k) = p384::ecdsa::VerifyingKey::from_public_key_pem(pem) {
            return Ok(PublicKey::P384(k));
        }
        if let Ok(k) = p521::PublicKey::from_public_key_pem(pem) {
            return p521::ecdsa::VerifyingKey::from_affine(*k.as_affine())
                .map(PublicKey::P521)
                .map_err(|e| e.to_string());
        }
        Err("not a PEM ECDSA P-256/P-384/P-521 public key (SubjectPublicKeyInfo)".into())
    }

    /// Parse a DER SubjectPublicKeyInfo (from a certificate).
    pub fn from_spki_der(der: &[u8]) -> Result<Self, String> {
        if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Ok(PublicKey::P256(k));
        }
        if let Ok(k) = p384::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Ok(PublicKey::P384(k));
        }
        if let Ok(k) = p521::PublicKey::from_public_key_der(der) {
            return p521::ecdsa::VerifyingKey::from_affine(*k.as_affine())
                .map(PublicKey::P521)
                .map_err(|e| e.to_string());
        }
        Err("the key is not ECDSA P-256/P-384/P-521 (RSA and Ed25519 are not supported)".into())
    }

    /// Curve name, for messages.
    pub fn curve(&self) -> &'static str {
        match self {
            PublicKey::P256(_) => "P-256",
            PublicKey::P384(_) => "P-384",
            PublicKey::P521(_) => "P-521",
        }
    }

    /// The PEM model_signing hashes for `publicKey.hint` (cryptography's
    /// `public_bytes(PEM, SubjectPublicKeyInfo)`: 64-column base64, LF).
    pub fn to_pem(&self) -> String {
        let pem = match self {
            PublicKey::P256(k) => k.to_public_key_pem(Default::default()),
            PublicKey::P384(k) => k.to_public_key_pem(Default::default()),
            PublicKey::P521(k) => p521::PublicKey::from_affine(*k.as_affine())
                .map_err(|_| spki::Error::KeyMalformed)
                .and_then(|p| p.to_public_key_pem(Default::default())),
        };
        pem.unwrap_or_default()
    }

    /// model_signing's key hint: hex SHA-256 of [`PublicKey::to_pem`].
    pub fn hint(&self) -> String {
        hex::encode(Sha256::digest(self.to_pem().as_bytes()))
    }

    /// Verify a DER signature over `message`, hashed with the curve's hash.
    pub fn verify(&self, message: &[u8], der_sig: &[u8]) -> bool {
        use ecdsa::signature::Verifier;
        match self {
            PublicKey::P256(k) => p256::ecdsa::Signature::from_der(der_sig)
                .is_ok_and(|s| k.verify(message, &s).is_ok()),
            PublicKey::P384(k) => p384::ecdsa::Signature::from_der(der_sig)
                .is_ok_and(|s| k.verify(message, &s).is_ok()),
            PublicKey::P521(k) => p521::ecdsa::Signature::from_der(der_sig)
                .is_ok_and(|s| k.verify(message, &s).is_ok()),
        }
    }

    /// Verify a DER signature over an already computed digest (cosign blobs).
    pub fn verify_prehash(&self, digest: &[u8], der_sig: &[u8]) -> bool {
        use ecdsa::signature::hazmat::PrehashVerifier;
        match self {
            PublicKey::P256(k) => p256::ecdsa::Signature::from_der(der_sig)
                .is_ok_and(|s| k.verify_prehash(digest, &s).is_ok()),
            PublicKey::P384(k) => p384::ecdsa::Signature::from_der(der_sig)
                .is_ok_and(|s| k.verify_prehash(digest, &s).is_ok()),
            PublicKey::P521(k) => p521::ecdsa::Signature::from_der(der_sig)
                .is_ok_and(|s| k.verify_prehash(digest, &s).is_ok()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> String {
        std::fs::read_to_string(format!(
            "{}/../../tests/fixtures/signature/keys/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn parses_all_three_curves_and_reproduces_pem() {
        for (name, curve) in [
            ("p256.pub", "P-256"),
            ("p384.pub", "P-384"),
            ("p521.pub", "P-521"),
        ] {
            let pem = key(name);
            let k = PublicKey::from_pem(&pem).unwrap();
            assert_eq!(k.curve(), curve);
            // Byte-identical to openssl's PEM, so the hint matches model_signing's.
            assert_eq!(k.to_pem(), pem, "{name}");
        }
    }

    #[test]
    fn rejects_non_keys() {
        assert!(PublicKey::from_pem("hello").is_err());
        assert!(
            PublicKey::from_pem(&key("p256.pem")).is_err(),
            "a private key is not a public key"
        );
    }
}
