//! Does an OSV record affect an installed version? Evaluated exactly as the
//! OSV schema's "Evaluation" section describes, with PEP 440 ordering from
//! `pep440_rs`.
//!
//! Per range (`ECOSYSTEM`, and `SEMVER` compared as PEP 440 since PyPI has no
//! other order; `GIT` ranges hold commits and are ignored): the events are
//! sorted by version (`introduced: "0"` first), then walked in order; every
//! event at or below the installed version sets the state (`introduced` →
//! affected, `fixed` → not, `last_affected` → not for versions above it), and
//! a `limit` at or below the version ends the range. Ties: at equal versions
//! the closing events (`fixed`, `last_affected`, `limit`) sort before
//! `introduced`, so a pair that ends where the next begins (`fixed: 3.1.1`,
//! `introduced: 3.1.1`, PYSEC-2022-236) keeps the shared version affected, as
//! the union of the intervals says and as the record's `versions` list agrees.
//!
//! A version is affected if any range **or** the `versions` list says so;
//! list entries are compared as PEP 440 versions, and an entry that is not
//! PEP 440 only matches the identical string. A range holding an event that is
//! not PEP 440 (`fixed: "2019-09-12"`) cannot be evaluated: it never matches
//! and is reported as [`Outcome::unevaluable`] instead of guessed.

use std::cmp::Ordering;
use std::str::FromStr;

use pep440_rs::Version;

use super::{Affected, Range, Record, is_pypi};
use crate::names::normalize;

/// An installed version: the text from the lockfile and its PEP 440 parse.
#[derive(Debug, Clone)]
pub struct Installed {
    /// As written in the lockfile.
    pub raw: String,
    /// `None` when the text is not a PEP 440 version.
    pub parsed: Option<Version>,
}

impl Installed {
    /// Parse an installed version (never fails; see [`Installed::parsed`]).
    pub fn new(raw: &str) -> Self {
        Installed {
            raw: raw.trim().to_string(),
            parsed: parse_version(raw),
        }
    }
}

/// Parse a PEP 440 version, `None` when the text is not one.
pub fn parse_version(text: &str) -> Option<Version> {
    Version::from_str(text.trim()).ok()
}

/// What matching one record against one installed package gave.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// The record affects the version.
    pub affected: bool,
    /// Fixed versions above the installed one (PEP 440 normal form, ascending).
    pub fix_versions: Vec<String>,
    /// Ranges that could not be evaluated, with the offending value.
    pub unevaluable: Vec<String>,
}

/// Match `record` against package `name` (any spelling) at `installed`.
/// Withdrawn records never match.
pub fn evaluate(record: &Record, name: &str, installed: &Installed) -> Outcome {
    let mut outcome = Outcome::default();
    if record.is_withdrawn() {
        return outcome;
    }
    let wanted = normalize(name);
    let mut fixes: Vec<Version> = Vec::new();
    for entry in &record.affected {
        let Some(package) = &entry.package else {
            continue;
        };
        if !is_pypi(&package.ecosystem) || normalize(&package.name) != wanted {
            continue;
        }
        if entry_affects(entry, installed, &mut outcome.unevaluable) {
            outcome.affected = true;
            if let Some(v) = &installed.parsed {
                collect_fixes(entry, v, &mut fixes);
            }
        }
    }
    if outcome.affected {
        fixes.sort();
        fixes.dedup();
        outcome.fix_versions = fixes.iter().map(ToString::to_string).collect();
    }
    outcome
}

fn entry_affects(entry: &Affected, installed: &Installed, unevaluable: &mut Vec<String>) -> bool {
    let mut hit = in_versions_list(&entry.versions, installed);
    if let Some(v) = &installed.parsed {
        for range in &entry.ranges {
            match range_affects(range, v) {
                Ok(true) => hit = true,
                Ok(false) => {}
                Err(bad) => unevaluable.push(bad),
            }
        }
    } else if entry.ranges.iter().any(is_version_range) {
        unevaluable.push(format!(
            "installed version `{}` is not PEP 440",
            installed.raw
        ));
    }
    hit
}

fn in_versions_list(list: &[String], installed: &Installed) -> bool {
    list.iter()
        .any(|text| match (parse_version(text), &installed.parsed) {
            (Some(listed), Some(v)) => listed == *v,
            (None, _) => text.trim() == installed.raw,
            (Some(_), None) => false,
        })
}

fn is_version_range(range: &Range) -> bool {
    matches!(range.kind.as_str(), "ECOSYSTEM" | "SEMVER")
}

/// Event kinds in tie order: closing events before `introduced`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Fixed,
    LastAffected,
    Limit,
    Introduced,
}

/// Evaluate one range. `Ok(None)` never happens; `Err` names the bad value.
fn range_affects(range: &Range, v: &Version) -> Result<bool, String> {
    if !is_version_range(range) {
        return Ok(false);
    }
    // (None = the "0" sentinel, kind)
    let mut events: Vec<(Option<Version>, Kind)> = Vec::with_capacity(range.events.len());
    for event in &range.events {
        let (text, kind) = match (
            &event.introduced,
            &event.fixed,
            &event.last_affected,
            &event.limit,
        ) {
            (Some(t), _, _, _) => (t, Kind::Introduced),
            (_, Some(t), _, _) => (t, Kind::Fixed),
            (_, _, Some(t), _) => (t, Kind::LastAffected),
            (_, _, _, Some(t)) => (t, Kind::Limit),
            _ => continue,
        };
        if kind == Kind::Introduced && text.trim() == "0" {
            events.push((None, kind));
            continue;
        }
        match parse_version(text) {
            Some(parsed) => events.push((Some(parsed), kind)),
            None => {
                return Err(format!(
                    "{} range event `{text}` is not PEP 440",
                    range.kind
                ));
            }
        }
    }
    events.sort_by(|(va, ka), (vb, kb)| {
        let by_version = match (va, vb) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(a), Some(b)) => a.cmp(b),
        };
        by_version.then(ka.cmp(kb))
    });
    let mut affected = false;
    for (at, kind) in &events {
        match (kind, at) {
            (Kind::Introduced, None) => affected = true,
            (Kind::Introduced, Some(at)) if v >= at => affected = true,
            (Kind::Fixed, Some(at)) if v >= at => affected = false,
            (Kind::LastAffected, Some(at)) if v > at => affected = false,
            (Kind::Limit, Some(at)) if v >= at => return Ok(false),
            _ => {}
        }
    }
    Ok(affected)
}

fn collect_fixes(entry: &Affected, v: &Version, out: &mut Vec<Version>) {
    for range in entry.ranges.iter().filter(|r| is_version_range(r)) {
        for fixed in range.events.iter().filter_map(|e| e.fixed.as_deref()) {
            if let Some(f) = parse_version(fixed).filter(|f| f > v) {
                out.push(f);
            }
        }
    }
}

#[cfg(test)]
#[path = "matcher_tests.rs"]
mod tests;
