//! The `ml-code` gate on a source tree, natively (release), with the
//! process CPU time beside the wall time (the machine is shared: CPU time is
//! the steadier figure). For profiling the scan outside the sandbox; the
//! sandbox figure comes from `benches/precommit/bench.py`, which writes the
//! 50 000-file tree this defaults to.
//!
//! ```text
//! CARGO_TARGET_DIR=target/h-x cargo bench -p mlgate-plugin-ml-code --bench tree \
//!     -- target/bench-precommit/tree
//! ```

use std::path::PathBuf;
use std::time::Instant;

use mlgate_plugin_ml_code::MlCode;
use mlgate_plugin_sdk::{Gate, Request};

/// User + system CPU seconds of this process (Linux `/proc/self/stat`).
fn cpu_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let t = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (t(11) + t(12)) / 100.0
}

fn main() {
    let dir = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../target/bench-precommit/tree"
            ))
        });
    // `cargo bench` runs in the crate's directory: a relative path is taken
    // from the workspace root when it is not found there.
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let dir = if dir.is_relative() && !dir.is_dir() {
        root.join(dir)
    } else {
        dir
    };
    if !dir.is_dir() {
        eprintln!(
            "{}: not a directory (run benches/precommit/bench.py once to write it)",
            dir.display()
        );
        std::process::exit(2);
    }
    let request = Request::for_test(serde_json::json!({}), &[("paths", dir.as_path())]);
    let (t0, c0) = (Instant::now(), cpu_s());
    let result = MlCode::run(&request).expect("gate runs");
    let (wall, cpu) = (t0.elapsed().as_secs_f64(), cpu_s() - c0);
    println!(
        "ml-code native: {} findings ({}), {wall:.2} s wall, {cpu:.2} s CPU",
        result.findings.len(),
        result.summary
    );
}
