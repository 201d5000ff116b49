//! SARIF tests: the output validates against the official SARIF 2.1.0
//! schema (`../shared/data/schemas/sarif-schema-2.1.0.json`) and carries what
//! GitHub code scanning reads. `sample` is shared with the GitHub and ticket
//! tests.

use std::collections::BTreeMap;
use std::path::Path;

use super::*;
use crate::model::{FailOn, GateSpec, Limits, PluginRef, Position, Stage};
use crate::report::model::FindingLocation;

fn finding(rule: &str, severity: Severity, path: Option<&str>, line: Option<u32>) -> Finding {
    Finding {
        rule_id: rule.into(),
        severity,
        message: format!("{rule} found, 50% sure: a,b\nsecond line"),
        location: path.map(|p| FindingLocation {
            path: p.into(),
            line,
            column: None,
            byte_offset: None,
        }),
        fingerprint: crate::tickets::fingerprint(&[rule, path.unwrap_or("")]),
        properties: BTreeMap::from([("kind".to_string(), "x".to_string())]),
    }
}

fn gate(
    id: &str,
    plugin: &str,
    stage: Stage,
    status: GateStatus,
    findings: Vec<Finding>,
) -> GateReport {
    let mut g = GateReport::skipped(id, plugin, stage, "high".into(), String::new());
    g.status = status;
    g.reason =
        (status == GateStatus::Error).then(|| "timed out after 120s (limits.timeout)".into());
    g.findings = findings;
    g
}

/// A pipeline of three gates in `dir` (with `data/train.csv` present) and a
/// report where `dataset` fails, `models` errors, `deps` passes.
pub(crate) fn sample(dir: &Path) -> (Pipeline, RunReport) {
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(dir.join("data/train.csv"), "a,b\n").unwrap();
    let spec = |id: &str, stage, line, needs: Vec<&str>| GateSpec {
        id: id.into(),
        stage,
        plugin: PluginRef::Builtin {
            name: format!("p-{id}"),
        },
        needs: needs.into_iter().map(String::from).collect(),
        inputs: Vec::new(),
        outputs: Vec::new(),
        config: serde_json::json!({}),
        limits: Limits::default(),
        fail_on: FailOn::At(Severity::High),
        position: Position { line, column: 3 },
    };
    let pipeline = Pipeline {
        name: "demo".into(),
        file: dir.join("mlgate.yaml"),
        project_dir: dir.to_path_buf(),
        gates: vec![
            spec("deps", Stage::PreCommit, 5, vec![]),
            spec("dataset", Stage::Training, 9, vec!["deps"]),
            spec("models", Stage::Deployment, 14, vec!["dataset"]),
        ],
        tickets: Vec::new(),
    };
    let mut many = vec![
        finding(
            "poisoned-rows",
            Severity::Critical,
            Some("data/train.csv"),
            Some(7),
        ),
        finding(
            "label-flip",
            Severity::Medium,
            Some("/mnt/datasets/big.parquet"),
            None,
        ),
        finding("note", Severity::Info, None, None),
    ];
    for i in 0..12 {
        many.push(finding(
            &format!("dup-{i}"),
            Severity::High,
            Some("data/train.csv"),
            Some(i + 1),
        ));
    }
    let report = RunReport {
        status: RunStatus::Error,
        pipeline: "demo".into(),
        mlgate_version: "0.1.0".into(),
        duration_ms: 5,
        dry_run: false,
        skipped_side_effects: Vec::new(),
        interrupted: false,
        expired_suppressions: Vec::new(),
        git: None,
        gates: vec![
            gate(
                "deps",
                "builtin:p-deps",
                Stage::PreCommit,
                GateStatus::Pass,
                vec![],
            ),
            gate(
                "dataset",
                "builtin:p-dataset",
                Stage::Training,
                GateStatus::Fail,
                many,
            ),
            gate(
                "models",
                "builtin:p-models",
                Stage::Deployment,
                GateStatus::Error,
                vec![],
            ),
        ],
    };
    (pipeline, report)
}

/// A context as a repository whose project lives in `examples/demo/`.
pub(crate) fn context<'a>(
    pipeline: &'a Pipeline,
    graph: &'a crate::graph::GateGraph,
) -> Context<'a> {
    let mut rules = RuleCatalog::new();
    rules.insert(
        "p-dataset".into(),
        vec![RuleMeta {
            id: "poisoned-rows".into(),
            severity: Severity::Critical,
            summary: "Rows that look poisoned".into(),
            help: "Remove the rows, or regenerate the dataset from a trusted source.".into(),
        }],
    );
    Context {
        pipeline: Some(pipeline),
        graph: Some(graph),
        rules,
        repo: RepoPaths {
            project_prefix: "examples/demo/".into(),
            pipeline_uri: Some("examples/demo/mlgate.yaml".into()),
            project_dir: Some(pipeline.project_dir.clone()),
        },
    }
}

fn schema() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/schemas/sarif-schema-2.1.0.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "the SARIF 2.1.0 schema is missing at {} ({e}); CI has ../shared/data beside the repository",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap()
}

fn validate(sarif: &Value) {
    let validator = jsonschema::validator_for(&schema()).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF does not validate:\n{}",
        errors.join("\n")
    );
}

#[test]
fn sarif_validates_against_the_2_1_0_schema_and_has_what_code_scanning_reads() {
    let dir = tempfile::tempdir().unwrap();
    let (pipeline, report) = sample(dir.path());
    let graph = crate::graph::build(&pipeline).unwrap();
    let ctx = context(&pipeline, &graph);
    let sarif: Value = serde_json::from_str(&render(&report, &ctx)).unwrap();
    validate(&sarif);
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let poisoned = rules
        .iter()
        .find(|r| r["id"] == "p-dataset/poisoned-rows")
        .unwrap();
    assert_eq!(poisoned["properties"]["security-severity"], "9.5");
    assert_eq!(
        poisoned["help"]["text"],
        "Remove the rows, or regenerate the dataset from a trusted source."
    );
    assert!(
        poisoned["shortDescription"]["text"]
            .as_str()
            .unwrap()
            .contains("poisoned")
    );
    assert!(
        poisoned["properties"]["tags"]
            .as_array()
            .unwrap()
            .contains(&"security".into())
    );
    // Every rule a result names exists, at the index it gives.
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 15 + 1, "15 findings + 1 gate error");
    for r in results {
        let i = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], r["ruleId"]);
        assert_eq!(
            r["partialFingerprints"][FINGERPRINT_KEY]
                .as_str()
                .unwrap()
                .len(),
            64
        );
    }
    // In-tree file: repository-relative path and line.
    let first = &results[0];
    assert_eq!(first["level"], "error");
    let loc = &first["locations"][0]["physicalLocation"];
    assert_eq!(
        loc["artifactLocation"]["uri"],
        "examples/demo/data/train.csv"
    );
    assert_eq!(loc["region"]["startLine"], 7);
    // A dataset outside the tree: the pipeline line declaring the gate.
    let outside = results
        .iter()
        .find(|r| r["ruleId"] == "p-dataset/label-flip")
        .unwrap();
    let loc = &outside["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "examples/demo/mlgate.yaml");
    assert_eq!(loc["region"]["startLine"], 9);
    assert!(
        outside["message"]["text"]
            .as_str()
            .unwrap()
            .contains("/mnt/datasets/big.parquet")
    );
    assert_eq!(outside["level"], "warning");
    // The errored gate is a result too (fails closed, visible in code scanning).
    let err = results
        .iter()
        .find(|r| r["ruleId"] == GATE_ERROR_RULE)
        .unwrap();
    assert_eq!(
        err["locations"][0]["physicalLocation"]["region"]["startLine"],
        14
    );
    assert_eq!(run["invocations"][0]["executionSuccessful"], false);
}

#[test]
fn sarif_without_a_pipeline_still_validates() {
    let dir = tempfile::tempdir().unwrap();
    let (_, report) = sample(dir.path());
    let sarif = to_value(&report, &Context::default());
    validate(&sarif);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "data/train.csv"
    );
    // No pipeline (`mlgate check`): a file outside the tree is a `file:` URI.
    let outside = results
        .iter()
        .find(|r| r["ruleId"] == "p-dataset/label-flip")
        .unwrap();
    assert_eq!(
        outside["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "file:///mnt/datasets/big.parquet"
    );
}

#[test]
fn the_schema_check_catches_a_broken_log() {
    // Guards the guard: a log the schema must reject.
    let mut bad = to_value(
        &sample(tempfile::tempdir().unwrap().path()).1,
        &Context::default(),
    );
    bad["runs"][0]["results"][0]["level"] = "fatal".into();
    let validator = jsonschema::validator_for(&schema()).unwrap();
    assert!(!validator.is_valid(&bad));
}

#[test]
fn plugin_names_and_levels() {
    assert_eq!(plugin_name("builtin:model-scan"), "model-scan");
    assert_eq!(plugin_name("plugins/house-rules.wasm"), "house-rules");
    assert_eq!(level(Severity::High), "error");
    assert_eq!(level(Severity::Low), "note");
}

#[test]
fn a_narrowed_run_has_its_own_category_and_says_what_it_saw() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut report) = sample(dir.path());
    let full = to_value(&report, &Context::default());
    assert_eq!(
        full["runs"][0]["automationDetails"]["id"],
        format!("mlgate/{}/", report.pipeline)
    );
    assert!(full["runs"][0]["properties"].get("narrowed").is_none());

    report.gates[0].narrowed = Some(crate::report::model::Narrowed {
        mode: "staged".into(),
        since: None,
        files: 3,
    });
    let narrowed = to_value(&report, &Context::default());
    validate(&narrowed);
    let run = &narrowed["runs"][0];
    // Uploading it must not close the full scan's alerts in unseen files.
    assert_ne!(
        run["automationDetails"]["id"],
        full["runs"][0]["automationDetails"]["id"]
    );
    let gate = &report.gates[0].id;
    assert_eq!(run["properties"]["narrowed"][gate]["mode"], "staged");
    assert_eq!(run["properties"]["narrowed"][gate]["files"], 3);
}

#[test]
fn file_uris_percent_encode_what_a_uri_cannot_hold() {
    assert_eq!(
        file_uri(Path::new("/data/my model/w#1.pt")),
        "file:///data/my%20model/w%231.pt"
    );
    assert_eq!(file_uri(Path::new("/a/b_c-d.e~f")), "file:///a/b_c-d.e~f");
}
