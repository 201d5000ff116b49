//! Downloading OSV's PyPI archive on the host (the gates never have network):
//! stream it into a temporary file in the store directory, hashing and
//! counting as it arrives, under a size cap; verify it; then commit it to the
//! store. Any failure leaves the store as it was.
//!
//! HTTP is `ureq`, the client the ticket sinks already use.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::store::{self, Meta, Stored};
use super::verify::{self, Limits};

/// OSV's archive of every PyPI advisory.
pub const DEFAULT_URL: &str = "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip";

/// Largest download accepted by default (the PyPI archive is tens of MB).
pub const DEFAULT_MAX_BYTES: u64 = 1 << 30;

/// How to fetch.
#[derive(Debug, Clone)]
pub struct Options {
    /// Archive URL (`http://` or `https://`).
    pub url: String,
    /// Store directory (created if missing).
    pub dir: PathBuf,
    /// Largest download accepted, in bytes.
    pub max_bytes: u64,
    /// Show progress on stderr.
    pub progress: bool,
}

/// Why a fetch failed (the store is unchanged).
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The URL is not HTTP(S).
    #[error("`{0}` is not an http:// or https:// URL")]
    Url(String),
    /// No usable answer.
    #[error("downloading {url}: {message}")]
    Http {
        /// The URL.
        url: String,
        /// What happened.
        message: String,
    },
    /// The download is not an OSV PyPI database.
    #[error("{url} is not a usable OSV database: {message}")]
    Invalid {
        /// The URL.
        url: String,
        /// What is wrong with it.
        message: String,
    },
    /// The store directory could not be written.
    #[error("{}: {source}", path.display())]
    Store {
        /// The directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// Downloads, verifies and stores the archive.
pub fn fetch(opts: &Options) -> Result<Stored, FetchError> {
    if !(opts.url.starts_with("https://") || opts.url.starts_with("http://")) {
        return Err(FetchError::Url(opts.url.clone()));
    }
    let store_err = |source| FetchError::Store {
        path: opts.dir.clone(),
        source,
    };
    std::fs::create_dir_all(&opts.dir).map_err(store_err)?;
    store::prune(&opts.dir);
    let mut part = tempfile::Builder::new()
        .prefix(store::PART_PREFIX)
        .suffix(".part")
        .tempfile_in(&opts.dir)
        .map_err(store_err)?;
    let http = |message: String| FetchError::Http {
        url: opts.url.clone(),
        message,
    };
    let (sha256, bytes) = download(opts, part.as_file_mut()).map_err(http)?;
    let verified = verify::verify_zip(part.path(), Limits::default()).map_err(|message| {
        FetchError::Invalid {
            url: opts.url.clone(),
            message,
        }
    })?;
    let now = jiff::Timestamp::now();
    let meta = Meta {
        url: opts.url.clone(),
        file: format!("{}.zip", store::base_name(now, &sha256)),
        sha256,
        fetched_at: now.to_string(),
        records: verified.records,
        pypi_records: verified.pypi_records,
        newest_modified: verified.newest_modified,
        bytes,
    };
    store::commit(&opts.dir, part, &meta).map_err(store_err)
}

/// Streams the body into `out`; returns (sha256 hex, bytes).
fn download(opts: &Options, out: &mut std::fs::File) -> Result<(String, u64), String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        .timeout_per_read(Some(Duration::from_secs(60)))
        .user_agent(concat!("mlgate/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let mut resp = agent.get(&opts.url).call().map_err(|e| e.to_string())?;
    let status = resp.status();
    if status.as_u16() != 200 {
        let body = resp
            .body_mut()
            .with_config()
            .limit(4096)
            .read_to_string()
            .unwrap_or_default();
        return Err(status_message(
            status.as_u16(),
            status.canonical_reason(),
            &body,
        ));
    }
    let total = resp.body().content_length();
    if let Some(n) = total.filter(|n| *n > opts.max_bytes) {
        return Err(format!(
            "the archive is {n} bytes, more than the {} allowed (--max-size)",
            opts.max_bytes
        ));
    }
    let mut reader = resp.body_mut().with_config().limit(u64::MAX).reader();
    let mut progress = Progress::new(opts.progress, total);
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 << 10];
    let mut done = 0u64;
    loop {
        let n = reader.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        done += n as u64;
        if done > opts.max_bytes {
            return Err(format!(
                "the archive is larger than the {} bytes allowed (--max-size)",
                opts.max_bytes
            ));
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n]).map_err(|e| e.to_string())?;
        progress.update(done);
    }
    progress.finish(done);
    if let Some(n) = total.filter(|n| *n != done) {
        return Err(format!("connection closed after {done} of {n} bytes"));
    }
    out.flush().map_err(|e| e.to_string())?;
    Ok((hex::encode(hasher.finalize()), done))
}

/// `HTTP 500: backend exploded`; an HTML error page is left out (its
/// markup says nothing), anything else is cut to one short line.
fn status_message(status: u16, reason: Option<&str>, body: &str) -> String {
    let text: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    let head = match reason {
        Some(r) => format!("HTTP {status} {r}"),
        None => format!("HTTP {status}"),
    };
    if text.is_empty() || text.starts_with('<') {
        head
    } else {
        format!("{head}: {}", text.chars().take(200).collect::<String>())
    }
}

/// A progress line on stderr: redrawn in place on a terminal, one line every
/// few seconds otherwise (so short downloads print nothing there).
struct Progress {
    on: bool,
    tty: bool,
    total: Option<u64>,
    start: Instant,
    last: Instant,
    drawn: bool,
}

impl Progress {
    fn new(on: bool, total: Option<u64>) -> Progress {
        let now = Instant::now();
        Progress {
            on,
            tty: std::io::stderr().is_terminal() && std::env::var_os("CI").is_none(),
            total,
            start: now,
            last: now,
            drawn: false,
        }
    }

    fn line(&self, done: u64) -> String {
        let mb = |b: u64| b as f64 / 1_048_576.0;
        match self.total {
            Some(t) if t > 0 => format!(
                "downloading: {:.1} / {:.1} MiB ({}%)",
                mb(done),
                mb(t),
                done * 100 / t
            ),
            _ => format!("downloading: {:.1} MiB", mb(done)),
        }
    }

    fn update(&mut self, done: u64) {
        let every = if self.tty {
            Duration::from_millis(200)
        } else {
            Duration::from_secs(5)
        };
        if !self.on || self.last.elapsed() < every || self.start.elapsed() < every {
            return;
        }
        self.last = Instant::now();
        self.drawn = true;
        if self.tty {
            eprint!("\r\x1b[2K{}", self.line(done));
        } else {
            eprintln!("{}", self.line(done));
        }
    }

    fn finish(&self, done: u64) {
        if self.on && self.drawn && self.tty {
            eprintln!("\r\x1b[2K{}", self.line(done));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_statuses_read_as_one_line() {
        assert_eq!(
            status_message(500, Some("Internal Server Error"), "backend\n  exploded\n"),
            "HTTP 500 Internal Server Error: backend exploded"
        );
        let page = "<!DOCTYPE HTML>\n<html><body><h1>Error response</h1></body></html>";
        assert_eq!(
            status_message(404, Some("Not Found"), page),
            "HTTP 404 Not Found"
        );
        assert_eq!(status_message(599, None, ""), "HTTP 599");
        assert_eq!(
            status_message(403, None, &"x".repeat(500)).len(),
            "HTTP 403: ".len() + 200
        );
    }
}
