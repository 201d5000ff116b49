//! `mlgate run`: load and validate the pipeline, select gates, run them,
//! apply suppressions, report.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::output::{emit_with, observer, runtime, tokio_runtime};
use super::{EXIT_USAGE, PipelineArgs, RunArgs, usage_error};
use crate::diagnostic::Diagnostics;
use crate::model::{Pipeline, Stage};
use crate::report::model::ExpiredSuppression;
use crate::scheduler::{self, RunOptions, SuppressFn};
use crate::{git, graph, pipeline, plugins, policy};

/// A loaded pipeline with its graph, or the exit status of the failure.
pub struct Loaded {
    /// The validated pipeline.
    pub pipeline: Pipeline,
    /// Its DAG.
    pub graph: graph::GateGraph,
}

/// Find the pipeline file: the argument, else `mlgate.yaml`, else
/// `pipelines/mlgate.yaml` in the project directory.
pub fn pipeline_path(args: &PipelineArgs) -> Result<PathBuf, u8> {
    if let Some(p) = &args.pipeline {
        return Ok(p.clone());
    }
    let base = args.project.clone().unwrap_or_else(|| PathBuf::from("."));
    for candidate in ["mlgate.yaml", "pipelines/mlgate.yaml"] {
        let path = base.join(candidate);
        if path.exists() {
            return Ok(path);
        }
    }
    Err(usage_error(
        "no pipeline given and no mlgate.yaml found; pass the pipeline file, e.g. `mlgate run pipelines/mlsecops.yaml`",
    ))
}

/// Load, validate and build the graph, printing located errors.
pub fn load(args: &PipelineArgs) -> Result<Loaded, u8> {
    let path = pipeline_path(args)?;
    let builtins = plugins::builtin_names();
    let print = |d: Diagnostics| {
        eprintln!("{d}");
        EXIT_USAGE
    };
    let pipeline = pipeline::load(&path, args.project.as_deref(), &builtins).map_err(print)?;
    let graph = graph::build(&pipeline).map_err(print)?;
    Ok(Loaded { pipeline, graph })
}

/// Suppressions from `.mlgate/ignore.yaml`, as a scheduler callback, plus
/// the expired ones for the report.
fn suppressions(project: &Path) -> Result<(Option<SuppressFn>, Vec<ExpiredSuppression>), u8> {
    let today = jiff::Zoned::now().date();
    let list = policy::load(project).map_err(|d| {
        eprintln!("{d}");
        EXIT_USAGE
    })?;
    let expired = list
        .expired(today)
        .into_iter()
        .map(|s| ExpiredSuppression {
            rule: s.rule.clone(),
            expires: s.expires.map(|d| d.to_string()).unwrap_or_default(),
            reason: s.reason.clone(),
        })
        .collect();
    if list.is_empty() {
        return Ok((None, expired));
    }
    let list = Arc::new(list);
    let f: SuppressFn = Arc::new(move |gate, finding| {
        list.matches(
            today,
            gate,
            &finding.rule_id,
            finding.location.as_ref().map(|l| l.path.as_str()),
            &finding.fingerprint,
        )
        .map(|s| s.reason.clone())
    });
    Ok((Some(f), expired))
}

/// `mlgate run`.
pub fn run(args: RunArgs) -> u8 {
    match run_inner(args) {
        Ok(code) | Err(code) => code,
    }
}

fn run_inner(args: RunArgs) -> Result<u8, u8> {
    let Loaded { pipeline, graph } = load(&args.pipeline)?;
    let stage = args.stage.as_deref().and_then(Stage::parse);
    let selection = graph.select(stage, &args.only).map_err(usage_error)?;
    let sinks = crate::tickets::parse(&pipeline.tickets).map_err(usage_error)?;
    let (suppress, expired) = suppressions(&pipeline.project_dir)?;
    let needs: Vec<Vec<usize>> = (0..pipeline.gates.len())
        .map(|i| graph.needs(i).to_vec())
        .collect();
    let jobs = args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    });
    let changed_files = if selection
        .iter()
        .any(|&i| pipeline.gates[i].stage == Stage::PreCommit)
    {
        git::staged_files(&pipeline.project_dir)
    } else {
        Vec::new()
    };
    let options = RunOptions {
        jobs,
        git_commit: git::head_commit(&pipeline.project_dir),
        changed_files,
        suppress,
        observer: observer(&args.output),
    };
    let runtime = runtime()?;
    let tokio = tokio_runtime()?;
    let tickets = pipeline.tickets.len();
    let commit = options.git_commit.clone();
    let pipeline = Arc::new(pipeline);
    let mut report = tokio.block_on(scheduler::run(
        runtime.clone(),
        pipeline.clone(),
        Arc::new(needs),
        &selection,
        options,
    ));
    report.expired_suppressions = expired;
    report.dry_run = args.dry_run;
    if args.dry_run {
        report.skipped_side_effects.push(format!(
            "gate failure tickets ({tickets} sink(s) configured)"
        ));
        report
            .skipped_side_effects
            .push("audit log append".to_string());
    }
    // Issue 7: SARIF/GitHub/Markdown context and gate failure tickets.
    let describe = args.output.format == Some(crate::report::Format::Sarif)
        || (!sinks.is_empty() && !args.dry_run);
    let ctx = crate::report::sarif::context(&pipeline, &graph, &runtime, &tokio, describe);
    crate::tickets::report_outcome(crate::tickets::after_run(
        &sinks,
        &mut report,
        &ctx,
        commit.as_deref(),
        args.dry_run,
    ));
    Ok(emit_with(&report, &args.output, &ctx))
}
