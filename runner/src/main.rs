//! The `mlgate` binary: parse arguments, set up logging, run the command,
//! exit with its status.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = mlgate::cli::Cli::parse();
    let default = if cli.verbose {
        "mlgate=debug"
    } else {
        "mlgate=warn"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .init();
    ExitCode::from(mlgate::cli::execute(cli))
}
