//! What the runner learns from git: the commit for reports and gates, and
//! the changed files that narrow the pre-commit gates (see `narrow`).
//!
//! Everything shells out to the `git` binary with `-z` output, so paths with
//! spaces, newlines or non-UTF-8 bytes survive, and a hook's environment
//! (`GIT_INDEX_FILE` during `git commit -a` or `git commit PATH`) is honoured.
//! Absent git or a repository, [`head_commit`] is `None`; the change listings
//! return an error the caller turns into a message.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

/// `git -C dir ARGS` with quoting of paths off (ignored with `-z`, kept for safety).
fn command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(dir)
        .args(["-c", "core.quotepath=off"])
        .args(args);
    cmd
}

/// Run git in `dir` for a test: a fixed identity, no signing, no hooks;
/// panics with git's stderr when it fails.
#[cfg(test)]
pub(crate) fn git_in_test(dir: &Path, args: &[&str]) {
    let out = command(
        dir,
        &["-c", "user.name=t", "-c", "user.email=t@example.com"],
    )
    .args([
        "-c",
        "commit.gpgsign=false",
        "-c",
        "core.hooksPath=/dev/null",
    ])
    .args(args)
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Run git; its stdout on success, else git's stderr (or why it did not start).
fn output(dir: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let out = command(dir, args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// `HEAD`'s commit id, if the project is in a git repository with commits.
pub fn head_commit(project: &Path) -> Option<String> {
    let out = output(project, &["rev-parse", "--verify", "-q", "HEAD"]).ok()?;
    Some(String::from_utf8_lossy(&out).trim().to_string())
}

/// Where the run happened in git, for every report: the commit, the branch
/// (`None` when HEAD is detached, as in most CI checkouts) and whether
/// tracked files differ from the commit.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RepoState {
    /// `HEAD`'s commit id (`None` before the first commit).
    pub commit: Option<String>,
    /// The checked-out branch.
    pub branch: Option<String>,
    /// Tracked files modified or staged relative to `HEAD` (untracked files
    /// do not count).
    pub dirty: bool,
}

impl RepoState {
    /// The commit abbreviated to 12 hex digits, as reports show it.
    pub fn short_commit(&self) -> Option<&str> {
        self.commit.as_deref().map(|c| c.get(..12).unwrap_or(c))
    }
}

/// The repository state of `project`, or `None` outside a git work tree.
pub fn repo_state(project: &Path) -> Option<RepoState> {
    output(project, &["rev-parse", "--is-inside-work-tree"]).ok()?;
    let branch = output(project, &["symbolic-ref", "-q", "--short", "HEAD"])
        .ok()
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .filter(|b| !b.is_empty());
    let dirty = output(
        project,
        &["status", "--porcelain", "-z", "--untracked-files=no"],
    )
    .map(|s| !s.is_empty())
    .unwrap_or(false);
    Some(RepoState {
        commit: head_commit(project),
        branch,
        dirty,
    })
}

/// The root of the working tree that holds `project`, canonical.
pub fn toplevel(project: &Path) -> Result<PathBuf, String> {
    let out = output(project, &["rev-parse", "--show-toplevel"])
        .map_err(|e| format!("{} is not in a git working tree ({e})", project.display()))?;
    let text = String::from_utf8_lossy(&out);
    let top = PathBuf::from(text.trim_end_matches('\n'));
    top.canonicalize()
        .map_err(|e| format!("{}: {e}", top.display()))
}

/// One file a change listing names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Path relative to the working-tree root (only normal components).
    pub path: PathBuf,
    /// git's status letter (`A`, `M`, `T`, `D`, ...; `?` for untracked).
    pub status: char,
    /// The file's mode on the new side (`0o100644`, `0o120000` symlink,
    /// `0o160000` submodule); 0 when unknown (untracked).
    pub mode: u32,
    /// Blob id on the new side; all zeros when the content is only in the
    /// working tree.
    pub oid: String,
}

impl Change {
    /// Whether the new side is a regular file that exists (not deleted, not
    /// a symlink, not a submodule).
    pub fn is_present_file(&self) -> bool {
        self.status != 'D' && (self.mode == 0 || self.mode & 0o170000 == 0o100000)
    }
}

/// Files staged for the next commit (the index against `HEAD`, or against
/// the empty tree before the first commit), with their staged blob ids.
pub fn staged_changes(top: &Path) -> Result<Vec<Change>, String> {
    let out = output(
        top,
        &[
            "diff",
            "--cached",
            "--raw",
            "-z",
            "--no-renames",
            "--no-abbrev",
            "--no-ext-diff",
        ],
    )?;
    parse_raw(&out)
}

/// Files that differ between `rev` and the working tree (staged or not),
/// plus untracked files that are not ignored.
pub fn changes_since(top: &Path, rev: &str) -> Result<Vec<Change>, String> {
    let spec = format!("{rev}^{{commit}}");
    output(
        top,
        &["rev-parse", "--verify", "-q", "--end-of-options", &spec],
    )
    .map_err(|_| format!("`{rev}` is not a commit in {}", top.display()))?;
    let diff = output(
        top,
        &[
            "diff",
            "--raw",
            "-z",
            "--no-renames",
            "--no-abbrev",
            "--no-ext-diff",
            rev,
            "--",
        ],
    )?;
    let mut changes = parse_raw(&diff)?;
    let untracked = output(top, &["ls-files", "-z", "--others", "--exclude-standard"])?;
    changes.extend(split_z(&untracked).filter_map(|p| {
        Some(Change {
            path: relative_path(p)?,
            status: '?',
            mode: 0,
            oid: String::new(),
        })
    }));
    Ok(changes)
}

fn split_z(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    bytes.split(|&b| b == 0).filter(|p| !p.is_empty())
}

/// A git path as a relative path of normal components only; `None` for
/// anything else (never produced by git, refused anyway).
fn relative_path(bytes: &[u8]) -> Option<PathBuf> {
    let path = Path::new(OsStr::from_bytes(bytes));
    path.components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then(|| path.to_path_buf())
}

/// Parse `git diff --raw -z` output: for each file
/// `:OLDMODE NEWMODE OLDOID NEWOID STATUS[SCORE]\0PATH\0` (two paths for a
/// rename or copy: the new one is kept).
pub fn parse_raw(bytes: &[u8]) -> Result<Vec<Change>, String> {
    let mut fields = bytes.split(|&b| b == 0);
    let mut changes = Vec::new();
    while let Some(meta) = fields.next() {
        if meta.is_empty() {
            continue;
        }
        let bad = || {
            format!(
                "unexpected `git diff --raw` record: {}",
                String::from_utf8_lossy(meta)
            )
        };
        let meta = std::str::from_utf8(meta).map_err(|_| bad())?;
        let parts: Vec<&str> = meta.trim_start_matches(':').split(' ').collect();
        let [_, new_mode, _, new_oid, status] = parts[..] else {
            return Err(bad());
        };
        let status = status.chars().next().ok_or_else(bad)?;
        let mode = u32::from_str_radix(new_mode, 8).map_err(|_| bad())?;
        let mut path = fields.next().ok_or_else(bad)?;
        if matches!(status, 'R' | 'C') {
            path = fields.next().ok_or_else(bad)?;
        }
        if let Some(path) = relative_path(path) {
            changes.push(Change {
                path,
                status,
                mode,
                oid: new_oid.to_string(),
            });
        }
    }
    Ok(changes)
}

/// Write the blobs `oids` to the files `dests` (same order), streaming
/// through one `git cat-file --batch`. Parent directories must exist.
pub fn write_blobs(top: &Path, oids: &[String], dests: &[PathBuf]) -> Result<(), String> {
    if oids.is_empty() {
        return Ok(());
    }
    let mut child = command(top, &["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run git: {e}"))?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let request: Vec<u8> = oids
        .iter()
        .flat_map(|o| format!("{o}\n").into_bytes())
        .collect();
    // A writer thread: git answers while we are still asking.
    let writer = std::thread::spawn(move || stdin.write_all(&request));
    let mut reader = BufReader::new(child.stdout.take().expect("piped stdout"));
    let result = read_blobs(&mut reader, oids, dests);
    drop(reader);
    let _ = writer.join();
    let status = child.wait().map_err(|e| e.to_string())?;
    result?;
    if !status.success() {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        return Err(format!("git cat-file failed: {}", err.trim()));
    }
    Ok(())
}

fn read_blobs(reader: &mut impl BufRead, oids: &[String], dests: &[PathBuf]) -> Result<(), String> {
    for (oid, dest) in oids.iter().zip(dests) {
        let mut header = String::new();
        reader
            .read_line(&mut header)
            .map_err(|e| format!("reading git cat-file: {e}"))?;
        let parts: Vec<&str> = header.trim_end().split(' ').collect();
        let size: u64 = match parts[..] {
            [id, "blob", size] if id == oid => size
                .parse()
                .map_err(|_| format!("git cat-file: bad header `{}`", header.trim_end()))?,
            _ => {
                return Err(format!(
                    "git cat-file: no blob {oid} (`{}`)",
                    header.trim_end()
                ));
            }
        };
        let mut file =
            std::fs::File::create(dest).map_err(|e| format!("{}: {e}", dest.display()))?;
        let copied = std::io::copy(&mut reader.by_ref().take(size), &mut file)
            .map_err(|e| format!("{}: {e}", dest.display()))?;
        let mut newline = [0u8; 1];
        if copied != size || reader.read_exact(&mut newline).is_err() {
            return Err(format!("git cat-file: blob {oid} truncated"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const Z40: &str = "0000000000000000000000000000000000000000";

    #[test]
    fn parses_raw_records_with_odd_paths() {
        let a = "a".repeat(40);
        let raw = format!(
            ":000000 100644 {Z40} {a} A\0src/my file ü.py\0\
             :100644 000000 {a} {Z40} D\0gone.txt\0\
             :100644 120000 {a} {a} T\0link\0\
             :100644 100644 {a} {a} R087\0old name\0new\nname\0"
        );
        let changes = parse_raw(raw.as_bytes()).unwrap();
        let paths: Vec<_> = changes.iter().map(|c| c.path.to_str().unwrap()).collect();
        assert_eq!(paths, ["src/my file ü.py", "gone.txt", "link", "new\nname"]);
        assert_eq!(changes[0].mode, 0o100644);
        assert_eq!(changes[0].oid, a);
        let present: Vec<bool> = changes.iter().map(Change::is_present_file).collect();
        assert_eq!(
            present,
            [true, false, false, true],
            "deleted and symlink are not files"
        );
    }

    #[test]
    fn refuses_paths_that_leave_the_tree_and_garbage() {
        let a = "a".repeat(40);
        let raw = format!(":000000 100644 {Z40} {a} A\0../x\0:000000 100644 {Z40} {a} A\0/etc/x\0");
        assert!(parse_raw(raw.as_bytes()).unwrap().is_empty());
        assert!(parse_raw(b":100644 M\0x\0").is_err());
        assert!(parse_raw(b"").unwrap().is_empty());
    }

    #[test]
    fn reads_blobs_from_a_batch_stream() {
        let dir = tempfile::tempdir().unwrap();
        let dests = [dir.path().join("one"), dir.path().join("two")];
        let oids = ["1".repeat(40), "2".repeat(40)];
        let stream = format!("{} blob 3\nabc\n{} blob 0\n\n", oids[0], oids[1]);
        read_blobs(&mut stream.as_bytes(), &oids, &dests).unwrap();
        assert_eq!(std::fs::read(&dests[0]).unwrap(), b"abc");
        assert_eq!(std::fs::read(&dests[1]).unwrap(), b"");
        let missing = format!("{} missing\n", oids[0]);
        assert!(read_blobs(&mut missing.as_bytes(), &oids[..1], &dests[..1]).is_err());
        let short = format!("{} blob 9\nab", oids[0]);
        assert!(read_blobs(&mut short.as_bytes(), &oids[..1], &dests[..1]).is_err());
    }

    #[test]
    fn repo_state_tracks_commit_branch_and_dirty() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        assert_eq!(repo_state(root), None, "not a repository");
        let git = |args: &[&str]| git_in_test(root, args);
        git(&["init", "-q", "-b", "trunk"]);
        let state = repo_state(root).unwrap();
        assert_eq!(
            (state.commit, state.branch.as_deref(), state.dirty),
            (None, Some("trunk"), false)
        );
        std::fs::write(root.join("a.txt"), "1").unwrap();
        git(&["add", "a.txt"]);
        git(&["commit", "-q", "-m", "one"]);
        let state = repo_state(root).unwrap();
        assert_eq!(state.commit.as_deref().map(str::len), Some(40));
        assert_eq!(
            state.short_commit(),
            state.commit.as_deref().map(|c| &c[..12])
        );
        assert!(!state.dirty);
        std::fs::write(root.join("untracked.txt"), "x").unwrap();
        assert!(
            !repo_state(root).unwrap().dirty,
            "untracked files do not count"
        );
        std::fs::write(root.join("a.txt"), "2").unwrap();
        assert!(repo_state(root).unwrap().dirty);
        git(&["checkout", "-q", "--detach"]);
        assert_eq!(repo_state(root).unwrap().branch, None);
    }
}
