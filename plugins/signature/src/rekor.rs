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

use crate::bundle::b64;
pub use crate::rekor_body::{Expected, intoto_envelope_hash};
use crate::rekor_body::{check_body, s};
use crate::trusted_root::LogKey;

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
