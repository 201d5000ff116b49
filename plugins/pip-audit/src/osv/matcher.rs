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
/// Withdrawn records never match. To match one record many times, build a
/// [`Compiled`] once instead.
pub fn evaluate(record: &Record, name: &str, installed: &Installed) -> Outcome {
    Compiled::build(record, false).evaluate(&normalize(name), installed)
}

/// Event kinds in tie order: closing events before `introduced`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Fixed,
    LastAffected,
    Limit,
    Introduced,
}

/// Sorted events of one range (`None` = the `"0"` sentinel), or the value
/// that made it unevaluable.
type Events = Result<Vec<(Option<Version>, Kind)>, String>;

/// A record prepared for matching: names normalised, `versions` parsed and
/// sorted, range events parsed and sorted, fixed versions collected.
#[derive(Debug, Clone)]
pub struct Compiled {
    withdrawn: bool,
    entries: Vec<CompiledEntry>,
}

#[derive(Debug, Clone)]
struct CompiledEntry {
    name: String,
    /// Parsed `versions`, sorted (empty when kept lazy in `unparsed`).
    listed: Vec<Version>,
    /// `versions` entries that are not PEP 440 (exact-string matches only).
    listed_raw: Vec<String>,
    /// `versions` left unparsed for a one-shot match (see [`lazy_listed`]).
    unparsed: Vec<String>,
    ranges: Vec<Events>,
    fixes: Vec<Version>,
}

impl Compiled {
    /// Prepare `record` (its PyPI entries only) for many matches.
    pub fn new(record: &Record) -> Self {
        Self::build(record, true)
    }

    /// `parse_lists: false` keeps `versions` as text, for a single match
    /// that only parses the entries a cheap test cannot rule out.
    fn build(record: &Record, parse_lists: bool) -> Self {
        let entries = record
            .affected
            .iter()
            .filter_map(|entry| {
                let package = entry.package.as_ref()?;
                is_pypi(&package.ecosystem)
                    .then(|| compile_entry(entry, normalize(&package.name), parse_lists))
            })
            .collect();
        Compiled {
            withdrawn: record.is_withdrawn(),
            entries,
        }
    }

    /// Match the prepared record against normalised `name` at `installed`.
    pub fn evaluate(&self, name: &str, installed: &Installed) -> Outcome {
        let mut outcome = Outcome::default();
        if self.withdrawn {
            return outcome;
        }
        let mut fixes: Vec<&Version> = Vec::new();
        for entry in self.entries.iter().filter(|e| e.name == name) {
            if entry.affects(installed, &mut outcome.unevaluable) {
                outcome.affected = true;
                if let Some(v) = &installed.parsed {
                    fixes.extend(entry.fixes.iter().filter(|f| *f > v));
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
}

fn compile_entry(entry: &Affected, name: String, parse_lists: bool) -> CompiledEntry {
    let mut listed = Vec::new();
    let mut listed_raw = Vec::new();
    let unparsed = if parse_lists {
        Vec::new()
    } else {
        entry.versions.clone()
    };
    for text in entry.versions.iter().filter(|_| parse_lists) {
        match parse_version(text) {
            Some(v) => listed.push(v),
            None => listed_raw.push(text.trim().to_string()),
        }
    }
    listed.sort();
    let ranges: Vec<Events> = entry
        .ranges
        .iter()
        .filter(|r| is_version_range(r))
        .map(compile_range)
        .collect();
    let mut fixes: Vec<Version> = entry
        .ranges
        .iter()
        .filter(|r| is_version_range(r))
        .flat_map(|r| {
            r.events
                .iter()
                .filter_map(|e| e.fixed.as_deref().and_then(parse_version))
        })
        .collect();
    fixes.sort();
    fixes.dedup();
    CompiledEntry {
        name,
        listed,
        listed_raw,
        unparsed,
        ranges,
        fixes,
    }
}

impl CompiledEntry {
    fn affects(&self, installed: &Installed, unevaluable: &mut Vec<String>) -> bool {
        let mut hit = match &installed.parsed {
            Some(v) => self.listed.binary_search(v).is_ok(),
            None => false,
        } || self.listed_raw.contains(&installed.raw)
            || lazy_listed(&self.unparsed, installed);
        match &installed.parsed {
            Some(v) => {
                for range in &self.ranges {
                    match range {
                        Ok(events) => hit |= walk_events(events, v),
                        Err(bad) => unevaluable.push(bad.clone()),
                    }
                }
            }
            None if !self.ranges.is_empty() => unevaluable.push(format!(
                "installed version `{}` is not PEP 440",
                installed.raw
            )),
            None => {}
        }
        hit
    }
}

/// Whether `installed` is in a `versions` list kept as text. An entry whose
/// leading release number differs from the installed one cannot be equal
/// (PEP 440 reads it as an integer, after an optional `v`, with no epoch), so
/// only the rest is parsed.
fn lazy_listed(list: &[String], installed: &Installed) -> bool {
    let first = installed
        .parsed
        .as_ref()
        .filter(|v| v.epoch() == 0)
        .and_then(|v| v.release().first().copied());
    list.iter().any(|text| {
        let t = text.trim();
        if t == installed.raw {
            return true;
        }
        if let Some(first) = first
            && !t.contains('!')
        {
            let body = t.strip_prefix(['v', 'V']).unwrap_or(t);
            let digits = body.bytes().take_while(u8::is_ascii_digit).count();
            if let Ok(n) = body[..digits].parse::<u64>()
                && n != first
            {
                return false;
            }
        }
        match (parse_version(t), &installed.parsed) {
            (Some(listed), Some(v)) => listed == *v,
            _ => false,
        }
    })
}

fn is_version_range(range: &Range) -> bool {
    matches!(range.kind.as_str(), "ECOSYSTEM" | "SEMVER")
}

/// Parse and sort one range's events; `Err` names a value that is not PEP 440.
fn compile_range(range: &Range) -> Events {
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
    Ok(events)
}

/// Walk sorted events: each one at or below `v` sets the state.
fn walk_events(events: &[(Option<Version>, Kind)], v: &Version) -> bool {
    let mut affected = false;
    for (at, kind) in events {
        match (kind, at) {
            (Kind::Introduced, None) => affected = true,
            (Kind::Introduced, Some(at)) if v >= at => affected = true,
            (Kind::Fixed, Some(at)) if v >= at => affected = false,
            (Kind::LastAffected, Some(at)) if v > at => affected = false,
            (Kind::Limit, Some(at)) if v >= at => return false,
            _ => {}
        }
    }
    affected
}

#[cfg(test)]
#[path = "matcher_tests.rs"]
mod tests;
