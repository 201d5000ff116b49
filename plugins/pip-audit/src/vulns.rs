//! Vulnerabilities as findings: matching the lockfiles against the database,
//! merging advisories that share an id or alias into one vulnerability, the
//! ignore list, and the finding itself (rule id = the advisory id).
//!
//! The same [`Vuln`] comes from an offline match ([`match_lockfile`]) or from
//! an ingested pip-audit report (`report` module), so both go through one
//! policy ([`apply_ignores`], [`Vuln::into_finding`]).

use std::collections::{BTreeSet, HashMap};

use mlgate_plugin_sdk::{Finding, Severity};

use crate::config::IgnoreEntry;
use crate::cvss::advisory_severity;
use crate::dates;
use crate::lock::{Lockfile, Requirement};
use crate::osv::Record;
use crate::osv::db::Database;
use crate::osv::matcher::{Installed, evaluate};

/// One advisory that hit one package version, before merging.
#[derive(Debug, Clone)]
pub struct Hit {
    /// The advisory's id.
    pub id: String,
    /// Its aliases.
    pub aliases: Vec<String>,
    /// Fixed versions above the installed one.
    pub fix_versions: Vec<String>,
    /// Severity and where it came from.
    pub severity: (Severity, String),
    /// Summary (or the first line of the details).
    pub summary: String,
}

impl Hit {
    /// A hit from a database record.
    pub fn from_record(record: &Record, fix_versions: Vec<String>) -> Self {
        let mut severity = advisory_severity(record);
        if record.is_malicious() {
            severity = (Severity::Critical, "malicious package (MAL- record)".into());
        }
        let summary = record
            .summary
            .clone()
            .or_else(|| record.details.as_ref().map(|d| first_sentence(d)))
            .unwrap_or_default();
        Hit {
            id: record.id.clone(),
            aliases: record.aliases.clone(),
            fix_versions,
            severity,
            summary,
        }
    }
}

/// One vulnerability of one package version (advisories sharing an id or an
/// alias merged), with where the package is written.
#[derive(Debug, Clone)]
pub struct Vuln {
    /// Package name as written.
    pub package: String,
    /// Installed version.
    pub version: String,
    /// Primary id (the finding's rule id).
    pub id: String,
    /// Every other id: merged advisory ids and all aliases.
    pub aliases: BTreeSet<String>,
    /// Union of fix versions.
    pub fix_versions: Vec<String>,
    /// Highest severity among the merged advisories, and its source.
    pub severity: (Severity, String),
    /// Summary of the primary advisory.
    pub summary: String,
    /// Guest path of the file to point at, and line.
    pub path: String,
    /// 1-based line.
    pub line: Option<u32>,
    /// Path relative to the input, for the fingerprint.
    pub relative: String,
    /// Where the result came from: `osv-database` or `pip-audit-report`.
    pub origin: &'static str,
}

impl Vuln {
    /// All ids of the vulnerability (primary first).
    pub fn all_ids(&self) -> impl Iterator<Item = &String> {
        std::iter::once(&self.id).chain(&self.aliases)
    }

    /// The finding for this vulnerability.
    pub fn into_finding(self) -> Finding {
        let mut message = format!(
            "{} {} is affected by {}",
            self.package, self.version, self.id
        );
        let aliases: Vec<&str> = self.aliases.iter().map(String::as_str).collect();
        if !aliases.is_empty() {
            message.push_str(&format!(" ({})", aliases.join(", ")));
        }
        if !self.summary.is_empty() {
            message.push_str(&format!(": {}", self.summary));
        }
        message.push_str(&match self.fix_versions.as_slice() {
            [] => "; no fixed version".to_string(),
            fixes => format!("; fixed in {}", fixes.join(", ")),
        });
        let subject = format!(
            "{}=={}",
            crate::names::normalize(&self.package),
            self.version
        );
        Finding::new(&self.id, self.severity.0, message)
            .at(&self.path, self.line)
            .fingerprint(&[&self.id, &self.relative, &subject])
            .property("package", &self.package)
            .property("version", &self.version)
            .property("advisory", &self.id)
            .property("aliases", aliases.join(","))
            .property("fix_versions", self.fix_versions.join(","))
            .property("severity_source", &self.severity.1)
            .property("source", self.origin)
    }
}

/// Merge hits for one package version: hits sharing any id or alias become
/// one vulnerability. Returns (primary id, other ids, hits) groups.
pub fn merge(hits: Vec<Hit>) -> Vec<(String, BTreeSet<String>, Vec<Hit>)> {
    let mut groups: Vec<(BTreeSet<String>, Vec<Hit>)> = Vec::new();
    for hit in hits {
        let ids: BTreeSet<String> = std::iter::once(hit.id.clone())
            .chain(hit.aliases.iter().cloned())
            .collect();
        let (mut joined_ids, mut joined_hits) = (ids, vec![hit]);
        groups.retain_mut(|(g_ids, g_hits)| {
            if g_ids.is_disjoint(&joined_ids) {
                return true;
            }
            joined_ids.append(g_ids);
            joined_hits.append(g_hits);
            false
        });
        groups.push((joined_ids, joined_hits));
    }
    groups
        .into_iter()
        .map(|(mut ids, hits)| {
            let primary = hits
                .iter()
                .map(|h| h.id.clone())
                .min_by_key(|id| id_rank(id))
                .unwrap_or_default();
            ids.remove(&primary);
            (primary, ids, hits)
        })
        .collect()
}

/// Preference for the primary id: PYSEC, then GHSA, then MAL, then others.
fn id_rank(id: &str) -> (u8, String) {
    let rank = ["PYSEC-", "GHSA-", "MAL-"]
        .iter()
        .position(|p| id.starts_with(p))
        .unwrap_or(3);
    (rank as u8, id.to_string())
}

/// Build merged [`Vuln`]s of one package version from its hits.
pub fn vulns_from_hits(
    hits: Vec<Hit>,
    req_name: &str,
    version: &str,
    path: &str,
    line: Option<u32>,
    relative: &str,
    origin: &'static str,
) -> Vec<Vuln> {
    merge(hits)
        .into_iter()
        .map(|(id, aliases, hits)| {
            let mut fixes: Vec<String> = hits.iter().flat_map(|h| h.fix_versions.clone()).collect();
            fixes.sort_by(|a, b| version_cmp(a, b));
            fixes.dedup();
            let severity = hits
                .iter()
                .map(|h| h.severity.clone())
                .max_by_key(|s| s.0.rank())
                .unwrap_or((Severity::Medium, String::new()));
            let summary = hits
                .iter()
                .find(|h| h.id == id)
                .map(|h| h.summary.clone())
                .unwrap_or_default();
            Vuln {
                package: req_name.to_string(),
                version: version.to_string(),
                id,
                aliases,
                fix_versions: fixes,
                severity,
                summary,
                path: path.to_string(),
                line,
                relative: relative.to_string(),
                origin,
            }
        })
        .collect()
}

fn version_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use crate::osv::matcher::parse_version;
    match (parse_version(a), parse_version(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        _ => a.cmp(b),
    }
}

/// Result of matching one lockfile.
#[derive(Debug, Default)]
pub struct LockAudit {
    /// Vulnerabilities found.
    pub vulns: Vec<Vuln>,
    /// (requirement, record id, reason) for ranges that could not be evaluated.
    pub unevaluable: Vec<(Requirement, String, String)>,
    /// Requirements audited.
    pub audited: usize,
}

/// Match every auditable requirement of `lock` (constraints pin unpinned
/// requirements of the same name, as pip applies them).
pub fn match_lockfile(
    lock: &Lockfile,
    db: &Database,
    relative: &dyn Fn(&std::path::Path) -> String,
) -> LockAudit {
    let mut out = LockAudit::default();
    let pins: HashMap<&str, &str> = lock
        .requirements
        .iter()
        .filter(|r| r.constraint)
        .filter_map(|r| Some((r.normalized.as_str(), r.version.as_deref()?)))
        .collect();
    let mut seen = std::collections::HashSet::new();
    for req in lock
        .requirements
        .iter()
        .filter(|r| !r.constraint && !r.skipped_by_marker)
    {
        if !matches!(req.source, crate::lock::Source::Registry(_)) {
            continue;
        }
        let Some(version) = req
            .version
            .as_deref()
            .or_else(|| pins.get(req.normalized.as_str()).copied())
        else {
            continue;
        };
        if !seen.insert((req.normalized.clone(), version.to_string())) {
            continue;
        }
        out.audited += 1;
        let installed = Installed::new(version);
        let mut hits = Vec::new();
        for record in db.records_for(&req.normalized) {
            let outcome = evaluate(record, &req.normalized, &installed);
            if outcome.affected {
                hits.push(Hit::from_record(record, outcome.fix_versions));
            } else if let Some(reason) = outcome.unevaluable.first() {
                out.unevaluable
                    .push((req.clone(), record.id.clone(), reason.clone()));
            }
        }
        let path = req.file.to_string_lossy().into_owned();
        out.vulns.extend(vulns_from_hits(
            hits,
            &req.name,
            version,
            &path,
            req.line,
            &relative(&req.file),
            "osv-database",
        ));
    }
    out
}

/// Drop ignored vulnerabilities. Returns the kept ones and, for each entry
/// that has expired, the entry (expired entries do not apply).
pub fn apply_ignores(
    vulns: Vec<Vuln>,
    ignores: &[IgnoreEntry],
    today: i64,
) -> (Vec<Vuln>, Vec<IgnoreEntry>, usize) {
    let (active, expired): (Vec<&IgnoreEntry>, Vec<&IgnoreEntry>) = ignores.iter().partition(|e| {
        e.expires
            .as_deref()
            .and_then(dates::parse_day)
            .is_none_or(|d| today < d)
    });
    let mut ignored = 0;
    let kept = vulns
        .into_iter()
        .filter(|v| {
            let hit = active
                .iter()
                .any(|e| v.all_ids().any(|id| id.eq_ignore_ascii_case(&e.id)));
            ignored += usize::from(hit);
            !hit
        })
        .collect();
    (kept, expired.into_iter().cloned().collect(), ignored)
}

fn first_sentence(text: &str) -> String {
    let line = text.lines().next().unwrap_or("");
    let end = line.find(". ").map_or(line.len(), |i| i + 1);
    let mut s: String = line[..end].chars().take(200).collect();
    if s.len() < line[..end].len() {
        s.push('…');
    }
    s
}

#[cfg(test)]
#[path = "vulns_tests.rs"]
mod tests;
