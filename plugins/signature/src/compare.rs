//! The model on disk against the signed manifest: every signed file must
//! exist with the signed digest (per shard for sharded manifests), every file
//! on disk must be signed or ignored, names must be normalised and unique,
//! and symlinks must stay inside the model. Digests come from the host's
//! `digest_batch` (native, parallel), never from hashing inside Wasm.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use mlgate_plugin_sdk::host::{self, DigestJob};
use mlgate_plugin_sdk::{DigestAlgorithm, Finding, GateError};

use crate::rules::{self, finding};
use crate::scan::{self, Listing};
use crate::statement::{HashKind, Manifest, Method};

/// What the comparison measured.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    /// Files whose digests were checked.
    pub files: u64,
    /// Bytes hashed.
    pub bytes: u64,
}

/// Signed pieces of one file: `(range, digest)`; range `None` = whole file.
type Pieces = Vec<(Option<(u64, u64)>, Vec<u8>)>;

fn algorithm(h: HashKind) -> DigestAlgorithm {
    match h {
        HashKind::Sha256 => DigestAlgorithm::Sha256,
        HashKind::Blake2b => DigestAlgorithm::Blake2b512,
    }
}

fn guest(root: &Path, rel: &str) -> String {
    if rel == "." {
        root.display().to_string()
    } else {
        root.join(rel).display().to_string()
    }
}

/// Group the manifest's resources by file, reporting bad names.
fn expected_files(
    root: &Path,
    m: &Manifest,
    findings: &mut Vec<Finding>,
) -> BTreeMap<String, Pieces> {
    let mut by_file: BTreeMap<String, Pieces> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for r in &m.resources {
        let bad = |why: &str| {
            finding(
                rules::PATH_INVALID,
                &root.display().to_string(),
                &r.name,
                format!(
                    "the signed manifest names `{}`, which {why}; refusing it",
                    r.name
                ),
            )
        };
        if !seen.insert(r.name.clone()) {
            findings.push(bad("is listed twice"));
            continue;
        }
        let (path, range) = match m.serialization.method {
            Method::Files => (r.name.clone(), None),
            Method::Shards { shard_size } => {
                let mut it = r.name.rsplitn(3, ':');
                let (end, start, path) = (it.next(), it.next(), it.next());
                let parsed = start
                    .zip(end)
                    .and_then(|(s, e)| Some((s.parse::<u64>().ok()?, e.parse::<u64>().ok()?)));
                match (path, parsed) {
                    (Some(p), Some((s, e)))
                        if s < e && e - s <= shard_size && s % shard_size == 0 =>
                    {
                        (p.to_string(), Some((s, e)))
                    }
                    _ => {
                        findings.push(bad("is not a valid `path:start:end` shard"));
                        continue;
                    }
                }
            }
        };
        if !(scan::is_normalised(&path) || path == ".") {
            findings.push(bad(
                "is not a normalised path inside the model (`./`, `..`, `/` or `\\`)",
            ));
            continue;
        }
        by_file
            .entry(path)
            .or_default()
            .push((range, r.digest.clone()));
    }
    by_file
}

/// Compare the model at `root` with the manifest. `extra_ignores` come from
/// the gate config; `signature_sha256` lets a signature file that lives inside
/// the model directory be recognised and skipped.
pub fn compare(
    root: &Path,
    m: &Manifest,
    extra_ignores: &[String],
    signature_sha256: Option<&[u8]>,
) -> Result<(Vec<Finding>, Stats), GateError> {
    let mut findings = Vec::new();
    let listing: Listing = scan::list(root)
        .map_err(|e| GateError::new("io", format!("cannot list the model: {e}")))?;
    let mut expected = expected_files(root, m, &mut findings);
    let root_text = root.display().to_string();
    if listing.single_file != expected.keys().any(|k| k == ".")
        || (listing.single_file && expected.len() != 1)
    {
        let what = if listing.single_file {
            "a single file"
        } else {
            "a directory"
        };
        findings.push(finding(
            rules::PATH_INVALID,
            &root_text,
            "shape",
            format!("the model is {what}, but the signature was made for the other kind of model"),
        ));
        return Ok((findings, Stats::default()));
    }
    let mut ignores: Vec<String> = Vec::new();
    for i in m.serialization.ignore_paths.iter().chain(extra_ignores) {
        let t = i.trim_end_matches('/');
        if scan::is_normalised(t) {
            ignores.push(t.to_string());
        } else if listing.single_file {
            // model_signing ignores nothing for a single-file model.
        } else {
            findings.push(finding(rules::PATH_INVALID, &root_text, i,
                format!("ignore path `{i}` is not a normalised path below the model root; it is not honoured")));
        }
    }
    // Links: outside the model or not allowed are findings; allowed ones
    // inside are checked like the file they name.
    let mut on_disk: BTreeMap<String, (String, u64)> = listing
        .files
        .iter()
        .map(|f| (f.rel.clone(), (f.path.display().to_string(), f.size)))
        .collect();
    for l in &listing.links {
        if scan::is_ignored(&l.rel, &ignores) && !expected.contains_key(&l.rel) {
            continue;
        }
        let size = std::fs::metadata(&l.path)
            .ok()
            .filter(|md| md.is_file())
            .map(|md| md.len());
        match (&l.target, size, m.serialization.allow_symlinks) {
            (Some(_), Some(size), true) => {
                on_disk.insert(l.rel.clone(), (l.path.display().to_string(), size));
            }
            (None, _, _) => findings.push(finding(
                rules::SYMLINK,
                &l.path.display().to_string(),
                &l.rel,
                format!(
                    "`{}` is a symbolic link that points outside the model",
                    l.rel
                ),
            )),
            (Some(t), None, _) => findings.push(finding(
                rules::SYMLINK,
                &l.path.display().to_string(),
                &l.rel,
                format!(
                    "`{}` is a symbolic link to `{t}`, which is not a regular file",
                    l.rel
                ),
            )),
            (Some(t), Some(_), false) => findings.push(finding(
                rules::SYMLINK,
                &l.path.display().to_string(),
                &l.rel,
                format!(
                    "`{}` is a symbolic link to `{t}`, and the signature does not allow symlinks",
                    l.rel
                ),
            )),
        }
    }
    let alg = algorithm(m.serialization.hash);
    let mut jobs = Vec::new();
    let mut meta = Vec::new();
    let mut stats = Stats::default();
    let mut missing = Vec::new();
    for (rel, pieces) in expected.iter_mut() {
        let Some((path, size)) = on_disk.get(rel) else {
            missing.push((rel.clone(), pieces.first().map(|p| p.1.clone())));
            continue;
        };
        if let Method::Shards { shard_size } = m.serialization.method {
            pieces.sort_by_key(|p| p.0);
            let signed: Vec<_> = pieces.iter().filter_map(|p| p.0).collect();
            if signed != scan::shards(*size, shard_size) {
                let signed_size = signed.last().map_or(0, |r| r.1);
                findings.push(finding(rules::DIGEST_MISMATCH, path, rel,
                    format!("`{rel}` changed after signing: it is {size} bytes, the signature covers {signed_size} bytes")));
                continue;
            }
        }
        stats.files += 1;
        for (range, digest) in pieces.iter() {
            stats.bytes += range.map_or(*size, |(s, e)| e - s);
            jobs.push(DigestJob {
                path: path.clone(),
                algorithm: alg,
                range: range.map(|(s, e)| (s, e - s)),
            });
            meta.push((rel.clone(), path.clone(), *range, digest.clone()));
        }
    }
    let unsigned: Vec<_> = on_disk
        .iter()
        .filter(|(rel, _)| !expected.contains_key(*rel) && !scan::is_ignored(rel, &ignores))
        .map(|(rel, (path, size))| (rel.clone(), path.clone(), *size))
        .collect();
    let first_extra = jobs.len();
    for (_, path, _) in &unsigned {
        jobs.push(DigestJob {
            path: path.clone(),
            algorithm: DigestAlgorithm::Sha256,
            range: None,
        });
    }
    let results = host::digest_batch(&jobs);
    if results.len() != jobs.len() {
        return Err(GateError::new(
            "host",
            "the host returned a wrong number of digests",
        ));
    }
    let mut mismatched = BTreeSet::new();
    for ((rel, path, range, want), got) in meta.iter().zip(&results) {
        let got = got
            .as_ref()
            .map_err(|e| GateError::new("io", format!("cannot hash `{rel}`: {e}")))?;
        if got != want && mismatched.insert(rel.clone()) {
            let piece = range
                .map(|(s, e)| format!(" (bytes {s}..{e})"))
                .unwrap_or_default();
            findings.push(finding(
                rules::DIGEST_MISMATCH,
                path,
                rel,
                format!(
                    "`{rel}` changed after signing{piece}: {} is {}, the signature says {}",
                    m.serialization.hash.name(),
                    hex::encode(got),
                    hex::encode(want)
                ),
            ));
        }
    }
    let sha_files =
        m.serialization.method == Method::Files && m.serialization.hash == HashKind::Sha256;
    let mut renamed_from: BTreeMap<String, String> = BTreeMap::new();
    for ((rel, path, _), got) in unsigned.iter().zip(&results[first_extra..]) {
        let got = got
            .as_ref()
            .map_err(|e| GateError::new("io", format!("cannot hash `{rel}`: {e}")))?;
        if signature_sha256 == Some(got.as_slice()) {
            continue; // the signature file itself, stored inside the model
        }
        let was = missing
            .iter()
            .find(|(_, d)| sha_files && d.as_deref() == Some(got.as_slice()));
        let note = match was {
            Some((old, _)) => {
                renamed_from.insert(old.clone(), rel.clone());
                format!(" (it has the content of signed `{old}`: renamed?)")
            }
            None => String::new(),
        };
        findings.push(finding(
            rules::FILE_UNSIGNED,
            path,
            rel,
            format!("`{rel}` is in the model but not covered by the signature{note}"),
        ));
    }
    for (rel, _) in &missing {
        let note = renamed_from
            .get(rel)
            .map(|n| format!(" (renamed to `{n}`?)"))
            .unwrap_or_default();
        findings.push(finding(
            rules::FILE_MISSING,
            &guest(root, rel),
            rel,
            format!("`{rel}` is covered by the signature but missing from the model{note}"),
        ));
    }
    Ok((findings, stats))
}

#[cfg(test)]
#[path = "compare_tests.rs"]
pub(crate) mod tests;
