//! Round trip: what `sign_model` writes verifies with this gate's verifier;
//! tampering after signing is caught.

use std::path::{Path, PathBuf};

use super::*;
use crate::rules;
use crate::verify::{Trust, verify_model};

fn fx(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/signature")
        .join(p)
}

fn read(p: &str) -> String {
    std::fs::read_to_string(fx(p)).unwrap()
}

#[test]
fn sign_then_verify_round_trip_on_all_curves() {
    for c in ["p256", "p384", "p521"] {
        let bundle = sign_model(&fx("model"), &read(&format!("keys/{c}.pem")), &[]).unwrap();
        let trust = Trust::Key(PublicKey::from_pem(&read(&format!("keys/{c}.pub"))).unwrap());
        let o = verify_model(&fx("model"), "s", bundle.as_bytes(), &trust, &[], None).unwrap();
        assert!(o.findings.is_empty(), "{c}: {:?}", o.findings);
        assert_eq!(o.stats.files, 4);
        let other = Trust::Key(PublicKey::from_pem(&read("keys/other.pub")).unwrap());
        let o = verify_model(&fx("model"), "s", bundle.as_bytes(), &other, &[], None).unwrap();
        assert_eq!(o.findings[0].rule_id, rules::UNTRUSTED_KEY);
    }
}

#[test]
fn manifest_equals_model_signing_manifest() {
    // Same resources and root as the real tool produced for the same files.
    let ours = manifest(&fx("model"), &["README.md".into()]).unwrap();
    let text = std::fs::read(fx("sigs/key-p256-ignore-readme.sig")).unwrap();
    let crate::bundle::Content::Dsse(env) = crate::bundle::parse(&text).unwrap().content else {
        panic!()
    };
    let theirs = statement::parse(&env.payload).unwrap();
    assert_eq!(ours.resources, theirs.resources);
    assert_eq!(ours.model_name, theirs.model_name);
    let mut a = ours.serialization.ignore_paths.clone();
    let mut b = theirs.serialization.ignore_paths.clone();
    a.sort();
    b.sort();
    assert_eq!(a, b);
}

#[test]
fn certificate_mode_round_trip() {
    let chain = [
        std::fs::read(fx("pki/leaf.crt")).unwrap(),
        std::fs::read(fx("pki/intermediate.crt")).unwrap(),
    ]
    .concat();
    let bundle =
        sign_model_with_certificate(&fx("model"), &read("pki/leaf.pem"), &chain, &[]).unwrap();
    let pool = crate::x509::pem_pool(read("pki/root.crt").as_bytes()).unwrap();
    let o = verify_model(
        &fx("model"),
        "s",
        bundle.as_bytes(),
        &Trust::Certificates {
            pool,
            time: 1_800_000_000,
        },
        &[],
        None,
    )
    .unwrap();
    assert!(o.findings.is_empty(), "{:?}", o.findings);
    let err =
        sign_model_with_certificate(&fx("model"), &read("keys/p256.pem"), &chain, &[]).unwrap_err();
    assert!(err.contains("pair"), "{err}");
}

#[test]
fn single_file_and_bad_inputs() {
    let bundle = sign_model(&fx("single.bin"), &read("keys/p256.pem"), &[]).unwrap();
    let trust = Trust::Key(PublicKey::from_pem(&read("keys/p256.pub")).unwrap());
    let o = verify_model(&fx("single.bin"), "s", bundle.as_bytes(), &trust, &[], None).unwrap();
    assert!(o.findings.is_empty(), "{:?}", o.findings);
    assert!(sign_model(&fx("model"), "garbage", &[]).is_err());
    assert!(sign_model(&fx("model"), &read("keys/p256.pem"), &["../x".into()]).is_err());
}
