//! `mlgate plan` (the resolved plan: levels, what each gate can read and
//! write, its limits and threshold) and `mlgate validate`.

use std::fmt::Write as _;

use clap::{Args, ValueEnum};

use super::run::{Loaded, load};
use super::{PipelineArgs, usage_error};
use crate::model::Stage;
use crate::sandbox::mounts::Mount;

/// Plan output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// Readable text.
    Text,
    /// Machine-readable JSON.
    Json,
    /// A mermaid flowchart.
    Mermaid,
    /// Graphviz dot.
    Dot,
}

/// `mlgate plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    /// Output format.
    #[arg(long, short, value_enum, default_value = "text")]
    pub format: PlanFormat,
    /// Plan only this stage (and what it needs).
    #[arg(long, value_parser = ["pre-commit", "training", "deployment"])]
    pub stage: Option<String>,
    /// Plan only this gate and what it needs (repeatable).
    #[arg(long, value_name = "GATE")]
    pub only: Vec<String>,
}

fn guest_root(kind: &str, name: &str) -> String {
    let m = Mount {
        name: name.into(),
        guest_root: format!("/{kind}/{name}"),
        host_root: Default::default(),
        declared: String::new(),
        file_name: None,
        writable: false,
    };
    m.guest_root
}

/// What `mlgate run` does to a pre-commit gate's inputs, shown under each one.
const PRE_COMMIT_NARROWING: &str = "sees only changed files under `mlgate run --stage pre-commit` outside CI, `--changed` and the git hook (staged content); `--changed-since REF` for a branch's changes, `--all-files` for everything";

/// `mlgate plan`.
pub fn run(args: PlanArgs) -> u8 {
    let Loaded { pipeline, graph } = match load(&args.pipeline) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let stage = args.stage.as_deref().and_then(Stage::parse);
    let selection = match graph.select(stage, &args.only) {
        Ok(s) => s,
        Err(e) => return usage_error(e),
    };
    let levels = graph.levels(&selection);
    match args.format {
        PlanFormat::Mermaid => print!("{}", graph.to_mermaid(&pipeline)),
        PlanFormat::Dot => print!("{}", graph.to_dot(&pipeline)),
        PlanFormat::Json => {
            let gates: Vec<_> = selection
                .iter()
                .map(|&i| {
                    let g = &pipeline.gates[i];
                    serde_json::json!({
                        "id": g.id,
                        "stage": g.stage,
                        "plugin": g.plugin,
                        "needs": g.needs,
                        "reads": g.inputs.iter().map(|b| serde_json::json!({
                            "name": b.name, "declared": b.declared, "path": b.path,
                            "guest": guest_root("inputs", &b.name)})).collect::<Vec<_>>(),
                        "writes": g.outputs.iter().map(|b| serde_json::json!({
                            "name": b.name, "declared": b.declared, "path": b.path,
                            "guest": guest_root("outputs", &b.name)})).collect::<Vec<_>>(),
                        "config": g.config,
                        "limits": g.limits,
                        "fail_on": g.fail_on.to_string(),
                        "narrows_to_changed_files":
                            g.stage == Stage::PreCommit && !g.inputs.is_empty(),
                    })
                })
                .collect();
            let levels: Vec<Vec<&str>> = levels
                .iter()
                .map(|l| l.iter().map(|&i| pipeline.gates[i].id.as_str()).collect())
                .collect();
            let doc = serde_json::json!({
                "pipeline": pipeline.name,
                "file": pipeline.file,
                "project_dir": pipeline.project_dir,
                "levels": levels,
                "gates": gates,
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&doc).expect("plan serialises")
            );
        }
        PlanFormat::Text => {
            let mut out = String::new();
            writeln!(
                out,
                "pipeline {} ({} gates selected)",
                pipeline.name,
                selection.len()
            )
            .unwrap();
            for (n, level) in levels.iter().enumerate() {
                writeln!(out, "\nlevel {} (parallel):", n + 1).unwrap();
                for &i in level {
                    let g = &pipeline.gates[i];
                    writeln!(
                        out,
                        "  {} [{}] {}  memory {} MiB, timeout {:?}, fails at {}",
                        g.id,
                        g.stage,
                        g.plugin,
                        g.limits.memory_bytes >> 20,
                        g.limits.timeout,
                        g.fail_on
                    )
                    .unwrap();
                    if !g.needs.is_empty() {
                        writeln!(out, "    needs: {}", g.needs.join(", ")).unwrap();
                    }
                    for b in &g.inputs {
                        writeln!(
                            out,
                            "    reads  {} (read-only, as {})",
                            b.declared,
                            guest_root("inputs", &b.name)
                        )
                        .unwrap();
                    }
                    if g.stage == Stage::PreCommit && !g.inputs.is_empty() {
                        writeln!(out, "    {PRE_COMMIT_NARROWING}").unwrap();
                    }
                    for b in &g.outputs {
                        writeln!(
                            out,
                            "    writes {} (as {})",
                            b.declared,
                            guest_root("outputs", &b.name)
                        )
                        .unwrap();
                    }
                    writeln!(out, "    network: none; environment: none").unwrap();
                }
            }
            print!("{out}");
        }
    }
    0
}

/// `mlgate validate`.
pub fn validate(args: PipelineArgs) -> u8 {
    match load(&args) {
        Ok(Loaded { pipeline, .. }) => {
            if let Err(e) = crate::tickets::parse(&pipeline.tickets) {
                return usage_error(format!("{}: {e}", pipeline.file.display()));
            }
            println!(
                "{}: valid ({} gates)",
                pipeline.file.display(),
                pipeline.gates.len()
            );
            0
        }
        Err(code) => code,
    }
}
