//! Markers from a real universal lock (`uv pip compile --universal`,
//! `tests/fixtures/pip-audit/markers/requirements.txt`) and real package
//! metadata lines, against full, partial and Windows environments.

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::*;
use crate::lock::{self, Format};

fn env(json: serde_json::Value) -> Target {
    Target::new(serde_json::from_value(json).unwrap()).unwrap()
}

fn universal_lock() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/pip-audit/markers/requirements.txt"
    ))
}

/// `name==version` of the lock's requirements whose marker may apply.
fn installed(target: &Target) -> BTreeSet<String> {
    let path = universal_lock();
    let lock = lock::parse(&path, Format::Requirements, path.parent().unwrap()).unwrap();
    lock.requirements
        .iter()
        .filter(|r| {
            r.marker
                .as_deref()
                .is_none_or(|m| target.may_apply(m).unwrap())
        })
        .map(|r| format!("{}=={}", r.normalized, r.version.as_deref().unwrap()))
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn universal_lock_on_linux_python_3_11() {
    let got = installed(&env(
        serde_json::json!({"python_version": "3.11", "sys_platform": "linux"}),
    ));
    assert_eq!(
        got,
        set(&[
            "gunicorn==19.4.0",
            "iniconfig==2.3.1",
            "jupyter-core==4.6.3",
            "packaging==26.4",
            "pluggy==1.7.0",
            "pytest==8.3.3",
            "tornado==6.3.1",
            "traitlets==5.16.1",
        ])
    );
}

#[test]
fn universal_lock_on_windows_python_3_12() {
    let got = installed(&env(
        serde_json::json!({"python_full_version": "3.12.1", "sys_platform": "win32"}),
    ));
    assert!(got.contains("pywin32==300") && got.contains("waitress==1.3.0"));
    assert!(got.contains("colorama==0.4.6"));
    assert!(!got.contains("gunicorn==19.4.0"), "sys_platform != 'win32'");
    assert!(
        !got.contains("tornado==6.3.1"),
        "python_full_version < '3.12'"
    );
    assert!(!got.contains("tomli==2.5.0"));
}

#[test]
fn unknown_keys_never_hide_a_requirement() {
    // Only the platform is known: both Python forks of iniconfig may apply.
    let got = installed(&env(serde_json::json!({"sys_platform": "linux"})));
    assert!(got.contains("iniconfig==2.1.0") && got.contains("iniconfig==2.3.1"));
    assert!(got.contains("tomli==2.5.0") && got.contains("tornado==6.3.1"));
    assert!(!got.contains("pywin32==300"));
    // An empty environment evaluates nothing away.
    let all = installed(&env(serde_json::json!({})));
    assert_eq!(all.len(), 18, "{all:?}");
}

#[test]
fn python_version_alone_covers_every_patch_release() {
    let t = env(serde_json::json!({"python_version": "3.11"}));
    let may = |m: &str| t.may_apply(m).unwrap();
    assert!(may("python_full_version >= '3.11.4'"));
    assert!(may("python_full_version < '3.11.1'"));
    assert!(!may("python_full_version < '3.11'"));
    assert!(!may("python_full_version >= '3.12'"));
    assert!(may("python_version == '3.11'"));
    assert!(!may("python_version != '3.11'"));
    assert!(may("python_version >= '3.8' and python_version < '3.13'"));
    // CPython's implementation_version is its Python version.
    assert!(!may("implementation_version < '3.10'"));
    let full = env(serde_json::json!({"python_full_version": "3.11.2"}));
    assert!(!full.may_apply("python_full_version >= '3.11.4'").unwrap());
    assert!(full.may_apply("python_version == '3.11'").unwrap());
}

#[test]
fn real_metadata_markers() {
    let linux = env(serde_json::json!({
        "python_version": "3.12", "sys_platform": "linux", "platform_system": "Linux",
        "platform_machine": "x86_64", "implementation_name": "cpython",
        "platform_python_implementation": "CPython", "os_name": "posix"
    }));
    let mac = env(serde_json::json!({
        "python_version": "3.12", "sys_platform": "darwin", "platform_system": "Darwin",
        "platform_machine": "arm64", "platform_python_implementation": "CPython"
    }));
    // uvicorn[standard] 0.30 → uvloop.
    let uvloop = "platform_python_implementation != 'PyPy' and sys_platform != 'win32' and sys_platform != 'cygwin'";
    // torch 2.3 → triton and the CUDA wheels.
    let triton =
        "platform_system == 'Linux' and platform_machine == 'x86_64' and python_version < '3.12'";
    let cuda = r#"platform_system == "Linux" and platform_machine == "x86_64""#;
    // ipython → appnope; pywin32 through jupyter-core 5.
    let appnope = r#"platform_system == "Darwin""#;
    let pywin32 = "sys_platform == 'win32' and platform_python_implementation != 'PyPy'";
    for (marker, on_linux, on_mac) in [
        (uvloop, true, true),
        (triton, false, false),
        (cuda, true, false),
        (appnope, false, true),
        (pywin32, false, false),
        (r#"os_name == "nt""#, false, true),
        (r#"'linux' in sys_platform"#, true, false),
        (r#"extra == "socks""#, false, false),
    ] {
        assert_eq!(
            linux.may_apply(marker).unwrap(),
            on_linux,
            "linux: {marker}"
        );
        assert_eq!(mac.may_apply(marker).unwrap(), on_mac, "mac: {marker}");
    }
}

#[test]
fn bad_markers_and_bad_environments_are_errors() {
    let t = env(serde_json::json!({"python_version": "3.11"}));
    assert!(t.may_apply("python_version <> '3'").is_err());
    assert!(t.may_apply("flavour == 'vanilla'").is_err());
    let bad = |json| Target::new(serde_json::from_value(json).unwrap()).unwrap_err();
    assert!(bad(serde_json::json!({"python_version": "3"})).contains("MAJOR.MINOR"));
    assert!(
        bad(serde_json::json!({"python_full_version": "three"})).contains("python_full_version")
    );
    assert!(serde_json::from_value::<Environment>(serde_json::json!({"python": "3"})).is_err());
}

#[test]
fn pep_751_lock_variables_are_unknown_not_errors() {
    // pylock.toml markers may test `extras` and `dependency_groups` (PEP 751),
    // which PEP 508 parsers do not know: the requirement may apply.
    let t = env(serde_json::json!({"python_version": "3.11"}));
    assert_eq!(t.may_apply("'dev' in dependency_groups"), Ok(true));
    assert_eq!(
        t.may_apply("'cuda' in extras and python_version >= '3.12'"),
        Ok(true)
    );
    assert!(t.may_apply("'cuda' in flavours").is_err());
}
