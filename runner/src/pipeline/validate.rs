//! Raw pipeline -> validated [`Pipeline`]: the one place where what the user
//! wrote is turned into what the runner needs, collecting every error with
//! its location instead of stopping at the first.

use std::collections::HashSet;

use crate::diagnostic::expected_help;
use crate::model::{FailOn, GateSpec, Limits, Pipeline, PluginRef, Position, Severity, Stage};

use super::context::Ctx;
use super::gate::{self, Env};
use super::raw::{RawLimits, RawPipeline, Text};
use super::spans::Span;
use super::units;

/// The only pipeline schema version this mlgate reads.
pub const SUPPORTED_VERSION: u64 = 1;

/// Where each kept `needs` entry of each gate is, parallel to
/// `GateSpec::needs`, so graph errors can point at the entry.
pub type NeedPaths = Vec<Vec<String>>;

/// Validates `raw`; errors go to `ctx`. The returned pipeline is complete only
/// when `ctx` has no errors (gates with an unusable stage are left out, bad
/// plugin refs and limits are placeholders), but it is good enough for the
/// graph checks, so those run in the same pass.
pub fn pipeline(ctx: &mut Ctx<'_>, raw: RawPipeline, env: &Env<'_>) -> (Pipeline, NeedPaths) {
    check_version(ctx, raw.version.as_ref());
    report_duplicates(ctx);

    let defaults = raw.defaults.unwrap_or_default();
    let fail_on = defaults
        .fail_on
        .as_ref()
        .and_then(|t| fail_on(ctx, "defaults.fail_on", t))
        .unwrap_or(FailOn::At(Severity::High));
    let limits = limits(
        ctx,
        "defaults.limits",
        defaults.limits.as_ref(),
        Limits::default(),
    );

    // Keep the first of duplicated ids (the duplicate is already reported).
    let mut seen = HashSet::new();
    let gates: Vec<_> = raw
        .gates
        .0
        .into_iter()
        .filter(|(id, _)| seen.insert(id.clone()))
        .collect();
    let ids: Vec<String> = gates.iter().map(|(id, _)| id.clone()).collect();
    let env = Env {
        known_ids: &ids,
        allow_outside: raw.allow_outside_project,
        ..*env
    };

    let mut specs = Vec::new();
    let mut need_paths = Vec::new();
    for (id, raw_gate) in &gates {
        let base = format!("gates.{id}");
        let position = ctx
            .spans
            .key(&base)
            .map(|s| Position {
                line: s.line,
                column: s.column,
            })
            .unwrap_or_default();
        let gate_fail_on = raw_gate
            .fail_on
            .as_ref()
            .and_then(|t| self::fail_on(ctx, &format!("{base}.fail_on"), t))
            .unwrap_or(fail_on);
        let gate_limits = self::limits(
            ctx,
            &format!("{base}.limits"),
            raw_gate.limits.as_ref(),
            limits,
        );
        if let Some(checked) = gate::check(ctx, &env, id, raw_gate) {
            specs.push(GateSpec {
                id: id.clone(),
                stage: checked.stage,
                plugin: checked.plugin,
                needs: checked.needs,
                inputs: checked.inputs,
                outputs: checked.outputs,
                config: checked.config,
                limits: gate_limits,
                fail_on: gate_fail_on,
                position,
            });
            need_paths.push(checked.need_paths);
        }
    }
    // Needs of a gate that was left out (bad stage) are not edges.
    let kept: HashSet<String> = specs.iter().map(|g| g.id.clone()).collect();
    for (spec, paths) in specs.iter_mut().zip(need_paths.iter_mut()) {
        let keep: Vec<bool> = spec.needs.iter().map(|n| kept.contains(n)).collect();
        let mut k = keep.iter();
        spec.needs.retain(|_| *k.next().unwrap_or(&false));
        let mut k = keep.iter();
        paths.retain(|_| *k.next().unwrap_or(&false));
    }

    let name = raw.name.unwrap_or_else(|| {
        env.file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "pipeline".into())
    });
    let pipeline = Pipeline {
        name,
        file: env.file.to_path_buf(),
        project_dir: env.project_dir.to_path_buf(),
        gates: specs,
        tickets: raw.tickets,
    };
    (pipeline, need_paths)
}

fn check_version(ctx: &mut Ctx<'_>, version: Option<&serde_yaml_ng::Value>) {
    let help = Some(format!(
        "this mlgate reads pipelines of `version: {SUPPORTED_VERSION}`"
    ));
    match version {
        None => ctx.error(
            Span {
                line: 1,
                column: 1,
                len: 1,
            },
            "the pipeline has no `version`",
            Some(format!(
                "add `version: {SUPPORTED_VERSION}` at the top of the file"
            )),
        ),
        Some(v) if v.as_u64() == Some(SUPPORTED_VERSION) => {}
        Some(v) => {
            let shown = serde_yaml_ng::to_string(v).unwrap_or_default();
            ctx.error_at(
                "version",
                format!("unsupported pipeline version `{}`", shown.trim()),
                help,
            );
        }
    }
}

fn report_duplicates(ctx: &mut Ctx<'_>) {
    for dup in ctx.spans.duplicates.clone() {
        let (message, what) = if dup.parent == "gates" {
            (format!("duplicate gate id `{}`", dup.key), "gate ids")
        } else {
            let place = if dup.parent.is_empty() {
                "at the top level".to_string()
            } else {
                format!("in `{}`", dup.parent)
            };
            (format!("duplicate key `{}` {place}", dup.key), "keys")
        };
        ctx.error(
            dup.span,
            message,
            Some(format!(
                "first defined at line {}; {what} must be unique",
                dup.first.line
            )),
        );
    }
}

/// `fail_on:` value: a severity or `never`.
fn fail_on(ctx: &mut Ctx<'_>, path: &str, text: &Text) -> Option<FailOn> {
    if text.0 == "never" {
        return Some(FailOn::Never);
    }
    if let Some(s) = Severity::parse(&text.0) {
        return Some(FailOn::At(s));
    }
    let expected: Vec<&str> = Severity::ALL
        .iter()
        .map(|s| s.as_str())
        .chain(["never"])
        .collect();
    ctx.error_at(
        path,
        format!("unknown `fail_on` value `{}`", text.0),
        Some(expected_help(&text.0, &expected, "expected one of")),
    );
    None
}

/// `limits:` over `base`.
fn limits(ctx: &mut Ctx<'_>, path: &str, raw: Option<&RawLimits>, base: Limits) -> Limits {
    let mut out = base;
    let Some(raw) = raw else { return out };
    if let Some(t) = &raw.memory {
        match units::parse_memory_limit(&t.0) {
            Ok(bytes) => out.memory_bytes = bytes,
            Err(e) => ctx.error_at(
                &format!("{path}.memory"),
                e,
                Some("write a size such as `512MiB`, `1GiB`, `256MB` or a number of bytes".into()),
            ),
        }
    }
    if let Some(t) = &raw.timeout {
        match units::parse_timeout(&t.0) {
            Ok(d) => out.timeout = d,
            Err(e) => ctx.error_at(
                &format!("{path}.timeout"),
                e,
                Some("write a duration such as `120s`, `2m`, `500ms` or `1h`".into()),
            ),
        }
    }
    out
}

/// Parses a stage name, reporting a bad one at `path`.
pub fn stage(ctx: &mut Ctx<'_>, path: &str, text: &Text) -> Option<Stage> {
    let found = Stage::parse(&text.0);
    if found.is_none() {
        let names: Vec<&str> = Stage::ALL.iter().map(|s| s.as_str()).collect();
        ctx.error_at(
            path,
            format!("unknown stage `{}`", text.0),
            Some(expected_help(&text.0, &names, "stages are")),
        );
    }
    found
}

/// A placeholder plugin for a gate whose `plugin:` was bad (the pipeline is
/// discarded anyway; this keeps the graph checks running).
pub fn placeholder_plugin() -> PluginRef {
    PluginRef::Builtin {
        name: String::new(),
    }
}

/// Whether `id` is a valid gate id: `[a-z0-9][a-z0-9_-]*`.
pub fn valid_gate_id(id: &str) -> bool {
    let mut chars = id.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}
