//! The body of a Rekor entry (`canonicalizedBody`) must be about this
//! bundle: the same payload or artifact digest, the same signatures and the
//! same signing certificate. Rekor v1 kinds `hashedrekord` v0.0.1, `dsse`
//! v0.0.1 and `intoto` v0.0.2 (with its envelope hash recomputed); Rekor v2
//! kinds `hashedrekord` and `dsse` v0.0.2.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::bundle::Envelope;

/// What the entry must bind to.
pub struct Expected<'a> {
    /// DSSE: the payload; message signature: the artifact digest.
    pub signed: &'a [u8],
    /// Whether `signed` is a DSSE payload (else an artifact SHA-256).
    pub dsse: bool,
    /// The signatures (DER) the bundle carries.
    pub signatures: &'a [Vec<u8>],
    /// The signing certificate (DER).
    pub leaf: &'a [u8],
    /// The DSSE envelope, when the bundle carries one (its payload type and
    /// key ids are bound by `intoto` entries).
    pub envelope: Option<&'a Envelope>,
}

/// The string at `path` in `v`.
pub(crate) fn s<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(v, |v, k| v.get(*k))
        .and_then(Value::as_str)
}

/// The body must be about this bundle: same payload/artifact hash, same
/// signatures, same certificate.
pub(crate) fn check_body(body: &[u8], want: &Expected) -> Result<(), String> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("the entry body is not JSON: {e}"))?;
    let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
    let api = v.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let spec = v.get("spec").ok_or("the entry body has no spec")?;
    if api == "0.0.2" && (kind == "hashedrekord" || kind == "dsse") {
        return check_body_v2(kind, spec, want);
    }
    let cert_of = |b64pem: Option<&str>| -> Option<Vec<u8>> {
        let pem = STANDARD.decode(b64pem?).ok()?;
        use x509_cert::der::{DecodePem, Encode};
        x509_cert::Certificate::from_pem(&pem).ok()?.to_der().ok()
    };
    let digest_hex = if want.dsse {
        hex::encode(Sha256::digest(want.signed))
    } else {
        hex::encode(want.signed)
    };
    let (hash, sigs, certs): (Option<&str>, Vec<Option<String>>, Vec<Option<&str>>) =
        match (kind, want.dsse) {
            ("dsse", true) => {
                let list = spec
                    .get("signatures")
                    .and_then(Value::as_array)
                    .ok_or("dsse entry without signatures")?;
                (
                    s(spec, &["payloadHash", "value"]),
                    list.iter()
                        .map(|x| s(x, &["signature"]).map(str::to_string))
                        .collect(),
                    list.iter().map(|x| s(x, &["verifier"])).collect(),
                )
            }
            // intoto v0.0.2 (npm provenance, cosign attest): the envelope's
            // signatures are base64 of the base64 signature text.
            ("intoto", true) => {
                if v.get("apiVersion").and_then(Value::as_str) != Some("0.0.2") {
                    return Err("only intoto v0.0.2 log entries are supported".into());
                }
                let list = spec
                    .pointer("/content/envelope/signatures")
                    .and_then(Value::as_array)
                    .ok_or("intoto entry without envelope signatures")?;
                let once = |t: Option<&str>| {
                    t.and_then(|t| STANDARD.decode(t).ok())
                        .and_then(|b| String::from_utf8(b).ok())
                };
                check_intoto_hash(spec, want.envelope)?;
                (
                    s(spec, &["content", "payloadHash", "value"]),
                    list.iter().map(|x| once(s(x, &["sig"]))).collect(),
                    list.iter().map(|x| s(x, &["publicKey"])).collect(),
                )
            }
            ("hashedrekord", false) => (
                s(spec, &["data", "hash", "value"]),
                vec![s(spec, &["signature", "content"]).map(str::to_string)],
                vec![s(spec, &["signature", "publicKey", "content"])],
            ),
            _ => {
                return Err(format!(
                    "log entry kind `{kind}` does not match the bundle content"
                ));
            }
        };
    if hash != Some(digest_hex.as_str()) {
        return Err("the log entry records a different payload digest".into());
    }
    let mut logged: Vec<Vec<u8>> = sigs
        .iter()
        .filter_map(|x| x.as_ref().and_then(|t| STANDARD.decode(t).ok()))
        .collect();
    let mut ours = want.signatures.to_vec();
    logged.sort();
    ours.sort();
    if logged != ours {
        return Err("the log entry records different signatures".into());
    }
    if certs
        .iter()
        .any(|c| cert_of(*c).as_deref() != Some(want.leaf))
    {
        return Err("the log entry records a different signing certificate".into());
    }
    Ok(())
}

/// The envelope hash an `intoto` v0.0.2 entry records (`spec.content.hash`).
/// Rekor does not compute it: the client sends it and Rekor stores it as
/// given (rekor `pkg/types/intoto/v0.0.2/entry.go`, which leaves it out of
/// its index keys because it "can't deterministically calculate this
/// server-side"). The one client scheme in use for bundles is sigstore-js's
/// `calculateDSSEHash` (`packages/sign/src/witness/tlog/entry.ts`, npm
/// provenance): SHA-256 of the canonical JSON (sorted keys, no whitespace)
/// of `{payload, payloadType, signatures: [{keyid?, publicKey, sig}]}` with
/// the payload and the first signature in base64, the signer's PEM
/// certificate as `publicKey`, and `keyid` only when not empty.
pub fn intoto_envelope_hash(env: &Envelope, public_key_pem: &str) -> Option<String> {
    let q = |t: &str| serde_json::to_string(t).ok();
    let sig = env.signatures.first()?;
    let keyid = match env.keyids.first().map(String::as_str) {
        Some(k) if !k.is_empty() => format!("\"keyid\":{},", q(k)?),
        _ => String::new(),
    };
    let canonical = format!(
        "{{\"payload\":{},\"payloadType\":{},\"signatures\":[{{{keyid}\"publicKey\":{},\"sig\":{}}}]}}",
        q(&STANDARD.encode(&env.payload))?,
        q(&env.payload_type)?,
        q(public_key_pem)?,
        q(&STANDARD.encode(sig))?,
    );
    Some(hex::encode(Sha256::digest(canonical.as_bytes())))
}

/// An `intoto` entry must record this envelope: its payload type, one
/// signature, and the envelope hash recomputed by [`intoto_envelope_hash`].
fn check_intoto_hash(spec: &Value, env: Option<&Envelope>) -> Result<(), String> {
    let env = env.ok_or("an intoto log entry for a bundle without a DSSE envelope")?;
    if s(spec, &["content", "envelope", "payloadType"]) != Some(env.payload_type.as_str()) {
        return Err("the intoto log entry records another payload type".into());
    }
    let logged = spec
        .pointer("/content/envelope/signatures")
        .and_then(Value::as_array)
        .filter(|l| l.len() == 1 && env.signatures.len() == 1)
        .ok_or("intoto log entries are checked for single-signature envelopes only")?;
    let pem = s(&logged[0], &["publicKey"])
        .and_then(|t| STANDARD.decode(t).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or("the intoto log entry's publicKey is not base64 PEM")?;
    if s(spec, &["content", "hash", "algorithm"]) != Some("sha256") {
        return Err("the intoto log entry's envelope hash is not SHA-256".into());
    }
    let recorded = s(spec, &["content", "hash", "value"]).ok_or("intoto entry without hash")?;
    if intoto_envelope_hash(env, &pem).as_deref() != Some(recorded) {
        return Err(format!(
            "the envelope hash recorded in the intoto log entry ({recorded}) is not the hash of this envelope"
        ));
    }
    Ok(())
}

/// Rekor v2 bodies (`hashedRekordV002` / `dsseV002`): base64 digests, DER
/// signatures and the DER certificate as `verifier.x509Certificate`.
fn check_body_v2(kind: &str, spec: &Value, want: &Expected) -> Result<(), String> {
    let digest = if want.dsse {
        Sha256::digest(want.signed).to_vec()
    } else {
        want.signed.to_vec()
    };
    let (hash, sigs) = match (kind, want.dsse) {
        ("hashedrekord", false) => {
            let h = spec.pointer("/hashedRekordV002/data");
            let sig = spec
                .pointer("/hashedRekordV002/signature")
                .ok_or("hashedrekord v0.0.2 entry without signature")?;
            (h, vec![sig])
        }
        ("dsse", true) => {
            let h = spec.pointer("/dsseV002/payloadHash");
            let list = spec
                .pointer("/dsseV002/signatures")
                .and_then(Value::as_array)
                .ok_or("dsse v0.0.2 entry without signatures")?;
            (h, list.iter().collect())
        }
        _ => {
            return Err(format!(
                "log entry kind `{kind}` v0.0.2 does not match the bundle content"
            ));
        }
    };
    let hash = hash.ok_or("the v0.0.2 entry records no digest")?;
    if s(hash, &["algorithm"]) != Some("SHA2_256")
        || s(hash, &["digest"]).and_then(|d| STANDARD.decode(d).ok()) != Some(digest)
    {
        return Err("the log entry records a different payload digest".into());
    }
    let mut logged = Vec::new();
    for sig in sigs {
        logged.push(
            s(sig, &["content"])
                .and_then(|t| STANDARD.decode(t).ok())
                .ok_or("a logged signature is not base64")?,
        );
        let cert = s(sig, &["verifier", "x509Certificate", "rawBytes"])
            .and_then(|t| STANDARD.decode(t).ok());
        if cert.as_deref() != Some(want.leaf) {
            return Err("the log entry records a different signing certificate".into());
        }
    }
    let mut ours = want.signatures.to_vec();
    logged.sort();
    ours.sort();
    if logged != ours {
        return Err("the log entry records different signatures".into());
    }
    Ok(())
}
