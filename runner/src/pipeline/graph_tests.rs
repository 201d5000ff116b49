//! Tests of `crate::graph` on pipelines parsed from YAML (the graph module
//! is built from validated pipelines, so this is how it is used).

use std::path::Path;

use crate::graph;
use crate::model::{Pipeline, Stage};

use super::parse_str;

const BUILTINS: &[&str] = &["a", "b"];

fn pipeline(gates: &str) -> Pipeline {
    let text = format!("version: 1\ngates:\n{gates}");
    parse_str(&text, Path::new("p.yaml"), Path::new("/"), BUILTINS, false)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// pre-commit: deps; training: data, clean (needs data);
/// deployment: scan (needs deps), sign (needs scan), report (needs clean, sign).
const SIX: &str = "
  deps: { stage: pre-commit, plugin: 'builtin:a' }
  data: { stage: training, plugin: 'builtin:a' }
  clean: { stage: training, plugin: 'builtin:a', needs: [data] }
  scan: { stage: deployment, plugin: 'builtin:b', needs: [deps] }
  sign: { stage: deployment, plugin: 'builtin:b', needs: [scan, scan] }
  report: { stage: deployment, plugin: 'builtin:b', needs: [clean, sign] }
";

fn ids(p: &Pipeline, gates: &[usize]) -> Vec<String> {
    gates.iter().map(|&g| p.gates[g].id.clone()).collect()
}

#[test]
fn select_follows_needs_transitively() {
    let p = pipeline(SIX);
    let g = graph::build(&p).unwrap();
    assert_eq!(g.select(None, &[]).unwrap().len(), 6);
    let only = g.select(None, &["sign".into()]).unwrap();
    assert_eq!(ids(&p, &only), ["deps", "scan", "sign"]);
    let stage = g.select(Some(Stage::Training), &[]).unwrap();
    assert_eq!(ids(&p, &stage), ["data", "clean"]);
    let stage = g.select(Some(Stage::Deployment), &[]).unwrap();
    assert_eq!(stage.len(), 6, "report needs clean, which needs data");
    let err = g.select(None, &["sing".into()]).unwrap_err();
    assert!(
        err.contains("unknown gate `sing`") && err.contains("deps, data"),
        "{err}"
    );
    let err = g
        .select(Some(Stage::Training), &["scan".into()])
        .unwrap_err();
    assert!(err.contains("stage `deployment`"), "{err}");
}

#[test]
fn select_exact_takes_only_the_named_gates() {
    let p = pipeline(SIX);
    let g = graph::build(&p).unwrap();
    let only = g
        .select_exact(None, &["sign".into(), "report".into(), "sign".into()])
        .unwrap();
    assert_eq!(ids(&p, &only), ["sign", "report"]);
    assert!(g.select_exact(None, &[]).unwrap_err().contains("--only"));
    assert!(g.select_exact(None, &["nope".into()]).is_err());
    // Needs outside the selection count as done: one level.
    assert_eq!(g.levels(&only).len(), 2, "report still waits for sign");
    let single = g.select_exact(None, &["report".into()]).unwrap();
    assert_eq!(g.levels(&single), vec![single.clone()]);
}

#[test]
fn levels_honour_stage_barrier_then_needs() {
    let p = pipeline(SIX);
    let g = graph::build(&p).unwrap();
    let levels: Vec<Vec<String>> = g
        .levels(&g.select(None, &[]).unwrap())
        .iter()
        .map(|l| ids(&p, l))
        .collect();
    assert_eq!(
        levels,
        [
            vec!["deps"],
            vec!["data"],
            vec!["clean"],
            vec!["scan"],
            vec!["sign"],
            vec!["report"]
        ]
    );
    // A partial selection treats unselected needs as satisfied.
    let levels = g.levels(&[3, 4]);
    assert_eq!(levels, [vec![3], vec![4]]);
}

#[test]
fn needs_are_deduplicated_and_dependents_transitive() {
    let p = pipeline(SIX);
    let g = graph::build(&p).unwrap();
    assert_eq!(g.needs(4), &[3]);
    assert_eq!(ids(&p, g.needs(5)), ["clean", "sign"]);
    assert_eq!(
        ids(&p, &g.dependents_transitive(0)),
        ["scan", "sign", "report"]
    );
    assert_eq!(ids(&p, &g.dependents_transitive(1)), ["clean", "report"]);
    assert!(g.dependents_transitive(5).is_empty());
}

#[test]
fn parallel_gates_share_a_level() {
    let p = pipeline(
        "  x: { stage: training, plugin: 'builtin:a' }\n  y: { stage: training, plugin: 'builtin:a' }\n  z: { stage: training, plugin: 'builtin:a', needs: [x, y] }\n",
    );
    let g = graph::build(&p).unwrap();
    assert_eq!(g.levels(&[0, 1, 2]), [vec![0, 1], vec![2]]);
}

#[test]
fn cycles_print_the_loop() {
    let text = "version: 1\ngates:\n  a: { stage: training, plugin: 'builtin:a', needs: [b] }\n  b: { stage: training, plugin: 'builtin:a', needs: [c] }\n  c: { stage: training, plugin: 'builtin:a', needs: [a] }\n  d: { stage: training, plugin: 'builtin:a', needs: [e] }\n  e: { stage: training, plugin: 'builtin:a', needs: [d] }\n";
    let err = parse_str(text, Path::new("p.yaml"), Path::new("/"), BUILTINS, false)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("error: dependency cycle: a -> b -> c -> a\n --> p.yaml:3:54"),
        "{err}"
    );
    assert!(
        err.contains("error: dependency cycle: d -> e -> d\n --> p.yaml:6:54"),
        "{err}"
    );
}

#[test]
fn hand_built_pipelines_are_checked_too() {
    let mut p = pipeline(SIX);
    p.gates[0].needs.push("report".into());
    let err = graph::build(&p).unwrap_err().to_string();
    assert!(
        err.contains("needs `report`, which runs in the later stage"),
        "{err}"
    );
    p.gates[0].needs = vec!["nope".into()];
    assert!(
        graph::build(&p)
            .unwrap_err()
            .to_string()
            .contains("unknown gate `nope`")
    );
}

#[test]
fn exports_mermaid_and_dot() {
    let p = pipeline(SIX);
    let g = graph::build(&p).unwrap();
    let m = g.to_mermaid(&p);
    assert!(m.starts_with("flowchart LR\n  subgraph pre_commit[\"pre-commit\"]\n    g0[\"deps<br/>builtin:a\"]\n  end\n"), "{m}");
    assert!(
        m.contains("  g3 --> g4\n") && m.contains("  g2 --> g5\n"),
        "{m}"
    );
    let d = g.to_dot(&p);
    assert!(d.starts_with("digraph \"p\" {\n  rankdir=LR;\n  subgraph cluster_pre_commit {\n    label=\"pre-commit\";\n"), "{d}");
    assert!(
        d.contains("    \"sign\" [label=\"sign\\nbuiltin:b\"];\n"),
        "{d}"
    );
    assert!(
        d.contains("  \"scan\" -> \"sign\";\n") && d.trim_end().ends_with('}'),
        "{d}"
    );
}
