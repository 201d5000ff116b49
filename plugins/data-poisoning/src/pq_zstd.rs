//! Bounded ZSTD decompression of one Parquet page with the pure-Rust
//! `ruzstd` (the `parquet` crate's `zstd` feature is the C library, which
//! does not build for wasm32-wasip2).

use std::io::{self, Write};

use parquet::errors::{ParquetError, Result};
use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};

use crate::pq_guard::MAX_PAGE;

/// Most bytes a zstd stream can expand to per input byte (a 4-byte RLE
/// block gives at most 128 KiB).
const EXPANSION: u64 = 32 << 10;
/// Smallest window cap: libzstd's streaming default at level 19 (`windowLog`
/// 23), for writers that do not pledge the page size.
const MIN_WINDOW: u64 = 8 << 20;

/// A `ParquetError` with this message.
pub(crate) fn err(e: impl std::fmt::Display) -> ParquetError {
    ParquetError::General(e.to_string())
}

/// A writer that refuses to grow `out` past `limit` bytes.
struct Bounded<'a> {
    out: &'a mut Vec<u8>,
    limit: usize,
}

impl Write for Bounded<'_> {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        if self.out.len().saturating_add(b.len()) > self.limit {
            return Err(io::Error::other(
                "ZSTD page decompresses to more than its header claims",
            ));
        }
        self.out.extend_from_slice(b);
        Ok(b.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Append the decompressed zstd frames of `src` to `out`; they must give
/// exactly `want` bytes. Nothing is allocated beyond what the frames really
/// decode to (at most `want`) and a window of at most
/// `max(2 * want, 8 MiB)`, capped at [`MAX_PAGE`].
pub fn unzstd(mut src: &[u8], want: usize, out: &mut Vec<u8>) -> Result<()> {
    if want == 0 && src.is_empty() {
        return Ok(()); // a page of nulls only
    }
    let compressed = src.len() as u64;
    if want as u64 > MAX_PAGE || want as u64 > compressed.saturating_mul(EXPANSION) {
        return Err(err(format!(
            "a ZSTD page of {compressed} bytes cannot hold the {want} bytes its header claims"
        )));
    }
    let limit = out.len() + want;
    let mut dec = FrameDecoder::new();
    dec.set_max_window_size((want as u64).saturating_mul(2).clamp(MIN_WINDOW, MAX_PAGE));
    let mut sink = Bounded { out, limit };
    let zstd = |e: FrameDecoderError| err(format!("ZSTD page: {e}"));
    while !src.is_empty() {
        match dec.reset(&mut src) {
            Ok(()) => {}
            Err(FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::SkipFrame {
                length,
                ..
            })) => {
                let n = usize::try_from(length).unwrap_or(usize::MAX);
                src = src
                    .get(n..)
                    .ok_or_else(|| err("ZSTD skippable frame overruns"))?;
                continue;
            }
            Err(e) => return Err(zstd(e)),
        }
        while !dec.is_finished() {
            let before = src.len();
            dec.decode_blocks(&mut src, BlockDecodingStrategy::UptoBytes(1 << 17))
                .map_err(zstd)?;
            dec.collect_to_writer(&mut sink).map_err(err)?;
            if src.len() == before && !dec.is_finished() {
                return Err(err("ZSTD page is truncated"));
            }
        }
        dec.collect_to_writer(&mut sink).map_err(err)?;
    }
    if sink.out.len() != limit {
        return Err(err(format!(
            "ZSTD page decompresses to {} bytes, not the {want} its header claims",
            sink.out.len() + want - limit
        )));
    }
    Ok(())
}
