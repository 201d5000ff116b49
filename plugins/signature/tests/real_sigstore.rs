//! Keyless verification of REAL bundles made by the Sigstore public-good
//! (production) instance, copied from public repositories with the artifact
//! they sign and the production `trusted_root.json`
//! (tests/fixtures/signature/real-sigstore/README.md names the sources).
//! Everything runs offline.

use std::path::{Path, PathBuf};

use mlgate_plugin_signature::config::Config;
use mlgate_plugin_signature::keyless::KeylessPolicy;
use mlgate_plugin_signature::verify::{Outcome, Trust, verify_model};
use serde_json::{Value, json};

/// The sigstore-conformance signer: a GitHub Actions workflow identity.
const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn fx(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/signature/real-sigstore")
        .join(p)
}

fn policy(cfg: Value, root: &str) -> Trust {
    let cfg: Config = serde_json::from_value(cfg).unwrap();
    let text = std::fs::read(fx(root)).unwrap();
    Trust::Keyless(Box::new(KeylessPolicy::new(&text, &cfg, None).unwrap()))
}

fn good() -> Trust {
    policy(
        json!({"identity": IDENTITY, "issuer": ISSUER}),
        "trusted_root.json",
    )
}

fn run(artifact: &Path, bundle: &str, trust: &Trust) -> Outcome {
    let text = std::fs::read(fx(bundle)).unwrap();
    verify_model(artifact, bundle, &text, trust, &[], None).unwrap()
}

fn rules(o: &Outcome) -> Vec<String> {
    o.findings
        .iter()
        .map(|f| format!("{}: {}", f.rule_id, f.message))
        .collect()
}

#[test]
fn production_message_signature_bundle_v02_verifies() {
    let o = run(&fx("a.txt"), "a.txt.v0.2.sigstore.json", &good());
    assert!(o.findings.is_empty(), "{:?}", rules(&o));
    assert!(o.signer.contains(IDENTITY), "{}", o.signer);
}
