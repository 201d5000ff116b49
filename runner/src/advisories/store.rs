//! The on-disk store of fetched advisory databases: a directory holding
//! `pypi-<time>-<sha>.zip` archives, each with a `.json` metadata file beside
//! it (url, sha256, fetch time, record count).
//!
//! Crash safety: an archive is downloaded to a temporary `.download-*.part`
//! file in the same directory and renamed into place only once verified; its
//! metadata file is written the same way *after* the archive, so the metadata
//! is the commit marker. An archive without metadata, or whose size differs
//! from it, is never used, and a later fetch removes it.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

/// Prefix of stored archives and their metadata files.
const PREFIX: &str = "pypi-";
/// Prefix of in-progress downloads (temporary files in the store).
pub const PART_PREFIX: &str = ".download-";
/// Complete databases kept after a successful fetch (the newest and one before it).
const KEEP: usize = 2;
/// Largest metadata file read.
const MAX_META_BYTES: u64 = 64 << 10;

/// What is known about one stored archive (its `.json` file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    /// Where it was downloaded from.
    pub url: String,
    /// SHA-256 of the archive, hex.
    pub sha256: String,
    /// When the fetch finished, RFC 3339 UTC.
    pub fetched_at: String,
    /// OSV records in the archive.
    pub records: u64,
    /// Records naming a PyPI package.
    pub pypi_records: u64,
    /// Newest `modified` among the records (the date of the data).
    pub newest_modified: Option<String>,
    /// Archive size in bytes.
    pub bytes: u64,
    /// Archive file name, in the same directory.
    pub file: String,
}

/// A complete stored database.
#[derive(Debug, Clone)]
pub struct Stored {
    /// The archive.
    pub zip: PathBuf,
    /// Its metadata.
    pub meta: Meta,
}

impl Stored {
    /// Time since the fetch (zero when the clock says it is in the future).
    pub fn age(&self) -> Duration {
        let then = self
            .meta
            .fetched_at
            .parse::<jiff::Timestamp>()
            .map(SystemTime::from)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        SystemTime::now().duration_since(then).unwrap_or_default()
    }
}

/// The base name (without extension) for an archive fetched at `at` with this hash.
pub fn base_name(at: jiff::Timestamp, sha256: &str) -> String {
    let time = at.strftime("%Y%m%dT%H%M%SZ");
    format!("{PREFIX}{time}-{}", &sha256[..sha256.len().min(12)])
}

/// Every complete database in `dir`, newest first. Unreadable or incomplete
/// entries are skipped.
pub fn list(dir: &Path) -> Vec<Stored> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<(jiff::Timestamp, Stored)> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (name.starts_with(PREFIX) && name.ends_with(".json"))
                .then(|| read_complete(dir, &e.path()))
                .flatten()
        })
        .filter_map(|s| Some((s.meta.fetched_at.parse().ok()?, s)))
        .collect();
    found.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| b.1.meta.file.cmp(&a.1.meta.file))
    });
    found.into_iter().map(|(_, s)| s).collect()
}

/// The newest complete database in `dir`.
pub fn newest(dir: &Path) -> Option<Stored> {
    list(dir).into_iter().next()
}

fn read_complete(dir: &Path, meta_path: &Path) -> Option<Stored> {
    let mut text = String::new();
    fs::File::open(meta_path)
        .ok()?
        .take(MAX_META_BYTES)
        .read_to_string(&mut text)
        .ok()?;
    let meta: Meta = serde_json::from_str(&text).ok()?;
    // The file name comes from data on disk: a plain name in this directory only.
    if meta.file.contains(['/', '\\']) || !meta.file.starts_with(PREFIX) {
        return None;
    }
    let zip = dir.join(&meta.file);
    let size = fs::metadata(&zip).ok().filter(|m| m.is_file())?.len();
    (size == meta.bytes).then_some(Stored { zip, meta })
}

/// Moves the verified download `part` into `dir` under `meta.file`, then
/// writes the metadata (the commit), then prunes older databases.
pub fn commit(dir: &Path, part: tempfile::NamedTempFile, meta: &Meta) -> std::io::Result<Stored> {
    part.as_file().sync_all()?;
    let zip = dir.join(&meta.file);
    part.persist(&zip).map_err(|e| e.error)?;
    let mut meta_file = tempfile::Builder::new()
        .prefix(PART_PREFIX)
        .suffix(".part")
        .tempfile_in(dir)?;
    meta_file.write_all(serde_json::to_string_pretty(meta)?.as_bytes())?;
    meta_file.as_file().sync_all()?;
    let json = zip.with_extension("json");
    meta_file.persist(&json).map_err(|e| e.error)?;
    // Make both renames durable (a directory fsync; best effort elsewhere).
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    prune(dir);
    Ok(Stored {
        zip,
        meta: meta.clone(),
    })
}

/// Removes databases beyond the newest [`KEEP`], archives with no metadata,
/// and downloads left behind by a crash (older than an hour, so a fetch
/// running at the same time is not disturbed).
pub fn prune(dir: &Path) {
    let complete = list(dir);
    for old in complete.iter().skip(KEEP) {
        // Metadata first: once it is gone the archive is no longer used.
        let _ = fs::remove_file(old.zip.with_extension("json"));
        let _ = fs::remove_file(&old.zip);
    }
    let kept: Vec<&str> = complete
        .iter()
        .take(KEEP)
        .map(|s| s.meta.file.as_str())
        .collect();
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let hour_ago = SystemTime::now() - Duration::from_secs(3600);
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let stale = e
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t < hour_ago);
        let orphan = name.starts_with(PREFIX) && name.ends_with(".zip") && !kept.contains(&&*name);
        if stale && (orphan || name.starts_with(PART_PREFIX)) {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// `42 seconds`, `5 minutes`, `3 hours`, `2 days`.
pub fn human_age(age: Duration) -> String {
    let s = age.as_secs();
    let (n, unit) = match s {
        0..60 => (s, "second"),
        60..3600 => (s / 60, "minute"),
        3600..86_400 => (s / 3600, "hour"),
        _ => (s / 86_400, "day"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(file: &str, at: &str, bytes: u64) -> Meta {
        Meta {
            url: "http://x/all.zip".into(),
            sha256: "ab".repeat(32),
            fetched_at: at.into(),
            records: 3,
            pypi_records: 3,
            newest_modified: Some("2024-10-10T00:00:00Z".into()),
            bytes,
            file: file.into(),
        }
    }

    fn stage(dir: &Path, m: &Meta, body: &[u8]) -> Stored {
        let mut part = tempfile::Builder::new()
            .prefix(PART_PREFIX)
            .tempfile_in(dir)
            .unwrap();
        part.write_all(body).unwrap();
        commit(dir, part, m).unwrap()
    }

    #[test]
    fn newest_is_by_fetch_time_and_old_ones_are_pruned() {
        let dir = tempfile::tempdir().unwrap();
        stage(
            dir.path(),
            &meta("pypi-a.zip", "2026-01-01T00:00:00Z", 3),
            b"one",
        );
        stage(
            dir.path(),
            &meta("pypi-c.zip", "2026-03-01T00:00:00Z", 5),
            b"three",
        );
        let s = stage(
            dir.path(),
            &meta("pypi-b.zip", "2026-02-01T00:00:00Z", 3),
            b"two",
        );
        assert_eq!(s.zip, dir.path().join("pypi-b.zip"));
        let all = list(dir.path());
        let names: Vec<_> = all.iter().map(|s| s.meta.file.as_str()).collect();
        assert_eq!(names, ["pypi-c.zip", "pypi-b.zip"], "the oldest is pruned");
        assert!(!dir.path().join("pypi-a.zip").exists());
        assert!(!dir.path().join("pypi-a.json").exists());
        assert_eq!(newest(dir.path()).unwrap().meta.file, "pypi-c.zip");
    }

    #[test]
    fn incomplete_or_foreign_entries_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        stage(d, &meta("pypi-ok.zip", "2026-01-01T00:00:00Z", 2), b"ok");
        // An archive whose size differs from its metadata (torn write).
        fs::write(d.join("pypi-torn.zip"), b"short").unwrap();
        let torn = meta("pypi-torn.zip", "2027-01-01T00:00:00Z", 999);
        fs::write(
            d.join("pypi-torn.json"),
            serde_json::to_string(&torn).unwrap(),
        )
        .unwrap();
        // Metadata pointing out of the directory.
        let evil = meta("../pypi-x.zip", "2028-01-01T00:00:00Z", 2);
        fs::write(
            d.join("pypi-evil.json"),
            serde_json::to_string(&evil).unwrap(),
        )
        .unwrap();
        // Not JSON.
        fs::write(d.join("pypi-junk.json"), b"{").unwrap();
        assert_eq!(newest(d).unwrap().meta.file, "pypi-ok.zip");
        assert!(newest(&d.join("missing")).is_none());
    }

    #[test]
    fn ages_read_like_people_say_them() {
        assert_eq!(human_age(Duration::from_secs(1)), "1 second");
        assert_eq!(human_age(Duration::from_secs(300)), "5 minutes");
        assert_eq!(human_age(Duration::from_secs(7200)), "2 hours");
        assert_eq!(human_age(Duration::from_secs(86_400 * 3)), "3 days");
        let at = "2026-11-26T09:22:05.5Z".parse().unwrap();
        assert_eq!(
            base_name(at, &"f".repeat(64)),
            "pypi-20261126T092205Z-ffffffffffff"
        );
    }
}
