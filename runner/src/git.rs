//! What the gates learn about the repository: the commit and, for the
//! pre-commit stage, the staged files. Absent git or repository, both are
//! empty; nothing here fails a run.

use std::path::Path;
use std::process::Command;

fn git(project: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(project)
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `HEAD`'s commit id, if the project is in a git repository with commits.
pub fn head_commit(project: &Path) -> Option<String> {
    git(project, &["rev-parse", "--verify", "-q", "HEAD"]).map(|s| s.trim().to_string())
}

/// Files staged for the next commit (added, copied, modified, renamed),
/// relative to the repository root.
pub fn staged_files(project: &Path) -> Vec<String> {
    git(
        project,
        &[
            "diff",
            "--cached",
            "--name-only",
            "--diff-filter=ACMR",
            "-z",
        ],
    )
    .map(|s| {
        s.split('\0')
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect()
    })
    .unwrap_or_default()
}
