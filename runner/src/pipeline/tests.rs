//! What a valid pipeline turns into: defaults, overrides, resolved paths,
//! `with:` as JSON, plugin refs.

use std::path::Path;
use std::time::Duration;

use serde_json::json;

use crate::model::{FailOn, PluginRef, Severity, Stage};

use super::{load, parse_str};

#[test]
fn valid_pipeline_resolves_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().canonicalize().unwrap();
    std::fs::create_dir_all(project.join("data")).unwrap();
    std::fs::write(project.join("data/train.csv"), "a\n").unwrap();
    std::fs::create_dir_all(project.join("pipelines/plugins")).unwrap();
    std::fs::write(project.join("pipelines/plugins/x.wasm"), "\0asm").unwrap();
    let file = project.join("pipelines/p.yaml");
    std::fs::write(
        &file,
        "version: 1\ndefaults: { fail_on: medium, limits: { memory: 1GiB } }\ntickets: [{ kind: file }]\ngates:\n  d:\n    stage: training\n    plugin: builtin:provenance\n    inputs: { dataset: ./data/train.csv }\n    outputs: { out: reports/d }\n    with: { n: 3, f: 0.5, b: true, s: x, l: [1, two], m: { k: ~ } }\n    limits: { timeout: 2m }\n  h:\n    stage: deployment\n    plugin: plugins/x.wasm\n    sha256: sha256:93A44BBB96C751218E4C00D479E4C14358122A389ACCA16205B1E4D0DC5F9476\n    needs: [d]\n    fail_on: never\n",
    )
    .unwrap();
    let p = load(&file, Some(&project), &["provenance"]).unwrap();
    assert_eq!(p.name, "p");
    assert_eq!(p.project_dir, project);
    assert_eq!(p.tickets, vec![json!({"kind": "file"})]);
    let d = &p.gates[0];
    assert_eq!((d.id.as_str(), d.stage), ("d", Stage::Training));
    assert_eq!(
        d.plugin,
        PluginRef::Builtin {
            name: "provenance".into()
        }
    );
    assert_eq!(d.inputs[0].path, project.join("data/train.csv"));
    assert_eq!(d.inputs[0].declared, "./data/train.csv");
    assert_eq!(d.outputs[0].path, project.join("reports/d"));
    assert_eq!(
        d.config,
        json!({"n": 3, "f": 0.5, "b": true, "s": "x", "l": [1, "two"], "m": {"k": null}})
    );
    assert_eq!(d.limits.memory_bytes, 1 << 30);
    assert_eq!(d.limits.timeout, Duration::from_secs(120));
    assert_eq!(d.fail_on, FailOn::At(Severity::Medium));
    assert_eq!((d.position.line, d.position.column), (5, 3));
    let h = &p.gates[1];
    assert_eq!(
        h.plugin,
        PluginRef::File {
            path: project.join("pipelines/plugins/x.wasm"),
            sha256: "93a44bbb96c751218e4c00d479e4c14358122a389acca16205b1e4d0dc5f9476".into()
        }
    );
    assert_eq!(h.needs, ["d"]);
    assert_eq!(h.fail_on, FailOn::Never);
    assert_eq!(h.config, json!({}));
}

#[test]
fn defaults_apply_when_absent() {
    let p = parse_str(
        "version: 1\ngates:\n  g: { stage: pre-commit, plugin: 'builtin:x' }\n",
        Path::new("dir/named.yaml"),
        Path::new("/"),
        &["x"],
        false,
    )
    .unwrap();
    assert_eq!(p.name, "named");
    assert_eq!(p.gates[0].fail_on, FailOn::At(Severity::High));
    assert_eq!(p.gates[0].limits, crate::model::Limits::default());
}

#[test]
fn symlink_out_of_the_project_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    std::fs::create_dir_all(root.join("proj")).unwrap();
    std::fs::write(root.join("secret"), "s").unwrap();
    std::os::unix::fs::symlink(root.join("secret"), root.join("proj/link")).unwrap();
    let text =
        "version: 1\ngates:\n  g: { stage: training, plugin: 'builtin:x', inputs: { a: link } }\n";
    let err = parse_str(text, Path::new("p.yaml"), &root.join("proj"), &["x"], true)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("input `a` is outside the project directory: `link`"),
        "{err}"
    );
    let allowed = text.replace("version: 1", "version: 1\nallow_outside_project: true");
    let p = parse_str(
        &allowed,
        Path::new("p.yaml"),
        &root.join("proj"),
        &["x"],
        true,
    )
    .unwrap();
    assert_eq!(p.gates[0].inputs[0].path, root.join("secret"));
}

#[test]
fn unreadable_file_is_a_diagnostic() {
    let err = load(Path::new("/nonexistent/p.yaml"), None, &[]).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("error: cannot read pipeline file"),
        "{err}"
    );
}

fn err_of(text: &str) -> String {
    match parse_str(text, Path::new("p.yaml"), Path::new("/"), &["x"], false) {
        Ok(_) => "<ok>".into(),
        Err(e) => e.to_string(),
    }
}

#[test]
fn odd_documents_are_located_errors() {
    let cases = [
        ("", "error: the pipeline has no `version`\n --> p.yaml:1:1"),
        (
            "- a\n",
            "error: invalid type: sequence, expected a mapping\n --> p.yaml:1:1",
        ),
        (
            "version: 1\ngates: [a]\n",
            "expected a mapping (in `gates`)\n --> p.yaml:2:8",
        ),
        (
            "version: '1'\n",
            "error: unsupported pipeline version `'1'`\n --> p.yaml:1:10",
        ),
        ("version: 1\n---\nversion: 1\n", "more than one document"),
        (
            "version: 1\ntickets: nope\n",
            "expected a sequence (in `tickets`)\n --> p.yaml:2:10",
        ),
        (
            "version: 1\ngates:\n  g:\n\tstage: training\n",
            "= help: indent with spaces: YAML does not allow tabs",
        ),
        (
            "version: 1\ngates:\n  g: { stage: x, plugin: 'builtin:y' }\n  h: { stage: training, plugin: 'builtin:x', needs: g }\n",
            "unknown stage `x`",
        ),
    ];
    for (text, expected) in cases {
        let err = err_of(text);
        assert!(err.contains(expected), "{text:?}:\n{err}");
    }
}

#[test]
fn aliases_and_single_needs_are_accepted() {
    let ok = "version: 1\ngates:\n  g: &a { stage: training, plugin: 'builtin:x' }\n  h: *a\n  i: { stage: training, plugin: 'builtin:x', needs: g }\n";
    assert_eq!(err_of(ok), "<ok>");
    let bad = "version: 1\ngates:\n  g: { stage: training, plugin: 'builtin:x', needs: q }\n";
    assert!(
        err_of(bad).contains("unknown gate `q` in `needs`\n --> p.yaml:3:53"),
        "{}",
        err_of(bad)
    );
}
