//! Custom plugins the way a security team makes them: the example gate in
//! `examples/custom-plugin` and a project from `mlgate plugin new`, each
//! built for wasm32-wasip2 with cargo, pinned with `mlgate plugin pin`, and
//! run in a pipeline through the real binary.
//!
//! The guest builds share `target/e2e-plugins` so dependencies compile once
//! (the first run takes about a minute; later runs only check freshness).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use crate::harness::{mlgate, repo_root, run, temp_dir};

/// One guest build at a time (cargo would serialise on its lock anyway).
static BUILD: Mutex<()> = Mutex::new(());

/// `cargo build --target wasm32-wasip2 --release` of the crate at `manifest`;
/// returns the `.wasm`.
pub fn build_guest(manifest: &Path, lib_name: &str) -> PathBuf {
    let _guard = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    let target = repo_root().join("target").join("e2e-plugins");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["build", "--quiet", "--release", "--target", "wasm32-wasip2"])
        .arg("--manifest-path")
        .arg(manifest)
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("RUSTFLAGS")
        .output()
        .expect("spawn cargo");
    assert!(
        out.status.success(),
        "building {} failed:\n{}",
        manifest.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let wasm = target
        .join("wasm32-wasip2/release")
        .join(format!("{lib_name}.wasm"));
    assert!(wasm.exists(), "{} was not produced", wasm.display());
    wasm
}

/// The `sha256:` value `mlgate plugin pin` prints for `wasm`.
pub fn pin(wasm: &Path) -> String {
    let (code, stdout, stderr) = run(mlgate().args(["plugin", "pin"]).arg(wasm));
    assert_eq!(code, 0, "{stderr}");
    let line = stdout.trim();
    let sha = line
        .strip_prefix("sha256: ")
        .unwrap_or_else(|| panic!("pin printed {line:?}"));
    assert_eq!(sha.len(), 64, "{line}");
    sha.to_string()
}

/// `mlgate run` of `dir/mlgate.yaml` with `--project dir`, as JSON.
pub fn run_pipeline(dir: &Path) -> (i32, serde_json::Value, String) {
    let mut cmd = mlgate();
    cmd.arg("run")
        .arg(dir.join("mlgate.yaml"))
        .arg("--project")
        .arg(dir)
        .args(["--format", "json", "--quiet"]);
    let (code, stdout, stderr) = run(&mut cmd);
    let json = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\n{stderr}"));
    (code, json, stderr)
}

fn example_wasm() -> PathBuf {
    build_guest(
        &repo_root().join("examples/custom-plugin/Cargo.toml"),
        "hparam_ranges",
    )
}

/// A project with the example plugin, its policy and training configs, and a
/// pipeline that checks `config` (a file or directory in the project).
fn hparam_project(config: &str) -> tempfile::TempDir {
    let dir = temp_dir();
    let wasm = example_wasm();
    std::fs::copy(&wasm, dir.path().join("hparam_ranges.wasm")).unwrap();
    let data = repo_root().join("examples/custom-plugin/testdata");
    std::fs::create_dir_all(dir.path().join("configs")).unwrap();
    for name in ["train-ok.yaml", "train-bad.yaml", "train-bad.json"] {
        std::fs::copy(data.join(name), dir.path().join("configs").join(name)).unwrap();
    }
    std::fs::copy(
        data.join("approved-ranges.yaml"),
        dir.path().join("approved-ranges.yaml"),
    )
    .unwrap();
    let sha = pin(&dir.path().join("hparam_ranges.wasm"));
    let pipeline = format!(
        "version: 1\nname: hparams\ngates:\n  hyperparameters:\n    stage: training\n    \
         plugin: hparam_ranges.wasm\n    sha256: {sha}\n    \
         inputs: {{ config: {config}, policy: approved-ranges.yaml }}\n"
    );
    std::fs::write(dir.path().join("mlgate.yaml"), pipeline).unwrap();
    dir
}

fn findings(report: &serde_json::Value) -> Vec<(String, String, u64)> {
    report["gates"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["location"]["path"].as_str().unwrap_or("").to_string(),
                f["location"]["line"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

#[test]
fn example_gate_passes_an_approved_training_config() {
    let dir = hparam_project("configs/train-ok.yaml");
    let (code, report, stderr) = run_pipeline(dir.path());
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    assert_eq!(report["gates"][0]["status"], "pass");
    assert_eq!(report["gates"][0]["findings"], serde_json::json!([]));
}

#[test]
fn example_gate_reports_each_value_out_of_range_with_its_line() {
    let dir = hparam_project("configs");
    let (code, report, stderr) = run_pipeline(dir.path());
    assert_eq!(code, 1, "{report:#}\n{stderr}");
    assert_eq!(report["gates"][0]["status"], "fail");
    let mut got = findings(&report);
    got.sort();
    let yaml = "configs/train-bad.yaml".to_string();
    let json = "configs/train-bad.json".to_string();
    let want = vec![
        ("hparam-missing".to_string(), yaml.clone(), 2),
        ("hparam-not-allowed".to_string(), yaml.clone(), 4),
        ("hparam-out-of-range".to_string(), json.clone(), 6),
        ("hparam-out-of-range".to_string(), json.clone(), 8),
        ("hparam-out-of-range".to_string(), yaml.clone(), 5),
        ("hparam-out-of-range".to_string(), yaml.clone(), 12),
        ("hparam-wrong-type".to_string(), yaml.clone(), 7),
    ];
    assert_eq!(got, want, "{report:#}");
    let lr = report["gates"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["location"]["line"] == 5)
        .unwrap();
    assert_eq!(lr["properties"]["value"], "0.5");
    assert!(
        lr["message"].as_str().unwrap().contains("diverged"),
        "{lr:#}"
    );
}

#[test]
fn example_gate_with_a_wrong_pin_is_not_run() {
    let dir = hparam_project("configs/train-ok.yaml");
    let pipeline = dir.path().join("mlgate.yaml");
    let text = std::fs::read_to_string(&pipeline).unwrap();
    let sha = pin(&dir.path().join("hparam_ranges.wasm"));
    std::fs::write(&pipeline, text.replace(&sha, &"0".repeat(64))).unwrap();
    let mut cmd = mlgate();
    cmd.arg("run")
        .arg(&pipeline)
        .arg("--project")
        .arg(dir.path())
        .args(["--format", "json", "--quiet"]);
    let (code, stdout, stderr) = run(&mut cmd);
    assert_ne!(code, 0, "{stdout}\n{stderr}");
    assert!(
        format!("{stdout}{stderr}").contains("sha256"),
        "{stdout}\n{stderr}"
    );
}

/// `mlgate plugin new NAME` in a fresh directory; returns the project dir.
fn plugin_new(parent: &Path, name: &str, lang: &str) -> PathBuf {
    let dir = parent.join(name);
    let (code, stdout, stderr) = run(mlgate()
        .args(["plugin", "new", name, "--lang", lang, "--dir"])
        .arg(&dir));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("created"), "{stdout}");
    dir
}

/// A project holding `src/train.py` with the sample rule's forbidden word on
/// line 2 and a clean `src/ok.py`, and a pipeline running `wasm` (copied in
/// and pinned) as gate `gate_id` on `src`. Runs it, checks that the gate
/// failed, and returns the report and that gate's report.
fn forbidden_word_pipeline(
    work: &Path,
    wasm: &Path,
    gate_id: &str,
) -> (serde_json::Value, serde_json::Value) {
    let file = wasm.file_name().unwrap().to_string_lossy().into_owned();
    std::fs::create_dir_all(work.join("src")).unwrap();
    std::fs::copy(wasm, work.join(&file)).unwrap();
    std::fs::write(
        work.join("src/train.py"),
        "lr = 0.1\nsteps = 10  # DO-NOT-SHIP\n",
    )
    .unwrap();
    std::fs::write(work.join("src/ok.py"), "print('fine')\n").unwrap();
    let sha = pin(&work.join(&file));
    std::fs::write(
        work.join("mlgate.yaml"),
        format!(
            "version: 1\nname: custom\ngates:\n  {gate_id}:\n    stage: pre-commit\n    \
             plugin: {file}\n    sha256: {sha}\n    inputs: {{ paths: src }}\n"
        ),
    )
    .unwrap();
    let (code, report, stderr) = run_pipeline(work);
    assert_eq!(code, 1, "{report:#}\n{stderr}");
    let gate = report["gates"][0].clone();
    assert_eq!(gate["status"], "fail", "{gate:#}");
    (report, gate)
}

#[test]
fn plugin_new_rust_project_tests_builds_pins_and_runs_in_a_pipeline() {
    let tmp = temp_dir();
    let project = plugin_new(tmp.path(), "house-rules", "rust");
    for file in [
        "Cargo.toml",
        "README.md",
        "src/lib.rs",
        "src/scan.rs",
        "wit/gate.wit",
        "sdk/src/lib.rs",
    ] {
        assert!(project.join(file).is_file(), "{file} missing");
    }
    // The workspace's lock file keeps dependency versions identical to the
    // ones already built (a real user resolves them from crates.io).
    std::fs::copy(repo_root().join("Cargo.lock"), project.join("Cargo.lock")).unwrap();
    let manifest = project.join("Cargo.toml");

    // The sample rule's own unit test, natively.
    let _guard = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(&cargo)
        .args(["test", "--quiet", "--manifest-path"])
        .arg(&manifest)
        .env("CARGO_TARGET_DIR", repo_root().join("target/e2e-plugins"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("1 passed"), "{stdout}");
    drop(_guard);

    let wasm = build_guest(&manifest, "house_rules");
    let work = tmp.path().join("work");
    let (report, _) = forbidden_word_pipeline(&work, &wasm, "house-rules");
    assert_eq!(
        findings(&report),
        vec![("forbidden-word".to_string(), "src/train.py".to_string(), 2)]
    );
}

#[test]
fn plugin_new_refuses_bad_names_and_existing_directories() {
    let tmp = temp_dir();
    let (code, _, stderr) = run(mlgate()
        .args(["plugin", "new", "Bad_Name", "--dir"])
        .arg(tmp.path().join("x")));
    assert_eq!(code, 2);
    assert!(stderr.contains("invalid plugin name"), "{stderr}");
    let (code, _, stderr) = run(mlgate()
        .args(["plugin", "new", "ok", "--dir"])
        .arg(tmp.path()));
    assert_eq!(code, 2);
    assert!(stderr.contains("already exists"), "{stderr}");
}

/// componentize-py, installed with pip into `target/venv-componentize-py`
/// on first use (the version `mlgate plugin new --lang python` documents).
/// No network to the package index is a test failure, not a skip.
fn componentize_py() -> PathBuf {
    static INSTALL: Mutex<()> = Mutex::new(());
    let _guard = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let source = std::fs::read_to_string(repo_root().join("runner/src/cli/plugin_new.rs")).unwrap();
    let version = source
        .lines()
        .find_map(|l| l.strip_prefix("pub const COMPONENTIZE_PY_VERSION: &str = \""))
        .and_then(|rest| rest.strip_suffix("\";"))
        .expect("COMPONENTIZE_PY_VERSION in plugin_new.rs");
    let venv = repo_root().join("target/venv-componentize-py");
    let exe = venv.join("bin/componentize-py");
    let installed = Command::new(&exe)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains(version))
        .unwrap_or(false);
    if !installed {
        let started = std::time::Instant::now();
        let out = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .output()
            .expect("python3 is needed for the Python plugin test");
        assert!(
            out.status.success(),
            "python3 -m venv: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .arg(format!("componentize-py=={version}"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pip install componentize-py=={version} failed (the Python plugin test needs the package index):\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!(
            "installed componentize-py {version} in {:.1?}",
            started.elapsed()
        );
    }
    exe
}

#[test]
fn python_plugin_from_plugin_new_builds_pins_and_fails_a_pipeline() {
    let tmp = temp_dir();
    let project = plugin_new(tmp.path(), "py-rules", "python");
    let wasm = project.join("py_rules.wasm");
    let componentize = componentize_py();
    let started = std::time::Instant::now();
    let out = Command::new(&componentize)
        .current_dir(&project)
        .args(["-d", "wit", "-w", "gate", "componentize", "app", "-o"])
        .arg(&wasm)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("componentize-py build: {:.1?}", started.elapsed());

    // The sample rule's own unit test, natively, as the README says.
    let out = Command::new(&componentize)
        .current_dir(&project)
        .args(["-d", "wit", "-w", "gate", "bindings", "bindings"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new("python3")
        .current_dir(&project)
        .env("PYTHONPATH", "bindings")
        .args(["-m", "unittest", "-v", "test_app"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && text.contains("OK"), "{text}");

    // CPython imports wasi:sockets: linked denied, and inspect says so.
    let (code, stdout, stderr) = run(mlgate().args(["plugin", "inspect", "--json"]).arg(&wasm));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["name"], "py-rules");
    assert_eq!(doc["wit"], "mlgate:gate@0.1.0");
    let caps = doc["capabilities"].as_array().unwrap();
    assert!(
        caps.iter().any(
            |c| c["import"].as_str().unwrap().starts_with("wasi:sockets/")
                && c["access"] == "denied"
        ),
        "{caps:#?}"
    );
    assert!(caps.iter().all(|c| c["access"] != "refused"), "{caps:#?}");

    let work = tmp.path().join("work");
    let (report, gate) = forbidden_word_pipeline(&work, &wasm, "py-rules");
    eprintln!(
        "python gate run (compiled component cached after first load): {} ms",
        gate["duration_ms"]
    );
    assert_eq!(
        findings(&report),
        vec![("forbidden-word".to_string(), "src/train.py".to_string(), 2)]
    );

    // A changed plugin no longer matches its pin and is not run.
    let mut bytes = std::fs::read(work.join("py_rules.wasm")).unwrap();
    bytes.extend_from_slice(b"\0");
    std::fs::write(work.join("py_rules.wasm"), bytes).unwrap();
    let (code, report, stderr) = run_pipeline(&work);
    assert_ne!(code, 0, "{report:#}\n{stderr}");
    let gate = &report["gates"][0];
    assert_eq!(gate["status"], "error", "{gate:#}");
    assert!(
        gate["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("does not match its pin"),
        "{gate:#}"
    );
    assert!(gate["findings"].as_array().unwrap().is_empty(), "{gate:#}");
}
