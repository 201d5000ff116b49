//! What a gate can see: each declared input becomes a read-only preopen at
//! `/inputs/NAME`, each declared output a writable one at `/outputs/NAME`.
//!
//! A directory input is preopened as is. A *file* input exposes that file
//! only: it is hard-linked (or, across file systems, copied) into a private
//! staging directory that is preopened instead of the file's parent, so the
//! gate cannot list or read its siblings.
//!
//! For a gate narrowed to changed files (`crate::narrow`), an [`InputView`]
//! replaces a directory input by a private staging directory holding only
//! the given files at their paths relative to the input, or gives a file
//! input other content (its staged version). `declared` is unchanged, so
//! locations still map to the real project-relative paths.
//!
//! The same table maps guest paths back: to host paths (for the `digest`
//! import, confined to the mount after resolving symlinks) and to
//! project-relative paths (for finding locations).

use std::path::{Component, Path, PathBuf};

use crate::model::PathBinding;

/// One preopened directory.
#[derive(Debug, Clone)]
pub struct Mount {
    /// Input or output name.
    pub name: String,
    /// Guest directory (`/inputs/NAME`).
    pub guest_root: String,
    /// Canonical host directory that is preopened.
    pub host_root: PathBuf,
    /// The path as declared in the pipeline (project-relative).
    pub declared: String,
    /// For a file input: the file's name inside the staging directory.
    pub file_name: Option<String>,
    /// Whether the gate may write (outputs only).
    pub writable: bool,
}

impl Mount {
    /// The guest path the plugin is given for this input.
    pub fn guest_path(&self) -> String {
        match &self.file_name {
            Some(name) => format!("{}/{}", self.guest_root, name),
            None => self.guest_root.clone(),
        }
    }
}

/// What a gate sees of one input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum InputView {
    /// The input as declared.
    #[default]
    Whole,
    /// A directory input reduced to these files: (path relative to the input,
    /// host file with the content). Only regular files are exposed.
    Files(Vec<(PathBuf, PathBuf)>),
    /// A file input whose content comes from this host file.
    Content(PathBuf),
}

/// The mounts of one gate, plus the staging directory that backs file inputs
/// (removed on drop).
#[derive(Debug, Default)]
pub struct Mounts {
    /// All mounts, inputs first.
    pub mounts: Vec<Mount>,
    _staging: Option<tempfile::TempDir>,
}

/// Why an input could not be exposed.
#[derive(Debug, thiserror::Error)]
pub enum MountError {
    /// The input path is missing or unreadable.
    #[error("input `{name}` ({path}): {source}")]
    Input {
        /// Input name.
        name: String,
        /// Host path.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// Staging a file input failed.
    #[error("cannot stage file input `{name}`: {source}")]
    Staging {
        /// Input name.
        name: String,
        /// Cause.
        source: std::io::Error,
    },
}

impl Mounts {
    /// Prepare mounts for the inputs and outputs of a gate.
    pub fn prepare(inputs: &[PathBinding], outputs: &[PathBinding]) -> Result<Mounts, MountError> {
        Self::prepare_with(inputs, &[], outputs)
    }

    /// Like [`Mounts::prepare`], but input `i` is exposed as `views[i]`
    /// (missing views are [`InputView::Whole`]).
    pub fn prepare_with(
        inputs: &[PathBinding],
        views: &[InputView],
        outputs: &[PathBinding],
    ) -> Result<Mounts, MountError> {
        let mut mounts = Mounts::default();
        for (i, input) in inputs.iter().enumerate() {
            // A directory mounts as itself (or as the staged changed files);
            // a file is staged alone and exposed under its own name.
            let (host_root, file_name) = match views.get(i) {
                Some(InputView::Files(files)) => (mounts.stage_files(input, files)?, None),
                Some(InputView::Content(source)) => {
                    let (root, name) = mounts.stage_file_from(input, source)?;
                    (root, Some(name))
                }
                Some(InputView::Whole) | None => {
                    let meta =
                        std::fs::metadata(&input.path).map_err(|source| MountError::Input {
                            name: input.name.clone(),
                            path: input.path.display().to_string(),
                            source,
                        })?;
                    if meta.is_dir() {
                        (canonical(&input.name, &input.path)?, None)
                    } else {
                        let (root, name) = mounts.stage_file(input)?;
                        (root, Some(name))
                    }
                }
            };
            mounts.mounts.push(Mount {
                name: input.name.clone(),
                guest_root: format!("/inputs/{}", input.name),
                host_root,
                declared: input.declared.clone(),
                file_name,
                writable: false,
            });
        }
        for output in outputs {
            std::fs::create_dir_all(&output.path).map_err(|source| MountError::Input {
                name: output.name.clone(),
                path: output.path.display().to_string(),
                source,
            })?;
            mounts.mounts.push(Mount {
                name: output.name.clone(),
                guest_root: format!("/outputs/{}", output.name),
                host_root: canonical(&output.name, &output.path)?,
                declared: output.declared.clone(),
                file_name: None,
                writable: true,
            });
        }
        Ok(mounts)
    }

    /// The gate's private staging directory for `input` (created on first use).
    fn staging_dir(&mut self, input: &PathBinding) -> Result<PathBuf, MountError> {
        let staging_err = |source| MountError::Staging {
            name: input.name.clone(),
            source,
        };
        if self._staging.is_none() {
            self._staging = Some(
                tempfile::Builder::new()
                    .prefix("mlgate-stage-")
                    .tempdir()
                    .map_err(staging_err)?,
            );
        }
        let staging = self._staging.as_ref().unwrap().path().join(&input.name);
        std::fs::create_dir_all(&staging).map_err(staging_err)?;
        Ok(staging)
    }

    /// Stage `files` (relative path, host source) as the content of a
    /// directory input; returns the canonical staging root. A relative path
    /// that is not plain components, or a source that is not a regular file
    /// (symlinks are not followed), is refused.
    fn stage_files(
        &mut self,
        input: &PathBinding,
        files: &[(PathBuf, PathBuf)],
    ) -> Result<PathBuf, MountError> {
        let staging = self.staging_dir(input)?;
        let staging_err = |source| MountError::Staging {
            name: input.name.clone(),
            source,
        };
        for (rel, source) in files {
            let plain = rel.components().all(|c| matches!(c, Component::Normal(_)));
            let regular = std::fs::symlink_metadata(source).is_ok_and(|m| m.is_file());
            if !plain || !regular {
                return Err(staging_err(std::io::Error::other(format!(
                    "{} is not a regular file under the input",
                    rel.display()
                ))));
            }
            let target = staging.join(rel);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(staging_err)?;
            }
            if std::fs::hard_link(source, &target).is_err() {
                std::fs::copy(source, &target).map_err(staging_err)?;
            }
        }
        canonical(&input.name, &staging)
    }

    /// Stage a file input with the content of `source` under the input's own
    /// file name.
    fn stage_file_from(
        &mut self,
        input: &PathBinding,
        source: &Path,
    ) -> Result<(PathBuf, String), MountError> {
        let staging = self.staging_dir(input)?;
        let file_name = input
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| input.name.clone());
        let target = staging.join(&file_name);
        if std::fs::hard_link(source, &target).is_err() {
            std::fs::copy(source, &target).map_err(|source| MountError::Staging {
                name: input.name.clone(),
                source,
            })?;
        }
        Ok((canonical(&input.name, &staging)?, file_name))
    }

    /// Stage a file input alone, under its own file name.
    fn stage_file(&mut self, input: &PathBinding) -> Result<(PathBuf, String), MountError> {
        // Resolve symlinks first: the gate gets the file the pipeline named.
        let source = canonical(&input.name, &input.path)?;
        self.stage_file_from(input, &source)
    }

    /// Map a guest path to the project-relative path users know. Paths that
    /// are under no mount are returned unchanged.
    pub fn display_path(&self, guest: &str) -> String {
        for mount in &self.mounts {
            let Some(rest) = strip_root(guest, &mount.guest_root) else {
                continue;
            };
            let declared = mount.declared.trim_end_matches('/');
            return match &mount.file_name {
                Some(name) if rest == name || rest.is_empty() => declared.to_string(),
                Some(_) => format!("{declared}/{rest}"),
                None if rest.is_empty() => declared.to_string(),
                None if declared.is_empty() || declared == "." => rest.to_string(),
                None => format!("{declared}/{rest}"),
            };
        }
        guest.to_string()
    }

    /// Resolve a guest path to a host file the gate may read: under a mount,
    /// no `..`, and still under the mount after symlinks are resolved.
    pub fn host_path(&self, guest: &str) -> Result<PathBuf, String> {
        for mount in &self.mounts {
            let Some(rest) = strip_root(guest, &mount.guest_root) else {
                continue;
            };
            let mut path = mount.host_root.clone();
            for part in Path::new(rest).components() {
                match part {
                    Component::Normal(p) => path.push(p),
                    Component::CurDir => {}
                    _ => return Err(format!("{guest}: path leaves the input")),
                }
            }
            let resolved = path.canonicalize().map_err(|e| format!("{guest}: {e}"))?;
            if !resolved.starts_with(&mount.host_root) {
                return Err(format!("{guest}: path leaves the input"));
            }
            return Ok(resolved);
        }
        Err(format!("{guest}: not inside any input of this gate"))
    }
}

fn strip_root<'a>(guest: &'a str, root: &str) -> Option<&'a str> {
    let rest = guest.strip_prefix(root)?;
    if rest.is_empty() {
        Some("")
    } else {
        rest.strip_prefix('/')
    }
}

fn canonical(name: &str, path: &Path) -> Result<PathBuf, MountError> {
    path.canonicalize().map_err(|source| MountError::Input {
        name: name.to_string(),
        path: path.display().to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(name: &str, declared: &str, path: &Path) -> PathBinding {
        PathBinding {
            name: name.into(),
            declared: declared.into(),
            path: path.to_path_buf(),
        }
    }

    #[test]
    fn file_input_is_staged_alone_and_maps_back() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("train.csv"), "a,b\n").unwrap();
        std::fs::write(dir.path().join("secret.txt"), "no").unwrap();
        let m = Mounts::prepare(
            &[binding(
                "dataset",
                "data/train.csv",
                &dir.path().join("train.csv"),
            )],
            &[],
        )
        .unwrap();
        let mount = &m.mounts[0];
        assert_eq!(mount.guest_path(), "/inputs/dataset/train.csv");
        let listed: Vec<_> = std::fs::read_dir(&mount.host_root).unwrap().collect();
        assert_eq!(listed.len(), 1, "only the file itself is exposed");
        assert_eq!(
            m.display_path("/inputs/dataset/train.csv"),
            "data/train.csv"
        );
        assert!(m.host_path("/inputs/dataset/train.csv").is_ok());
        assert!(m.host_path("/inputs/dataset/../secret.txt").is_err());
        assert!(m.host_path("/etc/passwd").is_err());
    }

    #[test]
    fn dir_input_maps_and_refuses_symlink_escape() {
        let dir = tempfile::tempdir().unwrap();
        let models = dir.path().join("models");
        std::fs::create_dir(&models).unwrap();
        std::fs::write(models.join("m.bin"), "x").unwrap();
        std::fs::write(dir.path().join("outside"), "secret").unwrap();
        std::os::unix::fs::symlink(dir.path().join("outside"), models.join("link")).unwrap();
        let m = Mounts::prepare(&[binding("models", "models/", &models)], &[]).unwrap();
        assert_eq!(m.display_path("/inputs/models/m.bin"), "models/m.bin");
        assert_eq!(
            m.display_path("/inputs/modelsx/m.bin"),
            "/inputs/modelsx/m.bin"
        );
        assert!(m.host_path("/inputs/models/m.bin").is_ok());
        let err = m.host_path("/inputs/models/link").unwrap_err();
        assert!(err.contains("leaves the input"), "{err}");
    }

    #[test]
    fn narrowed_dir_input_exposes_only_given_files_at_their_paths() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        std::fs::create_dir_all(src.join("sub dir")).unwrap();
        std::fs::write(src.join("sub dir/ä.py"), "changed").unwrap();
        std::fs::write(src.join("old.py"), "unchanged").unwrap();
        let snapshot = dir.path().join("staged");
        std::fs::write(&snapshot, "staged content").unwrap();
        let views = [InputView::Files(vec![
            (PathBuf::from("sub dir/ä.py"), src.join("sub dir/ä.py")),
            (PathBuf::from("new.py"), snapshot.clone()),
        ])];
        let m = Mounts::prepare_with(&[binding("paths", "src/", &src)], &views, &[]).unwrap();
        let root = &m.mounts[0].host_root;
        assert!(!root.starts_with(dir.path().canonicalize().unwrap()));
        assert!(
            !root.join("old.py").exists(),
            "unchanged files are not exposed"
        );
        assert_eq!(
            std::fs::read_to_string(root.join("new.py")).unwrap(),
            "staged content"
        );
        assert_eq!(m.mounts[0].guest_path(), "/inputs/paths");
        assert_eq!(
            m.display_path("/inputs/paths/sub dir/ä.py"),
            "src/sub dir/ä.py"
        );
        assert!(m.host_path("/inputs/paths/new.py").is_ok());
        assert!(m.host_path("/inputs/paths/../paths/new.py").is_err());
    }

    #[test]
    fn narrowed_views_refuse_symlinks_and_escapes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("outside"), "secret").unwrap();
        std::os::unix::fs::symlink(dir.path().join("outside"), dir.path().join("link")).unwrap();
        let input = binding("paths", ".", dir.path());
        for (rel, source) in [
            ("link", dir.path().join("link")),
            ("../x", dir.path().join("outside")),
            ("/abs", dir.path().join("outside")),
        ] {
            let views = [InputView::Files(vec![(PathBuf::from(rel), source)])];
            let err = Mounts::prepare_with(std::slice::from_ref(&input), &views, &[]);
            assert!(err.is_err(), "{rel} must be refused");
        }
    }

    #[test]
    fn file_input_content_view_keeps_the_declared_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cfg.yaml"), "working tree").unwrap();
        std::fs::write(dir.path().join("blob"), "index").unwrap();
        let views = [InputView::Content(dir.path().join("blob"))];
        let input = binding("cfg", "conf/cfg.yaml", &dir.path().join("cfg.yaml"));
        let m = Mounts::prepare_with(&[input], &views, &[]).unwrap();
        assert_eq!(m.mounts[0].guest_path(), "/inputs/cfg/cfg.yaml");
        let host = m.host_path("/inputs/cfg/cfg.yaml").unwrap();
        assert_eq!(std::fs::read_to_string(host).unwrap(), "index");
        assert_eq!(m.display_path("/inputs/cfg/cfg.yaml"), "conf/cfg.yaml");
    }
}
