//! GitHub format tests: escaping, the 10-per-kind cap, groups, step files.

use super::*;
use crate::report::sarif::tests::{context, sample};

#[test]
fn escapes_data_and_properties_per_the_workflow_command_rules() {
    assert_eq!(escape_data("50% a\r\nb"), "50%25 a%0D%0Ab");
    assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
}

#[test]
fn groups_per_gate_and_at_most_ten_annotations_per_kind() {
    let dir = tempfile::tempdir().unwrap();
    let (pipeline, report) = sample(dir.path());
    let graph = crate::graph::build(&pipeline).unwrap();
    let ctx = context(&pipeline, &graph);
    let out = render(&report, &ctx);
    assert_eq!(out.matches("::group::").count(), 3);
    assert_eq!(out.matches("::endgroup::").count(), 3);
    let errors: Vec<&str> = out.lines().filter(|l| l.starts_with("::error ")).collect();
    // 1 gate error + 1 critical + 12 high = 14 errors: 10 shown, 4 counted.
    assert_eq!(errors.len(), MAX_PER_KIND);
    assert!(out.contains("4 more finding(s) not annotated"), "{out}");
    // Most severe first: the gate error, then the critical finding.
    assert!(
        errors[0].contains("file=examples/demo/mlgate.yaml,line=14"),
        "{}",
        errors[0]
    );
    assert!(errors[1].starts_with(
        "::error file=examples/demo/data/train.csv,line=7,title=mlgate dataset%3A poisoned-rows (critical)::"
    ), "{}", errors[1]);
    // Messages keep their text but cannot inject commands.
    assert!(
        errors[1].ends_with("50%25 sure: a,b%0Asecond line"),
        "{}",
        errors[1]
    );
    let warning = out.lines().find(|l| l.starts_with("::warning ")).unwrap();
    assert!(
        warning.contains("file=examples/demo/mlgate.yaml,line=9"),
        "{warning}"
    );
    assert!(out.lines().any(|l| l.starts_with("::notice ")));
    // No raw newline escapes a command: every line is a command or group text.
    assert!(out.lines().all(|l| !l.starts_with("second line")));
}

#[test]
fn outputs_count_what_happened() {
    let (_, report) = sample(tempfile::tempdir().unwrap().path());
    let out: std::collections::BTreeMap<String, String> =
        outputs(&report, Some(Path::new("mlgate.sarif")))
            .into_iter()
            .collect();
    assert_eq!(out["status"], "error");
    assert_eq!(out["failed"], "1");
    assert_eq!(out["errored"], "1");
    assert_eq!(out["passed"], "1");
    assert_eq!(out["findings"], "15");
    assert_eq!(out["high"], "12");
    assert_eq!(out["critical"], "1");
    assert_eq!(out["report"], "mlgate.sarif");
}

#[test]
fn markdown_summary_has_the_table_the_dag_and_findings_by_gate() {
    let dir = tempfile::tempdir().unwrap();
    let (pipeline, report) = sample(dir.path());
    let graph = crate::graph::build(&pipeline).unwrap();
    let md = crate::report::markdown::render(&report, &context(&pipeline, &graph));
    assert!(
        md.contains("| `dataset` | training | `builtin:p-dataset` | ❌ fail |"),
        "{md}"
    );
    assert!(md.contains("```mermaid\nflowchart LR"), "{md}");
    assert!(md.contains("g0 --> g1"), "{md}");
    assert!(md.contains("#### `models` (💥 error)"), "{md}");
    assert!(md.contains("| critical | `poisoned-rows` | poisoned-rows found, 50% sure: a,b second line | `data/train.csv:7` |"), "{md}");
}
