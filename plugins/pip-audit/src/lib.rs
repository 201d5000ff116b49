//! `builtin:pip-audit`: an offline OSV audit of Python lockfiles, ingest of
//! pip-audit JSON reports, and lockfile hygiene, as an mlgate gate.
//!
//! This file is the glue to the WIT world; the work is in the modules:
//! [`lock`] (five lock formats), [`markers`] (PEP 508 markers against a
//! target environment), [`osv`] (database and matcher), [`vulns`]
//! (merging, ignores, findings), [`hygiene`], [`report`], [`cvss`].

pub mod config;
pub mod cvss;
pub mod dates;
pub mod gate;
pub mod hygiene;
pub mod lock;
pub mod markers;
pub mod names;
pub mod osv;
pub mod report;
pub mod vulns;

use mlgate_plugin_sdk::{Gate, GateError, GateResult, PluginInfo, Request};

/// The gate type exported to the host.
pub struct PipAudit;

impl Gate for PipAudit {
    fn describe() -> PluginInfo {
        gate::describe()
    }

    fn run(request: &Request) -> Result<GateResult, GateError> {
        gate::run(request)
    }
}

mlgate_plugin_sdk::export_gate!(PipAudit);
