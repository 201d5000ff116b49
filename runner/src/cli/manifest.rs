//! `mlgate manifest create DIR --output FILE`: write a SHA-256 manifest of
//! a dataset or model directory, hashed natively in parallel on the host.

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};

use super::usage_error;
use crate::manifest::{self, ManifestFormat};

/// Manifest file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// `sha256sum` text (`sha256sum -c` accepts it).
    Sha256sum,
    /// JSON: `{"version":1,"algorithm":"sha256","files":{...}}`.
    Json,
}

/// Manifest subcommands.
#[derive(Debug, Subcommand)]
pub enum ManifestCommand {
    /// Hash every file under DIR and write the manifest.
    Create {
        /// Dataset or model directory.
        dir: PathBuf,
        /// Where to write the manifest (stdout if omitted).
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Manifest format.
        #[arg(long, short, value_enum, default_value = "sha256sum")]
        format: Format,
        /// Hashing threads [default: number of cores]
        #[arg(long, short)]
        jobs: Option<usize>,
    },
}

/// Run a manifest subcommand.
pub fn run(cmd: ManifestCommand) -> u8 {
    let ManifestCommand::Create {
        dir,
        output,
        format,
        jobs,
    } = cmd;
    let format = match format {
        Format::Sha256sum => ManifestFormat::Sha256sum,
        Format::Json => ManifestFormat::Json,
    };
    let threads = jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    });
    let text = match manifest::create(&dir, format, output.as_deref(), threads) {
        Ok(t) => t,
        Err(e) => return usage_error(e),
    };
    match output {
        Some(path) => match std::fs::write(&path, text) {
            Ok(()) => {
                eprintln!("wrote {}", path.display());
                0
            }
            Err(e) => usage_error(format!("cannot write {}: {e}", path.display())),
        },
        None => {
            print!("{text}");
            0
        }
    }
}
