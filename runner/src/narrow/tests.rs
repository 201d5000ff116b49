//! `ChangeSet` against real repositories made with the `git` binary.

use std::path::Path;

use super::*;
use crate::git::git_in_test as git;

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    write(dir.path(), "src/old.py", "old\n");
    write(dir.path(), "README", "r\n");
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "one"]);
    dir
}

fn binding(name: &str, declared: &str, root: &Path) -> PathBinding {
    PathBinding {
        name: name.into(),
        declared: declared.into(),
        path: root.join(declared),
    }
}

fn files_of(view: &InputView) -> Vec<(String, String)> {
    let InputView::Files(files) = view else {
        panic!("not a files view: {view:?}")
    };
    let mut out: Vec<_> = files
        .iter()
        .map(|(rel, src)| {
            let content = std::fs::read_to_string(src).unwrap();
            (rel.to_string_lossy().into_owned(), content)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn staged_content_comes_from_the_index_not_the_working_tree() {
    let dir = repo();
    let root = dir.path();
    write(root, "src/new dir/ü file.py", "staged\n");
    write(root, "src/old.py", "old, edited\n");
    git(root, &["add", "src/new dir/ü file.py", "src/old.py"]);
    write(root, "src/new dir/ü file.py", "working tree only\n");
    write(root, "src/untracked.py", "x\n");
    let src = root.join("src");
    let set = ChangeSet::collect(root, Mode::Staged, std::slice::from_ref(&src)).unwrap();
    let plan = set.plan(&[binding("paths", "src", root)]);
    assert_eq!(plan.files, 2);
    assert_eq!(
        files_of(&plan.views[0]),
        [
            ("new dir/ü file.py".to_string(), "staged\n".to_string()),
            ("old.py".to_string(), "old, edited\n".to_string()),
        ]
    );
    let mut listed = set.project_relative(root);
    listed.sort();
    assert_eq!(listed, ["src/new dir/ü file.py", "src/old.py"]);
}

#[test]
fn deleted_and_out_of_scope_files_are_not_exposed() {
    let dir = repo();
    let root = dir.path();
    git(root, &["rm", "-q", "src/old.py"]);
    write(root, "README", "changed\n");
    write(root, "src/a.py", "a\n");
    git(root, &["add", "README", "src/a.py"]);
    let src = root.join("src");
    let set = ChangeSet::collect(root, Mode::Staged, std::slice::from_ref(&src)).unwrap();
    let plan = set.plan(&[binding("paths", "src", root)]);
    assert_eq!(files_of(&plan.views[0]), [("a.py".into(), "a\n".into())]);
    // README changed but is outside the scope: a gate on it sees nothing.
    let readme = set.plan(&[binding("doc", "README", root)]);
    assert_eq!(readme.files, 0);
    assert_eq!(readme.views, [InputView::Whole]);
}

#[test]
fn file_inputs_get_staged_content_or_stay_whole() {
    let dir = repo();
    let root = dir.path();
    write(root, "README", "staged readme\n");
    git(root, &["add", "README"]);
    write(root, "README", "working readme\n");
    let scope = [root.join("README"), root.join("src/old.py")];
    let set = ChangeSet::collect(root, Mode::Staged, &scope).unwrap();
    let plan = set.plan(&[
        binding("doc", "README", root),
        binding("code", "src/old.py", root),
    ]);
    assert_eq!(plan.files, 1);
    let InputView::Content(source) = &plan.views[0] else {
        panic!("{:?}", plan.views[0])
    };
    assert_eq!(std::fs::read_to_string(source).unwrap(), "staged readme\n");
    assert_eq!(
        plan.views[1],
        InputView::Whole,
        "unchanged file input is kept whole"
    );
}

#[test]
fn changed_since_reads_the_working_tree_and_untracked_files() {
    let dir = repo();
    let root = dir.path();
    write(root, "src/second.py", "2\n");
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "two"]);
    write(root, "src/old.py", "edited, not staged\n");
    write(root, "src/untracked.py", "u\n");
    write(root, ".gitignore", "*.log\n");
    write(root, "src/ignored.log", "i\n");
    std::os::unix::fs::symlink("/etc/hostname", root.join("src/link")).unwrap();
    let src = root.join("src");
    let set = ChangeSet::collect(root, Mode::Since("HEAD~1".into()), &[src]).unwrap();
    let plan = set.plan(&[binding("paths", "src/", root)]);
    assert_eq!(
        files_of(&plan.views[0]),
        [
            ("old.py".to_string(), "edited, not staged\n".to_string()),
            ("second.py".to_string(), "2\n".to_string()),
            ("untracked.py".to_string(), "u\n".to_string()),
        ]
    );
    let err = ChangeSet::collect(root, Mode::Since("no-such-ref".into()), &[]).unwrap_err();
    assert!(err.contains("no-such-ref"), "{err}");
}

#[test]
fn staged_symlinks_are_not_exposed_and_first_commit_works() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git(root, &["init", "-q"]);
    write(root, "a.txt", "a\n");
    std::os::unix::fs::symlink("/etc/passwd", root.join("link")).unwrap();
    git(root, &["add", "-A"]);
    let set = ChangeSet::collect(root, Mode::Staged, &[root.to_path_buf()]).unwrap();
    let plan = set.plan(&[binding("paths", ".", root)]);
    assert_eq!(files_of(&plan.views[0]), [("a.txt".into(), "a\n".into())]);
}

#[test]
fn outside_a_repository_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = ChangeSet::collect(dir.path(), Mode::Staged, &[]).unwrap_err();
    assert!(err.contains("not in a git working tree"), "{err}");
}
