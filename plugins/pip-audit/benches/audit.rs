//! Benchmark: the whole gate run (parse the lockfile, load the OSV database
//! keeping the lockfile's packages, match, hygiene, findings), natively.
//! `cargo bench -p mlgate-plugin-pip-audit --bench audit -- LOCKFILE DB`
//! (benches/pip-audit/run.sh makes the lockfile and compares with Python).

use std::path::PathBuf;
use std::time::Instant;

use mlgate_plugin_sdk::Request;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let (Some(lock), Some(db)) = (args.first(), args.get(1)) else {
        eprintln!("usage: audit LOCKFILE ADVISORIES (see benches/pip-audit/run.sh)");
        return;
    };
    let (lock, db) = (PathBuf::from(lock), PathBuf::from(db));
    let request = Request::for_test(
        serde_json::json!({"max_db_age_days": 100000}),
        &[("lockfile", &lock), ("advisories", &db)],
    );
    let cpu_before = cpu_ms();
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..15 {
        let start = Instant::now();
        let result = mlgate_plugin_pip_audit::gate::run(&request).expect("gate run");
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        last = Some(result);
    }
    let cpu_per_run = (cpu_ms() - cpu_before) / 15.0;
    times.sort_by(f64::total_cmp);
    if std::env::var_os("PHASES").is_some() {
        use mlgate_plugin_pip_audit::{lock, names::normalize, osv::db::Database};
        let t = Instant::now();
        let parsed =
            lock::parse(&lock, lock::Format::Requirements, lock.parent().unwrap()).unwrap();
        let t_lock = t.elapsed();
        let wanted: std::collections::HashSet<String> = parsed
            .requirements
            .iter()
            .map(|r| normalize(&r.name))
            .collect();
        let t = Instant::now();
        let _all = Database::load(&db, None).unwrap();
        let t_all = t.elapsed();
        let t = Instant::now();
        let some = Database::load(&db, Some(&wanted)).unwrap();
        let t_some = t.elapsed();
        let t = Instant::now();
        let mut n = 0;
        for r in &parsed.requirements {
            for rec in some.records_for(&r.normalized) {
                n += usize::from(
                    mlgate_plugin_pip_audit::osv::matcher::evaluate(
                        rec,
                        &r.normalized,
                        &mlgate_plugin_pip_audit::osv::matcher::Installed::new(
                            r.version.as_deref().unwrap(),
                        ),
                    )
                    .affected,
                );
            }
        }
        println!(
            "phases: lock {:?}, db(all) {:?}, db(wanted) {:?}, match {:?} ({n} hits)",
            t_lock,
            t_all,
            t_some,
            t.elapsed()
        );
    }
    let result = last.unwrap();
    println!(
        "native gate run: median {:.1} ms (min {:.1}, max {:.1}, 15 runs; CPU {:.1} ms/run); {}",
        times[times.len() / 2],
        times[0],
        times[times.len() - 1],
        cpu_per_run,
        result.summary
    );
}

/// User + system CPU time of this process in ms (Linux `/proc/self/stat`,
/// 10 ms ticks), so a loaded machine's waiting does not count; 0 elsewhere.
fn cpu_ms() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let after = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<f64>().ok())
        .sum();
    ticks * 10.0
}
