//! Native scorer for the quality benchmark (`benches/data-poisoning/`): runs
//! the same detectors the gate runs on one CSV and prints one line per
//! flagged row (`row,kind,score`), with the timing on stderr.
//!
//! ```text
//! cargo run --release -p mlgate-plugin-data-poisoning --example score -- data.csv [label]
//! ```

use std::time::Instant;

use mlgate_plugin_data_poisoning::{config::Config, detect, load};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: score DATA.csv [LABEL_COLUMN]");
        std::process::exit(2);
    };
    let cfg = Config {
        label_column: args.next().unwrap_or_else(|| "label".into()),
        ..Config::default()
    };
    let start = Instant::now();
    let path = std::path::Path::new(&path);
    let format = load::format_of(path, None).expect("format");
    let table = load::load(path, format, &cfg.label_column, cfg.max_rows).expect("load");
    let loaded = start.elapsed();
    let det = detect::detect(&table, &cfg).expect("detect");
    let total = start.elapsed();
    println!("row,kind,score");
    for f in &det.flags {
        println!("{},{},{:.5}", f.row, f.kind.as_str(), f.score);
    }
    eprintln!(
        "rows={} load_s={:.3} total_s={:.3}",
        table.rows,
        loaded.as_secs_f64(),
        total.as_secs_f64()
    );
}
