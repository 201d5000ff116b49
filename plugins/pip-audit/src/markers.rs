//! PEP 508 environment markers (`; python_version < "3.11"`), evaluated
//! against the target environment the gate config describes.
//!
//! pip-audit evaluates markers against the interpreter it runs on; a gate has
//! no target interpreter, so the config names one (`environment:`). Without
//! it no marker is evaluated and every requirement is audited. With it, the
//! keys it gives are evaluated exactly (by `pep508_rs`, whose marker algebra
//! turns the expression into a decision diagram), and a key it does not give
//! is unknown: a requirement is skipped only when *no* value of the unknown
//! keys could make its marker true, so a partial environment never hides a
//! requirement that might be installed. `python_version: "3.11"` alone stands
//! for every 3.11.x release when a marker asks for `python_full_version`.

use std::ops::Bound;
use std::str::FromStr;

use pep508_rs::pep440_rs::Version;
use pep508_rs::{MarkerTree, MarkerTreeKind, MarkerValueString, MarkerValueVersion};
use serde::Deserialize;

/// The target environment markers are evaluated against (`with: environment:`).
///
/// ```yaml
/// with:
///   environment: { python_version: "3.11", sys_platform: linux, platform_machine: x86_64 }
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    /// `python_version`, `X.Y`.
    pub python_version: Option<String>,
    /// `python_full_version`, `X.Y.Z` (implies `python_version`).
    pub python_full_version: Option<String>,
    /// `sys_platform`: `linux`, `win32`, `darwin`, ...
    pub sys_platform: Option<String>,
    /// `platform_system`: `Linux`, `Windows`, `Darwin`.
    pub platform_system: Option<String>,
    /// `platform_machine`: `x86_64`, `aarch64`, `AMD64`, `arm64`.
    pub platform_machine: Option<String>,
    /// `os_name`: `posix`, `nt`.
    pub os_name: Option<String>,
    /// `implementation_name`: `cpython`, `pypy`.
    pub implementation_name: Option<String>,
    /// `platform_python_implementation`: `CPython`, `PyPy`.
    pub platform_python_implementation: Option<String>,
    /// `implementation_version` (CPython: the Python version).
    pub implementation_version: Option<String>,
    /// `platform_release`.
    pub platform_release: Option<String>,
    /// `platform_version`.
    pub platform_version: Option<String>,
}

/// A version key's possible values: a half-open interval `[low, high)`, or
/// one exact version, or anything.
#[derive(Debug, Clone)]
enum Possible {
    Any,
    Exactly(Version),
    Between(Version, Version),
}

/// An [`Environment`] with its versions parsed.
#[derive(Debug, Clone)]
pub struct Target {
    env: Environment,
    python: Possible,
    implementation: Possible,
}

impl Target {
    /// Checks and parses the configured environment.
    pub fn new(env: Environment) -> Result<Target, String> {
        let parse = |key: &str, text: &str| {
            Version::from_str(text).map_err(|e| format!("environment.{key} `{text}`: {e}"))
        };
        let python = match (&env.python_full_version, &env.python_version) {
            (Some(full), _) => Possible::Exactly(parse("python_full_version", full)?),
            (None, Some(short)) => {
                let v = parse("python_version", short)?;
                let release = v.release();
                if release.len() != 2 {
                    return Err(format!(
                        "environment.python_version `{short}`: expected MAJOR.MINOR, like 3.11 \
                         (use python_full_version for a full version)"
                    ));
                }
                let next = Version::new([release[0], release[1] + 1]);
                Possible::Between(v, next)
            }
            (None, None) => Possible::Any,
        };
        let implementation = match &env.implementation_version {
            Some(v) => Possible::Exactly(parse("implementation_version", v)?),
            // CPython's implementation_version is its Python version.
            None if env
                .implementation_name
                .as_deref()
                .is_none_or(|n| n == "cpython") =>
            {
                python.clone()
            }
            None => Possible::Any,
        };
        Ok(Target {
            env,
            python,
            implementation,
        })
    }

    fn string(&self, key: &MarkerValueString) -> Option<&str> {
        use MarkerValueString as K;
        let e = &self.env;
        match key {
            K::ImplementationName => e.implementation_name.as_deref(),
            K::OsName | K::OsNameDeprecated => e.os_name.as_deref(),
            K::PlatformMachine | K::PlatformMachineDeprecated => e.platform_machine.as_deref(),
            K::PlatformPythonImplementation
            | K::PlatformPythonImplementationDeprecated
            | K::PythonImplementationDeprecated => e.platform_python_implementation.as_deref(),
            K::PlatformRelease => e.platform_release.as_deref(),
            K::PlatformSystem => e.platform_system.as_deref(),
            K::PlatformVersion | K::PlatformVersionDeprecated => e.platform_version.as_deref(),
            K::SysPlatform | K::SysPlatformDeprecated => e.sys_platform.as_deref(),
        }
    }

    fn version(&self, key: &MarkerValueVersion) -> &Possible {
        match key {
            MarkerValueVersion::ImplementationVersion => &self.implementation,
            MarkerValueVersion::PythonFullVersion | MarkerValueVersion::PythonVersion => {
                &self.python
            }
        }
    }

    /// Whether a requirement with this marker could be installed in the
    /// target; the error is a marker that does not parse.
    pub fn may_apply(&self, marker: &str) -> Result<bool, String> {
        match MarkerTree::from_str(marker) {
            Ok(tree) => Ok(self.possible(&tree)),
            // PEP 751 lock markers may also test `extras` and
            // `dependency_groups`, which a PEP 508 parser refuses; which
            // extras and groups get installed is unknown, so it may apply.
            Err(_) if mentions_lock_variables(marker) => Ok(true),
            Err(e) => Err(e.message.to_string()),
        }
    }

    fn possible(&self, tree: &MarkerTree) -> bool {
        match tree.kind() {
            MarkerTreeKind::True => true,
            MarkerTreeKind::False => false,
            MarkerTreeKind::Version(node) => {
                let possible = self.version(node.key());
                node.edges()
                    .any(|(range, child)| meets(range.iter(), possible) && self.possible(&child))
            }
            MarkerTreeKind::String(node) => match self.string(node.key()) {
                Some(value) => node
                    .children()
                    .find(|(range, _)| range.contains(&value.to_string()))
                    .is_some_and(|(_, child)| self.possible(&child)),
                None => node.children().any(|(_, child)| self.possible(&child)),
            },
            MarkerTreeKind::In(node) => match self.string(node.key()) {
                Some(value) => self.possible(&node.edge(node.value().contains(value))),
                None => node.children().any(|(_, child)| self.possible(&child)),
            },
            MarkerTreeKind::Contains(node) => match self.string(node.key()) {
                Some(value) => self.possible(&node.edge(value.contains(node.value()))),
                None => node.children().any(|(_, child)| self.possible(&child)),
            },
            // A requirements file line is installed with no extras active
            // (pip evaluates `extra` as ""), as pip-audit would see it.
            MarkerTreeKind::Extra(node) => self.possible(&node.edge(false)),
        }
    }
}

/// Whether `marker` names PEP 751's `extras` or `dependency_groups`.
fn mentions_lock_variables(marker: &str) -> bool {
    marker
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .any(|word| word == "extras" || word == "dependency_groups")
}

/// Whether any segment of a version range meets the possible values.
fn meets<'a>(
    mut segments: impl Iterator<Item = (&'a Bound<Version>, &'a Bound<Version>)>,
    possible: &Possible,
) -> bool {
    let above = |v: &Version, low: &Bound<Version>| match low {
        Bound::Included(l) => v >= l,
        Bound::Excluded(l) => v > l,
        Bound::Unbounded => true,
    };
    let below = |v: &Version, high: &Bound<Version>| match high {
        Bound::Included(h) => v <= h,
        Bound::Excluded(h) => v < h,
        Bound::Unbounded => true,
    };
    segments.any(|(low, high)| match possible {
        Possible::Any => true,
        Possible::Exactly(v) => above(v, low) && below(v, high),
        // [lo, hi) meets the segment when the segment starts below hi and
        // reaches lo (versions are dense: there is one between any two).
        Possible::Between(lo, hi) => {
            let starts_before_hi = match low {
                Bound::Included(l) | Bound::Excluded(l) => l < hi,
                Bound::Unbounded => true,
            };
            starts_before_hi && below(lo, high)
        }
    })
}

#[cfg(test)]
#[path = "markers_tests.rs"]
mod tests;
