//! Checks a downloaded archive before it is stored: it must be a zip in OSV's
//! per-ecosystem layout whose every `.json` entry is an OSV record (an `id`
//! and an `affected` list), with safe entry names and bounded sizes, and at
//! least one record naming a PyPI package. The gate reads the archive as it
//! is (it is never unpacked on the host), but a hostile or broken download
//! must not replace a good database.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use serde::Deserialize;

/// Bounds on what an archive may hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most entries.
    pub max_entries: usize,
    /// Largest single entry, uncompressed (the gate's own per-record bound).
    pub max_entry_bytes: u64,
    /// Largest total, uncompressed.
    pub max_total_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 2_000_000,
            max_entry_bytes: 32 << 20,
            max_total_bytes: 8 << 30,
        }
    }
}

/// What a verified archive holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// OSV records.
    pub records: u64,
    /// Records with at least one PyPI package.
    pub pypi_records: u64,
    /// Newest `modified` timestamp (the date of the data).
    pub newest_modified: Option<String>,
}

#[derive(Deserialize)]
struct Record {
    id: String,
    #[serde(default)]
    modified: Option<String>,
    affected: Vec<Affected>,
}

#[derive(Deserialize)]
struct Affected {
    #[serde(default)]
    package: Option<Package>,
}

#[derive(Deserialize)]
struct Package {
    #[serde(default)]
    ecosystem: String,
}

/// Verifies the archive at `path`; the error says what is wrong with it.
pub fn verify_zip(path: &Path, limits: Limits) -> Result<Verified, String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let mut archive = zip::ZipArchive::new(BufReader::new(file))
        .map_err(|e| format!("not a zip archive ({e})"))?;
    if archive.len() > limits.max_entries {
        return Err(format!(
            "{} entries, more than the {} allowed",
            archive.len(),
            limits.max_entries
        ));
    }
    let mut out = Verified {
        records: 0,
        pypi_records: 0,
        newest_modified: None,
    };
    let mut total = 0u64;
    let mut buf = Vec::new();
    for index in 0..archive.len() {
        let entry = archive
            .by_index(index)
            .map_err(|e| format!("entry {index}: {e}"))?;
        let name = entry.name().to_string();
        if entry.enclosed_name().is_none() || name.contains('\\') || name.starts_with('/') {
            return Err(format!("unsafe entry name `{name}` (path traversal)"));
        }
        if entry.is_dir() || !name.to_ascii_lowercase().ends_with(".json") {
            continue;
        }
        buf.clear();
        let read = entry
            .take(limits.max_entry_bytes + 1)
            .read_to_end(&mut buf)
            .map_err(|e| format!("`{name}`: {e}"))? as u64;
        if read > limits.max_entry_bytes {
            return Err(format!(
                "`{name}` unpacks to more than {} bytes",
                limits.max_entry_bytes
            ));
        }
        total += read;
        if total > limits.max_total_bytes {
            return Err(format!(
                "unpacks to more than {} bytes in all",
                limits.max_total_bytes
            ));
        }
        let record: Record = serde_json::from_slice(&buf)
            .map_err(|e| format!("`{name}` is not an OSV record ({e})"))?;
        if record.id.trim().is_empty() {
            return Err(format!("`{name}` is not an OSV record (empty `id`)"));
        }
        out.records += 1;
        if record.affected.iter().any(|a| {
            a.package
                .as_ref()
                .is_some_and(|p| p.ecosystem.eq_ignore_ascii_case("pypi"))
        }) {
            out.pypi_records += 1;
        }
        if let Some(m) = record.modified
            && out.newest_modified.as_ref().is_none_or(|n| m > *n)
        {
            out.newest_modified = Some(m);
        }
    }
    if out.records == 0 {
        return Err("holds no OSV records".into());
    }
    if out.pypi_records == 0 {
        return Err(format!(
            "none of its {} OSV records names a PyPI package (another ecosystem's archive?)",
            out.records
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use zip::write::SimpleFileOptions;

    use super::*;

    const RECORD: &str = r#"{"id":"PYSEC-1","modified":"2024-10-10T00:00:00Z",
        "affected":[{"package":{"ecosystem":"PyPI","name":"flask"}}]}"#;

    fn zip_of(entries: &[(&str, &str)]) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        let mut w = zip::ZipWriter::new(file.as_file_mut());
        for (name, body) in entries {
            w.start_file(*name, SimpleFileOptions::default()).unwrap();
            w.write_all(body.as_bytes()).unwrap();
        }
        w.finish().unwrap();
        file
    }

    fn check(entries: &[(&str, &str)]) -> Result<Verified, String> {
        verify_zip(zip_of(entries).path(), Limits::default())
    }

    #[test]
    fn counts_records_and_dates() {
        let old = RECORD
            .replace("2024-10-10", "2023-01-01")
            .replace("PYSEC-1", "GHSA-2");
        let v = check(&[("PYSEC-1.json", RECORD), ("GHSA-2.json", &old)]).unwrap();
        assert_eq!(v.records, 2);
        assert_eq!(v.pypi_records, 2);
        assert_eq!(v.newest_modified.as_deref(), Some("2024-10-10T00:00:00Z"));
    }

    #[test]
    fn refuses_what_is_not_an_osv_database() {
        let err = |entries: &[(&str, &str)]| check(entries).unwrap_err();
        assert!(err(&[("../evil.json", RECORD)]).contains("path traversal"));
        assert!(err(&[("/etc/x.json", RECORD)]).contains("path traversal"));
        assert!(err(&[("a.json", r#"{"id":"X"}"#)]).contains("missing field `affected`"));
        assert!(err(&[("a.json", "<html>")]).contains("is not an OSV record"));
        assert!(err(&[("README.txt", "hello")]).contains("no OSV records"));
        assert!(err(&[]).contains("no OSV records"));
        let npm = RECORD.replace("PyPI", "npm");
        assert!(err(&[("a.json", &npm)]).contains("none of its 1 OSV records"));
        let mut not_zip = tempfile::NamedTempFile::new().unwrap();
        not_zip.write_all(b"PK\x03\x04 but truncated").unwrap();
        assert!(
            verify_zip(not_zip.path(), Limits::default())
                .unwrap_err()
                .contains("not a zip")
        );
    }

    #[test]
    fn sizes_are_bounded_by_what_is_read_not_what_headers_claim() {
        let big = format!("{RECORD}{}", " ".repeat(200));
        let tight = Limits {
            max_entry_bytes: 100,
            ..Limits::default()
        };
        let file = zip_of(&[("a.json", &big)]);
        assert!(
            verify_zip(file.path(), tight)
                .unwrap_err()
                .contains("more than 100 bytes")
        );
        let total = Limits {
            max_total_bytes: 300,
            ..Limits::default()
        };
        let file = zip_of(&[("a.json", RECORD), ("b.json", RECORD), ("c.json", RECORD)]);
        assert!(
            verify_zip(file.path(), total)
                .unwrap_err()
                .contains("in all")
        );
        let few = Limits {
            max_entries: 2,
            ..Limits::default()
        };
        assert!(
            verify_zip(file.path(), few)
                .unwrap_err()
                .contains("3 entries")
        );
    }
}
