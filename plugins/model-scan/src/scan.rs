//! The dispatcher: sniff a blob's content, hand it to the format reader,
//! and collect [`Hit`]s. Format readers call back into
//! [`Scanner::scan_blob`] for what they contain (archive members,
//! decompressed streams), bounded by depth and memory.

use std::collections::HashMap;
use std::path::Path;

use mlgate_plugin_sdk::Severity;

use crate::config::{Config, UnknownGlobals};
use crate::formats;
use crate::pickle::{self, AnomalyKind};
use crate::policy::{self, Verdict};
use crate::rules;
use crate::sniff::{Kind, sniff};
use crate::source::Blob;

/// One thing found, before it becomes a WIT finding.
#[derive(Debug, Clone)]
pub struct Hit {
    /// Rule id.
    pub rule: &'static str,
    /// Severity.
    pub severity: Severity,
    /// Message for people.
    pub message: String,
    /// Archive member chain inside the file (empty for the file itself).
    pub member: Vec<String>,
    /// Byte offset inside the innermost member (or the file).
    pub offset: Option<u64>,
    /// Extra properties (`global`, `format`, ...).
    pub props: Vec<(String, String)>,
    /// The matched thing, for the fingerprint.
    pub key: String,
}

/// Counters for the gate's metrics.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    /// Pickle streams run.
    pub pickles: u64,
    /// Opcodes executed.
    pub opcodes: u64,
    /// Archive members visited.
    pub members: u64,
    /// Bytes produced by decompressors (kept or only counted).
    pub inflated: u64,
}

/// Scans files with one config.
pub struct Scanner<'a> {
    /// The gate config.
    pub cfg: &'a Config,
    /// Pickle VM bounds.
    pub limits: pickle::Limits,
    /// Findings of the file being scanned.
    pub hits: Vec<Hit>,
    /// Counters.
    pub stats: Stats,
    /// Bytes of decompressed data currently held.
    pub held: u64,
    saw_pickle: bool,
    /// Policy verdicts already computed (globals repeat across files).
    verdicts: HashMap<(String, String), Verdict>,
}

/// Most verdicts cached (the cache is dropped when full).
const MAX_VERDICTS: usize = 4096;

impl<'a> Scanner<'a> {
    /// A scanner for `cfg`.
    pub fn new(cfg: &'a Config) -> Self {
        let limits = pickle::Limits {
            max_opcodes: cfg.max_opcodes,
            ..pickle::Limits::default()
        };
        Scanner {
            cfg,
            limits,
            hits: Vec::new(),
            stats: Stats::default(),
            held: 0,
            saw_pickle: false,
            verdicts: HashMap::new(),
        }
    }

    /// Scan one file; returns its hits.
    pub fn scan_file(&mut self, path: &Path) -> Vec<Hit> {
        self.hits.clear();
        self.saw_pickle = false;
        match Blob::file(path.to_path_buf()) {
            Ok(blob) => self.scan_blob(&blob, &mut Vec::new(), 0),
            Err(e) => self.hit(
                rules::SCAN_LIMIT,
                Severity::High,
                &[],
                None,
                format!("cannot read the file: {e}"),
                vec![],
                "io",
            ),
        }
        if self.saw_pickle && self.cfg.require_safetensors {
            self.hit(
                rules::SAFETENSORS_REQUIRED,
                Severity::High,
                &[],
                None,
                "pickle-based model file; this gate requires SafeTensors".into(),
                vec![],
                "pickle",
            );
        }
        std::mem::take(&mut self.hits)
    }

    /// A member or stream that could not be read: a medium `malformed`
    /// finding, never a silent skip.
    fn unreadable(&mut self, chain: &[String], err: &dyn std::fmt::Display) {
        self.hit(
            rules::MALFORMED,
            Severity::Medium,
            chain,
            None,
            format!("cannot read: {err}"),
            vec![],
            "io",
        );
    }

    /// Record a hit.
    #[allow(clippy::too_many_arguments)]
    pub fn hit(
        &mut self,
        rule: &'static str,
        severity: Severity,
        member: &[String],
        offset: Option<u64>,
        message: String,
        props: Vec<(String, String)>,
        key: &str,
    ) {
        if self.hits.len() >= 5_000 {
            return;
        }
        self.hits.push(Hit {
            rule,
            severity,
            message,
            member: member.to_vec(),
            offset,
            props,
            key: key.to_string(),
        });
    }

    /// Sniff `blob` and scan it with the matching reader.
    pub fn scan_blob(&mut self, blob: &Blob, chain: &mut Vec<String>, depth: u32) {
        if depth > self.cfg.max_depth {
            self.hit(
                rules::SCAN_LIMIT,
                Severity::High,
                chain,
                None,
                format!(
                    "nested deeper than {} levels; not scanned",
                    self.cfg.max_depth
                ),
                vec![],
                "depth",
            );
            return;
        }
        let head = match blob.read_at(0, 512) {
            Ok(h) => h,
            Err(e) => {
                self.unreadable(chain, &e);
                return;
            }
        };
        let kind = sniff(&head, blob.len());
        let scanned = match kind {
            Kind::Zip => formats::zip::scan(self, blob, chain, depth),
            Kind::Tar => formats::tar::scan(self, blob, chain, depth),
            Kind::SevenZ => formats::sevenz::scan(self, blob, chain, depth),
            Kind::Gzip | Kind::Bzip2 | Kind::Xz | Kind::Lzma | Kind::Zlib | Kind::Zstd => {
                formats::compress::scan(self, kind, blob, chain, depth)
            }
            Kind::Npy => formats::numpy::scan(self, blob, chain),
            Kind::Hdf5 => formats::keras::scan_hdf5(self, blob, chain),
            Kind::Gguf => formats::gguf::scan(self, blob, chain),
            Kind::SafeTensors => formats::safetensors::scan(self, blob, chain),
            Kind::Pickle => self.scan_pickle(blob, chain, true),
            Kind::MaybePickle => self.scan_pickle(blob, chain, false),
            Kind::MaybeOnnx => formats::onnx::scan(self, blob, chain),
            Kind::Json => formats::keras::scan_json(self, blob, chain),
            Kind::Unknown => false,
        };
        if !scanned && self.cfg.report_unscanned && !blob.is_empty() {
            self.hit(
                rules::UNSCANNED,
                Severity::Info,
                chain,
                None,
                "format not recognised; not scanned".into(),
                vec![("format".into(), "unknown".into())],
                "unknown",
            );
        }
    }

    /// Run the pickle VM over `blob` and report what it reaches. With
    /// `strong` false (no PROTO header), the blob counts as a pickle only
    /// if the run looks like one; returns whether it was taken as a pickle.
    pub fn scan_pickle(&mut self, blob: &Blob, chain: &[String], strong: bool) -> bool {
        let reports = match pickle::scan(blob, &self.limits) {
            Ok(r) => r,
            Err(e) => {
                self.unreadable(chain, &e);
                return true;
            }
        };
        if !strong && !reports.first().is_some_and(|r| self.weak_pickle_counts(r)) {
            return false;
        }
        self.saw_pickle = true;
        for rep in &reports {
            self.stats.pickles += 1;
            self.stats.opcodes += rep.opcodes;
            self.report_pickle(rep, chain);
        }
        true
    }

    /// Run the one pickle at `start` of `blob` (a loader's single
    /// `pickle.load`), report what it reaches and return its run; `None`
    /// (reported as malformed) when the blob cannot be read.
    pub fn pickle_at(
        &mut self,
        blob: &Blob,
        start: u64,
        chain: &[String],
    ) -> Option<pickle::Report> {
        match pickle::scan_one(blob, start, &self.limits) {
            Ok(rep) => {
                self.saw_pickle = true;
                self.stats.pickles += 1;
                self.stats.opcodes += rep.opcodes;
                self.report_pickle(&rep, chain);
                Some(rep)
            }
            Err(e) => {
                self.unreadable(chain, &e);
                None
            }
        }
    }

    /// Whether a run without a `PROTO` header counts as a pickle: it looks
    /// like one, or it names a dangerous global before breaking (a loader
    /// would import it; text never names `os.system`).
    fn weak_pickle_counts(&mut self, rep: &pickle::Report) -> bool {
        rep.looks_like_pickle()
            || rep
                .globals
                .iter()
                .any(|g| matches!(self.verdict(&g.module, &g.name), Verdict::Dangerous(_)))
    }

    /// The policy's verdict on `module.name` (cached per scanner).
    fn verdict(&mut self, module: &str, name: &str) -> Verdict {
        let key = (module.to_string(), name.to_string());
        if let Some(v) = self.verdicts.get(&key) {
            return v.clone();
        }
        let v = policy::classify(
            module,
            name,
            &self.cfg.allow_globals,
            &self.cfg.deny_globals,
        );
        if self.verdicts.len() >= MAX_VERDICTS {
            self.verdicts.clear();
        }
        self.verdicts.insert(key, v.clone());
        v
    }

    fn report_pickle(&mut self, rep: &pickle::Report, chain: &[String]) {
        for g in &rep.globals {
            let full = format!("{}.{}", g.module, g.name);
            let verdict = self.verdict(&g.module, &g.name);
            let (rule, severity, why) = match verdict {
                Verdict::Safe => continue,
                Verdict::Dangerous(why) => (rules::DANGEROUS_GLOBAL, Severity::Critical, why),
                Verdict::Unknown => match self.cfg.unknown_globals {
                    UnknownGlobals::Allow => continue,
                    UnknownGlobals::High => (rules::UNKNOWN_GLOBAL, Severity::High, String::new()),
                    UnknownGlobals::Medium => {
                        (rules::UNKNOWN_GLOBAL, Severity::Medium, String::new())
                    }
                },
            };
            let verb = if g.invoked { "calls" } else { "references" };
            let message = if why.is_empty() {
                format!(
                    "pickle {verb} unknown global `{full}` ({} at offset {})",
                    g.opcode, g.offset
                )
            } else {
                format!(
                    "pickle {verb} dangerous global `{full}` ({why}; {} at offset {})",
                    g.opcode, g.offset
                )
            };
            let props = vec![
                ("global".into(), full.clone()),
                ("opcode".into(), g.opcode.into()),
                ("invoked".into(), g.invoked.to_string()),
                ("format".into(), "pickle".into()),
            ];
            self.hit(rule, severity, chain, Some(g.offset), message, props, &full);
        }
        for a in &rep.anomalies {
            let (rule, severity) = match a.kind {
                AnomalyKind::NonLiteralGlobal => (rules::NONLITERAL_GLOBAL, Severity::Critical),
                AnomalyKind::ExtCode => (rules::EXT_CODE, Severity::High),
                AnomalyKind::Frame => (rules::FRAME_MISMATCH, Severity::Medium),
                AnomalyKind::Limit => (rules::SCAN_LIMIT, Severity::High),
            };
            let props = vec![("format".into(), "pickle".into())];
            let key = format!("{rule}@{}", a.offset);
            self.hit(
                rule,
                severity,
                chain,
                Some(a.offset),
                a.detail.clone(),
                props,
                &key,
            );
        }
        if let Some(e) = &rep.error {
            let msg = format!(
                "pickle is malformed at offset {}: {} (a loader stops here, after running what came before)",
                e.offset, e.message
            );
            let props = vec![("format".into(), "pickle".into())];
            self.hit(
                rules::MALFORMED,
                Severity::Medium,
                chain,
                Some(e.offset),
                msg,
                props,
                "pickle",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_text_is_not_a_pickle_but_a_dangerous_text_global_is() {
        let labels = crate::test_support::fixture("benign/labels.txt");
        let cfg = Config::default();
        let mut scanner = Scanner::new(&cfg);
        let hits = scanner.scan_file(&labels);
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!(hits[0].rule, rules::UNSCANNED);
        // the same shape naming os.system is still reported
        scanner.scan_blob(
            &Blob::mem(b"cos\nsystem\nbird\n".to_vec()),
            &mut Vec::new(),
            0,
        );
        assert!(
            scanner
                .hits
                .iter()
                .any(|h| h.rule == rules::DANGEROUS_GLOBAL)
        );
    }
}
