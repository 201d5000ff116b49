//! What a gate can see: each declared input becomes a read-only preopen at
//! `/inputs/NAME`, each declared output a writable one at `/outputs/NAME`.
//!
//! A directory input is preopened as is. A *file* input exposes that file
//! only: it is hard-linked (or, across file systems, copied) into a private
//! staging directory that is preopened instead of the file's parent, so the
//! gate cannot list or read its siblings.
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
        let mut mounts = Mounts::default();
        for input in inputs {
            let meta = std::fs::metadata(&input.path).map_err(|source| MountError::Input {
                name: input.name.clone(),
                path: input.path.display().to_string(),
                source,
            })?;
            let guest_root = format!("/inputs/{}", input.name);
            if meta.is_dir() {
                let host_root = canonical(&input.name, &input.path)?;
                mounts.mounts.push(Mount {
                    name: input.name.clone(),
                    guest_root,
                    host_root,
                    declared: input.declared.clone(),
                    file_name: None,
                    writable: false,
                });
            } else {
                let (host_root, file_name) = mounts.stage_file(input)?;
                mounts.mounts.push(Mount {
                    name: input.name.clone(),
                    guest_root,
                    host_root,
                    declared: input.declared.clone(),
                    file_name: Some(file_name),
                    writable: false,
                });
            }
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

    fn stage_file(&mut self, input: &PathBinding) -> Result<(PathBuf, String), MountError> {
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
        let file_name = input
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| input.name.clone());
        let target = staging.join(&file_name);
        // Resolve symlinks first: the gate gets the file the pipeline named.
        let source = canonical(&input.name, &input.path)?;
        if std::fs::hard_link(&source, &target).is_err() {
            std::fs::copy(&source, &target).map_err(staging_err)?;
        }
        Ok((canonical(&input.name, &staging)?, file_name))
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
}
