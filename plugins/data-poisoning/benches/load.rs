//! Load time per file (CSV, Parquet of any codec), native release build:
//! `cargo bench -p mlgate-plugin-data-poisoning --bench load -- FILE...`
//! prints the best of 3 loads and checks every file holds the same cells.

use std::time::Instant;

use mlgate_plugin_data_poisoning::{config::Config, load};

fn main() {
    let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let cfg = Config::default();
    let mut first: Option<Vec<u64>> = None;
    for arg in std::env::args().skip(1).filter(|a| !a.starts_with("--")) {
        let path = root.join(&arg);
        let format = load::format_of(&path, None).expect("format");
        let mut best = f64::INFINITY;
        let mut table = None;
        for _ in 0..3 {
            let t = Instant::now();
            let loaded = load::load(&path, format, &cfg.label_column, cfg.max_rows).expect("load");
            best = best.min(t.elapsed().as_secs_f64());
            table = Some(loaded);
        }
        let table = table.expect("loaded");
        let cells: Vec<u64> = table
            .columns
            .iter()
            .flat_map(|c| c.values.iter().map(|v| v.to_bits()))
            .collect();
        let same = first.get_or_insert_with(|| cells.clone()) == &cells;
        println!(
            "{arg}: {} rows x {} columns, load {best:.3} s (best of 3), same cells as the first file: {same}",
            table.rows,
            table.columns.len()
        );
    }
}
