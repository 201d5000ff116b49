//! The LZMA family (`.xz`, `.lzma` "alone", zip method 14, 7z LZMA and
//! LZMA2 coders), decoded by the streaming `lzma-rust2` readers through
//! [`compress::inflate`], so they share its bounds: a prefix is sniffed,
//! content no reader understands is only counted, and counting stops one
//! byte past the limit. The dictionary a stream asks for, which a decoder
//! allocates whole, is checked against the memory left before decoding.
//! The xz container is walked here (block headers, padding, checks, index,
//! concatenated streams) so every block's dictionary is checked, and its
//! index is the declared size a bomb is reported from without decoding it.

use std::io::{self, Read};

use lzma_rust2::{Lzma2Reader, LzmaReader};
use mlgate_plugin_sdk::Severity;

use super::compress;
use crate::rules;
use crate::scan::Scanner;
use crate::source::Blob;

/// Largest dictionary accepted (xz `-9` and 7-Zip ultra use 64 MiB).
const MAX_DICT: u64 = 128 << 20;
/// xz stream header magic.
const XZ_MAGIC: [u8; 6] = [0xfd, b'7', b'z', b'X', b'Z', 0];
/// Bytes of the integrity check per xz check type.
const CHECK_SIZE: [u64; 16] = [0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64];
/// Dictionary of the first decoding try when no size is declared.
const TRIAL_DICT: u64 = 1 << 20;
/// Largest xz index read for the declared size.
const MAX_INDEX: u64 = 1 << 20;

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
fn shrink(dict: u32, declared: Option<u64>) -> (u32, bool) {
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
    let max_dict = MAX_DICT.min(room);
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
            let out = compress::inflate(scanner, r, chain, what, declared.or(known));
            (out, capped)
        }
        Lzma::Lzma2(dict) => {
            let (dict, capped) = shrink(dict, dict_bound);
            if u64::from(dict) > max_dict {
                refuse(scanner, chain, what, dict.into(), max_dict);
                return (Some(Vec::new()), false);
            }
            let r = Lzma2Reader::new(input, dict, None);
            (compress::inflate(scanner, r, chain, what, declared), capped)
        }
        Lzma::Xz => {
            let mut xz = XzReader {
                st: St::Header(Counted { inner: input, n: 0 }),
                check: 0,
                max_dict,
                dict_bound,
                capped: false,
                refused: None,
            };
            let out = compress::inflate(scanner, &mut xz, chain, what, declared);
            if let Some(dict) = xz.refused {
                refuse(scanner, chain, what, dict, max_dict);
                return (Some(out.unwrap_or_default()), false);
            }
            (out, xz.capped)
        }
    }
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

/// The decompressed size an xz file's index states (sum of its records),
/// when the file is one stream (header, blocks, index and footer account
/// for every byte); `None` for concatenated streams.
pub fn xz_declared(blob: &Blob) -> Option<u64> {
    let footer = blob.read_at(blob.len().checked_sub(12)?, 12).ok()?;
    if &footer[10..12] != b"YZ" {
        return None;
    }
    let backward = (u64::from(u32::from_le_bytes(footer[4..8].try_into().ok()?)) + 1) * 4;
    if backward > MAX_INDEX {
        return None;
    }
    let start = blob.len().checked_sub(12 + backward)?;
    let index = blob.read_at(start, backward as usize).ok()?;
    let mut r = &index[..];
    if take_u8(&mut r).ok()? != 0 {
        return None;
    }
    let records = varint(&mut r).ok()?;
    let (mut total, mut packed) = (0u64, 24 + backward);
    for _ in 0..records {
        packed = packed.checked_add(varint(&mut r).ok()?.checked_add(3)? & !3)?;
        total = total.checked_add(varint(&mut r).ok()?)?;
    }
    (packed == blob.len()).then_some(total)
}

/// A reader that counts the bytes read through it.
struct Counted<R> {
    inner: R,
    n: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n += n as u64;
        Ok(n)
    }
}

enum St<R> {
    /// Expecting a stream header.
    Header(Counted<R>),
    /// Expecting a block header or the index.
    Between(Counted<R>),
    /// Inside a block (its start offset).
    Block(Box<Lzma2Reader<Counted<R>>>, u64),
    Done,
    Broken,
}

/// The blocks of one or more concatenated xz streams as one `Read`.
struct XzReader<R> {
    st: St<R>,
    check: u64,
    max_dict: u64,
    /// What dictionaries are shrunk to (the declared size, or a trial).
    dict_bound: Option<u64>,
    /// Whether a dictionary was shrunk to the declared size.
    capped: bool,
    /// A block's dictionary that was over the bound.
    refused: Option<u64>,
}

fn bad(why: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why.into())
}

fn take_u8(r: &mut impl Read) -> io::Result<u8> {
    let mut b = [0u8; 1];
    r.read_exact(&mut b)?;
    Ok(b[0])
}

/// An xz multibyte integer (7 bits a byte, at most 9 bytes).
fn varint(r: &mut impl Read) -> io::Result<u64> {
    let mut v = 0u64;
    for i in 0..9 {
        let b = take_u8(r)?;
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(bad("xz integer longer than 9 bytes"))
}

fn skip(r: &mut impl Read, n: u64) -> io::Result<()> {
    if io::copy(&mut r.take(n), &mut io::sink())? < n {
        return Err(bad("xz stream truncated"));
    }
    Ok(())
}

impl<R: Read> XzReader<R> {
    fn stream_header(&mut self, r: &mut Counted<R>, magic_read: usize) -> io::Result<()> {
        let mut h = [0u8; 12];
        r.read_exact(&mut h[magic_read..])?;
        if magic_read == 0 && h[..6] != XZ_MAGIC {
            return Err(bad("not an xz stream"));
        }
        if h[6] != 0 || h[7] > 0x0f {
            return Err(bad("unsupported xz stream flags"));
        }
        self.check = CHECK_SIZE[usize::from(h[7])];
        Ok(())
    }

    /// After a block header's size byte: the dictionary of its LZMA2 filter.
    fn block_header(&mut self, r: &mut Counted<R>, first: u8) -> io::Result<u32> {
        let mut h = vec![0u8; usize::from(first) * 4 + 3];
        r.read_exact(&mut h)?;
        let mut p = &h[..h.len() - 4];
        let flags = take_u8(&mut p)?;
        if flags & 0x3c != 0 {
            return Err(bad("reserved xz block flags set"));
        }
        if flags & 0x40 != 0 {
            varint(&mut p)?;
        }
        if flags & 0x80 != 0 {
            varint(&mut p)?;
        }
        // LZMA2 must be the only filter (BCJ or delta before it: unsupported)
        let filters = (flags & 3) + 1;
        let (id, size) = (varint(&mut p)?, varint(&mut p)?);
        if filters != 1 || id != 0x21 || size != 1 {
            return Err(bad(format!(
                "xz filter {id:#x} is not supported (LZMA2 alone is)"
            )));
        }
        match take_u8(&mut p)? {
            40 => Ok(u32::MAX),
            prop @ 0..=39 => Ok((2 | u32::from(prop & 1)) << (prop / 2 + 11)),
            _ => Err(bad("invalid LZMA2 dictionary size")),
        }
    }

    /// The index and footer after the last block, then any padding and
    /// further streams. `false` at the end of the input.
    fn after_index(&mut self, r: &mut Counted<R>) -> io::Result<bool> {
        let start = r.n - 1;
        let records = varint(r)?;
        for _ in 0..records {
            varint(r)?;
            varint(r)?;
        }
        skip(r, (4 - (r.n - start) % 4) % 4 + 4)?;
        skip(r, 12)?;
        loop {
            let mut w = [0u8; 4];
            match r.read(&mut w[..1])? {
                0 => return Ok(false),
                _ => r.read_exact(&mut w[1..])?,
            }
            if w == [0; 4] {
                continue;
            }
            if w[..] != XZ_MAGIC[..4] {
                return Err(bad("junk after an xz stream"));
            }
            let mut rest = [0u8; 2];
            r.read_exact(&mut rest)?;
            if rest[..] != XZ_MAGIC[4..] {
                return Err(bad("junk after an xz stream"));
            }
            self.stream_header(r, 6)?;
            return Ok(true);
        }
    }

    fn step(&mut self, st: St<R>, buf: &mut [u8]) -> io::Result<(St<R>, usize)> {
        Ok(match st {
            St::Header(mut r) => {
                self.stream_header(&mut r, 0)?;
                (St::Between(r), 0)
            }
            St::Between(mut r) => {
                let first = take_u8(&mut r)?;
                if first == 0 {
                    let more = self.after_index(&mut r)?;
                    (if more { St::Between(r) } else { St::Done }, 0)
                } else {
                    let (dict, capped) = shrink(self.block_header(&mut r, first)?, self.dict_bound);
                    self.capped |= capped;
                    if u64::from(dict) > self.max_dict {
                        self.refused = Some(dict.into());
                        return Err(bad("dictionary over the bound"));
                    }
                    let start = r.n;
                    (
                        St::Block(Box::new(Lzma2Reader::new(r, dict, None)), start),
                        0,
                    )
                }
            }
            St::Block(mut l, start) => {
                let n = l.read(buf)?;
                if n > 0 {
                    (St::Block(l, start), n)
                } else {
                    let mut r = l.into_inner();
                    let used = r.n - start;
                    skip(&mut r, (4 - used % 4) % 4 + self.check)?;
                    (St::Between(r), 0)
                }
            }
            St::Done => (St::Done, 0),
            St::Broken => return Err(bad("xz stream already failed")),
        })
    }
}

impl<R: Read> Read for XzReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let st = std::mem::replace(&mut self.st, St::Broken);
            let (next, n) = self.step(st, buf)?;
            let done = matches!(next, St::Done);
            self.st = next;
            if n > 0 || done {
                return Ok(n);
            }
        }
    }
}

#[cfg(test)]
#[path = "lzma_tests.rs"]
mod tests;
