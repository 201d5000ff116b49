//! `mlgate check PLUGIN --input NAME=PATH ... --set KEY=VALUE ...`: run one
//! plugin on some inputs without writing a pipeline. Same sandbox, same
//! report, same exit status as `run`.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use super::output::{emit, observer, runtime, tokio_runtime};
use super::{OutputArgs, usage_error};
use crate::advisories;
use crate::model::{
    FailOn, GateSpec, Limits, PathBinding, Pipeline, PluginRef, Position, Severity, Stage,
};
use crate::pipeline::units;
use crate::plugins;
use crate::scheduler::{self, RunOptions};

/// `mlgate check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// A built-in plugin name (`model-scan`) or a `.wasm` component path.
    pub plugin: String,
    /// An input as NAME=PATH (repeatable).
    #[arg(long = "input", short = 'i', value_name = "NAME=PATH")]
    pub inputs: Vec<String>,
    /// A config value as KEY=VALUE, VALUE read as a YAML scalar (repeatable).
    #[arg(long = "set", short = 's', value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// A writable output directory as NAME=DIR.
    #[arg(long = "output-dir", value_name = "NAME=DIR")]
    pub outputs: Vec<String>,
    /// Fail at this severity or above (`never` to report only).
    #[arg(long, default_value = "high")]
    pub fail_on: String,
    /// Memory limit, e.g. 512MiB.
    #[arg(long, default_value = "512MiB")]
    pub memory: String,
    /// Wall-clock limit, e.g. 120s.
    #[arg(long, default_value = "120s")]
    pub timeout: String,
    /// Expected SHA-256 of a `.wasm` plugin (refused if it differs).
    #[arg(long)]
    pub sha256: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

fn split_pair<'a>(text: &'a str, what: &str) -> Result<(&'a str, &'a str), u8> {
    text.split_once('=')
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| usage_error(format!("`{text}` is not {what}=VALUE")))
}

fn binding(text: &str, what: &str) -> Result<PathBinding, u8> {
    let (name, path) = split_pair(text, what)?;
    let abs = std::path::absolute(path)
        .map_err(|e| usage_error(format!("input `{name}`: {path}: {e}")))?;
    Ok(PathBinding {
        name: name.to_string(),
        declared: path.to_string(),
        path: abs,
    })
}

/// A YAML scalar (`true`, `3`, `0.5`, `a,b`) as JSON.
fn scalar(value: &str) -> serde_json::Value {
    serde_yaml_ng::from_str::<serde_json::Value>(value)
        .ok()
        .filter(|v| !v.is_object() && !v.is_array() && !v.is_null())
        .unwrap_or_else(|| serde_json::Value::String(value.to_string()))
}

fn spec(args: &CheckArgs) -> Result<GateSpec, u8> {
    let plugin = if args.plugin.ends_with(".wasm") {
        let path = PathBuf::from(&args.plugin);
        let actual = plugins::read_file(&path).map_err(usage_error)?.sha256;
        let sha256 = args.sha256.clone().unwrap_or(actual);
        PluginRef::File { path, sha256 }
    } else {
        let name = args.plugin.strip_prefix("builtin:").unwrap_or(&args.plugin);
        plugins::builtin(name).map_err(usage_error)?;
        PluginRef::Builtin {
            name: name.to_string(),
        }
    };
    let mut inputs = Vec::new();
    for text in &args.inputs {
        let b = binding(text, "NAME")?;
        if !b.path.exists() {
            return Err(usage_error(format!(
                "input `{}`: {} does not exist",
                b.name, b.declared
            )));
        }
        inputs.push(b);
    }
    // `pip-audit` without `--input advisories=` reads the host's fetched database.
    inputs.extend(advisories::default_input(&plugin, &inputs));
    let outputs = args
        .outputs
        .iter()
        .map(|t| binding(t, "NAME"))
        .collect::<Result<Vec<_>, _>>()?;
    let mut config = serde_json::Map::new();
    for text in &args.sets {
        let (key, value) = split_pair(text, "KEY")?;
        config.insert(key.to_string(), scalar(value));
    }
    let fail_on = match args.fail_on.as_str() {
        "never" => FailOn::Never,
        s => FailOn::At(Severity::parse(s).ok_or_else(|| {
            usage_error(format!(
                "--fail-on `{s}`: expected info, low, medium, high, critical or never"
            ))
        })?),
    };
    let limits = Limits {
        memory_bytes: units::parse_memory_limit(&args.memory)
            .map_err(|e| usage_error(format!("--memory: {e}")))?,
        timeout: units::parse_timeout(&args.timeout)
            .map_err(|e| usage_error(format!("--timeout: {e}")))?,
    };
    let id = match &plugin {
        PluginRef::Builtin { name } => name.clone(),
        PluginRef::File { path, .. } => path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "plugin".into()),
    };
    Ok(GateSpec {
        id,
        stage: Stage::Deployment,
        plugin,
        needs: Vec::new(),
        inputs,
        outputs,
        config: serde_json::Value::Object(config),
        limits,
        fail_on,
        position: Position::default(),
    })
}

/// `mlgate check`.
pub fn run(args: CheckArgs) -> u8 {
    let gate = match spec(&args) {
        Ok(g) => g,
        Err(code) => return code,
    };
    let project_dir = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let pipeline = Pipeline {
        name: "check".into(),
        file: PathBuf::from("<command line>"),
        project_dir,
        gates: vec![gate],
        tickets: Vec::new(),
    };
    let (runtime, tokio) = match (runtime(), tokio_runtime()) {
        (Ok(r), Ok(t)) => (r, t),
        (Err(c), _) | (_, Err(c)) => return c,
    };
    let options = RunOptions {
        jobs: 1,
        git_commit: None,
        changed_files: Vec::new(),
        narrow: None,
        suppress: None,
        observer: observer(&args.output),
    };
    let report = tokio.block_on(scheduler::run(
        runtime,
        Arc::new(pipeline),
        Arc::new(vec![Vec::new()]),
        &[0],
        options,
    ));
    emit(&report, &args.output)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_values_are_yaml_scalars() {
        assert_eq!(scalar("true"), serde_json::json!(true));
        assert_eq!(scalar("3"), serde_json::json!(3));
        assert_eq!(scalar("a,b"), serde_json::json!("a,b"));
        assert_eq!(scalar("{x: 1}"), serde_json::json!("{x: 1}"));
        assert_eq!(scalar(""), serde_json::json!(""));
    }
}
