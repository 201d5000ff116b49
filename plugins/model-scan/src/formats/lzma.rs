//! The LZMA family (`.xz`, `.lzma` "alone", zip method 14, 7z LZMA and
//! LZMA2 coders), decoded by the streaming `lzma-rust2` readers through
//! [`compress::inflate`], so they share its bounds: a prefix is sniffed,
//! content no reader understands is only counted, and counting stops one
//! byte past the limit. The dictionary a stream asks for, which a decoder
//! allocates whole, is checked against the memory left before decoding.
//! The xz container is walked by [`super::xz`] so every block's dictionary
//! is checked, and its index is the declared size a bomb is reported from
//! without decoding it.

use std::io::{self, Read};

use lzma_rust2::{Lzma2Reader, LzmaReader};
use mlgate_plugin_sdk::Severity;

use super::compress;
use super::xz::{Counted, St, XzReader, first_dict};
use crate::rules;
use crate::scan::Scanner;
use crate::source::Blob;

pub use super::xz::xz_declared;

/// Largest dictionary accepted (xz `-9` and 7-Zip ultra use 64 MiB).
const MAX_DICT: u64 = 128 << 20;
/// Share of the memory left a dictionary may take (the rest is for the bytes kept).
const DICT_SHARE: u64 = 2;
/// Dictionary of the first decoding try when no size is declared.
const TRIAL_DICT: u64 = 1 << 20;

/// Which container the compressed bytes are in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lzma {
    /// `.xz`.
    Xz,
    /// `.lzma` ("alone": props, dictionary size, unpacked size, stream).
    Alone,
    /// A raw LZMA2 chunk stream (7z) with its dictionary size.
    Lzma2(u32),
}

/// Decode `input` within the scanner's bounds. `declared` is the size a
/// container states (xz index, 7z folder, zip central directory); `None`
/// when nothing decodes. A decoder zeroes its whole dictionary up front, so
/// a dictionary larger than the declared size is shrunk to it (8 MiB of
/// zeroing per `xz -6` stream was most of a small file's scan time); a
/// stream that then fails to decode has lied about its size, and the
/// failure is `scan-limit` (high), not `malformed`.
pub fn decode(
    scanner: &mut Scanner,
    kind: Lzma,
    mut input: impl Read,
    chain: &[String],
    what: &str,
    declared: Option<u64>,
) -> Option<Vec<u8>> {
    let before = scanner.hits.len();
    let (out, capped) = run(scanner, kind, &mut input, chain, what, declared, declared);
    if capped {
        for h in &mut scanner.hits[before..] {
            if h.rule == rules::MALFORMED {
                h.rule = rules::SCAN_LIMIT;
                h.severity = Severity::High;
                h.message +=
                    "; its dictionary was sized from the declared size, which the stream exceeds";
            }
        }
    }
    out
}

/// Decode a whole blob (`.xz`, `.lzma`). Without a declared size the
/// stream is first decoded with a dictionary of at most [`TRIAL_DICT`]
/// bytes: a stream that never reaches further back decodes exactly as with
/// its own dictionary, one that does fails, and is then decoded again
/// (findings of the first try dropped) with the dictionary it asks for.
pub fn decode_blob(
    scanner: &mut Scanner,
    kind: Lzma,
    blob: &Blob,
    chain: &[String],
    what: &str,
    declared: Option<u64>,
) -> Option<Vec<u8>> {
    let open = || blob.open().ok().map(io::BufReader::new);
    if declared.is_some() {
        return decode(scanner, kind, open()?, chain, what, declared);
    }
    let (hits, inflated) = (scanner.hits.len(), scanner.stats.inflated);
    let (out, capped) = run(
        scanner,
        kind,
        &mut open()?,
        chain,
        what,
        None,
        Some(TRIAL_DICT),
    );
    let failed = out.is_none()
        || scanner.hits[hits..]
            .iter()
            .any(|h| h.rule == rules::MALFORMED);
    if !capped || !failed {
        return out;
    }
    scanner.hits.truncate(hits);
    scanner.stats.inflated = inflated;
    run(scanner, kind, &mut open()?, chain, what, None, None).0
}

/// The dictionary to allocate: `dict`, or the declared size when smaller
/// (and whether it was shrunk).
pub(super) fn shrink(dict: u32, declared: Option<u64>) -> (u32, bool) {
    match declared {
        Some(d) if u64::from(dict) > d.max(4096) => (d.max(4096) as u32, true),
        _ => (dict, false),
    }
}

/// Decode with dictionaries shrunk to `dict_bound`; whether one was.
fn run(
    scanner: &mut Scanner,
    kind: Lzma,
    input: &mut dyn Read,
    chain: &[String],
    what: &str,
    declared: Option<u64>,
    dict_bound: Option<u64>,
) -> (Option<Vec<u8>>, bool) {
    let room = scanner.cfg.max_memory_bytes.saturating_sub(scanner.held);
    let max_dict = MAX_DICT.min(room / DICT_SHARE);
    match kind {
        Lzma::Alone => {
            let mut h = [0u8; 13];
            if input.read_exact(&mut h).is_err() {
                return (None, false);
            }
            let dict = u32::from_le_bytes([h[1], h[2], h[3], h[4]]);
            let size = u64::from_le_bytes([h[5], h[6], h[7], h[8], h[9], h[10], h[11], h[12]]);
            // with a known size the decoder stops there and shrinks the
            // dictionary itself; with an end marker, shrink it to `declared`
            let (dict, capped) = if size == u64::MAX {
                shrink(dict, dict_bound)
            } else {
                (dict, false)
            };
            if u64::from(dict).min(size) > max_dict {
                refuse(scanner, chain, what, dict.into(), max_dict);
                return (Some(Vec::new()), false);
            }
            let known = (size != u64::MAX).then_some(size);
            let Ok(r) = LzmaReader::new_with_props(input, size, h[0], dict, None) else {
                return (None, false);
            };
            let out = reserved(scanner, dict.into(), |s| {
                compress::inflate(s, r, chain, what, declared.or(known))
            });
            (out, capped)
        }
        Lzma::Lzma2(dict) => {
            let (dict, capped) = shrink(dict, dict_bound);
            if u64::from(dict) > max_dict {
                refuse(scanner, chain, what, dict.into(), max_dict);
                return (Some(Vec::new()), false);
            }
            let r = Lzma2Reader::new(input, dict, None);
            let out = reserved(scanner, dict.into(), |s| {
                compress::inflate(s, r, chain, what, declared)
            });
            (out, capped)
        }
        Lzma::Xz => {
            // the first block's dictionary is reserved; a later block asking
            // for more is refused
            let mut head = Vec::new();
            let _ = (&mut *input).take(1036).read_to_end(&mut head);
            let first = first_dict(&head).map_or(max_dict, |d| u64::from(shrink(d, dict_bound).0));
            let input = io::Cursor::new(head).chain(input);
            let mut xz = XzReader {
                st: St::Header(Counted { inner: input, n: 0 }),
                check: 0,
                max_dict: first.min(max_dict),
                dict_bound,
                capped: false,
                refused: None,
                unsupported: None,
            };
            let reserve = if first <= max_dict { first } else { 0 };
            let out = reserved(scanner, reserve, |s| {
                compress::inflate(s, &mut xz, chain, what, declared)
            });
            if let Some(why) = xz.unsupported {
                scanner.hit(
                    rules::UNSUPPORTED,
                    Severity::High,
                    chain,
                    None,
                    format!("{what}: {why} is not supported (LZMA2 behind at most one BCJ or delta filter is); not decoded past that point"),
                    vec![("format".into(), "xz".into())],
                    "xz-filter",
                );
            }
            if let Some(dict) = xz.refused {
                refuse(scanner, chain, what, dict, max_dict);
                return (Some(out.unwrap_or_default()), false);
            }
            (out, xz.capped)
        }
    }
}

/// Run `f` with `dict` bytes counted as held (the decoder's dictionary),
/// so the bytes kept beside it stay within `max_memory_bytes`.
fn reserved<T>(scanner: &mut Scanner, dict: u64, f: impl FnOnce(&mut Scanner) -> T) -> T {
    scanner.held += dict;
    let out = f(scanner);
    scanner.held -= dict;
    out
}

fn refuse(scanner: &mut Scanner, chain: &[String], what: &str, dict: u64, max: u64) {
    scanner.hit(
        rules::SCAN_LIMIT,
        Severity::High,
        chain,
        None,
        format!("{what} asks for a {dict}-byte dictionary, more than the {max} bytes allowed; not decoded past that point"),
        vec![("dictionary".into(), dict.to_string())],
        "lzma-dictionary",
    );
}

#[cfg(test)]
#[path = "lzma_tests.rs"]
mod tests;
