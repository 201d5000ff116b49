//! X.509 chain validation for certificate mode (and the Fulcio chain of
//! keyless mode): leaf → intermediates → a self-signed trust anchor from the
//! given pool, every certificate valid at the verification time, issuers
//! marked CA with keyCertSign and within their path length, and a leaf with
//! digitalSignature and the code-signing extended key usage. Issuers sign
//! with ECDSA or RSA (2048-8192 bits, see [`crate::sigalg`]); signing (leaf)
//! keys are ECDSA.
//!
//! Stricter than model_signing, which checks validity at the leaf's own
//! notBefore (so an expired certificate passes) and accepts either
//! digitalSignature or codeSigning.

use x509_cert::Certificate;
use x509_cert::der::{Decode, Encode, oid::ObjectIdentifier};
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage};

use crate::keys::PublicKey;
use crate::rules;
use crate::sigalg;

/// id-kp-codeSigning.
pub const CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
/// Longest chain followed.
const MAX_CHAIN: usize = 8;

/// A validated leaf: its key and a name for messages.
#[derive(Debug, Clone)]
pub struct Leaf {
    /// The leaf's public key (signs the DSSE envelope).
    pub key: PublicKey,
    /// The leaf's subject, for messages.
    pub subject: String,
    /// The parsed leaf (keyless reads its SAN and Fulcio extensions).
    pub cert: Box<Certificate>,
}

/// Why a chain was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainError {
    /// Rule id.
    pub rule: &'static str,
    /// Message for a release engineer.
    pub message: String,
}

fn err(rule: &'static str, message: impl Into<String>) -> ChainError {
    ChainError {
        rule,
        message: message.into(),
    }
}

/// Parse PEM certificates (a trust pool file).
pub fn pem_pool(text: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let certs =
        Certificate::load_pem_chain(text).map_err(|e| format!("not PEM certificates: {e}"))?;
    if certs.is_empty() {
        return Err("no certificate in the PEM file".into());
    }
    certs
        .iter()
        .map(|c| c.to_der().map_err(|e| e.to_string()))
        .collect()
}

fn subject(c: &Certificate) -> String {
    c.tbs_certificate.subject.to_string()
}

/// Whether `issuer` signed `cert` (ECDSA with SHA-256/384/512, or RSA with
/// SHA-2 as [`crate::sigalg`] accepts it). Err: the check could not be made.
fn signed_by(cert: &Certificate, issuer: &Certificate) -> Result<bool, String> {
    let key_der = issuer
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| e.to_string())?;
    let tbs = cert.tbs_certificate.to_der().map_err(|e| e.to_string())?;
    let alg = &cert.signature_algorithm;
    let params = match &alg.parameters {
        Some(p) => Some(p.to_der().map_err(|e| e.to_string())?),
        None => None,
    };
    let sig = cert
        .signature
        .as_bytes()
        .ok_or("signature bit string is not byte-aligned")?;
    Ok(sigalg::verify(
        &key_der,
        alg.oid.as_bytes(),
        params.as_deref(),
        None,
        &tbs,
        sig,
    )
    .is_ok())
}

fn check_time(c: &Certificate, time: u64) -> Result<(), ChainError> {
    let v = &c.tbs_certificate.validity;
    let (nb, na) = (
        v.not_before.to_unix_duration().as_secs(),
        v.not_after.to_unix_duration().as_secs(),
    );
    if time < nb {
        return Err(err(
            rules::CERT_EXPIRED,
            format!(
                "certificate `{}` is not valid until {} (checked at unix time {time})",
                subject(c),
                v.not_before
            ),
        ));
    }
    if time > na {
        return Err(err(
            rules::CERT_EXPIRED,
            format!(
                "certificate `{}` expired at {} (checked at unix time {time})",
                subject(c),
                v.not_after
            ),
        ));
    }
    Ok(())
}

fn ext<'a, T: Decode<'a> + x509_cert::der::oid::AssociatedOid>(
    c: &'a Certificate,
) -> Result<Option<T>, ChainError> {
    c.tbs_certificate
        .get::<T>()
        .map(|o| o.map(|(_, v)| v))
        .map_err(|e| {
            err(
                rules::BUNDLE_INVALID,
                format!(
                    "certificate `{}` has a malformed extension: {e}",
                    subject(c)
                ),
            )
        })
}

/// Issuer `c` at `below` certificates under it: CA, keyCertSign, path length.
fn check_issuer(c: &Certificate, below: usize) -> Result<(), ChainError> {
    let name = subject(c);
    match ext::<BasicConstraints>(c)? {
        Some(bc) if bc.ca => {
            if let Some(len) = bc.path_len_constraint
                && below > usize::from(len) + 1
            {
                return Err(err(
                    rules::CERT_USAGE,
                    format!(
                        "CA `{name}` allows {len} intermediate(s) below it, the chain has {}",
                        below - 1
                    ),
                ));
            }
        }
        _ => {
            return Err(err(
                rules::CERT_USAGE,
                format!("`{name}` issued a certificate but is not a CA (basicConstraints)"),
            ));
        }
    }
    if let Some(ku) = ext::<KeyUsage>(c)?
        && !ku.key_cert_sign()
    {
        return Err(err(
            rules::CERT_USAGE,
            format!("CA `{name}` lacks the keyCertSign key usage"),
        ));
    }
    Ok(())
}

fn check_leaf(c: &Certificate) -> Result<(), ChainError> {
    let name = subject(c);
    if ext::<BasicConstraints>(c)?.is_some_and(|bc| bc.ca) {
        return Err(err(
            rules::CERT_USAGE,
            format!("signing certificate `{name}` is a CA certificate"),
        ));
    }
    if let Some(ku) = ext::<KeyUsage>(c)?
        && !ku.digital_signature()
    {
        return Err(err(
            rules::CERT_USAGE,
            format!("signing certificate `{name}` lacks the digitalSignature key usage"),
        ));
    }
    match ext::<ExtendedKeyUsage>(c)? {
        Some(eku) if eku.0.contains(&CODE_SIGNING) => Ok(()),
        Some(_) => Err(err(
            rules::CERT_USAGE,
            format!(
                "signing certificate `{name}` is not for code signing (extendedKeyUsage lacks codeSigning)"
            ),
        )),
        None => Err(err(
            rules::CERT_USAGE,
            format!(
                "signing certificate `{name}` has no extendedKeyUsage; codeSigning is required"
            ),
        )),
    }
}

/// Whether `c` may issue certificates: a CA (basicConstraints) with
/// keyCertSign when it has a key usage extension.
pub fn may_issue(c: &Certificate) -> bool {
    check_issuer(c, 1).is_ok()
}

/// The certificate among `candidates` that issued and signed `cert`.
pub fn issuer_of(cert: &Certificate, candidates: &[Certificate]) -> Option<Certificate> {
    candidates
        .iter()
        .find(|c| {
            c.tbs_certificate.subject == cert.tbs_certificate.issuer
                && signed_by(cert, c).unwrap_or(false)
        })
        .cloned()
}

/// Validate `chain` (DER, leaf first, as in the bundle) against `pool` (DER
/// anchors and intermediates) at unix time `time`.
pub fn verify_chain(chain: &[Vec<u8>], pool: &[Vec<u8>], time: u64) -> Result<Leaf, ChainError> {
    let parse = |d: &Vec<u8>| {
        Certificate::from_der(d).map_err(|e| {
            err(
                rules::BUNDLE_INVALID,
                format!("a certificate does not parse: {e}"),
            )
        })
    };
    let Some(first) = chain.first() else {
        return Err(err(
            rules::CERT_UNTRUSTED,
            "the bundle carries no certificate, and certificate mode needs one",
        ));
    };
    let leaf = parse(first)?;
    let mut candidates = chain[1..]
        .iter()
        .map(parse)
        .collect::<Result<Vec<_>, _>>()?;
    let pool = pool.iter().map(parse).collect::<Result<Vec<_>, _>>()?;
    let anchors: Vec<&Certificate> = pool
        .iter()
        .filter(|c| {
            c.tbs_certificate.subject == c.tbs_certificate.issuer
                && signed_by(c, c).unwrap_or(false)
        })
        .collect();
    candidates.extend(
        pool.iter()
            .filter(|c| c.tbs_certificate.subject != c.tbs_certificate.issuer)
            .cloned(),
    );
    check_leaf(&leaf)?;
    check_time(&leaf, time)?;
    let mut current = leaf.clone();
    for depth in 1..=MAX_CHAIN {
        if let Some(anchor) = anchors.iter().find(|a| {
            a.tbs_certificate.subject == current.tbs_certificate.issuer
                && signed_by(&current, a).unwrap_or(false)
        }) {
            check_issuer(anchor, depth)?;
            check_time(anchor, time)?;
            let key_der = leaf
                .tbs_certificate
                .subject_public_key_info
                .to_der()
                .map_err(|e| err(rules::BUNDLE_INVALID, e.to_string()))?;
            let key = PublicKey::from_spki_der(&key_der)
                .map_err(|e| err(rules::UNSUPPORTED, format!("signing certificate key: {e}")))?;
            return Ok(Leaf {
                key,
                subject: subject(&leaf),
                cert: Box::new(leaf),
            });
        }
        let next = candidates
            .iter()
            .find(|c| {
                c.tbs_certificate.subject == current.tbs_certificate.issuer
                    && signed_by(&current, c).unwrap_or(false)
            })
            .cloned();
        let Some(next) = next else {
            return Err(err(
                rules::CERT_UNTRUSTED,
                format!(
                    "certificate `{}` was issued by `{}`, which does not lead to any trusted root",
                    subject(&current),
                    current.tbs_certificate.issuer
                ),
            ));
        };
        check_issuer(&next, depth)?;
        check_time(&next, time)?;
        current = next;
    }
    Err(err(
        rules::CERT_UNTRUSTED,
        format!("no trusted root within {MAX_CHAIN} certificates"),
    ))
}

#[cfg(test)]
#[path = "x509_tests.rs"]
mod tests;
