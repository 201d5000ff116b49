//! The host side of the `mlgate:gate/host` interface: logging, progress and
//! native hashing, each bounding what the guest controls.

use std::sync::Arc;

use wasmtime::StoreLimits;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::mlgate::gate::host::{self, DigestAlgorithm, DigestRequest, LogLevel};
use super::bindings::mlgate::gate::types;
use super::mounts::Mounts;
use crate::digest::{self, Algorithm, Job};
use crate::report::model::LogLine;
use crate::sanitize;

/// Caps on what a plugin may send through the host interface.
#[derive(Debug, Clone, Copy)]
pub struct HostCaps {
    /// Log lines kept per gate.
    pub max_log_lines: usize,
    /// Characters kept per log line.
    pub max_log_line_chars: usize,
    /// Files per `digest-batch` call.
    pub max_digest_batch: usize,
    /// Threads for `digest-batch`.
    pub digest_threads: usize,
}

impl Default for HostCaps {
    fn default() -> Self {
        HostCaps {
            max_log_lines: 1000,
            max_log_line_chars: 2000,
            max_digest_batch: 100_000,
            digest_threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
        }
    }
}

/// Called with `(done, total)` when the plugin reports progress.
pub type ProgressFn = Arc<dyn Fn(u64, u64) + Send + Sync>;

/// Per-gate store state.
pub struct HostState {
    pub(super) wasi: WasiCtx,
    pub(super) table: ResourceTable,
    pub(super) limits: StoreLimits,
    pub(super) mounts: Arc<Mounts>,
    pub(super) caps: HostCaps,
    pub(super) logs: Vec<LogLine>,
    pub(super) logs_dropped: u64,
    pub(super) progress: Option<ProgressFn>,
    pub(super) echo_logs: Option<String>,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl types::Host for HostState {}

fn level_name(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Debug => "debug",
        LogLevel::Info => "info",
        LogLevel::Warn => "warn",
        LogLevel::Error => "error",
    }
}

fn algorithm(a: DigestAlgorithm) -> Algorithm {
    match a {
        DigestAlgorithm::Sha256 => Algorithm::Sha256,
        DigestAlgorithm::Sha512 => Algorithm::Sha512,
        DigestAlgorithm::Blake2b512 => Algorithm::Blake2b512,
    }
}

impl host::Host for HostState {
    async fn log(&mut self, level: LogLevel, message: String) {
        if self.logs.len() >= self.caps.max_log_lines {
            self.logs_dropped += 1;
            return;
        }
        let message = sanitize::clean_line(&message, self.caps.max_log_line_chars);
        if let Some(gate) = &self.echo_logs {
            tracing::info!(target: "mlgate::plugin", "[{gate}] {}: {message}", level_name(level));
        }
        self.logs.push(LogLine {
            level: level_name(level),
            message,
        });
    }

    async fn progress(&mut self, done: u64, total: u64) {
        if let Some(progress) = &self.progress {
            progress(done.min(total.max(done)), total);
        }
    }

    async fn digest(&mut self, path: String, algo: DigestAlgorithm) -> Result<Vec<u8>, String> {
        let host_path = self.mounts.host_path(&path)?;
        let algo = algorithm(algo);
        tokio::task::spawn_blocking(move || digest::hash_file(&host_path, algo, None))
            .await
            .map_err(|e| format!("{path}: hashing task failed: {e}"))?
            .map_err(|e| format!("{path}: {e}"))
    }

    async fn digest_batch(&mut self, requests: Vec<DigestRequest>) -> Vec<Result<Vec<u8>, String>> {
        if requests.len() > self.caps.max_digest_batch {
            let msg = format!(
                "digest-batch of {} files exceeds the cap of {}",
                requests.len(),
                self.caps.max_digest_batch
            );
            return requests.iter().map(|_| Err(msg.clone())).collect();
        }
        let mut results: Vec<Option<Result<Vec<u8>, String>>> = vec![None; requests.len()];
        let mut jobs = Vec::new();
        let mut slots = Vec::new();
        for (i, req) in requests.iter().enumerate() {
            match self.mounts.host_path(&req.path) {
                Ok(path) => {
                    jobs.push(Job {
                        path,
                        algorithm: algorithm(req.algorithm),
                        range: req.range.map(|r| (r.offset, r.length)),
                    });
                    slots.push(i);
                }
                Err(e) => results[i] = Some(Err(e)),
            }
        }
        let threads = self.caps.digest_threads;
        let hashed = tokio::task::spawn_blocking(move || digest::hash_many(&jobs, threads))
            .await
            .unwrap_or_default();
        for (slot, outcome) in slots.iter().zip(hashed) {
            results[*slot] = Some(outcome.map_err(|e| format!("{}: {e}", requests[*slot].path)));
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err("not hashed".to_string())))
            .collect()
    }
}
