//! SARIF 2.1.0 for GitHub code scanning (`--format sarif`).
//!
//! One run; the driver lists every rule the gates of this run can report
//! (from each plugin's `describe`, plus the rules of findings no plugin
//! described, plus `mlgate/gate-error`). Rule ids are `PLUGIN/RULE`, since two
//! plugins may use the same rule id. Each finding becomes a result whose
//! `partialFingerprints` carries mlgate's fingerprint, so code scanning keeps
//! one alert per finding across runs and line shifts.
//!
//! Locations are relative to the repository root (GitHub resolves them
//! against the checkout). A finding in a file outside the source tree (a model
//! or dataset outside the project, a guest path) or without a location points
//! at the pipeline line that declares its gate (`GateSpec::position`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use super::Context;
use super::model::{Finding, GateReport, GateStatus, RunReport, RunStatus};
use crate::model::{Pipeline, Severity};

/// The `partialFingerprints` key of mlgate's own fingerprint.
pub const FINGERPRINT_KEY: &str = "mlgateFingerprint/v1";

/// Rule id of the result a gate that errored produces.
pub const GATE_ERROR_RULE: &str = "mlgate/gate-error";

/// A rule as a plugin describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleMeta {
    /// Rule id (without the plugin prefix).
    pub id: String,
    /// Default severity.
    pub severity: Severity,
    /// One-line summary.
    pub summary: String,
    /// How to fix.
    pub help: String,
}

/// Rules per plugin name (`model-scan`, or a `.wasm` file's stem).
pub type RuleCatalog = BTreeMap<String, Vec<RuleMeta>>;

/// Where the project directory and the pipeline file are, relative to the
/// repository root (the git top level, else the project directory).
#[derive(Debug, Clone, Default)]
pub struct RepoPaths {
    /// The project directory relative to the repository root, with a
    /// trailing `/` (empty when they are the same).
    pub project_prefix: String,
    /// The pipeline file relative to the repository root.
    pub pipeline_uri: Option<String>,
    /// The project directory on disk (to test whether a finding's file is in
    /// the source tree).
    pub project_dir: Option<PathBuf>,
}

impl RepoPaths {
    /// Paths of a pipeline's project in its git repository (no git: the
    /// project directory is the root).
    pub fn of(pipeline: &Pipeline) -> RepoPaths {
        let project = pipeline
            .project_dir
            .canonicalize()
            .unwrap_or_else(|_| pipeline.project_dir.clone());
        let root = git_toplevel(&project).unwrap_or_else(|| project.clone());
        let rel = |p: &Path| -> Option<String> {
            let p = p.canonicalize().ok()?;
            p.strip_prefix(&root).ok().map(slash_path)
        };
        let mut project_prefix = rel(&project).unwrap_or_default();
        if !project_prefix.is_empty() {
            project_prefix.push('/');
        }
        RepoPaths {
            project_prefix,
            pipeline_uri: rel(&pipeline.file),
            project_dir: Some(project),
        }
    }
}

fn git_toplevel(dir: &Path) -> Option<PathBuf> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["rev-parse", "--show-toplevel"])
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && !text.trim().is_empty())
        .then(|| PathBuf::from(text.trim()))
        .and_then(|p| p.canonicalize().ok())
}

fn slash_path(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// The plugin name of a report's `plugin` label (`builtin:NAME` → NAME, a
/// `.wasm` path → its file stem).
pub fn plugin_name(label: &str) -> String {
    match label.strip_prefix("builtin:") {
        Some(name) => name.to_string(),
        None => Path::new(label)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| label.to_string()),
    }
}

/// A place in the repository a finding is reported at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// Repository-relative path with `/`.
    pub uri: String,
    /// 1-based line.
    pub line: Option<u32>,
    /// 1-based column.
    pub column: Option<u32>,
    /// True when this is the gate's declaration, not the finding's own file.
    pub declaration: bool,
}

/// Where to report a finding of `gate`: its own file when that file is in the
/// source tree, else the pipeline line declaring the gate, else (no pipeline)
/// its absolute path as a `file:` URI, else nowhere.
pub fn place(finding: Option<&Finding>, gate: &str, ctx: &Context) -> Option<Place> {
    if let Some(loc) = finding.and_then(|f| f.location.as_ref())
        && in_tree(&loc.path, ctx)
    {
        return Some(Place {
            uri: format!(
                "{}{}",
                ctx.repo.project_prefix,
                loc.path.trim_start_matches("./")
            ),
            line: loc.line.filter(|l| *l > 0),
            column: loc.column.filter(|c| *c > 0),
            declaration: false,
        });
    }
    declaration(gate, ctx).or_else(|| {
        // `mlgate check` has no pipeline line to fall back on: an absolute
        // path becomes a `file:` URI, which SARIF viewers open.
        let loc = finding?.location.as_ref()?;
        let path = Path::new(&loc.path);
        (ctx.pipeline.is_none() && path.is_absolute()).then(|| Place {
            uri: file_uri(path),
            line: loc.line.filter(|l| *l > 0),
            column: loc.column.filter(|c| *c > 0),
            declaration: false,
        })
    })
}

/// A `file:` URI of an absolute path, percent-encoding all but RFC 3986's
/// unreserved characters and `/`.
fn file_uri(path: &Path) -> String {
    let mut uri = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            uri.push(b as char);
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri
}

/// The pipeline line that declares `gate`.
pub fn declaration(gate: &str, ctx: &Context) -> Option<Place> {
    let pipeline = ctx.pipeline?;
    let uri = ctx.repo.pipeline_uri.clone()?;
    let spec = &pipeline.gates[pipeline.gate_index(gate)?];
    Some(Place {
        uri,
        line: (spec.position.line > 0).then_some(spec.position.line),
        column: (spec.position.column > 0).then_some(spec.position.column),
        declaration: true,
    })
}

/// Whether a finding path is a file of the source tree: relative, not
/// climbing out, and present under the project directory. Without a
/// pipeline (`check`), any relative path is taken as is.
fn in_tree(path: &str, ctx: &Context) -> bool {
    let p = Path::new(path);
    if path.is_empty()
        || p.is_absolute()
        || p.components()
            .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return false;
    }
    match &ctx.repo.project_dir {
        Some(dir) => dir.join(p).exists(),
        None => true,
    }
}

/// SARIF `level` of a severity.
pub fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's `security-severity` score (critical > 9, high 7-8.9, medium
/// 4-6.9, low below 4).
pub fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

/// Collects the rules a report needs, in a stable order, with their index.
struct Rules {
    list: Vec<Value>,
    index: BTreeMap<String, usize>,
}

impl Rules {
    fn new(report: &RunReport, ctx: &Context) -> Rules {
        let mut rules = Rules {
            list: Vec::new(),
            index: BTreeMap::new(),
        };
        let mut plugins: Vec<String> = report
            .gates
            .iter()
            .map(|g| plugin_name(&g.plugin))
            .collect();
        plugins.sort();
        plugins.dedup();
        for plugin in &plugins {
            for meta in ctx.rules.get(plugin).into_iter().flatten() {
                rules.add(plugin, meta);
            }
        }
        for gate in &report.gates {
            let plugin = plugin_name(&gate.plugin);
            for f in &gate.findings {
                if !rules.index.contains_key(&format!("{plugin}/{}", f.rule_id)) {
                    rules.add(
                        &plugin,
                        &RuleMeta {
                            id: f.rule_id.clone(),
                            severity: f.severity,
                            summary: format!("{} finding `{}`", plugin, f.rule_id),
                            help: format!(
                                "See `mlgate plugin inspect {}` for this rule.",
                                gate.plugin
                            ),
                        },
                    );
                }
            }
        }
        if report.gates.iter().any(|g| g.status == GateStatus::Error) {
            rules.push(
                GATE_ERROR_RULE,
                Severity::High,
                "A gate could not run or misbehaved (fails closed)",
                "The gate errored: a trap, timeout, resource limit, malformed result or plugin error. The run fails closed. Read the reason, fix the input or the limit, and rerun the gate with `mlgate run PIPELINE --only GATE`.",
                &["mlgate", "gate-error"],
            );
        }
        rules
    }

    fn add(&mut self, plugin: &str, meta: &RuleMeta) {
        let id = format!("{plugin}/{}", meta.id);
        if self.index.contains_key(&id) {
            return;
        }
        self.push(
            &id,
            meta.severity,
            &meta.summary,
            &meta.help,
            &["security", "mlgate", plugin],
        );
    }

    fn push(&mut self, id: &str, severity: Severity, summary: &str, help: &str, tags: &[&str]) {
        let summary = if summary.is_empty() { id } else { summary };
        let help = if help.is_empty() { summary } else { help };
        self.index.insert(id.to_string(), self.list.len());
        self.list.push(json!({
            "id": id,
            "name": id,
            "shortDescription": { "text": summary },
            "fullDescription": { "text": format!("{summary}. Default severity: {severity}.") },
            "help": { "text": help, "markdown": help },
            "defaultConfiguration": { "level": level(severity) },
            "properties": {
                "security-severity": security_severity(severity),
                "problem.severity": match level(severity) { "note" => "recommendation", l => l },
                "tags": tags,
            },
        }));
    }
}

fn location(place: &Place) -> Value {
    let mut region = serde_json::Map::new();
    if let Some(line) = place.line {
        region.insert("startLine".into(), line.into());
        if let Some(col) = place.column {
            region.insert("startColumn".into(), col.into());
        }
    }
    let mut physical = json!({ "artifactLocation": { "uri": place.uri } });
    if !region.is_empty() {
        physical["region"] = Value::Object(region);
    }
    json!({ "physicalLocation": physical })
}

fn result(gate: &GateReport, f: &Finding, rules: &Rules, ctx: &Context) -> Value {
    let plugin = plugin_name(&gate.plugin);
    let id = format!("{plugin}/{}", f.rule_id);
    let place = place(Some(f), &gate.id, ctx);
    let mut text = f.message.clone();
    if let (Some(p), Some(loc)) = (&place, &f.location)
        && p.declaration
    {
        text.push_str(&format!(
            " (in {}; reported at the pipeline line declaring gate `{}`)",
            loc.path, gate.id
        ));
    }
    let mut properties = serde_json::Map::new();
    properties.insert("gate".into(), gate.id.clone().into());
    properties.insert("stage".into(), gate.stage.as_str().into());
    properties.insert("severity".into(), f.severity.as_str().into());
    if let Some(loc) = &f.location {
        properties.insert("path".into(), loc.path.clone().into());
    }
    for (k, v) in &f.properties {
        properties
            .entry(format!("finding.{k}"))
            .or_insert_with(|| v.clone().into());
    }
    let mut r = json!({
        "ruleId": id,
        "ruleIndex": rules.index[&id],
        "level": level(f.severity),
        "message": { "text": text },
        "partialFingerprints": { FINGERPRINT_KEY: f.fingerprint },
        "properties": properties,
    });
    if let Some(p) = place {
        r["locations"] = json!([location(&p)]);
    }
    r
}

fn error_result(gate: &GateReport, rules: &Rules, ctx: &Context) -> Value {
    let reason = gate.reason.clone().unwrap_or_else(|| "gate errored".into());
    let mut r = json!({
        "ruleId": GATE_ERROR_RULE,
        "ruleIndex": rules.index[GATE_ERROR_RULE],
        "level": "error",
        "message": { "text": format!("gate `{}` ({}) errored: {reason}", gate.id, gate.plugin) },
        "partialFingerprints": {
            FINGERPRINT_KEY: crate::tickets::fingerprint(&["gate-error", gate.id.as_str()])
        },
        "properties": { "gate": gate.id, "stage": gate.stage.as_str() },
    });
    if let Some(p) = declaration(&gate.id, ctx) {
        r["locations"] = json!([location(&p)]);
    }
    r
}

/// The SARIF log as a JSON value.
pub fn to_value(report: &RunReport, ctx: &Context) -> Value {
    let rules = Rules::new(report, ctx);
    let mut results = Vec::new();
    for gate in &report.gates {
        for f in &gate.findings {
            results.push(result(gate, f, &rules, ctx));
        }
        if gate.status == GateStatus::Error {
            results.push(error_result(gate, &rules, ctx));
        }
    }
    let mut run = json!({
        "tool": { "driver": {
            "name": "mlgate",
            "version": report.mlgate_version,
            "semanticVersion": report.mlgate_version,
            "rules": rules.list,
        }},
        "automationDetails": { "id": automation_id(report) },
        "invocations": [{
            "executionSuccessful": report.status != RunStatus::Error,
        }],
        "results": results,
    });
    if let Some(uri) = &ctx.repo.pipeline_uri {
        run["properties"] = json!({ "pipeline": uri, "status": status_str(report.status) });
    }
    if let Some(git) = &report.git {
        // SARIF's versionControlProvenance needs a repository URI, which a
        // local run may not have (and a remote URL may embed credentials):
        // the commit goes in the run's property bag instead.
        if !run["properties"].is_object() {
            run["properties"] = json!({});
        }
        run["properties"]["git"] = json!(git);
    }
    let narrowed: serde_json::Map<String, Value> = report
        .gates
        .iter()
        .filter_map(|g| Some((g.id.clone(), json!(g.narrowed.as_ref()?))))
        .collect();
    if !narrowed.is_empty() {
        if !run["properties"].is_object() {
            run["properties"] = json!({});
        }
        run["properties"]["narrowed"] = Value::Object(narrowed);
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    })
}

/// The run's category for code scanning. A run whose gates saw only changed
/// files gets its own category: code scanning closes the alerts a new upload of
/// the same category lacks, and a narrowed run lacks every finding in the files
/// it did not see.
fn automation_id(report: &RunReport) -> String {
    if report.gates.iter().any(|g| g.narrowed.is_some()) {
        format!("mlgate/{}/changed-files/", report.pipeline)
    } else {
        format!("mlgate/{}/", report.pipeline)
    }
}

fn status_str(s: RunStatus) -> &'static str {
    match s {
        RunStatus::Pass => "pass",
        RunStatus::Fail => "fail",
        RunStatus::Error => "error",
    }
}

/// Render SARIF text.
pub fn render(report: &RunReport, ctx: &Context) -> String {
    let mut text = serde_json::to_string_pretty(&to_value(report, ctx)).expect("serialises");
    text.push('\n');
    text
}

#[cfg(test)]
#[path = "sarif_tests.rs"]
pub(crate) mod tests;

/// Rule metadata of every plugin of a pipeline, from each plugin's
/// `describe` (a plugin that cannot be described contributes nothing; its
/// findings still get a generic rule).
pub fn describe_rules(
    runtime: &crate::runtime::Runtime,
    tokio: &tokio::runtime::Runtime,
    pipeline: &Pipeline,
) -> RuleCatalog {
    let mut catalog = RuleCatalog::new();
    for gate in &pipeline.gates {
        let label = gate.plugin.to_string();
        let name = plugin_name(&label);
        if catalog.contains_key(&name) {
            continue;
        }
        let Ok(loaded) = runtime.load(&gate.plugin) else {
            continue;
        };
        let Ok(info) = tokio.block_on(runtime.sandbox.describe(&runtime.engine, &loaded.prepared))
        else {
            continue;
        };
        let rules = info
            .rules
            .iter()
            .map(|r| RuleMeta {
                id: crate::sanitize::clean_line(&r.id, 200),
                severity: crate::sandbox::severity(r.default_severity),
                summary: crate::sanitize::clean_line(&r.summary, 1000),
                help: crate::sanitize::clean(&r.help, 4000),
            })
            .collect();
        catalog.insert(name, rules);
    }
    catalog
}

/// The render context of a pipeline run; `describe` asks each plugin for its
/// rules (SARIF driver rules, ticket remediation).
pub fn context<'a>(
    pipeline: &'a Pipeline,
    graph: &'a crate::graph::GateGraph,
    runtime: &crate::runtime::Runtime,
    tokio: &tokio::runtime::Runtime,
    describe: bool,
) -> Context<'a> {
    Context {
        pipeline: Some(pipeline),
        graph: Some(graph),
        rules: if describe {
            describe_rules(runtime, tokio, pipeline)
        } else {
            RuleCatalog::new()
        },
        repo: RepoPaths::of(pipeline),
    }
}
