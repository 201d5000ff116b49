//! The host imports: logging, progress and native hashing.
//!
//! In the sandbox these call the mlgate runner. On a native target (unit
//! tests) they fall back to stand-ins so analysis code tests without a host.

use crate::{ByteRange, DigestAlgorithm, LogLevel};

#[cfg(target_family = "wasm")]
use crate::bindings::mlgate::gate::host as imports;

/// Log a line through the runner (shown with the gate's name).
pub fn log(level: LogLevel, message: &str) {
    #[cfg(target_family = "wasm")]
    imports::log(level, message);
    #[cfg(not(target_family = "wasm"))]
    eprintln!("[{level:?}] {message}");
}

/// Log at info level.
pub fn info(message: &str) {
    log(LogLevel::Info, message);
}

/// Log at warn level.
pub fn warn(message: &str) {
    log(LogLevel::Warn, message);
}

/// Report progress of long work.
pub fn progress(done: u64, total: u64) {
    #[cfg(target_family = "wasm")]
    imports::progress(done, total);
    #[cfg(not(target_family = "wasm"))]
    let _ = (done, total);
}

/// One hashing job for [`digest_batch`].
#[derive(Debug, Clone)]
pub struct DigestJob {
    /// Guest path of a file inside one of the gate's inputs.
    pub path: String,
    /// Hash algorithm.
    pub algorithm: DigestAlgorithm,
    /// Optional `(offset, length)` byte range.
    pub range: Option<(u64, u64)>,
}

/// Hash a whole file on the host (SHA-NI speed). Returns the raw digest.
pub fn digest(path: &str, algorithm: DigestAlgorithm) -> Result<Vec<u8>, String> {
    #[cfg(target_family = "wasm")]
    return imports::digest(path, algorithm);
    #[cfg(not(target_family = "wasm"))]
    native::digest(path, algorithm, None)
}

/// Hash many files or ranges; the host runs them in parallel. Results are in
/// job order.
pub fn digest_batch(jobs: &[DigestJob]) -> Vec<Result<Vec<u8>, String>> {
    #[cfg(target_family = "wasm")]
    {
        let requests: Vec<_> = jobs
            .iter()
            .map(|j| imports::DigestRequest {
                path: j.path.clone(),
                algorithm: j.algorithm,
                range: j.range.map(|(offset, length)| ByteRange { offset, length }),
            })
            .collect();
        imports::digest_batch(&requests)
    }
    #[cfg(not(target_family = "wasm"))]
    jobs.iter()
        .map(|j| {
            native::digest(
                &j.path,
                j.algorithm,
                j.range.map(|(offset, length)| ByteRange { offset, length }),
            )
        })
        .collect()
}

/// Lower-case hex of a digest.
pub fn to_hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

#[cfg(not(target_family = "wasm"))]
mod native {
    use std::io::{Read, Seek, SeekFrom};

    use blake2::Blake2b512;
    use sha2::{Digest, Sha256, Sha512};

    use crate::{ByteRange, DigestAlgorithm};

    pub fn digest(
        path: &str,
        algorithm: DigestAlgorithm,
        range: Option<ByteRange>,
    ) -> Result<Vec<u8>, String> {
        let mut file = std::fs::File::open(path).map_err(|e| format!("{path}: {e}"))?;
        let mut limit = u64::MAX;
        if let Some(r) = range {
            file.seek(SeekFrom::Start(r.offset))
                .map_err(|e| format!("{path}: {e}"))?;
            limit = r.length;
        }
        let mut reader = file.take(limit);
        let (digest, read) = match algorithm {
            DigestAlgorithm::Sha256 => hash::<Sha256>(&mut reader, path)?,
            DigestAlgorithm::Sha512 => hash::<Sha512>(&mut reader, path)?,
            DigestAlgorithm::Blake2b512 => hash::<Blake2b512>(&mut reader, path)?,
        };
        // Same contract as the host: a range past the end is an error, not
        // a shorter hash.
        if range.is_some() && read != limit {
            return Err(format!("{path}: range extends past the end of the file"));
        }
        Ok(digest)
    }

    fn hash<D: Digest>(reader: &mut impl Read, path: &str) -> Result<(Vec<u8>, u64), String> {
        let mut hasher = D::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut total = 0u64;
        loop {
            let n = reader.read(&mut buf).map_err(|e| format!("{path}: {e}"))?;
            if n == 0 {
                break;
            }
            total += n as u64;
            hasher.update(&buf[..n]);
        }
        Ok((hasher.finalize().to_vec(), total))
    }
}

#[cfg(all(test, not(target_family = "wasm")))]
mod tests {
    use super::*;

    #[test]
    fn native_digest_matches_known_vector() {
        let path = std::env::temp_dir().join(format!("sdk-digest-{}", std::process::id()));
        std::fs::write(&path, b"abc").unwrap();
        let p = path.to_str().unwrap();
        assert_eq!(
            to_hex(&digest(p, DigestAlgorithm::Sha256).unwrap()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let ranged = digest_batch(&[DigestJob {
            path: p.into(),
            algorithm: DigestAlgorithm::Sha256,
            range: Some((1, 1)),
        }]);
        // sha256("b")
        assert_eq!(
            to_hex(ranged[0].as_ref().unwrap()),
            "3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d"
        );
        let past_end = digest_batch(&[DigestJob {
            path: p.into(),
            algorithm: DigestAlgorithm::Sha256,
            range: Some((2, 5)),
        }]);
        assert!(past_end[0].is_err());
        std::fs::remove_file(path).unwrap();
    }
}
