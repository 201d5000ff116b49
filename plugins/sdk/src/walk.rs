//! Walking an input directory inside the sandbox: sorted, no symlink
//! following, bounded depth, so hostile trees cannot loop or explode.

use std::path::{Path, PathBuf};

/// Limits of a directory walk.
#[derive(Debug, Clone, Copy)]
pub struct WalkLimits {
    /// Deepest directory level visited below the root.
    pub max_depth: usize,
    /// Most files returned; the walk stops and reports truncation after that.
    pub max_files: usize,
}

impl Default for WalkLimits {
    fn default() -> Self {
        WalkLimits {
            max_depth: 64,
            max_files: 1_000_000,
        }
    }
}

/// Result of a walk: regular files in sorted order, and what was skipped.
#[derive(Debug, Default)]
pub struct Walk {
    /// Regular files, sorted by path.
    pub files: Vec<PathBuf>,
    /// Entries that could not be read, with the reason.
    pub errors: Vec<(PathBuf, String)>,
    /// Whether `max_files` or `max_depth` cut the walk short.
    pub truncated: bool,
}

/// List regular files under `root` (or `root` itself if it is a file).
/// Symlinks are not followed (the sandbox would refuse those leaving the
/// input anyway); they are skipped.
pub fn files(root: &Path, limits: WalkLimits) -> Walk {
    let mut walk = Walk::default();
    match std::fs::symlink_metadata(root) {
        Ok(meta) if meta.is_file() => {
            walk.files.push(root.to_path_buf());
            return walk;
        }
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return walk,
        Err(e) => {
            walk.errors.push((root.to_path_buf(), e.to_string()));
            return walk;
        }
    }
    let mut stack = vec![(root.to_path_buf(), 0usize)];
    while let Some((dir, depth)) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) => {
                walk.errors.push((dir, e.to_string()));
                continue;
            }
        };
        let mut children: Vec<_> = entries.filter_map(|e| e.ok()).collect();
        children.sort_by_key(|e| e.file_name());
        for entry in children.into_iter().rev() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                if depth + 1 > limits.max_depth {
                    walk.truncated = true;
                } else {
                    stack.push((path, depth + 1));
                }
            } else if kind.is_file() {
                if walk.files.len() >= limits.max_files {
                    walk.truncated = true;
                    break;
                }
                walk.files.push(path);
            }
        }
    }
    walk.files.sort_unstable_by(|a, b| path_order(a, b));
    walk
}

/// The order `Path`'s `Ord` gives (component by component), computed on the
/// bytes: a separator sorts before every other byte. `Path::cmp` parses both
/// paths into components, about 4% of a gate walking a large tree.
fn path_order(a: &Path, b: &Path) -> std::cmp::Ordering {
    let key = |c: u8| if c == b'/' { 0 } else { c };
    let (a, b) = (
        a.as_os_str().as_encoded_bytes(),
        b.as_os_str().as_encoded_bytes(),
    );
    a.iter().map(|&c| key(c)).cmp(b.iter().map(|&c| key(c)))
}

/// Capacity kept in a [`read_bounded`] buffer between files: most source
/// files fit.
const READ_BUFFER: usize = 16 * 1024;

/// Read at most `limit` bytes of `path` into `buf`, reusing its capacity
/// across files: one open, no stat, and (for a file that fits) two reads,
/// the data and the end of file. An empty `Vec` would grow by doubling from
/// 32 bytes, one WASI host call per step. Pass `max + 1` as `limit` to tell
/// a file over `max` bytes from one of exactly `max`.
pub fn read_bounded(path: &Path, limit: u64, buf: &mut Vec<u8>) -> std::io::Result<()> {
    use std::io::Read;
    buf.clear();
    buf.reserve(READ_BUFFER);
    std::fs::File::open(path)?.take(limit).read_to_end(buf)?;
    Ok(())
}

/// `path` relative to `root` with `/` separators; `path` itself when it is
/// not under `root`.
pub fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let text = rel.to_string_lossy().replace('\\', "/");
    if text.is_empty() {
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_buffer_is_reused_and_bounded() {
        let dir = std::env::temp_dir().join(format!("sdk-read-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (big, small) = (dir.join("big.txt"), dir.join("small.txt"));
        std::fs::write(&big, "a".repeat(40_000)).unwrap();
        std::fs::write(&small, "bc").unwrap();
        let mut buf = Vec::new();
        read_bounded(&big, 50_000, &mut buf).unwrap();
        assert_eq!(buf.len(), 40_000);
        read_bounded(&small, 50_000, &mut buf).unwrap();
        assert_eq!(buf, b"bc");
        read_bounded(&big, 100, &mut buf).unwrap();
        assert_eq!(buf.len(), 100);
        assert!(read_bounded(&dir.join("missing"), 1, &mut buf).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn byte_order_with_separators_first_matches_path_order() {
        let names = [
            "a", "a/b", "a-b", "a.b", "a/b/c", "a/b-c", "ab", "a b", "b", "a/", "a0/x", "A/b",
        ];
        for x in names {
            for y in names {
                let (x, y) = (Path::new(x), Path::new(y));
                // Paths equal as components ("a/" and "a") may differ in bytes.
                if x.cmp(y) != std::cmp::Ordering::Equal {
                    assert_eq!(path_order(x, y), x.cmp(y), "{x:?} vs {y:?}");
                }
            }
        }
    }

    #[test]
    fn walks_sorted_and_relative() {
        let dir = std::env::temp_dir().join(format!("sdk-walk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("b/c")).unwrap();
        std::fs::write(dir.join("b/c/x.txt"), "x").unwrap();
        std::fs::write(dir.join("a.txt"), "a").unwrap();
        let w = files(&dir, WalkLimits::default());
        let rel: Vec<_> = w.files.iter().map(|p| relative(&dir, p)).collect();
        assert_eq!(rel, vec!["a.txt", "b/c/x.txt"]);
        let w = files(
            &dir,
            WalkLimits {
                max_depth: 0,
                max_files: 10,
            },
        );
        assert!(w.truncated);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
