//! A test plugin that opens a TCP socket. Because it uses `std::net`, the
//! component imports `wasi:sockets/*`, which mlgate refuses at load time.

use mlgate_plugin_sdk::{Finding, Gate, GateError, GateResult, PluginInfo, Request, Severity};

struct HostileNet;

impl Gate for HostileNet {
    fn describe() -> PluginInfo {
        PluginInfo::new("hostile-net", "0.1.0", "Opens a TCP socket")
    }

    fn run(_request: &Request) -> Result<GateResult, GateError> {
        let stream = std::net::TcpStream::connect("127.0.0.1:9")
            .map_err(|e| GateError::new("network", format!("connect: {e}")))?;
        let finding = Finding::new("sandbox-escape", Severity::Critical, format!("{stream:?}"));
        Ok(GateResult::from_findings(vec![finding], "ESCAPED"))
    }
}

mlgate_plugin_sdk::export_gate!(HostileNet);
