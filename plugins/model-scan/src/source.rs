//! Byte sources the scanners read: a range of a file on disk (read lazily,
//! so a 5 GiB checkpoint costs only the bytes a format needs; the file is
//! opened once), or a range of bytes in memory (decompressed archive
//! members, sliced without copying). Every format reader takes a
//! [`Blob`] and opens a [`BlobReader`] on it.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::Arc;

/// A readable byte range: part of an open file, or part of a buffer.
/// Slicing never copies and never reopens the file: one `open` per file
/// scanned (a path open is the costliest call in the WASI sandbox).
#[derive(Debug, Clone)]
pub enum Blob {
    /// `len` bytes of an open file, from `offset`.
    File {
        /// The file, shared by every slice and reader of it.
        file: Arc<File>,
        /// First byte of the range.
        offset: u64,
        /// Length of the range.
        len: u64,
    },
    /// `len` bytes of a buffer, from `start`.
    Mem {
        /// The buffer.
        buf: Arc<Vec<u8>>,
        /// First byte of the range.
        start: usize,
        /// Length of the range.
        len: usize,
    },
}

/// Read `buf.len()` bytes at absolute offset `at` of a shared file; the
/// file position is set on every call, so readers sharing it never
/// disturb one another.
#[cfg(not(unix))]
fn file_read(file: &File, at: u64, buf: &mut [u8]) -> io::Result<usize> {
    let mut f = file;
    f.seek(SeekFrom::Start(at))?;
    f.read(buf)
}

/// [`file_read`] natively: one `pread`.
#[cfg(unix)]
fn file_read(file: &File, at: u64, buf: &mut [u8]) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, at)
}

impl Blob {
    /// The whole file at `path` (opened once).
    pub fn file(path: PathBuf) -> io::Result<Blob> {
        let file = File::open(&path)?;
        let len = file.metadata()?.len();
        Ok(Blob::File {
            file: Arc::new(file),
            offset: 0,
            len,
        })
    }

    /// Bytes in memory.
    pub fn mem(bytes: Vec<u8>) -> Blob {
        let len = bytes.len();
        Blob::Mem {
            buf: Arc::new(bytes),
            start: 0,
            len,
        }
    }

    /// Length in bytes.
    pub fn len(&self) -> u64 {
        match self {
            Blob::File { len, .. } => *len,
            Blob::Mem { len, .. } => *len as u64,
        }
    }

    /// Whether the blob has no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A sub-range (clamped to the blob); shares the file or buffer.
    pub fn slice(&self, start: u64, len: u64) -> Blob {
        let start = start.min(self.len());
        let len = len.min(self.len() - start);
        match self {
            Blob::File { file, offset, .. } => Blob::File {
                file: file.clone(),
                offset: offset + start,
                len,
            },
            Blob::Mem { buf, start: s, .. } => Blob::Mem {
                buf: buf.clone(),
                start: s + start as usize,
                len: len as usize,
            },
        }
    }

    /// Open a reader positioned at 0.
    pub fn open(&self) -> io::Result<BlobReader> {
        let inner = match self {
            // Sized to the range: a buffer is zeroed once before its first
            // fill, so a 100-byte member must not cost 64 KiB.
            Blob::File { file, offset, len } => Inner::File(BufReader::with_capacity(
                (*len).clamp(16, 64 * 1024) as usize,
                FileRange {
                    file: file.clone(),
                    base: *offset,
                    pos: 0,
                },
            )),
            Blob::Mem { buf, start, .. } => Inner::Mem(buf.clone(), *start),
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
            Blob::Mem { buf, start, .. } => {
                let from = start + at as usize;
                Ok(buf[from..from + n].to_vec())
            }
            Blob::File { file, offset, .. } => {
                let mut out = vec![0u8; n];
                let mut got = 0;
                while got < n {
                    let k = file_read(file, offset + at + got as u64, &mut out[got..])?;
                    if k == 0 {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "file shorter than its length",
                        ));
                    }
                    got += k;
                }
                Ok(out)
            }
        }
    }

    /// The whole blob in memory, if it is at most `max` bytes.
    pub fn read_all(&self, max: u64) -> io::Result<Option<Arc<Vec<u8>>>> {
        if self.len() > max {
            return Ok(None);
        }
        match self {
            Blob::Mem { buf, start, len } if *start == 0 && *len == buf.len() => {
                Ok(Some(buf.clone()))
            }
            _ => Ok(Some(Arc::new(self.read_at(0, self.len() as usize)?))),
        }
    }
}

/// A range of a shared file read at its own position.
struct FileRange {
    file: Arc<File>,
    base: u64,
    pos: u64,
}

impl Read for FileRange {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = file_read(&self.file, self.base + self.pos, buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for FileRange {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.pos = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
            // BlobReader resolves end-relative seeks itself.
            SeekFrom::End(_) => None,
        }
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "bad seek"))?;
        Ok(self.pos)
    }
}

enum Inner {
    File(BufReader<FileRange>),
    /// Buffer and the blob's start in it.
    Mem(Arc<Vec<u8>>, usize),
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
            Inner::File(f) => f.read(&mut buf[..n])?,
            Inner::Mem(b, start) => {
                let from = *start + self.pos as usize;
                buf[..n].copy_from_slice(&b[from..from + n]);
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
        if let Inner::File(f) = &mut self.inner {
            let delta = target as i64 - self.pos as i64;
            if delta.unsigned_abs() < 64 * 1024 {
                f.seek_relative(delta)?;
            } else {
                f.seek(SeekFrom::Start(target))?;
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
