//! Plugin resolution and admission: where a plugin's bytes come from
//! (embedded built-in or pinned `.wasm` file), and the checks a component
//! must pass before it is compiled or run: the SHA-256 pin, being a
//! component at all, the `mlgate:gate` WIT version, and importing nothing
//! mlgate does not know (HTTP, key-value stores, anything unknown).
//!
//! `wasi:sockets` imports are the one exception: language runtimes such as
//! CPython (componentize-py) import them whether or not the plugin uses the
//! network, so they are linked *denied*: the sandbox creates no TCP or UDP
//! socket, resolves no name and allows no address (see `sandbox::new_store`),
//! and every such call fails with `access-denied`.

use std::borrow::Cow;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::model::PluginRef;

/// The `mlgate:gate` package version this runner implements.
pub const WIT_VERSION: &str = "0.1.0";

/// A built-in plugin embedded in the binary.
pub struct Builtin {
    /// Name used as `builtin:NAME`.
    pub name: &'static str,
    /// The component.
    pub wasm: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/builtins.rs"));

/// Names of the built-in plugins.
pub fn builtin_names() -> Vec<&'static str> {
    BUILTINS.iter().map(|b| b.name).collect()
}

/// WASI interfaces a plugin may import and use. Everything not here or in
/// [`DENIED_WASI`] (HTTP, anything unknown) is refused at load time.
const GRANTED_WASI: &[&str] = &[
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
    "wasi:clocks/monotonic-clock",
    "wasi:clocks/wall-clock",
    "wasi:filesystem/types",
    "wasi:filesystem/preopens",
    "wasi:random/random",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
];

/// WASI interfaces a plugin may import but not use: linked, and every call
/// that would create a socket, connect or resolve a name is denied.
const DENIED_WASI: &[&str] = &[
    "wasi:sockets/network",
    "wasi:sockets/instance-network",
    "wasi:sockets/tcp",
    "wasi:sockets/tcp-create-socket",
    "wasi:sockets/udp",
    "wasi:sockets/udp-create-socket",
    "wasi:sockets/ip-name-lookup",
];

/// What the sandbox does with one import of a component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportAccess {
    /// The mlgate host interface or a granted WASI interface.
    Granted,
    /// Linked, but every call is denied (sockets).
    Denied,
    /// Not linked: the component is refused.
    Refused,
}

impl ImportAccess {
    /// One word, as `plugin inspect --json` prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            ImportAccess::Granted => "granted",
            ImportAccess::Denied => "denied",
            ImportAccess::Refused => "refused",
        }
    }

    /// How `plugin inspect` explains it.
    pub fn label(self) -> &'static str {
        match self {
            ImportAccess::Granted => "granted",
            ImportAccess::Denied => "denied (linked; every call fails with access-denied)",
            ImportAccess::Refused => "refused",
        }
    }
}

/// Classify an import name such as `wasi:sockets/tcp@0.2.9`.
pub fn import_access(import: &str) -> ImportAccess {
    let interface = import.split_once('@').map_or(import, |(i, _)| i);
    if interface.starts_with("mlgate:gate/") || GRANTED_WASI.contains(&interface) {
        ImportAccess::Granted
    } else if DENIED_WASI.contains(&interface) {
        ImportAccess::Denied
    } else {
        ImportAccess::Refused
    }
}

/// A plugin's bytes with its identity.
pub struct PluginBytes {
    /// `builtin:NAME` or the file path.
    pub label: String,
    /// The component.
    pub wasm: Cow<'static, [u8]>,
    /// Lower-case hex SHA-256 of `wasm`.
    pub sha256: String,
}

/// Why a plugin cannot be used. Each message names the plugin and the fix.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PluginError {
    /// No built-in of that name.
    #[error("unknown built-in plugin `{name}` (built-ins: {known})")]
    UnknownBuiltin {
        /// Requested name.
        name: String,
        /// Known names.
        known: String,
    },
    /// The file could not be read.
    #[error("cannot read plugin {path}: {reason}")]
    Read {
        /// Path.
        path: String,
        /// OS error.
        reason: String,
    },
    /// SHA-256 differs from the pin: not run at all.
    #[error(
        "plugin {path} does not match its pin: sha256 is {actual}, the pipeline pins {expected}; \
         the plugin was not run (if you rebuilt it on purpose, update the pin with \
         `mlgate plugin pin {path}`)"
    )]
    PinMismatch {
        /// Path.
        path: String,
        /// Pinned digest.
        expected: String,
        /// Actual digest.
        actual: String,
    },
    /// A core module or not WebAssembly at all.
    #[error(
        "{label} is not a WebAssembly component ({what}); build plugins with `cargo build --target wasm32-wasip2` or `wasm-tools component new`"
    )]
    NotAComponent {
        /// Plugin label.
        label: String,
        /// What it is instead.
        what: &'static str,
    },
    /// Built for another `mlgate:gate` version.
    #[error(
        "{label} was built for mlgate:gate@{found}, but this mlgate supports mlgate:gate@{WIT_VERSION}; rebuild the plugin against the `wit/` of this mlgate version"
    )]
    WitVersion {
        /// Plugin label.
        label: String,
        /// Version found in its imports.
        found: String,
    },
    /// Imports an interface mlgate does not grant.
    #[error(
        "{label} imports `{import}`, which mlgate does not link (plugins get no HTTP or other host access beyond read-only inputs, and sockets are denied); remove that dependency from the plugin"
    )]
    NotGranted {
        /// Plugin label.
        label: String,
        /// The import.
        import: String,
    },
    /// Compilation or linking failed.
    #[error("{label}: {reason}")]
    Invalid {
        /// Plugin label.
        label: String,
        /// Cause.
        reason: String,
    },
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Resolve a plugin reference to its bytes, checking the pin of a file.
pub fn resolve(plugin: &PluginRef) -> Result<PluginBytes, PluginError> {
    match plugin {
        PluginRef::Builtin { name } => builtin(name),
        PluginRef::File { path, sha256 } => {
            let file = read_file(path)?;
            if !file.sha256.eq_ignore_ascii_case(sha256) {
                return Err(PluginError::PinMismatch {
                    path: path.display().to_string(),
                    expected: sha256.to_ascii_lowercase(),
                    actual: file.sha256,
                });
            }
            Ok(file)
        }
    }
}

/// A built-in by name.
pub fn builtin(name: &str) -> Result<PluginBytes, PluginError> {
    let found =
        BUILTINS
            .iter()
            .find(|b| b.name == name)
            .ok_or_else(|| PluginError::UnknownBuiltin {
                name: name.to_string(),
                known: builtin_names().join(", "),
            })?;
    Ok(PluginBytes {
        label: format!("builtin:{name}"),
        wasm: Cow::Borrowed(found.wasm),
        sha256: sha256_hex(found.wasm),
    })
}

/// Read a `.wasm` file without checking a pin (for `check`, `inspect`, `pin`).
pub fn read_file(path: &Path) -> Result<PluginBytes, PluginError> {
    let wasm = std::fs::read(path).map_err(|e| PluginError::Read {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    let sha256 = sha256_hex(&wasm);
    Ok(PluginBytes {
        label: path.display().to_string(),
        wasm: Cow::Owned(wasm),
        sha256,
    })
}

/// Refuse anything that is not a component, before compiling it.
pub fn check_is_component(label: &str, wasm: &[u8]) -> Result<(), PluginError> {
    if wasm.len() < 8 || &wasm[..4] != b"\0asm" {
        return Err(PluginError::NotAComponent {
            label: label.to_string(),
            what: "not WebAssembly at all",
        });
    }
    if wasmparser::Parser::is_core_wasm(wasm) {
        return Err(PluginError::NotAComponent {
            label: label.to_string(),
            what: "a core WebAssembly module",
        });
    }
    if !wasmparser::Parser::is_component(wasm) {
        return Err(PluginError::NotAComponent {
            label: label.to_string(),
            what: "an unknown WebAssembly encoding",
        });
    }
    Ok(())
}

/// Check the imports of a compiled component: the `mlgate:gate` version and
/// the granted WASI interfaces. Returns the import names.
pub fn check_imports(label: &str, imports: &[String]) -> Result<(), PluginError> {
    for import in imports {
        let (interface, version) = match import.split_once('@') {
            Some((i, v)) => (i, Some(v)),
            None => (import.as_str(), None),
        };
        if interface.starts_with("mlgate:gate/") {
            if version != Some(WIT_VERSION) {
                return Err(PluginError::WitVersion {
                    label: label.to_string(),
                    found: version.unwrap_or("(unversioned)").to_string(),
                });
            }
            continue;
        }
        if import_access(import) == ImportAccess::Refused {
            return Err(PluginError::NotGranted {
                label: label.to_string(),
                import: import.clone(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_modules_and_garbage_are_refused() {
        let core = b"\0asm\x01\0\0\0";
        let err = check_is_component("x.wasm", core).unwrap_err();
        assert!(err.to_string().contains("core WebAssembly module"), "{err}");
        let err = check_is_component("x.wasm", b"hello world").unwrap_err();
        assert!(err.to_string().contains("not WebAssembly"), "{err}");
    }

    #[test]
    fn imports_are_checked() {
        let ok = vec![
            "mlgate:gate/host@0.1.0".to_string(),
            "wasi:filesystem/types@0.2.6".to_string(),
        ];
        check_imports("p", &ok).unwrap();
        let v2 = vec!["mlgate:gate/host@0.2.0".to_string()];
        let err = check_imports("p", &v2).unwrap_err();
        assert!(err.to_string().contains("mlgate:gate@0.2.0"), "{err}");
        let http = vec!["wasi:http/outgoing-handler@0.2.6".to_string()];
        let err = check_imports("p", &http).unwrap_err();
        assert!(
            err.to_string().contains("wasi:http/outgoing-handler"),
            "{err}"
        );
        let unknown = vec!["acme:spy/upload@1.0.0".to_string()];
        assert!(check_imports("p", &unknown).is_err());
        // Sockets are linked denied (CPython imports them).
        let net = vec!["wasi:sockets/tcp@0.2.9".to_string()];
        check_imports("p", &net).unwrap();
    }

    #[test]
    fn imports_are_classified() {
        assert_eq!(
            import_access("mlgate:gate/host@0.1.0"),
            ImportAccess::Granted
        );
        assert_eq!(
            import_access("wasi:filesystem/preopens@0.2.9"),
            ImportAccess::Granted
        );
        assert_eq!(
            import_access("wasi:sockets/ip-name-lookup@0.2.0"),
            ImportAccess::Denied
        );
        assert_eq!(import_access("wasi:sockets/tcp"), ImportAccess::Denied);
        assert_eq!(
            import_access("wasi:http/types@0.2.6"),
            ImportAccess::Refused
        );
        assert_eq!(
            import_access("wasi:socketsx/tcp@0.2.6"),
            ImportAccess::Refused
        );
    }
}
