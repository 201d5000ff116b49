//! Scan files natively and print one line per finding (for debugging and
//! for the peer benchmark): `cargo run --release -p mlgate-plugin-model-scan
//! --example scan -- FILE...`. Prints `FILE<TAB>max-severity<TAB>count`
//! per file with `--summary`; `--time` prints the scan time (files opened
//! and scanned, process start excluded) to stderr as `scan-seconds<TAB>S`.

use mlgate_plugin_model_scan::config::Config;
use mlgate_plugin_model_scan::scan::Scanner;

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let summary = args.iter().any(|a| a == "--summary");
    let time = args.iter().any(|a| a == "--time");
    args.retain(|a| a != "--summary" && a != "--time");
    let start = std::time::Instant::now();
    let cfg = Config::default();
    let mut scanner = Scanner::new(&cfg);
    for path in args {
        let hits = scanner.scan_file(std::path::Path::new(&path));
        if summary {
            let max = hits
                .iter()
                .map(|h| h.severity.as_str())
                .max_by_key(|s| rank(s));
            println!("{path}\t{}\t{}", max.unwrap_or("none"), hits.len());
            continue;
        }
        for h in hits {
            let member = h.member.join("!");
            let global = h
                .props
                .iter()
                .find(|(k, _)| k == "global")
                .map(|(_, v)| v.as_str())
                .unwrap_or("");
            println!(
                "{path}\t{}\t{}\t{member}\t{:?}\t{global}\t{}",
                h.severity.as_str(),
                h.rule,
                h.offset,
                h.message
            );
        }
    }
    if time {
        eprintln!("scan-seconds\t{:.6}", start.elapsed().as_secs_f64());
    }
}

fn rank(s: &str) -> u8 {
    ["none", "info", "low", "medium", "high", "critical"]
        .iter()
        .position(|x| *x == s)
        .unwrap_or(0) as u8
}
