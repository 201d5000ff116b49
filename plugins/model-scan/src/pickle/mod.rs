//! Pickle analysis: a VM that runs a pickle without importing anything and
//! reports every global it can reach, with byte offsets, plus structural
//! anomalies (frames, extension codes, non-literal globals, limits).
//!
//! [`scan`] runs the stacked pickles of a stream the way `torch.load`'s
//! legacy format and joblib read them: one pickle after another while the
//! next bytes start a new pickle.

mod joblib;
mod memo;
mod ops;
mod read;
mod value;
mod vm;

use std::collections::HashMap;

pub use read::ReadError;

use crate::source::Blob;

/// Bounds on what one pickle may make the scanner do.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Most opcodes executed per stream.
    pub max_opcodes: u64,
    /// Deepest stack.
    pub max_stack: usize,
    /// Most memo entries.
    pub max_memo: usize,
    /// Heap budget (objects plus container elements).
    pub max_heap: usize,
    /// Longest string kept (longer ones are skipped and become unknown).
    pub max_str: usize,
    /// Nesting of joblib object-array pickles.
    pub max_nested: u32,
    /// Most stacked pickles read from one stream.
    pub max_stacked: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_opcodes: 50_000_000,
            max_stack: 1_000_000,
            max_memo: 1_000_000,
            max_heap: 4_000_000,
            max_str: 1024,
            max_nested: 4,
            max_stacked: 64,
        }
    }
}

/// A global the pickle resolves (GLOBAL, STACK_GLOBAL, INST).
#[derive(Debug, Clone)]
pub struct GlobalRef {
    /// Byte offset of the opcode (first occurrence).
    pub offset: u64,
    /// Module, as written in the pickle.
    pub module: String,
    /// Attribute name (may be dotted), as written.
    pub name: String,
    /// The opcode that resolved it.
    pub opcode: &'static str,
    /// Whether the pickle calls it (REDUCE, NEWOBJ, OBJ, INST).
    pub invoked: bool,
}

/// Kinds of structural anomaly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnomalyKind {
    /// STACK_GLOBAL whose operands are computed at load time.
    NonLiteralGlobal,
    /// EXT1/EXT2/EXT4: a global from the copyreg extension registry.
    ExtCode,
    /// A FRAME whose content disagrees with its declared length.
    Frame,
    /// A scanner bound was hit; the rest was not scanned.
    Limit,
}

/// One anomaly.
#[derive(Debug, Clone)]
pub struct Anomaly {
    /// Byte offset of the opcode.
    pub offset: u64,
    /// What kind.
    pub kind: AnomalyKind,
    /// Details for the message.
    pub detail: String,
}

/// What one pickle run found.
#[derive(Debug, Default, Clone)]
pub struct Report {
    /// Offset where this pickle starts.
    pub start: u64,
    /// Offset where the run ended.
    pub end: u64,
    /// Globals in order of first appearance.
    pub globals: Vec<GlobalRef>,
    /// Structural anomalies.
    pub anomalies: Vec<Anomaly>,
    /// The error that stopped the run, if any.
    pub error: Option<ReadError>,
    /// Whether STOP was reached.
    pub stopped: bool,
    /// Whether a limit stopped the run.
    pub limited: bool,
    /// Whether the heap budget ran out (values were not all tracked).
    pub heap_truncated: bool,
    /// Opcodes executed.
    pub opcodes: u64,
    /// Highest PROTO seen.
    pub protocol: u8,
    index: HashMap<(String, String), usize>,
}

impl Report {
    /// Whether the run looks like a pickle at all: it reached STOP, or it
    /// called a global whose names are Python identifiers. A global that is
    /// only named before the bytes stop parsing is what text looks like
    /// (`cat\ndog\nbird`: GLOBAL `at.dog`, then garbage) and runs nothing.
    pub fn looks_like_pickle(&self) -> bool {
        self.stopped
            || self.protocol > 0
            || self.globals.iter().any(|g| {
                g.invoked && is_dotted_identifier(&g.module) && is_dotted_identifier(&g.name)
            })
    }
}

/// Whether `s` is a dotted Python identifier (`a.b_c.D`).
pub fn is_dotted_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|part| {
            let mut chars = part.chars();
            chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
                && chars.all(|c| c == '_' || c.is_alphanumeric())
        })
}

/// Whether bytes at the start of a stream begin a pickle with a PROTO header.
pub fn starts_with_proto(head: &[u8]) -> bool {
    head.len() >= 2 && head[0] == 0x80 && head[1] <= 5
}

/// Run the pickle at the start of `blob`, then any pickles stacked after
/// it (legacy `torch.save`, joblib). A later "pickle" that fails without
/// showing a global is taken to be trailing data (tensor bytes) and dropped.
pub fn scan(blob: &Blob, limits: &Limits) -> std::io::Result<Vec<Report>> {
    let mut reader = blob.open()?;
    let mut reports = Vec::new();
    loop {
        let start = reader.pos();
        let mut rep = Report {
            start,
            ..Report::default()
        };
        vm::run(&mut reader, limits, &mut rep, 0);
        let keep = reports.is_empty() || rep.error.is_none() || !rep.globals.is_empty();
        let go_on = rep.stopped && !rep.limited && reports.len() + 1 < limits.max_stacked;
        if keep {
            reports.push(rep);
        }
        if !go_on || !keep {
            break;
        }
        let next = reader.pos();
        let head = blob.read_at(next, 2)?;
        if !starts_with_proto(&head) {
            break;
        }
        use std::io::Seek;
        reader.seek(std::io::SeekFrom::Start(next))?;
    }
    Ok(reports)
}

/// Run exactly one pickle starting at `start` of `blob`, the way a single
/// `pickle.load(f)` reads it (loaders that interleave pickles with raw
/// bytes); offsets in the report are offsets in `blob`.
pub fn scan_one(blob: &Blob, start: u64, limits: &Limits) -> std::io::Result<Report> {
    use std::io::Seek;
    let mut reader = blob.open()?;
    reader.seek(std::io::SeekFrom::Start(start))?;
    let mut rep = Report {
        start,
        ..Report::default()
    };
    vm::run(&mut reader, limits, &mut rep, 0);
    Ok(rep)
}

#[cfg(test)]
mod tests;
