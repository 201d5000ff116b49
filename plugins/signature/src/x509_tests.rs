//! Chain validation on the openssl-made PKI of the fixtures.

use super::*;

fn pem(name: &str) -> Vec<Vec<u8>> {
    pem_pool(
        &std::fs::read(format!(
            "{}/../../tests/fixtures/signature/pki/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap(),
    )
    .unwrap()
}

const NOW: u64 = 1_800_000_000;

#[test]
fn leaf_chains_through_intermediate_to_root() {
    let chain = [pem("leaf.crt"), pem("intermediate.crt")].concat();
    let leaf = verify_chain(&chain, &pem("root.crt"), NOW).unwrap();
    assert!(leaf.subject.contains("release-signer"));
    // The intermediate may come from the trust pool instead of the bundle.
    assert!(verify_chain(&pem("leaf.crt"), &pem("chain.pem"), NOW).is_ok());
}

#[test]
fn refusals_name_the_reason() {
    let chain = [pem("leaf.crt"), pem("intermediate.crt")].concat();
    // The intermediate alone is not a self-signed anchor.
    assert_eq!(
        verify_chain(&chain, &pem("intermediate.crt"), NOW)
            .unwrap_err()
            .rule,
        rules::CERT_UNTRUSTED
    );
    assert_eq!(
        verify_chain(&chain, &pem("rogue-ca.crt"), NOW)
            .unwrap_err()
            .rule,
        rules::CERT_UNTRUSTED
    );
    assert_eq!(
        verify_chain(&pem("leaf.crt"), &pem("root.crt"), NOW)
            .unwrap_err()
            .rule,
        rules::CERT_UNTRUSTED
    );
    // A CA certificate is not a signing certificate.
    assert_eq!(
        verify_chain(&pem("intermediate.crt"), &pem("root.crt"), NOW)
            .unwrap_err()
            .rule,
        rules::CERT_USAGE
    );
    assert_eq!(
        verify_chain(&[], &pem("root.crt"), NOW).unwrap_err().rule,
        rules::CERT_UNTRUSTED
    );
}
