//! ZSTD column chunks, read without the `parquet` crate's `zstd` feature
//! (the C library, which does not build for wasm32-wasip2).
//!
//! [`ZstdPages`] is a [`PageReader`]: it reads each page header itself (the
//! [`pq_guard`](crate::pq_guard) Thrift walker), decompresses the page body
//! with the pure-Rust `ruzstd` into at most the page's declared uncompressed
//! size (never more: a page that decodes to more or fewer bytes is an error),
//! and hands the crate's column reader an uncompressed [`Page`]. Data pages v2
//! keep their repetition and definition levels uncompressed before the
//! compressed values; those bytes are copied as they are.

use std::sync::Arc;

use bytes::Bytes;
use parquet::basic::{Encoding, Type as Physical};
use parquet::column::page::{Page, PageMetadata, PageReader};
use parquet::errors::Result;
use parquet::file::reader::ChunkReader;

use crate::pq_guard::{MAX_HEADER, MAX_PAGE, Walker};
use crate::pq_pad::pad;
use crate::pq_zstd::{err, unzstd};

const DATA_PAGE: i32 = 0;
const INDEX_PAGE: i32 = 1;
const DICTIONARY_PAGE: i32 = 2;
const DATA_PAGE_V2: i32 = 3;

/// One page header: every field the column reader needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Header {
    /// Bytes the header itself takes.
    pub len: u64,
    /// Thrift `PageType`.
    pub kind: i32,
    /// Claimed size after decompression (for v2: levels + values).
    pub uncompressed: i64,
    /// Payload bytes after the header.
    pub compressed: i64,
    /// Which sub-header was present (PageHeader field 5, 7 or 8).
    pub sub: i16,
    /// Values (levels) in the page, or dictionary entries.
    pub num_values: i64,
    /// Thrift `Encoding` of the values.
    pub encoding: i32,
    /// v1: encoding of the definition levels.
    pub def_encoding: i32,
    /// v1: encoding of the repetition levels.
    pub rep_encoding: i32,
    /// v2: nulls in the page.
    pub num_nulls: i64,
    /// v2: rows in the page.
    pub num_rows: i64,
    /// v2: bytes of definition levels (uncompressed, before the values).
    pub def_len: i64,
    /// v2: bytes of repetition levels (uncompressed, first).
    pub rep_len: i64,
    /// v2: whether the values are compressed (default true).
    pub is_compressed: bool,
    /// Dictionary: whether its entries are sorted.
    pub is_sorted: bool,
}

fn int(w: &mut Walker, t: u8) -> std::result::Result<Option<i64>, String> {
    if t == 5 {
        w.zigzag().map(Some)
    } else {
        Ok(None)
    }
}

/// Parse the page header at the start of `buf`.
pub fn parse_header(buf: &[u8]) -> std::result::Result<Header, String> {
    let mut w = Walker::new(buf);
    let mut h = Header {
        is_compressed: true,
        ..Header::default()
    };
    let mut seen = 0u8;
    w.walk_struct(0, |w, id, t| {
        match (id, t) {
            (1..=3, 5) => {
                let v = w.zigzag()?;
                match id {
                    1 => h.kind = i32::try_from(v).map_err(|_| "bad page type")?,
                    2 => h.uncompressed = v,
                    _ => h.compressed = v,
                }
                seen |= 1 << id;
            }
            (5 | 7 | 8, 12) => {
                h.sub = id;
                w.walk_struct(1, |w, f, t| {
                    let flag = t == 1;
                    match (id, f) {
                        (7, 3) if t <= 2 => h.is_sorted = flag,
                        (8, 7) if t <= 2 => h.is_compressed = flag,
                        _ => {
                            let Some(v) = int(w, t)? else {
                                return Ok(false);
                            };
                            let e = i32::try_from(v).unwrap_or(-1);
                            match (id, f) {
                                (_, 1) => h.num_values = v,
                                (5 | 7, 2) | (8, 4) => h.encoding = e,
                                (5, 3) => h.def_encoding = e,
                                (5, 4) => h.rep_encoding = e,
                                (8, 2) => h.num_nulls = v,
                                (8, 3) => h.num_rows = v,
                                (8, 5) => h.def_len = v,
                                (8, 6) => h.rep_len = v,
                                _ => {}
                            }
                        }
                    }
                    Ok(true)
                })?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    if seen != 0b1110 {
        return Err("page header without its type or sizes".into());
    }
    h.len = w.pos() as u64;
    Ok(h)
}

/// The crate's [`Encoding`] for a Thrift encoding number.
fn encoding(v: i32) -> Result<Encoding> {
    const NAMES: [&str; 11] = [
        "PLAIN",
        "",
        "PLAIN_DICTIONARY",
        "RLE",
        "BIT_PACKED",
        "DELTA_BINARY_PACKED",
        "DELTA_LENGTH_BYTE_ARRAY",
        "DELTA_BYTE_ARRAY",
        "RLE_DICTIONARY",
        "BYTE_STREAM_SPLIT",
        "ALP",
    ];
    match usize::try_from(v).ok().and_then(|i| NAMES.get(i)) {
        Some(name) if !name.is_empty() => name.parse(),
        _ => Err(err(format!("unknown encoding {v}"))),
    }
}

/// Turn one ZSTD page (header and compressed body) into an uncompressed page.
pub fn decode(h: &Header, body: Bytes) -> Result<Page> {
    let want = usize::try_from(h.uncompressed)
        .ok()
        .filter(|&u| u as u64 <= MAX_PAGE)
        .ok_or_else(|| err(format!("page claims {} bytes", h.uncompressed)))?;
    let count = |v: i64| u32::try_from(v).map_err(|_| err(format!("page count {v}")));
    let need = |sub: i16| {
        if h.sub == sub {
            Ok(())
        } else {
            Err(err(format!("page of type {} without its header", h.kind)))
        }
    };
    match h.kind {
        DICTIONARY_PAGE | DATA_PAGE => {
            let mut buf = Vec::new();
            unzstd(&body, want, &mut buf)?;
            if h.kind == DICTIONARY_PAGE {
                need(7)?;
                return Ok(Page::DictionaryPage {
                    buf: buf.into(),
                    num_values: count(h.num_values)?,
                    encoding: encoding(h.encoding)?,
                    is_sorted: h.is_sorted,
                });
            }
            need(5)?;
            Ok(Page::DataPage {
                buf: buf.into(),
                num_values: count(h.num_values)?,
                encoding: encoding(h.encoding)?,
                def_level_encoding: encoding(h.def_encoding)?,
                rep_level_encoding: encoding(h.rep_encoding)?,
                statistics: None,
            })
        }
        DATA_PAGE_V2 => {
            need(8)?;
            let levels = h
                .def_len
                .checked_add(h.rep_len)
                .and_then(|l| usize::try_from(l).ok())
                .filter(|&l| h.def_len >= 0 && h.rep_len >= 0 && l <= want && l <= body.len())
                .ok_or_else(|| err("v2 page levels larger than the page"))?;
            let buf = if h.is_compressed {
                let mut buf = body[..levels].to_vec();
                unzstd(&body[levels..], want - levels, &mut buf)?;
                buf.into()
            } else {
                body
            };
            Ok(Page::DataPageV2 {
                buf,
                num_values: count(h.num_values)?,
                encoding: encoding(h.encoding)?,
                num_nulls: count(h.num_nulls)?,
                num_rows: count(h.num_rows)?,
                def_levels_byte_len: count(h.def_len)?,
                rep_levels_byte_len: count(h.rep_len)?,
                is_compressed: false,
                statistics: None,
            })
        }
        other => Err(err(format!("unknown page type {other}"))),
    }
}

/// The pages of one ZSTD column chunk, decompressed one at a time.
pub struct ZstdPages<R: ChunkReader> {
    reader: Arc<R>,
    physical: Physical,
    offset: u64,
    end: u64,
    name: String,
    /// The header at `offset`, once peeked, and the bytes read from there
    /// (often the whole page: small pages are read once).
    next: Option<(Header, Bytes)>,
}

impl<R: ChunkReader> ZstdPages<R> {
    /// Pages of the chunk at `start..start + len` of `reader`, column `name`
    /// of type `physical`.
    pub fn new(reader: Arc<R>, physical: Physical, start: u64, len: u64, name: &str) -> Self {
        ZstdPages {
            reader,
            physical,
            offset: start,
            end: start.saturating_add(len),
            name: name.to_string(),
            next: None,
        }
    }

    fn peek(&mut self) -> Result<Option<&Header>> {
        if self.offset >= self.end {
            return Ok(None);
        }
        if self.next.is_none() {
            let mut parsed = Err(String::new());
            for cap in [64 << 10, MAX_HEADER] {
                let want = (self.end - self.offset).min(cap);
                let buf = self.reader.get_bytes(self.offset, want as usize)?;
                parsed = parse_header(&buf).map(|h| (h, buf));
                if parsed.is_ok() || want < cap {
                    break;
                }
            }
            let next = parsed.map_err(|e| err(format!("column `{}`: {e}", self.name)))?;
            self.next = Some(next);
        }
        Ok(self.next.as_ref().map(|(h, _)| h))
    }

    /// The next page's header and compressed body.
    fn take(&mut self) -> Result<Option<(Header, Bytes)>> {
        if self.peek()?.is_none() {
            return Ok(None);
        }
        let Some((h, read)) = self.next.take() else {
            return Ok(None);
        };
        let start = self.offset.saturating_add(h.len);
        let end = u64::try_from(h.compressed)
            .ok()
            .and_then(|c| start.checked_add(c))
            .filter(|&e| e <= self.end)
            .ok_or_else(|| err(format!("column `{}`: page overruns its chunk", self.name)))?;
        let (from, to) = ((start - self.offset) as usize, (end - self.offset) as usize);
        let body = if to <= read.len() {
            read.slice(from..to)
        } else {
            self.reader.get_bytes(start, (end - start) as usize)?
        };
        self.offset = end;
        Ok(Some((h, body)))
    }
}

impl<R: ChunkReader> Iterator for ZstdPages<R> {
    type Item = Result<Page>;

    fn next(&mut self) -> Option<Self::Item> {
        self.get_next_page().transpose()
    }
}

impl<R: ChunkReader> PageReader for ZstdPages<R> {
    fn get_next_page(&mut self) -> Result<Option<Page>> {
        while let Some((h, body)) = self.take()? {
            if h.kind != INDEX_PAGE {
                return decode(&h, body)
                    .map(|p| Some(pad(p, self.physical)))
                    .map_err(|e| err(format!("column `{}`: {e}", self.name)));
            }
        }
        Ok(None)
    }

    fn peek_next_page(&mut self) -> Result<Option<PageMetadata>> {
        loop {
            let Some(h) = self.peek()? else {
                return Ok(None);
            };
            let levels = usize::try_from(h.num_values).ok();
            let meta = match h.kind {
                INDEX_PAGE => None,
                DICTIONARY_PAGE => Some((None, None, true)),
                DATA_PAGE_V2 => Some((usize::try_from(h.num_rows).ok(), levels, false)),
                _ => Some((None, levels, false)),
            };
            match meta {
                Some((num_rows, num_levels, is_dict)) => {
                    return Ok(Some(PageMetadata {
                        num_rows,
                        num_levels,
                        is_dict,
                    }));
                }
                None => {
                    self.take()?;
                }
            }
        }
    }

    fn skip_next_page(&mut self) -> Result<()> {
        self.take().map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture_tests::fixture;

    /// The first two pages (dictionary, then data) of the first chunk of a
    /// pyarrow file, which starts right after the magic.
    fn first_pages(file: &str) -> (Vec<u8>, [(Header, std::ops::Range<usize>); 2]) {
        let data = std::fs::read(fixture(file)).unwrap();
        let at = |start: usize| {
            let h = parse_header(&data[start..]).unwrap();
            let body = start + h.len as usize..start + (h.len as i64 + h.compressed) as usize;
            (h, body)
        };
        let dict = at(4);
        let page = at(dict.1.end);
        (data, [dict, page])
    }

    /// Every page header of a pyarrow file (its chunks are contiguous).
    fn all_pages(file: &str) -> Vec<Header> {
        let data = std::fs::read(fixture(file)).unwrap();
        let footer = u32::from_le_bytes(data[data.len() - 8..data.len() - 4].try_into().unwrap());
        let end = data.len() - 8 - footer as usize;
        let (mut at, mut out) = (4, Vec::new());
        while at < end {
            let h = parse_header(&data[at..end]).unwrap();
            at += h.len as usize + h.compressed as usize;
            out.push(h);
        }
        assert_eq!(at, end);
        out
    }

    #[test]
    fn v1_v2_and_dictionary_headers_parse_with_their_fields() {
        let (_, [(dict, _), (page, _)]) = first_pages("parquet/zstd/clean.parquet");
        assert_eq!((dict.kind, dict.sub), (DICTIONARY_PAGE, 7));
        assert!(dict.num_values > 0 && !dict.is_sorted);
        assert_eq!((page.kind, page.sub, page.encoding), (DATA_PAGE, 5, 8));
        assert_eq!((page.def_encoding, page.rep_encoding), (3, 3));
        let (_, [_, (v2, _)]) = first_pages("parquet/zstd/clean.v2.parquet");
        assert_eq!((v2.kind, v2.sub, v2.encoding), (DATA_PAGE_V2, 8, 8));
        assert!(v2.def_len > 0 && v2.rep_len == 0, "{v2:?}");
        assert!(v2.num_rows > 0 && v2.num_values == v2.num_rows && v2.num_nulls == 0);
        // pyarrow stores a v2 page uncompressed when ZSTD does not shrink it:
        // the fixtures hold both kinds.
        let v2 = all_pages("parquet/typed.zstd.v2.parquet");
        let v2: Vec<_> = v2.iter().filter(|h| h.kind == DATA_PAGE_V2).collect();
        assert!(
            v2.iter().any(|h| h.is_compressed && h.num_nulls > 0),
            "{v2:?}"
        );
        assert!(v2.iter().any(|h| !h.is_compressed), "{v2:?}");
        assert!(parse_header(&[0x15, 0x04, 0x00]).is_err(), "no sizes");
    }

    #[test]
    fn pages_decompress_to_exactly_their_claimed_size() {
        for file in [
            "parquet/zstd/clean.parquet",
            "parquet/zstd/clean.v2.parquet",
        ] {
            let (data, pages) = first_pages(file);
            for (h, body) in pages {
                let page = decode(&h, Bytes::copy_from_slice(&data[body])).unwrap();
                let levels = (h.def_len + h.rep_len) as usize;
                assert_eq!(page.buffer().len(), h.uncompressed as usize, "{file}");
                assert!(levels < page.buffer().len());
            }
        }
    }

    #[test]
    fn a_page_that_lies_about_its_size_is_an_error_without_the_claimed_allocation() {
        let (data, [(h, body), _]) = first_pages("parquet/zstd/clean.parquet");
        let body = &data[body];
        let real = h.uncompressed as usize;
        let mut out = Vec::new();
        unzstd(body, real, &mut out).unwrap();
        assert_eq!(out.len(), real);
        for claim in [real - 1, real + 1, real * 40] {
            let mut out = Vec::new();
            let e = unzstd(body, claim, &mut out).unwrap_err().to_string();
            assert!(
                e.contains("than its header claims") || e.contains("not the"),
                "{e}"
            );
            assert!(
                out.capacity() <= 2 * real + 64,
                "allocated {}",
                out.capacity()
            );
        }
        // More than the body could ever expand to: refused before decoding.
        let e = unzstd(body, body.len() * 40_000, &mut Vec::new()).unwrap_err();
        assert!(e.to_string().contains("cannot hold"), "{e}");
        // A v2 page whose levels claim more than the page.
        let (data, [_, (mut v2, body)]) = first_pages("parquet/zstd/clean.v2.parquet");
        v2.def_len = v2.uncompressed + 1;
        assert!(decode(&v2, Bytes::copy_from_slice(&data[body])).is_err());
    }
}
