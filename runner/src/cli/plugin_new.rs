//! `mlgate plugin new NAME [--lang rust|python]`: write a ready plugin
//! project in `./NAME` (Spin's `spin new`, for gates).
//!
//! The templates live in `runner/templates/` and are embedded with
//! `include_str!`, as are the WIT and (for Rust) the plugin SDK's sources: a
//! new project builds with the `mlgate` binary, a Rust toolchain and the
//! crates.io registry, and speaks exactly the WIT this binary runs. With
//! `--sdk PATH` the project depends on an SDK checkout instead of the copy.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::usage_error;
use crate::plugins::WIT_VERSION;

/// `mlgate plugin new` arguments.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// Plugin name: lower-case letters, digits and dashes (`house-rules`).
    pub name: String,
    /// Language of the project.
    #[arg(long, value_enum, default_value_t = Lang::Rust)]
    pub lang: Lang,
    /// Where to write the project [default: ./NAME].
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Rust: depend on this SDK directory (`.../mlgate/plugins/sdk`) instead
    /// of a copy of the SDK inside the project.
    #[arg(long, value_name = "PATH")]
    pub sdk: Option<PathBuf>,
}

/// Plugin languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    /// A Rust crate using `mlgate-plugin-sdk`, built with cargo.
    Rust,
    /// A Python module built with componentize-py.
    Python,
}

/// componentize-py version the Python template was tested with.
pub const COMPONENTIZE_PY_VERSION: &str = "0.25.1";

const WIT: &str = include_str!("../../../wit/gate.wit");

/// The SDK's sources, copied into a Rust project (`sdk/src/NAME`).
const SDK_SOURCES: &[(&str, &str)] = &[
    ("lib.rs", include_str!("../../../plugins/sdk/src/lib.rs")),
    (
        "allowlist.rs",
        include_str!("../../../plugins/sdk/src/allowlist.rs"),
    ),
    ("host.rs", include_str!("../../../plugins/sdk/src/host.rs")),
    (
        "notebook.rs",
        include_str!("../../../plugins/sdk/src/notebook.rs"),
    ),
    (
        "request.rs",
        include_str!("../../../plugins/sdk/src/request.rs"),
    ),
    (
        "types.rs",
        include_str!("../../../plugins/sdk/src/types.rs"),
    ),
    ("walk.rs", include_str!("../../../plugins/sdk/src/walk.rs")),
];

/// In the repository the SDK finds the WIT at `plugins/sdk/../../wit`; in a
/// project it is at `sdk/../wit`.
const SDK_WIT_PATH: (&str, &str) = ("path: \"../../wit\"", "path: \"../wit\"");

const RUST: &[(&str, &str)] = &[
    (
        "Cargo.toml",
        include_str!("../../templates/rust/Cargo.toml.tmpl"),
    ),
    (
        "README.md",
        include_str!("../../templates/rust/README.md.tmpl"),
    ),
    (
        ".gitignore",
        include_str!("../../templates/rust/gitignore.tmpl"),
    ),
    (
        "src/lib.rs",
        include_str!("../../templates/rust/src/lib.rs.tmpl"),
    ),
    (
        "src/scan.rs",
        include_str!("../../templates/rust/src/scan.rs.tmpl"),
    ),
];

const PYTHON: &[(&str, &str)] = &[
    (
        "README.md",
        include_str!("../../templates/python/README.md.tmpl"),
    ),
    (
        ".gitignore",
        include_str!("../../templates/python/gitignore.tmpl"),
    ),
    ("app.py", include_str!("../../templates/python/app.py.tmpl")),
    (
        "test_app.py",
        include_str!("../../templates/python/test_app.py.tmpl"),
    ),
];

const SDK_CARGO: &str = include_str!("../../templates/rust/sdk-Cargo.toml.tmpl");

/// Run `mlgate plugin new`.
pub fn run(args: NewArgs) -> u8 {
    match write_project(&args) {
        Ok(dir) => {
            let next = match args.lang {
                Lang::Rust => "cargo test && cargo build --release --target wasm32-wasip2",
                Lang::Python => "see README.md (componentize-py)",
            };
            println!("created {} ({:?} plugin)", dir.display(), args.lang);
            println!("next: cd {} && {next}", dir.display());
            0
        }
        Err(e) => usage_error(e),
    }
}

/// Check a plugin name: what `describe().name`, the crate and the gate use.
pub fn validate_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && !name.contains("--")
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok && name != "mlgate-plugin-sdk" {
        Ok(())
    } else {
        Err(format!(
            "invalid plugin name `{name}`: use lower-case letters, digits and single dashes, \
             starting with a letter (e.g. `house-rules`)"
        ))
    }
}

/// The project's files (relative path, contents).
pub fn render(args: &NewArgs) -> Result<Vec<(String, String)>, String> {
    validate_name(&args.name)?;
    let lib_name = args.name.replace('-', "_");
    let (sdk_path, sdk_comment, sdk_readme) = match &args.sdk {
        Some(p) => {
            let p = std::path::absolute(p).map_err(|e| format!("{}: {e}", p.display()))?;
            if !p.join("Cargo.toml").exists() {
                return Err(format!("--sdk {}: no Cargo.toml there", p.display()));
            }
            (
                p.display().to_string(),
                "A path to an mlgate checkout's SDK (`--sdk`).",
                "not used: `Cargo.toml` points at an SDK checkout (`--sdk`)",
            )
        }
        None => (
            "sdk".to_string(),
            "A copy in ./sdk, written by `mlgate plugin new`; \
             or a checkout: { path = \".../mlgate/plugins/sdk\" }.",
            "a copy of the plugin SDK for this mlgate version (no checkout needed)",
        ),
    };
    let vars = [
        ("{{name}}", args.name.as_str()),
        ("{{lib_name}}", lib_name.as_str()),
        ("{{wit_version}}", WIT_VERSION),
        ("{{mlgate_version}}", env!("CARGO_PKG_VERSION")),
        ("{{componentize_py_version}}", COMPONENTIZE_PY_VERSION),
        ("{{sdk_path}}", sdk_path.as_str()),
        ("{{sdk_comment}}", sdk_comment),
        ("{{sdk_readme}}", sdk_readme),
    ];
    let fill = |text: &str| {
        vars.iter()
            .fold(text.to_string(), |t, (k, v)| t.replace(k, v))
    };
    let templates = match args.lang {
        Lang::Rust => RUST,
        Lang::Python => PYTHON,
    };
    let mut files: Vec<(String, String)> = templates
        .iter()
        .map(|(path, text)| (path.to_string(), fill(text)))
        .collect();
    files.push(("wit/gate.wit".into(), WIT.to_string()));
    if args.lang == Lang::Rust && args.sdk.is_none() {
        files.push(("sdk/Cargo.toml".into(), fill(SDK_CARGO)));
        for (name, text) in SDK_SOURCES {
            let text = if *name == "lib.rs" {
                if !text.contains(SDK_WIT_PATH.0) {
                    return Err("internal: the SDK's WIT path changed; update plugin_new.rs".into());
                }
                text.replace(SDK_WIT_PATH.0, SDK_WIT_PATH.1)
            } else {
                text.to_string()
            };
            files.push((format!("sdk/src/{name}"), text));
        }
    }
    Ok(files)
}

fn write_project(args: &NewArgs) -> Result<PathBuf, String> {
    let files = render(args)?;
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(&args.name));
    if dir.exists() {
        return Err(format!(
            "{} already exists; pick another name or --dir",
            dir.display()
        ));
    }
    for (rel, text) in &files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(name: &str, lang: Lang) -> NewArgs {
        NewArgs {
            name: name.into(),
            lang,
            dir: None,
            sdk: None,
        }
    }

    #[test]
    fn names_are_kebab_case() {
        for good in ["house-rules", "a", "gate2"] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        for bad in ["", "House", "-a", "a-", "a--b", "a_b", "2fa", "a b", "../x"] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rust_project_has_every_placeholder_filled_and_a_local_sdk() {
        let files = render(&args("house-rules", Lang::Rust)).unwrap();
        for (path, text) in &files {
            assert!(
                !text.contains("{{name}}") && !text.contains("{{sdk"),
                "{path}"
            );
        }
        let get = |p: &str| &files.iter().find(|(f, _)| f == p).unwrap().1;
        assert!(get("Cargo.toml").contains("name = \"house-rules\""));
        assert!(get("Cargo.toml").contains("path = \"sdk\""));
        assert!(get("sdk/src/lib.rs").contains("path: \"../wit\""));
        assert!(get("src/lib.rs").contains("\"house-rules\""));
        assert!(get("README.md").contains("house_rules.wasm"));
        assert!(get("wit/gate.wit").contains(&format!("mlgate:gate@{WIT_VERSION}")));
    }

    #[test]
    fn copied_sdk_depends_on_the_workspace_versions() {
        // The copy's Cargo.toml names versions; they must match the workspace's.
        let root = include_str!("../../../Cargo.toml");
        for dep in [
            "wit-bindgen",
            "serde",
            "serde_json",
            "sha2",
            "hex",
            "blake2",
        ] {
            let in_root = root
                .lines()
                .find(|l| l.starts_with(&format!("{dep} = ")))
                .unwrap_or_else(|| panic!("{dep} not in the workspace"));
            let version = in_root.split('"').nth(1).unwrap();
            assert!(
                SDK_CARGO.contains(&format!("{dep} = \"{version}\""))
                    || SDK_CARGO.contains(&format!("{dep} = {{ version = \"{version}\"")),
                "{dep} {version}"
            );
        }
        let sdk = include_str!("../../../plugins/sdk/Cargo.toml");
        let mut in_deps = false;
        for line in sdk.lines() {
            if line.starts_with('[') {
                in_deps = line.contains("dependencies");
            }
            if !in_deps || !line.ends_with(".workspace = true") {
                continue;
            }
            let dep = line.split('.').next().unwrap();
            assert!(
                SDK_CARGO.contains(&format!("{dep} = ")),
                "SDK dependency {dep} not copied"
            );
        }
    }

    #[test]
    fn python_project_has_the_wit_and_no_sdk() {
        let files = render(&args("py-gate", Lang::Python)).unwrap();
        let names: Vec<&str> = files.iter().map(|(f, _)| f.as_str()).collect();
        assert!(names.contains(&"app.py") && names.contains(&"wit/gate.wit"));
        assert!(!names.iter().any(|n| n.starts_with("sdk/")));
        let app = &files.iter().find(|(f, _)| f == "app.py").unwrap().1;
        assert!(app.contains("name=\"py-gate\""));
    }

    #[test]
    fn refuses_an_existing_directory() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = args("x", Lang::Rust);
        a.dir = Some(dir.path().to_path_buf());
        assert!(write_project(&a).unwrap_err().contains("already exists"));
    }
}
