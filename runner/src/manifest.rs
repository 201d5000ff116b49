//! `mlgate manifest create`: write the SHA-256 manifest of a dataset or model
//! directory, the trust anchor the `provenance` gate later checks against.
//!
//! The walk is sorted (byte order of the relative path), does not follow
//! symlinks (a link is skipped with a warning: a manifest names the files
//! that are there, not what a link points at), and skips the output file
//! when it lies inside the directory, so re-running over the same tree gives
//! the same manifest. Hashing goes through [`crate::digest::hash_many`], in
//! parallel across files.
//!
//! Two formats:
//! - `sha256sum`: exactly what GNU `sha256sum` prints in text mode,
//!   `<hex>  <path>` per line, with its escaping (a name holding `\` or a
//!   newline gets a leading `\` and `\\` / `\n` escapes), so
//!   `cd DIR && sha256sum -c --strict FILE` verifies it.
//! - `json`: `{"version":1,"algorithm":"sha256","files":{"path":"hex",...}}`.
//!
//! Paths are relative to the directory with `/` separators; a file given
//! instead of a directory yields one entry, its file name.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::digest::{self, Algorithm, Job};

/// Deepest directory nesting walked before giving up (a guard against
/// pathological trees, far beyond any real dataset).
pub const MAX_DEPTH: usize = 256;

/// Output format of a manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestFormat {
    /// GNU `sha256sum` text output: `<hex>  <path>` lines.
    Sha256sum,
    /// `{"version":1,"algorithm":"sha256","files":{...}}`.
    Json,
}

impl ManifestFormat {
    /// Parse `sha256sum` or `json` (the CLI's `--format` values).
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "sha256sum" => Some(ManifestFormat::Sha256sum),
            "json" => Some(ManifestFormat::Json),
            _ => None,
        }
    }
}

/// Why a manifest could not be created.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// Reading the tree or a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory that failed.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file name is not UTF-8; both formats hold UTF-8 paths.
    #[error("{}: file name is not valid UTF-8 (manifests hold UTF-8 paths)", path.display())]
    NonUtf8Path {
        /// The offending path.
        path: PathBuf,
    },
    /// The tree nests deeper than [`MAX_DEPTH`].
    #[error("{}: directories nest deeper than {MAX_DEPTH} levels", path.display())]
    TooDeep {
        /// The directory past the limit.
        path: PathBuf,
    },
    /// The root is neither a regular file nor a directory.
    #[error("{}: not a regular file or directory", path.display())]
    NotAFileOrDirectory {
        /// The root given.
        path: PathBuf,
    },
}

/// One manifest line: a relative `/`-separated path and its lower-case hex
/// SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Path relative to the manifest's directory, `/`-separated.
    pub path: String,
    /// Lower-case hex SHA-256 of the file.
    pub sha256: String,
}

/// Hash every regular file under `dir` (or `dir` itself if it is a file) on
/// up to `threads` threads (`0` = all cores) and render the manifest.
/// `exclude` (the output file) is skipped if it lies inside `dir`.
pub fn create(
    dir: &Path,
    format: ManifestFormat,
    exclude: Option<&Path>,
    threads: usize,
) -> Result<String, ManifestError> {
    Ok(render(&entries(dir, exclude, threads)?, format))
}

/// The sorted, hashed entries of `dir` (see [`create`]).
pub fn entries(
    dir: &Path,
    exclude: Option<&Path>,
    threads: usize,
) -> Result<Vec<Entry>, ManifestError> {
    let files = list_files(dir, exclude)?;
    let jobs: Vec<Job> = files
        .iter()
        .map(|(_, path)| Job {
            path: path.clone(),
            algorithm: Algorithm::Sha256,
            range: None,
        })
        .collect();
    let digests = digest::hash_many(&jobs, threads);
    files
        .into_iter()
        .zip(digests)
        .map(|((rel, path), digest)| match digest {
            Ok(bytes) => Ok(Entry {
                path: rel,
                sha256: hex::encode(bytes),
            }),
            Err(source) => Err(ManifestError::Io { path, source }),
        })
        .collect()
}

/// Regular files under `dir` as `(relative path, host path)`, sorted by the
/// relative path, symlinks not followed, `exclude` left out.
pub fn list_files(
    dir: &Path,
    exclude: Option<&Path>,
) -> Result<Vec<(String, PathBuf)>, ManifestError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ManifestError::Io { path, source }
    };
    // The root itself is followed if it is a link: the user named it.
    let root = dir.canonicalize().map_err(io(dir))?;
    let meta = std::fs::metadata(&root).map_err(io(dir))?;
    let excluded = exclude.and_then(resolve_exclude);
    if meta.is_file() {
        let name = utf8_name(&root, root.file_name().unwrap_or_default())?;
        return Ok(vec![(name, root)]);
    }
    if !meta.is_dir() {
        return Err(ManifestError::NotAFileOrDirectory { path: dir.into() });
    }
    let mut files = Vec::new();
    let mut stack = vec![(root.clone(), String::new(), 0usize)];
    while let Some((path, prefix, depth)) = stack.pop() {
        if depth > MAX_DEPTH {
            return Err(ManifestError::TooDeep { path });
        }
        for entry in std::fs::read_dir(&path).map_err(io(&path))? {
            let entry = entry.map_err(io(&path))?;
            let child = entry.path();
            let rel = format!("{prefix}{}", utf8_name(&child, &entry.file_name())?);
            // `file_type` does not follow symlinks.
            let kind = entry.file_type().map_err(io(&child))?;
            if kind.is_dir() {
                stack.push((child, format!("{rel}/"), depth + 1));
            } else if kind.is_file() {
                if excluded.as_deref() != Some(child.as_path()) {
                    files.push((rel, child));
                }
            } else {
                tracing::warn!(path = %child.display(), "not a regular file (symlink or special file): left out of the manifest");
            }
        }
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(files)
}

/// Render entries in the given format (a trailing newline included).
pub fn render(entries: &[Entry], format: ManifestFormat) -> String {
    match format {
        ManifestFormat::Sha256sum => {
            let mut out = String::new();
            for entry in entries {
                let (escaped, name) = escape_name(&entry.path);
                let marker = if escaped { "\\" } else { "" };
                let _ = writeln!(out, "{marker}{}  {name}", entry.sha256);
            }
            out
        }
        ManifestFormat::Json => {
            let files: serde_json::Map<String, serde_json::Value> = entries
                .iter()
                .map(|e| (e.path.clone(), serde_json::Value::from(e.sha256.clone())))
                .collect();
            let doc = serde_json::json!({
                "version": 1,
                "algorithm": "sha256",
                "files": files,
            });
            let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
            text.push('\n');
            text
        }
    }
}

/// GNU `sha256sum` escaping of a file name: whether the line needs the
/// leading `\`, and the name with `\` as `\\` and newline as `\n`. (coreutils
/// 9.2+ also escapes `\r`; 9.1 cannot read that escape, so it is left raw.)
pub fn escape_name(name: &str) -> (bool, String) {
    if !name.contains(['\\', '\n']) {
        return (false, name.to_string());
    }
    (true, name.replace('\\', "\\\\").replace('\n', "\\n"))
}

/// The canonical path the output file has (or will have once written).
fn resolve_exclude(path: &Path) -> Option<PathBuf> {
    if let Ok(canonical) = path.canonicalize() {
        return Some(canonical);
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    Some(parent.canonicalize().ok()?.join(path.file_name()?))
}

fn utf8_name(path: &Path, name: &std::ffi::OsStr) -> Result<String, ManifestError> {
    name.to_str()
        .map(str::to_owned)
        .ok_or_else(|| ManifestError::NonUtf8Path { path: path.into() })
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::*;

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("sub/deeper")).unwrap();
        std::fs::write(root.join("train.csv"), "a,b\n1,2\n").unwrap();
        std::fs::write(root.join("sub/deeper/w.bin"), [0u8, 1, 2, 255]).unwrap();
        std::fs::write(root.join("sub/with space.txt"), "space").unwrap();
        std::fs::write(root.join("B-upper"), "").unwrap();
        dir
    }

    fn sha256sum_available() -> bool {
        let found = Command::new("sha256sum").arg("--version").output().is_ok();
        if !found {
            println!(
                "skipped: `sha256sum` is not installed, cannot cross-check with GNU coreutils"
            );
        }
        found
    }

    #[test]
    fn walk_is_sorted_relative_and_slash_separated() {
        let dir = tree();
        let files = list_files(dir.path(), None).unwrap();
        let rel: Vec<_> = files.iter().map(|(r, _)| r.as_str()).collect();
        assert_eq!(
            rel,
            [
                "B-upper",
                "sub/deeper/w.bin",
                "sub/with space.txt",
                "train.csv"
            ]
        );
    }

    #[test]
    fn sha256sum_format_is_byte_identical_to_gnu() {
        if !sha256sum_available() {
            return;
        }
        let dir = tree();
        let ours = create(dir.path(), ManifestFormat::Sha256sum, None, 2).unwrap();
        let names: Vec<String> = list_files(dir.path(), None)
            .unwrap()
            .into_iter()
            .map(|(rel, _)| rel)
            .collect();
        let gnu = Command::new("sha256sum")
            .args(&names)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(gnu.status.success());
        assert_eq!(ours, String::from_utf8(gnu.stdout).unwrap());
    }

    #[test]
    fn sha256sum_check_accepts_output_including_escaped_names() {
        if !sha256sum_available() {
            return;
        }
        let dir = tree();
        std::fs::write(dir.path().join("back\\slash"), "b").unwrap();
        std::fs::write(dir.path().join("new\nline"), "n").unwrap();
        let out = dir.path().join("SHA256SUMS");
        // Written inside the tree on purpose: it must leave itself out.
        std::fs::write(&out, "stale").unwrap();
        let text = create(dir.path(), ManifestFormat::Sha256sum, Some(&out), 0).unwrap();
        assert!(!text.contains("SHA256SUMS"), "{text}");
        assert!(
            text.contains("\\\\") && text.contains("new\\nline"),
            "{text}"
        );
        std::fs::write(&out, &text).unwrap();
        let check = Command::new("sha256sum")
            .args(["-c", "--strict", "SHA256SUMS"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&check.stdout);
        assert!(
            check.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&check.stderr)
        );
        assert_eq!(stdout.matches(": OK").count(), 6, "{stdout}");
        // And it notices tampering.
        std::fs::write(dir.path().join("train.csv"), "a,b\n1,3\n").unwrap();
        let check = Command::new("sha256sum")
            .args(["-c", "--quiet", "SHA256SUMS"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(!check.status.success());
        assert!(String::from_utf8_lossy(&check.stdout).contains("train.csv: FAILED"));
    }

    #[test]
    fn json_form_has_version_algorithm_and_sorted_files() {
        let dir = tree();
        let text = create(dir.path(), ManifestFormat::Json, None, 1).unwrap();
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(doc["version"], 1);
        assert_eq!(doc["algorithm"], "sha256");
        let files = doc["files"].as_object().unwrap();
        assert_eq!(files.len(), 4);
        // sha256 of the empty file.
        assert_eq!(
            files["B-upper"],
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let keys: Vec<_> = files.keys().cloned().collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
    }

    #[test]
    fn output_outside_the_tree_or_not_yet_written_is_handled() {
        let dir = tree();
        // Not yet written, inside the tree, given relative to a subdir path.
        let pending = dir.path().join("sub/../MANIFEST");
        std::fs::write(dir.path().join("MANIFEST"), "x").unwrap();
        let with = list_files(dir.path(), Some(&pending)).unwrap();
        assert!(with.iter().all(|(r, _)| r != "MANIFEST"));
        std::fs::remove_file(dir.path().join("MANIFEST")).unwrap();
        let other = tempfile::tempdir().unwrap();
        let outside = other.path().join("train.csv");
        assert_eq!(list_files(dir.path(), Some(&outside)).unwrap().len(), 4);
    }

    #[test]
    fn symlinks_are_not_followed() {
        let dir = tree();
        let secret = tempfile::tempdir().unwrap();
        std::fs::write(secret.path().join("secret"), "s").unwrap();
        std::os::unix::fs::symlink(secret.path().join("secret"), dir.path().join("link")).unwrap();
        std::os::unix::fs::symlink(secret.path(), dir.path().join("linkdir")).unwrap();
        let rel: Vec<_> = list_files(dir.path(), None)
            .unwrap()
            .into_iter()
            .map(|(r, _)| r)
            .collect();
        assert_eq!(rel.len(), 4, "{rel:?}");
        assert!(!rel.iter().any(|r| r.starts_with("link")));
    }

    #[test]
    fn a_single_file_gives_one_entry_named_after_it() {
        let dir = tree();
        let text = create(
            &dir.path().join("train.csv"),
            ManifestFormat::Sha256sum,
            None,
            1,
        )
        .unwrap();
        assert_eq!(text.lines().count(), 1);
        assert!(text.ends_with("  train.csv\n"), "{text}");
    }

    #[test]
    fn non_utf8_names_and_missing_dirs_are_errors() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tree();
        let bad = dir.path().join(std::ffi::OsStr::from_bytes(b"bad\xff"));
        std::fs::write(&bad, "x").unwrap();
        let err = list_files(dir.path(), None).unwrap_err();
        assert!(matches!(err, ManifestError::NonUtf8Path { .. }), "{err}");
        let err = list_files(&dir.path().join("nope"), None).unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
    }

    #[test]
    fn format_names_parse() {
        assert_eq!(ManifestFormat::parse("json"), Some(ManifestFormat::Json));
        assert_eq!(
            ManifestFormat::parse("sha256sum"),
            Some(ManifestFormat::Sha256sum)
        );
        assert_eq!(ManifestFormat::parse("md5"), None);
        assert_eq!(escape_name("a\\b\nc"), (true, "a\\\\b\\nc".to_string()));
        assert_eq!(escape_name("plain"), (false, "plain".to_string()));
    }
}
