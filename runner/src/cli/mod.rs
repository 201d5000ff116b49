//! The command line: what the user typed (clap structs, here) is turned into
//! what the library needs (in each command's module). Every command returns
//! an exit status; `main` only prints errors and exits.
//!
//! Exit status (contract): 0 every gate passed; 1 a gate failed or errored;
//! 2 the command could not run (bad pipeline, bad arguments, missing file).

mod advisories;
mod check;
mod export;
mod hook;
mod inspect;
mod manifest;
mod output;
mod plan;
mod plugin_new;
mod run;
mod sign;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::report::Format;

/// Status when the command itself could not run.
pub const EXIT_USAGE: u8 = 2;

/// mlgate: keep compromised data, dependencies and models out of ML pipelines.
///
/// Gates are WebAssembly components run in a sandbox: each reads only its
/// declared inputs, with no network and no environment.
#[derive(Debug, Parser)]
#[command(name = "mlgate", version, about, long_about = None, max_term_width = 100)]
pub struct Cli {
    /// Show debug logs on stderr (or set RUST_LOG).
    #[arg(long, short, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a pipeline's gates (all stages, or `--stage`, or `--only`).
    Run(RunArgs),
    /// Run one plugin on some inputs, without a pipeline.
    Check(check::CheckArgs),
    /// Show the resolved plan: levels, what each gate reads and writes, limits.
    Plan(plan::PlanArgs),
    /// Validate a pipeline and exit (0 valid, 2 invalid).
    Validate(PipelineArgs),
    /// Inspect plugins.
    #[command(subcommand)]
    Plugin(inspect::PluginCommand),
    /// Provenance manifests.
    #[command(subcommand)]
    Manifest(manifest::ManifestCommand),
    /// Sign a model (OpenSSF model_signing v1.0 bundle, key or certificate mode).
    Sign(sign::SignArgs),
    /// Export the pipeline as a GitHub Actions or Argo workflow (one job per gate).
    Export(export::ExportArgs),
    /// Git hooks.
    #[command(subcommand)]
    Hook(hook::HookCommand),
    /// Advisory data for `builtin:pip-audit`, fetched on the host (gates have no network).
    #[command(subcommand)]
    Advisories(advisories::AdvisoriesCommand),
}

/// Which pipeline and project.
#[derive(Debug, Clone, Args)]
pub struct PipelineArgs {
    /// Pipeline file [default: mlgate.yaml, else pipelines/mlgate.yaml]
    pub pipeline: Option<PathBuf>,
    /// Project directory input paths are relative to [default: the current directory]
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
}

/// `mlgate run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    /// Run only this stage (and the gates it needs).
    #[arg(long, value_parser = ["pre-commit", "training", "deployment"])]
    pub stage: Option<String>,
    /// Run only this gate and what it needs (repeatable).
    #[arg(long, value_name = "GATE")]
    pub only: Vec<String>,
    /// With `--only`: run just the named gates, not the gates they need
    /// (those count as done; an exported workflow runs them in upstream jobs).
    #[arg(long, requires = "only")]
    pub no_needs: bool,
    /// Run the gates but perform no side effects (no tickets, no audit log).
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Gates run at once [default: number of cores]
    #[arg(long, short)]
    pub jobs: Option<usize>,
    /// Pre-commit gates see only the files staged for the next commit, with
    /// their staged content [default with `--stage pre-commit` outside CI]
    #[arg(long)]
    pub changed: bool,
    /// Pre-commit gates see only the files changed since REF (committed,
    /// staged, unstaged or untracked), with their working-tree content
    #[arg(long, value_name = "REF")]
    pub changed_since: Option<String>,
    /// Pre-commit gates see all their inputs (turns the pre-commit default off)
    #[arg(long)]
    pub all_files: bool,
}

/// Report format and destination.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Report format [default: human]
    #[arg(long, short, value_enum)]
    pub format: Option<Format>,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// No progress display.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Run the parsed command; returns the exit status.
pub fn execute(cli: Cli) -> u8 {
    match cli.command {
        Command::Run(args) => run::run(args),
        Command::Check(args) => check::run(args),
        Command::Plan(args) => plan::run(args),
        Command::Validate(args) => plan::validate(args),
        Command::Plugin(cmd) => inspect::run(cmd),
        Command::Manifest(cmd) => manifest::run(cmd),
        Command::Sign(args) => sign::run(args),
        Command::Export(args) => export::run(args),
        Command::Hook(cmd) => hook::run(cmd),
        Command::Advisories(cmd) => advisories::run(cmd),
    }
}

/// Print an error the mlgate way and return the usage status.
pub fn usage_error(message: impl std::fmt::Display) -> u8 {
    eprintln!("error: {message}");
    EXIT_USAGE
}
