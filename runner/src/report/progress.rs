//! Live progress while gates run: one indicatif line per running gate, on
//! stderr. Shown only when stderr and stdout are terminals and not
//! `--quiet`; otherwise a finished gate is one plain log line on stderr.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::model::GateSpec;
use crate::report::model::GateReport;
use crate::scheduler::Observer;

/// Spinners and bars per running gate.
pub struct LiveProgress {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl LiveProgress {
    /// A display drawing to stderr.
    pub fn new() -> Self {
        LiveProgress {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bars: Mutex::default(),
        }
    }
}

impl Default for LiveProgress {
    fn default() -> Self {
        Self::new()
    }
}

impl Observer for LiveProgress {
    fn started(&self, gate: &GateSpec) {
        let bar = self.multi.add(ProgressBar::new_spinner());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix:.bold} {msg} {wide_bar} {pos}/{len}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_prefix(gate.id.clone());
        bar.set_message(gate.plugin.to_string());
        bar.enable_steady_tick(Duration::from_millis(100));
        self.bars.lock().unwrap().insert(gate.id.clone(), bar);
    }

    fn progress(&self, gate: &str, done: u64, total: u64) {
        if let Some(bar) = self.bars.lock().unwrap().get(gate) {
            bar.set_length(total);
            bar.set_position(done);
        }
    }

    fn finished(&self, report: &GateReport) {
        if let Some(bar) = self.bars.lock().unwrap().remove(&report.id) {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
        let _ = self.multi.println(format!(
            "{} {} ({} ms)",
            report.id,
            report.status.as_str(),
            report.duration_ms
        ));
    }
}

/// Plain one-line-per-gate progress on stderr (CI logs, pipes).
pub struct PlainProgress;

impl Observer for PlainProgress {
    fn finished(&self, report: &GateReport) {
        let reason = report
            .reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        eprintln!(
            "mlgate: gate {} {} ({} ms){reason}",
            report.id,
            report.status.as_str(),
            report.duration_ms
        );
    }
}
