//! Narrowing pre-commit gates to changed files, in the host, so every plugin
//! (built-in or custom) scans only what changed without knowing about git.
//!
//! A [`ChangeSet`] is what `git` lists ([`crate::git`]): the files staged
//! for the next commit, whose content is taken from the **index** (what will
//! be committed, as `gitleaks protect --staged` does), or the files changed
//! since a revision, taken from the working tree. [`ChangeSet::plan`] turns a
//! gate's inputs into [`InputView`]s for the sandbox mounts: a directory
//! input becomes a private directory of the changed files under it, at the
//! same relative paths (so locations and fingerprints stay those of a full
//! scan); a changed file input gets the changed content. A file input that
//! did not change stays whole: such inputs are often references a gate needs
//! (a secrets baseline, a lockfile beside a source tree). A gate with no
//! changed file under any input is skipped by the scheduler.
//!
//! Deleted files, symlinks and submodules are never exposed; working-tree
//! files are used only when no component of their path is a symlink.

use std::path::{Path, PathBuf};

use crate::git;
use crate::model::PathBinding;
use crate::sandbox::mounts::InputView;

/// Which changes narrow the gates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Files staged for the next commit; content from the index.
    Staged,
    /// Files changed since a revision (and untracked ones); content from the
    /// working tree.
    Since(String),
}

impl Mode {
    /// `staged` or `changed-since`, for reports.
    pub fn name(&self) -> &'static str {
        match self {
            Mode::Staged => "staged",
            Mode::Since(_) => "changed-since",
        }
    }

    /// "staged files" / "files changed since REV", for messages.
    pub fn describe(&self) -> String {
        match self {
            Mode::Staged => "staged files".to_string(),
            Mode::Since(rev) => format!("files changed since {rev}"),
        }
    }
}

/// One changed file and where its content is.
#[derive(Debug, Clone)]
struct Changed {
    /// `top` joined with the repository-relative path (not canonicalized).
    abs: PathBuf,
    /// Host file with the content to expose; `None` when it cannot be
    /// exposed (deleted, symlink, submodule, symlinked parent).
    source: Option<PathBuf>,
}

/// The changed files of a run, with their content ready to stage.
#[derive(Debug)]
pub struct ChangeSet {
    mode: Mode,
    files: Vec<Changed>,
    /// Index content of the staged files under the narrowed inputs.
    _snapshot: Option<tempfile::TempDir>,
}

/// How one gate is narrowed.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// One view per input, in the gate's input order.
    pub views: Vec<InputView>,
    /// Changed files the gate sees.
    pub files: usize,
}

impl ChangeSet {
    /// List the changes of `project`'s repository by `mode`. The content of
    /// staged files under any of `scope` (input paths of the gates that will
    /// be narrowed) is copied out of the index now; other staged files are
    /// listed but never exposed.
    pub fn collect(project: &Path, mode: Mode, scope: &[PathBuf]) -> Result<ChangeSet, String> {
        let top = git::toplevel(project)?;
        let changes = match &mode {
            Mode::Staged => git::staged_changes(&top)?,
            Mode::Since(rev) => git::changes_since(&top, rev)?,
        };
        let scope: Vec<PathBuf> = scope.iter().filter_map(|p| p.canonicalize().ok()).collect();
        let in_scope = |abs: &Path| scope.iter().any(|s| abs.starts_with(s));
        let mut files = Vec::new();
        let mut blobs: Vec<(String, PathBuf)> = Vec::new();
        let snapshot = match mode {
            Mode::Staged => Some(
                tempfile::Builder::new()
                    .prefix("mlgate-index-")
                    .tempdir()
                    .map_err(|e| format!("cannot create a temporary directory: {e}"))?,
            ),
            Mode::Since(_) => None,
        };
        for change in &changes {
            let abs = top.join(&change.path);
            let source = if !change.is_present_file() || !in_scope(&abs) {
                None
            } else if let Some(snapshot) = &snapshot {
                let dest = snapshot.path().join(&change.path);
                blobs.push((change.oid.clone(), dest.clone()));
                Some(dest)
            } else {
                working_tree_file(&abs)
            };
            files.push(Changed { abs, source });
        }
        if let Some(snapshot) = &snapshot {
            write_snapshot(&top, snapshot.path(), &blobs)?;
        }
        Ok(ChangeSet {
            mode,
            files,
            _snapshot: snapshot,
        })
    }

    /// The mode this set was collected with.
    pub fn mode(&self) -> &Mode {
        &self.mode
    }

    /// Changed paths inside `project`, relative to it (for the run context);
    /// deleted files included, as git lists them.
    pub fn project_relative(&self, project: &Path) -> Vec<String> {
        let Ok(project) = project.canonicalize() else {
            return Vec::new();
        };
        self.files
            .iter()
            .filter_map(|f| f.abs.strip_prefix(&project).ok())
            .map(|p| p.to_string_lossy().into_owned())
            .collect()
    }

    /// How a gate with these inputs is narrowed. `plan.files == 0` means no
    /// changed file falls under any input.
    pub fn plan(&self, inputs: &[PathBinding]) -> Plan {
        let mut plan = Plan::default();
        for input in inputs {
            let Ok(root) = input.path.canonicalize() else {
                // Missing input: mounting reports it.
                plan.views.push(InputView::Whole);
                continue;
            };
            let view = if root.is_dir() {
                let files: Vec<(PathBuf, PathBuf)> = self
                    .files
                    .iter()
                    .filter_map(|f| {
                        let rel = f.abs.strip_prefix(&root).ok()?;
                        Some((rel.to_path_buf(), f.source.clone()?))
                    })
                    .filter(|(rel, _)| !rel.as_os_str().is_empty())
                    .collect();
                plan.files += files.len();
                InputView::Files(files)
            } else {
                match self.files.iter().find(|f| f.abs == root) {
                    Some(Changed {
                        source: Some(source),
                        ..
                    }) => {
                        plan.files += 1;
                        InputView::Content(source.clone())
                    }
                    _ => InputView::Whole,
                }
            };
            plan.views.push(view);
        }
        plan
    }
}

/// `abs` if it is a regular file and no component of it is a symlink
/// (`abs` is built on the canonical top level, so canonicalizing it must
/// give it back unchanged).
fn working_tree_file(abs: &Path) -> Option<PathBuf> {
    let meta = std::fs::symlink_metadata(abs).ok()?;
    (meta.is_file() && abs.canonicalize().ok()? == abs).then(|| abs.to_path_buf())
}

fn write_snapshot(top: &Path, root: &Path, blobs: &[(String, PathBuf)]) -> Result<(), String> {
    for (_, dest) in blobs {
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot stage {}: {e}", parent.display()))?;
        }
    }
    let (oids, dests): (Vec<String>, Vec<PathBuf>) = blobs.iter().cloned().unzip();
    debug_assert!(dests.iter().all(|d| d.starts_with(root)));
    git::write_blobs(top, &oids, &dests)
}

#[cfg(test)]
mod tests;
