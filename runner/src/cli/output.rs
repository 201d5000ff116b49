//! Shared output plumbing for `run` and `check`: choose the observer, run on
//! a tokio runtime, write the report where it was asked for.

use std::io::IsTerminal;
use std::sync::Arc;

use super::{OutputArgs, usage_error};
use crate::report::{self, Format, model::RunReport};
use crate::runtime::Runtime;
use crate::scheduler::Observer;

/// The observer for this terminal: live bars, plain lines, or nothing.
pub fn observer(args: &OutputArgs) -> Arc<dyn Observer> {
    let tty = std::io::stderr().is_terminal() && std::io::stdout().is_terminal();
    if args.quiet {
        Arc::new(crate::scheduler::Silent)
    } else if tty && std::env::var_os("CI").is_none() {
        Arc::new(report::progress::LiveProgress::new())
    } else {
        Arc::new(report::progress::PlainProgress)
    }
}

/// A runtime with the default cache, or an error status.
pub fn runtime() -> Result<Arc<Runtime>, u8> {
    Runtime::new(crate::engine::GateEngine::default_cache_dir())
        .map(Arc::new)
        .map_err(|e| usage_error(format!("cannot start the wasmtime engine: {e:#}")))
}

/// A tokio runtime for the scheduler.
pub fn tokio_runtime() -> Result<tokio::runtime::Runtime, u8> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| usage_error(format!("cannot start the async runtime: {e}")))
}

/// Write the report; returns the run's exit status (or 2 if writing failed).
pub fn emit(report: &RunReport, args: &OutputArgs) -> u8 {
    emit_with(report, args, &report::Context::default())
}

/// Whether we run as a GitHub Actions step.
fn in_github_actions() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true")
}

/// [`emit`] with the pipeline context (SARIF locations, the Mermaid DAG,
/// rule help). Under GitHub Actions the console format is `github` (unless
/// `--format` says otherwise), and it also writes the job summary and step
/// outputs.
pub fn emit_with(report: &RunReport, args: &OutputArgs, ctx: &report::Context) -> u8 {
    let console = if in_github_actions() {
        Format::Github
    } else {
        Format::Human
    };
    let format = args.format.unwrap_or(console);
    let mut github_step = format == Format::Github;
    match &args.output {
        Some(path) => {
            let text = report::render_with(report, format, false, ctx);
            if let Err(e) = std::fs::write(path, text) {
                return usage_error(format!("cannot write {}: {e}", path.display()));
            }
            if format != Format::Human || !args.quiet {
                let tty = std::io::stdout().is_terminal();
                print!("{}", report::render_with(report, console, tty, ctx));
                github_step |= console == Format::Github;
            }
        }
        None => {
            let tty = std::io::stdout().is_terminal();
            print!("{}", report::render_with(report, format, tty, ctx));
        }
    }
    if github_step
        && let Err(e) = report::github::write_step_files(report, ctx, args.output.as_deref())
    {
        eprintln!("warning: {e}");
    }
    report.exit_code()
}
