//! Reading opcode arguments: fixed-width integers, newline-terminated lines
//! (protocol 0), length-prefixed strings. Lengths come from hostile input,
//! so nothing is allocated beyond the VM's string bound; longer payloads are
//! skipped over (seeked, for file-backed blobs).

use std::io::Read;

use crate::source::BlobReader;

/// A decoding failure at a byte offset.
#[derive(Debug, Clone)]
pub struct ReadError {
    /// Offset where the problem was found.
    pub offset: u64,
    /// What went wrong.
    pub message: String,
}

/// Shorthand.
pub type ReadResult<T> = Result<T, ReadError>;

/// An error at the reader's position.
pub fn err<T>(r: &BlobReader, message: impl Into<String>) -> ReadResult<T> {
    Err(ReadError {
        offset: r.pos(),
        message: message.into(),
    })
}

/// One byte.
pub fn byte(r: &mut BlobReader) -> ReadResult<u8> {
    let mut b = [0u8; 1];
    match r.read(&mut b) {
        Ok(1) => Ok(b[0]),
        _ => err(r, "unexpected end of data"),
    }
}

/// `n` (at most 8) little-endian bytes as u64.
pub fn uint(r: &mut BlobReader, n: usize) -> ReadResult<u64> {
    let mut b = [0u8; 8];
    if r.read_exact(&mut b[..n]).is_err() {
        return err(r, "unexpected end of data");
    }
    Ok(u64::from_le_bytes(b))
}

/// A payload of `len` bytes: kept when at most `keep` bytes, else skipped.
/// Errors when fewer than `len` bytes remain.
pub fn payload(r: &mut BlobReader, len: u64, keep: usize) -> ReadResult<Option<Vec<u8>>> {
    if len > r.remaining() {
        return err(
            r,
            format!(
                "length {len} runs past the end ({} bytes left)",
                r.remaining()
            ),
        );
    }
    if len as usize <= keep {
        let mut buf = vec![0u8; len as usize];
        if r.read_exact(&mut buf).is_err() {
            return err(r, "unexpected end of data");
        }
        Ok(Some(buf))
    } else {
        if r.skip(len).is_err() {
            return err(r, "unexpected end of data");
        }
        Ok(None)
    }
}

/// A `\n`-terminated line without the newline: `(first keep bytes, complete)`.
/// `complete` is false when the line was longer than `keep`. Reaching the
/// end before a newline is an error.
pub fn line(r: &mut BlobReader, keep: usize) -> ReadResult<(Vec<u8>, bool)> {
    let mut out = Vec::new();
    let mut complete = true;
    let mut buf = [0u8; 1];
    loop {
        match r.read(&mut buf) {
            Ok(1) => {}
            _ => return err(r, "unterminated line at end of data"),
        }
        if buf[0] == b'\n' {
            return Ok((out, complete));
        }
        if out.len() < keep {
            out.push(buf[0]);
        } else {
            complete = false;
        }
    }
}

/// Decode a protocol-0 `STRING` argument (a Python repr, quoted).
pub fn unrepr(raw: &[u8]) -> Option<String> {
    let q = *raw.first()?;
    if raw.len() < 2 || (q != b'\'' && q != b'"') || raw[raw.len() - 1] != q {
        return None;
    }
    let body = &raw[1..raw.len() - 1];
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        if body[i] != b'\\' || i + 1 >= body.len() {
            out.push(body[i]);
            i += 1;
            continue;
        }
        let c = body[i + 1];
        i += 2;
        match c {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'0' => out.push(0),
            b'x' if i + 2 <= body.len() => {
                let hex = std::str::from_utf8(&body[i..i + 2]).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            other => out.push(other),
        }
    }
    Some(out.iter().map(|&b| b as char).collect())
}

/// Decode a protocol-0 `UNICODE` argument (raw-unicode-escape).
pub fn raw_unicode_escape(raw: &[u8]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'\\' && i + 1 < raw.len() && (raw[i + 1] == b'u' || raw[i + 1] == b'U') {
            let width = if raw[i + 1] == b'u' { 4 } else { 8 };
            let hex = raw
                .get(i + 2..i + 2 + width)
                .and_then(|h| std::str::from_utf8(h).ok());
            if let Some(c) = hex
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .and_then(char::from_u32)
            {
                out.push(c);
                i += 2 + width;
                continue;
            }
        }
        out.push(raw[i] as char);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Blob;

    #[test]
    fn lines_are_bounded_and_must_terminate() {
        let blob = Blob::mem(b"abcdef\nxy".to_vec());
        let mut r = blob.open().unwrap();
        assert_eq!(line(&mut r, 3).unwrap(), (b"abc".to_vec(), false));
        assert!(line(&mut r, 10).is_err());
    }

    #[test]
    fn payload_past_end_is_an_error_not_an_allocation() {
        let blob = Blob::mem(vec![0u8; 10]);
        let mut r = blob.open().unwrap();
        assert!(payload(&mut r, u64::MAX, 16).is_err());
        assert_eq!(payload(&mut r, 8, 4).unwrap(), None);
        assert_eq!(r.pos(), 8);
    }

    #[test]
    fn decodes_protocol0_strings() {
        assert_eq!(unrepr(b"'os'").unwrap(), "os");
        assert_eq!(unrepr(b"'a\\x41\\n'").unwrap(), "aA\n");
        assert!(unrepr(b"os").is_none());
        assert_eq!(raw_unicode_escape(b"p\\u006fsix"), "posix");
    }
}
