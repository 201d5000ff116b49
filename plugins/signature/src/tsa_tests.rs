//! RFC 3161 token parsing and verification: DER edge cases, and RSA
//! timestamp authorities from `openssl ts` / `openssl cms`
//! (tests/fixtures/signature/gen_tsa_rsa.sh).

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

// ---- RSA timestamp authorities (openssl ts / openssl cms fixtures) ----

fn fx(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../../tests/fixtures/signature/tsa-rsa/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// A timestamp authority listing these certificates, valid from 2025-01-01.
fn authority(certs: &[&str]) -> Vec<Authority> {
    vec![Authority {
        certs: certs.iter().map(|c| fx(c)).collect(),
        start: Some(1_735_689_600),
        end: None,
    }]
}

fn sig() -> Vec<Vec<u8>> {
    vec![fx("sig.bin")]
}

/// genTime of the `openssl ts -reply` tokens (`openssl ts -reply -in
/// ts-issuer-serial.tsr -text`: "Time stamp: Nov 26 13:21:09 2026 GMT").
fn reply_time() -> u64 {
    generalized_time(b"20261126132109Z").unwrap()
}

fn err_of(token: &[u8], tsas: &[Authority]) -> String {
    match verify(token, &sig(), tsas) {
        Ok(t) => panic!("verified at {t}, expected a failure"),
        Err(e) => e,
    }
}

#[test]
fn rsa_tokens_from_openssl_verify_at_their_gen_time() {
    let tsas = authority(&["tsa.der", "root.der"]);
    // openssl ts -reply: PKCS#1 v1.5, issuerAndSerialNumber, SHA-256 and SHA-512.
    for name in ["ts-issuer-serial.tsr", "ts-sha512.tsr"] {
        assert_eq!(verify(&fx(name), &sig(), &tsas), Ok(reply_time()), "{name}");
    }
    // openssl cms -sign over the same TSTInfo: subjectKeyIdentifier, RSASSA-PSS.
    for name in ["cms-ski.der", "cms-pss.der"] {
        assert_eq!(verify(&fx(name), &sig(), &tsas), Ok(reply_time()), "{name}");
    }
    let bundle_time = generalized_time(b"20260601120030Z").unwrap();
    for name in ["cms-bundle-time.der", "cms-bundle-time-ski.der"] {
        assert_eq!(verify(&fx(name), &sig(), &tsas), Ok(bundle_time), "{name}");
    }
}

#[test]
fn rsa_tsa_issued_by_a_trusted_rsa_root_verifies() {
    // Only the root is listed: the token's own TSA certificate must be
    // signed by it (RSA certificate signature, sha256WithRSAEncryption).
    let root_only = authority(&["root.der"]);
    assert_eq!(
        verify(&fx("ts-issuer-serial.tsr"), &sig(), &root_only),
        Ok(reply_time())
    );
    assert_eq!(
        verify(&fx("cms-ski.der"), &sig(), &root_only),
        Ok(reply_time())
    );
    // A TSA certificate is no issuer: listing another one trusts nothing.
    let e = err_of(&fx("ts-issuer-serial.tsr"), &authority(&["tsa1024.der"]));
    assert!(e.contains("not signed by a timestamp authority"), "{e}");
}

#[test]
fn tsa_certificate_issued_by_a_non_ca_is_untrusted() {
    // tsa-sub.der has the timeStamping EKU and is signed by tsa.der, a listed
    // TSA certificate that is not a CA: it must not extend the trust.
    let e = err_of(&fx("cms-sub.der"), &authority(&["tsa.der", "root.der"]));
    assert!(e.contains("not signed by a timestamp authority"), "{e}");
    // The same token verifies when its certificate itself is listed.
    let listed = authority(&["tsa-sub.der", "tsa.der", "root.der"]);
    assert_eq!(
        verify(&fx("cms-sub.der"), &sig(), &listed),
        Ok(reply_time())
    );
}

#[test]
fn rsa_token_with_an_edited_gen_time_fails() {
    let mut tok = fx("ts-issuer-serial.tsr");
    let at = tok
        .windows(15)
        .position(|w| w == b"20261126132109Z")
        .unwrap();
    tok[at + 13] ^= 1;
    let e = err_of(&tok, &authority(&["tsa.der", "root.der"]));
    assert!(
        e.contains("signed attributes do not bind its TSTInfo"),
        "{e}"
    );
}

#[test]
fn rsa_token_over_another_signature_fails() {
    let e = verify(
        &fx("ts-issuer-serial.tsr"),
        &[b"another signature".to_vec()],
        &authority(&["tsa.der", "root.der"]),
    )
    .unwrap_err();
    assert!(e.contains("not over this bundle's signature"), "{e}");
}

#[test]
fn rsa_signature_bit_flip_fails() {
    for name in ["ts-issuer-serial.tsr", "cms-ski.der", "cms-pss.der"] {
        let mut tok = fx(name);
        let last = tok.len() - 1;
        tok[last] ^= 1;
        let e = err_of(&tok, &authority(&["tsa.der", "root.der"]));
        assert!(e.contains("signature does not verify"), "{name}: {e}");
    }
}

#[test]
fn rsa_1024_bit_tsa_is_refused() {
    for tsas in [
        authority(&["tsa1024.der", "root.der"]),
        authority(&["root.der"]),
    ] {
        let e = err_of(&fx("ts-1024.tsr"), &tsas);
        assert!(e.contains("1024 bits; at least 2048"), "{e}");
    }
}

#[test]
fn rsa_tsa_without_time_stamping_eku_is_refused() {
    for tsas in [
        authority(&["tsa-noeku.der", "root.der"]),
        authority(&["root.der"]),
    ] {
        let e = err_of(&fx("cms-noeku.der"), &tsas);
        assert!(e.contains("lacks the timeStamping key usage"), "{e}");
    }
    // A key identifier names the key: the no-EKU certificate of the same key
    // is skipped, the proper TSA certificate is used.
    let both = authority(&["tsa-noeku.der", "tsa.der", "root.der"]);
    assert_eq!(verify(&fx("cms-ski.der"), &sig(), &both), Ok(reply_time()));
}

#[test]
fn rsa_token_outside_the_tsa_validity_fails() {
    // The TSA certificate ended 2026-01-01; the token is from 2026-11-26.
    let e = err_of(
        &fx("ts-expired.tsr"),
        &authority(&["tsa-expired.der", "root.der"]),
    );
    assert!(e.contains("valid at its time"), "{e}");
    let e = err_of(&fx("ts-expired.tsr"), &authority(&["root.der"]));
    assert!(
        e.contains("signing certificate was not valid at its time"),
        "{e}"
    );
    // The authority's window in the trusted root ends before the token.
    let mut tsas = authority(&["tsa.der", "root.der"]);
    tsas[0].end = Some(reply_time() - 1);
    let e = err_of(&fx("ts-issuer-serial.tsr"), &tsas);
    assert!(e.contains("valid at its time"), "{e}");
}

#[test]
fn rsa_tokens_truncated_or_flipped_anywhere_never_panic() {
    let tsas = authority(&["tsa.der", "root.der"]);
    for name in ["ts-issuer-serial.tsr", "cms-ski.der", "cms-pss.der"] {
        let tok = fx(name);
        for n in 0..tok.len() {
            assert!(
                verify(&tok[..n], &sig(), &tsas).is_err(),
                "{name} cut at {n}"
            );
        }
    }
    // A flipped bit anywhere outside the token's embedded (unsigned) TSA
    // certificate must fail, and never panic. (A flip inside that copy may
    // still verify through the trusted copy of the same issuer and serial.)
    let tok = fx("cms-pss.der");
    let cert = fx("tsa.der");
    let at = tok.windows(cert.len()).position(|w| w == cert).unwrap();
    let verified: Vec<usize> = (0..tok.len())
        .filter(|i| !(at..at + cert.len()).contains(i))
        .filter(|&i| {
            let mut t = tok.clone();
            t[i] ^= 0x80;
            verify(&t, &sig(), &tsas).is_ok()
        })
        .collect();
    assert!(verified.is_empty(), "flips at {verified:?} verified");
}

#[test]
fn ess_signing_certificate_v2_pins_the_signer() {
    let der = fx("ts-issuer-serial.tsr");
    let mut tok = parse(&der).unwrap();
    check_attrs(&mut tok).unwrap();
    assert!(tok.ess.is_some(), "openssl ts writes signingCertificateV2");
    let tsas = authority(&["tsa.der", "root.der"]);
    let tsa = Certificate::from_der(&fx("tsa.der")).unwrap();
    assert_eq!(check_signer(&tok, &tsa, reply_time(), &tsas), Ok(()));
    // Another certificate of the same key, also for timeStamping and issued
    // by the trusted root (valid in 2025): everything else would pass.
    let other = Certificate::from_der(&fx("tsa-expired.der")).unwrap();
    let in_2025 = generalized_time(b"20250601000000Z").unwrap();
    let e = check_signer(&tok, &other, in_2025, &tsas).unwrap_err();
    assert!(e.contains("signingCertificateV2"), "{e}");
    // A malformed attribute value fails cleanly.
    assert!(tsa_ess::check(&[0x30, 0x00], &fx("tsa.der")).is_err());
    assert!(tsa_ess::check(&[0x31, 0x02, 0x30, 0x00], &fx("tsa.der")).is_err());
}
