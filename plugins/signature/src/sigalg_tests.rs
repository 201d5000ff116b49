//! RSA key bounds and RSASSA-PSS parameter parsing.

use x509_cert::Certificate;
use x509_cert::der::Encode;

use super::*;

fn spki(name: &str) -> Vec<u8> {
    let der = std::fs::read(format!(
        "{}/../../tests/fixtures/signature/tsa-rsa/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let cert = Certificate::from_der(&der).unwrap();
    cert.tbs_certificate
        .subject_public_key_info
        .to_der()
        .unwrap()
}

#[test]
fn rsa_key_size_bounds() {
    assert!(rsa_key(&spki("tsa.der")).is_ok());
    assert!(rsa_key(&spki("root.der")).is_ok());
    let e = rsa_key(&spki("tsa1024.der")).unwrap_err();
    assert_eq!(e, "the RSA key has 1024 bits; at least 2048 are required");
    assert!(rsa_key(b"\x30\x00").is_err());
}

#[test]
fn pss_parameters() {
    // SHA-256, MGF1-SHA-256, salt 32 (what openssl cms writes).
    let sha256 = [
        0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00,
    ];
    let mut p = vec![0x30, 0x00, 0xa0, sha256.len() as u8];
    p.extend(sha256);
    let mgf_inner = [
        &[
            0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08,
        ][..],
        &sha256,
    ]
    .concat();
    p.extend([0xa1, mgf_inner.len() as u8 + 2, 0x30, mgf_inner.len() as u8]);
    p.extend(&mgf_inner);
    p.extend([0xa2, 0x03, 0x02, 0x01, 0x20]);
    p[1] = (p.len() - 2) as u8;
    let (hash, salt) = pss_params(&p).unwrap();
    assert_eq!((hash, salt), (OID_SHA256, 32));
    // Default parameters mean SHA-1: refused.
    assert!(pss_params(&[0x30, 0x00]).unwrap_err().contains("SHA-1"));
    // Every truncation fails cleanly.
    for n in 0..p.len() {
        let mut q = p[..n].to_vec();
        if q.len() > 1 {
            q[1] = (q.len() - 2) as u8;
        }
        let _ = pss_params(&q);
    }
}

#[test]
fn unknown_algorithms_are_refused() {
    let e = verify(
        &spki("tsa.der"),
        &[0x2b, 0x65, 0x70],
        None,
        None,
        b"m",
        b"s",
    )
    .unwrap_err();
    assert!(e.contains("neither ECDSA nor RSA"), "{e}");
    // sha1WithRSAEncryption (1.2.840.113549.1.1.5).
    let sha1 = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05];
    assert!(verify(&spki("tsa.der"), &sha1, None, None, b"m", b"s").is_err());
    // rsaEncryption with a SHA-1 digest algorithm.
    let rsa = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    let sha1_oid = [0x2b, 0x0e, 0x03, 0x02, 0x1a];
    let e = verify(&spki("tsa.der"), &rsa, None, Some(&sha1_oid), b"m", b"s").unwrap_err();
    assert!(e.contains("not SHA-256/384/512"), "{e}");
}
