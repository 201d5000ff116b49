//! Pipeline YAML -> validated [`Pipeline`], with located errors.
//!
//! Two parsers read the same text: `serde_yaml_ng` into the typed raw structs
//! of [`raw`] (its syntax, type and unknown-key errors carry a location), and
//! `yaml-rust2`'s event parser into a [`spans::SpanIndex`] that every semantic
//! check uses to point its caret (and to catch duplicate keys, which serde's
//! maps drop). [`validate`] then checks everything it can in one pass, and the
//! graph checks (later-stage needs, cycles) run on the result before anything
//! is reported, so a user sees all errors at once.
//!
//! Paths: `.wasm` plugin paths are relative to the pipeline file's directory
//! (a pipeline and its custom plugins travel together); input and output
//! paths are relative to the project directory, which is `--project` or, when
//! not given, the current directory (where `mlgate run` is started, like
//! `make` and `cargo`), not the pipeline file's directory: pipelines usually
//! live in a `pipelines/` folder of the project they check.

mod context;
mod gate;
pub mod paths;
mod raw;
pub mod spans;
pub mod units;
mod validate;

#[cfg(test)]
mod graph_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod ui_tests;

use std::path::Path;

use crate::diagnostic::{Diagnostic, Diagnostics, expected_help};
use crate::graph;
use crate::model::Pipeline;

use context::Ctx;
use spans::SpanIndex;

pub use validate::SUPPORTED_VERSION;

/// Reads and validates the pipeline at `file`. Input paths are resolved
/// against `project_dir`, or the current directory when `None`; inputs and
/// `.wasm` plugin files must exist.
pub fn load(
    file: &Path,
    project_dir: Option<&Path>,
    builtins: &[&str],
) -> Result<Pipeline, Diagnostics> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        Diagnostics::one(Diagnostic::file_level(
            file,
            format!("cannot read pipeline file: {e}"),
        ))
    })?;
    let cwd;
    let project_dir = match project_dir {
        Some(p) => p,
        None => {
            cwd = std::env::current_dir().map_err(|e| {
                Diagnostics::one(Diagnostic::file_level(
                    file,
                    format!("cannot read the current directory: {e}"),
                ))
            })?;
            &cwd
        }
    };
    if !project_dir.is_dir() {
        return Err(Diagnostics::one(Diagnostic::file_level(
            file,
            format!("project directory `{}` not found", project_dir.display()),
        )));
    }
    let mut pipeline = parse_str(&text, file, project_dir, builtins, true)?;
    // A `pip-audit` gate without `advisories` reads the host's fetched database.
    crate::advisories::bind_defaults(&mut pipeline);
    Ok(pipeline)
}

/// Validates pipeline `text` read from `file` (used for messages and to find
/// `.wasm` plugins next to it). With `check_files` false, inputs and plugin
/// files need not exist (for `validate --no-files` style checks and tests);
/// confinement to the project directory is checked either way.
///
/// The returned [`Pipeline`] keeps `file` as given and holds the canonical
/// project directory; every [`crate::model::PathBinding::path`] is absolute.
pub fn parse_str(
    text: &str,
    file: &Path,
    project_dir: &Path,
    builtins: &[&str],
    check_files: bool,
) -> Result<Pipeline, Diagnostics> {
    let raw: raw::RawPipeline = match serde_yaml_ng::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            let spans = SpanIndex::parse(text).unwrap_or_default();
            return Err(Diagnostics::one(serde_error(&e, text, file, &spans)));
        }
    };
    let spans = SpanIndex::parse(text).map_err(|(span, message)| {
        Diagnostics::one(Diagnostic::at(
            file,
            text,
            span.line,
            span.column,
            span.len,
            format!("invalid YAML: {message}"),
        ))
    })?;
    let project = project_dir
        .canonicalize()
        .unwrap_or_else(|_| paths::absolute(project_dir));
    let absolute_file = paths::absolute(file);
    let pipeline_dir = absolute_file.parent().unwrap_or(Path::new("/"));
    let env = gate::Env {
        file,
        pipeline_dir,
        project_dir: &project,
        builtins,
        check_files,
        allow_outside: false,
        known_ids: &[],
    };
    let mut ctx = Ctx::new(file, text, &spans);
    let (pipeline, need_paths) = validate::pipeline(&mut ctx, raw, &env);
    let locate = |gate: usize, need: usize| {
        let span = need_paths
            .get(gate)
            .and_then(|p| p.get(need))
            .map(|p| spans.locate(p))
            .unwrap_or_else(|| spans.locate(""));
        Diagnostic::at(file, text, span.line, span.column, span.len, "")
    };
    if let Err(graph_errors) = graph::build_located(&pipeline, &locate) {
        ctx.diags.extend(graph_errors.0);
    }
    ctx.finish()?;
    Ok(pipeline)
}

/// Turns a serde_yaml_ng error (syntax, wrong type, unknown key) into a
/// located diagnostic, rephrasing unknown keys with a did-you-mean.
fn serde_error(e: &serde_yaml_ng::Error, text: &str, file: &Path, spans: &SpanIndex) -> Diagnostic {
    let full = e.to_string();
    let (line, column) = e
        .location()
        .map(|l| (l.line() as u32, l.column() as u32))
        .unwrap_or((0, 0));
    let mut message = full.replacen(&format!(" at line {line} column {column}"), "", 1);
    // A message about a nested value starts with its path: `gates.x.stage: ...`.
    let mut path = String::new();
    if let Some((head, rest)) = message.split_once(": ")
        && !head.contains(' ')
    {
        path = head.to_string();
        message = rest.to_string();
    }
    let len = spans.len_at(line, column).unwrap_or(1);
    let mut d = if line == 0 {
        Diagnostic::file_level(file, String::new())
    } else {
        Diagnostic::at(file, text, line, column, len, String::new())
    };
    if let Some((key, expected)) = unknown_field(&message) {
        let place = describe_place(&path);
        d.message = format!("unknown key `{key}` {place}");
        let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
        d.help = Some(expected_help(&key, &expected, "expected one of"));
        if let Some(span) = spans.key(&spans::child(&path, &key)) {
            d.span_len = span.len;
        }
    } else if path.is_empty() {
        d.message = message;
    } else {
        d.message = format!("{message} (in `{path}`)");
    }
    for raw_name in [
        "struct RawPipeline",
        "struct RawGate",
        "struct RawDefaults",
        "struct RawLimits",
    ] {
        d.message = d.message.replace(raw_name, "a mapping");
    }
    if is_syntax_error(&d.message) {
        d.message = format!("invalid YAML: {}", syntax_message(&d.message));
        if d.source_line.as_deref().is_some_and(|l| l.contains('\t')) {
            d.help = Some("indent with spaces: YAML does not allow tabs".into());
        }
    }
    d
}

/// Whether a serde_yaml_ng message comes from libyaml's parser (it exposes
/// no error kind, so this goes by libyaml's wording).
fn is_syntax_error(message: &str) -> bool {
    [
        "while parsing",
        "while scanning",
        "did not find expected",
        "mapping values are not allowed",
        "found character",
        "found undefined tag",
        "could not find expected",
    ]
    .iter()
    .any(|w| message.contains(w))
}

/// `did not find expected ',' or ']', while parsing a flow sequence at line 6
/// column 12` -> `did not find expected ',' or ']' (while parsing a flow
/// sequence that starts at line 6, column 12)`.
fn syntax_message(message: &str) -> String {
    let Some((problem, context)) = message.split_once(", while ") else {
        return message.to_string();
    };
    match context.rsplit_once(" at line ") {
        Some((what, at)) => {
            let at = at.replacen(" column ", ", column ", 1);
            format!("{problem} (while {what} that starts at line {at})")
        }
        None => format!("{problem} (while {context})"),
    }
}

/// `unknown field `x`, expected one of `a`, `b`` -> (`x`, [a, b]).
fn unknown_field(message: &str) -> Option<(String, Vec<String>)> {
    let rest = message.strip_prefix("unknown field `")?;
    let (key, tail) = rest.split_once('`')?;
    let expected = tail
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    Some((key.to_string(), expected))
}

/// "at the top level", "in gate `x`", "in `defaults.limits`".
fn describe_place(path: &str) -> String {
    if path.is_empty() || path == "." {
        return "at the top level".into();
    }
    match path.strip_prefix("gates.") {
        Some(id) if !id.contains(['.', '[']) => format!("in gate `{id}`"),
        _ => format!("in `{path}`"),
    }
}
