//! Where mlgate runs (issue 7), through the real binary: SARIF validated
//! against the official 2.1.0 schema, the GitHub Actions console format with
//! its job summary and step outputs, gate failure tickets (file sink and a
//! webhook on a loopback server; `--dry-run` files nothing), `mlgate export`
//! golden files (refresh with `MLGATE_BLESS=1`) and `mlgate hook install`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use crate::harness::{mlgate, repo_root, run, shared_data, temp_dir};

/// A git repository holding the demo project with `data/train.csv`
/// tampered, so the provenance gate fails with a finding in that file.
fn tampered_project(extra_yaml: &str) -> tempfile::TempDir {
    let dir = temp_dir();
    let demo = repo_root().join("examples/demo");
    for sub in ["data", "manifests"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        for e in std::fs::read_dir(demo.join(sub)).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), dir.path().join(sub).join(e.file_name())).unwrap();
        }
    }
    let mut csv = std::fs::read_to_string(dir.path().join("data/train.csv")).unwrap();
    csv.push_str("9,9,9\n");
    std::fs::write(dir.path().join("data/train.csv"), csv).unwrap();
    std::fs::write(
        dir.path().join("mlgate.yaml"),
        format!(
            "version: 1\nname: tampered\ngates:\n  data-provenance:\n    stage: training\n    plugin: builtin:provenance\n    inputs: {{ dataset: data, manifest: manifests/data.sha256 }}\n  downstream:\n    stage: deployment\n    needs: [data-provenance]\n    plugin: builtin:provenance\n    inputs: {{ dataset: data, manifest: manifests/data.sha256 }}\n{extra_yaml}"
        ),
    )
    .unwrap();
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(dir.path())
            .args(args)
            .output()
            .unwrap()
    };
    git(&["init", "-q"]);
    dir
}

fn run_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let mut cmd = mlgate();
    cmd.current_dir(dir).arg("run").args(args).arg("--quiet");
    run(&mut cmd)
}

#[test]
fn sarif_from_a_failing_pipeline_validates_and_points_into_the_repo() {
    let dir = tampered_project("");
    let (code, stdout, stderr) = run_in(dir.path(), &["--format", "sarif"]);
    assert_eq!(code, 1, "{stderr}");
    let sarif: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let schema_path = shared_data().join("schemas/sarif-schema-2.1.0.json");
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&schema_path)
            .unwrap_or_else(|e| panic!("missing {} ({e})", schema_path.display())),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let run = &sarif["runs"][0];
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    assert!(
        results.iter().any(
            |r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                == "data/train.csv"
        ),
        "{stdout}"
    );
    // Rules come from the plugin's describe(): real help text.
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(
        rules
            .iter()
            .all(|r| r["id"].as_str().unwrap().starts_with("provenance/"))
    );
    assert!(
        rules
            .iter()
            .all(|r| !r["help"]["text"].as_str().unwrap().is_empty())
    );
    // Each rule's security-severity follows the plugin's declared default
    // severity (as `plugin inspect` reports it), not a fallback.
    let (code, inspect, stderr) =
        crate::harness::run(mlgate().args(["plugin", "inspect", "provenance", "--json"]));
    assert_eq!(code, 0, "{stderr}");
    let inspect: serde_json::Value = serde_json::from_str(&inspect).unwrap();
    let declared: std::collections::HashMap<String, String> = inspect["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                format!("provenance/{}", r["id"].as_str().unwrap()),
                r["default_severity"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(declared.values().any(|s| s == "critical"), "{declared:?}");
    for r in rules {
        let id = r["id"].as_str().unwrap();
        let expected = match declared[id].as_str() {
            "critical" => "9.5",
            "high" => "8.0",
            "medium" => "5.5",
            "low" => "3.0",
            _ => "1.0",
        };
        assert_eq!(r["properties"]["security-severity"], expected, "{id}");
    }
    for r in results {
        let fp = r["partialFingerprints"]["mlgateFingerprint/v1"]
            .as_str()
            .unwrap();
        assert!(
            fp.len() >= 16 && fp.chars().all(|c| c.is_ascii_hexdigit()),
            "{fp}"
        );
    }
}

#[test]
fn github_actions_mode_annotates_and_writes_summary_and_outputs() {
    let dir = tampered_project("");
    let summary = dir.path().join("summary.md");
    let outputs = dir.path().join("outputs.txt");
    let mut cmd = mlgate();
    cmd.current_dir(dir.path())
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &outputs)
        .args(["run", "--format", "sarif", "--output", "mlgate.sarif"]);
    let (code, stdout, stderr) = run(&mut cmd);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stdout.contains("::group::mlgate data-provenance [training] fail"),
        "{stdout}"
    );
    assert!(stdout.contains("::endgroup::"));
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("::error file=data/train.csv")),
        "{stdout}"
    );
    let summary = std::fs::read_to_string(summary).unwrap();
    assert!(summary.contains("```mermaid"), "{summary}");
    assert!(summary.contains("| `downstream` |"), "{summary}");
    let outputs = std::fs::read_to_string(outputs).unwrap();
    assert!(outputs.contains("status=fail\n"), "{outputs}");
    assert!(outputs.contains("skipped=1\n"), "{outputs}");
    assert!(outputs.contains("report=mlgate.sarif\n"), "{outputs}");
    assert!(dir.path().join("mlgate.sarif").exists());
}

#[test]
fn markdown_format_renders_the_summary() {
    let dir = tampered_project("");
    let (code, stdout, _) = run_in(dir.path(), &["--format", "markdown"]);
    assert_eq!(code, 1);
    assert!(
        stdout.starts_with("## mlgate: pipeline `tampered` ❌ failed"),
        "{stdout}"
    );
    assert!(stdout.contains("### Findings by gate"));
    assert!(stdout.contains("Commit `(none yet)` on `"), "{stdout}");
}

/// A webhook receiver on 127.0.0.1 answering 200 to `max` requests.
fn webhook(max: usize) -> (String, Arc<Mutex<Vec<serde_json::Value>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = got.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming().take(max) {
            let Ok(conn) = conn else { continue };
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut len = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; len];
            reader.read_exact(&mut body).unwrap();
            g.lock()
                .unwrap()
                .push(serde_json::from_slice(&body).unwrap());
            let mut conn = conn;
            let _ = conn
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    (url, got)
}

#[test]
fn tickets_are_filed_once_per_failed_gate_and_skipped_on_dry_run() {
    let (url, got) = webhook(10);
    let dir = tampered_project(&format!(
        "tickets:\n  - {{ sink: file, path: .mlgate/tickets }}\n  - {{ sink: webhook, url: \"{url}\" }}\n"
    ));
    let tickets = dir.path().join(".mlgate/tickets");
    let (code, stdout, stderr) = run_in(dir.path(), &["--dry-run", "--format", "json"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(!tickets.exists(), "a dry run files nothing");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let skipped = report["skipped_side_effects"].to_string();
    assert!(
        skipped.contains("ticket to file .mlgate/tickets: mlgate:"),
        "{skipped}"
    );
    assert!(got.lock().unwrap().is_empty());
    for _ in 0..2 {
        let (code, _, stderr) = run_in(dir.path(), &["--format", "json"]);
        assert_eq!(code, 1, "{stderr}");
        assert!(!stderr.contains("could not be filed"), "{stderr}");
    }
    let files: Vec<_> = std::fs::read_dir(&tickets).unwrap().collect();
    assert_eq!(
        files.len(),
        2,
        "one .md + one .json for the one failed gate"
    );
    let posts = got.lock().unwrap().clone();
    assert_eq!(posts.len(), 2, "one POST per run: {posts:?}");
    assert_eq!(posts[0]["action"], "opened");
    assert_eq!(posts[1]["action"], "recurred");
    assert_eq!(posts[0]["ticket"]["gate"], "data-provenance");
    let body = posts[0]["ticket"]["body"].as_str().unwrap();
    assert!(
        body.contains("mlgate run mlgate.yaml --only data-provenance"),
        "{body}"
    );
    assert!(body.contains("`data/train.csv"), "{body}");
}

#[test]
fn invalid_tickets_config_is_a_usage_error() {
    let dir = tampered_project("tickets:\n  - { sink: jira, url: x }\n");
    let (code, _, stderr) = run_in(dir.path(), &["--format", "json"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("tickets[0]: unknown sink `jira`"),
        "{stderr}"
    );
}

fn golden(name: &str, actual: &str) {
    let path = repo_root().join("tests/golden").join(name);
    if std::env::var_os("MLGATE_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{} ({e}); run with MLGATE_BLESS=1 to create it",
            path.display()
        )
    });
    assert_eq!(
        actual, expected,
        "{name} differs; if intended, refresh with MLGATE_BLESS=1"
    );
}

fn export(target: &str) -> String {
    let root = repo_root();
    let mut cmd = mlgate();
    cmd.current_dir(&root).args([
        "export",
        target,
        "tests/golden/export-pipeline.yaml",
        "--project",
        "examples/demo",
    ]);
    let (code, stdout, stderr) = run(&mut cmd);
    assert_eq!(code, 0, "{stderr}");
    stdout
}

#[test]
fn no_needs_runs_only_the_named_gate() {
    let dir = tampered_project("");
    let gates = |args: &[&str]| {
        let (code, stdout, stderr) = run_in(dir.path(), args);
        let json: serde_json::Value =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
        let ids: Vec<String> = json["gates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["id"].as_str().unwrap().to_string())
            .collect();
        (code, ids)
    };
    let (_, ids) = gates(&["--format", "json", "--only", "downstream"]);
    assert_eq!(ids, ["data-provenance", "downstream"]);
    let (_, ids) = gates(&["--format", "json", "--only", "downstream", "--no-needs"]);
    // Every report carries the git context (a fresh repository: no commit).
    let (_, stdout, _) = run_in(dir.path(), &["--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["git"]["commit"], serde_json::Value::Null, "{json}");
    assert!(json["git"]["branch"].is_string(), "{json}");
    assert_eq!(json["git"]["dirty"], false);
    assert_eq!(ids, ["downstream"]);
    let (code, _, stderr) = run_in(dir.path(), &["--no-needs"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--only"), "{stderr}");
}

#[test]
fn export_github_actions_matches_golden() {
    let text = export("github-actions");
    assert!(
        text.contains("needs: [data-provenance, data_copy]"),
        "{text}"
    );
    golden("export-github-actions.yml", &text);
}

#[test]
fn export_argo_matches_golden() {
    let text = export("argo");
    assert!(
        text.contains("dependencies: ['data-provenance', 'data-copy']"),
        "{text}"
    );
    golden("export-argo.yaml", &text);
}

#[test]
fn hook_install_writes_an_executable_pre_commit_hook_and_keeps_foreign_ones() {
    let dir = temp_dir();
    Command::new("git")
        .arg("-C")
        .arg(dir.path())
        .args(["init", "-q"])
        .output()
        .unwrap();
    let install = |extra: &[&str]| {
        let mut cmd = mlgate();
        cmd.args(["hook", "install", "--repo"])
            .arg(dir.path())
            .args(extra);
        run(&mut cmd)
    };
    let hook: PathBuf = dir.path().join(".git/hooks/pre-commit");
    let (code, _, stderr) = install(&[]);
    assert_eq!(code, 0, "{stderr}");
    let text = std::fs::read_to_string(&hook).unwrap();
    assert!(
        text.starts_with("#!/bin/sh\n") && text.contains("mlgate run --stage pre-commit"),
        "{text}"
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&hook).unwrap().permissions().mode() & 0o111,
        0o111
    );
    assert_eq!(install(&[]).0, 0, "reinstalling mlgate's own hook is fine");
    std::fs::write(&hook, "#!/bin/sh\necho mine\n").unwrap();
    let (code, _, stderr) = install(&[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--force"), "{stderr}");
    assert_eq!(install(&["--force"]).0, 0);
}

/// actionlint checks workflows, not action metadata: check `action.yml` here
/// (a composite action whose `run` steps name a shell, whose expressions and
/// outputs refer to inputs and steps that exist), and that the example
/// workflows pass only inputs the action declares.
#[test]
fn action_yml_is_a_well_formed_composite_action_and_the_examples_use_its_inputs() {
    let root = repo_root();
    let text = std::fs::read_to_string(root.join("action.yml")).unwrap();
    let action: serde_json::Value = serde_yaml_ng::from_str(&text).unwrap();
    assert_eq!(action["runs"]["using"], "composite");
    let inputs: Vec<String> = action["inputs"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let steps = action["runs"]["steps"].as_array().unwrap();
    let ids: Vec<&str> = steps.iter().filter_map(|s| s["id"].as_str()).collect();
    for step in steps {
        if step.get("run").is_some() {
            assert!(
                step["shell"].is_string(),
                "composite `run` steps need `shell`: {step}"
            );
        }
    }
    for (i, _) in text.match_indices("inputs.") {
        let name: String = text[i + 7..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        assert!(
            inputs.contains(&name),
            "action.yml uses undeclared input `{name}`"
        );
    }
    for (i, _) in text.match_indices("steps.") {
        let id: String = text[i + 6..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        assert!(
            ids.contains(&id.as_str()),
            "action.yml refers to unknown step `{id}`"
        );
    }
    for entry in std::fs::read_dir(root.join("examples/github-actions")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yml") {
            continue;
        }
        let wf: serde_json::Value =
            serde_yaml_ng::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for job in wf["jobs"].as_object().unwrap().values() {
            for step in job["steps"].as_array().unwrap() {
                if step["uses"]
                    .as_str()
                    .is_some_and(|u| u.contains("/mlgate@"))
                {
                    for key in step["with"]
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(k, _)| k)
                    {
                        assert!(
                            inputs.contains(key),
                            "{}: unknown input `{key}`",
                            path.display()
                        );
                    }
                }
            }
        }
    }
}
