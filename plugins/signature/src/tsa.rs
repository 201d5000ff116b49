//! RFC 3161 signed timestamps of a Sigstore bundle
//! (`timestampVerificationData.rfc3161Timestamps`), checked offline against
//! the trusted root's `timestampAuthorities`: the token's message imprint is
//! the hash of the bundle's signature; the CMS SignedData (RFC 5652) carries
//! a TSTInfo, signed attributes binding its content type and digest, and an
//! ECDSA signature by a certificate with the timeStamping extended key usage
//! that is (or is issued by) a certificate of a timestamp authority, valid at
//! the token's `genTime`, which must fall in the authority's validity window.
//!
//! The DER is walked by hand (a few TLV reads over bounded slices), so a
//! hostile token can only fail to parse, never allocate or panic.

use sha2::{Digest as _, Sha256, Sha384, Sha512};
use x509_cert::Certificate;
use x509_cert::der::{Decode, Encode};
use x509_cert::ext::pkix::ExtendedKeyUsage;

use crate::keys::PublicKey;
use crate::trusted_root::{Authority, rfc3339};
use crate::x509;

const OID_SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
const OID_TST_INFO: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x04,
];
const OID_CONTENT_TYPE: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03];
const OID_MESSAGE_DIGEST: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04];
const OID_SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
const OID_SHA384: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02];
const OID_SHA512: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03];
const OID_ECDSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
const OID_ECDSA_SHA384: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03];
const OID_ECDSA_SHA512: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04];
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// id-kp-timeStamping (1.3.6.1.5.5.7.3.8).
const KP_TIME_STAMPING: x509_cert::der::oid::ObjectIdentifier =
    x509_cert::der::oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");

/// One DER element: tag, content, and the whole encoding.
#[derive(Clone, Copy)]
struct Tlv<'a> {
    tag: u8,
    content: &'a [u8],
    whole: &'a [u8],
}

/// Read one definite-length DER element from the front of `input`.
fn read(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let tag = *input.first()?;
    if tag & 0x1f == 0x1f {
        return None; // high tag numbers do not occur here
    }
    let first = *input.get(1)?;
    let (len, head) = if first < 0x80 {
        (first as usize, 2)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 {
            return None; // indefinite or absurd length
        }
        let mut len = 0usize;
        for b in input.get(2..2 + n)? {
            len = (len << 8) | *b as usize;
        }
        (len, 2 + n)
    };
    let end = head.checked_add(len)?;
    let whole = input.get(..end)?;
    Some((
        Tlv {
            tag,
            content: &whole[head..],
            whole,
        },
        &input[end..],
    ))
}

/// All elements of a constructed content.
fn children(content: &[u8]) -> Option<Vec<Tlv<'_>>> {
    let mut out = Vec::new();
    let mut rest = content;
    while !rest.is_empty() {
        let (t, r) = read(rest)?;
        out.push(t);
        rest = r;
    }
    Some(out)
}

fn expect<'a>(t: Option<&Tlv<'a>>, tag: u8, what: &str) -> Result<Tlv<'a>, String> {
    match t {
        Some(t) if t.tag == tag => Ok(*t),
        _ => Err(format!("the timestamp token is malformed ({what})")),
    }
}

fn digest(alg_oid: &[u8], data: &[u8]) -> Option<Vec<u8>> {
    Some(match alg_oid {
        OID_SHA256 => Sha256::digest(data).to_vec(),
        OID_SHA384 => Sha384::digest(data).to_vec(),
        OID_SHA512 => Sha512::digest(data).to_vec(),
        _ => return None,
    })
}

/// The OID content of an AlgorithmIdentifier SEQUENCE.
fn alg_oid<'a>(alg: &Tlv<'a>) -> Result<&'a [u8], String> {
    let parts = children(alg.content).ok_or("bad algorithm identifier")?;
    Ok(expect(parts.first(), 0x06, "algorithm OID")?.content)
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
    /// issuerAndSerialNumber: issuer Name DER and serial content.
    sid: (&'a [u8], &'a [u8]),
    digest_alg: &'a [u8],
    signed_attrs: Tlv<'a>,
    sig_alg: &'a [u8],
    signature: &'a [u8],
}

/// Parse a TimeStampResp (status granted) or a bare ContentInfo token.
fn parse(der: &[u8]) -> Result<Token<'_>, String> {
    let (outer, _) = read(der).ok_or("the timestamp is not DER")?;
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
    let (sd, _) = read(explicit.content).ok_or("bad SignedData")?;
    let sd = children(sd.content).ok_or("bad SignedData")?;
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
    let sid = children(
        expect(
            si.get(1),
            0x30,
            "sid (only issuerAndSerialNumber is supported)",
        )?
        .content,
    )
    .ok_or("sid")?;
    let issuer = expect(sid.first(), 0x30, "sid issuer")?.whole;
    let serial = expect(sid.get(1), 0x02, "sid serial")?.content;
    let digest_alg = alg_oid(&expect(si.get(2), 0x30, "digestAlgorithm")?)?;
    let signed_attrs = expect(si.get(3), 0xa0, "signedAttrs")?;
    let sig_alg = alg_oid(&expect(si.get(4), 0x30, "signatureAlgorithm")?)?;
    let signature = expect(si.get(5), 0x04, "signature")?.content;
    Ok(Token {
        tst_info,
        certs,
        sid: (issuer, serial),
        digest_alg,
        signed_attrs,
        sig_alg,
        signature,
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
fn check_attrs(tok: &Token) -> Result<(), String> {
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
    let tok = parse(der)?;
    let (imprint_alg, hashed, time) = tst_fields(tok.tst_info)?;
    if !signatures
        .iter()
        .any(|s| digest(imprint_alg, s).as_deref() == Some(hashed))
    {
        return Err("the timestamp is not over this bundle's signature".into());
    }
    check_attrs(&tok)?;
    // The signer: the token certificate or trusted TSA certificate named by
    // issuerAndSerialNumber.
    let mut candidates = tok.certs.clone();
    for a in tsas {
        for d in &a.certs {
            candidates.push(Certificate::from_der(d).map_err(|e| e.to_string())?);
        }
    }
    let signer = candidates
        .iter()
        .find(|c| {
            c.tbs_certificate.issuer.to_der().ok().as_deref() == Some(tok.sid.0)
                && c.tbs_certificate.serial_number.as_bytes() == tok.sid.1
        })
        .ok_or("the timestamp's signing certificate is not available")?;
    if !has_time_stamping_eku(signer) {
        return Err("the timestamp's signing certificate lacks the timeStamping key usage".into());
    }
    // Trusted: the signer is a certificate of an authority valid at `time`,
    // or was issued by one, and every certificate involved is valid then.
    let signer_der = signer.to_der().map_err(|e| e.to_string())?;
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
        if (listed || issuer.as_ref().is_some_and(|i| valid_at(i, time)))
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
    let hash_alg = match tok.sig_alg {
        OID_ECDSA_SHA256 => OID_SHA256,
        OID_ECDSA_SHA384 => OID_SHA384,
        OID_ECDSA_SHA512 => OID_SHA512,
        OID_EC_PUBLIC_KEY => tok.digest_alg,
        _ => return Err("the timestamp's signature algorithm is not ECDSA with SHA-2".into()),
    };
    let prehash = digest(hash_alg, &attrs).ok_or("unsupported digest algorithm")?;
    let key_der = signer
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| e.to_string())?;
    let key = PublicKey::from_spki_der(&key_der)?;
    if !key.verify_prehash(&prehash, tok.signature) {
        return Err("the timestamp authority's signature does not verify".into());
    }
    Ok(time)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_reader_rejects_truncation_and_indefinite_lengths() {
        assert!(read(&[0x30, 0x03, 0x02, 0x01]).is_none());
        assert!(read(&[0x30, 0x80, 0x00, 0x00]).is_none());
        assert!(read(&[0x30, 0x85, 1, 1, 1, 1, 1]).is_none());
        let (t, rest) = read(&[0x04, 0x01, 0xaa, 0x05]).unwrap();
        assert_eq!((t.tag, t.content, rest), (0x04, &[0xaa][..], &[0x05][..]));
        assert!(verify(&[0x30, 0x00], &[], &[]).is_err());
        assert!(verify(b"not der", &[], &[]).is_err());
    }

    #[test]
    fn generalized_times() {
        assert_eq!(generalized_time(b"20250609115738Z"), Some(1_749_470_258));
        assert_eq!(
            generalized_time(b"20250609115738.123Z"),
            Some(1_749_470_258)
        );
        assert_eq!(generalized_time(b"2025060911573Z"), None);
        assert_eq!(generalized_time(b"20250609115738+0100"), None);
    }
}
