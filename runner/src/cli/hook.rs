//! `mlgate hook install`: a git pre-commit hook that runs the pipeline's
//! `pre-commit` stage on every commit with `--changed`: the gates see only
//! the staged files, with the content that will be committed.
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
        "#!/bin/sh\n{MARK}\n# Runs the `pre-commit` gates on the staged files only, with their staged\n# content (`--changed`); a failing gate blocks the commit (skip once with\n# `git commit --no-verify`; scan everything with `mlgate run --stage pre-commit --all-files`).\nexec mlgate run{pipeline} --stage pre-commit --changed --quiet\n"
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hook_narrows_to_staged_files_and_quotes_the_pipeline() {
        let text = script(Some(Path::new("ci/it's.yaml")));
        assert!(text.starts_with("#!/bin/sh\n") && text.contains(MARK));
        let exec = text.lines().last().unwrap();
        assert_eq!(
            exec,
            "exec mlgate run 'ci/it'\\''s.yaml' --stage pre-commit --changed --quiet"
        );
        assert!(script(None).ends_with("exec mlgate run --stage pre-commit --changed --quiet\n"));
    }
}
