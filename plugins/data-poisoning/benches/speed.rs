//! Time of each detector on one CSV, natively (release), with the process
//! CPU time beside the wall time (the machine is shared: CPU time is the
//! steadier figure). The sandbox figure comes from
//! `benches/data-poisoning/speed.sh`, which runs this too.
//!
//! ```text
//! CARGO_TARGET_DIR=target/h-poison cargo bench -p mlgate-plugin-data-poisoning \
//!     --bench speed -- target/bench-data-poisoning/big-clean.csv
//! ```
//! (the 200k x 20 CSV is written by `benches/data-poisoning/bench.py`).

use std::time::Instant;

use mlgate_plugin_data_poisoning::{
    backdoor, config::Config, detect, features, knn, load, outliers, softmax,
};

/// User + system CPU seconds of this process (Linux `/proc/self/stat`).
fn cpu_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let t = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (t(11) + t(12)) / 100.0
}

/// The kNN kernel before blocking (one query at a time over column-major
/// references), kept here to print the speed-up from the same run.
fn knn_one_query_at_a_time(f: &features::Features, refs: &[usize], k: usize) -> Vec<f32> {
    let m = refs.len();
    let mut cols = vec![0f32; f.d * m];
    for j in 0..f.d {
        for (r, &row) in refs.iter().enumerate() {
            cols[j * m + r] = f.x[row * f.d + j];
        }
    }
    let mut acc = vec![0f32; m];
    let mut out = vec![f32::INFINITY; f.n * k];
    for q in 0..f.n {
        acc.iter_mut().for_each(|a| *a = 0.0);
        for j in 0..f.d {
            let v = f.x[q * f.d + j];
            for (a, &c) in acc.iter_mut().zip(&cols[j * m..(j + 1) * m]) {
                let t = c - v;
                *a += t * t;
            }
        }
        let bd = &mut out[q * k..(q + 1) * k];
        for (r, &dd) in acc.iter().enumerate() {
            if dd >= bd[k - 1] || refs[r] == q {
                continue;
            }
            let mut p = k - 1;
            while p > 0 && bd[p - 1] > dd {
                bd[p] = bd[p - 1];
                p -= 1;
            }
            bd[p] = dd;
        }
    }
    out
}

/// Runs `f`, printing its wall and CPU time.
fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let (w, c) = (Instant::now(), cpu_s());
    let out = f();
    println!(
        "{what:<28} wall {:>7.3} s   cpu {:>7.2} s",
        w.elapsed().as_secs_f64(),
        cpu_s() - c
    );
    out
}

fn main() {
    let path = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .unwrap_or_else(|| "target/bench-data-poisoning/big-clean.csv".into());
    // `cargo bench` runs in the crate's directory: relative paths are from
    // the repository root.
    let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let path = root.join(path);
    let path = path.as_path();
    if !path.exists() {
        eprintln!(
            "{} is missing: write it with benches/data-poisoning/bench.py (200k x 20), \
             or pass a CSV path",
            path.display()
        );
        std::process::exit(2);
    }
    let cfg = Config::default();
    let format = load::format_of(path, None).expect("format");
    let table = timed("load (csv parse)", || {
        load::load(path, format, &cfg.label_column, cfg.max_rows).expect("load")
    });
    let f = timed("features", || {
        features::build(&table, &cfg).expect("features")
    });
    println!("rows {} dims {} classes {}", f.n, f.d, f.k());
    let all: Vec<usize> = (0..f.n).collect();
    let refs = knn::reference_rows(f.n, f.d, knn::WORK_BUDGET);
    let k = cfg.detectors.k.min(refs.len() - 1);
    let nb = timed(&format!("knn ({} refs, k={k})", refs.len()), || {
        knn::search(&f, &all, &refs, k, &[])
    });
    let before = timed("knn, previous kernel", || {
        knn_one_query_at_a_time(&f, &refs, k)
    });
    assert_eq!(
        before, nb.dist,
        "the blocked kNN must give the same distances"
    );
    timed("softmax 5-fold", || softmax::cross_val_probs(&f));
    let numeric: Vec<usize> = (0..f.d).collect();
    timed("ecod", || outliers::ecod(&f, &numeric));
    let dist = outliers::knn_scores(&nb, f.n);
    timed("outliers (ecod + knn z)", || {
        outliers::find(&table, &f, Some(&dist), 5.0, 8.0)
    });
    let cols: Vec<usize> = (0..table.columns.len())
        .filter(|&c| table.columns[c].name != cfg.label_column)
        .collect();
    timed("backdoor", || {
        backdoor::find(&table, &f, &cols, &refs, k, 0.1)
    });
    let det = timed("detect (all detectors)", || {
        detect::detect(&table, &cfg).expect("detect")
    });
    println!("flagged {}", det.flags.len());
}
