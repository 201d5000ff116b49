//! Resolving declared input and output paths against the project directory,
//! and deciding whether they stay inside it.
//!
//! The sandbox preopens exactly these paths, so this check is what keeps a
//! pipeline from handing a gate `~/.ssh`: it follows symlinks for every part
//! of the path that exists (a link inside the project that points out of it is
//! outside), and resolves `..` in the part that does not exist yet (outputs).

use std::path::{Component, Path, PathBuf};

/// `project` joined with `declared` and resolved: symlinks followed where the
/// path exists, `.`/`..` folded where it does not.
pub fn resolve(project: &Path, declared: &str) -> PathBuf {
    let joined = project.join(declared);
    let mut out = PathBuf::new();
    for component in joined.components() {
        match component {
            Component::Prefix(_) | Component::RootDir => out.push(component.as_os_str()),
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(part) => {
                out.push(part);
                if out.symlink_metadata().is_ok()
                    && let Ok(real) = out.canonicalize()
                {
                    out = real;
                }
            }
        }
    }
    out
}

/// Whether `resolved` lies inside `project` (both absolute, `project`
/// canonical).
pub fn is_inside(project: &Path, resolved: &Path) -> bool {
    resolved.starts_with(project)
}

/// `path` made absolute against the current directory (no symlink
/// resolution; used for the pipeline and project locations themselves).
pub fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn confines_dotdot_and_symlinks() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        let project = root.join("proj");
        fs::create_dir_all(project.join("data")).unwrap();
        fs::write(project.join("data/a.csv"), "x").unwrap();
        fs::write(root.join("secret"), "s").unwrap();
        std::os::unix::fs::symlink(root.join("secret"), project.join("data/link")).unwrap();

        let inside = resolve(&project, "data/./a.csv");
        assert_eq!(inside, project.join("data/a.csv"));
        assert!(is_inside(&project, &inside));
        assert!(!is_inside(&project, &resolve(&project, "../secret")));
        assert!(!is_inside(&project, &resolve(&project, "data/link")));
        assert!(!is_inside(&project, &resolve(&project, "/etc/passwd")));
        // Not yet existing outputs resolve lexically.
        let out = resolve(&project, "out/new/../report");
        assert_eq!(out, project.join("out/report"));
        assert!(!is_inside(&project, &resolve(&project, "out/../../x")));
    }
}
