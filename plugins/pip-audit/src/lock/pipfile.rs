//! Pipenv's `Pipfile.lock` (JSON): `_meta.sources` are the indexes; the
//! `default` and `develop` sections map names to `version: "==X"`, `hashes`,
//! `index`, `markers`, or a VCS (`git`/`hg`/…), `path`/`file` or `editable`
//! entry. A line is found by locating the entry's key in the text.

use std::path::Path;

use serde_json::Value;

use super::{Format, IndexOption, LockError, Lockfile, Requirement, Source, line_of, read_text};
use crate::lock::requirements::exact_pin;

/// Parse a `Pipfile.lock`.
pub fn parse(path: &Path) -> Result<Lockfile, LockError> {
    let text = read_text(path)?;
    let doc: Value = serde_json::from_str(&text)
        .map_err(|e| LockError(format!("{}: not valid JSON: {e}", path.display())))?;
    let mut lock = Lockfile::empty(path, Format::PipfileLock);
    let sources = doc.pointer("/_meta/sources").and_then(Value::as_array);
    for source in sources.into_iter().flatten() {
        if let Some(url) = source.get("url").and_then(Value::as_str) {
            let at = text.find(&format!("\"{url}\"")).map(|o| line_of(&text, o));
            lock.indexes.push(IndexOption {
                kind: "source".into(),
                url: url.to_string(),
                file: path.to_path_buf(),
                line: at,
            });
        }
    }
    for section in ["default", "develop"] {
        let Some(entries) = doc.get(section).and_then(Value::as_object) else {
            continue;
        };
        let section_at = text.find(&format!("\"{section}\"")).unwrap_or(0);
        for (name, entry) in entries {
            let at = text[section_at..]
                .find(&format!("\"{name}\": {{"))
                .map(|o| line_of(&text, section_at + o));
            let mut req = Requirement::new(name, path, at);
            let get = |k: &str| entry.get(k).and_then(Value::as_str).map(str::to_string);
            if let Some(version) = get("version") {
                req.version = exact_pin(&version);
                req.specifier = version;
            }
            req.marker = get("markers");
            if let Some(hashes) = entry.get("hashes").and_then(Value::as_array) {
                req.hashes = hashes
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect();
            }
            if let Some(extras) = entry.get("extras").and_then(Value::as_array) {
                req.extras = extras
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect();
            }
            let editable = entry
                .get("editable")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            req.source = if let Some((kind, url)) = ["git", "hg", "svn", "bzr"]
                .iter()
                .find_map(|k| get(k).map(|u| (k, u)))
            {
                let reference = get("ref").map(|r| format!("@{r}")).unwrap_or_default();
                Source::Vcs(format!("{kind}+{url}{reference}"))
            } else if let Some(p) = get("path") {
                Source::Path { path: p, editable }
            } else if let Some(file) = get("file") {
                if file.contains("://") {
                    Source::Url(file)
                } else {
                    Source::Path {
                        path: file,
                        editable,
                    }
                }
            } else {
                let index = get("index").and_then(|name| {
                    sources
                        .into_iter()
                        .flatten()
                        .find(|s| s.get("name").and_then(Value::as_str) == Some(&name))
                        .and_then(|s| s.get("url").and_then(Value::as_str).map(str::to_string))
                });
                Source::Registry(index)
            };
            lock.requirements.push(req);
        }
    }
    Ok(lock)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn pipfile_lock_from_pipenv() {
        let path = PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/pip-audit/locks/Pipfile.lock"
        ));
        let lock = parse(&path).unwrap();
        assert_eq!(lock.requirements.len(), 13);
        assert!(
            lock.requirements
                .iter()
                .all(|r| r.is_auditable() && r.hashes.len() >= 2)
        );
        assert_eq!(lock.indexes.len(), 1);
        let text = std::fs::read_to_string(&path).unwrap();
        let certifi = &lock.requirements[0];
        let line = text
            .lines()
            .nth(certifi.line.unwrap() as usize - 1)
            .unwrap();
        assert!(line.contains("\"certifi\": {"), "{line}");
    }

    #[test]
    fn vcs_and_editable_entries() {
        let dir = std::env::temp_dir().join(format!("pipfile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("Pipfile.lock");
        std::fs::write(
            &path,
            r#"{"_meta":{"sources":[{"name":"pypi","url":"https://pypi.org/simple"},{"name":"corp","url":"https://corp.example/simple"}]},
"default":{"tool":{"git":"https://github.com/example/tool.git","ref":"abc"},"mine":{"editable":true,"path":"."},
"lib":{"version":"==1.0","index":"corp","hashes":[]}},"develop":{}}"#,
        )
        .unwrap();
        let lock = parse(&path).unwrap();
        assert_eq!(lock.indexes.len(), 2);
        let get = |n: &str| {
            &lock
                .requirements
                .iter()
                .find(|r| r.name == n)
                .unwrap()
                .source
        };
        assert!(matches!(get("tool"), Source::Vcs(_)));
        assert!(matches!(get("mine"), Source::Path { editable: true, .. }));
        assert_eq!(
            get("lib"),
            &Source::Registry(Some("https://corp.example/simple".into()))
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
