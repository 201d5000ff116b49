//! Test harness: runs the real `mlgate` binary in a fresh temp dir.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Path of the built binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_mlgate"))
}

/// The repository root (where `pipelines/`, `examples/` live).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// `../shared/data` beside the repository (test data that is not committed).
pub fn shared_data() -> PathBuf {
    repo_root().parent().unwrap().join("shared").join("data")
}

/// A `mlgate` command with a per-test compile cache, no colour, and an
/// advisory store of its own (never the developer's fetched databases;
/// tests that need one set `MLGATE_ADVISORIES_DIR` themselves).
pub fn mlgate() -> Command {
    let mut cmd = Command::new(bin());
    let target = repo_root().join("target");
    cmd.env("NO_COLOR", "1")
        .env_remove("GITHUB_ACTIONS")
        .env("MLGATE_CACHE_DIR", target.join("e2e-cache"))
        .env("MLGATE_ADVISORIES_DIR", target.join("e2e-advisories-empty"))
        .env_remove("XDG_CACHE_HOME");
    cmd
}

/// Run and return (status code, stdout, stderr).
pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("spawn mlgate");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// Run `mlgate check PLUGIN ... --format json` and parse the JSON report.
pub fn check_json(plugin: &str, args: &[&str]) -> (i32, serde_json::Value, String) {
    let mut cmd = mlgate();
    cmd.arg("check")
        .arg(plugin)
        .args(args)
        .args(["--format", "json"]);
    let (code, stdout, stderr) = run(&mut cmd);
    let json = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("report is not JSON ({e}): {stdout}\nstderr: {stderr}"));
    (code, json, stderr)
}

/// A fresh temporary directory, removed on drop.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("mlgate-e2e-")
        .tempdir()
        .unwrap()
}
