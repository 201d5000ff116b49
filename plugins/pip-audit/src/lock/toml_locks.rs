//! The TOML lock formats: PEP 751 `pylock.toml`, uv's `uv.lock` and Poetry's
//! `poetry.lock`. Each package's `name` is read with its span so findings
//! point at the line of the `name = …` key.
//!
//! Sources map onto [`Source`]: registry/index entries are auditable; `git`,
//! `url`, `path`/`directory`/`editable` are not. uv's `virtual` source (the
//! project itself) is not a dependency and is left out.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::{Spanned, Table, Value};

use super::{Format, IndexOption, LockError, Lockfile, Requirement, Source, line_of, read_text};

fn load<T: serde::de::DeserializeOwned>(path: &Path) -> Result<(String, T), LockError> {
    let text = read_text(path)?;
    let parsed = toml::from_str(&text)
        .map_err(|e| LockError(format!("{}: not a valid lockfile: {e}", path.display())))?;
    Ok((text, parsed))
}

fn start(text: &str, name: &Spanned<String>, path: &Path) -> Requirement {
    Requirement::new(name.get_ref(), path, Some(line_of(text, name.span().start)))
}

/// Record each distinct registry URL once, at its first package.
fn note_index(lock: &mut Lockfile, url: &str, line: Option<u32>) {
    if !lock.indexes.iter().any(|i| i.url == url) {
        lock.indexes.push(IndexOption {
            kind: "source".into(),
            url: url.to_string(),
            file: lock.path.clone(),
            line,
        });
    }
}

fn hash_strings(value: &Value, key: &str, out: &mut Vec<String>) {
    match value.get(key) {
        Some(Value::String(h)) => out.push(h.clone()),
        Some(Value::Table(t)) => {
            for (algo, digest) in t {
                if let Some(d) = digest.as_str() {
                    out.push(format!("{algo}:{d}"));
                }
            }
        }
        _ => {}
    }
}

#[derive(Deserialize)]
struct Pylock {
    #[serde(default)]
    packages: Vec<PylockPackage>,
}

#[derive(Deserialize)]
struct PylockPackage {
    name: Spanned<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    index: Option<String>,
    #[serde(default)]
    marker: Option<String>,
    #[serde(default)]
    vcs: Option<Table>,
    #[serde(default)]
    directory: Option<Table>,
    #[serde(default)]
    archive: Option<Table>,
    #[serde(default)]
    sdist: Option<Value>,
    #[serde(default)]
    wheels: Vec<Value>,
}

/// Parse a PEP 751 `pylock.toml`.
pub fn parse_pylock(path: &Path) -> Result<Lockfile, LockError> {
    let (text, doc): (String, Pylock) = load(path)?;
    let mut lock = Lockfile::empty(path, Format::Pylock);
    for p in doc.packages {
        let mut req = start(&text, &p.name, path);
        req.version = p.version.clone();
        req.marker = p.marker.clone();
        let url = |t: &Table| {
            t.get("url")
                .or(t.get("path"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        req.source = if let Some(vcs) = &p.vcs {
            Source::Vcs(url(vcs))
        } else if let Some(dir) = &p.directory {
            let editable = dir
                .get("editable")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            Source::Path {
                path: url(dir),
                editable,
            }
        } else if let Some(archive) = &p.archive {
            hash_strings(&Value::Table(archive.clone()), "hashes", &mut req.hashes);
            if archive.contains_key("url") {
                Source::Url(url(archive))
            } else {
                Source::Path {
                    path: url(archive),
                    editable: false,
                }
            }
        } else {
            if let Some(index) = &p.index {
                note_index(&mut lock, index, req.line);
            }
            Source::Registry(p.index.clone())
        };
        for artifact in p.sdist.iter().chain(&p.wheels) {
            hash_strings(artifact, "hashes", &mut req.hashes);
        }
        lock.requirements.push(req);
    }
    Ok(lock)
}

#[derive(Deserialize)]
struct UvLock {
    #[serde(default)]
    package: Vec<UvPackage>,
}

#[derive(Deserialize)]
struct UvPackage {
    name: Spanned<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    source: Option<Table>,
    #[serde(default)]
    sdist: Option<Value>,
    #[serde(default)]
    wheels: Vec<Value>,
}

/// Parse uv's `uv.lock`.
pub fn parse_uv(path: &Path) -> Result<Lockfile, LockError> {
    let (text, doc): (String, UvLock) = load(path)?;
    let mut lock = Lockfile::empty(path, Format::UvLock);
    for p in doc.package {
        let mut req = start(&text, &p.name, path);
        req.version = p.version.clone();
        let source = p.source.unwrap_or_default();
        let get = |k: &str| source.get(k).and_then(Value::as_str).map(str::to_string);
        req.source = if source.contains_key("virtual") {
            continue; // the workspace project itself
        } else if let Some(url) = get("git") {
            Source::Vcs(url)
        } else if let Some(url) = get("url") {
            Source::Url(url)
        } else if let Some(dir) = get("editable") {
            Source::Path {
                path: dir,
                editable: true,
            }
        } else if let Some(dir) = get("path").or_else(|| get("directory")) {
            Source::Path {
                path: dir,
                editable: false,
            }
        } else {
            let index = get("registry");
            if let Some(i) = &index {
                note_index(&mut lock, i, req.line);
            }
            Source::Registry(index)
        };
        for artifact in p.sdist.iter().chain(&p.wheels) {
            hash_strings(artifact, "hash", &mut req.hashes);
        }
        lock.requirements.push(req);
    }
    Ok(lock)
}

#[derive(Deserialize)]
struct PoetryLock {
    #[serde(default)]
    package: Vec<PoetryPackage>,
    #[serde(default)]
    metadata: Option<PoetryMetadata>,
}

#[derive(Deserialize)]
struct PoetryMetadata {
    /// Poetry < 1.5 kept hashes here, per package name.
    #[serde(default)]
    files: BTreeMap<String, Vec<Value>>,
}

#[derive(Deserialize)]
struct PoetryPackage {
    name: Spanned<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    files: Vec<Value>,
    #[serde(default)]
    source: Option<PoetrySource>,
}

#[derive(Deserialize)]
struct PoetrySource {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    resolved_reference: Option<String>,
}

/// Parse Poetry's `poetry.lock` (1.x and 2.x layouts).
pub fn parse_poetry(path: &Path) -> Result<Lockfile, LockError> {
    let (text, doc): (String, PoetryLock) = load(path)?;
    let mut lock = Lockfile::empty(path, Format::PoetryLock);
    let old_files = doc.metadata.map(|m| m.files).unwrap_or_default();
    for p in doc.package {
        let mut req = start(&text, &p.name, path);
        req.version = p.version.clone();
        req.source = match &p.source {
            None => Source::Registry(None),
            Some(s) => match s.kind.as_str() {
                "git" => Source::Vcs(match &s.resolved_reference {
                    Some(r) => format!("{}@{r}", s.url),
                    None => s.url.clone(),
                }),
                "url" => Source::Url(s.url.clone()),
                "file" | "directory" => Source::Path {
                    path: s.url.clone(),
                    editable: false,
                },
                _ => {
                    note_index(&mut lock, &s.url, req.line);
                    Source::Registry(Some(s.url.clone()))
                }
            },
        };
        let files = if p.files.is_empty() {
            old_files.get(p.name.get_ref()).cloned().unwrap_or_default()
        } else {
            p.files
        };
        for f in &files {
            hash_strings(f, "hash", &mut req.hashes);
        }
        lock.requirements.push(req);
    }
    Ok(lock)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn locks() -> PathBuf {
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/pip-audit/locks"
        ))
    }

    fn check(lock: &Lockfile) {
        assert_eq!(lock.requirements.len(), 13, "{:?}", lock.requirements);
        for r in &lock.requirements {
            assert!(r.is_auditable(), "{r:?}");
            assert!(!r.hashes.is_empty(), "{r:?}");
            assert!(r.line.is_some());
        }
        let flask = lock
            .requirements
            .iter()
            .find(|r| r.normalized == "flask")
            .unwrap();
        assert_eq!(flask.version.as_deref(), Some("1.1.2"));
        assert_eq!(lock.indexes.len(), 1, "one index: {:?}", lock.indexes);
    }

    #[test]
    fn uv_lock_from_uv() {
        let lock = parse_uv(&locks().join("uv.lock")).unwrap();
        check(&lock);
        let text = std::fs::read_to_string(locks().join("uv.lock")).unwrap();
        let first = &lock.requirements[0];
        let line = text.lines().nth(first.line.unwrap() as usize - 1).unwrap();
        assert_eq!(line, format!("name = \"{}\"", first.name));
    }

    #[test]
    fn pylock_from_uv() {
        check(&parse_pylock(&locks().join("pylock.toml")).unwrap());
    }

    #[test]
    fn poetry_lock_from_poetry() {
        check(&parse_poetry(&locks().join("poetry.lock")).unwrap());
    }

    #[test]
    fn poetry_git_and_old_metadata_files() {
        let dir = std::env::temp_dir().join(format!("poetry-old-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("poetry.lock");
        std::fs::write(
            &path,
            r#"[[package]]
name = "tool"
version = "0.1.0"
description = ""
optional = false
python-versions = "*"

[package.source]
type = "git"
url = "https://github.com/example/tool.git"
reference = "main"
resolved_reference = "0123456789abcdef0123456789abcdef01234567"

[[package]]
name = "six"
version = "1.16.0"
description = ""
optional = false
python-versions = "*"

[metadata]
lock-version = "1.1"
python-versions = "^3.8"
content-hash = "x"

[metadata.files]
six = [
    {file = "six-1.16.0.tar.gz", hash = "sha256:1e61c37477a1626458e36f7b1d82aa5c9b094fa4802892072e49de9c60c4c926"},
]
"#,
        )
        .unwrap();
        let lock = parse_poetry(&path).unwrap();
        assert!(matches!(lock.requirements[0].source, Source::Vcs(_)));
        assert_eq!(lock.requirements[1].hashes.len(), 1);
        assert_eq!(
            lock.requirements[1].line,
            Some(15),
            "the `name = \"six\"` line"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn malformed_toml_is_an_error() {
        let dir = std::env::temp_dir().join(format!("uv-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("uv.lock");
        std::fs::write(&path, "[[package]\nname=").unwrap();
        assert!(parse_uv(&path).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
