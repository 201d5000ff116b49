//! Advisory data for `builtin:pip-audit`, on the host side (issue 4, item 7).
//!
//! A gate never has network, so the host fetches OSV's PyPI archive
//! ([`fetch`], `mlgate advisories fetch`), checks it ([`verify`]) and keeps it
//! in a store directory ([`store`]). When a `pip-audit` gate declares no
//! `advisories` input, [`bind_defaults`] (called by `pipeline::load`) and
//! [`default_input`] (used by `mlgate check`) bind it to the newest stored
//! archive, so `mlgate plan` lists it as a read like any declared input. With
//! no stored archive nothing is bound and the gate itself says what to run.

pub mod fetch;
pub mod store;
pub mod verify;

use std::path::{Path, PathBuf};

use crate::model::{PathBinding, Pipeline, PluginRef};

/// The built-in plugin that reads advisories.
pub const PLUGIN: &str = "pip-audit";
/// Its input name.
pub const INPUT: &str = "advisories";

/// The default store directory: `$MLGATE_ADVISORIES_DIR`, else
/// `$XDG_CACHE_HOME/mlgate/advisories`, else `~/.cache/mlgate/advisories`.
pub fn default_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("MLGATE_ADVISORIES_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    let base = match std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => Path::new(&std::env::var_os("HOME")?).join(".cache"),
    };
    Some(base.join("mlgate").join("advisories"))
}

/// The binding a gate gets when it runs `builtin:pip-audit` without an
/// `advisories` input: the newest archive in `dir`, if there is one.
pub fn default_input_from(
    dir: &Path,
    plugin: &PluginRef,
    inputs: &[PathBinding],
) -> Option<PathBinding> {
    let wants = matches!(plugin, PluginRef::Builtin { name } if name == PLUGIN)
        && !inputs.iter().any(|b| b.name == INPUT);
    if !wants {
        return None;
    }
    let stored = store::newest(dir)?;
    tracing::debug!(archive = %stored.zip.display(), "binding the fetched advisory database");
    Some(PathBinding {
        name: INPUT.into(),
        declared: stored.zip.display().to_string(),
        path: stored.zip,
    })
}

/// [`default_input_from`] the default store directory.
pub fn default_input(plugin: &PluginRef, inputs: &[PathBinding]) -> Option<PathBinding> {
    default_input_from(&default_dir()?, plugin, inputs)
}

/// Binds every `pip-audit` gate without `advisories` to the newest fetched
/// database in the default store.
pub fn bind_defaults(pipeline: &mut Pipeline) {
    let Some(dir) = default_dir() else {
        return;
    };
    for gate in &mut pipeline.gates {
        if let Some(b) = default_input_from(&dir, &gate.plugin, &gate.inputs) {
            gate.inputs.push(b);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn builtin(name: &str) -> PluginRef {
        PluginRef::Builtin { name: name.into() }
    }

    fn binding(name: &str) -> PathBinding {
        PathBinding {
            name: name.into(),
            declared: "x".into(),
            path: PathBuf::from("/x"),
        }
    }

    #[test]
    fn only_pip_audit_gates_without_advisories_get_the_newest_database() {
        let dir = tempfile::tempdir().unwrap();
        let lock = [binding("lockfile")];
        assert!(
            default_input_from(dir.path(), &builtin(PLUGIN), &lock).is_none(),
            "empty store"
        );
        let mut part = tempfile::NamedTempFile::new_in(dir.path()).unwrap();
        part.write_all(b"zip").unwrap();
        let meta = store::Meta {
            url: "http://127.0.0.1/all.zip".into(),
            sha256: "0".repeat(64),
            fetched_at: "2026-01-01T00:00:00Z".into(),
            records: 1,
            pypi_records: 1,
            newest_modified: None,
            bytes: 3,
            file: "pypi-1.zip".into(),
        };
        let stored = store::commit(dir.path(), part, &meta).unwrap();
        let got = default_input_from(dir.path(), &builtin(PLUGIN), &lock).unwrap();
        assert_eq!(got.name, INPUT);
        assert_eq!(got.path, stored.zip);
        let declared = [binding("lockfile"), binding(INPUT)];
        assert!(default_input_from(dir.path(), &builtin(PLUGIN), &declared).is_none());
        assert!(default_input_from(dir.path(), &builtin("secrets"), &lock).is_none());
    }
}
