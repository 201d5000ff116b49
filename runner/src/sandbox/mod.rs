//! The sandbox: one wasmtime `Store` per gate run, with WASI p2 limited to
//! read-only preopens of the declared inputs, a writable preopen per declared
//! output, no network, no environment, no arguments, captured and capped
//! stdout/stderr, a memory limit, and a wall-clock deadline enforced both by
//! epoch interruption (CPU-bound guests) and by an async timeout (guests
//! waiting in a host call).
//!
//! Anything the plugin does wrong (trap, timeout, limit, malformed result) is
//! a [`GateFailure`] naming the cause; the runner never panics for a plugin.

mod capped;
pub mod host;
pub mod mounts;
mod outcome;

use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime::{Store, StoreLimitsBuilder, Trap, UpdateDeadline};
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

pub use self::host::{HostCaps, HostState, ProgressFn};
pub use self::mounts::{MountError, Mounts};
pub use self::outcome::{GateFailure, GateRun, ResultCaps, severity};
use crate::engine::GateEngine;
use crate::model::Limits;

/// Bindings generated from `wit/gate.wit` (async on both sides).
pub mod bindings {
    wasmtime::component::bindgen!({
        world: "gate",
        path: "../wit",
        imports: { default: async },
        exports: { default: async },
    });
}

use bindings::mlgate::gate::types::{Input, PluginInfo, RunContext, RunRequest};
use bindings::{Gate, GatePre};

/// Bytes of guest stdout+stderr kept per gate.
pub const OUTPUT_CAP: usize = 64 * 1024;

/// A component linked and pre-instantiated: instantiating it per gate run
/// costs tens of microseconds.
#[derive(Clone)]
pub struct PreparedPlugin {
    pre: GatePre<HostState>,
}

/// The linker shared by all plugins.
pub struct Sandbox {
    linker: Linker<HostState>,
}

/// Everything one run of a gate needs besides the plugin.
pub struct RunSpec {
    /// Gate id (for logs).
    pub gate_id: String,
    /// Input and output mounts.
    pub mounts: Arc<Mounts>,
    /// `with:` as JSON text.
    pub config_json: String,
    /// Pipeline, stage, gate id, commit, changed files.
    pub context: RunContext,
    /// Memory and time limits.
    pub limits: Limits,
    /// Host-interface caps.
    pub host_caps: HostCaps,
    /// Result caps.
    pub result_caps: ResultCaps,
    /// Progress callback.
    pub progress: Option<ProgressFn>,
}

impl Sandbox {
    /// Link WASI p2 and the mlgate host interface.
    pub fn new(engine: &GateEngine) -> anyhow::Result<Self> {
        let mut linker = Linker::new(engine.engine());
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        Gate::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
        Ok(Sandbox { linker })
    }

    /// Pre-instantiate a component that passed the import checks.
    pub fn prepare(
        &self,
        component: &wasmtime::component::Component,
    ) -> anyhow::Result<PreparedPlugin> {
        let pre = self.linker.instantiate_pre(component)?;
        Ok(PreparedPlugin {
            pre: GatePre::new(pre)?,
        })
    }

    /// Call `describe` in an empty sandbox.
    pub async fn describe(
        &self,
        engine: &GateEngine,
        plugin: &PreparedPlugin,
    ) -> Result<PluginInfo, GateFailure> {
        let limits = Limits {
            memory_bytes: 256 << 20,
            timeout: Duration::from_secs(10),
        };
        let mounts = Arc::new(Mounts::default());
        let (mut store, _out) =
            new_store(engine, &mounts, &limits, HostCaps::default(), None, None)
                .map_err(|e| GateFailure::Setup(format!("{e:#}")))?;
        let deadline = Instant::now() + limits.timeout;
        set_deadline(&mut store, deadline);
        let call = async {
            let gate = plugin.pre.instantiate_async(&mut store).await?;
            gate.call_describe(&mut store).await
        };
        match tokio::time::timeout(limits.timeout, call).await {
            Ok(Ok(info)) => Ok(info),
            Ok(Err(err)) => Err(outcome::classify(err, &limits, "")),
            Err(_) => Err(GateFailure::Timeout(limits.timeout)),
        }
    }

    /// Run a gate once. Never panics because of the plugin.
    pub async fn run(
        &self,
        engine: &GateEngine,
        plugin: &PreparedPlugin,
        spec: RunSpec,
    ) -> Result<GateRun, GateFailure> {
        let (mut store, output) = new_store(
            engine,
            &spec.mounts,
            &spec.limits,
            spec.host_caps,
            spec.progress.clone(),
            Some(spec.gate_id.clone()),
        )
        .map_err(|e| GateFailure::Setup(format!("{e:#}")))?;
        let inputs = spec
            .mounts
            .mounts
            .iter()
            .filter(|m| !m.writable)
            .map(|m| Input {
                name: m.name.clone(),
                path: m.guest_path(),
                is_dir: m.file_name.is_none(),
            })
            .collect();
        let output_dir = spec
            .mounts
            .mounts
            .iter()
            .find(|m| m.writable)
            .map(|m| m.guest_root.clone());
        let request = RunRequest {
            config: spec.config_json.clone(),
            inputs,
            output_dir,
            context: spec.context.clone(),
        };
        let deadline = Instant::now() + spec.limits.timeout;
        set_deadline(&mut store, deadline);
        let call = async {
            let gate = plugin.pre.instantiate_async(&mut store).await?;
            gate.call_run(&mut store, &request).await
        };
        let result = tokio::time::timeout(spec.limits.timeout, call).await;
        let (text, dropped) = output.contents();
        let state = store.data_mut();
        let logs = std::mem::take(&mut state.logs);
        let logs_dropped = state.logs_dropped + dropped;
        let captured = crate::sanitize::clean(&text, OUTPUT_CAP);
        match result {
            Err(_) => Err(GateFailure::Timeout(spec.limits.timeout)),
            Ok(Err(err)) => Err(outcome::classify(err, &spec.limits, &captured)),
            Ok(Ok(Err(gate_error))) => Err(GateFailure::PluginError {
                code: crate::sanitize::clean_line(&gate_error.code, 64),
                message: crate::sanitize::clean_line(&gate_error.message, 4000),
            }),
            Ok(Ok(Ok(result))) => {
                outcome::validate(result, &spec.mounts, &spec.result_caps).map(|mut run| {
                    run.logs = logs;
                    run.logs_dropped = logs_dropped;
                    run.output = captured;
                    run
                })
            }
        }
    }
}

fn new_store(
    engine: &GateEngine,
    mounts: &Arc<Mounts>,
    limits: &Limits,
    caps: HostCaps,
    progress: Option<ProgressFn>,
    gate_id: Option<String>,
) -> anyhow::Result<(Store<HostState>, capped::CappedPipe)> {
    let output = capped::CappedPipe::new(OUTPUT_CAP);
    let mut wasi = WasiCtxBuilder::new();
    // Must come before `preopened_dir`, which captures it: reads then run on
    // the current worker instead of hopping to a blocking thread (4.5 vs 3.1
    // GiB/s measured), and each read is bounded so deadlines still hold.
    wasi.allow_blocking_current_thread(true)
        .stdout(output.clone())
        .stderr(output.clone())
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        // Belt and braces for the linked-denied `wasi:sockets` imports: even
        // if socket creation were allowed, no address would be.
        .socket_addr_check(|_, _| Box::pin(async { false }));
    for mount in &mounts.mounts {
        let perms = if mount.writable {
            FsPerms::ReadWrite
        } else {
            FsPerms::ReadOnly
        };
        wasi.preopened_dir(&mount.host_root, &mount.guest_root, perms)?;
    }
    let limits = StoreLimitsBuilder::new()
        .memory_size(limits.memory_bytes as usize)
        .instances(32)
        .tables(64)
        .memories(8)
        .table_elements(1_000_000)
        .trap_on_grow_failure(true)
        .build();
    let mut table = ResourceTable::new();
    table.set_max_capacity(100_000);
    let state = HostState {
        wasi: wasi.build(),
        table,
        limits,
        mounts: mounts.clone(),
        caps,
        logs: Vec::new(),
        logs_dropped: 0,
        progress,
        echo_logs: gate_id,
    };
    let mut store = Store::new(engine.engine(), state);
    store.limiter(|s| &mut s.limits);
    // Bytes a single host call may copy out of the guest (a 10 M-line log
    // string, say): far above any honest use.
    store.set_hostcall_fuel(64 << 20);
    Ok((store, output))
}

/// Yield to the executor at every epoch tick (so the async timeout can fire
/// and other gates run), and trap once the wall-clock deadline has passed.
fn set_deadline(store: &mut Store<HostState>, deadline: Instant) {
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |_| {
        if Instant::now() >= deadline {
            Err(Trap::Interrupt.into())
        } else {
            Ok(UpdateDeadline::Yield(1))
        }
    });
}
