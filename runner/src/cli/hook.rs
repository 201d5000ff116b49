//! `mlgate hook install`: a git pre-commit hook that runs the pipeline's
//! `pre-commit` stage on every commit (the gates see the staged files).
//! An existing hook that mlgate did not write is kept unless `--force`.

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Subcommand;

use super::usage_error;

/// The line that marks a hook as mlgate's.
const MARK: &str = "# installed by `mlgate hook install`";

/// Hook subcommands.
#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Write `.git/hooks/pre-commit` (or the `core.hooksPath` one).
    Install {
        /// Pipeline the hook runs [default: mlgate.yaml or pipelines/mlgate.yaml].
        #[arg(long)]
        pipeline: Option<PathBuf>,
        /// Repository to install into [default: the current directory].
        #[arg(long, value_name = "DIR")]
        repo: Option<PathBuf>,
        /// Replace a pre-commit hook mlgate did not write.
        #[arg(long)]
        force: bool,
    },
}

/// The hook script.
pub fn script(pipeline: Option<&Path>) -> String {
    let pipeline = pipeline
        .map(|p| format!(" '{}'", p.display().to_string().replace('\'', "'\\''")))
        .unwrap_or_default();
    format!(
        "#!/bin/sh\n{MARK}\n# Runs the `pre-commit` gates on the staged files; a failing gate blocks\n# the commit (skip once with `git commit --no-verify`).\nexec mlgate run{pipeline} --stage pre-commit --quiet\n"
    )
}

fn hooks_dir(repo: &Path) -> Result<PathBuf, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["rev-parse", "--git-path", "hooks"])
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !out.status.success() {
        return Err(format!("{} is not in a git repository", repo.display()));
    }
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    Ok(if dir.is_absolute() {
        dir
    } else {
        repo.join(dir)
    })
}

/// Run a hook subcommand.
pub fn run(cmd: HookCommand) -> u8 {
    let HookCommand::Install {
        pipeline,
        repo,
        force,
    } = cmd;
    let repo = repo.unwrap_or_else(|| PathBuf::from("."));
    let dir = match hooks_dir(&repo) {
        Ok(d) => d,
        Err(e) => return usage_error(e),
    };
    let hook = dir.join("pre-commit");
    if let Ok(existing) = std::fs::read_to_string(&hook)
        && !existing.contains(MARK)
        && !force
    {
        return usage_error(format!(
            "{} exists and was not written by mlgate; pass --force to replace it",
            hook.display()
        ));
    }
    let written = std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(&hook, script(pipeline.as_deref())))
        .and_then(|()| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755))
        });
    match written {
        Ok(()) => {
            println!("installed {}", hook.display());
            0
        }
        Err(e) => usage_error(format!("cannot write {}: {e}", hook.display())),
    }
}
