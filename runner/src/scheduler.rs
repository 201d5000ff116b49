//! The scheduler: runs the selected gates of a pipeline, stage by stage
//! (pre-commit, training, deployment), and inside a stage every gate whose
//! `needs` are done, in parallel up to `jobs`. A gate whose need failed,
//! errored or was skipped is itself skipped, and its reason names the gate.
//! Ctrl-C stops running gates (their stores are dropped), marks them
//! `error`, skips the rest, and still returns a full report.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::model::{FailOn, GateSpec, Pipeline, Stage};
use crate::narrow::{ChangeSet, Plan};
use crate::policy::{self, Verdict};
use crate::report::model::{Finding, GateReport, GateStatus, Narrowed, RunReport, Suppressed};
use crate::runtime::Runtime;
use crate::sandbox::bindings::mlgate::gate::types::RunContext;
use crate::sandbox::{GateFailure, HostCaps, Mounts, ProgressFn, ResultCaps, RunSpec};

/// Decides whether a finding of a gate is suppressed; returns the reason.
pub type SuppressFn = Arc<dyn Fn(&str, &Finding) -> Option<String> + Send + Sync>;

/// Hooks for live progress display.
pub trait Observer: Send + Sync {
    /// A gate started.
    fn started(&self, _gate: &GateSpec) {}
    /// A gate reported progress.
    fn progress(&self, _gate: &str, _done: u64, _total: u64) {}
    /// A gate finished (or was skipped).
    fn finished(&self, _report: &GateReport) {}
}

/// An observer that shows nothing.
pub struct Silent;
impl Observer for Silent {}

/// How to run.
#[derive(Clone)]
pub struct RunOptions {
    /// Gates running at once.
    pub jobs: usize,
    /// Git commit of the project, if any.
    pub git_commit: Option<String>,
    /// Project-relative changed files, for every gate's run context (empty
    /// when the run is not narrowed).
    pub changed_files: Vec<String>,
    /// When set, pre-commit gates see only these changed files (see
    /// [`crate::narrow`]).
    pub narrow: Option<Arc<ChangeSet>>,
    /// Suppressions.
    pub suppress: Option<SuppressFn>,
    /// Live display.
    pub observer: Arc<dyn Observer>,
}

/// The gate status for its unsuppressed findings (see [`policy::verdict`]).
fn verdict(fail_on: FailOn, findings: &[Finding]) -> GateStatus {
    match policy::verdict(fail_on, findings.iter().map(|f| f.severity)) {
        Verdict::Pass => GateStatus::Pass,
        Verdict::Warn => GateStatus::Warn,
        Verdict::Fail => GateStatus::Fail,
    }
}

/// Run `selection` (gate indices) of `pipeline`; `needs[i]` lists the gate
/// indices gate `i` needs. Returns the report with gates in run order.
pub async fn run(
    runtime: Arc<Runtime>,
    pipeline: Arc<Pipeline>,
    needs: Arc<Vec<Vec<usize>>>,
    selection: &[usize],
    options: RunOptions,
) -> RunReport {
    let started = Instant::now();
    let jobs = options.jobs.max(1);
    let semaphore = Arc::new(Semaphore::new(jobs));
    let mut reports: BTreeMap<usize, GateReport> = BTreeMap::new();
    let mut order: Vec<usize> = Vec::new();
    let mut interrupted = false;
    // Registered now, not on first poll, so a Ctrl-C during the first
    // compile is caught too.
    let mut ctrl_c = interrupt_signal();

    'stages: for stage in Stage::ALL {
        let mut pending: Vec<usize> = selection
            .iter()
            .copied()
            .filter(|&i| pipeline.gates[i].stage == stage)
            .collect();
        let mut running: HashSet<usize> = HashSet::new();
        let mut tasks: JoinSet<(usize, GateReport)> = JoinSet::new();
        while !pending.is_empty() || !running.is_empty() {
            // Start (or skip) every gate whose needs are all done.
            let mut still_pending = Vec::new();
            for i in pending.drain(..) {
                let gate_needs = &needs[i];
                if gate_needs.iter().any(|n| !reports.contains_key(n)) {
                    still_pending.push(i);
                    continue;
                }
                let gate = &pipeline.gates[i];
                if let Some(blocker) = gate_needs
                    .iter()
                    .find(|n| !lets_dependents_run(&reports[n]))
                {
                    let b = &reports[blocker];
                    let what = match b.status {
                        GateStatus::Fail => "failed",
                        GateStatus::Error => "errored",
                        _ => "was skipped",
                    };
                    let report = GateReport::skipped(
                        &gate.id,
                        &gate.plugin.to_string(),
                        gate.stage,
                        gate.fail_on.to_string(),
                        format!("needs `{}`, which {what}", b.id),
                    );
                    options.observer.finished(&report);
                    order.push(i);
                    reports.insert(i, report);
                    continue;
                }
                running.insert(i);
                let (rt, p, sem, opts) = (
                    runtime.clone(),
                    pipeline.clone(),
                    semaphore.clone(),
                    options.clone(),
                );
                tasks.spawn(async move {
                    let _permit = sem.acquire_owned().await.expect("semaphore closed");
                    let gate = &p.gates[i];
                    opts.observer.started(gate);
                    let report = run_gate(&rt, &p, gate, &opts).await;
                    (i, report)
                });
            }
            pending = still_pending;
            if running.is_empty() {
                if pending.is_empty() {
                    break;
                }
                // Needs that can never be met would be a graph bug; fail closed.
                for i in pending.drain(..) {
                    let gate = &pipeline.gates[i];
                    let report = GateReport::skipped(
                        &gate.id,
                        &gate.plugin.to_string(),
                        gate.stage,
                        gate.fail_on.to_string(),
                        "its needs were not selected".into(),
                    );
                    order.push(i);
                    reports.insert(i, report);
                }
                break;
            }
            tokio::select! {
                done = tasks.join_next() => {
                    match done {
                        Some(Ok((i, report))) => {
                            running.remove(&i);
                            options.observer.finished(&report);
                            order.push(i);
                            reports.insert(i, report);
                        }
                        Some(Err(join_error)) => {
                            // A panic inside the runner's own gate task: fail closed.
                            tracing::error!("gate task failed: {join_error}");
                            for i in running.drain() {
                                let gate = &pipeline.gates[i];
                                let mut r = GateReport::skipped(&gate.id, &gate.plugin.to_string(), gate.stage, gate.fail_on.to_string(), format!("runner task failed: {join_error}"));
                                r.status = GateStatus::Error;
                                order.push(i);
                                reports.insert(i, r);
                            }
                            tasks.abort_all();
                        }
                        None => {}
                    }
                }
                _ = ctrl_c.recv() => {
                    interrupted = true;
                    tasks.abort_all();
                    for i in running.drain() {
                        let gate = &pipeline.gates[i];
                        let mut r = GateReport::skipped(&gate.id, &gate.plugin.to_string(), gate.stage, gate.fail_on.to_string(), GateFailure::Interrupted.to_string());
                        r.status = GateStatus::Error;
                        options.observer.finished(&r);
                        order.push(i);
                        reports.insert(i, r);
                    }
                    break 'stages;
                }
            }
        }
    }
    if interrupted {
        for &i in selection {
            if let std::collections::btree_map::Entry::Vacant(slot) = reports.entry(i) {
                let gate = &pipeline.gates[i];
                slot.insert(GateReport::skipped(
                    &gate.id,
                    &gate.plugin.to_string(),
                    gate.stage,
                    gate.fail_on.to_string(),
                    "run interrupted (Ctrl-C) before this gate started".into(),
                ));
                order.push(i);
            }
        }
    }
    let gates: Vec<GateReport> = order
        .into_iter()
        .filter_map(|i| reports.remove(&i))
        .collect();
    RunReport {
        git: None,
        status: RunReport::status_of(&gates),
        pipeline: pipeline.name.clone(),
        mlgate_version: env!("CARGO_PKG_VERSION").to_string(),
        duration_ms: started.elapsed().as_millis() as u64,
        dry_run: false,
        skipped_side_effects: Vec::new(),
        interrupted,
        expired_suppressions: Vec::new(),
        gates,
    }
}

/// SIGINT as a stream; if it cannot be installed, a stream that never fires.
fn interrupt_signal() -> Interrupt {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()) {
        Ok(signal) => Interrupt(Some(signal)),
        Err(e) => {
            tracing::warn!("cannot watch for Ctrl-C: {e}");
            Interrupt(None)
        }
    }
}

struct Interrupt(Option<tokio::signal::unix::Signal>);

impl Interrupt {
    async fn recv(&mut self) {
        match &mut self.0 {
            Some(signal) => {
                signal.recv().await;
            }
            None => std::future::pending().await,
        }
    }
}

/// Run one gate: load its plugin, mount its inputs, run it in the sandbox,
/// apply suppressions and the threshold.
async fn run_gate(
    runtime: &Arc<Runtime>,
    pipeline: &Pipeline,
    gate: &GateSpec,
    options: &RunOptions,
) -> GateReport {
    let started = Instant::now();
    let mut report = GateReport::skipped(
        &gate.id,
        &gate.plugin.to_string(),
        gate.stage,
        gate.fail_on.to_string(),
        String::new(),
    );
    report.reason = None;
    let plan = match narrowing(gate, options) {
        Some((plan, narrowed)) if plan.files == 0 => {
            report.status = GateStatus::Skipped;
            report.reason = Some(nothing_changed_reason(gate, options));
            report.narrowed = Some(narrowed);
            return report;
        }
        Some((plan, narrowed)) => {
            report.narrowed = Some(narrowed);
            Some(plan)
        }
        None => None,
    };
    let outcome = execute(runtime, pipeline, gate, options, plan).await;
    report.duration_ms = started.elapsed().as_millis() as u64;
    match outcome {
        Err(failure) => {
            report.status = GateStatus::Error;
            report.reason = Some(failure.to_string());
        }
        Ok((run, cached)) => {
            report.cached = cached;
            let mut kept = Vec::new();
            for finding in run.findings {
                match options
                    .suppress
                    .as_ref()
                    .and_then(|s| s(&gate.id, &finding))
                {
                    Some(reason) => report.suppressed.push(Suppressed { finding, reason }),
                    None => kept.push(finding),
                }
            }
            report.status = verdict(gate.fail_on, &kept);
            report.findings = kept;
            report.summary = run.summary;
            report.metrics = run.metrics;
            report.logs = run.logs;
            report.logs_dropped = run.logs_dropped;
            report.output = run.output;
        }
    }
    report
}

/// Whether a finished gate lets the gates that need it run: it passed or
/// warned, or it was skipped only because nothing it reads changed.
fn lets_dependents_run(report: &GateReport) -> bool {
    report.status.lets_dependents_run()
        || (report.status == GateStatus::Skipped
            && report.narrowed.as_ref().is_some_and(|n| n.files == 0))
}

/// The narrowing of a pre-commit gate, when the run narrows.
fn narrowing(gate: &GateSpec, options: &RunOptions) -> Option<(Plan, Narrowed)> {
    let set = options.narrow.as_ref()?;
    if gate.stage != Stage::PreCommit || gate.inputs.is_empty() {
        return None;
    }
    let plan = set.plan(&gate.inputs);
    let narrowed = Narrowed {
        mode: set.mode().name().to_string(),
        since: match set.mode() {
            crate::narrow::Mode::Since(rev) => Some(rev.clone()),
            crate::narrow::Mode::Staged => None,
        },
        files: plan.files,
    };
    Some((plan, narrowed))
}

/// "no staged files under its inputs (paths: src/)".
fn nothing_changed_reason(gate: &GateSpec, options: &RunOptions) -> String {
    let what = options
        .narrow
        .as_ref()
        .map(|s| s.mode().describe())
        .unwrap_or_default();
    let inputs: Vec<String> = gate
        .inputs
        .iter()
        .map(|i| format!("{}: {}", i.name, i.declared))
        .collect();
    format!("no {what} under its inputs ({})", inputs.join(", "))
}

async fn execute(
    runtime: &Arc<Runtime>,
    pipeline: &Pipeline,
    gate: &GateSpec,
    options: &RunOptions,
    plan: Option<Plan>,
) -> Result<(crate::sandbox::GateRun, bool), GateFailure> {
    let rt = runtime.clone();
    let plugin_ref = gate.plugin.clone();
    // Compiling is CPU-bound (hundreds of ms on a cache miss): off the executor.
    let loaded = tokio::task::spawn_blocking(move || rt.load(&plugin_ref))
        .await
        .map_err(|e| GateFailure::Setup(format!("loading task failed: {e}")))?
        .map_err(|e| GateFailure::Load(e.to_string()))?;
    let (inputs, outputs) = (gate.inputs.clone(), gate.outputs.clone());
    let views = plan.map(|p| p.views).unwrap_or_default();
    let mounts =
        tokio::task::spawn_blocking(move || Mounts::prepare_with(&inputs, &views, &outputs))
            .await
            .map_err(|e| GateFailure::Setup(format!("staging task failed: {e}")))?
            .map_err(|e| GateFailure::Setup(e.to_string()))?;
    let progress: ProgressFn = {
        let observer = options.observer.clone();
        let id = gate.id.clone();
        Arc::new(move |done, total| observer.progress(&id, done, total))
    };
    let spec = RunSpec {
        gate_id: gate.id.clone(),
        mounts: Arc::new(mounts),
        config_json: gate.config.to_string(),
        context: RunContext {
            pipeline: pipeline.name.clone(),
            stage: gate.stage.to_string(),
            gate_id: gate.id.clone(),
            git_commit: options.git_commit.clone(),
            changed_files: options.changed_files.clone(),
        },
        limits: gate.limits,
        host_caps: HostCaps::default(),
        result_caps: ResultCaps::default(),
        progress: Some(progress),
    };
    let run = runtime
        .sandbox
        .run(&runtime.engine, &loaded.prepared, spec)
        .await?;
    Ok((run, loaded.cached))
}
