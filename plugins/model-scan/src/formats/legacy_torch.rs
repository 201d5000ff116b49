//! The `storages` and `tensors` members of the pre-1.0 `torch.save` tar,
//! read the way `torch.load` reads them: pickles interleaved with raw
//! bytes, so a pickle after the first storage's data is only found by
//! skipping exactly what the loader skips.
//!
//! - `storages`: a count pickle, then per storage an args pickle
//!   `(key, location, storage_type)`, an int64 element count and
//!   `count x element size` data bytes; then the storage-views pickle.
//! - `tensors`: a count pickle, then per tensor an args pickle, an int32
//!   `ndim`, 4 padding bytes, `ndim` int64 sizes, `ndim` int64 strides and
//!   an int64 storage offset.

use mlgate_plugin_sdk::Severity;

use crate::rules;
use crate::scan::Scanner;
use crate::source::Blob;

/// Most records followed in one member.
const MAX_RECORDS: usize = 1_000_000;

/// Which legacy member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Member {
    /// `storages`.
    Storages,
    /// `tensors`.
    Tensors,
}

impl Member {
    /// The member for a tar entry name, if it is one of the two.
    pub fn from_name(name: &str) -> Option<Member> {
        match name {
            "storages" => Some(Member::Storages),
            "tensors" => Some(Member::Tensors),
            _ => None,
        }
    }
}

/// Bytes per element of a legacy storage class (`torch.FloatStorage`, ...).
pub fn element_size(module: &str, name: &str) -> Option<u64> {
    if module != "torch" && module != "torch.cuda" {
        return None;
    }
    Some(match name.strip_suffix("Storage")? {
        "Double" | "Long" | "ComplexFloat" => 8,
        "Float" | "Int" | "QInt32" => 4,
        "Half" | "BFloat16" | "Short" => 2,
        "Char" | "Byte" | "Bool" | "QInt8" | "QUInt8" | "QUInt4x2" | "QUInt2x4" => 1,
        "ComplexDouble" => 16,
        _ => return None,
    })
}

fn le(blob: &Blob, at: u64, n: usize) -> Option<i64> {
    let b = blob.read_at(at, n).ok()?;
    match n {
        4 => Some(i32::from_le_bytes(b.try_into().ok()?) as i64),
        8 => Some(i64::from_le_bytes(b.try_into().ok()?)),
        _ => None,
    }
}

/// Scan a `storages` or `tensors` member; every pickle the loader would
/// unpickle is run and reported.
pub fn scan(scanner: &mut Scanner, blob: &Blob, member: Member, chain: &[String]) {
    let Some(first) = scanner.pickle_at(blob, 0, chain) else {
        return;
    };
    if !first.stopped {
        return;
    }
    let mut pos = first.end;
    for _ in 0..MAX_RECORDS {
        if pos >= blob.len() {
            return;
        }
        let Some(rep) = scanner.pickle_at(blob, pos, chain) else {
            return;
        };
        if !rep.stopped {
            return; // the error (or limit) is reported; the loader stops here too
        }
        let raw = match member {
            Member::Storages => {
                // The views pickle (or an unknown storage type, reported as a
                // global) ends what the loader reads.
                let Some(size) = rep
                    .globals
                    .iter()
                    .rev()
                    .find_map(|g| element_size(&g.module, &g.name))
                else {
                    return;
                };
                le(blob, rep.end, 8)
                    .and_then(|n| u64::try_from(n).ok()?.checked_mul(size)?.checked_add(8))
            }
            Member::Tensors => le(blob, rep.end, 4)
                .and_then(|ndim| u64::try_from(ndim).ok()?.checked_mul(16)?.checked_add(16)),
        };
        let next = raw.and_then(|n| rep.end.checked_add(n));
        match next {
            Some(next) if next <= blob.len() => pos = next,
            _ => {
                scanner.hit(
                    rules::MALFORMED,
                    Severity::Medium,
                    chain,
                    Some(rep.end),
                    format!(
                        "legacy torch {member:?} record at offset {} declares raw data past the end of the member",
                        rep.end
                    ),
                    vec![("format".into(), "torch-legacy".into())],
                    "legacy-record",
                );
                return;
            }
        }
    }
    scanner.hit(
        rules::SCAN_LIMIT,
        Severity::High,
        chain,
        Some(pos),
        format!("more than {MAX_RECORDS} legacy torch records; the rest were not scanned"),
        vec![],
        "legacy-records",
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    use crate::test_support::fixture;

    #[test]
    fn element_sizes() {
        assert_eq!(element_size("torch", "FloatStorage"), Some(4));
        assert_eq!(element_size("torch.cuda", "HalfStorage"), Some(2));
        assert_eq!(element_size("torch", "Tensor"), None);
        assert_eq!(element_size("os", "FloatStorage"), None);
    }

    #[test]
    fn payload_after_raw_storage_bytes_is_found() {
        let cfg = Config::default();
        let mut scanner = Scanner::new(&cfg);
        let hits = scanner.scan_file(&fixture("malicious/legacy_tar_storages.pt"));
        let hit = hits
            .iter()
            .find(|h| h.rule == rules::DANGEROUS_GLOBAL)
            .expect("posix.system in the second storage's args pickle");
        assert_eq!(hit.member, ["storages"]);
        // after the count pickle, the first args pickle and 8 + 12 raw bytes
        assert!(hit.offset.unwrap() > 20, "{hit:?}");
        // count, two args and the views in `storages`; count and two in `tensors`;
        // `sys_info` and `pickle`
        assert_eq!(scanner.stats.pickles, 9);
    }

    #[test]
    fn benign_legacy_tar_is_clean_and_fully_walked() {
        let cfg = Config::default();
        let mut scanner = Scanner::new(&cfg);
        let hits = scanner.scan_file(&fixture("benign/legacy_tar_storages.pt"));
        assert!(hits.iter().all(|h| h.severity.rank() <= 1), "{hits:?}");
        assert_eq!(scanner.stats.pickles, 9);
    }

    #[test]
    fn raw_length_past_the_end_is_malformed() {
        let mut v = b"\x80\x02K\x01.".to_vec();
        v.extend(b"\x80\x02X\x01\x00\x00\x000X\x03\x00\x00\x00cpuctorch\nFloatStorage\n\x87.");
        v.extend(1000i64.to_le_bytes());
        let cfg = Config::default();
        let mut scanner = Scanner::new(&cfg);
        scan(&mut scanner, &Blob::mem(v), Member::Storages, &[]);
        assert!(scanner.hits.iter().any(|h| h.rule == rules::MALFORMED));
    }
}
