//! `mlgate export github-actions|argo PIPELINE [--output FILE]`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::run::{Loaded, load};
use super::{PipelineArgs, usage_error};
use crate::export::{self, ExportOptions};
use crate::report::sarif::RepoPaths;

/// Export targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Target {
    /// A GitHub Actions workflow, one job per gate.
    GithubActions,
    /// An Argo Workflows `Workflow` with a DAG template.
    Argo,
}

/// `mlgate export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// What to export to.
    #[arg(value_enum)]
    pub to: Target,
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    /// Write to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// GitHub Actions: the command that installs mlgate in each job (the
    /// default builds it from `runner/` of a checkout of the mlgate repository).
    #[arg(
        long,
        default_value = "rustup target add wasm32-wasip2 && cargo install --locked --path runner"
    )]
    pub install: String,
    /// Argo: the container image holding mlgate and the project.
    #[arg(long, default_value = "mlgate:latest")]
    pub image: String,
}

/// Run `mlgate export`.
pub fn run(args: ExportArgs) -> u8 {
    let Loaded { pipeline, graph } = match load(&args.pipeline) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let repo = RepoPaths::of(&pipeline);
    let opts = ExportOptions {
        install: args.install,
        image: args.image,
    };
    let text = match args.to {
        Target::GithubActions => export::github_actions(&pipeline, &graph, &repo, &opts),
        Target::Argo => export::argo(&pipeline, &graph, &repo, &opts),
    };
    match &args.output {
        Some(path) => match std::fs::write(path, text) {
            Ok(()) => 0,
            Err(e) => usage_error(format!("cannot write {}: {e}", path.display())),
        },
        None => {
            print!("{text}");
            0
        }
    }
}
