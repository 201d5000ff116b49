//! Sigstore keyless verification against a `trusted_root.json`, offline: the
//! Rekor entry (inclusion proof + checkpoint, or SET for v0.1 bundles) binds
//! this signature and certificate; the signing times are the log's
//! authenticated time and every RFC 3161 timestamp (all must verify, at
//! least one time is required, Rekor v2 gives none); the Fulcio
//! certificate chains to a CA of the trusted root at that time, carries a
//! valid SCT from a trusted CT log, and names the identity and OIDC issuer
//! the policy requires (exact or whole-string regex).

use regex::Regex;
use x509_cert::Certificate;
use x509_cert::der::Decode;
use x509_cert::der::asn1::Utf8StringRef;
use x509_cert::der::oid::ObjectIdentifier;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;

use crate::bundle::{Bundle, BundleVersion, Content};
use crate::config::Config;
use crate::rekor::{self, Expected};
use crate::rules;
use crate::sct;
use crate::trusted_root::{self, TrustedRoot};
use crate::tsa;
use crate::x509::{self, ChainError, Leaf};

/// Fulcio's OIDC issuer extension (v2, DER UTF8String).
const ISSUER_V2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.8");
/// Fulcio's OIDC issuer extension (v1, raw string; deprecated).
const ISSUER_V1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.1");

/// An exact value or a whole-string regex.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// Must be equal.
    Exact(String),
    /// Must match entirely.
    Regex(Regex),
}

impl Matcher {
    fn new(what: &str, exact: &Option<String>, regex: &Option<String>) -> Result<Self, String> {
        match (exact, regex) {
            (Some(e), None) => Ok(Matcher::Exact(e.clone())),
            (None, Some(r)) => Regex::new(&format!("^(?:{r})$"))
                .map(Matcher::Regex)
                .map_err(|e| format!("`{what}_regex` is not a valid regex: {e}")),
            (Some(_), Some(_)) => Err(format!("give `{what}` or `{what}_regex`, not both")),
            (None, None) => Err(format!(
                "keyless verification needs `{what}` or `{what}_regex` in the config"
            )),
        }
    }

    fn matches(&self, v: &str) -> bool {
        match self {
            Matcher::Exact(e) => e == v,
            Matcher::Regex(r) => r.is_match(v),
        }
    }

    fn describe(&self) -> String {
        match self {
            Matcher::Exact(e) => format!("`{e}`"),
            Matcher::Regex(r) => format!("regex `{}`", r.as_str()),
        }
    }
}

/// The trusted root and the identity policy.
#[derive(Debug, Clone)]
pub struct KeylessPolicy {
    root: TrustedRoot,
    identity: Matcher,
    issuer: Matcher,
    time: Option<u64>,
}

impl KeylessPolicy {
    /// Build from the trusted root JSON and the config (`identity[_regex]`,
    /// `issuer[_regex]` required); `time` overrides the log's signing time.
    pub fn new(root: &[u8], cfg: &Config, time: Option<u64>) -> Result<Self, String> {
        Ok(KeylessPolicy {
            root: trusted_root::parse(root)?,
            identity: Matcher::new("identity", &cfg.identity, &cfg.identity_regex)?,
            issuer: Matcher::new("issuer", &cfg.issuer, &cfg.issuer_regex)?,
            time,
        })
    }
}

fn err(rule: &'static str, message: impl Into<String>) -> ChainError {
    ChainError {
        rule,
        message: message.into(),
    }
}

/// The identities (SAN email and URI values) and OIDC issuer of a Fulcio leaf.
pub fn identity_of(c: &Certificate) -> (Vec<String>, Option<String>) {
    let mut ids = Vec::new();
    if let Ok(Some((_, san))) = c.tbs_certificate.get::<SubjectAltName>() {
        for n in san.0 {
            match n {
                GeneralName::Rfc822Name(s) => ids.push(s.to_string()),
                GeneralName::UniformResourceIdentifier(s) => ids.push(s.to_string()),
                _ => {}
            }
        }
    }
    let exts = c.tbs_certificate.extensions.as_deref().unwrap_or(&[]);
    let v2 = exts.iter().find(|e| e.extn_id == ISSUER_V2).and_then(|e| {
        Utf8StringRef::from_der(e.extn_value.as_bytes())
            .ok()
            .map(|s| s.as_str().to_string())
    });
    let v1 = || {
        exts.iter()
            .find(|e| e.extn_id == ISSUER_V1)
            .and_then(|e| String::from_utf8(e.extn_value.as_bytes().to_vec()).ok())
    };
    (ids, v2.or_else(v1))
}

/// Verify the keyless material of `b`; `signed` is the DSSE payload or the
/// artifact SHA-256 of a message signature.
pub fn verify(b: &Bundle, policy: &KeylessPolicy, signed: &[u8]) -> Result<Leaf, ChainError> {
    let leaf_der = b.material.certificates.first().ok_or_else(|| {
        err(
            rules::CERT_UNTRUSTED,
            "the keyless bundle carries no signing certificate",
        )
    })?;
    let (signatures, envelope) = match &b.content {
        Content::Dsse(env) => (env.signatures.clone(), Some(env)),
        Content::Message { signature, .. } => (vec![signature.clone()], None),
    };
    if b.material.tlog_entries.is_empty() {
        return Err(err(
            rules::TLOG_INVALID,
            "the keyless bundle has no transparency-log entry",
        ));
    }
    let want = Expected {
        signed,
        dsse: envelope.is_some(),
        signatures: &signatures,
        leaf: leaf_der,
        envelope,
    };
    let mut why = Vec::new();
    let mut verified = None;
    for e in &b.material.tlog_entries {
        match rekor::verify_entry(
            e,
            &policy.root.tlogs,
            &want,
            b.version != BundleVersion::V01,
        ) {
            Ok(v) if b.version == BundleVersion::V01 && !v.set => {
                why.push("a v0.1 bundle needs a signed entry timestamp".to_string())
            }
            Ok(v) => {
                verified = Some(v);
                break;
            }
            Err(m) => why.push(m),
        }
    }
    let entry = verified.ok_or_else(|| {
        err(
            rules::TLOG_INVALID,
            format!("no transparency-log entry verifies: {}", why.join("; ")),
        )
    })?;
    let mut times: Vec<u64> = entry.time.into_iter().collect();
    for (i, ts) in b.material.rfc3161.iter().enumerate() {
        let t = tsa::verify(ts, &signatures, &policy.root.tsas).map_err(|m| {
            err(
                rules::TIMESTAMP_INVALID,
                format!("RFC 3161 timestamp {} of the bundle: {m}", i + 1),
            )
        })?;
        times.push(t);
    }
    if times.is_empty() {
        return Err(err(
            rules::TIMESTAMP_INVALID,
            "no signing time is authenticated: the log entry has no signed entry timestamp (SET) or checkpoint time, and the bundle has no RFC 3161 timestamp",
        ));
    }
    let (start, end) = entry.log_window;
    if times
        .iter()
        .any(|&t| start.is_some_and(|s| t < s) || end.is_some_and(|e| t > e))
    {
        return Err(err(
            rules::TLOG_INVALID,
            "the transparency log's key was not valid at the signing time",
        ));
    }
    let times = policy.time.map_or(times, |t| vec![t]);
    let mut chain = None;
    for &time in &times {
        let pool: Vec<Vec<u8>> = policy
            .root
            .authorities
            .iter()
            .filter(|a| a.start.is_none_or(|s| s <= time) && a.end.is_none_or(|e| time <= e))
            .flat_map(|a| a.certs.iter().cloned())
            .collect();
        chain = Some((
            x509::verify_chain(&b.material.certificates, &pool, time)?,
            pool,
        ));
    }
    let Some((leaf, pool)) = chain else {
        return Err(err(rules::TIMESTAMP_INVALID, "no signing time"));
    };
    let mut candidates: Vec<Certificate> = Vec::new();
    for d in b.material.certificates.iter().skip(1).chain(&pool) {
        candidates
            .push(Certificate::from_der(d).map_err(|e| err(rules::BUNDLE_INVALID, e.to_string()))?);
    }
    let issuer = x509::issuer_of(&leaf.cert, &candidates).ok_or_else(|| {
        err(
            rules::CERT_UNTRUSTED,
            "the signing certificate's issuer is not available",
        )
    })?;
    sct::verify(&leaf.cert, &issuer, &policy.root.ctlogs)
        .map_err(|m| err(rules::SCT_INVALID, m))?;
    let (ids, oidc) = identity_of(&leaf.cert);
    let Some(id) = ids.iter().find(|i| policy.identity.matches(i)) else {
        return Err(err(
            rules::IDENTITY_MISMATCH,
            format!(
                "signed by {}, but the policy requires identity {}",
                if ids.is_empty() {
                    "no identity".into()
                } else {
                    ids.join(", ")
                },
                policy.identity.describe()
            ),
        ));
    };
    match &oidc {
        Some(o) if policy.issuer.matches(o) => {}
        _ => {
            return Err(err(
                rules::IDENTITY_MISMATCH,
                format!(
                    "OIDC issuer {}, but the policy requires {}",
                    oidc.as_deref().unwrap_or("(none)"),
                    policy.issuer.describe()
                ),
            ));
        }
    }
    Ok(Leaf {
        subject: format!("{id} via {}", oidc.unwrap_or_default()),
        ..leaf
    })
}

#[cfg(test)]
#[path = "keyless_tests.rs"]
mod tests;
