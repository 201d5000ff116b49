//! Files to findings: `.py`/`.pyi`/`.pyw` are parsed whole, notebooks cell by
//! cell (code cells only, magics blanked); every other file is skipped. Each
//! hit is located on the line of the raw file (for a notebook, the line of
//! the `.ipynb` JSON text) with the cell index as a property.

use std::collections::HashMap;
use std::path::Path;

use mlgate_plugin_sdk::{Finding, Severity};
use regex::Regex;
use ruff_python_ast::{ModModule, PySourceType};
use ruff_python_parser::Parsed;

use crate::analyze::{Hit, analyze, analyze_with};
use crate::config::Filters;
use crate::resolve::Names;
use crate::{notebook, rules, source};

/// Counters of one scan.
#[derive(Debug, Default)]
pub struct Stats {
    /// Python files and notebooks analysed.
    pub analysed: u64,
    /// Python files skipped by the keyword prefilter (nothing to find).
    pub prefiltered: u64,
    /// Sources parsed with syntax errors (analysed as far as they parse).
    pub syntax_errors: u64,
    /// Findings dropped by allowlist or baseline.
    pub suppressed: u64,
}

/// Whether the gate reads this file.
pub fn is_python(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("py" | "pyi" | "pyw" | "ipynb")
    )
}

use mlgate_plugin_sdk::walk::read_bounded;

/// Analyse one file (`relative` is its path relative to the input root);
/// `buf` is a read buffer reused across files.
pub fn scan_file(
    prefilter: &Regex,
    filters: &Filters,
    path: &Path,
    relative: &str,
    stats: &mut Stats,
    out: &mut Vec<Finding>,
    buf: &mut Vec<u8>,
) -> std::io::Result<()> {
    if filters.path_allowed(relative) || !is_python(path) {
        return Ok(());
    }
    let shown = path.to_string_lossy().into_owned();
    // One open and read per file (no separate stat): WASI calls dominate
    // on trees of many small files.
    read_bounded(path, filters.max_file_bytes.saturating_add(1), buf)?;
    let bytes = &buf[..];
    if bytes.len() as u64 > filters.max_file_bytes {
        out.push(skipped(&shown, relative, "larger than max_file_bytes"));
        return Ok(());
    }
    let text = String::from_utf8_lossy(bytes);
    if !prefilter.is_match(&text) {
        stats.prefiltered += 1;
        return Ok(());
    }
    stats.analysed += 1;
    let mut hits: Vec<(Hit, usize, Option<usize>)> = Vec::new();
    if path.extension().is_some_and(|e| e == "ipynb") {
        let Some(segments) = notebook::segments(&text) else {
            out.push(skipped(&shown, relative, "notebook is not valid JSON"));
            return Ok(());
        };
        // Cells share one namespace: imports in one cell bind names in all.
        let mut parsed = Vec::new();
        for seg in notebook::code_sources(&segments) {
            let code = source::blank_magics(&seg.text);
            match parse_only(&code, stats) {
                Ok(module) => parsed.push((seg, module)),
                Err(why) => out.push(skipped(&shown, relative, &why)),
            }
        }
        let mut names = Names::default();
        for (_, module) in &parsed {
            names.add(&module.syntax().body);
        }
        for (seg, module) in &parsed {
            let found = analyze_with(&module.syntax().body, &names);
            hits.extend(found.into_iter().map(|h| {
                let raw = seg.raw_offset(h.offset);
                (h, raw, seg.cell)
            }));
        }
    } else {
        match parse(&text, stats) {
            Ok(found) => hits.extend(found.into_iter().map(|h| {
                let raw = h.offset;
                (h, raw, None)
            })),
            Err(why) => out.push(skipped(&shown, relative, &why)),
        }
    }
    if hits.is_empty() {
        return Ok(());
    }
    let lines = line_starts(&text);
    let mut seen: HashMap<(&'static str, String), usize> = HashMap::new();
    for (hit, raw, cell) in hits {
        let n = seen.entry((hit.rule, hit.call.clone())).or_default();
        *n += 1;
        let f = finding(&hit, &shown, relative, &lines, raw, cell, *n);
        if filters.finding_allowed(&f.rule_id, &f.fingerprint) {
            stats.suppressed += 1;
        } else {
            out.push(f);
        }
    }
    Ok(())
}

/// Parse one source, recovering from syntax errors (what parses is still
/// analysed), unless it is too deep for the parser's recursion.
fn parse_only(code: &str, stats: &mut Stats) -> Result<Parsed<ModModule>, String> {
    if let Some(why) = source::too_hostile(code) {
        return Err(why);
    }
    let parsed = ruff_python_parser::parse_unchecked_source(code, PySourceType::Python);
    if !parsed.errors().is_empty() {
        stats.syntax_errors += 1;
    }
    Ok(parsed)
}

/// Parse and analyse one whole file.
fn parse(code: &str, stats: &mut Stats) -> Result<Vec<Hit>, String> {
    parse_only(code, stats).map(|p| analyze(&p.syntax().body))
}

fn skipped(shown: &str, relative: &str, why: &str) -> Finding {
    Finding::new(
        rules::SKIPPED,
        Severity::Info,
        format!("not analysed: {why}"),
    )
    .at(shown, None)
    .fingerprint(&[rules::SKIPPED, relative])
}

fn finding(
    hit: &Hit,
    shown: &str,
    relative: &str,
    lines: &[usize],
    raw: usize,
    cell: Option<usize>,
    nth: usize,
) -> Finding {
    let line = lines.partition_point(|&s| s <= raw).max(1);
    let column = raw - lines[line - 1] + 1;
    let mut f = Finding::new(hit.rule, hit.severity, hit.message.clone())
        .at(shown, Some(line as u32))
        .column(column as u32)
        .fingerprint(&[hit.rule, relative, &hit.call, &nth.to_string()])
        .property("call", hit.call.clone());
    if let Some(cell) = cell {
        f = f.property("cell", cell.to_string());
    }
    f
}

fn line_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    starts.extend(
        text.bytes()
            .enumerate()
            .filter(|(_, b)| *b == b'\n')
            .map(|(i, _)| i + 1),
    );
    starts
}
