//! Compressed streams (gzip, bzip2, xz, raw LZMA, zlib, zstd: joblib's
//! compressors and `.tar.gz` checkpoints) and the bounded decompression
//! every archive reader uses: at most `max_member_bytes` (and what is left
//! of `max_memory_bytes`) are kept; a stream that inflates past that is a
//! `scan-limit` finding, and its prefix is still scanned.

use std::io::{BufReader, Read};

use mlgate_plugin_sdk::Severity;

use super::lzma::{self, Lzma};
use crate::rules;
use crate::scan::Scanner;
use crate::sniff::{Kind, sniff};
use crate::source::Blob;

/// Bytes of a stream sniffed before deciding whether the rest is kept.
const PREFIX: usize = 64 << 10;

/// What the rest of a stream is worth, judged from its first [`PREFIX`] bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rest {
    /// A format that may hide code later on: keep it all (bounded).
    Keep,
    /// Nothing recognised: count the bytes (bomb check), keep none.
    Count,
    /// A plain numeric `.npy` whose whole header is in the prefix: the rest
    /// is raw array data no loader runs, so it is not decompressed at all.
    Skip,
}

fn judge(prefix: &[u8]) -> Rest {
    match sniff(prefix, u64::MAX) {
        Kind::Unknown => Rest::Count,
        Kind::Npy => match super::numpy::header(&Blob::mem(prefix.to_vec())) {
            Ok((_, text)) if !super::numpy::has_objects(&text) => Rest::Skip,
            _ => Rest::Keep,
        },
        _ => Rest::Keep,
    }
}

/// Decompress `reader` into memory within the scanner's bounds. Returns the
/// bytes (possibly a prefix) or `None` when nothing could be decoded.
/// `declared` is the decompressed size the container states (zip central
/// directory, gzip trailer), if any: content no reader understands is not
/// decompressed past its prefix when the declared size is already over the
/// limit (the bomb is reported from the declaration, at no cost).
pub fn inflate(
    scanner: &mut Scanner,
    reader: impl Read,
    chain: &[String],
    what: &str,
    declared: Option<u64>,
) -> Option<Vec<u8>> {
    let room = scanner.cfg.max_memory_bytes.saturating_sub(scanner.held);
    let limit = scanner.cfg.max_member_bytes.min(room);
    let mut reader = reader.take(limit.saturating_add(1));
    // Sniff a prefix first: content no reader understands is not kept, only
    // counted (so a bomb of zeros is found without holding it in memory).
    let mut buf = Vec::new();
    let mut result = (&mut reader).take(PREFIX as u64).read_to_end(&mut buf);
    let mut total = buf.len() as u64;
    let mut declared_over = None;
    if result.is_ok() && buf.len() == PREFIX {
        match judge(&buf) {
            Rest::Keep => {
                result = read_capped(&mut reader, &mut buf, limit as usize);
                total = (buf.len() as u64).max(total + *result.as_ref().unwrap_or(&0) as u64);
            }
            Rest::Count => match declared {
                Some(d) if d > limit => declared_over = Some(d),
                _ => {
                    result = std::io::copy(&mut reader, &mut std::io::sink()).map(|n| n as usize);
                    total += *result.as_ref().unwrap_or(&0) as u64;
                }
            },
            Rest::Skip => {}
        }
    }
    scanner.stats.inflated += total;
    if let Some(d) = declared_over {
        scanner.hit(
            rules::SCAN_LIMIT,
            Severity::High,
            chain,
            None,
            format!(
                "{what} declares {d} decompressed bytes, more than the {limit}-byte limit (possible decompression bomb); its content is not a known format and was not decompressed further"
            ),
            vec![("limit".into(), limit.to_string()), ("declared".into(), d.to_string())],
            "decompression",
        );
    } else if total > limit {
        buf.truncate(limit as usize);
        scanner.hit(
            rules::SCAN_LIMIT,
            Severity::High,
            chain,
            None,
            format!(
                "{what} decompresses to more than {limit} bytes (possible decompression bomb); only the first {limit} bytes were scanned"
            ),
            vec![("limit".into(), limit.to_string())],
            "decompression",
        );
    } else if let Err(e) = result {
        if buf.is_empty() {
            return None;
        }
        scanner.hit(
            rules::MALFORMED,
            Severity::Medium,
            chain,
            Some(buf.len() as u64),
            format!(
                "{what} is corrupt after {} decompressed bytes: {e}",
                buf.len()
            ),
            vec![("format".into(), what.into())],
            "decompress",
        );
    }
    Some(buf)
}

/// Read the rest of `reader` (already bounded by `take`), keeping at most
/// `keep` bytes in `buf`; returns the bytes read (the byte past the limit
/// that proves a bomb is counted, not kept). Capacity never exceeds
/// `keep`: `read_to_end` doubled 256 MiB into 512 MiB for that one byte,
/// past the sandbox's memory limit (a gate `error`).
fn read_capped(
    reader: &mut std::io::Take<impl Read>,
    buf: &mut Vec<u8>,
    keep: usize,
) -> std::io::Result<usize> {
    let mut read = 0;
    let mut chunk = vec![0u8; PREFIX];
    loop {
        let want = (reader.limit() as usize).min(PREFIX);
        let n = match reader.read(&mut chunk[..want]) {
            Ok(0) => return Ok(read),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        read += n;
        let n = n.min(keep.saturating_sub(buf.len()));
        if buf.len() + n > buf.capacity() {
            // double while small; past 4 MiB take the whole bound at once (a
            // chain of doublings leaves every smaller block behind it in a
            // Wasm heap, which never shrinks: twice the bound in all)
            let grow = if buf.capacity() >= 4 << 20 {
                keep - buf.len()
            } else {
                buf.capacity().max(n).min(keep - buf.len())
            };
            buf.reserve_exact(grow);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Scan decompressed bytes as a nested blob, accounting for the memory held.
pub fn scan_inflated(scanner: &mut Scanner, bytes: Vec<u8>, chain: &mut Vec<String>, depth: u32) {
    let n = bytes.len() as u64;
    scanner.held += n;
    scanner.scan_blob(&Blob::mem(bytes), chain, depth + 1);
    scanner.held -= n;
}

/// Scan a compressed stream; `false` when it does not decode at all (the
/// zlib sniff is weak, so the caller then reports the format unknown).
pub fn scan(
    scanner: &mut Scanner,
    kind: Kind,
    blob: &Blob,
    chain: &mut Vec<String>,
    depth: u32,
) -> bool {
    let Ok(r) = blob.open() else {
        return false;
    };
    let r = BufReader::new(r);
    let (name, bytes) = match kind {
        Kind::Gzip => (
            "gzip",
            inflate(
                scanner,
                flate2::read::MultiGzDecoder::new(r),
                chain,
                "gzip",
                gzip_declared(blob),
            ),
        ),
        Kind::Zlib => (
            "zlib",
            inflate(
                scanner,
                flate2::read::ZlibDecoder::new(r),
                chain,
                "zlib",
                None,
            ),
        ),
        Kind::Bzip2 => (
            "bzip2",
            inflate(
                scanner,
                bzip2::read::MultiBzDecoder::new(r),
                chain,
                "bzip2",
                None,
            ),
        ),
        Kind::Zstd => (
            "zstd",
            super::zstd::decode(scanner, blob, chain, "zstd", None),
        ),
        Kind::Xz => (
            "xz",
            lzma::decode_blob(
                scanner,
                Lzma::Xz,
                blob,
                chain,
                "xz",
                lzma::xz_declared(blob),
            ),
        ),
        Kind::Lzma => (
            "lzma",
            lzma::decode_blob(scanner, Lzma::Alone, blob, chain, "lzma", None),
        ),
        _ => return false,
    };
    let Some(bytes) = bytes else {
        if kind == Kind::Zlib || kind == Kind::Lzma {
            return false;
        }
        scanner.hit(
            rules::MALFORMED,
            Severity::Medium,
            chain,
            None,
            format!("{name} stream does not decode"),
            vec![("format".into(), name.into())],
            name,
        );
        return true;
    };
    chain.push(format!("<{name}>"));
    scan_inflated(scanner, bytes, chain, depth);
    chain.pop();
    true
}

/// The decompressed size a gzip stream's trailer states (`ISIZE`, modulo
/// 2^32, of its last member): an honest stream decompresses to at least that.
fn gzip_declared(blob: &Blob) -> Option<u64> {
    let t = blob.read_at(blob.len().checked_sub(4)?, 4).ok()?;
    deflate_plausible(u32::from_le_bytes(t.try_into().ok()?) as u64, blob.len())
}

/// `declared` if `compressed` deflate bytes can produce it (deflate tops out
/// near 1032:1): trailing junk after a gzip stream is not a declaration.
pub fn deflate_plausible(declared: u64, compressed: u64) -> Option<u64> {
    (declared <= compressed.saturating_mul(1032).saturating_add(1024)).then_some(declared)
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::rules;
    use crate::scan::Scanner;

    use crate::test_support::fixture;

    #[test]
    fn bomb_is_reported_from_its_declared_size_without_inflating_it() {
        let cfg = Config::default();
        let mut scanner = Scanner::new(&cfg);
        let hits = scanner.scan_file(&fixture("malicious/bomb.zip"));
        let bomb = hits
            .iter()
            .find(|h| h.rule == rules::SCAN_LIMIT)
            .expect("the bomb is a scan-limit finding");
        assert!(bomb.message.contains("declares 1073741824"), "{bomb:?}");
        // the outer member (a ~1 MiB gzip) and the inner stream's 64 KiB
        // prefix, not the 256 MiB the limit allows
        assert!(
            scanner.stats.inflated < 4 << 20,
            "{}",
            scanner.stats.inflated
        );
    }

    #[test]
    fn kept_bytes_never_take_more_than_the_bound() {
        // 5 MiB kept, the byte past it counted: no doubling to 8 MiB
        let keep = 5 << 20;
        let mut r = std::io::Read::take(std::io::repeat(7), keep as u64 + 1);
        let mut buf = vec![7u8; super::PREFIX];
        let read = super::read_capped(&mut r, &mut buf, keep).unwrap();
        assert_eq!(read, keep + 1);
        assert_eq!(buf.len(), keep);
        assert!(buf.capacity() <= keep, "{}", buf.capacity());
    }

    #[test]
    fn lying_small_declaration_still_counts_to_the_limit() {
        // a gzip of 2 MiB zeros whose trailer claims 100 bytes
        let mut gz = Vec::new();
        let mut w = flate2::write::GzEncoder::new(&mut gz, flate2::Compression::fast());
        std::io::Write::write_all(&mut w, &vec![0u8; 2 << 20]).unwrap();
        w.finish().unwrap();
        let n = gz.len();
        gz[n - 4..].copy_from_slice(&100u32.to_le_bytes());
        let cfg = Config {
            max_member_bytes: 1 << 20,
            ..Config::default()
        };
        let mut scanner = Scanner::new(&cfg);
        scanner.scan_blob(&crate::source::Blob::mem(gz), &mut Vec::new(), 0);
        assert!(scanner.hits.iter().any(|h| h.rule == rules::SCAN_LIMIT));
    }

    #[test]
    fn junk_after_a_gzip_stream_is_not_a_declared_size() {
        // 70 000 bytes of no known format, then a trailer claiming 4 GiB - 1
        let mut gz = Vec::new();
        let mut w = flate2::write::GzEncoder::new(&mut gz, flate2::Compression::fast());
        std::io::Write::write_all(&mut w, &[0xee; 70_000]).unwrap();
        w.finish().unwrap();
        let n = gz.len();
        gz[n - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
        let cfg = Config {
            max_member_bytes: 1 << 20,
            ..Config::default()
        };
        let mut scanner = Scanner::new(&cfg);
        scanner.scan_blob(&crate::source::Blob::mem(gz), &mut Vec::new(), 0);
        assert!(
            scanner.hits.iter().all(|h| h.rule != rules::SCAN_LIMIT),
            "{:?}",
            scanner.hits
        );
    }

    #[test]
    fn compressed_numeric_npz_is_not_decompressed_past_its_header() {
        // 2 MiB of float zeros, member bound 1 MiB: not a bomb, not inflated
        let cfg = Config {
            max_member_bytes: 1 << 20,
            ..Config::default()
        };
        let mut scanner = Scanner::new(&cfg);
        let hits = scanner.scan_file(&fixture("benign/zeros_compressed.npz"));
        assert!(hits.is_empty(), "{hits:?}");
        assert!(
            scanner.stats.inflated <= 2 * (64 << 10),
            "{}",
            scanner.stats.inflated
        );
        // an object array in a deflated .npz member is still read and run
        let hits = scanner.scan_file(&fixture("malicious/arrays.npz"));
        assert!(hits.iter().any(|h| h.severity.rank() >= 4), "{hits:?}");
    }
}
