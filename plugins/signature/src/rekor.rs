//! A Rekor transparency-log entry of a bundle, checked offline: the log key
//! is in the trusted root, the entry body binds this bundle's signature and
//! certificate, and the entry is proven in the log by an inclusion proof
//! (RFC 9162 §2.1.3.2) whose root a signed checkpoint (signed note) commits
//! to, and/or by the signed entry timestamp (SET) over the canonical entry.
//! Rekor v1 kinds: `hashedrekord` v0.0.1, `dsse` v0.0.1, `intoto` v0.0.2;
//! Rekor v2 (tile logs, Ed25519 or ECDSA checkpoints, no SET and no time):
//! `hashedrekord` v0.0.2 and `dsse` v0.0.2.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::bundle::{Envelope, b64};
use crate::trusted_root::LogKey;

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

/// A verified entry: its authenticated time.
#[derive(Debug, Clone, Copy)]
pub struct Verified {
    /// Unix seconds at which the log vouches the entry existed: the
    /// integrated time when a SET covers it, else the signed checkpoint's
    /// timestamp (an upper bound). The bundle's bare `integratedTime` is not
    /// covered by an inclusion proof, so it is never trusted alone. `None`
    /// when the log gives no authenticated time (Rekor v2): the time must
    /// then come from an RFC 3161 timestamp.
    pub time: Option<u64>,
    /// The log key's validity window (start, end), checked by the caller
    /// at the signing time.
    pub log_window: (Option<u64>, Option<u64>),
    /// Whether an inclusion proof (with checkpoint) was verified.
    pub proof: bool,
    /// Whether a SET was verified.
    pub set: bool,
}

fn int(v: Option<&Value>) -> Option<u64> {
    v.and_then(|v| {
        v.as_u64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
    })
}

fn s<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(v, |v, k| v.get(*k))
        .and_then(Value::as_str)
}

fn hash_children(l: &[u8], r: &[u8]) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(l);
    h.update(r);
    h.finalize().to_vec()
}

/// RFC 9162 §2.1.3.2: the root implied by `proof` for leaf `index` of `size`.
pub fn root_from_proof(
    index: u64,
    size: u64,
    leaf_hash: &[u8],
    proof: &[Vec<u8>],
) -> Option<Vec<u8>> {
    if index >= size {
        return None;
    }
    let (mut f, mut sn, mut r) = (index, size - 1, leaf_hash.to_vec());
    for p in proof {
        if sn == 0 {
            return None;
        }
        if f & 1 == 1 || f == sn {
            r = hash_children(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                sn >>= 1;
            }
        } else {
            r = hash_children(&r, p);
        }
        f >>= 1;
        sn >>= 1;
    }
    (sn == 0).then_some(r)
}

/// A verified checkpoint: tree size, root hash, and the `Timestamp:` line
/// (Rekor v1 notes; unix seconds) when there is one.
pub type Checkpoint = (u64, Vec<u8>, Option<u64>);

/// Check a checkpoint (signed note) against the log key: returns its tree
/// size, root hash and timestamp when a signature line by this key verifies.
pub fn checkpoint(note: &str, log: &LogKey) -> Result<Checkpoint, String> {
    let key = log
        .key
        .as_ref()
        .map_err(|e| format!("the log key cannot be used: {e}"))?;
    let (body, sigs) = note
        .split_once("\n\n")
        .ok_or("the checkpoint has no signature block")?;
    let signed = format!("{body}\n");
    let mut lines = body.lines();
    let (_origin, size, root) = (lines.next(), lines.next(), lines.next());
    let size: u64 = size
        .and_then(|s| s.parse().ok())
        .ok_or("the checkpoint has no tree size")?;
    let root = root
        .and_then(|r| STANDARD.decode(r).ok())
        .ok_or("the checkpoint has no root hash")?;
    let stamp = lines
        .filter_map(|l| l.strip_prefix("Timestamp: "))
        .find_map(|t| t.parse::<u64>().ok())
        .map(|ns| ns / 1_000_000_000);
    for line in sigs.lines() {
        let Some(rest) = line.strip_prefix("\u{2014} ") else {
            continue;
        };
        let Some((_name, sig)) = rest.rsplit_once(' ') else {
            continue;
        };
        let Ok(raw) = STANDARD.decode(sig) else {
            continue;
        };
        if raw.len() > 4
            && raw[..4] == log.key_id[..4.min(log.key_id.len())]
            && key.verify(signed.as_bytes(), &raw[4..])
        {
            return Ok((size, root, stamp));
        }
    }
    Err("no checkpoint signature by the trusted log key verifies".into())
}

/// The body must be about this bundle: same payload/artifact hash, same
/// signatures, same certificate.
fn check_body(body: &[u8], want: &Expected) -> Result<(), String> {
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

/// Verify one `tlogEntries` item against the trusted logs.
pub fn verify_entry(
    entry: &Value,
    logs: &[LogKey],
    want: &Expected,
    require_proof: bool,
) -> Result<Verified, String> {
    let key_id = b64(
        "logId.keyId",
        s(entry, &["logId", "keyId"]).ok_or("entry without logId")?,
    )
    .map_err(|e| format!("{e:?}"))?;
    let log = logs
        .iter()
        .find(|l| l.key_id == key_id)
        .ok_or("the entry's log is not in the trusted root")?;
    let body_b64 = s(entry, &["canonicalizedBody"]).ok_or("entry without canonicalizedBody")?;
    let body = b64("canonicalizedBody", body_b64).map_err(|e| format!("{e:?}"))?;
    check_body(&body, want)?;
    let integrated_time = int(entry.get("integratedTime")).filter(|t| *t > 0);
    let mut out = Verified {
        time: None,
        log_window: (log.start, log.end),
        proof: false,
        set: false,
    };
    let mut checkpoint_time = None;
    if let Some(set) = s(entry, &["inclusionPromise", "signedEntryTimestamp"]) {
        let log_index = int(entry.get("logIndex")).ok_or("entry without logIndex")?;
        let integrated_time = integrated_time.ok_or("a SET without an integratedTime")?;
        let canonical = format!(
            "{{\"body\":\"{body_b64}\",\"integratedTime\":{integrated_time},\"logID\":\"{}\",\"logIndex\":{log_index}}}",
            hex::encode(&key_id)
        );
        let key = log
            .key
            .as_ref()
            .map_err(|e| format!("the log key cannot be used: {e}"))?;
        let sig = b64("signedEntryTimestamp", set).map_err(|e| format!("{e:?}"))?;
        if !key.verify(canonical.as_bytes(), &sig) {
            return Err("the signed entry timestamp (SET) does not verify".into());
        }
        out.set = true;
        out.time = Some(integrated_time);
    }
    if let Some(p) = entry.get("inclusionProof") {
        let index = int(p.get("logIndex")).ok_or("inclusion proof without logIndex")?;
        let size = int(p.get("treeSize")).ok_or("inclusion proof without treeSize")?;
        let root = b64(
            "rootHash",
            s(p, &["rootHash"]).ok_or("inclusion proof without rootHash")?,
        )
        .map_err(|e| format!("{e:?}"))?;
        let hashes = p
            .get("hashes")
            .and_then(Value::as_array)
            .ok_or("inclusion proof without hashes")?;
        let hashes = hashes
            .iter()
            .map(|h| {
                h.as_str()
                    .and_then(|t| STANDARD.decode(t).ok())
                    .ok_or("a proof hash is not base64")
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut leaf = Sha256::new();
        leaf.update([0u8]);
        leaf.update(&body);
        if root_from_proof(index, size, &leaf.finalize(), &hashes).as_deref()
            != Some(root.as_slice())
        {
            return Err("the inclusion proof does not lead to the logged root hash".into());
        }
        let note =
            s(p, &["checkpoint", "envelope"]).ok_or("inclusion proof without a checkpoint")?;
        let (cp_size, cp_root, cp_time) = checkpoint(note, log)?;
        checkpoint_time = cp_time;
        if cp_size != size || cp_root != root {
            return Err("the checkpoint does not commit to the inclusion proof's tree".into());
        }
        out.proof = true;
    }
    if require_proof && !out.proof {
        return Err("the entry has no inclusion proof (bundle v0.2+ requires one)".into());
    }
    if !out.proof && !out.set {
        return Err("the entry has neither an inclusion proof nor a signed entry timestamp".into());
    }
    if !out.set {
        out.time = checkpoint_time;
    }
    if out.time.is_some_and(|t| !log.valid_at(t)) {
        return Err("the log key was not valid at the entry's time".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(i: u8) -> Vec<u8> {
        Sha256::digest([0u8, i]).to_vec()
    }

    /// Root of leaves per RFC 9162 §2.1.1 (reference, recursive).
    fn mth(leaves: &[Vec<u8>]) -> Vec<u8> {
        if leaves.len() == 1 {
            return leaves[0].clone();
        }
        let k = leaves.len().next_power_of_two() / 2;
        hash_children(&mth(&leaves[..k]), &mth(&leaves[k..]))
    }

    /// Audit path per RFC 9162 §2.1.3.1 (reference, recursive).
    fn path(m: usize, leaves: &[Vec<u8>]) -> Vec<Vec<u8>> {
        if leaves.len() == 1 {
            return vec![];
        }
        let k = leaves.len().next_power_of_two() / 2;
        if m < k {
            let mut p = path(m, &leaves[..k]);
            p.push(mth(&leaves[k..]));
            p
        } else {
            let mut p = path(m - k, &leaves[k..]);
            p.push(mth(&leaves[..k]));
            p
        }
    }

    #[test]
    fn inclusion_proofs_for_every_leaf_of_odd_and_even_trees() {
        for n in 1..=13usize {
            let leaves: Vec<_> = (0..n as u8).map(leaf).collect();
            let root = mth(&leaves);
            for m in 0..n {
                let p = path(m, &leaves);
                assert_eq!(
                    root_from_proof(m as u64, n as u64, &leaves[m], &p),
                    Some(root.clone()),
                    "n={n} m={m}"
                );
                if n > 1 {
                    assert_ne!(
                        root_from_proof(m as u64, n as u64, &leaf(99), &p),
                        Some(root.clone())
                    );
                }
            }
        }
        assert_eq!(root_from_proof(5, 5, &leaf(0), &[]), None);
    }
}
