//! Zip archives read the way PyTorch's miniz reads them: by the central
//! directory (zip64 included), names matched case-insensitively, data
//! located through the local header. Differences that let two readers see
//! two archives (local/central mismatch, duplicate names, flags) are
//! findings. Every member is sniffed and scanned by content; stored members
//! are read in place, compressed ones (deflate, bzip2, LZMA, zstd)
//! decompressed within bounds. PyTorch tensor
//! storages (`*/data/N`) are never read.

use std::collections::HashMap;

use mlgate_plugin_sdk::Severity;

use super::compress;
use super::lzma::Lzma;
use crate::rules;
use crate::scan::Scanner;
use crate::source::Blob;

/// Most central directory entries read.
const MAX_ENTRIES: usize = 200_000;
/// Largest central directory read.
const MAX_CD_BYTES: u64 = 64 << 20;

/// One central directory entry.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Name as stored.
    pub name: String,
    /// General purpose flags.
    pub flags: u16,
    /// Compression method.
    pub method: u16,
    /// Compressed size.
    pub csize: u64,
    /// Uncompressed size.
    pub usize: u64,
    /// Local header offset.
    pub offset: u64,
}

fn u16le(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2)
        .map_or(0, |s| u16::from_le_bytes([s[0], s[1]]))
}

fn u32le(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn u64le(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8)
        .map_or(0, |s| u64::from_le_bytes(s.try_into().unwrap_or([0; 8])))
}

/// Read the central directory. `Err` explains why the archive is unreadable.
pub fn central_directory(blob: &Blob) -> Result<(Vec<Entry>, bool), String> {
    let len = blob.len();
    let tail_len = len.min(65_557);
    let tail = blob
        .read_at(len - tail_len, tail_len as usize)
        .map_err(|e| e.to_string())?;
    let eocd = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| tail[i..].starts_with(b"PK\x05\x06"))
        .ok_or("no end-of-central-directory record")?;
    let eocd_pos = len - tail_len + eocd as u64;
    let e = &tail[eocd..];
    let mut count = u16le(e, 10) as u64;
    let mut cd_size = u32le(e, 12) as u64;
    let mut cd_offset = u32le(e, 16) as u64;
    if (count == 0xffff || cd_size == 0xffff_ffff || cd_offset == 0xffff_ffff) && eocd_pos >= 20 {
        let loc = blob.read_at(eocd_pos - 20, 20).map_err(|e| e.to_string())?;
        if loc.starts_with(b"PK\x06\x07") {
            let z = blob
                .read_at(u64le(&loc, 8), 56)
                .map_err(|e| e.to_string())?;
            if !z.starts_with(b"PK\x06\x06") {
                return Err("zip64 end record not found where the locator points".into());
            }
            count = u64le(&z, 32);
            cd_size = u64le(&z, 40);
            cd_offset = u64le(&z, 48);
        }
    }
    if cd_offset.saturating_add(cd_size) > len {
        return Err(format!(
            "central directory at {cd_offset}+{cd_size} lies outside the file"
        ));
    }
    let truncated = cd_size > MAX_CD_BYTES || count as usize > MAX_ENTRIES;
    let cd = blob
        .read_at(cd_offset, cd_size.min(MAX_CD_BYTES) as usize)
        .map_err(|e| e.to_string())?;
    let mut entries = Vec::new();
    let mut p = 0usize;
    while p + 46 <= cd.len() && entries.len() < MAX_ENTRIES && (entries.len() as u64) < count {
        if !cd[p..].starts_with(b"PK\x01\x02") {
            return Err(format!(
                "bad central directory entry at {}",
                cd_offset + p as u64
            ));
        }
        let (n, x, c) = (
            u16le(&cd, p + 28) as usize,
            u16le(&cd, p + 30) as usize,
            u16le(&cd, p + 32) as usize,
        );
        let Some(name_raw) = cd.get(p + 46..p + 46 + n) else {
            break;
        };
        let extra = cd.get(p + 46 + n..p + 46 + n + x).unwrap_or(&[]);
        let mut entry = Entry {
            name: String::from_utf8_lossy(name_raw).into_owned(),
            flags: u16le(&cd, p + 8),
            method: u16le(&cd, p + 10),
            csize: u32le(&cd, p + 20) as u64,
            usize: u32le(&cd, p + 24) as u64,
            offset: u32le(&cd, p + 42) as u64,
        };
        apply_zip64(&mut entry, extra);
        entries.push(entry);
        p += 46 + n + x + c;
    }
    Ok((entries, truncated))
}

fn apply_zip64(e: &mut Entry, extra: &[u8]) {
    let mut q = 0;
    while q + 4 <= extra.len() {
        let (id, size) = (u16le(extra, q), u16le(extra, q + 2) as usize);
        if id == 1 {
            let mut f = q + 4;
            for field in [&mut e.usize, &mut e.csize, &mut e.offset] {
                if *field == 0xffff_ffff && f + 8 <= q + 4 + size {
                    *field = u64le(extra, f);
                    f += 8;
                }
            }
        }
        q += 4 + size;
    }
}

/// A PyTorch tensor storage or metadata member, which `torch.load` never
/// unpickles: `archive/data/0`, `archive/version`, `archive/byteorder`, ...
fn torch_raw_member(name: &str, torch: bool) -> bool {
    if !torch {
        return false;
    }
    let lower = name.to_ascii_lowercase();
    let tail = lower.split_once('/').map_or(lower.as_str(), |(_, t)| t);
    let storage = tail
        .strip_prefix("data/")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    storage
        || matches!(
            tail,
            "version"
                | ".format_version"
                | "byteorder"
                | ".storage_alignment"
                | ".data/version"
                | ".data/serialization_id"
        )
}

/// Scan a zip archive and its members.
pub fn scan(scanner: &mut Scanner, blob: &Blob, chain: &mut Vec<String>, depth: u32) -> bool {
    let (entries, truncated) = match central_directory(blob) {
        Ok(x) => x,
        Err(why) => {
            scanner.hit(
                rules::MALFORMED,
                Severity::Medium,
                chain,
                None,
                format!("zip archive cannot be read: {why}"),
                vec![("format".into(), "zip".into())],
                "zip",
            );
            return true;
        }
    };
    if truncated {
        scanner.hit(
            rules::SCAN_LIMIT,
            Severity::High,
            chain,
            None,
            format!(
                "zip central directory too large; only the first {} entries scanned",
                entries.len()
            ),
            vec![],
            "zip-entries",
        );
    }
    let torch = entries
        .iter()
        .any(|e| e.name.to_ascii_lowercase().ends_with("data.pkl"));
    let mut seen: HashMap<String, usize> = HashMap::new();
    for e in &entries {
        let folded = e.name.to_ascii_lowercase();
        let n = seen.entry(folded).or_insert(0);
        *n += 1;
        if *n == 2 {
            scanner.hit(
                rules::DUPLICATE_ENTRY,
                Severity::High,
                chain,
                Some(e.offset),
                format!("zip has several entries named `{}` (case-insensitively); readers disagree on which one loads", e.name),
                vec![("entry".into(), e.name.clone())],
                &e.name,
            );
        }
    }
    for e in &entries {
        if e.name.ends_with('/') || torch_raw_member(&e.name, torch) {
            continue;
        }
        scanner.stats.members += 1;
        chain.push(e.name.clone());
        scan_member(scanner, blob, e, chain, depth);
        chain.pop();
    }
    true
}

fn scan_member(scanner: &mut Scanner, blob: &Blob, e: &Entry, chain: &mut Vec<String>, depth: u32) {
    let local = blob.read_at(e.offset, 30).unwrap_or_default();
    if local.len() < 30 || !local.starts_with(b"PK\x03\x04") {
        scanner.hit(
            rules::MALFORMED,
            Severity::Medium,
            chain,
            Some(e.offset),
            format!("no local header at offset {} for this entry", e.offset),
            vec![("format".into(), "zip".into())],
            "local-header",
        );
        return;
    }
    let (n, x) = (u16le(&local, 26) as u64, u16le(&local, 28) as u64);
    let local_name = blob.read_at(e.offset + 30, n as usize).unwrap_or_default();
    let local_name = String::from_utf8_lossy(&local_name);
    let local_method = u16le(&local, 8);
    let local_flags = u16le(&local, 6);
    let mut diffs = Vec::new();
    if local_name != e.name {
        diffs.push(format!("name `{local_name}` vs `{}`", e.name));
    }
    if local_method != e.method {
        diffs.push(format!("method {local_method} vs {}", e.method));
    }
    if (local_flags ^ e.flags) & 0x0001 != 0 {
        diffs.push("encryption flag differs".into());
    }
    if !diffs.is_empty() {
        scanner.hit(
            rules::HEADER_MISMATCH,
            Severity::High,
            chain,
            Some(e.offset),
            format!(
                "local header disagrees with the central directory: {}",
                diffs.join(", ")
            ),
            vec![("local_name".into(), local_name.to_string())],
            &e.name,
        );
    }
    if e.flags & 0x0001 != 0 {
        scanner.hit(
            rules::UNSUPPORTED,
            Severity::High,
            chain,
            Some(e.offset),
            "encrypted zip member cannot be inspected".into(),
            vec![],
            "encrypted",
        );
        return;
    }
    let data_start = e.offset + 30 + n + x;
    if data_start.saturating_add(e.csize) > blob.len() {
        scanner.hit(
            rules::MALFORMED,
            Severity::Medium,
            chain,
            Some(e.offset),
            format!(
                "member data ({} bytes at {data_start}) runs past the end of the archive",
                e.csize
            ),
            vec![("format".into(), "zip".into())],
            "member-bounds",
        );
    }
    let data = blob.slice(data_start, e.csize);
    match e.method {
        0 => scanner.scan_blob(&data, chain, depth + 1),
        8 => {
            let Ok(r) = data.open() else { return };
            let r = std::io::BufReader::new(r);
            let what = "deflated zip member";
            if let Some(bytes) =
                compress::inflate(
                    scanner,
                    flate2::read::DeflateDecoder::new(r),
                    chain,
                    what,
                    compress::deflate_plausible(e.usize, e.csize),
                )
            {
                compress::scan_inflated(scanner, bytes, chain, depth);
            }
        }
        12 => {
            let Ok(r) = data.open() else { return };
            let what = "bzip2 zip member";
            if let Some(bytes) =
                compress::inflate(
                    scanner,
                    bzip2::read::BzDecoder::new(r),
                    chain,
                    what,
                    Some(e.usize),
                )
            {
                compress::scan_inflated(scanner, bytes, chain, depth);
            }
        }
        14 => scan_lzma_member(scanner, &data, e, chain, depth),
        93 => {
            let what = "zstd zip member";
            match super::zstd::decode(scanner, &data, chain, what, Some(e.usize)) {
                Some(bytes) => compress::scan_inflated(scanner, bytes, chain, depth),
                None => scanner.hit(
                    rules::MALFORMED,
                    Severity::Medium,
                    chain,
                    Some(e.offset),
                    "zstd zip member does not start a zstd frame".into(),
                    vec![("format".into(), "zip".into())],
                    "zstd-header",
                ),
            }
        }
        m => scanner.hit(
            rules::UNSUPPORTED,
            Severity::High,
            chain,
            Some(e.offset),
            format!(
                "zip compression method {m} is not supported (stored, deflate, bzip2, LZMA and zstd are); member not inspected"
            ),
            vec![("method".into(), m.to_string())],
            "method",
        ),
    }
}

/// An LZMA member (method 14, which Python's zipfile writes and numpy and
/// Keras read): a 4-byte version/props-size header, the 5 LZMA properties,
/// then the raw stream, ended by an end marker when flag bit 1 is set.
fn scan_lzma_member(
    scanner: &mut Scanner,
    data: &Blob,
    e: &Entry,
    chain: &mut Vec<String>,
    depth: u32,
) {
    let head = data.read_at(0, 9).unwrap_or_default();
    if head.len() < 9 || u16le(&head, 2) != 5 {
        scanner.hit(
            rules::MALFORMED,
            Severity::Medium,
            chain,
            Some(e.offset),
            "LZMA zip member has no valid properties header".into(),
            vec![("format".into(), "zip".into())],
            "lzma-header",
        );
        return;
    }
    let size = if e.flags & 0x0002 != 0 {
        u64::MAX
    } else {
        e.usize
    };
    let mut alone = head[4..9].to_vec();
    alone.extend(size.to_le_bytes());
    let Ok(r) = data.slice(9, data.len()).open() else {
        return;
    };
    let input = std::io::BufReader::new(std::io::Read::chain(std::io::Cursor::new(alone), r));
    let what = "LZMA zip member";
    let declared = Some(e.usize);
    if let Some(bytes) = super::lzma::decode(scanner, Lzma::Alone, input, chain, what, declared) {
        compress::scan_inflated(scanner, bytes, chain, depth);
    }
}

#[cfg(test)]
#[path = "zip_tests.rs"]
mod tests;
