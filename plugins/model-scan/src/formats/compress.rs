//! Compressed streams (gzip, bzip2, xz, raw LZMA, zlib: joblib's
//! compressors and `.tar.gz` checkpoints) and the bounded decompression
//! every archive reader uses: at most `max_member_bytes` (and what is left
//! of `max_memory_bytes`) are kept; a stream that inflates past that is a
//! `scan-limit` finding, and its prefix is still scanned.

use std::io::{BufReader, Read};

use mlgate_plugin_sdk::Severity;

use crate::rules;
use crate::scan::Scanner;
use crate::sniff::{Kind, sniff};
use crate::source::Blob;

/// Decompress `reader` into memory within the scanner's bounds. Returns the
/// bytes (possibly a prefix) or `None` when nothing could be decoded.
pub fn inflate(
    scanner: &mut Scanner,
    reader: impl Read,
    chain: &[String],
    what: &str,
) -> Option<Vec<u8>> {
    let room = scanner.cfg.max_memory_bytes.saturating_sub(scanner.held);
    let limit = scanner.cfg.max_member_bytes.min(room);
    let mut reader = reader.take(limit.saturating_add(1));
    // Sniff a prefix first: content no reader understands is not kept, only
    // counted (so a bomb of zeros is found without holding it in memory).
    let mut buf = Vec::new();
    let mut result = (&mut reader).take(64 << 10).read_to_end(&mut buf);
    let mut total = buf.len() as u64;
    if result.is_ok() && buf.len() == 64 << 10 {
        if sniff(&buf, u64::MAX) == Kind::Unknown {
            result = std::io::copy(&mut reader, &mut std::io::sink()).map(|n| n as usize);
            total += *result.as_ref().unwrap_or(&0) as u64;
        } else {
            result = reader.read_to_end(&mut buf);
            total = buf.len() as u64;
        }
    }
    if total > limit {
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
            inflate(scanner, flate2::read::MultiGzDecoder::new(r), chain, "gzip"),
        ),
        Kind::Zlib => (
            "zlib",
            inflate(scanner, flate2::read::ZlibDecoder::new(r), chain, "zlib"),
        ),
        Kind::Bzip2 => (
            "bzip2",
            inflate(scanner, bzip2::read::MultiBzDecoder::new(r), chain, "bzip2"),
        ),
        Kind::Xz | Kind::Lzma => {
            let (name, which) = if kind == Kind::Xz {
                ("xz", Lzma::Xz)
            } else {
                ("lzma", Lzma::Alone)
            };
            (name, lzma_decode(scanner, which, r, chain, name))
        }
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

/// The LZMA family of containers lzma-rs decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lzma {
    /// `.xz`.
    Xz,
    /// `.lzma` ("alone": props, dictionary size, unpacked size, stream).
    Alone,
    /// A raw LZMA2 chunk stream (7z).
    Lzma2,
}

/// Decode an LZMA-family stream within the scanner's bounds (lzma-rs
/// decodes into a writer; the writer stops at the limit).
pub fn lzma_decode(
    scanner: &mut Scanner,
    kind: Lzma,
    mut r: impl std::io::BufRead,
    chain: &[String],
    name: &str,
) -> Option<Vec<u8>> {
    let room = scanner.cfg.max_memory_bytes.saturating_sub(scanner.held);
    let limit = scanner.cfg.max_member_bytes.min(room) as usize;
    let mut out = Bounded {
        buf: Vec::new(),
        limit,
        over: false,
    };
    let result = match kind {
        Lzma::Xz => lzma_rs::xz_decompress(&mut r, &mut out),
        Lzma::Lzma2 => lzma_rs::lzma2_decompress(&mut r, &mut out),
        Lzma::Alone => {
            let opts = lzma_rs::decompress::Options {
                memlimit: Some(limit),
                ..Default::default()
            };
            lzma_rs::lzma_decompress_with_options(&mut r, &mut out, &opts)
        }
    };
    if out.over {
        scanner.hit(
            rules::SCAN_LIMIT,
            Severity::High,
            chain,
            None,
            format!("{name} stream decompresses to more than {limit} bytes (possible decompression bomb); only the first {limit} bytes were scanned"),
            vec![("limit".into(), limit.to_string())],
            "decompression",
        );
    } else if let Err(e) = result {
        if out.buf.is_empty() {
            return None;
        }
        scanner.hit(
            rules::MALFORMED,
            Severity::Medium,
            chain,
            Some(out.buf.len() as u64),
            format!(
                "{name} stream is corrupt after {} bytes: {e:?}",
                out.buf.len()
            ),
            vec![("format".into(), name.into())],
            name,
        );
    }
    Some(out.buf)
}

struct Bounded {
    buf: Vec<u8>,
    limit: usize,
    over: bool,
}

impl std::io::Write for Bounded {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let room = self.limit - self.buf.len();
        if data.len() > room {
            self.buf.extend_from_slice(&data[..room]);
            self.over = true;
            return Err(std::io::Error::other("decompression limit"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
