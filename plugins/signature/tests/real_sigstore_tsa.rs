//! RFC 3161 verification on a REAL token from GitHub's staging timestamp
//! authority (ECDSA P-256 signer issued by a TSA intermediate, three-level
//! chain in the trusted root), from sigstore-go's `examples/` (sources in
//! tests/fixtures/signature/real-sigstore/README.md). The bundle has no
//! transparency-log entry, which the gate refuses for keyless bundles.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use mlgate_plugin_signature::bundle::{self, Content};
use mlgate_plugin_signature::config::Config;
use mlgate_plugin_signature::keyless::{self, KeylessPolicy};
use mlgate_plugin_signature::rules::TLOG_INVALID;
use mlgate_plugin_signature::trusted_root;
use mlgate_plugin_signature::tsa;
use serde_json::json;

mod common;
use common::{fx, json_of};

const BUNDLE: &str = "github-tsa-bundle-with-timestamp.json";
const ROOT: &str = "github-tsa-trusted-root-with-tsa.json";

fn token_and_sig() -> (Vec<u8>, Vec<u8>) {
    let b = json_of(BUNDLE);
    let token = b["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]
        ["signedTimestamp"]
        .as_str()
        .unwrap();
    let sig = b["dsseEnvelope"]["signatures"][0]["sig"].as_str().unwrap();
    (
        STANDARD.decode(token).unwrap(),
        STANDARD.decode(sig).unwrap(),
    )
}

#[test]
fn github_staging_tsa_token_verifies_against_its_trusted_root() {
    let root = trusted_root::parse(&std::fs::read(fx(ROOT)).unwrap()).unwrap();
    let (token, sig) = token_and_sig();
    // genTime 2023-05-08T21:42:05Z.
    assert_eq!(
        tsa::verify(&token, std::slice::from_ref(&sig), &root.tsas),
        Ok(1_683_582_125)
    );
    // Not over another signature.
    let mut other = sig.clone();
    let n = other.len();
    other[n - 1] ^= 1;
    let e = tsa::verify(&token, &[other], &root.tsas).unwrap_err();
    assert!(e.contains("not over this bundle's signature"), "{e}");
    // Not trusted by the production Sigstore root (another TSA).
    let prod = trusted_root::parse(&std::fs::read(fx("trusted_root.json")).unwrap()).unwrap();
    let e = tsa::verify(&token, std::slice::from_ref(&sig), &prod.tsas).unwrap_err();
    assert!(e.contains("timestamp authority"), "{e}");
    // The TSA's window must cover the time.
    let mut r = json_of(ROOT);
    r["timestampAuthorities"][0]["validFor"]["start"] = json!("2023-06-01T00:00:00Z");
    let late = trusted_root::parse(&serde_json::to_vec(&r).unwrap()).unwrap();
    assert!(tsa::verify(&token, std::slice::from_ref(&sig), &late.tsas).is_err());
    // Truncated or garbled tokens fail without panicking.
    for cut in [0, 1, 10, token.len() / 2, token.len() - 1] {
        assert!(tsa::verify(&token[..cut], std::slice::from_ref(&sig), &root.tsas).is_err());
    }
    // The signed genTime moved by one hour: the TSTInfo no longer matches
    // the digest in the signed attributes.
    let at = token
        .windows(15)
        .position(|w| w == b"20230508214205Z")
        .unwrap();
    let mut moved = token.clone();
    moved[at + 9] = b'2'; // 21h -> 22h
    let e = tsa::verify(&moved, &[sig], &root.tsas).unwrap_err();
    assert!(e.contains("signed attributes"), "{e}");
}

#[test]
fn keyless_bundle_without_a_log_entry_is_refused() {
    let cfg: Config = serde_json::from_value(
        json!({"identity": "brian@dehamer.com", "issuer": "https://github.com/login/oauth"}),
    )
    .unwrap();
    let policy = KeylessPolicy::new(&std::fs::read(fx(ROOT)).unwrap(), &cfg, None).unwrap();
    let b = bundle::parse(&std::fs::read(fx(BUNDLE)).unwrap()).unwrap();
    let Content::Dsse(env) = &b.content else {
        panic!("a DSSE bundle")
    };
    let e = keyless::verify(&b, &policy, &env.payload).unwrap_err();
    assert_eq!(e.rule, TLOG_INVALID, "{}", e.message);
}
