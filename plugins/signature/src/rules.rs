//! Every failure mode of the gate as a distinct rule: id, default severity,
//! summary and help. Findings are built only through [`finding`], so a rule id
//! that is not declared here cannot be reported.

use mlgate_plugin_sdk::{Finding, Severity};

/// One rule: id, severity, summary, help (how to fix).
pub struct RuleDef {
    /// Stable rule id.
    pub id: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// One line: what the rule means.
    pub summary: &'static str,
    /// How to fix it.
    pub help: &'static str,
}

macro_rules! rules {
    ($($name:ident = $id:literal, $sev:ident, $summary:literal, $help:literal;)*) => {
        $(
            #[doc = $summary]
            pub const $name: &str = $id;
        )*
        /// All rules, for `describe()`.
        pub const ALL: &[RuleDef] = &[
            $(RuleDef { id: $id, severity: Severity::$sev, summary: $summary, help: $help },)*
        ];
    };
}

rules! {
    BUNDLE_INVALID = "signature-bundle-invalid", Critical,
        "The signature file is not a well-formed Sigstore bundle / DSSE envelope / in-toto statement",
        "Re-sign the model with `model_signing sign` or `mlgate sign`; the signature file may be truncated or hand-edited.";
    UNSUPPORTED_MEDIA_TYPE = "signature-unsupported-media-type", Critical,
        "The bundle's media type is not a Sigstore bundle v0.1, v0.2 or v0.3",
        "Sign with a tool that writes application/vnd.dev.sigstore.bundle(.v0.3)+json bundles.";
    UNSUPPORTED = "signature-unsupported", Critical,
        "The signature uses a format, predicate, serialization, hash or key type this gate cannot verify",
        "Re-sign with model signing v1.0 (files or shards, SHA-256 or BLAKE2b) and an ECDSA P-256/P-384/P-521 key.";
    BAD_SIGNATURE = "signature-invalid", Critical,
        "The cryptographic signature does not verify: the payload was altered or signed by another key",
        "Do not ship this model. Re-sign it from a trusted build, and find out who altered the signature or payload.";
    UNTRUSTED_KEY = "signature-untrusted-key", Critical,
        "The bundle names a signing key other than the trusted public key",
        "Check that `public_key` is the release key the model was signed with; re-sign with it if the model is genuine.";
    MANIFEST_INCONSISTENT = "signature-manifest-inconsistent", Critical,
        "The signed root digest does not match the resource digests listed in the payload",
        "The signed statement is internally inconsistent; re-sign the model.";
    DIGEST_MISMATCH = "signature-digest-mismatch", Critical,
        "A model file's content differs from the signed digest",
        "The file changed after signing. Restore the signed file, or re-sign if the change is intended.";
    FILE_MISSING = "signature-file-missing", Critical,
        "A file covered by the signature is missing from the model",
        "Restore the missing file (or re-sign the model without it).";
    FILE_UNSIGNED = "signature-file-unsigned", Critical,
        "A file in the model is not covered by the signature",
        "Remove the extra file, re-sign the model including it, or list it in `ignore_paths`.";
    PATH_INVALID = "signature-path-invalid", Critical,
        "The signed manifest holds a duplicate, non-normalised or escaping path, or an ignore path that hides the model",
        "Re-sign with a tool that writes normalised relative paths (`a/b`, never `./a`, `a/../b` or `/a`).";
    SYMLINK = "signature-symlink", Critical,
        "The model holds a symbolic link that is not allowed or points outside the model",
        "Replace the link by the file it points to and re-sign.";
    CERT_UNTRUSTED = "signature-cert-untrusted", Critical,
        "The signing certificate does not chain to a trusted root",
        "Sign with a certificate issued under one of the given roots, or add the right root to `certificate_chain`.";
    CERT_EXPIRED = "signature-cert-expired", Critical,
        "A certificate in the chain is expired or not yet valid at the verification time",
        "Re-sign with a currently valid certificate.";
    CERT_USAGE = "signature-cert-usage", Critical,
        "A certificate's CA, key-usage or extended-key-usage constraints forbid this use",
        "Use a leaf with keyUsage digitalSignature and extendedKeyUsage codeSigning, issued by CA certificates.";
    IDENTITY_MISMATCH = "signature-identity-mismatch", Critical,
        "The signer's identity or OIDC issuer is not the one the policy requires",
        "Check `identity`/`issuer` (or their regex forms); the model was signed by someone else.";
    TLOG_INVALID = "signature-tlog-invalid", Critical,
        "The transparency-log entry is missing or does not verify (inclusion proof, checkpoint, SET)",
        "Re-sign with Sigstore so the bundle carries a Rekor entry, and check `trusted_root`.";
    SCT_INVALID = "signature-sct-invalid", Critical,
        "The certificate's signed certificate timestamp is missing or does not verify",
        "The certificate was not logged by a trusted CT log; check `trusted_root`.";
    TIMESTAMP_INVALID = "signature-timestamp-invalid", Critical,
        "An RFC 3161 signed timestamp in the bundle does not verify, or no signing time is authenticated",
        "Check that `trusted_root` lists the timestamp authority that stamped the bundle; re-sign if the timestamp was altered.";
}

/// A finding for a declared rule, at its default severity, with a stable
/// fingerprint from the rule, the path and the subject.
pub fn finding(
    rule: &'static str,
    path: &str,
    subject: &str,
    message: impl Into<String>,
) -> Finding {
    let severity = ALL
        .iter()
        .find(|r| r.id == rule)
        .map(|r| r.severity)
        .unwrap_or(Severity::Critical);
    Finding::new(rule, severity, message)
        .at(path, None)
        .fingerprint(&[rule, path, subject])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_unique_and_documented() {
        let mut ids: Vec<_> = ALL.iter().map(|r| r.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), ALL.len());
        assert!(
            ALL.iter()
                .all(|r| !r.help.is_empty() && r.id.starts_with("signature-"))
        );
    }
}
