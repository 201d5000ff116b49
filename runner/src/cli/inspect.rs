//! `mlgate plugin list|inspect|pin`.

use std::path::PathBuf;

use clap::Subcommand;

use super::output::{runtime, tokio_runtime};
use super::usage_error;
use crate::plugins::{self, PluginBytes};
use crate::runtime::LoadedPlugin;

/// Plugin subcommands.
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// List the built-in plugins.
    List,
    /// Show a plugin's name, version, WIT version, rules, inputs, imports,
    /// size and SHA-256 (a built-in name or a `.wasm` path).
    Inspect {
        /// `model-scan` or `path/to/plugin.wasm`.
        plugin: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the `sha256:` pin line for a `.wasm` plugin.
    Pin {
        /// The component.
        file: PathBuf,
    },
    /// Write a ready plugin project in `./NAME` (Rust or Python).
    New(super::plugin_new::NewArgs),
}

fn bytes_of(plugin: &str) -> Result<PluginBytes, u8> {
    if plugin.ends_with(".wasm") {
        plugins::read_file(std::path::Path::new(plugin)).map_err(usage_error)
    } else {
        plugins::builtin(plugin.strip_prefix("builtin:").unwrap_or(plugin)).map_err(usage_error)
    }
}

/// Run a plugin subcommand.
pub fn run(cmd: PluginCommand) -> u8 {
    match cmd {
        PluginCommand::List => list(),
        PluginCommand::Inspect { plugin, json } => inspect(&plugin, json).unwrap_or_else(|c| c),
        PluginCommand::Pin { file } => match plugins::read_file(&file) {
            Ok(bytes) => {
                println!("sha256: {}", bytes.sha256);
                0
            }
            Err(e) => usage_error(e),
        },
        PluginCommand::New(args) => super::plugin_new::run(args),
    }
}

fn list() -> u8 {
    let (rt, tokio) = match (runtime(), tokio_runtime()) {
        (Ok(r), Ok(t)) => (r, t),
        (Err(c), _) | (_, Err(c)) => return c,
    };
    for name in plugins::builtin_names() {
        let described = bytes_of(name)
            .ok()
            .and_then(|b| rt.prepare(b).ok())
            .and_then(|l| {
                tokio
                    .block_on(rt.sandbox.describe(&rt.engine, &l.prepared))
                    .ok()
            });
        match described {
            Some(info) => println!(
                "builtin:{:<16} {:<8} {}",
                name, info.version, info.description
            ),
            None => println!("builtin:{name:<16} (cannot describe)"),
        }
    }
    0
}

fn inspect(plugin: &str, json: bool) -> Result<u8, u8> {
    let bytes = bytes_of(plugin)?;
    let (rt, tokio) = (runtime()?, tokio_runtime()?);
    let label = bytes.label.clone();
    let loaded: LoadedPlugin = rt.prepare(bytes).map_err(usage_error)?;
    let info = tokio
        .block_on(rt.sandbox.describe(&rt.engine, &loaded.prepared))
        .map_err(|e| usage_error(format!("{label}: describe failed: {e}")))?;
    let wit = loaded
        .imports
        .iter()
        .find_map(|i| {
            i.strip_prefix("mlgate:gate/")
                .and_then(|r| r.split_once('@'))
                .map(|(_, v)| v.to_string())
        })
        .unwrap_or_else(|| plugins::WIT_VERSION.to_string());
    let capabilities: Vec<(&String, plugins::ImportAccess)> = loaded
        .imports
        .iter()
        .filter(|i| i.starts_with("wasi:"))
        .map(|i| (i, plugins::import_access(i)))
        .collect();
    if json {
        let doc = serde_json::json!({
            "plugin": label,
            "name": info.name,
            "version": info.version,
            "description": info.description,
            "wit": format!("mlgate:gate@{wit}"),
            "rules": info.rules.iter().map(|r| serde_json::json!({
                "id": r.id, "default_severity": crate::sandbox::severity(r.default_severity).to_string(),
                "summary": r.summary, "help": r.help})).collect::<Vec<_>>(),
            "inputs": info.inputs.iter().map(|i| serde_json::json!({
                "name": i.name, "description": i.description, "required": i.required})).collect::<Vec<_>>(),
            "config_schema": serde_json::from_str::<serde_json::Value>(&info.config_schema).unwrap_or(serde_json::Value::Null),
            "imports": loaded.imports,
            "capabilities": capabilities.iter().map(|(i, a)| serde_json::json!({
                "import": i, "access": a.as_str()})).collect::<Vec<_>>(),
            "size": loaded.size,
            "sha256": loaded.sha256,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&doc).expect("serialises")
        );
        return Ok(0);
    }
    println!("plugin       {label}");
    println!("name         {} {}", info.name, info.version);
    println!("description  {}", info.description);
    println!("wit          mlgate:gate@{wit}");
    println!("size         {} bytes", loaded.size);
    println!("sha256       {}", loaded.sha256);
    println!("inputs:");
    for i in &info.inputs {
        println!(
            "  {:<14} {}{}",
            i.name,
            i.description,
            if i.required { " (required)" } else { "" }
        );
    }
    println!("rules:");
    for r in &info.rules {
        println!(
            "  {:<36} {:<8} {}",
            r.id,
            crate::sandbox::severity(r.default_severity).to_string(),
            r.summary
        );
    }
    println!("capabilities (WASI imports):");
    for (import, access) in &capabilities {
        match access {
            plugins::ImportAccess::Granted => println!("  {import}"),
            _ => println!("  {import}  [{}]", access.label()),
        }
    }
    Ok(0)
}
