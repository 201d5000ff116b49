//! Loading an OSV database: a directory of OSV JSON files (what OSV's per-
//! ecosystem `all.zip` unpacks to), a `.jsonl` file (one record per line), a
//! `.zip` in OSV's layout, or a single `.json` record.
//!
//! Every record gets a cheap first parse that reads only `id`, `modified` and
//! the affected package names (borrowed strings, everything else skipped);
//! only records naming a wanted package are deserialised in full. So auditing
//! a lockfile against all of PyPI's advisories keeps just the few records that
//! matter. Every size the data controls is bounded (line, file, zip entry).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;

use super::{Record, is_pypi};
use crate::names::normalize;

/// Largest single record (a JSON file, a JSONL line, a zip entry) accepted.
pub const MAX_RECORD_BYTES: u64 = 32 << 20;
/// Most zip entries read from one archive.
const MAX_ZIP_ENTRIES: usize = 2_000_000;
/// Largest archive read into memory whole (larger ones are streamed).
const MAX_ZIP_IN_MEMORY: u64 = 192 << 20;

/// The records that concern the packages asked for, plus facts about the
/// whole database.
#[derive(Debug, Default)]
pub struct Database {
    by_name: HashMap<String, Vec<Arc<Record>>>,
    /// Records read (all packages, withdrawn included).
    pub records_seen: usize,
    /// Newest `modified` timestamp in the database (its date of data).
    pub newest_modified: Option<String>,
    /// Records or files that could not be read, with the reason.
    pub invalid: Vec<String>,
}

/// The database input could not be read at all.
#[derive(Debug)]
pub struct DbError(pub String);

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Deserialize)]
struct Light<'a> {
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    modified: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    affected: Vec<LightAffected<'a>>,
}

#[derive(Deserialize)]
struct LightAffected<'a> {
    #[serde(borrow, default)]
    package: Option<LightPackage<'a>>,
}

#[derive(Deserialize)]
struct LightPackage<'a> {
    #[serde(borrow, default)]
    ecosystem: Cow<'a, str>,
    #[serde(borrow, default)]
    name: Cow<'a, str>,
}

impl Database {
    /// Load from `path` (file or directory), keeping the records that name a
    /// package in `wanted` (normalised names), or every record when `None`.
    pub fn load(path: &Path, wanted: Option<&HashSet<String>>) -> Result<Self, DbError> {
        let mut db = Database::default();
        let meta = std::fs::metadata(path)
            .map_err(|e| DbError(format!("advisory database {}: {e}", path.display())))?;
        if meta.is_dir() {
            let walk = mlgate_plugin_sdk::walk::files(path, Default::default());
            for (p, e) in walk.errors {
                db.invalid.push(format!("{}: {e}", p.display()));
            }
            for file in walk.files {
                let name = file.to_string_lossy().to_ascii_lowercase();
                if name.ends_with(".json") || name.ends_with(".jsonl") || name.ends_with(".zip") {
                    db.load_file(&file, wanted)?;
                }
            }
        } else {
            db.load_file(path, wanted)?;
        }
        if db.records_seen == 0 {
            return Err(DbError(format!(
                "advisory database {} holds no OSV records",
                path.display()
            )));
        }
        Ok(db)
    }

    /// The kept records naming this normalised package.
    pub fn records_for(&self, normalized: &str) -> &[Arc<Record>] {
        self.by_name.get(normalized).map_or(&[], Vec::as_slice)
    }

    /// Every kept record (deduplicated by id), in id order.
    pub fn all_records(&self) -> Vec<Arc<Record>> {
        let mut seen = HashSet::new();
        let mut out: Vec<_> = self
            .by_name
            .values()
            .flatten()
            .filter(|r| seen.insert(r.id.clone()))
            .cloned()
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    fn load_file(&mut self, path: &Path, wanted: Option<&HashSet<String>>) -> Result<(), DbError> {
        let io = |e: std::io::Error| DbError(format!("{}: {e}", path.display()));
        let mut file = File::open(path).map_err(io)?;
        let mut magic = [0u8; 4];
        let n = file.read(&mut magic).map_err(io)?;
        drop(file);
        let label = path.display().to_string();
        if n == 4 && magic == *b"PK\x03\x04" {
            self.load_zip(path, wanted)
        } else if label.to_ascii_lowercase().ends_with(".jsonl") {
            let reader = BufReader::with_capacity(1 << 20, File::open(path).map_err(io)?);
            self.load_lines(reader, &label, wanted).map_err(io)
        } else {
            let file = File::open(path).map_err(io)?;
            let text = read_bounded(file).map_err(io)?;
            self.add(&text, &label, wanted);
            Ok(())
        }
    }

    fn load_lines(
        &mut self,
        mut reader: impl BufRead,
        label: &str,
        wanted: Option<&HashSet<String>>,
    ) -> std::io::Result<()> {
        let mut line = Vec::new();
        let mut number = 0usize;
        loop {
            line.clear();
            let n = (&mut reader)
                .take(MAX_RECORD_BYTES + 1)
                .read_until(b'\n', &mut line)?;
            if n == 0 {
                return Ok(());
            }
            number += 1;
            if n as u64 > MAX_RECORD_BYTES {
                return Err(std::io::Error::other(format!(
                    "line {number} is longer than {MAX_RECORD_BYTES} bytes"
                )));
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            self.add(&line, &format!("{label}:{number}"), wanted);
        }
    }

    fn load_zip(&mut self, path: &Path, wanted: Option<&HashSet<String>>) -> Result<(), DbError> {
        let err = |e: &dyn std::fmt::Display| DbError(format!("{}: {e}", path.display()));
        let mut file = File::open(path).map_err(|e| err(&e))?;
        let size = file.metadata().map_err(|e| err(&e))?.len();
        // Every entry seeks to its local header, which empties a BufReader:
        // on WASI each refill is a host call, so an archive that fits is read
        // once into memory (10x faster in the sandbox for OSV's PyPI zip).
        if size <= MAX_ZIP_IN_MEMORY {
            let mut bytes = Vec::with_capacity(size as usize);
            file.read_to_end(&mut bytes).map_err(|e| err(&e))?;
            self.load_zip_from(std::io::Cursor::new(bytes), path, wanted)
        } else {
            self.load_zip_from(BufReader::new(file), path, wanted)
        }
    }

    fn load_zip_from(
        &mut self,
        reader: impl Read + std::io::Seek,
        path: &Path,
        wanted: Option<&HashSet<String>>,
    ) -> Result<(), DbError> {
        let err = |e: &dyn std::fmt::Display| DbError(format!("{}: {e}", path.display()));
        let mut archive = zip::ZipArchive::new(reader).map_err(|e| err(&e))?;
        if archive.len() > MAX_ZIP_ENTRIES {
            return Err(err(&format!("more than {MAX_ZIP_ENTRIES} entries")));
        }
        for index in 0..archive.len() {
            let mut entry = archive.by_index(index).map_err(|e| err(&e))?;
            let name = entry.name().to_string();
            if !entry.is_file() || !name.to_ascii_lowercase().ends_with(".json") {
                continue;
            }
            let label = format!("{}!{name}", path.display());
            match read_bounded(&mut entry) {
                Ok(bytes) => self.add(&bytes, &label, wanted),
                Err(e) => self.invalid.push(format!("{label}: {e}")),
            }
        }
        Ok(())
    }

    /// Index one record's bytes.
    fn add(&mut self, bytes: &[u8], label: &str, wanted: Option<&HashSet<String>>) {
        let light: Light<'_> = match serde_json::from_slice(bytes) {
            Ok(l) => l,
            Err(e) => {
                self.invalid
                    .push(format!("{label}: not an OSV record: {e}"));
                return;
            }
        };
        self.records_seen += 1;
        if let Some(m) = light
            .modified
            .as_deref()
            .filter(|m| m.as_bytes().first() != Some(&b'0'))
            && self.newest_modified.as_deref().is_none_or(|cur| m > cur)
        {
            self.newest_modified = Some(m.to_string());
        }
        let mut names: Vec<String> = light
            .affected
            .iter()
            .filter_map(|a| a.package.as_ref())
            .filter(|p| is_pypi(&p.ecosystem))
            .map(|p| normalize(&p.name))
            .filter(|n| wanted.is_none_or(|w| w.contains(n)))
            .collect();
        if names.is_empty() {
            return;
        }
        names.sort();
        names.dedup();
        let id = light.id.as_deref().unwrap_or("?").to_string();
        match serde_json::from_slice::<Record>(bytes) {
            Ok(record) => {
                let record = Arc::new(record);
                for name in names {
                    self.by_name
                        .entry(name)
                        .or_default()
                        .push(Arc::clone(&record));
                }
            }
            Err(e) => self.invalid.push(format!("{label} ({id}): {e}")),
        }
    }
}

fn read_bounded(reader: impl Read) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader.take(MAX_RECORD_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_RECORD_BYTES {
        return Err(std::io::Error::other(format!(
            "record larger than {MAX_RECORD_BYTES} bytes"
        )));
    }
    Ok(bytes)
}

/// Shared test data: the PyPA snapshot in `../shared/data/osv-pypi`.
#[cfg(test)]
pub mod tests_support {
    use std::path::PathBuf;
    use std::sync::{Arc, OnceLock};

    use super::*;

    /// `shared/data/osv-pypi/` beside the repository; panics with a clear
    /// message when it is missing (CI has it).
    pub fn snapshot_dir() -> PathBuf {
        let dir = PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/osv-pypi"
        ));
        assert!(
            dir.join("pypa-advisories.jsonl").is_file(),
            "shared test data missing: {} (the PyPA OSV snapshot must sit beside the repo)",
            dir.display()
        );
        dir
    }

    /// Every record of the snapshot, loaded once.
    pub fn snapshot_records() -> &'static [Arc<Record>] {
        static ALL: OnceLock<Vec<Arc<Record>>> = OnceLock::new();
        ALL.get_or_init(|| {
            let db = Database::load(&snapshot_dir().join("pypa-advisories.jsonl"), None).unwrap();
            db.all_records()
        })
    }
}

#[cfg(test)]
#[path = "db_tests.rs"]
mod tests;
