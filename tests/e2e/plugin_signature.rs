//! `builtin:signature` through the real binary, on bundles written by the real
//! model_signing CLI (tests/fixtures/signature, see gen.sh) and tampered
//! copies of the model.

use std::path::{Path, PathBuf};

use crate::harness::{check_json, repo_root, temp_dir};

fn fx(p: &str) -> PathBuf {
    repo_root().join("tests/fixtures/signature").join(p)
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn check(
    model: &Path,
    sig: &Path,
    trust: (&str, &Path),
    sets: &[&str],
) -> (i32, serde_json::Value) {
    let mut args = vec![
        "--input".to_string(),
        format!("model={}", model.display()),
        "--input".to_string(),
        format!("signature={}", sig.display()),
        "--input".to_string(),
        format!("{}={}", trust.0, trust.1.display()),
    ];
    for s in sets {
        args.push("--set".into());
        args.push(s.to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, json, stderr) = check_json("signature", &args);
    assert!(json["gates"].is_array(), "{json}\n{stderr}");
    (code, json)
}

/// `(rule_id, message)` of every finding of the single gate.
fn findings(json: &serde_json::Value) -> Vec<(String, String)> {
    json["gates"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn signature_key_mode_passes_on_model_signing_bundles() {
    for c in ["p256", "p384", "p521"] {
        let (code, json) = check(
            &fx("model"),
            &fx(&format!("sigs/key-{c}.sig")),
            ("public_key", &fx(&format!("keys/{c}.pub"))),
            &[],
        );
        assert_eq!(code, 0, "{c}: {json}");
        assert_eq!(json["gates"][0]["status"], "pass");
    }
    let (code, json) = check(
        &fx("model"),
        &fx("sigs/sharded-p256.sig"),
        ("public_key", &fx("keys/p256.pub")),
        &[],
    );
    assert_eq!(code, 0, "{json}");
}

#[test]
fn signature_tampered_model_names_each_file() {
    let dir = temp_dir();
    let model = dir.path().join("model");
    copy_tree(&fx("model"), &model);
    std::fs::write(model.join("weights.bin"), b"trojaned").unwrap();
    std::fs::write(model.join("extra.pkl"), b"x").unwrap();
    std::fs::remove_file(model.join("README.md")).unwrap();
    let (code, json) = check(
        &model,
        &fx("sigs/key-p256.sig"),
        ("public_key", &fx("keys/p256.pub")),
        &[],
    );
    assert_eq!(code, 1, "{json}");
    let got = findings(&json);
    for (rule, file) in [
        ("signature-digest-mismatch", "weights.bin"),
        ("signature-file-unsigned", "extra.pkl"),
        ("signature-file-missing", "README.md"),
    ] {
        assert!(
            got.iter().any(|(r, m)| r == rule && m.contains(file)),
            "{rule} {file}: {got:?}"
        );
    }
    // The extra file is allowed once listed in ignore_paths.
    let (_, json) = check(
        &model,
        &fx("sigs/key-p256.sig"),
        ("public_key", &fx("keys/p256.pub")),
        &["ignore_paths=extra.pkl,other"],
    );
    assert!(
        !findings(&json)
            .iter()
            .any(|(r, _)| r == "signature-file-unsigned")
    );
}

#[test]
fn signature_wrong_key_and_bad_bundles_fail() {
    let cases = [
        (
            "sigs/key-p256.sig",
            "keys/other.pub",
            "signature-untrusted-key",
        ),
        (
            "sigs/tampered-badsig.sig",
            "keys/p256.pub",
            "signature-invalid",
        ),
        (
            "sigs/tampered-mediatype.sig",
            "keys/p256.pub",
            "signature-unsupported-media-type",
        ),
    ];
    for (sig, key, rule) in cases {
        let (code, json) = check(&fx("model"), &fx(sig), ("public_key", &fx(key)), &[]);
        assert_eq!(code, 1, "{sig}: {json}");
        assert_eq!(findings(&json)[0].0, rule, "{sig}");
    }
}

#[test]
fn signature_certificate_mode_and_expiry() {
    let at = "verify_time=2027-01-15T00:00:00Z";
    let (code, json) = check(
        &fx("model"),
        &fx("sigs/cert.sig"),
        ("certificate_chain", &fx("pki/root.crt")),
        &[at],
    );
    assert_eq!(code, 0, "{json}");
    let (code, json) = check(
        &fx("model"),
        &fx("sigs/cert-rogue.sig"),
        ("certificate_chain", &fx("pki/root.crt")),
        &[at],
    );
    assert_eq!(
        (code, findings(&json)[0].0.as_str()),
        (1, "signature-cert-untrusted")
    );
    let (code, json) = check(
        &fx("model"),
        &fx("sigs/cert.sig"),
        ("certificate_chain", &fx("pki/root.crt")),
        &["verify_time=2100-01-01T00:00:00Z"],
    );
    assert_eq!(
        (code, findings(&json)[0].0.as_str()),
        (1, "signature-cert-expired")
    );
}

#[test]
fn signature_cosign_blob() {
    let (code, json) = check(
        &fx("cosign/blob.bin"),
        &fx("cosign/blob.sig"),
        ("public_key", &fx("keys/p256.pub")),
        &[],
    );
    assert_eq!(code, 0, "{json}");
    let (code, json) = check(
        &fx("single.bin"),
        &fx("cosign/blob.sig"),
        ("public_key", &fx("keys/other.pub")),
        &[],
    );
    assert_eq!(
        (code, findings(&json)[0].0.as_str()),
        (1, "signature-invalid")
    );
}

#[test]
fn signature_without_trust_input_is_an_error() {
    let (code, json, _) = check_json(
        "signature",
        &[
            "--input",
            &format!("model={}", fx("model").display()),
            "--input",
            &format!("signature={}", fx("sigs/key-p256.sig").display()),
        ],
    );
    assert_eq!(code, 1, "{json}");
    assert_eq!(json["gates"][0]["status"], "error");
}

#[test]
fn signature_real_production_sigstore_bundle_through_the_gate() {
    // A bundle made by the real Sigstore public-good instance (see
    // tests/fixtures/signature/real-sigstore/README.md), verified offline.
    let identity = "identity=https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
    let issuer = "issuer=https://token.actions.githubusercontent.com";
    let real = |p: &str| fx(&format!("real-sigstore/{p}"));
    let bundle = real("a.txt.v0.2.sigstore.json");
    let (code, json) = check(
        &real("a.txt"),
        &bundle,
        ("trusted_root", &real("trusted_root.json")),
        &[identity, issuer],
    );
    assert_eq!(code, 0, "{json}");
    assert_eq!(json["gates"][0]["status"], "pass");
    let (code, json) = check(
        &real("a.txt"),
        &bundle,
        ("trusted_root", &real("trusted_root.json")),
        &["identity=release@example.com", issuer],
    );
    assert_eq!(code, 1, "{json}");
    assert_eq!(findings(&json)[0].0, "signature-identity-mismatch");
    let (code, json) = check(
        &real("a.txt"),
        &bundle,
        ("trusted_root", &real("staging-trusted_root.json")),
        &[identity, issuer],
    );
    assert_eq!(code, 1, "{json}");
    assert_eq!(findings(&json)[0].0, "signature-tlog-invalid");
}

#[test]
fn signature_real_model_signing_keyless_bundle_through_the_gate() {
    // A production OpenSSF model-signing 1.1.0 bundle (v0.3, Rekor dsse
    // entry, RFC 3161 timestamp) over its model directory, verified offline
    // (tests/fixtures/signature/real-sigstore/README.md).
    let identity = "identity=stefanb@us.ibm.com";
    let issuer = "issuer=https://sigstore.verify.ibm.com/oauth2";
    let real = |p: &str| fx(&format!("real-sigstore/{p}"));
    let model = real("model-signing-v1.1.0-sigstore");
    let root = ("trusted_root", real("trusted_root.json"));
    let bundle = model.join("model.sig");
    let (code, json) = check(&model, &bundle, (root.0, &root.1), &[identity, issuer]);
    assert_eq!(code, 0, "{json}");
    assert_eq!(json["gates"][0]["status"], "pass");

    // One changed byte in a signed file is named.
    let dir = temp_dir();
    let copy = dir.path().join("model");
    copy_tree(&model, &copy);
    std::fs::write(copy.join("signme-1"), "signme-X").unwrap();
    let (code, json) = check(
        &copy,
        &copy.join("model.sig"),
        (root.0, &root.1),
        &[identity, issuer],
    );
    assert_eq!(code, 1, "{json}");
    let found = findings(&json);
    assert!(
        found
            .iter()
            .any(|(rule, msg)| rule == "signature-digest-mismatch" && msg.contains("signme-1")),
        "{found:?}"
    );
    // Another signer is refused.
    let (code, json) = check(
        &model,
        &bundle,
        (root.0, &root.1),
        &["identity=release@example.com", issuer],
    );
    assert_eq!(code, 1, "{json}");
    assert_eq!(findings(&json)[0].0, "signature-identity-mismatch");
}

#[test]
fn signature_real_rekor_v2_staging_bundle_through_the_gate() {
    // sigstore-python's staging bundle: v0.3, Rekor v2 hashedrekord entry,
    // time from an RFC 3161 timestamp.
    let real = |p: &str| fx(&format!("real-sigstore/{p}"));
    let sets = [
        "identity=jku@goto.fi",
        "issuer=https://github.com/login/oauth",
    ];
    let artifact = real("staging-rekor-v2.txt");
    let bundle = real("staging-rekor-v2.txt.sigstore.json");
    let staging = real("staging-trusted_root.json");
    let (code, json) = check(&artifact, &bundle, ("trusted_root", &staging), &sets);
    assert_eq!(code, 0, "{json}");
    assert_eq!(json["gates"][0]["status"], "pass");
    let production = real("trusted_root.json");
    let (code, json) = check(&artifact, &bundle, ("trusted_root", &production), &sets);
    assert_eq!(code, 1, "{json}");
    assert_eq!(findings(&json)[0].0, "signature-tlog-invalid");
}

#[test]
fn signature_keyless_bundle_timestamped_by_an_rsa_tsa_through_the_gate() {
    // tests/fixtures/signature/gen_tsa_rsa.sh: a keyless v0.3 bundle whose
    // RFC 3161 token comes from a local RSA-2048 TSA made with `openssl ts`,
    // its signer named by issuer+serial and by subjectKeyIdentifier.
    let sets = [
        "identity=release@example.com",
        "issuer=https://accounts.example.com",
    ];
    let root = fx("tsa-rsa/trusted_root.json");
    for name in ["keyless-v0.3-rsa-tsa.sig", "keyless-v0.3-rsa-tsa-ski.sig"] {
        let bundle = fx(&format!("tsa-rsa/{name}"));
        let (code, json) = check(&fx("model"), &bundle, ("trusted_root", &root), &sets);
        assert_eq!(code, 0, "{name}: {json}");
        assert_eq!(json["gates"][0]["status"], "pass");
    }
    // The same bundle against the same root without that TSA fails closed.
    let bundle = fx("tsa-rsa/keyless-v0.3-rsa-tsa.sig");
    let other = fx("keyless/trusted_root.json");
    let (code, json) = check(&fx("model"), &bundle, ("trusted_root", &other), &sets);
    assert_eq!(code, 1, "{json}");
    assert_eq!(findings(&json)[0].0, "signature-timestamp-invalid");
}
