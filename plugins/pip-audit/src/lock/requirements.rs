//! pip requirements files: logical lines (`\` continuations, ` #` comments),
//! global options (`-r`/`-c` includes, `-e`, index options), per-requirement
//! `--hash` options, and PEP 508 requirement strings (extras, specifiers,
//! markers, `name @ url` direct references), plus the bare URL, path and VCS
//! forms pip accepts.
//!
//! Includes are followed only inside the input root: a `-r ../../x.txt` that
//! leaves it, or a `-r https://…`, is recorded as a problem, not fetched.

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};

use super::{IndexOption, LockError, Lockfile, Requirement, Source, read_text};
use crate::names::is_valid_name;

const MAX_INCLUDE_DEPTH: usize = 32;

/// Parse `path` and the files it includes (which must stay under `root`).
pub fn parse(path: &Path, root: &Path) -> Result<Lockfile, LockError> {
    let mut lock = Lockfile::empty(path, super::Format::Requirements);
    let mut seen = HashSet::new();
    parse_into(&mut lock, path, root, false, 0, &mut seen)?;
    Ok(lock)
}

fn parse_into(
    lock: &mut Lockfile,
    path: &Path,
    root: &Path,
    constraint: bool,
    depth: usize,
    seen: &mut HashSet<PathBuf>,
) -> Result<(), LockError> {
    if !seen.insert(lexical(path)) {
        return Ok(()); // include cycle: already read
    }
    let text = read_text(path)?;
    for (line, logical) in logical_lines(&text) {
        parse_line(lock, path, root, line, &logical, constraint, depth, seen)?;
    }
    Ok(())
}

/// Logical lines with their first physical line number: continuations
/// joined, comments and blank lines dropped.
pub fn logical_lines(text: &str) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut start = 0u32;
    for (index, raw) in text.lines().enumerate() {
        if current.is_empty() {
            start = index as u32 + 1;
        }
        let (body, continued) = match raw.strip_suffix('\\') {
            Some(body) => (body, true),
            None => (raw, false),
        };
        current.push_str(body);
        if continued {
            current.push(' ');
            continue;
        }
        push_logical(&mut out, start, &mut current);
    }
    push_logical(&mut out, start, &mut current);
    out
}

fn push_logical(out: &mut Vec<(u32, String)>, start: u32, current: &mut String) {
    let text = strip_comment(current).trim().to_string();
    current.clear();
    if !text.is_empty() {
        out.push((start, text));
    }
}

/// pip's comment rule: `#` at the start or after whitespace (so a URL's
/// `#egg=` fragment survives).
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()) {
            return &line[..i];
        }
    }
    line
}

#[allow(clippy::too_many_arguments)]
fn parse_line(
    lock: &mut Lockfile,
    path: &Path,
    root: &Path,
    line: u32,
    text: &str,
    constraint: bool,
    depth: usize,
    seen: &mut HashSet<PathBuf>,
) -> Result<(), LockError> {
    let tokens: Vec<&str> = text.split_whitespace().collect();
    if tokens[0].starts_with('-') {
        let (option, value) = split_option(&tokens);
        match option {
            "-r" | "--requirement" | "-c" | "--constraint" => {
                let nested_constraint =
                    constraint || option.starts_with("-c") || option == "--constraint";
                include(
                    lock,
                    path,
                    root,
                    line,
                    value,
                    nested_constraint,
                    depth,
                    seen,
                )?;
            }
            "-e" | "--editable" => {
                let mut req = direct_requirement(value.unwrap_or(""), path, line, true);
                req.constraint = constraint;
                lock.requirements.push(req);
            }
            "-i" | "--index-url" | "--extra-index-url" | "-f" | "--find-links"
            | "--trusted-host" => {
                let kind = match option {
                    "-i" | "--index-url" => "index-url",
                    "-f" | "--find-links" => "find-links",
                    other => other.trim_start_matches('-'),
                };
                lock.indexes.push(IndexOption {
                    kind: kind.to_string(),
                    url: value.unwrap_or("").to_string(),
                    file: path.to_path_buf(),
                    line: Some(line),
                });
            }
            "--no-index" => lock.indexes.push(IndexOption {
                kind: "no-index".into(),
                url: String::new(),
                file: path.to_path_buf(),
                line: Some(line),
            }),
            _ => {} // --pre, --prefer-binary, --require-hashes, --only-binary, …
        }
        return Ok(());
    }
    // A requirement: the string runs until the first per-requirement option.
    let split = tokens
        .iter()
        .position(|t| t.starts_with("--"))
        .unwrap_or(tokens.len());
    let spec = tokens[..split].join(" ");
    let mut req = match requirement(&spec, path, line) {
        Ok(req) => req,
        Err(message) => {
            lock.problems
                .push((path.to_path_buf(), Some(line), message));
            return Ok(());
        }
    };
    req.constraint = constraint;
    let mut rest = tokens[split..].iter();
    while let Some(token) = rest.next() {
        if let Some(hash) = token.strip_prefix("--hash=") {
            req.hashes.push(hash.to_string());
        } else if *token == "--hash"
            && let Some(hash) = rest.next()
        {
            req.hashes.push(hash.to_string());
        }
    }
    lock.requirements.push(req);
    Ok(())
}

/// `-r file`, `-rfile`, `--requirement=file` → (option, value).
fn split_option<'a>(tokens: &[&'a str]) -> (&'a str, Option<&'a str>) {
    let first = tokens[0];
    if let Some((opt, value)) = first.split_once('=')
        && opt.starts_with("--")
    {
        return (opt, Some(value));
    }
    if !first.starts_with("--") && first.len() > 2 {
        return (&first[..2], Some(&first[2..]));
    }
    (first, tokens.get(1).copied())
}

#[allow(clippy::too_many_arguments)]
fn include(
    lock: &mut Lockfile,
    path: &Path,
    root: &Path,
    line: u32,
    value: Option<&str>,
    constraint: bool,
    depth: usize,
    seen: &mut HashSet<PathBuf>,
) -> Result<(), LockError> {
    let Some(target) = value else {
        lock.problems.push((
            path.to_path_buf(),
            Some(line),
            "include without a file name".into(),
        ));
        return Ok(());
    };
    if target.contains("://") {
        let msg = format!("include `{target}` is a URL: not fetched (offline), not audited");
        lock.problems.push((path.to_path_buf(), Some(line), msg));
        return Ok(());
    }
    let joined = lexical(&path.parent().unwrap_or(Path::new("")).join(target));
    if !joined.starts_with(lexical(root)) {
        let msg = format!("include `{target}` is outside the input: not followed, not audited");
        lock.problems.push((path.to_path_buf(), Some(line), msg));
        return Ok(());
    }
    if depth >= MAX_INCLUDE_DEPTH {
        let msg =
            format!("include `{target}` nested deeper than {MAX_INCLUDE_DEPTH}: not followed");
        lock.problems.push((path.to_path_buf(), Some(line), msg));
        return Ok(());
    }
    if !joined.is_file() {
        let msg = format!("include `{target}` does not exist in the input");
        lock.problems.push((path.to_path_buf(), Some(line), msg));
        return Ok(());
    }
    parse_into(lock, &joined, root, constraint, depth + 1, seen)
}

/// Resolve `.` and `..` without touching the file system.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

fn looks_direct(spec: &str) -> bool {
    let lower = spec.to_ascii_lowercase();
    lower.contains("://")
        || lower.starts_with("git+")
        || lower.starts_with('.')
        || lower.starts_with('/')
        || lower.starts_with("file:")
        || [".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2"]
            .iter()
            .any(|e| lower.ends_with(e))
}

/// A bare URL, VCS URL or path (with `-e` or without).
fn direct_requirement(spec: &str, path: &Path, line: u32, editable: bool) -> Requirement {
    let (location, marker) = match spec.split_once(" ;") {
        Some((l, m)) => (l.trim(), Some(m.trim().to_string())),
        None => (spec.trim(), None),
    };
    let name = egg_name(location).unwrap_or_else(|| location.to_string());
    let mut req = Requirement::new(&name, path, Some(line));
    req.source = source_of(location, editable);
    req.marker = marker;
    req
}

fn source_of(location: &str, editable: bool) -> Source {
    let lower = location.to_ascii_lowercase();
    let vcs = ["git+", "hg+", "svn+", "bzr+"]
        .iter()
        .any(|p| lower.starts_with(p));
    if vcs {
        Source::Vcs(location.to_string())
    } else if lower.contains("://") && !lower.starts_with("file:") {
        Source::Url(location.to_string())
    } else {
        Source::Path {
            path: location.to_string(),
            editable,
        }
    }
}

/// `#egg=name` fragment, or the name part of a wheel/sdist file name.
fn egg_name(location: &str) -> Option<String> {
    if let Some((_, fragment)) = location.split_once('#') {
        for part in fragment.split('&') {
            if let Some(name) = part.strip_prefix("egg=") {
                let name = name.split('[').next().unwrap_or(name);
                if is_valid_name(name) {
                    return Some(name.to_string());
                }
            }
        }
    }
    let file = location.rsplit('/').next()?;
    let stem = file
        .strip_suffix(".whl")
        .or_else(|| file.strip_suffix(".tar.gz"))?;
    let name = stem.split('-').next()?;
    is_valid_name(name).then(|| name.to_string())
}

/// Parse a PEP 508 requirement (or a bare direct reference).
pub fn requirement(spec: &str, path: &Path, line: u32) -> Result<Requirement, String> {
    let name_end = spec
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(spec.len());
    let name = &spec[..name_end];
    let after_name = spec[name_end..].trim_start();
    let after_extras = match after_name.strip_prefix('[') {
        Some(a) => a.split_once(']').map_or("", |(_, r)| r.trim_start()),
        None => after_name,
    };
    // `name @ url` is PEP 508; anything else URL- or path-like is pip's bare form.
    if !after_extras.starts_with('@') && looks_direct(spec) {
        return Ok(direct_requirement(spec, path, line, false));
    }
    if !is_valid_name(name) {
        return Err(format!("`{spec}` is not a requirement pip understands"));
    }
    let mut req = Requirement::new(name, path, Some(line));
    let mut rest = spec[name_end..].trim_start();
    if let Some(after) = rest.strip_prefix('[') {
        let close = after
            .find(']')
            .ok_or_else(|| format!("`{spec}`: unclosed extras"))?;
        req.extras = after[..close]
            .split(',')
            .map(|e| e.trim().to_string())
            .filter(|e| !e.is_empty())
            .collect();
        rest = after[close + 1..].trim_start();
    }
    if let Some(url) = rest.strip_prefix('@') {
        let (location, marker) = match url.split_once(" ;") {
            Some((l, m)) => (l.trim(), Some(m.trim().to_string())),
            None => (url.trim(), None),
        };
        req.source = source_of(location, false);
        req.marker = marker;
        return Ok(req);
    }
    let (specifier, marker) = match rest.split_once(';') {
        Some((s, m)) => (s.trim(), Some(m.trim().to_string())),
        None => (rest.trim(), None),
    };
    let specifier = specifier
        .trim_start_matches('(')
        .trim_end_matches(')')
        .trim();
    req.marker = marker;
    req.specifier = specifier.to_string();
    req.version = exact_pin(specifier);
    Ok(req)
}

/// The version of an exact pin: a `==X` clause (no wildcard) or `===X`.
pub fn exact_pin(specifier: &str) -> Option<String> {
    specifier.split(',').map(str::trim).find_map(|clause| {
        let value = clause
            .strip_prefix("===")
            .or_else(|| clause.strip_prefix("=="))?
            .trim();
        (!value.is_empty() && !value.ends_with(".*")).then(|| value.to_string())
    })
}

#[cfg(test)]
#[path = "requirements_tests.rs"]
mod tests;
