//! The Sigstore `trusted_root.json` (protobuf-specs `TrustedRoot`, media type
//! `application/vnd.dev.sigstore.trustedroot+json;version=0.1`): transparency
//! log keys (ECDSA, and Ed25519 for Rekor v2), CT log keys, Fulcio CA chains
//! and RFC 3161 timestamp authorities, each with its validity window. Keys of
//! types this gate cannot use (RSA) are kept as unusable, so an entry that
//! needs one fails closed instead of being skipped silently.

use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::bundle::b64;
use crate::keys::PublicKey;

/// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410), before the
/// 32 key bytes.
const ED25519_SPKI: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// A transparency-log key: ECDSA (Rekor v1, CT logs) or Ed25519 (Rekor v2).
#[derive(Debug, Clone)]
pub enum LogPublicKey {
    /// ECDSA, hashed with the curve's hash.
    Ecdsa(PublicKey),
    /// Ed25519 (RFC 8032).
    Ed25519(ed25519_dalek::VerifyingKey),
}

impl LogPublicKey {
    /// Parse a DER SubjectPublicKeyInfo.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, String> {
        if let Some(raw) = der.strip_prefix(&ED25519_SPKI[..]) {
            let raw: [u8; 32] = raw.try_into().map_err(|_| "bad Ed25519 key length")?;
            return ed25519_dalek::VerifyingKey::from_bytes(&raw)
                .map(LogPublicKey::Ed25519)
                .map_err(|e| format!("bad Ed25519 key: {e}"));
        }
        PublicKey::from_spki_der(der).map(LogPublicKey::Ecdsa)
    }

    /// Verify `sig` (DER ECDSA, or 64-byte Ed25519) over `message`.
    pub fn verify(&self, message: &[u8], sig: &[u8]) -> bool {
        match self {
            LogPublicKey::Ecdsa(k) => k.verify(message, sig),
            LogPublicKey::Ed25519(k) => ed25519_dalek::Signature::from_slice(sig)
                .is_ok_and(|s| k.verify_strict(message, &s).is_ok()),
        }
    }
}

/// A log (Rekor or CT) key with its id and validity.
#[derive(Debug, Clone)]
pub struct LogKey {
    /// `logId.keyId` (SHA-256 of the DER public key).
    pub key_id: Vec<u8>,
    /// The key, or why it cannot be used.
    pub key: Result<LogPublicKey, String>,
    /// Valid from (unix seconds).
    pub start: Option<u64>,
    /// Valid until (unix seconds).
    pub end: Option<u64>,
}

impl LogKey {
    /// Whether the key was valid at `t`.
    pub fn valid_at(&self, t: u64) -> bool {
        self.start.is_none_or(|s| s <= t) && self.end.is_none_or(|e| t <= e)
    }
}

/// A Fulcio certificate authority: its chain (DER) and validity.
#[derive(Debug, Clone)]
pub struct Authority {
    /// Certificates, leaf-most first (as in the file).
    pub certs: Vec<Vec<u8>>,
    /// Valid from.
    pub start: Option<u64>,
    /// Valid until.
    pub end: Option<u64>,
}

/// The parsed trusted root.
#[derive(Debug, Clone, Default)]
pub struct TrustedRoot {
    /// Rekor keys.
    pub tlogs: Vec<LogKey>,
    /// Certificate-transparency log keys.
    pub ctlogs: Vec<LogKey>,
    /// Fulcio CAs.
    pub authorities: Vec<Authority>,
    /// RFC 3161 timestamp authorities (`timestampAuthorities`).
    pub tsas: Vec<Authority>,
}

/// Parse an RFC 3339 UTC time with optional fraction (`2022-10-31T23:59:59.999Z`).
pub fn rfc3339(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    if b.len() < 20
        || !text.ends_with('Z')
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let n = |r: std::ops::Range<usize>| text.get(r)?.parse::<u64>().ok();
    let (y, mo, d, h, mi, s) = (
        n(0..4)?,
        n(5..7)?,
        n(8..10)?,
        n(11..13)?,
        n(14..16)?,
        n(17..19)?,
    );
    let frac = &text[19..text.len() - 1];
    if !(frac.is_empty()
        || (frac.starts_with('.')
            && frac.len() > 1
            && frac[1..].bytes().all(|c| c.is_ascii_digit())))
    {
        return None;
    }
    if !(1970..=9999).contains(&y)
        || !(1..=12).contains(&mo)
        || !(1..=31).contains(&d)
        || h > 23
        || mi > 59
        || s > 60
    {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let (y, m) = if mo <= 2 {
        (y - 1, mo + 9)
    } else {
        (y, mo - 3)
    };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + s)
}

fn window(v: Option<&Value>) -> Result<(Option<u64>, Option<u64>), String> {
    let get = |k: &str| -> Result<Option<u64>, String> {
        match v.and_then(|w| w.get(k)).and_then(Value::as_str) {
            None => Ok(None),
            Some(t) => rfc3339(t)
                .map(Some)
                .ok_or_else(|| format!("`validFor.{k}` `{t}` is not an RFC 3339 time")),
        }
    };
    Ok((get("start")?, get("end")?))
}

fn log_keys(list: Option<&Value>) -> Result<Vec<LogKey>, String> {
    let mut out = Vec::new();
    for log in list.and_then(Value::as_array).into_iter().flatten() {
        let pk = log.get("publicKey").ok_or("a log has no `publicKey`")?;
        let raw = pk
            .get("rawBytes")
            .and_then(Value::as_str)
            .ok_or("a log key has no `rawBytes`")?;
        let der = b64("publicKey.rawBytes", raw).map_err(|e| format!("{e:?}"))?;
        let key_id = match log
            .get("logId")
            .and_then(|l| l.get("keyId"))
            .and_then(Value::as_str)
        {
            Some(k) => b64("logId.keyId", k).map_err(|e| format!("{e:?}"))?,
            None => Sha256::digest(&der).to_vec(),
        };
        let (start, end) = window(pk.get("validFor"))?;
        out.push(LogKey {
            key_id,
            key: LogPublicKey::from_spki_der(&der),
            start,
            end,
        });
    }
    Ok(out)
}

fn authorities(list: Option<&Value>) -> Result<Vec<Authority>, String> {
    let mut authorities = Vec::new();
    for ca in list.and_then(Value::as_array).into_iter().flatten() {
        let mut certs = Vec::new();
        for c in ca
            .get("certChain")
            .and_then(|c| c.get("certificates"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let raw = c
                .get("rawBytes")
                .and_then(Value::as_str)
                .ok_or("a CA certificate has no `rawBytes`")?;
            certs.push(b64("certChain.rawBytes", raw).map_err(|e| format!("{e:?}"))?);
        }
        let (start, end) = window(ca.get("validFor"))?;
        authorities.push(Authority { certs, start, end });
    }
    Ok(authorities)
}

/// Parse the trusted root JSON.
pub fn parse(text: &[u8]) -> Result<TrustedRoot, String> {
    let v: Value =
        serde_json::from_slice(text).map_err(|e| format!("trusted root is not JSON: {e}"))?;
    let media = v.get("mediaType").and_then(Value::as_str).unwrap_or("");
    if !media.starts_with("application/vnd.dev.sigstore.trustedroot") {
        return Err(format!(
            "media type `{media}` is not a Sigstore trusted root"
        ));
    }
    let root = TrustedRoot {
        tlogs: log_keys(v.get("tlogs"))?,
        ctlogs: log_keys(v.get("ctlogs"))?,
        authorities: authorities(v.get("certificateAuthorities"))?,
        tsas: authorities(v.get("timestampAuthorities"))?,
    };
    if root.tlogs.is_empty() || root.authorities.is_empty() {
        return Err("the trusted root has no transparency log or no certificate authority".into());
    }
    Ok(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_times() {
        assert_eq!(rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(rfc3339("2021-01-12T11:53:27Z"), Some(1_610_452_407));
        assert_eq!(rfc3339("2022-10-31T23:59:59.999Z"), Some(1_667_260_799));
        assert_eq!(rfc3339("2024-02-29T00:00:00Z"), Some(1_709_164_800));
        for bad in [
            "",
            "2022-10-31",
            "2022-13-01T00:00:00Z",
            "2022-10-31T23:59:59+01:00",
            "2022-10-31T23:59:59.Z",
        ] {
            assert_eq!(rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn parses_the_real_sigstore_production_root() {
        // Copied from sigstore-python's embedded TUF cache (public data).
        let text = std::fs::read(format!(
            "{}/../../tests/fixtures/signature/keyless/sigstore-prod-trusted_root.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let root = parse(&text).unwrap();
        assert!(
            root.tlogs
                .iter()
                .any(|l| l.key.is_ok() && l.key_id.len() == 32)
        );
        assert!(root.ctlogs.len() >= 2);
        assert!(root.authorities.iter().all(|a| !a.certs.is_empty()));
        assert!(parse(b"{}").is_err());
    }
}
