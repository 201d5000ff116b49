//! Comparing a dataset (a directory, or one file) with its manifest.
//!
//! Every file the manifest lists and the dataset holds is hashed in one
//! `digest_batch` call (per [`BATCH`] files), so the host hashes them
//! natively and in parallel.
//! The outcome is three kinds of findings: a listed file whose digest differs
//! (`provenance-changed`), a listed file that is absent (`provenance-missing`),
//! and a file present but not listed (`provenance-unexpected`). A copy of the
//! manifest itself inside the dataset (`sha256sum * > SHA256SUMS` in the
//! directory) is recognised by content and not reported as unexpected.
//!
//! A dataset that is one file is matched to its entry by name (full path or
//! last component); failing that, by digest (the sandbox may expose the file
//! under another name); failing that, a one-entry manifest is compared with
//! the file directly.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mlgate_plugin_sdk::host::{self, DigestJob};
use mlgate_plugin_sdk::walk::{self, WalkLimits};
use mlgate_plugin_sdk::{DigestAlgorithm, Finding, GateError, Severity};
use sha2::{Digest, Sha256};

use crate::manifest::{Entry, Manifest};

/// Rule: a listed file's digest differs from the manifest.
pub const CHANGED: &str = "provenance-changed";
/// Rule: a listed file is absent.
pub const MISSING: &str = "provenance-missing";
/// Rule: a file is present but not listed.
pub const UNEXPECTED: &str = "provenance-unexpected";

/// Files per `digest_batch` call: one call for any ordinary dataset (so the
/// host parallelises across all of it), under the host's cap of 100 000.
pub const BATCH: usize = 50_000;

/// What a verification found and measured.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Findings, in path order per kind.
    pub findings: Vec<Finding>,
    /// Files hashed (listed and present).
    pub files_checked: u64,
    /// Bytes the host hashed.
    pub bytes_hashed: u64,
    /// Counts per rule.
    pub changed: u64,
    /// Listed but absent.
    pub missing: u64,
    /// Present but not listed.
    pub unexpected: u64,
}

/// The manifest file as read: its guest path and bytes (to recognise a copy
/// of it inside the dataset).
pub struct ManifestSource<'a> {
    /// Guest path of the manifest input.
    pub path: &'a Path,
    /// Its content.
    pub bytes: &'a [u8],
}

/// One planned digest: which file, with what it must match.
struct Planned<'a> {
    path: PathBuf,
    rel: String,
    entry: &'a Entry,
}

/// Verify `dataset` against `manifest`. Files not in the manifest are
/// reported only if `report_unexpected`.
pub fn verify(
    dataset: &Path,
    manifest: &Manifest,
    source: &ManifestSource<'_>,
    report_unexpected: bool,
) -> Result<Outcome, GateError> {
    let walk = walk::files(dataset, WalkLimits::default());
    if let Some((path, why)) = walk.errors.first() {
        return Err(GateError::input(format!(
            "cannot read the dataset at {}: {why}",
            path.display()
        )));
    }
    if walk.truncated {
        return Err(GateError::input(
            "the dataset is too large or too deep to walk completely (over 1,000,000 files or 64 levels)",
        ));
    }
    let single_file = walk.files.len() == 1 && walk.files[0] == dataset;
    if single_file {
        return verify_file(dataset, manifest);
    }
    let mut present: BTreeMap<String, PathBuf> = walk
        .files
        .into_iter()
        .map(|path| (walk::relative(dataset, &path), path))
        .collect();
    let mut outcome = Outcome::default();
    let mut planned = Vec::new();
    for entry in &manifest.entries {
        match present.remove(&entry.path) {
            Some(path) => planned.push(Planned {
                path,
                rel: entry.path.clone(),
                entry,
            }),
            None => {
                outcome.missing += 1;
                outcome.findings.push(missing(dataset, entry));
            }
        }
    }
    let copies = manifest_copies(&present, source);
    let results = hash(&planned, &copies, &mut outcome)?;
    let (entry_results, copy_results) = results.split_at(planned.len());
    for (plan, actual) in planned.iter().zip(entry_results) {
        if *actual != plan.entry.digest {
            outcome.changed += 1;
            outcome
                .findings
                .push(changed(&plan.path, &plan.rel, plan.entry, actual));
        }
    }
    let own_digest = hex::encode(Sha256::digest(source.bytes));
    for ((rel, _), digest) in copies.iter().zip(copy_results) {
        if *digest == own_digest {
            host::info(&format!(
                "`{rel}` is a copy of the manifest itself: not unexpected"
            ));
            present.remove(rel);
        }
    }
    if report_unexpected {
        for (rel, path) in &present {
            outcome.unexpected += 1;
            outcome.findings.push(unexpected(path, rel));
        }
    }
    Ok(outcome)
}

/// Files in the dataset that could be the manifest itself: same file name
/// and size, not listed.
fn manifest_copies(
    unlisted: &BTreeMap<String, PathBuf>,
    source: &ManifestSource<'_>,
) -> Vec<(String, PathBuf)> {
    let Some(name) = source.path.file_name() else {
        return Vec::new();
    };
    unlisted
        .iter()
        .filter(|(_, path)| path.file_name() == Some(name))
        .filter(|(_, path)| {
            std::fs::metadata(path).is_ok_and(|m| m.len() == source.bytes.len() as u64)
        })
        .map(|(rel, path)| (rel.clone(), path.clone()))
        .collect()
}

/// One batch for everything: the planned entries, then the manifest
/// candidates (SHA-256). Returns hex digests in that order; a file that
/// cannot be hashed makes the gate fail closed.
fn hash(
    planned: &[Planned<'_>],
    copies: &[(String, PathBuf)],
    outcome: &mut Outcome,
) -> Result<Vec<String>, GateError> {
    let jobs: Vec<DigestJob> = planned
        .iter()
        .map(|p| (&p.path, p.entry.algorithm))
        .chain(
            copies
                .iter()
                .map(|(_, path)| (path, DigestAlgorithm::Sha256)),
        )
        .map(|(path, algorithm)| DigestJob {
            path: path.to_string_lossy().into_owned(),
            algorithm,
            range: None,
        })
        .collect();
    outcome.files_checked = planned.len() as u64;
    outcome.bytes_hashed = jobs
        .iter()
        .filter_map(|j| std::fs::metadata(&j.path).ok())
        .map(|m| m.len())
        .sum();
    let total = jobs.len() as u64;
    let mut results = Vec::with_capacity(jobs.len());
    host::progress(0, total);
    for chunk in jobs.chunks(BATCH) {
        results.extend(host::digest_batch(chunk));
        host::progress(results.len() as u64, total);
    }
    if results.len() != jobs.len() {
        return Err(GateError::new(
            "host",
            format!(
                "digest_batch returned {} results for {} files",
                results.len(),
                jobs.len()
            ),
        ));
    }
    jobs.iter()
        .zip(results)
        .map(|(job, result)| {
            result
                .map(hex::encode)
                .map_err(|why| GateError::new("io", format!("cannot hash {}: {why}", job.path)))
        })
        .collect()
}

/// A dataset that is a single file.
fn verify_file(file: &Path, manifest: &Manifest) -> Result<Outcome, GateError> {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut outcome = Outcome::default();
    let by_name: Vec<&Entry> = manifest
        .entries
        .iter()
        .filter(|e| e.path == name || e.path.rsplit('/').next() == Some(name.as_str()))
        .collect();
    // Hash once per algorithm the candidates use.
    let mut algorithms: Vec<DigestAlgorithm> =
        manifest.entries.iter().map(|e| e.algorithm).collect();
    algorithms.sort_by_key(|a| *a as u8);
    algorithms.dedup();
    let planned: Vec<Planned<'_>> = algorithms
        .iter()
        .filter_map(|a| manifest.entries.iter().find(|e| e.algorithm == *a))
        .map(|entry| Planned {
            path: file.to_path_buf(),
            rel: name.clone(),
            entry,
        })
        .collect();
    let digests = hash(&planned, &[], &mut outcome)?;
    outcome.files_checked = u64::from(!planned.is_empty());
    let actual_for = |a: DigestAlgorithm| {
        planned
            .iter()
            .zip(&digests)
            .find(|(p, _)| p.entry.algorithm == a)
            .map(|(_, d)| d.as_str())
            .unwrap_or_default()
    };
    let matches = |e: &&Entry| actual_for(e.algorithm) == e.digest;
    let target = match by_name.as_slice() {
        [one] => Some(*one),
        _ if manifest.entries.iter().any(|e| matches(&e)) => None,
        _ if manifest.entries.len() == 1 => Some(&manifest.entries[0]),
        [] => {
            outcome.unexpected = 1;
            outcome.findings.push(unexpected(file, &name));
            return Ok(outcome);
        }
        _ => {
            return Err(GateError::new(
                "manifest",
                format!("several manifest entries end in `{name}` and none matches its digest"),
            ));
        }
    };
    if let Some(entry) = target.filter(|e| !matches(e)) {
        outcome.changed = 1;
        outcome
            .findings
            .push(changed(file, &name, entry, actual_for(entry.algorithm)));
    }
    Ok(outcome)
}

fn algorithm_name(a: DigestAlgorithm) -> &'static str {
    match a {
        DigestAlgorithm::Sha256 => "sha256",
        DigestAlgorithm::Sha512 => "sha512",
        DigestAlgorithm::Blake2b512 => "blake2b512",
    }
}

fn changed(path: &Path, rel: &str, entry: &Entry, actual: &str) -> Finding {
    let algorithm = algorithm_name(entry.algorithm);
    Finding::new(
        CHANGED,
        Severity::Critical,
        format!(
            "`{rel}` changed: its {algorithm} is {}... but the manifest says {}...",
            &actual[..actual.len().min(16)],
            &entry.digest[..16]
        ),
    )
    .at(path.to_string_lossy(), None)
    .property("expected", &entry.digest)
    .property("actual", actual)
    .property("algorithm", algorithm)
    .property("manifest_line", entry.line.to_string())
    .fingerprint(&[CHANGED, rel, &entry.digest])
}

fn missing(dataset: &Path, entry: &Entry) -> Finding {
    let line = match entry.line {
        0 => String::new(),
        n => format!(" (line {n})"),
    };
    Finding::new(
        MISSING,
        Severity::High,
        format!(
            "`{}` is listed in the manifest{line} but missing from the dataset",
            entry.path
        ),
    )
    .at(dataset.join(&entry.path).to_string_lossy(), None)
    .property("expected", &entry.digest)
    .property("algorithm", algorithm_name(entry.algorithm))
    .fingerprint(&[MISSING, &entry.path])
}

fn unexpected(path: &Path, rel: &str) -> Finding {
    Finding::new(
        UNEXPECTED,
        Severity::High,
        format!("`{rel}` is in the dataset but not in the manifest"),
    )
    .at(path.to_string_lossy(), None)
    .fingerprint(&[UNEXPECTED, rel])
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
