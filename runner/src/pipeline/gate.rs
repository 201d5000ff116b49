//! Checks of one gate entry: its id, stage, plugin reference and pin, `needs`,
//! input and output paths, and its `with:` block.

use std::path::Path;

use serde_json::Value as Json;
use serde_yaml_ng::Value as Yaml;

use crate::diagnostic::{did_you_mean, expected_help};
use crate::model::{PathBinding, PluginRef, Stage};

use super::context::Ctx;
use super::paths;
use super::raw::{Ordered, RawGate, Text};
use super::spans::child;
use super::validate::{placeholder_plugin, stage, valid_gate_id};

/// What the checks need to know besides the gate itself.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    /// The pipeline file (absolute or as given; used for `name` and messages).
    pub file: &'a Path,
    /// Directory `.wasm` plugin paths are relative to.
    pub pipeline_dir: &'a Path,
    /// Canonical project directory (input and output paths are relative to it).
    pub project_dir: &'a Path,
    /// Names of the built-in plugins.
    pub builtins: &'a [&'a str],
    /// Whether inputs and plugin files must exist now.
    pub check_files: bool,
    /// `allow_outside_project:`.
    pub allow_outside: bool,
    /// Every gate id in the file.
    pub known_ids: &'a [String],
}

/// The checked parts of a gate (the caller adds limits and policy).
pub struct Checked {
    /// Stage.
    pub stage: Stage,
    /// Plugin (a placeholder if it was bad).
    pub plugin: PluginRef,
    /// Known `needs`, deduplicated.
    pub needs: Vec<String>,
    /// Span paths of `needs`, parallel to it.
    pub need_paths: Vec<String>,
    /// Inputs.
    pub inputs: Vec<PathBinding>,
    /// Outputs.
    pub outputs: Vec<PathBinding>,
    /// `with:` as a JSON object.
    pub config: Json,
}

/// Checks gate `id`; `None` when its stage is unusable (it is then left out).
pub fn check(ctx: &mut Ctx<'_>, env: &Env<'_>, id: &str, raw: &RawGate) -> Option<Checked> {
    let base = format!("gates.{id}");
    if !valid_gate_id(id) {
        ctx.error_at_key(
            &base,
            format!("invalid gate id `{id}`"),
            Some("gate ids are lower-case letters, digits, `-` and `_`, starting with a letter or digit".into()),
        );
    }
    let stage = match &raw.stage {
        Some(t) => stage(ctx, &format!("{base}.stage"), t),
        None => {
            let names: Vec<&str> = Stage::ALL.iter().map(|s| s.as_str()).collect();
            ctx.error_at_key(
                &base,
                format!("gate `{id}` has no `stage`"),
                Some(format!("add `stage:` with one of: {}", names.join(", "))),
            );
            None
        }
    };
    let plugin = plugin(ctx, env, id, raw).unwrap_or_else(placeholder_plugin);
    let (needs, need_paths) = needs(ctx, env, &base, &raw.needs);
    let inputs = bindings(ctx, env, &format!("{base}.inputs"), &raw.inputs, "input");
    let outputs = bindings(ctx, env, &format!("{base}.outputs"), &raw.outputs, "output");
    let config = config(ctx, &format!("{base}.with"), raw.config.as_ref());
    Some(Checked {
        stage: stage?,
        plugin,
        needs,
        need_paths,
        inputs,
        outputs,
        config,
    })
}

fn plugin(ctx: &mut Ctx<'_>, env: &Env<'_>, id: &str, raw: &RawGate) -> Option<PluginRef> {
    let base = format!("gates.{id}");
    let Some(Text(text)) = &raw.plugin else {
        ctx.error_at_key(
            &base,
            format!("gate `{id}` has no `plugin`"),
            Some(
                "add `plugin: builtin:NAME` or `plugin: path/to/plugin.wasm` with its `sha256:`"
                    .into(),
            ),
        );
        return None;
    };
    let at = format!("{base}.plugin");
    if let Some(name) = text.strip_prefix("builtin:") {
        if raw.sha256.is_some() {
            ctx.error_at(
                &format!("{base}.sha256"),
                "a built-in plugin takes no `sha256` pin",
                Some("built-in plugins are embedded in mlgate; remove `sha256:` or point `plugin:` at a `.wasm` file".into()),
            );
        }
        if env.builtins.contains(&name) {
            return Some(PluginRef::Builtin { name: name.into() });
        }
        let mut known: Vec<&str> = env.builtins.to_vec();
        known.sort_unstable();
        ctx.error_at(
            &at,
            format!("unknown built-in plugin `{name}`"),
            Some(expected_help(name, &known, "built-in plugins are")),
        );
        return None;
    }
    if !text.ends_with(".wasm") {
        ctx.error_at(
            &at,
            format!("unknown plugin reference `{text}`"),
            Some("use `builtin:NAME` or the path of a `.wasm` component (relative to the pipeline file)".into()),
        );
        return None;
    }
    let path = env.pipeline_dir.join(text);
    let mut ok = true;
    if env.check_files && !path.is_file() {
        ctx.error_at(
            &at,
            format!("plugin file `{text}` not found"),
            Some("`.wasm` plugin paths are relative to the directory of the pipeline file".into()),
        );
        ok = false;
    }
    let sha256 = match &raw.sha256 {
        None => {
            ctx.error_at(
                &at,
                format!("plugin `{text}` has no `sha256:` pin"),
                Some(format!(
                    "a plugin loaded from a file must be pinned: run `mlgate plugin pin {text}` (or `sha256sum {text}`) and add `sha256: <hex>` to the gate"
                )),
            );
            None
        }
        Some(Text(pin)) => {
            let hex = pin
                .strip_prefix("sha256:")
                .unwrap_or(pin)
                .to_ascii_lowercase();
            if hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
                Some(hex)
            } else {
                ctx.error_at(
                    &format!("{base}.sha256"),
                    format!(
                        "invalid `sha256` pin: expected 64 hex characters, found {} characters",
                        hex.chars().count()
                    ),
                    Some(format!("run `sha256sum {text}` and copy the first field")),
                );
                None
            }
        }
    };
    match sha256 {
        Some(sha256) if ok => Some(PluginRef::File { path, sha256 }),
        _ => None,
    }
}

fn needs(ctx: &mut Ctx<'_>, env: &Env<'_>, base: &str, raw: &[Text]) -> (Vec<String>, Vec<String>) {
    let mut needs = Vec::new();
    let mut paths = Vec::new();
    for (i, Text(need)) in raw.iter().enumerate() {
        let item = format!("{base}.needs[{i}]");
        // `needs: x` (one id, no list) has no `[0]` in the span index.
        let path = if ctx.spans.value(&item).is_some() {
            item
        } else {
            format!("{base}.needs")
        };
        if !env.known_ids.iter().any(|k| k == need) {
            let known: Vec<&str> = env.known_ids.iter().map(String::as_str).collect();
            let help = match did_you_mean(need, known.iter().copied()) {
                Some(s) => format!("did you mean `{s}`? known gates: {}", known.join(", ")),
                None => format!("known gates: {}", known.join(", ")),
            };
            ctx.error_at(
                &path,
                format!("unknown gate `{need}` in `needs`"),
                Some(help),
            );
        } else if !needs.contains(need) {
            needs.push(need.clone());
            paths.push(path);
        }
    }
    (needs, paths)
}

fn bindings(
    ctx: &mut Ctx<'_>,
    env: &Env<'_>,
    base: &str,
    raw: &Ordered<Text>,
    kind: &str,
) -> Vec<PathBinding> {
    let mut out = Vec::new();
    for (name, Text(declared)) in &raw.0 {
        let at = child(base, name);
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            ctx.error_at_key(
                &at,
                format!("invalid {kind} name `{name}`"),
                Some(format!("{kind} names are letters, digits, `-` and `_`")),
            );
            continue;
        }
        if declared.is_empty() {
            ctx.error_at(&at, format!("{kind} `{name}` has an empty path"), None);
            continue;
        }
        let path = paths::resolve(env.project_dir, declared);
        if !env.allow_outside && !paths::is_inside(env.project_dir, &path) {
            ctx.error_at(
                &at,
                format!("{kind} `{name}` is outside the project directory: `{declared}`"),
                Some("paths must stay inside the project directory (symlinks are followed); set `allow_outside_project: true` at the top level to allow this".into()),
            );
            continue;
        }
        if kind == "input" && env.check_files && !path.exists() {
            ctx.error_at(
                &at,
                format!("input `{name}` not found: `{declared}`"),
                Some("input paths are relative to the project directory (`--project`, default: the current directory)".into()),
            );
            continue;
        }
        if kind == "output" && path.is_file() {
            ctx.error_at(
                &at,
                format!("output `{name}` must be a directory, but `{declared}` is a file"),
                None,
            );
            continue;
        }
        out.push(PathBinding {
            name: name.clone(),
            declared: declared.clone(),
            path,
        });
    }
    out
}

/// `with:` as a JSON object (`{}` when absent).
fn config(ctx: &mut Ctx<'_>, path: &str, raw: Option<&Yaml>) -> Json {
    match raw {
        None | Some(Yaml::Null) => Json::Object(Default::default()),
        Some(v @ Yaml::Mapping(_)) => to_json(ctx, path, v),
        Some(other) => {
            ctx.error_at(
                path,
                format!("`with:` must be a mapping, found {}", kind_of(other)),
                Some(
                    "write the plugin's settings as keys, e.g. `with: { label_column: label }`"
                        .into(),
                ),
            );
            Json::Null
        }
    }
}

fn kind_of(v: &Yaml) -> &'static str {
    match v {
        Yaml::Null => "null",
        Yaml::Bool(_) => "a boolean",
        Yaml::Number(_) => "a number",
        Yaml::String(_) => "a string",
        Yaml::Sequence(_) => "a sequence",
        Yaml::Mapping(_) => "a mapping",
        Yaml::Tagged(_) => "a tagged value",
    }
}

/// The text a scalar key has in the source (how the span index names it).
fn key_text(v: &Yaml) -> String {
    match v {
        Yaml::String(s) => s.clone(),
        Yaml::Number(n) => n.to_string(),
        Yaml::Bool(b) => b.to_string(),
        Yaml::Null => "~".into(),
        _ => String::new(),
    }
}

fn to_json(ctx: &mut Ctx<'_>, path: &str, v: &Yaml) -> Json {
    match v {
        Yaml::Null => Json::Null,
        Yaml::Bool(b) => Json::Bool(*b),
        Yaml::String(s) => Json::String(s.clone()),
        Yaml::Number(n) => {
            if let Some(i) = n.as_i64() {
                Json::from(i)
            } else if let Some(u) = n.as_u64() {
                Json::from(u)
            } else {
                match n.as_f64().and_then(serde_json::Number::from_f64) {
                    Some(f) => Json::Number(f),
                    None => {
                        ctx.error_at(path, format!("`{n}` cannot be represented in JSON"), None);
                        Json::Null
                    }
                }
            }
        }
        Yaml::Sequence(items) => Json::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| to_json(ctx, &format!("{path}[{i}]"), item))
                .collect(),
        ),
        Yaml::Mapping(map) => {
            let mut out = serde_json::Map::new();
            for (k, val) in map {
                let at = child(path, &key_text(k));
                match k {
                    Yaml::String(key) => {
                        out.insert(key.clone(), to_json(ctx, &at, val));
                    }
                    other => ctx.error_at_key(
                        &at,
                        format!("keys in `with:` must be strings, found {}", kind_of(other)),
                        Some("quote the key".into()),
                    ),
                }
            }
            Json::Object(out)
        }
        Yaml::Tagged(t) => {
            ctx.error_at(
                path,
                format!("YAML tags are not supported in `with:` (found `{}`)", t.tag),
                None,
            );
            Json::Null
        }
    }
}
