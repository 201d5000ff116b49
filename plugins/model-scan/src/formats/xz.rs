//! The xz container, walked here rather than by a library so that every
//! block's dictionary is checked before it is allocated: stream header,
//! block headers (LZMA2 behind at most one BCJ or delta filter, what
//! `xz --x86`/`--delta` and Python's `lzma` filter chains write), block
//! padding and checks, the index, stream footer and concatenated streams
//! (as Python's `lzma.decompress` and `lzma.open` read them).

use std::io::{self, Read};

use lzma_rust2::Lzma2Reader;
use lzma_rust2::filter::{bcj::BcjReader, delta::DeltaReader};

use super::lzma::shrink;
use crate::source::Blob;

/// xz stream header magic.
pub(super) const XZ_MAGIC: [u8; 6] = [0xfd, b'7', b'z', b'X', b'Z', 0];
/// Bytes of the integrity check per xz check type.
const CHECK_SIZE: [u64; 16] = [0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64];
/// Largest xz index read for the declared size.
const MAX_INDEX: u64 = 1 << 20;

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
pub(super) struct Counted<R> {
    pub(super) inner: R,
    pub(super) n: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n += n as u64;
        Ok(n)
    }
}

pub(super) enum St<R> {
    /// Expecting a stream header.
    Header(Counted<R>),
    /// Expecting a block header or the index.
    Between(Counted<R>),
    /// Inside a block (its start offset).
    Block(Box<Chain<Counted<R>>>, u64),
    Done,
    Broken,
}

/// The blocks of one or more concatenated xz streams as one `Read`.
pub(super) struct XzReader<R> {
    pub(super) st: St<R>,
    pub(super) check: u64,
    pub(super) max_dict: u64,
    /// What dictionaries are shrunk to (the declared size, or a trial).
    pub(super) dict_bound: Option<u64>,
    /// Whether a dictionary was shrunk to the declared size.
    pub(super) capped: bool,
    /// A block's dictionary that was over the bound.
    pub(super) refused: Option<u64>,
    /// A filter this reader does not decode.
    pub(super) unsupported: Option<String>,
}

/// A filter before LZMA2 in a block's chain.
#[derive(Debug, Clone, Copy)]
enum Filter {
    /// Branch/call/jump conversion (filter id, start offset).
    Bcj(u64, u32),
    /// Delta (distance).
    Delta(usize),
}

/// A block's decoder: LZMA2, optionally behind one filter.
pub(super) enum Chain<R> {
    Plain(Lzma2Reader<R>),
    Bcj(BcjReader<Lzma2Reader<R>>),
    Delta(DeltaReader<Lzma2Reader<R>>),
}

impl<R: Read> Chain<R> {
    fn new(r: R, dict: u32, filter: Option<Filter>) -> Self {
        let l = Lzma2Reader::new(r, dict, None);
        match filter {
            None => Chain::Plain(l),
            Some(Filter::Delta(d)) => Chain::Delta(DeltaReader::new(l, d)),
            Some(Filter::Bcj(id, start)) => {
                let s = start as usize;
                Chain::Bcj(match id {
                    0x04 => BcjReader::new_x86(l, s),
                    0x05 => BcjReader::new_ppc(l, s),
                    0x06 => BcjReader::new_ia64(l, s),
                    0x07 => BcjReader::new_arm(l, s),
                    0x08 => BcjReader::new_arm_thumb(l, s),
                    0x09 => BcjReader::new_sparc(l, s),
                    0x0a => BcjReader::new_arm64(l, s),
                    _ => BcjReader::new_riscv(l, s),
                })
            }
        }
    }

    fn into_inner(self) -> R {
        match self {
            Chain::Plain(l) => l.into_inner(),
            Chain::Bcj(b) => b.into_inner().into_inner(),
            Chain::Delta(d) => d.into_inner().into_inner(),
        }
    }
}

impl<R: Read> Read for Chain<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Chain::Plain(l) => l.read(buf),
            Chain::Bcj(b) => b.read(buf),
            Chain::Delta(d) => d.read(buf),
        }
    }
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
/// The dictionary the first block of the xz stream at the start of `head`
/// asks for (`None` when `head` does not hold a stream and block header).
pub(super) fn first_dict(head: &[u8]) -> Option<u32> {
    let mut x: XzReader<&[u8]> = XzReader {
        st: St::Done,
        check: 0,
        max_dict: 0,
        dict_bound: None,
        capped: false,
        refused: None,
        unsupported: None,
    };
    let mut r = Counted { inner: head, n: 0 };
    x.stream_header(&mut r, 0).ok()?;
    match take_u8(&mut r).ok()? {
        0 => None,
        first => x.block_header(&mut r, first).ok().map(|(d, _)| d),
    }
}

pub(super) fn varint(r: &mut impl Read) -> io::Result<u64> {
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

    /// After a block header's size byte: the dictionary of its LZMA2 filter
    /// and the filter before it.
    fn block_header(&mut self, r: &mut Counted<R>, first: u8) -> io::Result<(u32, Option<Filter>)> {
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
        // LZMA2 last, behind at most one BCJ or delta filter
        let filters = (flags & 3) + 1;
        let mut pre = None;
        for i in 0..filters {
            let (id, size) = (varint(&mut p)?, varint(&mut p)?);
            let mut props = vec![0u8; usize::try_from(size).unwrap_or(usize::MAX).min(p.len())];
            p.read_exact(&mut props)?;
            let last = i + 1 == filters;
            match (id, last, props.as_slice()) {
                (0x21, true, [prop]) => {
                    let dict = match prop {
                        40 => u32::MAX,
                        0..=39 => (2 | u32::from(prop & 1)) << (prop / 2 + 11),
                        _ => return Err(bad("invalid LZMA2 dictionary size")),
                    };
                    return Ok((dict, pre));
                }
                (0x03, false, [d]) if i == 0 => pre = Some(Filter::Delta(usize::from(*d) + 1)),
                (0x04..=0x0b, false, []) if i == 0 => pre = Some(Filter::Bcj(id, 0)),
                (0x04..=0x0b, false, [a, b, c, d]) if i == 0 => {
                    pre = Some(Filter::Bcj(id, u32::from_le_bytes([*a, *b, *c, *d])))
                }
                _ => {
                    let why =
                        format!("xz filter chain with filter {id:#x} at position {i} of {filters}");
                    self.unsupported = Some(why.clone());
                    return Err(bad(why));
                }
            }
        }
        Err(bad("xz block without LZMA2"))
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
                    let (dict, filter) = self.block_header(&mut r, first)?;
                    let (dict, capped) = shrink(dict, self.dict_bound);
                    self.capped |= capped;
                    if u64::from(dict) > self.max_dict {
                        self.refused = Some(dict.into());
                        return Err(bad("dictionary over the bound"));
                    }
                    let start = r.n;
                    (St::Block(Box::new(Chain::new(r, dict, filter)), start), 0)
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
