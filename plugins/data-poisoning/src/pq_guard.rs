//! Bounds on what a Parquet file claims, checked before the `parquet` crate
//! acts on it.
//!
//! The crate allocates a page's claimed `uncompressed_page_size` before it
//! decompresses, and a dictionary's claimed value count before it decodes;
//! a hostile file could claim gigabytes in a few bytes and trap the sandbox.
//! So every page header of every column chunk is read here first (a small
//! Thrift compact-protocol walker over a bounded buffer) and checked against
//! fixed ceilings and the chunk's own byte range.

use std::io::{Read, Seek, SeekFrom};

/// Largest page accepted, compressed or not (bytes).
pub const MAX_PAGE: u64 = 128 << 20;
/// Longest page header read (bytes; real ones are a few dozen to a few KiB).
pub const MAX_HEADER: u64 = 1 << 20;
/// Deepest Thrift nesting walked.
const MAX_DEPTH: u32 = 16;

/// What a page header says about sizes.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PageSizes {
    /// Bytes the header itself takes.
    pub header_len: u64,
    /// Compressed payload bytes after the header.
    pub compressed: i64,
    /// Claimed payload size after decompression.
    pub uncompressed: i64,
    /// Value count of a dictionary page (0 for other pages).
    pub dictionary_values: i64,
}

/// A Thrift compact-protocol reader over one bounded buffer (also used by
/// [`pq_pages`](crate::pq_pages) for whole page headers).
pub(crate) struct Walker<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Walker<'a> {
    /// A walker at the start of `buf`.
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Walker { buf, pos: 0 }
    }

    /// Bytes read so far.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    fn byte(&mut self) -> Result<u8, String> {
        let b = *self.buf.get(self.pos).ok_or("truncated page header")?;
        self.pos += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..70).step_by(7) {
            let b = self.byte()?;
            if shift == 63 && b > 1 {
                return Err("varint overflows 64 bits".into());
            }
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("varint longer than 10 bytes".into())
    }

    /// A zigzag varint (Thrift i16/i32/i64).
    pub(crate) fn zigzag(&mut self) -> Result<i64, String> {
        let v = self.varint()?;
        Ok((v >> 1) as i64 ^ -((v & 1) as i64))
    }

    fn skip(&mut self, n: u64) -> Result<(), String> {
        let end = (self.pos as u64).saturating_add(n);
        if end > self.buf.len() as u64 {
            return Err("truncated page header".into());
        }
        self.pos = end as usize;
        Ok(())
    }

    /// Skip one value of compact type `t` (in a struct field or a container).
    fn skip_value(&mut self, t: u8, depth: u32, in_container: bool) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err("page header nested too deeply".into());
        }
        match t {
            1 | 2 if !in_container => Ok(()),
            1..=3 => self.skip(1),
            4..=6 => self.varint().map(|_| ()),
            7 => self.skip(8),
            8 => {
                let n = self.varint()?;
                self.skip(n)
            }
            9 | 10 => {
                let h = self.byte()?;
                let mut n = u64::from(h >> 4);
                if n == 15 {
                    n = self.varint()?;
                }
                self.skip_many(n, &[h & 0x0f], depth)
            }
            11 => {
                let n = self.varint()?;
                if n == 0 {
                    return Ok(());
                }
                let kv = self.byte()?;
                self.skip_many(n, &[kv >> 4, kv & 0x0f], depth)
            }
            12 => self.walk_struct(depth + 1, |_, _, _| Ok(false)),
            13 => self.skip(16),
            _ => Err(format!("unknown Thrift type {t} in page header")),
        }
    }

    fn skip_many(&mut self, n: u64, types: &[u8], depth: u32) -> Result<(), String> {
        // Every element takes at least one byte: more than the buffer holds is a lie.
        if n > (self.buf.len() - self.pos) as u64 {
            return Err("page header container larger than the header".into());
        }
        for _ in 0..n {
            for &t in types {
                self.skip_value(t, depth + 1, true)?;
            }
        }
        Ok(())
    }

    /// Walk a struct's fields; `on_field(self, id, type)` returns true when it
    /// consumed the value itself.
    pub(crate) fn walk_struct(
        &mut self,
        depth: u32,
        mut on_field: impl FnMut(&mut Self, i16, u8) -> Result<bool, String>,
    ) -> Result<(), String> {
        let mut last = 0i16;
        loop {
            let h = self.byte()?;
            if h == 0 {
                return Ok(());
            }
            let t = h & 0x0f;
            let delta = h >> 4;
            let id = if delta == 0 {
                self.zigzag()? as i16
            } else {
                last.wrapping_add(i16::from(delta))
            };
            last = id;
            if !on_field(self, id, t)? {
                self.skip_value(t, depth, false)?;
            }
        }
    }
}

/// Read the sizes from one serialized page header at the start of `buf`.
pub fn page_sizes(buf: &[u8]) -> Result<PageSizes, String> {
    let mut w = Walker { buf, pos: 0 };
    let mut s = PageSizes::default();
    let mut seen = [false; 2];
    w.walk_struct(0, |w, id, t| match (id, t) {
        (2, 5) => {
            s.uncompressed = w.zigzag()?;
            seen[0] = true;
            Ok(true)
        }
        (3, 5) => {
            s.compressed = w.zigzag()?;
            seen[1] = true;
            Ok(true)
        }
        (7, 12) => {
            w.walk_struct(1, |w, id, t| {
                if (id, t) == (1, 5) {
                    s.dictionary_values = w.zigzag()?;
                    return Ok(true);
                }
                Ok(false)
            })?;
            Ok(true)
        }
        _ => Ok(false),
    })?;
    if seen != [true, true] {
        return Err("page header without its sizes".into());
    }
    s.header_len = w.pos as u64;
    Ok(s)
}

/// Check every page header in the column chunk at `start..start + len` of
/// `file` (`name` is for messages).
pub fn check_chunk<F: Read + Seek>(
    file: &mut F,
    name: &str,
    start: u64,
    len: u64,
) -> Result<(), String> {
    let mut offset = start;
    let end = start.saturating_add(len);
    let mut buf = Vec::new();
    while offset < end {
        // Most headers fit in 64 KiB; a longer one (big statistics) is re-read.
        let mut s = Err(String::new());
        for cap in [64 << 10, MAX_HEADER] {
            let want = (end - offset).min(cap);
            buf.clear();
            file.seek(SeekFrom::Start(offset))
                .map_err(|e| e.to_string())?;
            file.by_ref()
                .take(want)
                .read_to_end(&mut buf)
                .map_err(|e| e.to_string())?;
            s = page_sizes(&buf).map_err(|e| format!("column `{name}`: {e}"));
            if s.is_ok() || want < cap {
                break;
            }
        }
        let s = s?;
        if s.compressed < 0 || s.uncompressed < 0 || s.dictionary_values < 0 {
            return Err(format!("column `{name}`: negative page size"));
        }
        let (c, u, d) = (
            s.compressed as u64,
            s.uncompressed as u64,
            s.dictionary_values as u64,
        );
        if c > MAX_PAGE || u > MAX_PAGE {
            return Err(format!(
                "column `{name}`: a page claims {} bytes (more than {MAX_PAGE})",
                c.max(u)
            ));
        }
        // A dictionary entry takes at least one byte once decompressed.
        if d > u.saturating_mul(8).saturating_add(8) {
            return Err(format!(
                "column `{name}`: a dictionary page claims {d} values in {u} bytes"
            ));
        }
        offset = offset.saturating_add(s.header_len).saturating_add(c);
    }
    if offset != end {
        return Err(format!("column `{name}`: pages overrun the column chunk"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A compact-protocol page header: type, sizes, a dictionary header.
    fn header(uncompressed: i64, compressed: i64, dict: Option<i64>) -> Vec<u8> {
        fn zz(v: i64, out: &mut Vec<u8>) {
            let mut u = ((v << 1) ^ (v >> 63)) as u64;
            loop {
                let b = (u & 0x7f) as u8;
                u >>= 7;
                if u == 0 {
                    out.push(b);
                    break;
                }
                out.push(b | 0x80);
            }
        }
        let mut h = vec![0x15];
        zz(2, &mut h);
        h.push(0x15);
        zz(uncompressed, &mut h);
        h.push(0x15);
        zz(compressed, &mut h);
        // field 4 (crc, i32) and a binary field 6 skipped as unknown data
        h.push(0x15);
        zz(7, &mut h);
        h.extend_from_slice(&[0x28, 3, b'a', b'b', b'c']);
        if let Some(d) = dict {
            h.push(0x1c); // field 7, struct
            h.push(0x15);
            zz(d, &mut h);
            h.push(0);
        }
        h.push(0);
        h
    }

    #[test]
    fn reads_sizes_and_skips_unknown_fields() {
        let s = page_sizes(&header(100, 40, Some(9))).unwrap();
        assert_eq!(
            (s.uncompressed, s.compressed, s.dictionary_values),
            (100, 40, 9)
        );
        assert_eq!(s.header_len as usize, header(100, 40, Some(9)).len());
    }

    #[test]
    fn truncated_or_lying_headers_are_errors() {
        let h = header(100, 40, None);
        assert!(page_sizes(&h[..h.len() - 3]).is_err());
        assert!(page_sizes(&[0x19, 0xff, 0xff, 0xff, 0xff, 0x0f]).is_err());
        let mut chunk = header(3 << 30, 4, None);
        chunk.extend_from_slice(&[0; 4]);
        let len = chunk.len() as u64;
        let err = check_chunk(&mut std::io::Cursor::new(chunk), "x", 0, len).unwrap_err();
        assert!(err.contains("claims"), "{err}");
        let mut chunk = header(4, 4, Some(1 << 30));
        chunk.extend_from_slice(&[0; 4]);
        let len = chunk.len() as u64;
        let err = check_chunk(&mut std::io::Cursor::new(chunk), "x", 0, len).unwrap_err();
        assert!(err.contains("dictionary"), "{err}");
    }

    #[test]
    fn a_chunk_of_good_pages_passes_and_an_overrun_fails() {
        let mut chunk = header(10, 4, Some(2));
        chunk.extend_from_slice(&[1; 4]);
        chunk.extend(header(20, 6, None));
        chunk.extend_from_slice(&[2; 6]);
        let len = chunk.len() as u64;
        let mut c = std::io::Cursor::new(chunk);
        check_chunk(&mut c, "x", 0, len).unwrap();
        assert!(check_chunk(&mut c, "x", 0, len - 2).is_err());
    }
}
