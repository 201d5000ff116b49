//! Builds the built-in plugins (every `plugins/*` crate but the SDK) and the
//! test guests (`tests/guests/*`) for `wasm32-wasip2`, in their own target
//! directory, and embeds the built-ins in the binary. Users need nothing but
//! the `mlgate` binary; developers need `rustup target add wasm32-wasip2`.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir.parent().unwrap().to_path_buf();
    for watched in ["plugins", "tests/guests", "wit", "Cargo.lock", "Cargo.toml"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    println!("cargo:rerun-if-env-changed=MLGATE_SKIP_BROKEN_PLUGINS");

    check_target_installed();

    let plugins = guest_crates(&root.join("plugins"), &["sdk"]);
    let guests = guest_crates(&root.join("tests/guests"), &[]);
    let target_dir = root.join("target").join("wasm-guests");
    let built = build(&root, &target_dir, plugins.iter().chain(&guests));

    let wasm_dir = target_dir.join(TARGET).join("release");
    let mut code = String::from(
        "/// Built-in plugins embedded at build time.\npub static BUILTINS: &[Builtin] = &[\n",
    );
    for krate in &plugins {
        let wasm = wasm_dir.join(format!("{}.wasm", krate.package.replace('-', "_")));
        if !built.contains(&krate.package) || !wasm.exists() {
            continue;
        }
        writeln!(
            code,
            "    Builtin {{ name: {:?}, wasm: include_bytes!({:?}) }},",
            krate.dir_name,
            wasm.display().to_string()
        )
        .unwrap();
    }
    code.push_str("];\n");
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    fs::write(out.join("builtins.rs"), code).unwrap();
    println!(
        "cargo:rustc-env=MLGATE_GUEST_WASM_DIR={}",
        wasm_dir.display()
    );
}

struct GuestCrate {
    dir_name: String,
    package: String,
}

fn guest_crates(dir: &Path, skip: &[&str]) -> Vec<GuestCrate> {
    let mut crates = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return crates;
    };
    for entry in entries.flatten() {
        let dir_name = entry.file_name().to_string_lossy().into_owned();
        let manifest = entry.path().join("Cargo.toml");
        if skip.contains(&dir_name.as_str()) || !manifest.exists() {
            continue;
        }
        let text = fs::read_to_string(&manifest).unwrap();
        let package = text
            .lines()
            .find_map(|l| {
                let l = l.trim();
                l.strip_prefix("name")
                    .map(|rest| rest.trim_start())
                    .and_then(|rest| rest.strip_prefix('='))
                    .map(|v| v.trim().trim_matches('"').to_string())
            })
            .unwrap_or_else(|| panic!("no package name in {}", manifest.display()));
        crates.push(GuestCrate { dir_name, package });
    }
    crates.sort_by(|a, b| a.dir_name.cmp(&b.dir_name));
    crates
}

fn check_target_installed() {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let libdir = Command::new(&rustc)
        .args(["--print", "target-libdir", "--target", TARGET])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let installed = libdir.map(|d| d.exists()).unwrap_or(false);
    if !installed {
        panic!(
            "\n\nmlgate embeds its built-in plugins, compiled for {TARGET}, and that target is \
             not installed.\nRun:\n\n    rustup target add {TARGET}\n\nthen build again.\n"
        );
    }
}

/// Build the crates; returns the packages that built.
fn build<'a>(
    root: &Path,
    target_dir: &Path,
    crates: impl Iterator<Item = &'a GuestCrate>,
) -> Vec<String> {
    let crates: Vec<&GuestCrate> = crates.collect();
    let skip_broken = env::var_os("MLGATE_SKIP_BROKEN_PLUGINS").is_some();
    let mut ok = Vec::new();
    // One cargo call for all (fast path); when skipping broken plugins is
    // allowed (development only), fall back to one call per crate.
    let all: Vec<&str> = crates.iter().map(|c| c.package.as_str()).collect();
    if cargo_build(root, target_dir, &all).is_ok() {
        return all.iter().map(|s| s.to_string()).collect();
    }
    for krate in &crates {
        match cargo_build(root, target_dir, &[&krate.package]) {
            Ok(()) => ok.push(krate.package.clone()),
            Err(log) if skip_broken => {
                println!(
                    "cargo:warning=skipping built-in plugin {} (does not build; MLGATE_SKIP_BROKEN_PLUGINS is set)",
                    krate.package
                );
                let _ = log;
            }
            Err(log) => panic!(
                "building plugin {} for {TARGET} failed:\n{log}",
                krate.package
            ),
        }
    }
    ok
}

fn cargo_build(root: &Path, target_dir: &Path, packages: &[&str]) -> Result<(), String> {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root)
        .args(["build", "--release", "--target", TARGET, "--target-dir"])
        .arg(target_dir);
    for p in packages {
        cmd.args(["-p", p]);
    }
    // The outer build's settings must not leak into the guest build.
    for (key, _) in env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        let keep = matches!(key.as_str(), "CARGO_HOME" | "CARGO_MAKEFLAGS")
            || key.starts_with("CARGO_NET_")
            || key.starts_with("CARGO_HTTP_")
            || key.starts_with("CARGO_REGISTRIES_");
        if (key.starts_with("CARGO_") && !keep)
            || key.starts_with("RUSTC")
            || key.starts_with("RUSTFLAGS")
            || key == "RUSTDOCFLAGS"
        {
            cmd.env_remove(&key);
        }
    }
    let output = cmd.output().map_err(|e| format!("cannot run cargo: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}
