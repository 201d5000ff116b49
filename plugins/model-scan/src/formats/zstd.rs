//! Zstandard streams: zip method 93 (Python 3.14's `ZIP_ZSTANDARD`, which
//! numpy and Keras then read) and standalone `.zst` files, decoded by the
//! pure-Rust `ruzstd` within the same bounds as every other decompressor
//! ([`super::compress::inflate`]). A frame's declared content size is only
//! a declaration (it decides nothing about allocation); the window a frame
//! asks for, which the decoder reserves up front, is capped before decoding.

use std::io::{self, BufRead, Read};

use mlgate_plugin_sdk::Severity;
use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};

use super::compress;
use crate::rules;
use crate::scan::Scanner;
use crate::source::Blob;

/// A zstd frame's magic number, little-endian.
pub const MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
/// Largest window accepted: libzstd's own default decoding limit
/// (`windowLog` 27); a frame asking for more is a `scan-limit` finding.
const MAX_WINDOW: u64 = 128 << 20;
/// Most bytes one block decodes to; a block takes at least 4 bytes (an RLE
/// block), so a zstd stream expands at most 32 768:1.
const BLOCK_MAX: u64 = 128 << 10;

/// What a frame header states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// `Frame_Content_Size`, when the frame states it.
    pub content_size: Option<u64>,
    /// The window the decoder must hold.
    pub window: u64,
}

/// Parse the frame header at the start of `b` (`None`: not a zstd frame).
pub fn header(b: &[u8]) -> Option<Header> {
    if !b.starts_with(&MAGIC) {
        return None;
    }
    let fhd = *b.get(4)?;
    if fhd & 0x08 != 0 {
        return None; // reserved bit
    }
    let single = fhd & 0x20 != 0;
    let mut at = 5;
    let mut window = 0;
    if !single {
        let wd = *b.get(at)?;
        let log = 10 + u64::from(wd >> 3);
        let base = 1u64 << log;
        window = base + (base / 8) * u64::from(wd & 7);
        at += 1;
    }
    at += [0, 1, 2, 4][usize::from(fhd & 3)];
    let fcs_len = match fhd >> 6 {
        0 => usize::from(single),
        1 => 2,
        2 => 4,
        _ => 8,
    };
    let field = b.get(at..at + fcs_len)?;
    let mut le = [0u8; 8];
    le[..fcs_len].copy_from_slice(field);
    let mut fcs = u64::from_le_bytes(le);
    if fcs_len == 2 {
        fcs += 256;
    }
    let content_size = (fcs_len > 0).then_some(fcs);
    if single {
        window = fcs;
    }
    Some(Header {
        content_size,
        window,
    })
}

/// `declared` if `compressed` zstd bytes can produce it.
pub fn plausible(declared: u64, compressed: u64) -> Option<u64> {
    (declared <= compressed.saturating_mul(BLOCK_MAX / 4)).then_some(declared)
}

/// Every frame of a zstd stream, one after another (skippable frames
/// skipped), as one `Read`.
pub struct Frames<R> {
    src: R,
    dec: FrameDecoder,
    in_frame: bool,
}

impl<R: BufRead> Frames<R> {
    /// A reader over `src`, refusing frames whose window exceeds `max_window`.
    pub fn new(src: R, max_window: u64) -> Self {
        let mut dec = FrameDecoder::new();
        dec.set_max_window_size(max_window);
        Frames {
            src,
            dec,
            in_frame: false,
        }
    }

    /// Start the next frame; `false` at the end of the stream.
    fn next_frame(&mut self) -> io::Result<bool> {
        loop {
            if self.src.fill_buf()?.is_empty() {
                return Ok(false);
            }
            match self.dec.reset(&mut self.src) {
                Ok(()) => return Ok(true),
                Err(FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::SkipFrame {
                    length,
                    ..
                })) => {
                    let skipped =
                        io::copy(&mut (&mut self.src).take(length.into()), &mut io::sink())?;
                    if skipped < u64::from(length) {
                        return Err(io::Error::other("skippable frame runs past the end"));
                    }
                }
                Err(e) => return Err(io::Error::other(e)),
            }
        }
    }
}

impl<R: BufRead> Read for Frames<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if !self.in_frame {
                if !self.next_frame()? {
                    return Ok(0);
                }
                self.in_frame = true;
            }
            while self.dec.can_collect() == 0 && !self.dec.is_finished() {
                self.dec
                    .decode_blocks(&mut self.src, BlockDecodingStrategy::UptoBlocks(1))
                    .map_err(io::Error::other)?;
            }
            let n = self.dec.read(buf)?;
            if n > 0 {
                return Ok(n);
            }
            if self.dec.is_finished() {
                self.in_frame = false;
            }
        }
    }
}

/// Decode the zstd stream `blob` within the scanner's bounds. `declared`
/// is the size its container states (a zip central directory), used like
/// the frame's own content size: only to report a bomb of unknown content
/// without decoding it. `None` when the stream does not start a frame.
pub fn decode(
    scanner: &mut Scanner,
    blob: &Blob,
    chain: &[String],
    what: &str,
    declared: Option<u64>,
) -> Option<Vec<u8>> {
    let head = blob.read_at(0, 18).ok()?;
    let h = header(&head)?;
    let room = scanner.cfg.max_memory_bytes.saturating_sub(scanner.held);
    let max_window = MAX_WINDOW.min(room / 2);
    if h.window > max_window {
        scanner.hit(
            rules::SCAN_LIMIT,
            Severity::High,
            chain,
            None,
            format!(
                "{what} asks for a {}-byte window, more than the {max_window} bytes allowed; not decoded",
                h.window
            ),
            vec![("window".into(), h.window.to_string())],
            "zstd-window",
        );
        return Some(Vec::new());
    }
    let declared = h
        .content_size
        .or(declared)
        .and_then(|d| plausible(d, blob.len()));
    let r = io::BufReader::new(blob.open().ok()?);
    // the window the decoder allocates counts as held while it decodes, so
    // the bytes kept beside it stay within max_memory_bytes (a later frame
    // may not ask for more)
    let window = h.window.max(1 << 10);
    scanner.held += window;
    let out = compress::inflate(scanner, Frames::new(r, window), chain, what, declared);
    scanner.held -= window;
    out
}

#[cfg(test)]
#[path = "zstd_tests.rs"]
mod tests;
