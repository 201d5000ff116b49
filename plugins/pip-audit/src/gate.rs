//! The gate run: inputs → lockfiles, database, report → findings, summary and
//! metrics. Everything here is orchestration; the analysis lives in the
//! modules it calls.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use mlgate_plugin_sdk::{Finding, GateError, GateResult, PluginInfo, Request, Severity, walk};

use crate::config::{Config, SCHEMA};
use crate::lock::{self, Lockfile};
use crate::markers::Target;
use crate::names::normalize;
use crate::osv::db::Database;
use crate::vulns::{self, Vuln};
use crate::{dates, hygiene, report};

/// Most findings returned (the host caps at 10 000).
const MAX_FINDINGS: usize = 9_999;

/// Gate-level rules (vulnerability findings use the advisory id as rule id).
const GATE_RULES: &[(&str, Severity, &str, &str)] = &[
    (
        "advisory-db-stale",
        Severity::Medium,
        "Advisory database older than `max_db_age_days`",
        "Run `mlgate advisories fetch` (gates without an `advisories` input use the newest fetched copy), or update the `advisories` input.",
    ),
    (
        "advisory-unevaluable",
        Severity::Info,
        "An advisory's range holds a value that is not PEP 440",
        "Check the advisory by hand; the version was neither matched nor cleared.",
    ),
    (
        "advisory-record-invalid",
        Severity::Low,
        "A database record could not be read",
        "Fix or drop the record; it was not used.",
    ),
    (
        "ignore-expired",
        Severity::Low,
        "An ignore entry has expired and no longer applies",
        "Upgrade the package, or renew the entry with a new reason and date.",
    ),
    (
        "report-skipped-dependency",
        Severity::Low,
        "pip-audit skipped a dependency",
        "Pin the dependency to an index release so it can be audited.",
    ),
];

/// Static description of the gate.
pub fn describe() -> PluginInfo {
    let mut info = PluginInfo::new(
        "pip-audit",
        env!("CARGO_PKG_VERSION"),
        "Offline OSV audit of Python lockfiles (requirements.txt, pylock.toml, uv.lock, poetry.lock, \
         Pipfile.lock), pip-audit JSON ingest, and lockfile hygiene",
    )
    .rule("vulnerability", Severity::Medium,
        "A locked package version is affected by an OSV advisory (reported under the advisory id)",
        "Upgrade to a fixed version, or ignore the id with a reason and an expiry date.")
    .input("lockfile", "A lockfile, or a directory searched for lockfiles", false)
    .input("advisories", "OSV database: directory of OSV JSON, .jsonl file, or OSV zip", false)
    .input("report", "A `pip-audit --format json` report made elsewhere", false)
    .config_schema(SCHEMA);
    for (id, severity, summary, help) in hygiene::RULES.iter().chain(GATE_RULES) {
        info = info.rule(*id, *severity, *summary, *help);
    }
    info
}

fn rule_finding(
    rule: &str,
    message: String,
    path: &str,
    line: Option<u32>,
    subject: &str,
) -> Finding {
    let severity = GATE_RULES
        .iter()
        .find(|r| r.0 == rule)
        .map_or(Severity::Low, |r| r.1);
    Finding::new(rule, severity, message)
        .at(path, line)
        .fingerprint(&[rule, subject])
}

/// Run the gate.
pub fn run(request: &Request) -> Result<GateResult, GateError> {
    let config: Config = request.config()?;
    for entry in &config.ignore {
        if let Some(e) = &entry.expires
            && dates::parse_day(e).is_none()
        {
            return Err(GateError::config(format!(
                "ignore entry `{}`: expires `{e}` is not YYYY-MM-DD",
                entry.id
            )));
        }
    }
    let lock_input = request.input("lockfile");
    let report_input = request.input("report");
    if lock_input.is_none() && report_input.is_none() {
        return Err(GateError::input(
            "declare a `lockfile` input (or a pip-audit `report`)",
        ));
    }
    let mut locks = match lock_input {
        Some(input) => read_locks(input)?,
        None => Vec::new(),
    };
    let skipped_by_marker = match &config.environment {
        Some(env) => {
            let target = Target::new(env.clone()).map_err(GateError::config)?;
            Some(apply_markers(&mut locks, &target))
        }
        None => None,
    };
    let root: PathBuf = lock_input.map(input_root).unwrap_or_default();
    let relative = |p: &Path| walk::relative(&root, p);
    let report_deps = match report_input {
        Some(path) => {
            let text = lock::read_text(path).map_err(|e| GateError::input(e.0))?;
            Some((
                path,
                report::parse(&text)
                    .map_err(|e| GateError::input(format!("{}: {e}", path.display())))?,
            ))
        }
        None => None,
    };

    let mut wanted: HashSet<String> = locks
        .iter()
        .flat_map(|l| {
            l.requirements
                .iter()
                .filter(|r| !r.skipped_by_marker)
                .map(|r| r.normalized.clone())
        })
        .collect();
    if let Some((_, deps)) = &report_deps {
        wanted.extend(deps.iter().map(|d| normalize(&d.name)));
    }
    let db = match request.input("advisories") {
        Some(path) => Some(Database::load(path, Some(&wanted)).map_err(|e| GateError::input(e.0))?),
        None if report_deps.is_some() => None,
        None => {
            return Err(GateError::input(
                "no advisory database: run `mlgate advisories fetch` on the host (gates without an \
                 `advisories` input then use the newest fetched copy), or declare an `advisories` \
                 input (an OSV directory, .jsonl or zip)",
            ));
        }
    };

    let mut findings = Vec::new();
    let mut all_vulns: Vec<Vuln> = Vec::new();
    let mut audited = 0;
    if let Some(db) = &db {
        for lock in &locks {
            let result = vulns::match_lockfile(lock, db, &relative);
            audited += result.audited;
            all_vulns.extend(result.vulns);
            for (req, id, reason) in result.unevaluable {
                findings.push(rule_finding(
                    "advisory-unevaluable",
                    format!(
                        "{} {}: advisory {id} cannot be evaluated ({reason})",
                        req.name,
                        req.version.as_deref().unwrap_or("?")
                    ),
                    &req.file.to_string_lossy(),
                    req.line,
                    &format!("{id}|{}", req.normalized),
                ));
            }
        }
        for bad in db.invalid.iter().take(100) {
            findings.push(rule_finding(
                "advisory-record-invalid",
                bad.clone(),
                "advisories",
                None,
                bad,
            ));
        }
    }
    if let Some((path, deps)) = &report_deps {
        let (vulns, skipped) = report_vulns(path, deps, db.as_ref(), &locks, &relative);
        all_vulns.extend(vulns);
        findings.extend(skipped);
    }
    let today = dates::today();
    let (kept, expired, ignored) = vulns::apply_ignores(all_vulns, &config.ignore, today);
    for entry in expired {
        findings.push(rule_finding(
            "ignore-expired",
            format!(
                "ignore entry for {} expired on {} and no longer applies (reason was: {})",
                entry.id,
                entry.expires.as_deref().unwrap_or("?"),
                entry.reason
            ),
            "config",
            None,
            &entry.id,
        ));
    }
    let vuln_count = kept.len();
    let vulnerable_packages: HashSet<(String, String)> = kept
        .iter()
        .map(|v| (normalize(&v.package), v.version.clone()))
        .collect();
    findings.extend(kept.into_iter().map(Vuln::into_finding));
    for lock in &locks {
        findings.extend(hygiene::check(lock, &config, &relative));
    }

    let db_date = db.as_ref().and_then(|d| d.newest_modified.clone());
    let db_age = db_date
        .as_deref()
        .and_then(dates::parse_day)
        .map(|d| today - d);
    if let (Some(age), Some(date)) = (db_age, &db_date)
        && age > i64::from(config.max_db_age_days)
    {
        findings.push(rule_finding(
            "advisory-db-stale",
            format!(
                "advisory database is {age} days old (newest record {}); limit is {} days",
                &date[..date.len().min(10)],
                config.max_db_age_days
            ),
            "advisories",
            None,
            "advisory-db-stale",
        ));
    }
    let truncated = findings.len() > MAX_FINDINGS;
    findings.truncate(MAX_FINDINGS);
    let formats: Vec<String> = locks
        .iter()
        .map(|l| format!("{} ({})", relative(&l.path), l.format.as_str()))
        .collect();
    let db_text = match (&db, &db_date) {
        (Some(d), Some(date)) => format!(
            "{} advisories, data of {}",
            d.records_seen,
            &date[..date.len().min(10)]
        ),
        (Some(d), None) => format!("{} advisories, date unknown", d.records_seen),
        (None, _) => "no advisory database (report only)".into(),
    };
    let markers_text = match skipped_by_marker {
        Some(n) => format!("; {n} requirements not installed in the target environment (markers)"),
        None => String::new(),
    };
    let summary = format!(
        "{vuln_count} vulnerabilities in {} package versions ({ignored} ignored); audited {audited} packages in [{}] against {db_text}{markers_text}{}",
        vulnerable_packages.len(),
        formats.join(", "),
        if truncated {
            "; findings truncated"
        } else {
            ""
        },
    );
    let mut result = GateResult::from_findings(findings, summary)
        .metric("packages_audited", audited as f64)
        .metric("vulnerabilities", vuln_count as f64)
        .metric("ignored", ignored as f64);
    if let Some(d) = &db {
        result = result.metric("advisories_in_database", d.records_seen as f64);
    }
    if let Some(age) = db_age {
        result = result.metric("database_age_days", age as f64);
    }
    if let Some(n) = skipped_by_marker {
        result = result.metric("skipped_by_marker", n as f64);
    }
    Ok(result)
}

/// Marks the requirements whose marker cannot hold in `target`; returns how
/// many. A marker that does not parse is reported and audited anyway.
fn apply_markers(locks: &mut [Lockfile], target: &Target) -> usize {
    let mut skipped = 0;
    for lock in locks {
        let mut problems = Vec::new();
        for req in &mut lock.requirements {
            let Some(marker) = &req.marker else {
                continue;
            };
            match target.may_apply(marker) {
                Ok(true) => {}
                Ok(false) => {
                    req.skipped_by_marker = true;
                    skipped += 1;
                }
                Err(e) => problems.push((
                    req.file.clone(),
                    req.line,
                    format!(
                        "{}: marker `{marker}` is not PEP 508 ({e}); audited anyway",
                        req.name
                    ),
                )),
            }
        }
        lock.problems.extend(problems);
    }
    skipped
}

fn input_root(input: &Path) -> PathBuf {
    if input.is_dir() {
        input.to_path_buf()
    } else {
        input.parent().map(Path::to_path_buf).unwrap_or_default()
    }
}

fn read_locks(input: &Path) -> Result<Vec<Lockfile>, GateError> {
    let found = lock::discover(input);
    if found.is_empty() {
        return Err(GateError::input(format!(
            "{}: no lockfile found (requirements*.txt, pylock.toml, uv.lock, poetry.lock, Pipfile.lock)",
            input.display()
        )));
    }
    let root = input_root(input);
    // A requirements file included by another one found here is read through
    // the include; reading it again would double its findings.
    let mut locks: Vec<Lockfile> = Vec::new();
    for (path, format) in found {
        if locks
            .iter()
            .any(|l| l.requirements.iter().any(|r| r.file == path))
        {
            continue;
        }
        locks.push(lock::parse(&path, format, &root).map_err(|e| GateError::input(e.0))?);
    }
    Ok(locks)
}

fn report_vulns(
    path: &Path,
    deps: &[report::Dependency],
    db: Option<&Database>,
    locks: &[Lockfile],
    relative: &dyn Fn(&Path) -> String,
) -> (Vec<Vuln>, Vec<Finding>) {
    let mut vulns_out = Vec::new();
    let mut skipped = Vec::new();
    let report_path = path.to_string_lossy().into_owned();
    for dep in deps {
        let name = normalize(&dep.name);
        let located = locks
            .iter()
            .flat_map(|l| &l.requirements)
            .find(|r| r.normalized == name && !r.constraint);
        let (file, line, rel) = match located {
            Some(r) => (
                r.file.to_string_lossy().into_owned(),
                r.line,
                relative(&r.file),
            ),
            None => (report_path.clone(), None, "report".to_string()),
        };
        if let Some(reason) = &dep.skip_reason {
            skipped.push(rule_finding(
                "report-skipped-dependency",
                format!("pip-audit did not audit {}: {reason}", dep.name),
                &file,
                line,
                &dep.name,
            ));
            continue;
        }
        let Some(version) = &dep.version else {
            continue;
        };
        let hits = dep
            .vulns
            .iter()
            .map(|v| {
                let record = db.and_then(|d| {
                    d.records_for(&name)
                        .iter()
                        .find(|r| r.id == v.id || r.aliases.contains(&v.id))
                        .cloned()
                });
                v.to_hit(record.as_deref())
            })
            .collect();
        vulns_out.extend(vulns::vulns_from_hits(
            hits,
            &dep.name,
            version,
            &file,
            line,
            &rel,
            "pip-audit-report",
        ));
    }
    (vulns_out, skipped)
}

#[cfg(test)]
#[path = "gate_tests.rs"]
mod tests;
