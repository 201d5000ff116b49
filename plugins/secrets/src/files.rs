//! Scanning files: binary files are skipped (by extension or a NUL byte),
//! notebooks are decoded cell by cell (see `notebook`), everything else is
//! scanned as text. Each hit becomes a finding with a redacted secret.

use std::path::Path;

use mlgate_plugin_sdk::{Finding, Severity};

use crate::config::Filters;
use crate::notebook;
use crate::scan::{Hit, Scanner, Syntax};

/// Rule id of the info finding for a file too large to scan.
pub const SKIPPED_ID: &str = "file-too-large";

/// Extensions of binary formats that are never text.
const BINARY_EXTENSIONS: &[&str] = &[
    "png",
    "jpg",
    "jpeg",
    "gif",
    "bmp",
    "ico",
    "webp",
    "pdf",
    "zip",
    "gz",
    "tgz",
    "bz2",
    "xz",
    "zst",
    "7z",
    "tar",
    "whl",
    "so",
    "dylib",
    "dll",
    "exe",
    "o",
    "a",
    "class",
    "jar",
    "pyc",
    "pt",
    "pth",
    "bin",
    "safetensors",
    "onnx",
    "pkl",
    "pickle",
    "joblib",
    "npy",
    "npz",
    "h5",
    "keras",
    "gguf",
    "parquet",
    "arrow",
    "feather",
    "tflite",
    "pb",
    "wasm",
    "mp3",
    "mp4",
    "wav",
];

/// Counters of one scan.
#[derive(Debug, Default)]
pub struct Stats {
    /// Text files scanned.
    pub scanned: u64,
    /// Bytes of text scanned.
    pub bytes: u64,
    /// Files skipped as binary.
    pub binary: u64,
    /// Files skipped by the allowlist.
    pub allowlisted_files: u64,
    /// Findings dropped by allowlist or baseline.
    pub suppressed: u64,
}

use mlgate_plugin_sdk::walk::read_bounded;

/// Scan one file (`relative` is its path relative to the input root);
/// `buf` is a read buffer reused across files.
pub fn scan_file(
    scanner: &Scanner,
    filters: &Filters,
    path: &Path,
    relative: &str,
    stats: &mut Stats,
    out: &mut Vec<Finding>,
    buf: &mut Vec<u8>,
) -> std::io::Result<()> {
    let shown = path.to_string_lossy().into_owned();
    if filters.path_allowed(relative) {
        stats.allowlisted_files += 1;
        return Ok(());
    }
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if BINARY_EXTENSIONS.contains(&ext.as_str()) {
        stats.binary += 1;
        return Ok(());
    }
    // No separate stat: WASI calls dominate on trees of many small files.
    read_bounded(path, filters.max_file_bytes.saturating_add(1), buf)?;
    let bytes = &buf[..];
    if bytes.len() as u64 > filters.max_file_bytes {
        out.push(
            Finding::new(
                SKIPPED_ID,
                Severity::Info,
                format!(
                    "not scanned: over max_file_bytes ({} bytes)",
                    filters.max_file_bytes
                ),
            )
            .at(shown, None)
            .fingerprint(&[SKIPPED_ID, relative]),
        );
        return Ok(());
    }
    if bytes[..bytes.len().min(8192)].contains(&0) {
        stats.binary += 1;
        return Ok(());
    }
    stats.scanned += 1;
    stats.bytes += bytes.len() as u64;
    let text = String::from_utf8_lossy(bytes);
    // Most files have no hit: index their lines only when one has.
    let mut lines: Option<LineIndex> = None;
    let mut emit = |hit: Hit, raw_offset: usize, cell: Option<usize>| {
        let lines = lines.get_or_insert_with(|| LineIndex::new(&text));
        let finding = finding(&hit, &shown, relative, lines, raw_offset, cell);
        if filters.finding_allowed(&finding.rule_id, &finding.fingerprint) {
            stats.suppressed += 1;
        } else {
            out.push(finding);
        }
    };
    if ext == "ipynb"
        && let Some(segments) = notebook::segments(&text)
    {
        for seg in &segments {
            for hit in scanner.scan(&seg.text) {
                let raw = seg.raw_offset(hit.offset);
                emit(hit, raw, seg.cell);
            }
        }
        return Ok(());
    }
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    for hit in scanner.scan_as(&text, Syntax::of_file_name(file_name)) {
        let raw = hit.offset;
        emit(hit, raw, None);
    }
    Ok(())
}

/// Show at most a quarter of the secret (4 characters at most) and its length.
pub fn redact(secret: &str) -> String {
    let n = secret.chars().count();
    let shown: String = secret.chars().take((n / 4).min(4)).collect();
    format!("{shown}…[{n} chars]")
}

fn finding(
    hit: &Hit,
    shown: &str,
    relative: &str,
    lines: &LineIndex,
    raw_offset: usize,
    cell: Option<usize>,
) -> Finding {
    let (line, column) = lines.locate(raw_offset);
    let redacted = redact(&hit.secret);
    let mut message = format!("{}: {redacted}", hit.rule.summary);
    match (hit.rule.id, &hit.context) {
        ("generic-secret-assignment", Some(name)) => {
            message.push_str(&format!(" assigned to `{name}`"))
        }
        (_, Some(url)) => message.push_str(&format!(" in `{url}`")),
        _ => {}
    }
    let mut f = Finding::new(hit.rule.id, hit.rule.severity, message)
        .at(shown, Some(line))
        .column(column)
        .byte_offset(raw_offset as u64)
        .fingerprint(&[hit.rule.id, relative, &secret_tag(&hit.secret)])
        .property("redacted", redacted)
        .property("check", hit.note.clone());
    if let Some(cell) = cell {
        f = f.property("cell", cell.to_string());
    }
    f
}

/// A 16-bit tag of a secret for its finding's fingerprint.
///
/// Fingerprints are published (SARIF `partialFingerprints`, tickets), so they must not
/// let anyone confirm a guessed secret: a full hash of a short password can be brute-
/// forced offline, but a 16-bit tag matches one in 65,536 of all candidates. It still
/// tells apart two secrets found by one rule in one file, almost always.
fn secret_tag(secret: &str) -> String {
    let mut tag = mlgate_plugin_sdk::fingerprint_of(&["mlgate-secret-tag", secret]);
    tag.truncate(4);
    tag
}

/// Newline offsets of a text, for offset → (line, column), both 1-based.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { starts }
    }

    fn locate(&self, offset: usize) -> (u32, u32) {
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let col = offset - self.starts[line - 1] + 1;
        (line as u32, col as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_never_shows_the_whole_secret() {
        for s in [
            "Q",
            "Zq",
            "Zq3R",
            "hunter22",
            "ghp_0123456789abcdefghijklmnopqrstuvwxyz",
        ] {
            let r = redact(s);
            assert!(!r.contains(s), "{r}");
        }
        assert_eq!(redact("hunter22"), "hu…[8 chars]");
    }

    #[test]
    fn secret_tag_is_short_stable_and_separates_secrets() {
        assert_eq!(secret_tag("hunter22"), secret_tag("hunter22"));
        assert_eq!(secret_tag("hunter22").len(), 4);
        assert_ne!(secret_tag("hunter22"), secret_tag("hunter23"));
        // The tag is not a prefix of a plain hash of the secret that a
        // fingerprint could otherwise have carried.
        let plain = mlgate_plugin_sdk::fingerprint_of(&["hunter22"]);
        assert!(!plain.starts_with(&secret_tag("hunter22")));
    }

    #[test]
    fn file_over_the_size_bound_is_reported_not_scanned() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        std::fs::write(&path, "password = \"T7#kq9Lm2x!Pv4\"\n").unwrap();
        let scanner = Scanner::new().unwrap();
        let run = |max: u64| {
            let config = crate::config::Config {
                max_file_bytes: Some(max),
                ..Default::default()
            };
            let filters = crate::config::filters(config, None).unwrap();
            let (mut stats, mut out) = (Stats::default(), Vec::new());
            let mut buf = Vec::new();
            scan_file(
                &scanner, &filters, &path, "a.txt", &mut stats, &mut out, &mut buf,
            )
            .unwrap();
            out.iter().map(|f| f.rule_id.clone()).collect::<Vec<_>>()
        };
        let len = std::fs::metadata(&path).unwrap().len();
        assert_eq!(run(len), ["generic-secret-assignment"]);
        assert_eq!(run(len - 1), [SKIPPED_ID]);
    }

    #[test]
    fn line_index_is_one_based() {
        let idx = LineIndex::new("ab\ncd\n");
        assert_eq!(idx.locate(0), (1, 1));
        assert_eq!(idx.locate(4), (2, 2));
    }
}
