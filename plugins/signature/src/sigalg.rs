//! Signature checks by algorithm identifier, for X.509 certificates and CMS
//! signers (RFC 3161 timestamp authorities): ECDSA with SHA-2, and RSA
//! (PKCS#1 v1.5 with SHA-256/384/512, RSASSA-PSS with MGF1 over the same
//! SHA-2 hash). RSA keys must have 2048 to 8192 bits.
//!
//! Everything arrives as DER byte slices from hostile input: parse failures
//! and unsupported parameters are errors, never panics.

use rsa::{BigUint, Pss, RsaPublicKey};
use sha2::{Digest as _, Sha256, Sha384, Sha512};
use spki::SubjectPublicKeyInfoRef;
use x509_cert::der::Decode;

use crate::keys::PublicKey;

/// Smallest RSA modulus accepted (bits).
pub const MIN_RSA_BITS: usize = 2048;
/// Largest RSA modulus accepted (bits): bounds the verification cost.
pub const MAX_RSA_BITS: usize = 8192;

const OID_SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
const OID_SHA384: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02];
const OID_SHA512: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03];
const OID_ECDSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
const OID_ECDSA_SHA384: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03];
const OID_ECDSA_SHA512: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04];
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const PKCS1: [u8; 8] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01];
const RSA_ENCRYPTION: u8 = 1;
const MGF1: u8 = 8;
const RSASSA_PSS: u8 = 10;
const SHA256_RSA: u8 = 11;
const SHA384_RSA: u8 = 12;
const SHA512_RSA: u8 = 13;

/// Hash `data` with the SHA-2 function named by `oid` (DER OID content).
pub fn digest(oid: &[u8], data: &[u8]) -> Option<Vec<u8>> {
    Some(match oid {
        OID_SHA256 => Sha256::digest(data).to_vec(),
        OID_SHA384 => Sha384::digest(data).to_vec(),
        OID_SHA512 => Sha512::digest(data).to_vec(),
        _ => return None,
    })
}

/// The PKCS#1 algorithm number (`1.2.840.113549.1.1.N`) of an OID, if any.
fn pkcs1_arc(oid: &[u8]) -> Option<u8> {
    match oid {
        [rest @ .., n] if rest == PKCS1 => Some(*n),
        _ => None,
    }
}

/// One DER element as (tag, content, rest), read by [`crate::tsa_der::read`].
pub(crate) fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (t, rest) = crate::tsa_der::read(input)?;
    Some((t.tag, t.content, rest))
}

/// The hash OID inside an AlgorithmIdentifier's content: the OID, then
/// absent or NULL parameters, nothing else.
pub(crate) fn alg_oid(content: &[u8]) -> Option<&[u8]> {
    match tlv(content)? {
        (0x06, oid, [] | [0x05, 0x00]) => Some(oid),
        _ => None,
    }
}

/// RSASSA-PSS-params (RFC 4055): hash, MGF1 with the same hash, salt
/// length, trailer 1. SHA-1 (the default) is refused.
fn pss_params(params: &[u8]) -> Result<(&[u8], usize), String> {
    let bad = || "the RSASSA-PSS parameters are malformed".to_string();
    let (tag, mut fields, _) = tlv(params).ok_or_else(bad)?;
    if tag != 0x30 {
        return Err(bad());
    }
    let (mut hash, mut mgf_hash, mut salt) = (None, None, 20usize);
    while !fields.is_empty() {
        let (tag, content, rest) = tlv(fields).ok_or_else(bad)?;
        fields = rest;
        let (inner_tag, inner, _) = tlv(content).ok_or_else(bad)?;
        match tag {
            0xa0 if inner_tag == 0x30 => hash = Some(alg_oid(inner).ok_or_else(bad)?),
            0xa1 if inner_tag == 0x30 => {
                let (t, oid, rest) = tlv(inner).ok_or_else(bad)?;
                if t != 0x06 || pkcs1_arc(oid) != Some(MGF1) {
                    return Err("RSASSA-PSS with a mask function other than MGF1".into());
                }
                let (t, alg, _) = tlv(rest).ok_or_else(bad)?;
                if t != 0x30 {
                    return Err(bad());
                }
                mgf_hash = Some(alg_oid(alg).ok_or_else(bad)?);
            }
            0xa2 if inner_tag == 0x02 => {
                if inner.is_empty() || inner.len() > 2 || inner[0] & 0x80 != 0 {
                    return Err("the RSASSA-PSS salt length is out of range".into());
                }
                salt = inner.iter().fold(0usize, |a, b| (a << 8) | *b as usize);
            }
            0xa3 if inner_tag == 0x02 => {
                if inner != [1] {
                    return Err("the RSASSA-PSS trailer field is not 1".into());
                }
            }
            _ => return Err(bad()),
        }
    }
    let hash = hash.ok_or("RSASSA-PSS with SHA-1 (the default hash) is not accepted")?;
    if mgf_hash != Some(hash) {
        return Err("RSASSA-PSS whose MGF1 hash differs from its message hash".into());
    }
    Ok((hash, salt))
}

/// Parse an RSA SubjectPublicKeyInfo, enforcing the modulus size bounds.
pub fn rsa_key(spki_der: &[u8]) -> Result<RsaPublicKey, String> {
    let info = SubjectPublicKeyInfoRef::from_der(spki_der)
        .map_err(|e| format!("the public key does not parse: {e}"))?;
    if pkcs1_arc(info.algorithm.oid.as_bytes()) != Some(RSA_ENCRYPTION) {
        return Err("the key is not an RSA (rsaEncryption) key".into());
    }
    let bits = info
        .subject_public_key
        .as_bytes()
        .ok_or("the RSA key bit string is not byte-aligned")?;
    let key = rsa::pkcs1::RsaPublicKey::from_der(bits)
        .map_err(|e| format!("the RSA key does not parse: {e}"))?;
    let n = BigUint::from_bytes_be(key.modulus.as_bytes());
    let e = BigUint::from_bytes_be(key.public_exponent.as_bytes());
    let size = n.bits();
    if size < MIN_RSA_BITS {
        return Err(format!(
            "the RSA key has {size} bits; at least {MIN_RSA_BITS} are required"
        ));
    }
    if size > MAX_RSA_BITS {
        return Err(format!(
            "the RSA key has {size} bits; at most {MAX_RSA_BITS} are accepted"
        ));
    }
    RsaPublicKey::new_with_max_size(n, e, MAX_RSA_BITS)
        .map_err(|e| format!("the RSA key is invalid: {e}"))
}

/// Verify `signature` over `message` by the key `spki_der`, under the
/// signature algorithm `sig_oid` (DER OID content) with `params` (the DER
/// parameters element, if any). `digest_oid` is the hash when the algorithm
/// names none (CMS `rsaEncryption` / `ecPublicKey`). Errors say why.
pub fn verify(
    spki_der: &[u8],
    sig_oid: &[u8],
    params: Option<&[u8]>,
    digest_oid: Option<&[u8]>,
    message: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    let ecdsa_hash = match sig_oid {
        OID_ECDSA_SHA256 => Some(OID_SHA256),
        OID_ECDSA_SHA384 => Some(OID_SHA384),
        OID_ECDSA_SHA512 => Some(OID_SHA512),
        OID_EC_PUBLIC_KEY => Some(digest_oid.ok_or("ECDSA without a digest algorithm")?),
        _ => None,
    };
    if let Some(hash) = ecdsa_hash {
        let prehash = digest(hash, message).ok_or("the digest algorithm is not SHA-2")?;
        let key = PublicKey::from_spki_der(spki_der)?;
        return if key.verify_prehash(&prehash, signature) {
            Ok(())
        } else {
            Err("the ECDSA signature does not verify".into())
        };
    }
    let not_sha2 = || "the RSA signature's digest algorithm is not SHA-256/384/512".to_string();
    let (scheme, hashed) = match pkcs1_arc(sig_oid) {
        Some(n @ (RSA_ENCRYPTION | SHA256_RSA | SHA384_RSA | SHA512_RSA)) => {
            let hash = match n {
                SHA256_RSA => OID_SHA256,
                SHA384_RSA => OID_SHA384,
                SHA512_RSA => OID_SHA512,
                _ => digest_oid.ok_or_else(not_sha2)?,
            };
            let hashed = digest(hash, message).ok_or_else(not_sha2)?;
            let scheme = match hash {
                OID_SHA256 => rsa::Pkcs1v15Sign::new::<Sha256>(),
                OID_SHA384 => rsa::Pkcs1v15Sign::new::<Sha384>(),
                _ => rsa::Pkcs1v15Sign::new::<Sha512>(),
            };
            let key = rsa_key(spki_der)?;
            return key
                .verify(scheme, &hashed, signature)
                .map_err(|_| "the RSA (PKCS#1 v1.5) signature does not verify".to_string());
        }
        Some(RSASSA_PSS) => {
            let (hash, salt) = pss_params(params.ok_or("RSASSA-PSS without parameters")?)?;
            let hashed = digest(hash, message).ok_or_else(not_sha2)?;
            let scheme = match hash {
                OID_SHA256 => Pss::new_with_salt::<Sha256>(salt),
                OID_SHA384 => Pss::new_with_salt::<Sha384>(salt),
                _ => Pss::new_with_salt::<Sha512>(salt),
            };
            (scheme, hashed)
        }
        _ => {
            return Err(
                "the signature algorithm is neither ECDSA nor RSA (PKCS#1 v1.5 / PSS) with SHA-2"
                    .into(),
            );
        }
    };
    let key = rsa_key(spki_der)?;
    key.verify(scheme, &hashed, signature)
        .map_err(|_| "the RSA (PSS) signature does not verify".to_string())
}

#[cfg(test)]
#[path = "sigalg_tests.rs"]
mod tests;
