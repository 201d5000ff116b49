//! Pipelines end to end: the demo project, the DAG (skips, `--only`),
//! pins, formats, dry runs and Ctrl-C.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::harness::{mlgate, repo_root, run, temp_dir};

fn hostile_wasm() -> PathBuf {
    PathBuf::from(env!("MLGATE_GUEST_WASM_DIR")).join("mlgate_hostile.wasm")
}

fn pin(path: &Path) -> String {
    let (code, stdout, stderr) = run(mlgate().args(["plugin", "pin"]).arg(path));
    assert_eq!(code, 0, "{stderr}");
    stdout.trim().strip_prefix("sha256: ").unwrap().to_string()
}

/// A project dir with the hostile plugin copied in and `pipeline` written.
fn project(pipeline: &str) -> tempfile::TempDir {
    let dir = temp_dir();
    std::fs::copy(hostile_wasm(), dir.path().join("hostile.wasm")).unwrap();
    std::fs::write(dir.path().join("data.txt"), "x").unwrap();
    let sha = pin(&dir.path().join("hostile.wasm"));
    std::fs::write(
        dir.path().join("mlgate.yaml"),
        pipeline.replace("PIN", &sha),
    )
    .unwrap();
    dir
}

fn run_json(dir: &Path, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let mut cmd = mlgate();
    cmd.arg("run")
        .arg(dir.join("mlgate.yaml"))
        .arg("--project")
        .arg(dir)
        .args(["--format", "json", "--quiet"])
        .args(extra);
    let (code, stdout, stderr) = run(&mut cmd);
    let json = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\n{stderr}"));
    (code, json, stderr)
}

fn gate<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["gates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == id)
        .unwrap_or_else(|| panic!("no gate {id} in {report:#}"))
}

const THREE_GATES: &str = r#"version: 1
name: dag
gates:
  first:
    stage: pre-commit
    plugin: hostile.wasm
    sha256: PIN
    with: { attack: panic }
  second:
    stage: training
    needs: [first]
    plugin: hostile.wasm
    sha256: PIN
  independent:
    stage: deployment
    plugin: hostile.wasm
    sha256: PIN
    inputs: { data: data.txt }
"#;

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn demo_pipeline_passes() {
    let root = repo_root();
    let mut cmd = mlgate();
    cmd.current_dir(&root).args([
        "run",
        "pipelines/mlsecops.yaml",
        "--project",
        "examples/demo",
        "--format",
        "json",
    ]);
    let (code, stdout, stderr) = run(&mut cmd);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["status"], "pass");
    assert_eq!(gate(&report, "data-provenance")["status"], "pass");
}

#[test]
fn tampered_demo_dataset_fails_naming_the_file() {
    let dir = temp_dir();
    copy_tree(&repo_root().join("examples/demo"), dir.path());
    let csv = dir.path().join("data/train.csv");
    let text = std::fs::read_to_string(&csv).unwrap();
    std::fs::write(&csv, text.replacen("setosa", "virginica", 1)).unwrap();
    std::fs::copy(
        repo_root().join("pipelines/mlsecops.yaml"),
        dir.path().join("mlgate.yaml"),
    )
    .unwrap();
    let (code, report, _) = run_json(dir.path(), &[]);
    assert_eq!(code, 1);
    let g = gate(&report, "data-provenance");
    assert_eq!(g["status"], "fail");
    let finding = &g["findings"][0];
    assert_eq!(finding["severity"], "critical");
    assert_eq!(finding["location"]["path"], "data/train.csv");
}

#[test]
fn a_failed_gate_skips_its_dependents_only() {
    let dir = project(THREE_GATES);
    let (code, report, stderr) = run_json(dir.path(), &[]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(report["status"], "error");
    assert_eq!(gate(&report, "first")["status"], "error");
    let second = gate(&report, "second");
    assert_eq!(second["status"], "skipped");
    assert_eq!(second["reason"], "needs `first`, which errored");
    assert_eq!(gate(&report, "independent")["status"], "pass");
}

#[test]
fn only_runs_the_gate_and_what_it_needs() {
    let dir = project(THREE_GATES);
    let (_, report, _) = run_json(dir.path(), &["--only", "second"]);
    let ids: Vec<&str> = report["gates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["first", "second"]);
}

#[test]
fn a_plugin_that_does_not_match_its_pin_is_not_run() {
    let dir = project(&THREE_GATES.replace("PIN", &"0".repeat(64)));
    let (code, report, _) = run_json(dir.path(), &["--only", "independent"]);
    assert_eq!(code, 1);
    let g = gate(&report, "independent");
    assert_eq!(g["status"], "error");
    let reason = g["reason"].as_str().unwrap();
    assert!(reason.contains("does not match its pin"), "{reason}");
    assert!(reason.contains("was not run"), "{reason}");
}

#[test]
fn junit_report_lists_every_gate() {
    let dir = project(THREE_GATES);
    let (code, stdout, _) = run(mlgate()
        .arg("run")
        .arg(dir.path().join("mlgate.yaml"))
        .arg("--project")
        .arg(dir.path())
        .args(["--format", "junit", "--quiet"]));
    assert_eq!(code, 1);
    assert!(stdout.starts_with("<?xml"), "{stdout}");
    assert!(
        stdout.contains(r#"<testcase classname="pre-commit" name="first""#),
        "{stdout}"
    );
    assert!(
        stdout.contains("<error message=\"plugin panicked"),
        "{stdout}"
    );
    assert!(
        stdout.contains("<skipped message=\"needs `first`, which errored\""),
        "{stdout}"
    );
}

#[test]
fn dry_run_says_what_it_skipped() {
    let dir = project(THREE_GATES);
    let (_, report, _) = run_json(dir.path(), &["--dry-run", "--only", "independent"]);
    assert_eq!(report["dry_run"], true);
    let skipped = report["skipped_side_effects"].to_string();
    assert!(
        skipped.contains("tickets") && skipped.contains("audit"),
        "{skipped}"
    );
}

#[test]
fn an_invalid_pipeline_exits_2_with_a_location() {
    let dir = project("version: 1\ngates:\n  a:\n    stage: training\n    plugin: builtin:nope\n");
    let (code, stdout, stderr) = run(mlgate()
        .arg("validate")
        .arg(dir.path().join("mlgate.yaml"))
        .arg("--project")
        .arg(dir.path()));
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stderr.contains("mlgate.yaml:5:13"), "{stderr}");
    assert!(stderr.contains('^'), "{stderr}");
}

#[test]
fn ctrl_c_stops_running_gates_and_still_reports() {
    let dir = project(
        "version: 1\ngates:\n  spin:\n    stage: training\n    plugin: hostile.wasm\n    sha256: PIN\n    with: { attack: infinite-loop }\n    limits: { timeout: 60s }\n  later:\n    stage: deployment\n    plugin: hostile.wasm\n    sha256: PIN\n",
    );
    let child = mlgate()
        .arg("run")
        .arg(dir.path().join("mlgate.yaml"))
        .arg("--project")
        .arg(dir.path())
        .args(["--format", "json", "--quiet"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["interrupted"], true);
    assert_eq!(gate(&report, "spin")["status"], "error");
    assert_eq!(gate(&report, "spin")["reason"], "interrupted (Ctrl-C)");
    assert_eq!(gate(&report, "later")["status"], "skipped");
}

#[test]
fn plan_shows_levels_reads_writes_and_limits() {
    let dir = project(THREE_GATES);
    let yaml = dir.path().join("mlgate.yaml");
    let (code, stdout, stderr) = run(mlgate()
        .arg("plan")
        .arg(&yaml)
        .arg("--project")
        .arg(dir.path())
        .args(["--format", "json"]));
    assert_eq!(code, 0, "{stderr}");
    let plan: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        plan["levels"],
        serde_json::json!([["first"], ["second"], ["independent"]])
    );
    let independent = &plan["gates"][2];
    assert_eq!(independent["reads"][0]["declared"], "data.txt");
    assert_eq!(independent["reads"][0]["guest"], "/inputs/data");
    assert_eq!(independent["limits"]["memory_bytes"], 512u64 << 20);
    assert_eq!(independent["limits"]["timeout"], 120_000);
    let (code, mermaid, _) = run(mlgate()
        .arg("plan")
        .arg(&yaml)
        .arg("--project")
        .arg(dir.path())
        .args(["--format", "mermaid"]));
    assert_eq!(code, 0);
    assert!(
        mermaid.contains("first") && mermaid.contains("-->"),
        "{mermaid}"
    );
}

#[test]
fn plugin_inspect_describes_a_builtin() {
    let (code, stdout, stderr) = run(mlgate().args(["plugin", "inspect", "provenance", "--json"]));
    assert_eq!(code, 0, "{stderr}");
    let info: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(info["name"], "provenance");
    assert_eq!(info["wit"], "mlgate:gate@0.1.0");
    assert_eq!(info["sha256"].as_str().unwrap().len(), 64);
    let imports = info["imports"].to_string();
    assert!(imports.contains("mlgate:gate/host@0.1.0"), "{imports}");
    assert!(!imports.contains("wasi:sockets"), "{imports}");
}
