//! Native file hashing on the host: the engine behind the sandbox's `digest`
//! and `digest-batch` imports and behind `mlgate manifest create`.
//!
//! Plugins never hash gigabytes in Wasm: they ask the host, which hashes here
//! at native speed. `sha2` picks its SHA-NI backend at runtime when the CPU
//! has it (x86-64 `sha_ni`), which is where most of the speed comes from.
//! Two more things keep the hasher busy:
//!
//! - A big file is read by a dedicated reader thread into a small ring of
//!   buffers while the calling thread hashes the previous one, so the copy
//!   out of the page cache (or the wait on the disk) overlaps hashing.
//! - [`hash_many`] hashes different files on different threads (SHA-256 of
//!   one file is inherently sequential), pulling jobs from a shared counter so
//!   a large file does not hold up the rest. Memory is bounded by
//!   `threads x` [`PIPELINE_BUFFERS`] `x` [`BUFFER_SIZE`], whatever the number
//!   or size of the files.
//!
//! A byte range that runs past the end of the file is an error
//! (`UnexpectedEof`), never a silently shorter digest.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::sync_channel;

use blake2::Blake2b512;
use sha2::{Digest, Sha256, Sha512};

/// Size of one read buffer. Large enough that a `read` syscall costs little
/// per byte, small enough that a buffer stays in L2 between the reader's copy
/// and the hasher's pass.
pub const BUFFER_SIZE: usize = 256 * 1024;

/// Buffers in flight between the reader thread and the hasher.
pub const PIPELINE_BUFFERS: usize = 4;

/// Files (or ranges) at least this big get a reader thread; smaller ones are
/// read inline, where a thread would cost more than it saves.
pub const PIPELINE_THRESHOLD: u64 = 4 * 1024 * 1024;

/// A hash algorithm the host offers to plugins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// SHA-256 (FIPS 180-4), 32-byte digest. SHA-NI accelerated.
    Sha256,
    /// SHA-512 (FIPS 180-4), 64-byte digest.
    Sha512,
    /// BLAKE2b with a 64-byte digest (RFC 7693), as `b2sum` prints it.
    Blake2b512,
}

impl Algorithm {
    /// Lower-case name as used in manifests and reports (`sha256`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
            Algorithm::Blake2b512 => "blake2b512",
        }
    }

    /// Digest length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 32,
            Algorithm::Sha512 | Algorithm::Blake2b512 => 64,
        }
    }
}

/// One hashing job for [`hash_many`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The file to hash (a host path).
    pub path: PathBuf,
    /// Which hash.
    pub algorithm: Algorithm,
    /// Optional `(offset, length)` byte range; `None` hashes the whole file.
    pub range: Option<(u64, u64)>,
}

/// Hash one file (or the `(offset, length)` range of it) and return the raw
/// digest bytes. Streams the file; memory use does not depend on its size.
/// A big file gets a reader thread when the machine has a core to spare.
pub fn hash_file(
    path: &Path,
    algorithm: Algorithm,
    range: Option<(u64, u64)>,
) -> io::Result<Vec<u8>> {
    hash_file_with(path, algorithm, range, effective_threads(0) > 1)
}

/// Hash many files in parallel on up to `threads` threads (`0` means the
/// number of cores). Results are in job order, one per job; a failing job
/// does not stop the others.
///
/// Big files get a reader thread only when `threads` leaves a core to spare:
/// with every core hashing, an extra thread only adds switches.
pub fn hash_many(jobs: &[Job], threads: usize) -> Vec<io::Result<Vec<u8>>> {
    let cores = effective_threads(0);
    let threads = effective_threads(threads).min(jobs.len());
    if threads <= 1 {
        return jobs
            .iter()
            .map(|job| hash_file_with(&job.path, job.algorithm, job.range, cores > 1))
            .collect();
    }
    let pipeline = threads < cores;
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<io::Result<Vec<u8>>>>> =
        jobs.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(index) else { break };
                    let result = hash_file_with(&job.path, job.algorithm, job.range, pipeline);
                    *results[index].lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
                }
            });
        }
    });
    results
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .unwrap_or_else(|| Err(io::Error::other("hash worker did not finish")))
        })
        .collect()
}

/// [`hash_file`], choosing whether a big file may get a reader thread.
fn hash_file_with(
    path: &Path,
    algorithm: Algorithm,
    range: Option<(u64, u64)>,
    pipeline: bool,
) -> io::Result<Vec<u8>> {
    // Checked before opening: opening a FIFO would block this thread forever.
    let kind = std::fs::metadata(path)?.file_type();
    if !kind.is_file() {
        let (error, what) = if kind.is_dir() {
            (io::ErrorKind::IsADirectory, "is a directory")
        } else {
            (io::ErrorKind::InvalidInput, "is not a regular file")
        };
        return Err(io::Error::new(error, what));
    }
    let mut file = File::open(path)?;
    let meta = file.metadata()?;
    let (limit, exact) = match range {
        Some((offset, length)) => {
            if offset.checked_add(length).is_none() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("byte range {offset}+{length} overflows"),
                ));
            }
            file.seek(SeekFrom::Start(offset))?;
            (length, true)
        }
        None => (u64::MAX, false),
    };
    let expected = if exact { limit } else { meta.len() };
    let pipeline = pipeline && expected >= PIPELINE_THRESHOLD;
    let source = Source {
        file,
        remaining: limit,
        exact,
    };
    match algorithm {
        Algorithm::Sha256 => hash_source::<Sha256>(source, pipeline),
        Algorithm::Sha512 => hash_source::<Sha512>(source, pipeline),
        Algorithm::Blake2b512 => hash_source::<Blake2b512>(source, pipeline),
    }
}

/// `threads`, or the number of available cores when it is 0.
pub fn effective_threads(threads: usize) -> usize {
    if threads > 0 {
        threads
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}

/// A file positioned at the start of what to hash, with how much to hash.
struct Source {
    file: File,
    remaining: u64,
    /// Whether `remaining` must be read in full (a byte range).
    exact: bool,
}

impl Source {
    /// Fill `buf` as far as possible; returns 0 only at the end.
    fn fill(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = buf
            .len()
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let mut filled = 0;
        while filled < want {
            match self.file.read(&mut buf[filled..want]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.remaining -= filled as u64;
        if filled < want && self.exact {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "byte range ends {} bytes past the end of the file",
                    self.remaining
                ),
            ));
        }
        Ok(filled)
    }
}

fn hash_source<D: Digest>(source: Source, pipeline: bool) -> io::Result<Vec<u8>> {
    if pipeline {
        hash_pipelined::<D>(source)
    } else {
        hash_inline::<D>(source)
    }
}

fn hash_inline<D: Digest>(mut source: Source) -> io::Result<Vec<u8>> {
    let mut hasher = D::new();
    let mut buf = vec![0u8; BUFFER_SIZE];
    loop {
        let n = source.fill(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize().to_vec())
}

/// A reader thread fills buffers while this thread hashes; buffers cycle
/// through two bounded channels, so at most [`PIPELINE_BUFFERS`] exist.
fn hash_pipelined<D: Digest>(mut source: Source) -> io::Result<Vec<u8>> {
    let (full_tx, full_rx) = sync_channel::<(Vec<u8>, usize)>(PIPELINE_BUFFERS);
    let (empty_tx, empty_rx) = sync_channel::<Vec<u8>>(PIPELINE_BUFFERS);
    for _ in 0..PIPELINE_BUFFERS {
        // Cannot fail: the channel has room for every buffer and its receiver lives.
        let _ = empty_tx.send(vec![0u8; BUFFER_SIZE]);
    }
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || -> io::Result<()> {
            // Ends when the file ends, or when the hasher hangs up.
            while let Ok(mut buf) = empty_rx.recv() {
                let n = source.fill(&mut buf)?;
                if n == 0 || full_tx.send((buf, n)).is_err() {
                    break;
                }
            }
            Ok(())
        });
        let mut hasher = D::new();
        while let Ok((buf, n)) = full_rx.recv() {
            hasher.update(&buf[..n]);
            // The reader may already be gone at the end of the file.
            let _ = empty_tx.send(buf);
        }
        reader
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("reader thread panicked")))?;
        Ok(hasher.finalize().to_vec())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic, incompressible-looking bytes (xorshift).
    fn pattern(len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    fn write(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, data).unwrap();
        path
    }

    #[test]
    fn known_vectors_for_every_algorithm() {
        let dir = tempfile::tempdir().unwrap();
        let abc = write(dir.path(), "abc", b"abc");
        let hex = |a| hex::encode(hash_file(&abc, a, None).unwrap());
        assert_eq!(
            hex(Algorithm::Sha256),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(hex(Algorithm::Sha512).starts_with("ddaf35a193617abacc417349ae204131"));
        assert!(hex(Algorithm::Blake2b512).starts_with("ba80a53f981c4d0d6a2797b69f12f6e9"));
        for a in [Algorithm::Sha256, Algorithm::Sha512, Algorithm::Blake2b512] {
            assert_eq!(hash_file(&abc, a, None).unwrap().len(), a.output_len());
        }
    }

    #[test]
    fn pipelined_path_matches_one_shot_digest() {
        // Above PIPELINE_THRESHOLD and not a multiple of BUFFER_SIZE, so the
        // reader thread runs and the last buffer is partial.
        let data = pattern(PIPELINE_THRESHOLD as usize + 3 * BUFFER_SIZE + 12345, 7);
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "big", &data);
        assert_eq!(
            hash_file(&path, Algorithm::Sha256, None).unwrap(),
            Sha256::digest(&data).to_vec()
        );
        let (offset, length) = (1000u64, data.len() as u64 - 2000);
        assert_eq!(
            hash_file(&path, Algorithm::Sha512, Some((offset, length))).unwrap(),
            Sha512::digest(&data[1000..data.len() - 1000]).to_vec()
        );
    }

    #[test]
    fn ranges_hash_exactly_the_range() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "abc", b"abc");
        // sha256("b")
        assert_eq!(
            hex::encode(hash_file(&path, Algorithm::Sha256, Some((1, 1))).unwrap()),
            "3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d"
        );
        assert_eq!(
            hash_file(&path, Algorithm::Sha256, Some((3, 0))).unwrap(),
            Sha256::digest(b"").to_vec()
        );
    }

    #[test]
    fn range_past_end_of_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "abc", b"abc");
        let err = hash_file(&path, Algorithm::Sha256, Some((2, 5))).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        let err = hash_file(&path, Algorithm::Sha256, Some((u64::MAX, 2))).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        // The pipelined reader reports a short range too.
        let data = pattern(PIPELINE_THRESHOLD as usize, 3);
        let big = write(dir.path(), "big", &data);
        let err = hash_file(&big, Algorithm::Sha256, Some((10, data.len() as u64))).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn directories_fifos_and_missing_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        assert!(hash_file(dir.path(), Algorithm::Sha256, None).is_err());
        // A FIFO is refused without being opened (opening would block).
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            let err = hash_file(&fifo, Algorithm::Sha256, None).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        }
        let err = hash_file(&dir.path().join("nope"), Algorithm::Sha256, None).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn hash_many_keeps_job_order_and_isolates_failures() {
        let dir = tempfile::tempdir().unwrap();
        let mut jobs = Vec::new();
        let mut expected = Vec::new();
        for i in 0..9 {
            // Mix small (inline) and big (pipelined) files.
            let len = if i % 4 == 0 {
                PIPELINE_THRESHOLD as usize + i
            } else {
                100 * i
            };
            let data = pattern(len, i as u64 + 1);
            expected.push(Some(Sha256::digest(&data).to_vec()));
            jobs.push(Job {
                path: write(dir.path(), &format!("f{i}"), &data),
                algorithm: Algorithm::Sha256,
                range: None,
            });
            if i == 4 {
                expected.push(None);
                jobs.push(Job {
                    path: dir.path().join("missing"),
                    algorithm: Algorithm::Sha256,
                    range: None,
                });
            }
        }
        for threads in [0, 1, 2, 3, 64] {
            let results = hash_many(&jobs, threads);
            assert_eq!(results.len(), jobs.len());
            for (got, want) in results.iter().zip(&expected) {
                match want {
                    Some(digest) => assert_eq!(got.as_ref().unwrap(), digest),
                    None => assert!(got.is_err()),
                }
            }
        }
        assert!(hash_many(&[], 4).is_empty());
    }
}
