//! The signed certificate timestamps embedded in a Fulcio certificate
//! (RFC 6962 §3.2, §3.3): at least one must be by a CT log of the trusted
//! root and verify over the precertificate (the TBS without the SCT list,
//! plus the issuer's key hash).

use sha2::{Digest as _, Sha256};
use x509_cert::Certificate;
use x509_cert::der::asn1::OctetString;
use x509_cert::der::oid::ObjectIdentifier;
use x509_cert::der::{Decode, Encode};

use crate::trusted_root::LogKey;

/// The embedded SCT list extension.
pub const SCT_LIST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.4.2");

/// One parsed SCT.
#[derive(Debug, Clone)]
struct Sct {
    log_id: Vec<u8>,
    timestamp: u64,
    extensions: Vec<u8>,
    signature: Vec<u8>,
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn uint(&mut self, n: usize) -> Option<u64> {
        Some(
            self.take(n)?
                .iter()
                .fold(0u64, |a, b| (a << 8) | u64::from(*b)),
        )
    }
    fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = self.uint(2)? as usize;
        self.take(n)
    }
}

fn parse_list(tls: &[u8]) -> Option<Vec<Sct>> {
    let mut outer = Reader(tls);
    let mut list = Reader(outer.vec16()?);
    let mut out = Vec::new();
    while !list.0.is_empty() {
        let mut r = Reader(list.vec16()?);
        if r.uint(1)? != 0 {
            continue; // only v1 SCTs exist
        }
        let log_id = r.take(32)?.to_vec();
        let timestamp = r.uint(8)?;
        let extensions = r.vec16()?.to_vec();
        let (hash, sig_alg) = (r.uint(1)?, r.uint(1)?);
        let signature = r.vec16()?.to_vec();
        if hash == 4 && sig_alg == 3 {
            out.push(Sct {
                log_id,
                timestamp,
                extensions,
                signature,
            });
        }
    }
    Some(out)
}

/// Verify that `leaf` (issued by `issuer`) carries an SCT from one of `logs`.
/// Returns the SCT time (milliseconds) on success.
pub fn verify(leaf: &Certificate, issuer: &Certificate, logs: &[LogKey]) -> Result<u64, String> {
    let exts = leaf.tbs_certificate.extensions.as_deref().unwrap_or(&[]);
    let ext = exts
        .iter()
        .find(|e| e.extn_id == SCT_LIST)
        .ok_or("the certificate carries no signed certificate timestamp")?;
    let inner = OctetString::from_der(ext.extn_value.as_bytes())
        .map_err(|e| format!("the SCT list is malformed: {e}"))?;
    let scts = parse_list(inner.as_bytes()).ok_or("the SCT list is malformed")?;
    let mut tbs = leaf.tbs_certificate.clone();
    tbs.extensions = tbs
        .extensions
        .map(|v| v.into_iter().filter(|e| e.extn_id != SCT_LIST).collect());
    let tbs = tbs.to_der().map_err(|e| e.to_string())?;
    let issuer_key = issuer
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| e.to_string())?;
    let issuer_hash = Sha256::digest(&issuer_key);
    let mut reasons = Vec::new();
    for sct in &scts {
        let Some(log) = logs.iter().find(|l| l.key_id == sct.log_id) else {
            reasons.push(format!("SCT by unknown log {}", hex::encode(&sct.log_id)));
            continue;
        };
        let Ok(key) = &log.key else {
            reasons.push("SCT by a log whose key type is not supported".into());
            continue;
        };
        let mut signed = vec![0u8, 0u8];
        signed.extend_from_slice(&sct.timestamp.to_be_bytes());
        signed.extend_from_slice(&[0, 1]);
        signed.extend_from_slice(&issuer_hash);
        let n = tbs.len();
        signed.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
        signed.extend_from_slice(&tbs);
        signed.extend_from_slice(&(sct.extensions.len() as u16).to_be_bytes());
        signed.extend_from_slice(&sct.extensions);
        if key.verify(&signed, &sct.signature) && log.valid_at(sct.timestamp / 1000) {
            return Ok(sct.timestamp);
        }
        reasons.push("an SCT signature does not verify".into());
    }
    Err(if reasons.is_empty() {
        "no usable SCT in the certificate".into()
    } else {
        reasons.join("; ")
    })
}
