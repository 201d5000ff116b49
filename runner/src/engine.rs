//! The wasmtime engine and the on-disk compile cache.
//!
//! Compiling a component with Cranelift costs 0.3-1.5 s; loading a
//! precompiled one with `deserialize_file` costs well under a millisecond. So
//! every component is compiled once and cached as `<sha256>-<compat>.cwasm`,
//! keyed by the `.wasm` SHA-256 and the engine's
//! `precompile_compatibility_hash` (wasmtime version, target, and the
//! settings baked into code: epoch interruption, component-model async).
//!
//! The cache directory is trusted (deserialising runs its code), so it lives
//! in the user's own cache dir, is written atomically, and a corrupt or
//! incompatible entry is recompiled rather than trusted.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use wasmtime::component::Component;
use wasmtime::{Config, Engine};

/// Epoch tick: the wall-clock deadline is checked this often.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The shared engine plus the compile cache.
pub struct GateEngine {
    engine: Engine,
    cache_dir: Option<PathBuf>,
    stop_ticker: Arc<AtomicBool>,
}

impl GateEngine {
    /// An engine with epoch interruption (deadlines) and a cache in
    /// `cache_dir` (`None`: compile every time).
    pub fn new(cache_dir: Option<PathBuf>) -> anyhow::Result<Self> {
        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .epoch_interruption(true)
            .cranelift_opt_level(wasmtime::OptLevel::Speed)
            // Deep recursion in a guest traps with a stack overflow instead of
            // touching the host's stack.
            .max_wasm_stack(1 << 20);
        let engine =
            Engine::new(&config).map_err(|e| wasm_err(e, "creating the wasmtime engine"))?;
        let stop_ticker = Arc::new(AtomicBool::new(false));
        let ticker_engine = engine.weak();
        let stop = stop_ticker.clone();
        std::thread::Builder::new()
            .name("mlgate-epoch".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    match ticker_engine.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                }
            })
            .context("starting the epoch thread")?;
        if let Some(dir) = &cache_dir {
            // Best effort: an unwritable cache only costs compile time.
            let _ = std::fs::create_dir_all(dir);
        }
        Ok(GateEngine {
            engine,
            cache_dir,
            stop_ticker,
        })
    }

    /// The wasmtime engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The default cache directory: `$MLGATE_CACHE_DIR`, else
    /// `$XDG_CACHE_HOME/mlgate`, else `~/.cache/mlgate`.
    pub fn default_cache_dir() -> Option<PathBuf> {
        if let Some(dir) = std::env::var_os("MLGATE_CACHE_DIR") {
            return Some(PathBuf::from(dir));
        }
        if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
            return Some(PathBuf::from(dir).join("mlgate"));
        }
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache").join("mlgate"))
    }

    /// Where the compiled form of a component with this SHA-256 is cached.
    pub fn cache_path(&self, wasm_sha256: &str) -> Option<PathBuf> {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.engine
            .precompile_compatibility_hash()
            .hash(&mut hasher);
        let compat = hasher.finish();
        self.cache_dir
            .as_ref()
            .map(|d| d.join(format!("{wasm_sha256}-{compat:016x}.cwasm")))
    }

    /// Load a component: from the cache when present, else compile it and
    /// store the result. `wasm` must already be checked to be a component.
    /// Returns the component and whether it came from the cache.
    pub fn load(&self, wasm: &[u8], wasm_sha256: &str) -> anyhow::Result<(Component, bool)> {
        let cache_path = self.cache_path(wasm_sha256);
        if let Some(path) = &cache_path
            && path.exists()
        {
            // SAFETY: the cache holds only artifacts this program wrote with
            // `precompile_component` for the same engine settings (the
            // compatibility hash is in the name, and wasmtime re-checks it);
            // the directory belongs to the user running mlgate.
            match unsafe { Component::deserialize_file(&self.engine, path) } {
                Ok(component) => return Ok((component, true)),
                Err(err) => {
                    tracing::warn!("ignoring unusable cache entry {}: {err:#}", path.display());
                    let _ = std::fs::remove_file(path);
                }
            }
        }
        let compiled = self
            .engine
            .precompile_component(wasm)
            .map_err(|e| wasm_err(e, "compiling the component"))?;
        if let Some(path) = &cache_path
            && let Err(err) = write_atomically(path, &compiled)
        {
            tracing::debug!("cannot write cache entry {}: {err}", path.display());
        }
        // SAFETY: `compiled` was produced by `precompile_component` on this
        // very engine a moment ago.
        let component = unsafe { Component::deserialize(&self.engine, &compiled) }
            .map_err(|e| wasm_err(e, "loading the compiled component"))?;
        Ok((component, false))
    }
}

impl Drop for GateEngine {
    fn drop(&mut self) {
        self.stop_ticker.store(true, Ordering::Relaxed);
    }
}

fn wasm_err(err: wasmtime::Error, what: &'static str) -> anyhow::Error {
    anyhow::Error::from(err).context(what)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut tmp, bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
