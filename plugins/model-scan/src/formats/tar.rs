//! Tar archives (legacy pre-1.0 `torch.save` wrote `sys_info`, `pickle`,
//! `storages`, `tensors` into a tar; checkpoints also travel as tarballs).
//! Regular-file members are read in place and scanned by content; GNU long
//! names and pax `path` records are honoured. Pickle members named
//! `storages` / `tensors` are read like the legacy loader reads them
//! ([`super::legacy_torch`]).

use mlgate_plugin_sdk::Severity;

use super::legacy_torch;
use crate::rules;
use crate::scan::Scanner;
use crate::sniff::{Kind, sniff};
use crate::source::Blob;

/// Most members visited.
const MAX_MEMBERS: usize = 100_000;

fn octal(field: &[u8]) -> Option<u64> {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        // base-256 (GNU) for large sizes
        let mut v: u64 = 0;
        for (i, b) in field.iter().enumerate() {
            let b = if i == 0 { b & 0x7f } else { *b };
            v = v.checked_mul(256)?.checked_add(b as u64)?;
        }
        return Some(v);
    }
    let text = std::str::from_utf8(field).ok()?;
    let t = text.trim_matches(|c: char| c == '\0' || c == ' ');
    if t.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(t, 8).ok()
}

fn cstr(field: &[u8]) -> String {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

/// Scan a tar archive's members.
pub fn scan(scanner: &mut Scanner, blob: &Blob, chain: &mut Vec<String>, depth: u32) -> bool {
    let mut pos = 0u64;
    let mut long_name: Option<String> = None;
    let mut members = 0usize;
    while pos + 512 <= blob.len() {
        let Ok(h) = blob.read_at(pos, 512) else { break };
        if h.iter().all(|&b| b == 0) {
            break;
        }
        let Some(size) = octal(&h[124..136]) else {
            scanner.hit(
                rules::MALFORMED,
                Severity::Medium,
                chain,
                Some(pos),
                format!("tar header at {pos} has an invalid size"),
                vec![("format".into(), "tar".into())],
                "tar-size",
            );
            break;
        };
        let kind = h[156];
        let data = pos + 512;
        if data.saturating_add(size) > blob.len() {
            scanner.hit(
                rules::MALFORMED,
                Severity::Medium,
                chain,
                Some(pos),
                format!("tar member at {pos} declares {size} bytes past the end of the archive"),
                vec![("format".into(), "tar".into())],
                "tar-bounds",
            );
        }
        let mut name = cstr(&h[0..100]);
        if &h[257..262] == b"ustar" {
            let prefix = cstr(&h[345..500]);
            if !prefix.is_empty() {
                name = format!("{prefix}/{name}");
            }
        }
        if let Some(n) = long_name.take() {
            name = n;
        }
        match kind {
            b'L' | b'x' => {
                let raw = blob
                    .read_at(data, size.min(1 << 20) as usize)
                    .unwrap_or_default();
                long_name = if kind == b'L' {
                    Some(cstr(&raw))
                } else {
                    String::from_utf8_lossy(&raw)
                        .lines()
                        .find_map(|l| l.split_once(" path=").map(|(_, p)| p.to_string()))
                };
            }
            b'0' | 0 | b'7' => {
                members += 1;
                if members > MAX_MEMBERS {
                    scanner.hit(
                        rules::SCAN_LIMIT,
                        Severity::High,
                        chain,
                        Some(pos),
                        format!(
                            "tar has more than {MAX_MEMBERS} members; the rest were not scanned"
                        ),
                        vec![],
                        "tar-members",
                    );
                    break;
                }
                scanner.stats.members += 1;
                let member = blob.slice(data, size);
                let legacy = legacy_torch::Member::from_name(&name).filter(|_| {
                    let head = member.read_at(0, 512).unwrap_or_default();
                    matches!(sniff(&head, member.len()), Kind::Pickle | Kind::MaybePickle)
                });
                chain.push(name);
                match legacy {
                    Some(which) => legacy_torch::scan(scanner, &member, which, chain),
                    None => scanner.scan_blob(&member, chain, depth + 1),
                }
                chain.pop();
            }
            _ => {}
        }
        pos = data.saturating_add(size.div_ceil(512).saturating_mul(512));
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_fields() {
        assert_eq!(octal(b"00000000012\0"), Some(10));
        assert_eq!(octal(b"\0\0\0"), Some(0));
        assert_eq!(octal(&[0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]), Some(256));
        assert_eq!(octal(b"zz"), None);
    }
}
