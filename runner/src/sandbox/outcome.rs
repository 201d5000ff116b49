//! Turning what came back from a plugin into a [`GateRun`] or a
//! [`GateFailure`]: traps and limits are classified so the reason names the
//! cause, and a returned result is validated (counts, sizes, rule ids) and
//! sanitised before anything else sees it.

use std::collections::BTreeMap;
use std::time::Duration;

use super::bindings::mlgate::gate::types::{self, GateResult};
use super::mounts::Mounts;
use crate::model::{Limits, Severity};
use crate::report::model::{Finding, FindingLocation, LogLine};
use crate::sanitize;

/// Caps on a returned result.
#[derive(Debug, Clone, Copy)]
pub struct ResultCaps {
    /// Findings per gate.
    pub max_findings: usize,
    /// Characters per message.
    pub max_message_chars: usize,
    /// Properties per finding.
    pub max_properties: usize,
}

impl Default for ResultCaps {
    fn default() -> Self {
        ResultCaps {
            max_findings: 10_000,
            max_message_chars: 4_000,
            max_properties: 64,
        }
    }
}

/// A successful run, validated.
#[derive(Debug, Default)]
pub struct GateRun {
    /// Findings, sanitised, with project-relative locations.
    pub findings: Vec<Finding>,
    /// Summary line.
    pub summary: String,
    /// Metrics.
    pub metrics: BTreeMap<String, f64>,
    /// Log lines (capped).
    pub logs: Vec<LogLine>,
    /// Dropped log lines and output bytes.
    pub logs_dropped: u64,
    /// Captured stdout/stderr.
    pub output: String,
}

/// Why a gate is `error`.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GateFailure {
    /// The sandbox could not be set up (inputs, staging).
    #[error("sandbox setup failed: {0}")]
    Setup(String),
    /// The plugin could not be loaded (pin, not a component, WIT, imports).
    #[error("{0}")]
    Load(String),
    /// Wall-clock deadline.
    #[error("timed out after {} (limits.timeout)", humantime(*.0))]
    Timeout(Duration),
    /// Memory limit.
    #[error("exceeded the memory limit of {} (limits.memory){}", human_bytes(*limit), detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Memory {
        /// The limit in bytes.
        limit: u64,
        /// wasmtime's message.
        detail: Option<String>,
    },
    /// The guest panicked (message from its stderr).
    #[error("plugin panicked: {0}")]
    Panic(String),
    /// Stack overflow.
    #[error("trapped: stack overflow")]
    StackOverflow,
    /// Another trap.
    #[error("trapped: {0}")]
    Trap(String),
    /// The plugin returned its own error.
    #[error("plugin error ({code}): {message}")]
    PluginError {
        /// Machine-readable code.
        code: String,
        /// Message.
        message: String,
    },
    /// The result broke the contract.
    #[error("malformed result: {0}")]
    Malformed(String),
    /// The run was interrupted (Ctrl-C).
    #[error("interrupted (Ctrl-C)")]
    Interrupted,
}

fn humantime(d: Duration) -> String {
    if d.as_millis().is_multiple_of(1000) {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// `512 MiB`, `4 GiB`, `1000 B`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if value.fract() == 0.0 {
        format!("{value} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Classify an error from instantiate/call.
pub(super) fn classify(err: wasmtime::Error, limits: &Limits, output: &str) -> GateFailure {
    let text = format!("{err:#}");
    if text.contains("forcing trap when growing memory") {
        let detail = text
            .split("forcing trap when growing memory to ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse::<u64>().ok())
            .map(|n| format!("tried to grow to {}", human_bytes(n)));
        return GateFailure::Memory {
            limit: limits.memory_bytes,
            detail,
        };
    }
    if text.contains("fuel allocated for hostcalls has been exhausted") {
        return GateFailure::Trap(
            "a host call carried more than the 64 MiB cap of guest data".to_string(),
        );
    }
    if let Some(trap) = err.downcast_ref::<wasmtime::Trap>() {
        return match trap {
            wasmtime::Trap::Interrupt => GateFailure::Timeout(limits.timeout),
            wasmtime::Trap::StackOverflow => GateFailure::StackOverflow,
            wasmtime::Trap::UnreachableCodeReached => match panic_message(output) {
                Some(msg) => GateFailure::Panic(msg),
                None if output.contains("memory allocation of") => GateFailure::Memory {
                    limit: limits.memory_bytes,
                    detail: Some(sanitize::clean_line(output.trim(), 200)),
                },
                None => {
                    GateFailure::Trap("unreachable instruction (the plugin aborted)".to_string())
                }
            },
            // Rust keeps its stack in linear memory below the data: a deep
            // recursion there ends in an out-of-bounds access.
            wasmtime::Trap::MemoryOutOfBounds => GateFailure::Trap(
                "out-of-bounds memory access (a bug or a stack overflow in the plugin)".to_string(),
            ),
            other => GateFailure::Trap(other.to_string()),
        };
    }
    GateFailure::Trap(sanitize::clean_line(&text, 500))
}

/// The message of a Rust panic as printed to stderr by the guest.
fn panic_message(output: &str) -> Option<String> {
    let idx = output.find("panicked at ")?;
    let rest = &output[idx..];
    let mut lines = rest.lines();
    let location = lines.next().unwrap_or_default().trim_end_matches(':');
    let message = lines.next().unwrap_or_default();
    Some(sanitize::clean_line(
        &format!(
            "{} ({})",
            message.trim(),
            location.trim_start_matches("panicked at ")
        ),
        500,
    ))
}

/// mlgate's severity for the WIT one.
pub fn severity(s: types::Severity) -> Severity {
    match s {
        types::Severity::Info => Severity::Info,
        types::Severity::Low => Severity::Low,
        types::Severity::Medium => Severity::Medium,
        types::Severity::High => Severity::High,
        types::Severity::Critical => Severity::Critical,
    }
}

/// Validate and sanitise a returned result.
pub(super) fn validate(
    result: GateResult,
    mounts: &Mounts,
    caps: &ResultCaps,
) -> Result<GateRun, GateFailure> {
    if result.findings.len() > caps.max_findings {
        return Err(GateFailure::Malformed(format!(
            "returned {} findings, more than the cap of {}",
            result.findings.len(),
            caps.max_findings
        )));
    }
    let mut findings = Vec::with_capacity(result.findings.len());
    for (i, raw) in result.findings.into_iter().enumerate() {
        let rule_id = sanitize::clean_line(&raw.rule_id, 128);
        if rule_id.trim().is_empty() {
            return Err(GateFailure::Malformed(format!(
                "finding #{} has an empty rule id",
                i + 1
            )));
        }
        if raw.properties.len() > caps.max_properties {
            return Err(GateFailure::Malformed(format!(
                "finding #{} has {} properties, more than the cap of {}",
                i + 1,
                raw.properties.len(),
                caps.max_properties
            )));
        }
        let message = sanitize::clean(&raw.message, caps.max_message_chars);
        let location = raw.location.map(|l| FindingLocation {
            path: sanitize::clean_line(&mounts.display_path(&l.path), 1000),
            line: l.line.filter(|n| *n > 0),
            column: l.column.filter(|n| *n > 0),
            byte_offset: l.byte_offset,
        });
        let fingerprint = if raw.fingerprint.trim().is_empty() {
            derive_fingerprint(&rule_id, location.as_ref(), &message)
        } else {
            sanitize::clean_line(&raw.fingerprint, 128)
        };
        let properties = raw
            .properties
            .into_iter()
            .map(|(k, v)| (sanitize::clean_line(&k, 128), sanitize::clean(&v, 2000)))
            .collect();
        findings.push(Finding {
            rule_id,
            severity: severity(raw.severity),
            message,
            location,
            fingerprint,
            properties,
        });
    }
    findings.sort_by(|a, b| {
        b.severity.cmp(&a.severity).then_with(|| {
            let key = |f: &Finding| f.location.as_ref().map(|l| (l.path.clone(), l.line));
            key(a).cmp(&key(b))
        })
    });
    let metrics = result
        .metrics
        .into_iter()
        .take(256)
        .filter(|m| m.value.is_finite())
        .map(|m| (sanitize::clean_line(&m.name, 128), m.value))
        .collect();
    Ok(GateRun {
        findings,
        summary: sanitize::clean_line(&result.summary, 1000),
        metrics,
        ..GateRun::default()
    })
}

fn derive_fingerprint(rule: &str, location: Option<&FindingLocation>, message: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in [
        rule,
        location.map(|l| l.path.as_str()).unwrap_or(""),
        message,
    ] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(&h.finalize()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_message_is_extracted() {
        let out =
            "thread '<unnamed>' panicked at src/lib.rs:10:5:\nboom\nnote: run with RUST_BACKTRACE";
        assert_eq!(panic_message(out).unwrap(), "boom (src/lib.rs:10:5)");
        assert!(panic_message("nothing").is_none());
    }

    #[test]
    fn human_bytes_reads_well() {
        assert_eq!(human_bytes(512 << 20), "512 MiB");
        assert_eq!(human_bytes(4 << 30), "4 GiB");
        assert_eq!(human_bytes(1000), "1000 B");
    }
}
