//! A test plugin that tries the network every way `std::net` offers: a TCP
//! connect to the address in its config (`{"addr": "127.0.0.1:PORT"}`), a
//! UDP bind and send, and a name lookup. Because it uses `std::net`, the
//! component imports `wasi:sockets/*`, which mlgate links *denied*: each
//! attempt must fail, and the gate reports the errors it got.

use std::net::{TcpStream, ToSocketAddrs, UdpSocket};

use mlgate_plugin_sdk::{Finding, Gate, GateError, GateResult, PluginInfo, Request, Severity};

struct HostileNet;

impl Gate for HostileNet {
    fn describe() -> PluginInfo {
        PluginInfo::new("hostile-net", "0.1.0", "Tries to open sockets")
    }

    fn run(request: &Request) -> Result<GateResult, GateError> {
        let config: serde_json::Value = request.config()?;
        let addr = config["addr"].as_str().unwrap_or("127.0.0.1:9").to_string();
        let mut escaped = Vec::new();
        let mut denied = Vec::new();
        match TcpStream::connect(&addr) {
            Ok(stream) => escaped.push(format!("tcp connect {addr}: {stream:?}")),
            Err(e) => denied.push(format!("tcp: {e}")),
        }
        match UdpSocket::bind("0.0.0.0:0").and_then(|s| s.send_to(b"x", &addr)) {
            Ok(n) => escaped.push(format!("udp sent {n} bytes to {addr}")),
            Err(e) => denied.push(format!("udp: {e}")),
        }
        match "localhost:80".to_socket_addrs() {
            Ok(addrs) => escaped.push(format!("dns: {:?}", addrs.collect::<Vec<_>>())),
            Err(e) => denied.push(format!("dns: {e}")),
        }
        if escaped.is_empty() {
            return Err(GateError::new("network", denied.join("; ")));
        }
        let findings = escaped
            .into_iter()
            .map(|e| Finding::new("sandbox-escape", Severity::Critical, e))
            .collect();
        Ok(GateResult::from_findings(findings, "ESCAPED"))
    }
}

mlgate_plugin_sdk::export_gate!(HostileNet);
