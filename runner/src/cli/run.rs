//! `mlgate run`: load and validate the pipeline, select gates, narrow the
//! pre-commit gates to changed files (`--changed`, `--changed-since`, or by
//! default with `--stage pre-commit` outside CI), run them, apply
//! suppressions, report.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::output::{emit_with, observer, runtime, tokio_runtime};
use super::{EXIT_USAGE, PipelineArgs, RunArgs, usage_error};
use crate::diagnostic::Diagnostics;
use crate::model::{Pipeline, Stage};
use crate::narrow::{ChangeSet, Mode};
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

/// Whether `CI` says this is a CI run (`true`, `1`, `yes`, any case).
fn in_ci(value: Option<&str>) -> bool {
    value.is_some_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes"))
}

/// How the pre-commit gates are narrowed, from the flags and `CI`: `Ok(None)`
/// for no narrowing; `explicit` tells whether the user asked for it.
fn narrow_mode(args: &RunArgs, ci: bool) -> Result<Option<(Mode, bool)>, String> {
    let given: Vec<&str> = [
        (args.changed, "--changed"),
        (args.changed_since.is_some(), "--changed-since"),
        (args.all_files, "--all-files"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect();
    if given.len() > 1 {
        return Err(format!(
            "{} cannot be combined: --changed scans the staged files, --changed-since REF the files changed since REF, --all-files everything",
            given.join(" and ")
        ));
    }
    Ok(if args.changed {
        Some((Mode::Staged, true))
    } else if let Some(rev) = &args.changed_since {
        Some((Mode::Since(rev.clone()), true))
    } else if args.all_files || ci || args.stage.as_deref() != Some("pre-commit") {
        None
    } else {
        Some((Mode::Staged, false))
    })
}

/// The change set narrowing the selected pre-commit gates, if any. An
/// explicit `--changed`/`--changed-since` outside a repository (or with a
/// bad REF) is a usage error; the implicit pre-commit default falls back to
/// scanning everything, with a warning.
fn change_set(
    args: &RunArgs,
    pipeline: &Pipeline,
    selection: &[usize],
) -> Result<Option<Arc<ChangeSet>>, u8> {
    let ci = in_ci(std::env::var("CI").ok().as_deref());
    let Some((mode, explicit)) = narrow_mode(args, ci).map_err(usage_error)? else {
        return Ok(None);
    };
    let scope: Vec<PathBuf> = selection
        .iter()
        .map(|&i| &pipeline.gates[i])
        .filter(|g| g.stage == Stage::PreCommit)
        .flat_map(|g| g.inputs.iter().map(|b| b.path.clone()))
        .collect();
    if scope.is_empty() {
        if explicit {
            eprintln!(
                "note: no pre-commit gate selected; only pre-commit gates are narrowed to changed files"
            );
        }
        return Ok(None);
    }
    match ChangeSet::collect(&pipeline.project_dir, mode, &scope) {
        Ok(set) => Ok(Some(Arc::new(set))),
        Err(e) if explicit => Err(usage_error(e)),
        Err(e) => {
            eprintln!("warning: scanning all files of the pre-commit gates: {e}");
            Ok(None)
        }
    }
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
    let selection = if args.no_needs {
        graph.select_exact(stage, &args.only)
    } else {
        graph.select(stage, &args.only)
    }
    .map_err(usage_error)?;
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
    let narrow = change_set(&args, &pipeline, &selection)?;
    let changed_files = narrow
        .as_ref()
        .map(|set| set.project_relative(&pipeline.project_dir))
        .unwrap_or_default();
    let repo = git::repo_state(&pipeline.project_dir);
    let options = RunOptions {
        jobs,
        git_commit: repo.as_ref().and_then(|r| r.commit.clone()),
        changed_files,
        narrow,
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
    report.git = repo;
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn args(argv: &[&str]) -> RunArgs {
        let cli = super::super::Cli::try_parse_from([&["mlgate", "run"], argv].concat()).unwrap();
        match cli.command {
            super::super::Command::Run(a) => a,
            _ => unreachable!(),
        }
    }

    fn mode(argv: &[&str], ci: bool) -> Result<Option<(Mode, bool)>, String> {
        narrow_mode(&args(argv), ci)
    }

    #[test]
    fn pre_commit_stage_narrows_to_staged_files_by_default_outside_ci() {
        assert_eq!(
            mode(&["--stage", "pre-commit"], false),
            Ok(Some((Mode::Staged, false)))
        );
        assert_eq!(mode(&["--stage", "pre-commit"], true), Ok(None));
        assert_eq!(
            mode(&["--stage", "pre-commit", "--all-files"], false),
            Ok(None)
        );
        assert_eq!(mode(&[], false), Ok(None), "a full run scans everything");
        assert_eq!(mode(&["--stage", "training"], false), Ok(None));
    }

    #[test]
    fn explicit_flags_win_even_in_ci() {
        assert_eq!(mode(&["--changed"], true), Ok(Some((Mode::Staged, true))));
        assert_eq!(
            mode(&["--changed-since", "origin/main"], true),
            Ok(Some((Mode::Since("origin/main".into()), true)))
        );
    }

    #[test]
    fn conflicting_flags_are_refused() {
        for argv in [
            &["--changed", "--all-files"][..],
            &["--changed", "--changed-since", "HEAD"],
            &["--changed-since", "HEAD", "--all-files"],
        ] {
            let err = mode(argv, false).unwrap_err();
            assert!(err.contains("cannot be combined"), "{err}");
        }
    }

    #[test]
    fn ci_values() {
        for v in ["true", "TRUE", "1", "yes", " true "] {
            assert!(in_ci(Some(v)), "{v}");
        }
        for v in ["", "false", "0", "no"] {
            assert!(!in_ci(Some(v)), "{v}");
        }
        assert!(!in_ci(None));
    }
}
