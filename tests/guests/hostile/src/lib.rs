//! Hostile test plugins. One component, many attacks: `with: { attack: NAME }`
//! picks one. Each attack tries to escape or break the sandbox; when an escape
//! *succeeds* the gate reports what it got as a `critical` finding (so a test
//! that sees `pass` or that finding knows the sandbox leaked). When the sandbox
//! holds, the attack returns the error it hit or traps, and the runner must
//! mark the gate `error` with the right reason.

use std::io::Read;

use mlgate_plugin_sdk::{Finding, Gate, GateError, GateResult, PluginInfo, Request, Severity};

struct Hostile;

fn escaped(what: &str, got: String) -> Result<GateResult, GateError> {
    let finding = Finding::new(
        "sandbox-escape",
        Severity::Critical,
        format!("{what}: {got}"),
    );
    Ok(GateResult::from_findings(vec![finding], "ESCAPED"))
}

fn read_to_string(path: &str) -> Result<String, GateError> {
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_string(&mut text))
        .map_err(|e| GateError::io(path, e))?;
    Ok(text)
}

#[inline(never)]
#[allow(unconditional_recursion)]
fn recurse(depth: u64, buf: &mut [u8; 256]) -> u64 {
    buf[(depth % 256) as usize] = depth as u8;
    let mut local = [0u8; 256];
    local[0] = buf[0];
    recurse(depth + 1, &mut local) + local[1] as u64
}

#[inline(never)]
#[allow(unconditional_recursion)]
fn plain_recurse(depth: u64) -> u64 {
    std::hint::black_box(plain_recurse(std::hint::black_box(depth + 1))) + 1
}

impl Gate for Hostile {
    fn describe() -> PluginInfo {
        PluginInfo::new("hostile", "0.1.0", "Sandbox abuse for tests").input(
            "data",
            "any input",
            false,
        )
    }

    fn run(request: &Request) -> Result<GateResult, GateError> {
        let attack = request
            .config
            .get("attack")
            .and_then(|v| v.as_str())
            .unwrap_or("none")
            .to_string();
        match attack.as_str() {
            "none" => Ok(GateResult::from_findings(vec![], "behaved")),
            "infinite-loop" => {
                let mut x: u64 = 0;
                loop {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
            }
            "alloc-4gib" => {
                // wasm32 caps one allocation at 2 GiB (isize::MAX), so take
                // 4 GiB as four 1 GiB vectors, touching every page.
                let mut keep: Vec<Vec<u8>> = Vec::new();
                for _ in 0..4 {
                    let mut v: Vec<u8> = Vec::with_capacity(1 << 30);
                    v.resize(1 << 30, 1);
                    keep.push(v);
                }
                let total: usize = keep.iter().map(Vec::len).sum();
                escaped("allocated", format!("{total} bytes"))
            }
            "read-passwd" => escaped("read /etc/passwd", read_to_string("/etc/passwd")?),
            "dotdot" => {
                let input = request.require_input("data")?;
                let path = format!("{}/../../../../etc/passwd", input.display());
                escaped("read via ..", read_to_string(&path)?)
            }
            "symlink" => {
                let input = request.require_input("data")?;
                let path = format!("{}/link", input.display());
                escaped("read via symlink", read_to_string(&path)?)
            }
            "write-input" => {
                let input = request.require_input("data")?;
                let path = format!("{}/written-by-plugin", input.display());
                std::fs::write(&path, b"x").map_err(|e| GateError::io(&path, e))?;
                escaped("wrote into input", path)
            }
            "env" => {
                let vars: Vec<String> = std::env::vars().map(|(k, _)| k).collect();
                let args: Vec<String> = std::env::args().collect();
                if vars.is_empty() && args.is_empty() {
                    Err(GateError::new(
                        "env",
                        "no environment variables and no args",
                    ))
                } else {
                    escaped("env", format!("vars={vars:?} args={args:?}"))
                }
            }
            "panic" => panic!("hostile plugin panicked on purpose"),
            "stack-overflow" => {
                let mut buf = [0u8; 256];
                let n = recurse(0, &mut buf);
                escaped("recursion ended", n.to_string())
            }
            "deep-recursion" => {
                // No address-taken locals: this overflows the wasm call stack
                // itself rather than the shadow stack in linear memory.
                let n = plain_recurse(std::hint::black_box(0));
                escaped("recursion ended", n.to_string())
            }
            "findings-flood" => {
                let findings = (0..10_000_000u32)
                    .map(|i| Finding::new("flood", Severity::Low, format!("finding {i}")))
                    .collect();
                Ok(GateResult::from_findings(findings, "flood"))
            }
            "findings-20k" => {
                let findings = (0..20_000u32)
                    .map(|i| Finding::new("many", Severity::Low, format!("finding {i}")))
                    .collect();
                Ok(GateResult::from_findings(findings, "many"))
            }
            "log-flood" => {
                for i in 0..10_000_000u32 {
                    mlgate_plugin_sdk::host::info(&format!("log line {i}"));
                }
                Ok(GateResult::from_findings(vec![], "logged"))
            }
            "stdout-flood" => {
                for i in 0..10_000_000u32 {
                    println!("stdout line {i} \x1b[31mred\x1b[0m");
                }
                Ok(GateResult::from_findings(vec![], "printed"))
            }
            "escape-codes" => {
                mlgate_plugin_sdk::host::warn("\x1b]0;pwned\x07\x1b[2Jclear screen");
                let f = Finding::new("ansi", Severity::Low, "\x1b[31mred\x1b[0m message");
                Ok(GateResult::from_findings(vec![f], "\x1b[1mbold\x1b[0m"))
            }
            "digest-outside" => {
                let got = mlgate_plugin_sdk::host::digest(
                    "/etc/passwd",
                    mlgate_plugin_sdk::DigestAlgorithm::Sha256,
                )
                .map_err(|e| GateError::new("digest", e))?;
                escaped("hashed /etc/passwd", hex_string(&got))
            }
            "bad-severity-finding" => {
                // A finding with an empty rule id: malformed, must be rejected.
                let f = Finding::new("", Severity::High, "no rule id");
                Ok(GateResult::from_findings(vec![f], "malformed"))
            }
            other => Err(GateError::config(format!("unknown attack `{other}`"))),
        }
    }
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

mlgate_plugin_sdk::export_gate!(Hostile);
