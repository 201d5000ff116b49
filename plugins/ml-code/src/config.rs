//! The gate's `with:` config (allowlist, size bound) and the baseline file
//! of accepted findings, in the same shape as the `secrets` gate's. Both
//! only ever remove findings; neither can add.
//!
//! The config shape is the SDK's shared one (`mlgate_plugin_sdk::allowlist`).

use mlgate_plugin_sdk::GateError;
pub use mlgate_plugin_sdk::allowlist::{Config, SCHEMA};

/// Default largest file scanned (bytes); bigger ones get an info finding.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// The config in the form the scan uses.
pub type Filters = mlgate_plugin_sdk::allowlist::Filters;

/// Compile the config with this gate's default size bound.
pub fn filters(config: Config, baseline: Option<&str>) -> Result<Filters, GateError> {
    Filters::new(config, baseline, DEFAULT_MAX_FILE_BYTES)
}
