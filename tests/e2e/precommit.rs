//! Pre-commit narrowing end to end: a real git repository in a temp dir, the
//! built-in `secrets` gate in the `pre-commit` stage, and `mlgate run` with
//! `--changed`, `--changed-since`, `--all-files`, the default and `CI`; then
//! the hook `mlgate hook install` writes, run by a real `git commit`.
//!
//! The fake AWS key ids are made here (the repository holds none).

use std::path::Path;
use std::process::Command;

use crate::harness::{bin, mlgate, run, temp_dir};

const PIPELINE: &str = "version: 1
name: precommit
gates:
  secrets:
    stage: pre-commit
    plugin: builtin:secrets
    inputs: { paths: src/ }
";

/// A fake AWS access key id (`AKIA` + 16 base32 characters), distinct per seed.
fn fake_key(seed: u64) -> String {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let tail: String = (0..16)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            alphabet[(state >> 59) as usize] as char
        })
        .collect();
    format!("{}{tail}", ["AK", "IA"].concat())
}

fn secret_file(seed: u64) -> String {
    format!("import boto3\nAWS_ID = \"{}\"\n", fake_key(seed))
}

fn git(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(["-c", "commit.gpgsign=false"])
        .args(args)
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_DIR")
        .output()
        .unwrap()
}

fn git_ok(dir: &Path, args: &[&str]) {
    let out = git(dir, args);
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A repository whose first commit holds the pipeline and `src/old.py` with
/// a fake key.
fn repo() -> tempfile::TempDir {
    let dir = temp_dir();
    let root = dir.path();
    git_ok(root, &["init", "-q", "-b", "main"]);
    git_ok(root, &["config", "core.hooksPath", ".git/hooks"]);
    write(root, "mlgate.yaml", PIPELINE);
    write(root, "src/old.py", &secret_file(1));
    git_ok(root, &["add", "-A"]);
    git_ok(root, &["commit", "-q", "-m", "one"]);
    dir
}

fn run_json(dir: &Path, extra: &[&str], ci: Option<&str>) -> (i32, serde_json::Value, String) {
    let mut cmd = mlgate();
    cmd.current_dir(dir)
        .args(["run", "--format", "json", "--quiet"])
        .args(extra)
        .env_remove("CI")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_DIR");
    if let Some(ci) = ci {
        cmd.env("CI", ci);
    }
    let (code, stdout, stderr) = run(&mut cmd);
    let json = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\n{stderr}"));
    (code, json, stderr)
}

/// The finding paths of the only gate, sorted.
fn paths(report: &serde_json::Value) -> Vec<String> {
    let mut paths: Vec<String> = report["gates"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["location"]["path"].as_str().unwrap().to_string())
        .collect();
    paths.sort();
    paths
}

#[test]
fn precommit_scans_only_the_staged_file_and_maps_its_path() {
    let dir = repo();
    let root = dir.path();
    write(root, "src/new dir/ünï file.py", &secret_file(2));
    git_ok(root, &["add", "src"]);
    let (code, report, stderr) = run_json(root, &["--stage", "pre-commit"], None);
    assert_eq!(code, 1, "{report:#}\n{stderr}");
    assert_eq!(paths(&report), ["src/new dir/ünï file.py"]);
    let gate = &report["gates"][0];
    assert_eq!(gate["narrowed"]["mode"], "staged");
    assert_eq!(gate["narrowed"]["files"], 1);
    // Same with the explicit flag, and the full scan finds the committed key too.
    let (_, explicit, _) = run_json(root, &["--stage", "pre-commit", "--changed"], None);
    assert_eq!(paths(&explicit), ["src/new dir/ünï file.py"]);
    let (code, all, _) = run_json(root, &["--stage", "pre-commit", "--all-files"], None);
    assert_eq!(code, 1);
    assert_eq!(paths(&all), ["src/new dir/ünï file.py", "src/old.py"]);
    assert!(all["gates"][0].get("narrowed").is_none(), "{all:#}");
    // The fingerprint of a narrowed finding is the one of the full scan.
    let fp = |r: &serde_json::Value, p: &str| {
        r["gates"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["location"]["path"] == p)
            .map(|f| f["fingerprint"].clone())
    };
    let p = "src/new dir/ünï file.py";
    assert_eq!(fp(&report, p), fp(&all, p));
}

#[test]
fn precommit_index_content_wins_over_the_working_tree() {
    let dir = repo();
    let root = dir.path();
    // Staged with a key, then cleaned in the working tree only: still found.
    write(root, "src/a.py", &secret_file(3));
    git_ok(root, &["add", "src/a.py"]);
    write(root, "src/a.py", "import os\n");
    let (code, report, stderr) = run_json(root, &["--changed"], None);
    assert_eq!(code, 1, "{report:#}\n{stderr}");
    assert_eq!(paths(&report), ["src/a.py"]);
    // Staged clean, key only in the working tree: not what will be committed.
    write(root, "src/a.py", "import os\n");
    git_ok(root, &["add", "src/a.py"]);
    write(root, "src/a.py", &secret_file(4));
    let (code, report, stderr) = run_json(root, &["--changed"], None);
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    assert_eq!(report["gates"][0]["status"], "pass");
    assert_eq!(report["gates"][0]["narrowed"]["files"], 1);
}

#[test]
fn precommit_changed_since_a_commit_reads_the_working_tree() {
    let dir = repo();
    let root = dir.path();
    write(root, "src/second.py", &secret_file(5));
    git_ok(root, &["add", "-A"]);
    git_ok(root, &["commit", "-q", "-m", "two"]);
    write(root, "src/untracked.py", &secret_file(6));
    let (code, report, stderr) = run_json(root, &["--changed-since", "HEAD~1"], None);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(paths(&report), ["src/second.py", "src/untracked.py"]);
    let narrowed = &report["gates"][0]["narrowed"];
    assert_eq!(narrowed["mode"], "changed-since");
    assert_eq!(narrowed["since"], "HEAD~1");
    assert_eq!(narrowed["files"], 2);
    let (code, _, stderr) = run_json_err(root, &["--changed-since", "no-such-ref"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no-such-ref"), "{stderr}");
}

#[test]
fn precommit_gate_is_skipped_when_nothing_is_staged_under_its_inputs() {
    let dir = repo();
    let root = dir.path();
    write(root, "README.md", "docs\n");
    git_ok(root, &["add", "README.md"]);
    let (code, report, stderr) = run_json(root, &["--stage", "pre-commit"], None);
    assert_eq!(code, 0, "{stderr}");
    let gate = &report["gates"][0];
    assert_eq!(gate["status"], "skipped");
    assert_eq!(
        gate["reason"],
        "no staged files under its inputs (paths: src/)"
    );
    assert_eq!(gate["narrowed"]["files"], 0);
    // A deleted file is not scanned either, nor an untracked one.
    git_ok(root, &["rm", "-q", "src/old.py"]);
    write(root, "src/untracked.py", &secret_file(9));
    let (code, report, _) = run_json(root, &["--changed"], None);
    assert_eq!(code, 0);
    assert_eq!(report["gates"][0]["status"], "skipped");
}

#[test]
fn precommit_ci_true_turns_the_default_narrowing_off() {
    let dir = repo();
    let root = dir.path();
    write(root, "src/b.py", &secret_file(7));
    git_ok(root, &["add", "src/b.py"]);
    let (code, report, _) = run_json(root, &["--stage", "pre-commit"], Some("true"));
    assert_eq!(code, 1);
    assert_eq!(paths(&report), ["src/b.py", "src/old.py"]);
    let (_, report, _) = run_json(root, &["--stage", "pre-commit"], Some("false"));
    assert_eq!(paths(&report), ["src/b.py"]);
    // An explicit --changed narrows in CI too.
    let (_, report, _) = run_json(root, &["--changed"], Some("true"));
    assert_eq!(paths(&report), ["src/b.py"]);
}

/// Run and return (code, stdout, stderr) for runs that print no report.
fn run_json_err(dir: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut cmd = mlgate();
    cmd.current_dir(dir)
        .args(["run", "--format", "json", "--quiet"])
        .args(extra)
        .env_remove("CI");
    run(&mut cmd)
}

#[test]
fn precommit_conflicting_flags_and_no_repository_are_usage_errors() {
    let dir = repo();
    for flags in [
        &["--changed", "--all-files"][..],
        &["--changed", "--changed-since", "HEAD"],
        &["--changed-since", "HEAD", "--all-files"],
    ] {
        let (code, stdout, stderr) = run_json_err(dir.path(), flags);
        assert_eq!(code, 2, "{flags:?}: {stdout}");
        assert!(stderr.contains("cannot be combined"), "{stderr}");
    }
    let plain = temp_dir();
    write(plain.path(), "mlgate.yaml", PIPELINE);
    write(plain.path(), "src/a.py", "x = 1\n");
    let (code, _, stderr) = run_json_err(plain.path(), &["--changed"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("not in a git working tree"), "{stderr}");
    // The implicit default outside a repository scans everything.
    let (code, stdout, stderr) = run_json_err(plain.path(), &["--stage", "pre-commit"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stderr.contains("scanning all files"), "{stderr}");
}

#[test]
fn precommit_installed_hook_blocks_a_commit_with_a_staged_secret() {
    let dir = repo();
    let root = dir.path();
    let mut install = mlgate();
    install.args(["hook", "install", "--repo"]).arg(root);
    let (code, _, stderr) = run(&mut install);
    assert_eq!(code, 0, "{stderr}");
    let path = format!(
        "{}:{}",
        bin().parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let commit = |message: &str| {
        let out = Command::new("git")
            .arg("-C")
            .arg(root)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(["-c", "commit.gpgsign=false", "commit", "-q", "-m", message])
            .env("PATH", &path)
            .env_remove("CI")
            .env(
                "MLGATE_CACHE_DIR",
                crate::harness::repo_root().join("target/e2e-cache"),
            )
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    write(root, "src/leak.py", &secret_file(8));
    git_ok(root, &["add", "src/leak.py"]);
    let (ok, stderr) = commit("leak");
    assert!(!ok, "the hook must block the commit: {stderr}");
    // The committed key in src/old.py does not block an unrelated commit.
    git_ok(root, &["rm", "-q", "--cached", "src/leak.py"]);
    write(root, "src/clean.py", "import os\n");
    git_ok(root, &["add", "src/clean.py"]);
    let (ok, stderr) = commit("clean");
    assert!(ok, "{stderr}");
    let log = git(root, &["log", "--format=%s"]);
    assert_eq!(String::from_utf8_lossy(&log.stdout), "clean\none\n");
}

#[test]
fn precommit_human_report_says_the_gates_were_narrowed() {
    let dir = repo();
    let root = dir.path();
    write(root, "src/c.py", &secret_file(10));
    git_ok(root, &["add", "src/c.py"]);
    let mut cmd = mlgate();
    cmd.current_dir(root)
        .args(["run", "--stage", "pre-commit", "--quiet"])
        .env_remove("CI");
    let (code, stdout, stderr) = run(&mut cmd);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stdout.contains("pre-commit gates saw only the staged files: secrets 1;"),
        "{stdout}"
    );
    assert!(
        stdout.contains("src/c.py:2") && !stdout.contains("src/old.py"),
        "{stdout}"
    );
}

#[test]
fn precommit_a_gate_skipped_for_no_changes_does_not_block_its_dependents() {
    let dir = repo();
    let root = dir.path();
    write(
        root,
        "mlgate.yaml",
        "version: 1
name: precommit
gates:
  docs-secrets:
    stage: pre-commit
    plugin: builtin:secrets
    inputs: { paths: docs/ }
  src-secrets:
    stage: pre-commit
    needs: [docs-secrets]
    plugin: builtin:secrets
    inputs: { paths: src/ }
",
    );
    write(root, "docs/readme.md", "nothing here\n");
    git_ok(root, &["add", "-A"]);
    git_ok(root, &["commit", "-q", "-m", "two"]);
    write(root, "src/new.py", &secret_file(7));
    git_ok(root, &["add", "src/new.py"]);
    let (code, report, stderr) = run_json(root, &["--stage", "pre-commit"], None);
    assert_eq!(code, 1, "{report:#}\n{stderr}");
    let gates = report["gates"].as_array().unwrap();
    assert_eq!(gates[0]["id"], "docs-secrets");
    assert_eq!(gates[0]["status"], "skipped", "{report:#}");
    assert_eq!(gates[1]["id"], "src-secrets");
    assert_eq!(gates[1]["status"], "fail", "{report:#}");
    assert_eq!(gates[1]["findings"][0]["location"]["path"], "src/new.py");
}

#[test]
fn precommit_plan_and_sarif_say_the_gates_are_narrowed() {
    let dir = repo();
    let root = dir.path();
    let (code, plan, stderr) = run(mlgate()
        .current_dir(root)
        .args(["plan", "--format", "json"]));
    assert_eq!(code, 0, "{stderr}");
    let plan: serde_json::Value = serde_json::from_str(&plan).unwrap();
    assert_eq!(plan["gates"][0]["narrows_to_changed_files"], true);
    let (_, text, _) = run(mlgate().current_dir(root).arg("plan"));
    assert!(text.contains("sees only changed files"), "{text}");

    write(root, "src/d.py", &secret_file(11));
    git_ok(root, &["add", "src/d.py"]);
    let mut cmd = mlgate();
    cmd.current_dir(root)
        .args(["run", "--changed", "--quiet", "--format", "sarif"])
        .env_remove("CI");
    let (code, sarif, stderr) = run(&mut cmd);
    assert_eq!(code, 1, "{stderr}");
    let sarif: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    let run = &sarif["runs"][0];
    assert_eq!(run["properties"]["narrowed"]["secrets"]["files"], 1);
    assert!(
        run["automationDetails"]["id"]
            .as_str()
            .unwrap()
            .ends_with("/changed-files/"),
        "{}",
        run["automationDetails"]
    );
}
