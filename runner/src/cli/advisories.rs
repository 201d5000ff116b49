//! `mlgate advisories fetch|status`: the host's copy of OSV's PyPI advisories,
//! which `builtin:pip-audit` gates use when they declare no `advisories` input.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::usage_error;
use crate::advisories::{self, fetch, store};
use crate::pipeline::units;

/// `mlgate advisories`.
#[derive(Debug, Subcommand)]
pub enum AdvisoriesCommand {
    /// Download OSV's PyPI advisory archive, verify it and store it.
    Fetch(FetchArgs),
    /// Show the newest stored database: where, how old, how many records.
    Status(StatusArgs),
}

/// `mlgate advisories fetch`.
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// Archive URL (an OSV per-ecosystem `all.zip`).
    #[arg(long, default_value = fetch::DEFAULT_URL)]
    pub url: String,
    /// Store directory [default: $MLGATE_ADVISORIES_DIR, else $XDG_CACHE_HOME/mlgate/advisories,
    /// else ~/.cache/mlgate/advisories]
    #[arg(long, short, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Largest download accepted, e.g. 1GiB.
    #[arg(long, default_value = "1GiB")]
    pub max_size: String,
    /// No progress line.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `mlgate advisories status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Store directory [default: as for `fetch`]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Run an `advisories` command.
pub fn run(cmd: AdvisoriesCommand) -> u8 {
    match cmd {
        AdvisoriesCommand::Fetch(args) => fetch_cmd(args),
        AdvisoriesCommand::Status(args) => status(args),
    }
}

fn store_dir(given: Option<PathBuf>) -> Result<PathBuf, u8> {
    given.or_else(advisories::default_dir).ok_or_else(|| {
        usage_error("no store directory: set MLGATE_ADVISORIES_DIR or HOME, or pass one")
    })
}

fn fetch_cmd(args: FetchArgs) -> u8 {
    let dir = match store_dir(args.output) {
        Ok(d) => d,
        Err(c) => return c,
    };
    let max_bytes = match units::parse_size(&args.max_size) {
        Ok(n) => n,
        Err(e) => return usage_error(format!("--max-size: {e}")),
    };
    let before = store::newest(&dir);
    let opts = fetch::Options {
        url: args.url,
        dir,
        max_bytes,
        progress: !args.quiet,
    };
    if !args.quiet {
        eprintln!("fetching {}", opts.url);
    }
    match fetch::fetch(&opts) {
        Ok(stored) => {
            println!("stored {}", stored.zip.display());
            println!("  {}", describe(&stored));
            0
        }
        Err(e) => {
            let kept = match before {
                Some(s) => format!(
                    "the stored database is unchanged: {} (fetched {} ago)",
                    s.zip.display(),
                    store::human_age(s.age())
                ),
                None => "no database is stored".into(),
            };
            usage_error(format!("{e}\n{kept}"))
        }
    }
}

/// `12345 records (12000 PyPI), data of 2026-11-25, fetched 3 hours ago (…), 45.1 MiB, sha256 …`.
fn describe(s: &store::Stored) -> String {
    let m = &s.meta;
    let data = m
        .newest_modified
        .as_deref()
        .map(|d| &d[..d.len().min(10)])
        .unwrap_or("unknown");
    format!(
        "{} records ({} PyPI), data of {data}, fetched {} ago ({}), {:.1} MiB, sha256 {}",
        m.records,
        m.pypi_records,
        store::human_age(s.age()),
        m.fetched_at,
        m.bytes as f64 / 1_048_576.0,
        m.sha256
    )
}

fn status(args: StatusArgs) -> u8 {
    let dir = match store_dir(args.dir) {
        Ok(d) => d,
        Err(c) => return c,
    };
    let newest = store::newest(&dir);
    if args.json {
        let value = match &newest {
            Some(s) => serde_json::json!({
                "dir": dir, "path": s.zip, "age_seconds": s.age().as_secs(), "meta": s.meta,
            }),
            None => serde_json::json!({ "dir": dir, "path": null }),
        };
        println!("{value:#}");
    }
    match newest {
        Some(s) => {
            if !args.json {
                println!("{}", s.zip.display());
                println!("  {}", describe(&s));
            }
            0
        }
        None => {
            eprintln!(
                "no advisory database in {}: run `mlgate advisories fetch`",
                dir.display()
            );
            1
        }
    }
}
