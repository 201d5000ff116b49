//! RFC 3161 signed timestamps of a Sigstore bundle
//! (`timestampVerificationData.rfc3161Timestamps`), checked offline against
//! the trusted root's `timestampAuthorities`: the token's message imprint is
//! the hash of the bundle's signature; the CMS SignedData (RFC 5652) carries
//! a TSTInfo, signed attributes binding its content type and digest, and an
//! ECDSA or RSA (PKCS#1 v1.5 / PSS, at least 2048 bits; see [`crate::sigalg`])
//! signature by a certificate with the timeStamping extended key usage that
//! is (or is issued by) a certificate of a timestamp authority, valid at the
//! token's `genTime`, which must fall in the authority's validity window. The
//! signer is named by issuerAndSerialNumber or by subjectKeyIdentifier.
//!
//! The DER is walked by hand (a few TLV reads over bounded slices), so a
//! hostile token can only fail to parse, never allocate or panic.

use x509_cert::Certificate;
use x509_cert::der::{Decode, Encode};
use x509_cert::ext::pkix::{ExtendedKeyUsage, SubjectKeyIdentifier};

use crate::sigalg::{self, digest};
use crate::trusted_root::{Authority, rfc3339};
use crate::tsa_der::{Tlv, children, expect, read};
use crate::tsa_ess;
use crate::x509;

const OID_SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
const OID_TST_INFO: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x04,
];
const OID_CONTENT_TYPE: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03];
const OID_MESSAGE_DIGEST: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04];
/// id-kp-timeStamping (1.3.6.1.5.5.7.3.8).
const KP_TIME_STAMPING: x509_cert::der::oid::ObjectIdentifier =
    x509_cert::der::oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");

/// The OID content of an AlgorithmIdentifier SEQUENCE.
fn alg_oid<'a>(alg: &Tlv<'a>) -> Result<&'a [u8], String> {
    match alg_params(alg)? {
        (oid, None | Some([0x05, 0x00])) => Ok(oid),
        _ => Err("the timestamp token is malformed (hash algorithm parameters)".into()),
    }
}

/// The OID content and the parameters element (DER) of an AlgorithmIdentifier.
fn alg_params<'a>(alg: &Tlv<'a>) -> Result<(&'a [u8], Option<&'a [u8]>), String> {
    let parts = children(alg.content).ok_or("bad algorithm identifier")?;
    let oid = expect(parts.first(), 0x06, "algorithm OID")?.content;
    if parts.len() > 2 {
        return Err("the timestamp token is malformed (algorithm identifier)".into());
    }
    Ok((oid, parts.get(1).map(|p| p.whole)))
}

/// How a SignerInfo names its certificate (RFC 5652 SignerIdentifier).
enum Sid<'a> {
    /// issuerAndSerialNumber: issuer Name DER and serial content.
    IssuerSerial(&'a [u8], &'a [u8]),
    /// subjectKeyIdentifier ([0] IMPLICIT OCTET STRING).
    KeyId(&'a [u8]),
}

/// `YYYYMMDDHHMMSS[.f]Z` to unix seconds.
fn generalized_time(t: &[u8]) -> Option<u64> {
    let t = std::str::from_utf8(t).ok()?;
    if t.len() < 15 || !t.is_char_boundary(14) {
        return None;
    }
    let (d, rest) = t.split_at(14);
    rfc3339(&format!(
        "{}-{}-{}T{}:{}:{}{rest}",
        d.get(0..4)?,
        d.get(4..6)?,
        d.get(6..8)?,
        d.get(8..10)?,
        d.get(10..12)?,
        d.get(12..14)?
    ))
}

/// The parts of a token that verification needs.
struct Token<'a> {
    tst_info: &'a [u8],
    certs: Vec<Certificate>,
    sid: Sid<'a>,
    digest_alg: &'a [u8],
    signed_attrs: Tlv<'a>,
    /// Signature algorithm OID content and parameters DER.
    sig_alg: (&'a [u8], Option<&'a [u8]>),
    signature: &'a [u8],
    /// The signingCertificateV2 attribute value, if any (set by `check_attrs`).
    ess: Option<&'a [u8]>,
}

/// Parse a TimeStampResp (status granted) or a bare ContentInfo token.
fn parse(der: &[u8]) -> Result<Token<'_>, String> {
    let (outer, _) = read(der)
        .filter(|(t, _)| t.tag == 0x30)
        .ok_or("the timestamp is not DER")?;
    let parts = children(outer.content).ok_or("the timestamp is not DER")?;
    let content_info = match parts.first() {
        // TimeStampResp { status PKIStatusInfo, timeStampToken }
        Some(t) if t.tag == 0x30 => {
            let status = children(t.content).ok_or("bad PKIStatusInfo")?;
            let code = expect(status.first(), 0x02, "status")?.content;
            if code != [0] && code != [1] {
                return Err("the timestamp response's status is not granted".into());
            }
            let token = expect(parts.get(1), 0x30, "timeStampToken")?;
            children(token.content).ok_or("bad token")?
        }
        _ => parts,
    };
    if expect(content_info.first(), 0x06, "contentType")?.content != OID_SIGNED_DATA {
        return Err("the timestamp token is not CMS SignedData".into());
    }
    let explicit = expect(content_info.get(1), 0xa0, "content")?;
    let (sd, _) = read(explicit.content)
        .filter(|(t, _)| t.tag == 0x30)
        .ok_or("bad SignedData")?;
    let sd = children(sd.content).ok_or("bad SignedData")?;
    // RFC 5652 says 3 for a TSTInfo; real TSAs (GitHub's, Go pkcs7) write 1.
    if !matches!(
        expect(sd.first(), 0x02, "SignedData version")?.content,
        [1..=5]
    ) {
        return Err("the timestamp token is malformed (SignedData version)".into());
    }
    let digest_algs = children(expect(sd.get(1), 0x31, "digestAlgorithms")?.content)
        .ok_or("bad digestAlgorithms")?;
    let encap = children(expect(sd.get(2), 0x30, "encapContentInfo")?.content)
        .ok_or("bad encapContentInfo")?;
    if expect(encap.first(), 0x06, "eContentType")?.content != OID_TST_INFO {
        return Err("the token's content is not a TSTInfo".into());
    }
    let (octets, _) = read(expect(encap.get(1), 0xa0, "eContent")?.content).ok_or("eContent")?;
    let tst_info = expect(Some(&octets), 0x04, "eContent")?.content;
    let mut certs = Vec::new();
    let mut idx = 3;
    if let Some(t) = sd.get(idx).filter(|t| t.tag == 0xa0) {
        for c in children(t.content).ok_or("bad certificates")? {
            if c.tag == 0x30 {
                certs.push(
                    Certificate::from_der(c.whole)
                        .map_err(|e| format!("a token certificate does not parse: {e}"))?,
                );
            }
        }
        idx += 1;
    }
    if sd.get(idx).is_some_and(|t| t.tag == 0xa1) {
        idx += 1; // CRLs
    }
    let infos = children(expect(sd.get(idx), 0x31, "signerInfos")?.content).ok_or("signerInfos")?;
    if infos.len() != 1 {
        return Err(format!(
            "the token has {} signers; exactly one is supported",
            infos.len()
        ));
    }
    let si = children(expect(infos.first(), 0x30, "signerInfo")?.content).ok_or("signerInfo")?;
    let sid = match si.get(1) {
        Some(t) if t.tag == 0x30 => {
            let sid = children(t.content).ok_or("sid")?;
            let issuer = expect(sid.first(), 0x30, "sid issuer")?.whole;
            let serial = expect(sid.get(1), 0x02, "sid serial")?.content;
            Sid::IssuerSerial(issuer, serial)
        }
        Some(t) if t.tag == 0x80 => Sid::KeyId(t.content),
        _ => {
            return Err("the timestamp token is malformed (sid: neither issuerAndSerialNumber nor subjectKeyIdentifier)".into());
        }
    };
    // RFC 5652: version 1 with issuerAndSerialNumber, 3 with a key identifier.
    let version = expect(si.first(), 0x02, "signerInfo version")?.content;
    if version != [if matches!(sid, Sid::KeyId(_)) { 3 } else { 1 }] {
        return Err("the timestamp token is malformed (signerInfo version)".into());
    }
    let digest_alg = alg_oid(&expect(si.get(2), 0x30, "digestAlgorithm")?)?;
    if !digest_algs
        .iter()
        .any(|a| a.tag == 0x30 && alg_oid(a).is_ok_and(|o| o == digest_alg))
    {
        return Err(
            "the timestamp token is malformed (digestAlgorithms lacks the signer's)".into(),
        );
    }
    let signed_attrs = expect(si.get(3), 0xa0, "signedAttrs")?;
    let sig_alg = alg_params(&expect(si.get(4), 0x30, "signatureAlgorithm")?)?;
    let signature = expect(si.get(5), 0x04, "signature")?.content;
    Ok(Token {
        tst_info,
        certs,
        sid,
        digest_alg,
        signed_attrs,
        sig_alg,
        signature,
        ess: None,
    })
}

/// The TSTInfo's message imprint (hash algorithm OID, hash) and genTime.
fn tst_fields(tst: &[u8]) -> Result<(&[u8], &[u8], u64), String> {
    let (seq, _) = read(tst).ok_or("bad TSTInfo")?;
    let f = children(seq.content).ok_or("bad TSTInfo")?;
    let imprint = children(expect(f.get(2), 0x30, "messageImprint")?.content).ok_or("imprint")?;
    let alg = alg_oid(&expect(imprint.first(), 0x30, "imprint algorithm")?)?;
    let hashed = expect(imprint.get(1), 0x04, "hashedMessage")?.content;
    let time = expect(f.get(4), 0x18, "genTime")?.content;
    let time = generalized_time(time).ok_or("the token's genTime is not a valid time")?;
    Ok((alg, hashed, time))
}

/// The signed attributes must name TSTInfo as content type and carry the
/// digest of the TSTInfo.
fn check_attrs<'a>(tok: &mut Token<'a>) -> Result<(), String> {
    let mut content_type = false;
    let mut message_digest = false;
    let want = digest(tok.digest_alg, tok.tst_info).ok_or("unsupported digest algorithm")?;
    for attr in children(tok.signed_attrs.content).ok_or("bad signedAttrs")? {
        let a = children(attr.content).ok_or("bad attribute")?;
        let oid = expect(a.first(), 0x06, "attribute type")?.content;
        let values = children(expect(a.get(1), 0x31, "attribute values")?.content)
            .ok_or("bad attribute values")?;
        let [v] = values.as_slice() else {
            return Err("a signed attribute has more than one value".into());
        };
        if oid == OID_CONTENT_TYPE {
            content_type = v.tag == 0x06 && v.content == OID_TST_INFO;
        } else if oid == OID_MESSAGE_DIGEST {
            message_digest = v.tag == 0x04 && v.content == want.as_slice();
        } else if oid == tsa_ess::OID_SIGNING_CERTIFICATE_V2 {
            tok.ess = Some(v.whole);
        }
    }
    if !content_type || !message_digest {
        return Err("the token's signed attributes do not bind its TSTInfo".into());
    }
    Ok(())
}

fn has_time_stamping_eku(c: &Certificate) -> bool {
    matches!(c.tbs_certificate.get::<ExtendedKeyUsage>(),
        Ok(Some((_, eku))) if eku.0.contains(&KP_TIME_STAMPING))
}

fn valid_at(c: &Certificate, t: u64) -> bool {
    let v = &c.tbs_certificate.validity;
    v.not_before.to_unix_duration().as_secs() <= t && t <= v.not_after.to_unix_duration().as_secs()
}

/// Verify one signed timestamp over `signatures` (it must be over one of
/// them); returns the authenticated time (unix seconds).
pub fn verify(der: &[u8], signatures: &[Vec<u8>], tsas: &[Authority]) -> Result<u64, String> {
    let mut tok = parse(der)?;
    let (imprint_alg, hashed, time) = tst_fields(tok.tst_info)?;
    if !signatures
        .iter()
        .any(|s| digest(imprint_alg, s).as_deref() == Some(hashed))
    {
        return Err("the timestamp is not over this bundle's signature".into());
    }
    check_attrs(&mut tok)?;
    // The signer: a token certificate or trusted TSA certificate named by the
    // sid. A key identifier may match several certificates of one key: the
    // token verifies if one of them passes every check.
    let mut candidates = tok.certs.clone();
    for a in tsas {
        for d in &a.certs {
            candidates.push(Certificate::from_der(d).map_err(|e| e.to_string())?);
        }
    }
    let mut first_err = None;
    for signer in candidates.iter().filter(|c| names(&tok.sid, c)) {
        match check_signer(&tok, signer, time, tsas) {
            Ok(()) => return Ok(time),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    Err(first_err.unwrap_or_else(|| {
        "the timestamp's signing certificate is not available (not in the token or the trusted root)"
            .into()
    }))
}

/// Whether the SignerIdentifier names certificate `c`.
fn names(sid: &Sid, c: &Certificate) -> bool {
    match sid {
        Sid::IssuerSerial(issuer, serial) => {
            c.tbs_certificate.issuer.to_der().ok().as_deref() == Some(*issuer)
                && c.tbs_certificate.serial_number.as_bytes() == *serial
        }
        Sid::KeyId(id) => matches!(c.tbs_certificate.get::<SubjectKeyIdentifier>(),
            Ok(Some((_, ski))) if ski.0.as_bytes() == *id),
    }
}

/// Every check of the signing certificate `signer` at the token's `time`:
/// timeStamping EKU, trusted by an authority, valid, and its signature.
fn check_signer(
    tok: &Token,
    signer: &Certificate,
    time: u64,
    tsas: &[Authority],
) -> Result<(), String> {
    if !has_time_stamping_eku(signer) {
        return Err("the timestamp's signing certificate lacks the timeStamping key usage".into());
    }
    let signer_der = signer.to_der().map_err(|e| e.to_string())?;
    if let Some(ess) = tok.ess {
        tsa_ess::check(ess, &signer_der)?;
    }
    // Trusted: the signer is a certificate of an authority valid at `time`,
    // or was issued by one that is a CA, and every certificate involved is
    // valid then.
    let mut trusted = false;
    for a in tsas
        .iter()
        .filter(|a| a.start.is_none_or(|s| s <= time) && a.end.is_none_or(|e| time <= e))
    {
        let chain: Vec<Certificate> = a
            .certs
            .iter()
            .filter_map(|d| Certificate::from_der(d).ok())
            .collect();
        let listed = a.certs.contains(&signer_der);
        let issuer = x509::issuer_of(signer, &chain);
        if (listed || issuer.is_some_and(|i| valid_at(&i, time) && x509::may_issue(&i)))
            && chain.iter().all(|c| valid_at(c, time))
        {
            trusted = true;
            break;
        }
    }
    if !trusted {
        return Err(
            "the timestamp was not signed by a timestamp authority of the trusted root (valid at its time)"
                .into(),
        );
    }
    if !valid_at(signer, time) {
        return Err("the timestamp's signing certificate was not valid at its time".into());
    }
    // The signature is over the DER signed attributes as a SET (tag 0x31).
    let mut attrs = tok.signed_attrs.whole.to_vec();
    attrs[0] = 0x31;
    let key_der = signer
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| e.to_string())?;
    let (oid, params) = tok.sig_alg;
    sigalg::verify(
        &key_der,
        oid,
        params,
        Some(tok.digest_alg),
        &attrs,
        tok.signature,
    )
    .map_err(|e| format!("the timestamp authority's signature does not verify: {e}"))?;
    Ok(())
}

#[cfg(test)]
#[path = "tsa_tests.rs"]
mod tests;
