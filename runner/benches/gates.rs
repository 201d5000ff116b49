//! Runner overhead benchmark (`cargo bench -p mlgate --bench gates`).
//!
//! Prints:
//! 1. per-gate runner overhead with a warm compile cache: a trivial gate
//!    (the test guest with `attack: none`) run N times through the real
//!    sandbox (mounts, store, WASI, instantiate, call, validate);
//! 2. a 100-gate pipeline of trivial gates end to end through the binary
//!    (`mlgate run`, warm cache), wall time;
//! 3. cold compile time of each built-in plugin (Cranelift, no cache).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mlgate::model::{
    FailOn, GateSpec, Limits, PathBinding, Pipeline, PluginRef, Position, Severity, Stage,
};
use mlgate::plugins;
use mlgate::runtime::Runtime;
use mlgate::scheduler::{self, RunOptions, Silent};

fn guest() -> PathBuf {
    PathBuf::from(env!("MLGATE_GUEST_WASM_DIR")).join("mlgate_hostile.wasm")
}

fn trivial_gate(id: String, plugin: PluginRef, input: &std::path::Path) -> GateSpec {
    GateSpec {
        id,
        stage: Stage::Training,
        plugin,
        needs: vec![],
        inputs: vec![PathBinding {
            name: "data".into(),
            declared: "data.txt".into(),
            path: input.to_path_buf(),
        }],
        outputs: vec![],
        config: serde_json::json!({ "attack": "none" }),
        limits: Limits::default(),
        fail_on: FailOn::At(Severity::High),
        position: Position::default(),
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("data.txt");
    std::fs::write(&input, "x").unwrap();
    let cache = dir.path().join("cache");
    let wasm = guest();
    let sha256 = plugins::read_file(&wasm).unwrap().sha256;
    let plugin = PluginRef::File {
        path: wasm.clone(),
        sha256: sha256.clone(),
    };

    // 1. Per-gate overhead through the scheduler, one gate at a time.
    let runtime = Arc::new(Runtime::new(Some(cache.clone())).unwrap());
    runtime.load(&plugin).unwrap(); // compile + cache, not timed
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let n = 1000;
    let pipeline = Arc::new(Pipeline {
        name: "bench".into(),
        file: "bench.yaml".into(),
        project_dir: dir.path().to_path_buf(),
        gates: vec![trivial_gate("g".into(), plugin.clone(), &input)],
        tickets: vec![],
    });
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let options = RunOptions {
            jobs: 1,
            git_commit: None,
            changed_files: vec![],
            narrow: None,
            suppress: None,
            observer: Arc::new(Silent),
        };
        let start = Instant::now();
        let report = tokio.block_on(scheduler::run(
            runtime.clone(),
            pipeline.clone(),
            Arc::new(vec![vec![]]),
            &[0],
            options,
        ));
        times.push(start.elapsed());
        assert_eq!(
            report.gates[0].status.as_str(),
            "pass",
            "{:?}",
            report.gates[0].reason
        );
    }
    println!(
        "trivial gate, warm cache, in-process (scheduler+mounts+store+instantiate+call): median {:.3} ms over {n} runs (goal < 1 ms)",
        median(times).as_secs_f64() * 1e3
    );

    // 2. 100 trivial gates end to end through the binary.
    let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/release/mlgate");
    if bin.exists() {
        std::fs::copy(&wasm, dir.path().join("g.wasm")).unwrap();
        let mut yaml = String::from("version: 1\nname: hundred\ngates:\n");
        for i in 0..100 {
            yaml.push_str(&format!(
                "  g{i}:\n    stage: training\n    plugin: g.wasm\n    sha256: {sha256}\n    inputs: {{ data: data.txt }}\n    with: {{ attack: none }}\n"
            ));
        }
        std::fs::write(dir.path().join("mlgate.yaml"), yaml).unwrap();
        let run = || {
            let start = Instant::now();
            let out = std::process::Command::new(&bin)
                .env("MLGATE_CACHE_DIR", &cache)
                .arg("run")
                .arg(dir.path().join("mlgate.yaml"))
                .arg("--project")
                .arg(dir.path())
                .args(["--format", "json", "--quiet"])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stdout)
            );
            start.elapsed()
        };
        run(); // warm the cache for the copied file
        let times: Vec<Duration> = (0..5).map(|_| run()).collect();
        println!(
            "100-gate pipeline of trivial gates, `mlgate run`, warm cache: median {:.1} ms over 5 runs (goal < 1000 ms)",
            median(times).as_secs_f64() * 1e3
        );
    } else {
        println!(
            "100-gate pipeline: skipped, build target/release/mlgate first (cargo build --release)"
        );
    }

    // 3. Cold compile of each built-in plugin.
    let engine = mlgate::engine::GateEngine::new(None).unwrap();
    for name in plugins::builtin_names() {
        let bytes = plugins::builtin(name).unwrap();
        let start = Instant::now();
        engine.engine().precompile_component(&bytes.wasm).unwrap();
        println!(
            "cold compile builtin:{name} ({} KiB): {:.0} ms",
            bytes.wasm.len() / 1024,
            start.elapsed().as_secs_f64() * 1e3
        );
    }
}
