//! The ESS `signingCertificateV2` signed attribute of an RFC 3161 token
//! (RFC 5035, required by RFC 5816): the hash of the certificate the TSA
//! signed with. When present, the certificate found for the signer must be
//! that one, so another certificate of the same key (a key-identifier
//! signer, or a certificate with other usages) cannot stand in for it.

use crate::sigalg::{alg_oid, digest, tlv};

/// id-aa-signingCertificateV2 (1.2.840.113549.1.9.16.2.47).
pub const OID_SIGNING_CERTIFICATE_V2: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x2f,
];
const OID_SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];

/// Check that the first ESSCertIDv2 of `value` (the attribute value, a
/// SigningCertificateV2 SEQUENCE) names the certificate `cert_der`.
pub fn check(value: &[u8], cert_der: &[u8]) -> Result<(), String> {
    let bad = || "the token's signingCertificateV2 attribute is malformed".to_string();
    let (0x30, fields, []) = tlv(value).ok_or_else(bad)? else {
        return Err(bad());
    };
    let (0x30, certs, _) = tlv(fields).ok_or_else(bad)? else {
        return Err(bad());
    };
    let (0x30, first, _) = tlv(certs).ok_or_else(bad)? else {
        return Err(bad());
    };
    let (hash_oid, rest) = match tlv(first).ok_or_else(bad)? {
        (0x30, alg, rest) => (alg_oid(alg).ok_or_else(bad)?, rest),
        _ => (OID_SHA256, first),
    };
    let (0x04, cert_hash, _) = tlv(rest).ok_or_else(bad)? else {
        return Err(bad());
    };
    let want = digest(hash_oid, cert_der)
        .ok_or("the token's signingCertificateV2 hash is not SHA-256/384/512")?;
    if want != cert_hash {
        return Err(
            "the timestamp's signing certificate is not the one its signingCertificateV2 attribute names"
                .into(),
        );
    }
    Ok(())
}
