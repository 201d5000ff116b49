//! Hostile plugins: real components (tests/guests) that try to escape or
//! break the sandbox. Each must end as a gate `error` with the right reason,
//! and nothing they were not given may show up in the report.

use std::path::PathBuf;

use crate::harness::{check_json, mlgate, run, temp_dir};

fn guest(name: &str) -> String {
    let path = PathBuf::from(env!("MLGATE_GUEST_WASM_DIR")).join(format!("{name}.wasm"));
    assert!(path.exists(), "test guest missing: {}", path.display());
    path.display().to_string()
}

/// Run the hostile plugin with `attack` and extra args; return (exit, gate JSON).
fn attack(name: &str, extra: &[&str]) -> (i32, serde_json::Value) {
    let wasm = guest("mlgate_hostile");
    let set = format!("attack={name}");
    let mut args = vec!["--set", set.as_str(), "--quiet"];
    args.extend_from_slice(extra);
    let (code, json, stderr) = check_json(&wasm, &args);
    let gate = json["gates"][0].clone();
    assert_eq!(
        json["gates"].as_array().map(Vec::len),
        Some(1),
        "{json}\n{stderr}"
    );
    (code, gate)
}

fn assert_error(gate: &serde_json::Value, needle: &str) {
    assert_eq!(gate["status"], "error", "{gate:#}");
    let reason = gate["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains(needle),
        "reason {reason:?} should mention {needle:?}"
    );
}

fn assert_no_passwd(gate: &serde_json::Value) {
    let text = gate.to_string();
    assert!(!text.contains("root:x:0:0"), "host file leaked: {text}");
    assert!(!text.contains("ESCAPED"), "sandbox escape: {text}");
}

#[test]
fn well_behaved_guest_passes() {
    let (code, gate) = attack("none", &[]);
    assert_eq!(code, 0, "{gate:#}");
    assert_eq!(gate["status"], "pass");
}

#[test]
fn infinite_loop_is_stopped_at_its_deadline() {
    let started = std::time::Instant::now();
    let (code, gate) = attack("infinite-loop", &["--timeout", "1s"]);
    assert_eq!(code, 1);
    assert_error(&gate, "timed out after 1s");
    assert!(started.elapsed().as_secs() < 30, "deadline did not hold");
}

#[test]
fn four_gib_allocation_hits_the_memory_limit() {
    let (code, gate) = attack("alloc-4gib", &["--memory", "256MiB"]);
    assert_eq!(code, 1);
    assert_error(&gate, "exceeded the memory limit of 256 MiB");
}

#[test]
fn reading_etc_passwd_fails() {
    let (_, gate) = attack("read-passwd", &[]);
    assert_error(&gate, "/etc/passwd");
    assert_no_passwd(&gate);
}

#[test]
fn dotdot_out_of_a_preopen_fails() {
    let dir = temp_dir();
    std::fs::write(dir.path().join("a.txt"), "a").unwrap();
    let input = format!("data={}", dir.path().display());
    let (_, gate) = attack("dotdot", &["--input", &input]);
    assert_error(&gate, "plugin error (io)");
    assert_no_passwd(&gate);
}

#[test]
fn symlink_pointing_outside_an_input_is_not_followed() {
    let dir = temp_dir();
    std::os::unix::fs::symlink("/etc/passwd", dir.path().join("link")).unwrap();
    let input = format!("data={}", dir.path().display());
    let (_, gate) = attack("symlink", &["--input", &input]);
    assert_error(&gate, "plugin error (io)");
    assert_no_passwd(&gate);
}

#[test]
fn inputs_are_read_only() {
    let dir = temp_dir();
    let input = format!("data={}", dir.path().display());
    let (_, gate) = attack("write-input", &["--input", &input]);
    assert_error(&gate, "plugin error (io)");
    assert!(!dir.path().join("written-by-plugin").exists());
}

#[test]
fn a_plugin_importing_sockets_gets_every_socket_call_denied() {
    // CPython-based plugins import wasi:sockets, so the interfaces are linked,
    // but nothing may get through: a real listener on loopback (TCP and UDP on
    // the same port) must see no connection and no datagram.
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = tcp.local_addr().unwrap().port();
    let udp = std::net::UdpSocket::bind(("127.0.0.1", port)).unwrap();
    tcp.set_nonblocking(true).unwrap();
    udp.set_nonblocking(true).unwrap();
    let addr = format!("addr=127.0.0.1:{port}");
    let (code, json, _) = check_json(&guest("mlgate_hostile_net"), &["--set", &addr]);
    assert_eq!(code, 1, "{json:#}");
    let gate = &json["gates"][0];
    assert_error(gate, "plugin error (network)");
    let reason = gate["reason"].as_str().unwrap();
    for what in ["tcp:", "udp:", "dns:"] {
        assert!(reason.contains(what), "{what} not attempted: {reason}");
    }
    assert!(
        reason.contains("ermission denied") || reason.contains("ccess denied"),
        "{reason}"
    );
    let accepted = tcp.accept();
    assert!(
        matches!(&accepted, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the guest reached the TCP listener: {accepted:?}"
    );
    let mut buf = [0u8; 16];
    let received = udp.recv_from(&mut buf);
    assert!(
        matches!(&received, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the guest reached the UDP socket: {received:?}"
    );
}

#[test]
fn plugin_inspect_marks_socket_imports_denied() {
    let (code, stdout, stderr) = run(mlgate()
        .args(["plugin", "inspect", "--json"])
        .arg(guest("mlgate_hostile_net")));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let caps = doc["capabilities"].as_array().unwrap();
    let tcp = caps
        .iter()
        .find(|c| {
            c["import"]
                .as_str()
                .unwrap()
                .starts_with("wasi:sockets/tcp@")
        })
        .expect("imports wasi:sockets/tcp");
    assert_eq!(tcp["access"], "denied");
    assert!(caps.iter().any(|c| {
        c["import"]
            .as_str()
            .unwrap()
            .starts_with("wasi:filesystem/")
            && c["access"] == "granted"
    }));
}

#[test]
fn no_environment_and_no_args() {
    // The host has plenty of variables; the guest must see none.
    let (_, gate) = attack("env", &[]);
    assert_error(&gate, "no environment variables and no args");
}

#[test]
fn a_panic_is_an_error_with_its_message() {
    let (code, gate) = attack("panic", &[]);
    assert_eq!(code, 1);
    assert_error(&gate, "plugin panicked: hostile plugin panicked on purpose");
}

#[test]
fn shadow_stack_overflow_is_contained() {
    // Recursion with big locals exhausts Rust's stack in linear memory.
    let (_, gate) = attack("stack-overflow", &[]);
    assert_error(
        &gate,
        "out-of-bounds memory access (a bug or a stack overflow",
    );
}

#[test]
fn call_stack_overflow_is_contained() {
    let (_, gate) = attack("deep-recursion", &[]);
    assert_eq!(gate["reason"], "trapped: stack overflow");
}

#[test]
fn ten_million_findings_are_refused() {
    // Building them exhausts the guest's memory limit before the host sees them.
    let (_, gate) = attack("findings-flood", &["--memory", "256MiB"]);
    assert_error(&gate, "memory limit");
}

#[test]
fn more_findings_than_the_cap_is_a_malformed_result() {
    let (_, gate) = attack("findings-20k", &[]);
    assert_error(&gate, "returned 20000 findings, more than the cap of 10000");
}

#[test]
fn ten_million_log_lines_are_capped() {
    let (code, gate) = attack("log-flood", &[]);
    assert_eq!(code, 0, "{}", gate["reason"]);
    assert_eq!(gate["logs"].as_array().unwrap().len(), 1000);
    assert_eq!(gate["logs_dropped"], 10_000_000 - 1000);
}

#[test]
fn stdout_flood_is_capped_and_escapes_stripped() {
    let (code, gate) = attack("stdout-flood", &[]);
    assert_eq!(code, 0, "{}", gate["reason"]);
    let output = gate["output"].as_str().unwrap();
    assert!(output.chars().count() <= 64 * 1024 + 1, "{}", output.len());
    assert!(!output.contains('\u{1b}'));
    assert!(gate["logs_dropped"].as_u64().unwrap() > 100_000_000);
}

#[test]
fn terminal_escapes_never_reach_the_report_or_terminal() {
    let wasm = guest("mlgate_hostile");
    let mut cmd = mlgate();
    cmd.args([
        "check",
        &wasm,
        "--set",
        "attack=escape-codes",
        "--fail-on",
        "never",
    ]);
    let (code, stdout, stderr) = run(&mut cmd);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        !stdout.contains('\u{1b}') && !stderr.contains('\u{1b}'),
        "{stdout:?} {stderr:?}"
    );
    assert!(stdout.contains("red message"), "{stdout}");
}

#[test]
fn digest_of_a_path_outside_the_inputs_is_refused() {
    let (_, gate) = attack("digest-outside", &[]);
    assert_error(&gate, "not inside any input");
    assert_no_passwd(&gate);
}

#[test]
fn a_finding_without_rule_id_is_a_malformed_result() {
    let (_, gate) = attack("bad-severity-finding", &[]);
    assert_error(&gate, "malformed result: finding #1 has an empty rule id");
}

#[test]
fn a_core_module_is_not_a_component() {
    let dir = temp_dir();
    let path = dir.path().join("core.wasm");
    std::fs::write(&path, b"\0asm\x01\0\0\0").unwrap();
    let (code, json, _) = check_json(path.to_str().unwrap(), &["--quiet"]);
    assert_eq!(code, 1);
    assert_error(
        &json["gates"][0],
        "not a WebAssembly component (a core WebAssembly module)",
    );
}

#[test]
fn a_component_for_another_wit_version_is_refused() {
    let (code, json, _) = check_json(&guest("mlgate_wit_v2"), &["--quiet"]);
    assert_eq!(code, 1);
    assert_error(
        &json["gates"][0],
        "built for mlgate:gate@0.2.0, but this mlgate supports mlgate:gate@0.1.0",
    );
}

#[test]
fn a_second_run_loads_the_compiled_component_from_the_cache() {
    let cache = temp_dir();
    let wasm = guest("mlgate_hostile");
    let run_once = || {
        let mut cmd = mlgate();
        cmd.env("MLGATE_CACHE_DIR", cache.path()).args([
            "check",
            &wasm,
            "--set",
            "attack=none",
            "--format",
            "json",
            "--quiet",
        ]);
        let (code, stdout, stderr) = run(&mut cmd);
        assert_eq!(code, 0, "{stderr}");
        let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        report["gates"][0]["cached"].as_bool().unwrap()
    };
    assert!(!run_once(), "an empty cache cannot hit");
    assert!(run_once(), "the second run must not recompile");
    let entries: Vec<_> = std::fs::read_dir(cache.path()).unwrap().collect();
    assert_eq!(
        entries.len(),
        1,
        "one .cwasm keyed by sha256 and engine hash"
    );
}
