//! Listing the model on disk: regular files (sorted, relative, `/`-separated)
//! and symbolic links, bounded so a hostile tree cannot loop or explode; and
//! the path rules shared by verifier and signer (normalised names, ignore
//! paths relative to the model root).

use std::path::{Path, PathBuf};

/// Deepest directory level visited.
pub const MAX_DEPTH: usize = 64;
/// Most entries listed.
pub const MAX_FILES: usize = 1_000_000;

/// The ignore entries model_signing adds by default (model root only).
pub const DEFAULT_GIT_IGNORES: &[&str] = &[".git", ".gitattributes", ".github", ".gitignore"];

/// One regular file of the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelFile {
    /// Model-root-relative name (`.` for a single-file model).
    pub rel: String,
    /// Path to open.
    pub path: PathBuf,
    /// Size in bytes.
    pub size: u64,
}

/// A symbolic link found in the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Model-root-relative name of the link.
    pub rel: String,
    /// Path of the link.
    pub path: PathBuf,
    /// Where it points, lexically resolved against the model root; `None`
    /// when the target leaves the model or cannot be read.
    pub target: Option<String>,
}

/// What is on disk.
#[derive(Debug, Default)]
pub struct Listing {
    /// Regular files, sorted by `rel`.
    pub files: Vec<ModelFile>,
    /// Symbolic links.
    pub links: Vec<Link>,
    /// Whether the root is a single file.
    pub single_file: bool,
}

/// Whether `p` is a normalised relative path: non-empty `/`-separated
/// segments, none of them `.`, `..` or empty, no backslash or NUL.
pub fn is_normalised(p: &str) -> bool {
    !p.is_empty()
        && !p.contains('\\')
        && !p.contains('\0')
        && p.split('/').all(|s| !s.is_empty() && s != "." && s != "..")
}

/// Whether `rel` is `ignore` or lies below it (`Path::is_relative_to`).
pub fn is_ignored(rel: &str, ignores: &[String]) -> bool {
    ignores.iter().any(|i| {
        let i = i.trim_end_matches('/');
        rel == i || (rel.len() > i.len() && rel.starts_with(i) && rel.as_bytes()[i.len()] == b'/')
    })
}

/// Resolve a link target lexically against the link's directory; `None`
/// when it leaves the model root.
fn resolve_inside(link_rel: &str, target: &Path) -> Option<String> {
    if target.is_absolute() {
        return None;
    }
    let mut parts: Vec<String> = link_rel.split('/').map(str::to_string).collect();
    parts.pop();
    for c in target.to_string_lossy().split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s.to_string()),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// List the model at `root` (a directory or a single file).
pub fn list(root: &Path) -> Result<Listing, String> {
    let meta = std::fs::symlink_metadata(root).map_err(|e| format!("{}: {e}", root.display()))?;
    let mut out = Listing::default();
    if meta.is_file() {
        out.single_file = true;
        out.files.push(ModelFile {
            rel: ".".into(),
            path: root.to_path_buf(),
            size: meta.len(),
        });
        return Ok(out);
    }
    if !meta.is_dir() {
        return Err(format!("{}: not a file or directory", root.display()));
    }
    let mut stack = vec![(root.to_path_buf(), String::new(), 0usize)];
    while let Some((dir, prefix, depth)) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            let path = entry.path();
            let kind = entry
                .file_type()
                .map_err(|e| format!("{}: {e}", path.display()))?;
            if out.files.len() + out.links.len() >= MAX_FILES {
                return Err(format!("the model has more than {MAX_FILES} files"));
            }
            if kind.is_symlink() {
                let target = std::fs::read_link(&path)
                    .ok()
                    .and_then(|t| resolve_inside(&rel, &t));
                out.links.push(Link { rel, path, target });
            } else if kind.is_dir() {
                if depth + 1 > MAX_DEPTH {
                    return Err(format!(
                        "{}: deeper than {MAX_DEPTH} levels",
                        path.display()
                    ));
                }
                stack.push((path, rel, depth + 1));
            } else if kind.is_file() {
                let size = entry
                    .metadata()
                    .map_err(|e| format!("{}: {e}", path.display()))?
                    .len();
                out.files.push(ModelFile { rel, path, size });
            } else {
                return Err(format!(
                    "{}: not a regular file (device, socket or pipe)",
                    path.display()
                ));
            }
        }
    }
    out.files.sort_by(|a, b| a.rel.cmp(&b.rel));
    out.links.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(out)
}

/// Shard ranges `(start, end)` of a file of `size` bytes, as model_signing
/// cuts them (an empty file has none).
pub fn shards(size: u64, shard_size: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < size {
        let end = size.min(start.saturating_add(shard_size));
        out.push((start, end));
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalised_paths() {
        for ok in ["a", "a/b", "weights.bin", ".gitx", "a:b"] {
            assert!(is_normalised(ok), "{ok}");
        }
        for bad in ["", "./a", "a/../b", "/a", "a//b", "a/", "..", ".", "a\\b"] {
            assert!(!is_normalised(bad), "{bad}");
        }
    }

    #[test]
    fn ignores_are_prefixes_at_the_root() {
        let ig = vec![".git".to_string(), "docs/".to_string()];
        assert!(is_ignored(".git", &ig));
        assert!(is_ignored(".git/HEAD", &ig));
        assert!(is_ignored("docs/a.md", &ig));
        assert!(!is_ignored(".gitkeep", &ig));
        assert!(!is_ignored("sub/.git/HEAD", &ig), "only at the model root");
    }

    #[test]
    fn shard_ranges_match_model_signing() {
        assert_eq!(
            shards(8192, 3000),
            vec![(0, 3000), (3000, 6000), (6000, 8192)]
        );
        assert_eq!(shards(3000, 3000), vec![(0, 3000)]);
        assert!(shards(0, 3000).is_empty());
    }

    #[test]
    fn link_targets_resolve_lexically() {
        assert_eq!(resolve_inside("a/l", Path::new("../b")), Some("b".into()));
        assert_eq!(resolve_inside("l", Path::new("../outside")), None);
        assert_eq!(resolve_inside("l", Path::new("/etc/passwd")), None);
    }
}
