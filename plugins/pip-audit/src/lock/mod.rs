//! Lockfiles: one model ([`Lockfile`], [`Requirement`]) for the five formats,
//! detection by file name, and the search of a directory input.
//!
//! Each parser records, per requirement, where it sits (file and line) so a
//! finding points at it, whether it is auditable (an exact PEP 440 pin from a
//! registry) and what the hygiene rules need (hashes, sources, indexes).

pub mod pipfile;
pub mod requirements;
pub mod toml_locks;

use std::path::{Path, PathBuf};

use crate::names::normalize;

/// Largest lockfile read (bytes).
pub const MAX_LOCKFILE_BYTES: u64 = 64 << 20;

/// The lock formats understood.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// pip's requirements file (`requirements*.txt`, `*.in` not included).
    Requirements,
    /// PEP 751 `pylock.toml` / `pylock.NAME.toml`.
    Pylock,
    /// uv's `uv.lock`.
    UvLock,
    /// Poetry's `poetry.lock`.
    PoetryLock,
    /// Pipenv's `Pipfile.lock`.
    PipfileLock,
}

impl Format {
    /// Short name used in properties and summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Requirements => "requirements.txt",
            Format::Pylock => "pylock.toml",
            Format::UvLock => "uv.lock",
            Format::PoetryLock => "poetry.lock",
            Format::PipfileLock => "Pipfile.lock",
        }
    }

    /// The format a file name says, if any.
    pub fn detect(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_str()?;
        let lower = name.to_ascii_lowercase();
        match lower.as_str() {
            "uv.lock" => Some(Format::UvLock),
            "poetry.lock" => Some(Format::PoetryLock),
            "pipfile.lock" => Some(Format::PipfileLock),
            "pylock.toml" => Some(Format::Pylock),
            _ if lower.starts_with("pylock.") && lower.ends_with(".toml") => Some(Format::Pylock),
            _ if lower.ends_with(".txt") && lower.contains("requirements") => {
                Some(Format::Requirements)
            }
            _ if lower.ends_with(".txt") && lower.contains("constraints") => {
                Some(Format::Requirements)
            }
            _ => None,
        }
    }
}

/// Where a requirement's distribution comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A package index (the default one, or the named URL).
    Registry(Option<String>),
    /// A direct URL to an archive.
    Url(String),
    /// A version-control URL (`git+…`).
    Vcs(String),
    /// A local path (file or directory), editable or not.
    Path { path: String, editable: bool },
}

/// One locked or required package.
#[derive(Debug, Clone)]
pub struct Requirement {
    /// Name as written.
    pub name: String,
    /// PEP 503 normalised name.
    pub normalized: String,
    /// The exact version when pinned (`==X` without wildcard, `===X`, or a
    /// lock entry's version).
    pub version: Option<String>,
    /// The specifier as written, when not an exact pin (`>=1.0`, empty…).
    pub specifier: String,
    /// Where it comes from.
    pub source: Source,
    /// File the requirement is written in (a `-r` include may differ from
    /// the lockfile given).
    pub file: PathBuf,
    /// 1-based line.
    pub line: Option<u32>,
    /// `--hash` values / lock hashes.
    pub hashes: Vec<String>,
    /// Environment marker, if any (evaluated only against a configured
    /// target environment, see [`crate::markers`]).
    pub marker: Option<String>,
    /// The marker cannot be true in the configured target environment: the
    /// requirement is not installed there, so it is not audited.
    pub skipped_by_marker: bool,
    /// Extras requested.
    pub extras: Vec<String>,
    /// Came from a `-c` constraints file.
    pub constraint: bool,
}

impl Requirement {
    /// A registry requirement with defaults, for the parsers to fill in.
    pub fn new(name: &str, file: &Path, line: Option<u32>) -> Self {
        Requirement {
            name: name.to_string(),
            normalized: normalize(name),
            version: None,
            specifier: String::new(),
            source: Source::Registry(None),
            file: file.to_path_buf(),
            line,
            hashes: Vec::new(),
            marker: None,
            skipped_by_marker: false,
            extras: Vec::new(),
            constraint: false,
        }
    }

    /// Whether the requirement names an index distribution with an exact
    /// version, so advisories can be matched.
    pub fn is_auditable(&self) -> bool {
        matches!(self.source, Source::Registry(_)) && self.version.is_some()
    }
}

/// An index option (`--index-url`, `--extra-index-url`, `--find-links`, or a
/// lock's source list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexOption {
    /// `index-url`, `extra-index-url`, `find-links`, `source`.
    pub kind: String,
    /// The URL or path.
    pub url: String,
    /// File and line.
    pub file: PathBuf,
    /// 1-based line.
    pub line: Option<u32>,
}

/// A parsed lockfile (for requirements files: the file and its includes).
#[derive(Debug, Clone)]
pub struct Lockfile {
    /// The file given (or found in the input directory).
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
    /// Requirements in file order (includes inlined where they appear).
    pub requirements: Vec<Requirement>,
    /// Index options and sources.
    pub indexes: Vec<IndexOption>,
    /// Lines that could not be understood: (file, line, message).
    pub problems: Vec<(PathBuf, Option<u32>, String)>,
}

impl Lockfile {
    fn empty(path: &Path, format: Format) -> Self {
        Lockfile {
            path: path.to_path_buf(),
            format,
            requirements: Vec::new(),
            indexes: Vec::new(),
            problems: Vec::new(),
        }
    }
}

/// A lockfile could not be read or parsed at all.
#[derive(Debug)]
pub struct LockError(pub String);

impl std::fmt::Display for LockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Read a text file, bounded.
pub fn read_text(path: &Path) -> Result<String, LockError> {
    use std::io::Read;
    let file =
        std::fs::File::open(path).map_err(|e| LockError(format!("{}: {e}", path.display())))?;
    let mut bytes = Vec::new();
    file.take(MAX_LOCKFILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| LockError(format!("{}: {e}", path.display())))?;
    if bytes.len() as u64 > MAX_LOCKFILE_BYTES {
        return Err(LockError(format!(
            "{}: larger than {MAX_LOCKFILE_BYTES} bytes",
            path.display()
        )));
    }
    String::from_utf8(bytes).map_err(|_| LockError(format!("{}: not UTF-8 text", path.display())))
}

/// Parse one lockfile. `root` bounds `-r`/`-c` includes (they must stay
/// inside it).
pub fn parse(path: &Path, format: Format, root: &Path) -> Result<Lockfile, LockError> {
    match format {
        Format::Requirements => requirements::parse(path, root),
        Format::Pylock => toml_locks::parse_pylock(path),
        Format::UvLock => toml_locks::parse_uv(path),
        Format::PoetryLock => toml_locks::parse_poetry(path),
        Format::PipfileLock => pipfile::parse(path),
    }
}

/// The lockfiles of an input: the file itself (format from its name, else
/// requirements syntax), or every recognised file under a directory.
pub fn discover(input: &Path) -> Vec<(PathBuf, Format)> {
    if input.is_file() {
        let format = Format::detect(input).unwrap_or(Format::Requirements);
        return vec![(input.to_path_buf(), format)];
    }
    mlgate_plugin_sdk::walk::files(input, Default::default())
        .files
        .into_iter()
        .filter_map(|p| Format::detect(&p).map(|f| (p, f)))
        .collect()
}

/// 1-based line number of byte `offset` in `text`.
pub fn line_of(text: &str, offset: usize) -> u32 {
    let end = offset.min(text.len());
    (text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_formats_by_name() {
        for (name, want) in [
            ("requirements.txt", Some(Format::Requirements)),
            ("requirements-dev.txt", Some(Format::Requirements)),
            ("uv.lock", Some(Format::UvLock)),
            ("poetry.lock", Some(Format::PoetryLock)),
            ("Pipfile.lock", Some(Format::PipfileLock)),
            ("pylock.toml", Some(Format::Pylock)),
            ("pylock.dev.toml", Some(Format::Pylock)),
            ("pyproject.toml", None),
            ("README.txt", None),
        ] {
            assert_eq!(Format::detect(Path::new(name)), want, "{name}");
        }
    }

    #[test]
    fn lines_are_one_based() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 99), 3);
    }
}
