//! The Sigstore bundle (protobuf-specs JSON form, media types v0.1 to v0.3)
//! and the DSSE envelope inside it, parsed strictly: a field this gate relies
//! on that is missing or malformed is an error, never a default.
//!
//! See <https://github.com/sigstore/protobuf-specs> (`sigstore_bundle.proto`)
//! and <https://github.com/secure-systems-lab/dsse/blob/v1.0.0/protocol.md>.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

/// Largest signature file read (a bundle is a few KiB; a manifest of 100 000
/// files is a few MiB).
pub const MAX_BUNDLE_BYTES: u64 = 64 << 20;

/// The media types this gate accepts, with the bundle version each means.
pub const MEDIA_TYPES: &[(&str, BundleVersion)] = &[
    (
        "application/vnd.dev.sigstore.bundle+json;version=0.1",
        BundleVersion::V01,
    ),
    (
        "application/vnd.dev.sigstore.bundle+json;version=0.2",
        BundleVersion::V02,
    ),
    (
        "application/vnd.dev.sigstore.bundle+json;version=0.3",
        BundleVersion::V03,
    ),
    (
        "application/vnd.dev.sigstore.bundle.v0.3+json",
        BundleVersion::V03,
    ),
];

/// The payload type of an in-toto statement in DSSE.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// Bundle format version (decides which verification material is allowed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleVersion {
    /// v0.1: tlog entries need an inclusion promise (SET).
    V01,
    /// v0.2: tlog entries need an inclusion proof.
    V02,
    /// v0.3: adds the single `certificate` field.
    V03,
}

/// Why a bundle could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BundleError {
    /// Not JSON or not the bundle shape.
    Malformed(String),
    /// A media type outside [`MEDIA_TYPES`].
    MediaType(String),
}

/// A parsed bundle.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// Version from the media type.
    pub version: BundleVersion,
    /// Key, certificate(s) and transparency-log entries.
    pub material: Material,
    /// What was signed.
    pub content: Content,
}

/// The signed content: a DSSE envelope or a bare message signature.
#[derive(Debug, Clone)]
pub enum Content {
    /// DSSE envelope (model signing).
    Dsse(Envelope),
    /// A signature over a message digest (cosign blob bundles).
    Message {
        /// Digest algorithm as named by the bundle (`SHA2_256`).
        algorithm: String,
        /// The digest of the signed blob.
        digest: Vec<u8>,
        /// DER ECDSA signature over the blob.
        signature: Vec<u8>,
    },
}

/// A DSSE envelope with its payload decoded.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// `payloadType`.
    pub payload_type: String,
    /// Decoded payload bytes (what PAE covers).
    pub payload: Vec<u8>,
    /// Decoded signatures (all must verify).
    pub signatures: Vec<Vec<u8>>,
    /// Each signature's `keyid` (empty when absent).
    pub keyids: Vec<String>,
}

/// The bundle's verification material.
#[derive(Debug, Clone, Default)]
pub struct Material {
    /// `publicKey.hint` (model_signing: hex SHA-256 of the PEM public key).
    pub key_hint: Option<String>,
    /// DER certificates, leaf first.
    pub certificates: Vec<Vec<u8>>,
    /// Transparency-log entries as raw JSON (checked by the keyless module).
    pub tlog_entries: Vec<serde_json::Value>,
    /// RFC 3161 signed timestamps (DER), from
    /// `timestampVerificationData.rfc3161Timestamps`.
    pub rfc3161: Vec<Vec<u8>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBundle {
    media_type: String,
    verification_material: RawMaterial,
    dsse_envelope: Option<RawEnvelope>,
    message_signature: Option<RawMessage>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMaterial {
    public_key: Option<RawKey>,
    x509_certificate_chain: Option<RawChain>,
    certificate: Option<RawCert>,
    #[serde(default)]
    tlog_entries: Vec<serde_json::Value>,
    timestamp_verification_data: Option<RawTimestamps>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTimestamps {
    #[serde(default)]
    rfc3161_timestamps: Vec<RawTimestamp>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTimestamp {
    signed_timestamp: String,
}

#[derive(Deserialize)]
struct RawKey {
    hint: Option<String>,
}

#[derive(Deserialize)]
struct RawChain {
    certificates: Vec<RawCert>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCert {
    raw_bytes: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEnvelope {
    payload: String,
    payload_type: String,
    signatures: Vec<RawSig>,
}

#[derive(Deserialize)]
struct RawSig {
    sig: String,
    #[serde(default)]
    keyid: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMessage {
    message_digest: Option<RawDigest>,
    signature: String,
}

#[derive(Deserialize)]
struct RawDigest {
    algorithm: String,
    digest: String,
}

/// Decode standard base64 (protobuf JSON `bytes`), naming the field on error.
pub fn b64(field: &str, text: &str) -> Result<Vec<u8>, BundleError> {
    STANDARD
        .decode(text.trim())
        .map_err(|e| BundleError::Malformed(format!("`{field}` is not base64: {e}")))
}

/// Parse a bundle from its JSON text.
pub fn parse(text: &[u8]) -> Result<Bundle, BundleError> {
    let raw: RawBundle = serde_json::from_slice(text)
        .map_err(|e| BundleError::Malformed(format!("not a Sigstore bundle: {e}")))?;
    let version = MEDIA_TYPES
        .iter()
        .find(|(m, _)| *m == raw.media_type)
        .map(|(_, v)| *v)
        .ok_or_else(|| BundleError::MediaType(raw.media_type.clone()))?;
    let m = raw.verification_material;
    let mut certificates = Vec::new();
    if let Some(chain) = m.x509_certificate_chain {
        for c in chain.certificates {
            certificates.push(b64("x509CertificateChain.certificates", &c.raw_bytes)?);
        }
    }
    if let Some(c) = m.certificate {
        if !certificates.is_empty() {
            return Err(BundleError::Malformed(
                "both `certificate` and `x509CertificateChain` are set".into(),
            ));
        }
        certificates.push(b64("certificate.rawBytes", &c.raw_bytes)?);
    }
    let mut rfc3161 = Vec::new();
    for t in m
        .timestamp_verification_data
        .map(|t| t.rfc3161_timestamps)
        .unwrap_or_default()
    {
        rfc3161.push(b64(
            "rfc3161Timestamps.signedTimestamp",
            &t.signed_timestamp,
        )?);
    }
    let material = Material {
        key_hint: m.public_key.and_then(|k| k.hint).filter(|h| !h.is_empty()),
        certificates,
        tlog_entries: m.tlog_entries,
        rfc3161,
    };
    let content = match (raw.dsse_envelope, raw.message_signature) {
        (Some(env), None) => {
            let mut signatures = Vec::new();
            let mut keyids = Vec::new();
            for s in env.signatures {
                signatures.push(b64("dsseEnvelope.signatures.sig", &s.sig)?);
                keyids.push(s.keyid.unwrap_or_default());
            }
            if signatures.is_empty() {
                return Err(BundleError::Malformed(
                    "the DSSE envelope has no signature".into(),
                ));
            }
            Content::Dsse(Envelope {
                payload_type: env.payload_type,
                payload: b64("dsseEnvelope.payload", &env.payload)?,
                signatures,
                keyids,
            })
        }
        (None, Some(msg)) => {
            let (algorithm, digest) = match msg.message_digest {
                Some(d) => (d.algorithm, b64("messageDigest.digest", &d.digest)?),
                None => (String::new(), Vec::new()),
            };
            Content::Message {
                algorithm,
                digest,
                signature: b64("messageSignature.signature", &msg.signature)?,
            }
        }
        _ => {
            return Err(BundleError::Malformed(
                "a bundle needs exactly one of `dsseEnvelope` and `messageSignature`".into(),
            ));
        }
    };
    Ok(Bundle {
        version,
        material,
        content,
    })
}

/// DSSE v1 pre-authentication encoding: what the signature covers.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/../../tests/fixtures/signature/sigs/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn parses_model_signing_key_bundle() {
        let b = parse(&fixture("key-p256.sig")).unwrap();
        assert_eq!(b.version, BundleVersion::V03);
        assert_eq!(b.material.key_hint.as_deref().map(str::len), Some(64));
        let Content::Dsse(env) = b.content else {
            panic!("not DSSE")
        };
        assert_eq!(env.payload_type, IN_TOTO_PAYLOAD_TYPE);
        assert_eq!(env.signatures.len(), 1);
        assert_eq!(env.signatures[0][0], 0x30, "DER signature");
    }

    #[test]
    fn parses_certificate_chain() {
        let b = parse(&fixture("cert.sig")).unwrap();
        assert_eq!(b.material.certificates.len(), 2);
    }

    #[test]
    fn rejects_unknown_media_type_and_garbage() {
        assert!(matches!(
            parse(&fixture("tampered-mediatype.sig")),
            Err(BundleError::MediaType(m)) if m.contains("v9")
        ));
        assert!(matches!(parse(b"{}"), Err(BundleError::Malformed(_))));
        assert!(matches!(parse(b"\x00\xff"), Err(BundleError::Malformed(_))));
    }

    #[test]
    fn pae_matches_spec_example() {
        // DSSE protocol.md example.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }
}
