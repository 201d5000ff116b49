//! Byte sources the scanners read: a range of a file on disk (read lazily,
//! so a 5 GiB checkpoint costs only the bytes a format needs), or bytes in
//! memory (decompressed archive members). Every format reader takes a
//! [`Blob`] and opens a [`BlobReader`] on it.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::Arc;

/// A readable byte range: part of a file, or a buffer.
#[derive(Debug, Clone)]
pub enum Blob {
    /// `len` bytes of the file at `path`, from `offset`.
    File {
        /// Guest path of the file.
        path: PathBuf,
        /// First byte of the range.
        offset: u64,
        /// Length of the range.
        len: u64,
    },
    /// Bytes in memory.
    Mem(Arc<Vec<u8>>),
}

impl Blob {
    /// The whole file at `path`.
    pub fn file(path: PathBuf) -> io::Result<Blob> {
        let len = std::fs::metadata(&path)?.len();
        Ok(Blob::File {
            path,
            offset: 0,
            len,
        })
    }

    /// Bytes in memory.
    pub fn mem(bytes: Vec<u8>) -> Blob {
        Blob::Mem(Arc::new(bytes))
    }

    /// Length in bytes.
    pub fn len(&self) -> u64 {
        match self {
            Blob::File { len, .. } => *len,
            Blob::Mem(b) => b.len() as u64,
        }
    }

    /// Whether the blob has no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A sub-range (clamped to the blob).
    pub fn slice(&self, start: u64, len: u64) -> Blob {
        let start = start.min(self.len());
        let len = len.min(self.len() - start);
        match self {
            Blob::File { path, offset, .. } => Blob::File {
                path: path.clone(),
                offset: offset + start,
                len,
            },
            Blob::Mem(b) => Blob::mem(b[start as usize..(start + len) as usize].to_vec()),
        }
    }

    /// Open a reader positioned at 0.
    pub fn open(&self) -> io::Result<BlobReader> {
        let inner = match self {
            Blob::File { path, offset, .. } => {
                let mut file = BufReader::with_capacity(64 * 1024, File::open(path)?);
                file.seek(SeekFrom::Start(*offset))?;
                Inner::File(file, *offset)
            }
            Blob::Mem(b) => Inner::Mem(b.clone()),
        };
        Ok(BlobReader {
            inner,
            pos: 0,
            len: self.len(),
        })
    }

    /// Read up to `n` bytes at `at` (fewer at the end).
    pub fn read_at(&self, at: u64, n: usize) -> io::Result<Vec<u8>> {
        if at >= self.len() {
            return Ok(Vec::new());
        }
        let n = (n as u64).min(self.len() - at) as usize;
        match self {
            Blob::Mem(b) => Ok(b[at as usize..at as usize + n].to_vec()),
            Blob::File { .. } => {
                let mut r = self.open()?;
                r.seek(SeekFrom::Start(at))?;
                let mut buf = vec![0u8; n];
                r.read_exact(&mut buf)?;
                Ok(buf)
            }
        }
    }

    /// The whole blob in memory, if it is at most `max` bytes.
    pub fn read_all(&self, max: u64) -> io::Result<Option<Arc<Vec<u8>>>> {
        if self.len() > max {
            return Ok(None);
        }
        match self {
            Blob::Mem(b) => Ok(Some(b.clone())),
            Blob::File { .. } => Ok(Some(Arc::new(self.read_at(0, self.len() as usize)?))),
        }
    }
}

enum Inner {
    /// Reader and the file offset of the range start.
    File(BufReader<File>, u64),
    Mem(Arc<Vec<u8>>),
}

/// A positioned reader over a [`Blob`]; never reads past the blob's end.
pub struct BlobReader {
    inner: Inner,
    pos: u64,
    len: u64,
}

impl BlobReader {
    /// Current position within the blob.
    pub fn pos(&self) -> u64 {
        self.pos
    }

    /// Length of the blob.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Bytes left after the position.
    pub fn remaining(&self) -> u64 {
        self.len.saturating_sub(self.pos)
    }

    /// Whether the reader is at the end.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// Skip `n` bytes; errors (without moving past the end) if fewer remain.
    pub fn skip(&mut self, n: u64) -> io::Result<()> {
        if n > self.remaining() {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "truncated"));
        }
        self.seek(SeekFrom::Start(self.pos + n)).map(|_| ())
    }
}

impl Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = (buf.len() as u64).min(self.remaining()) as usize;
        if n == 0 {
            return Ok(0);
        }
        let got = match &mut self.inner {
            Inner::File(f, _) => f.read(&mut buf[..n])?,
            Inner::Mem(b) => {
                let start = self.pos as usize;
                buf[..n].copy_from_slice(&b[start..start + n]);
                n
            }
        };
        self.pos += got as u64;
        Ok(got)
    }
}

impl Seek for BlobReader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => p as i128,
            SeekFrom::End(d) => self.len as i128 + d as i128,
            SeekFrom::Current(d) => self.pos as i128 + d as i128,
        };
        if target < 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before start",
            ));
        }
        let target = (target as u64).min(self.len);
        if let Inner::File(f, base) = &mut self.inner {
            let delta = target as i64 - self.pos as i64;
            if delta.unsigned_abs() < 64 * 1024 {
                f.seek_relative(delta)?;
            } else {
                f.seek(SeekFrom::Start(*base + target))?;
            }
        }
        self.pos = target;
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mem_reader_reads_seeks_and_bounds() {
        let blob = Blob::mem(b"hello world".to_vec());
        let mut r = blob.slice(6, 100).open().unwrap();
        let mut s = String::new();
        r.read_to_string(&mut s).unwrap();
        assert_eq!(s, "world");
        let mut r = blob.open().unwrap();
        r.skip(6).unwrap();
        assert_eq!(r.remaining(), 5);
        assert!(r.skip(6).is_err());
    }

    #[test]
    fn file_range_reads_only_its_range() {
        let path = std::env::temp_dir().join(format!("ms-src-{}", std::process::id()));
        std::fs::write(&path, b"0123456789").unwrap();
        let blob = Blob::file(path.clone()).unwrap().slice(2, 5);
        assert_eq!(blob.read_at(1, 100).unwrap(), b"3456");
        let mut r = blob.open().unwrap();
        r.seek(SeekFrom::Start(3)).unwrap();
        let mut v = Vec::new();
        r.read_to_end(&mut v).unwrap();
        assert_eq!(v, b"56");
        std::fs::remove_file(path).unwrap();
    }
}
