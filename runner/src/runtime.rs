//! The runtime: engine + sandbox + a table of loaded plugins, so each
//! component is resolved, checked, compiled (or loaded from the cache) and
//! pre-instantiated once per process however many gates use it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::engine::GateEngine;
use crate::model::PluginRef;
use crate::plugins::{self, PluginBytes, PluginError};
use crate::sandbox::{PreparedPlugin, Sandbox};

/// A plugin ready to run.
#[derive(Clone)]
pub struct LoadedPlugin {
    /// `builtin:NAME` or the path.
    pub label: String,
    /// SHA-256 of the component.
    pub sha256: String,
    /// Pre-instantiated component.
    pub prepared: PreparedPlugin,
    /// Whether the compiled code came from the disk cache.
    pub cached: bool,
    /// The component's imports (for `plugin inspect`).
    pub imports: Vec<String>,
    /// Size of the component in bytes.
    pub size: usize,
}

/// Engine, sandbox linker and loaded plugins.
pub struct Runtime {
    /// The engine (with its compile cache).
    pub engine: GateEngine,
    /// The linker.
    pub sandbox: Sandbox,
    loaded: Mutex<HashMap<String, Arc<Result<LoadedPlugin, PluginError>>>>,
}

impl Runtime {
    /// A runtime whose compile cache is in `cache_dir`.
    pub fn new(cache_dir: Option<std::path::PathBuf>) -> anyhow::Result<Self> {
        let engine = GateEngine::new(cache_dir)?;
        let sandbox = Sandbox::new(&engine)?;
        Ok(Runtime {
            engine,
            sandbox,
            loaded: Mutex::default(),
        })
    }

    /// Resolve, check and prepare a plugin (memoised by reference).
    pub fn load(&self, plugin: &PluginRef) -> Result<LoadedPlugin, PluginError> {
        let key = plugin.to_string();
        if let Some(done) = self.loaded.lock().unwrap().get(&key) {
            return (**done).clone();
        }
        let result = plugins::resolve(plugin).and_then(|bytes| self.prepare(bytes));
        self.loaded
            .lock()
            .unwrap()
            .insert(key, Arc::new(result.clone()));
        result
    }

    /// Check and prepare plugin bytes (no pin check: callers resolve first).
    pub fn prepare(&self, bytes: PluginBytes) -> Result<LoadedPlugin, PluginError> {
        let label = bytes.label.clone();
        plugins::check_is_component(&label, &bytes.wasm)?;
        let (component, cached) =
            self.engine
                .load(&bytes.wasm, &bytes.sha256)
                .map_err(|e| PluginError::Invalid {
                    label: label.clone(),
                    reason: format!("{e:#}"),
                })?;
        let imports: Vec<String> = component
            .component_type()
            .imports(self.engine.engine())
            .map(|(name, _)| name.to_string())
            .collect();
        plugins::check_imports(&label, &imports)?;
        let prepared = self
            .sandbox
            .prepare(&component)
            .map_err(|e| PluginError::Invalid {
                label: label.clone(),
                reason: format!(
                    "does not implement the mlgate:gate@{} world (exports `describe` and `run`): {e:#}",
                    plugins::WIT_VERSION
                ),
            })?;
        Ok(LoadedPlugin {
            label,
            sha256: bytes.sha256,
            prepared,
            cached,
            imports,
            size: bytes.wasm.len(),
        })
    }
}
