//! Guest-side SDK for mlgate gate plugins.
//!
//! A plugin is its analysis plus a few lines of glue: implement [`Gate`] for a
//! type and call [`export_gate!`]. The SDK turns the WIT request into a
//! [`Request`] (typed config, inputs by name), gives builders for
//! [`Finding`]s with stable fingerprints, and wraps the host imports
//! ([`host::log`], [`host::progress`], [`host::digest`]).
//!
//! On a native target (plugin unit tests) the host imports fall back to native
//! stand-ins: `log` prints to stderr, `progress` does nothing, `digest` hashes
//! the file directly. So a plugin's analysis modules test with plain
//! `cargo test`, and the same code runs in the sandbox.
//!
//! ```no_run
//! use mlgate_plugin_sdk::{Finding, Gate, GateError, GateResult, PluginInfo, Request, Severity};
//!
//! struct Hello;
//!
//! impl Gate for Hello {
//!     fn describe() -> PluginInfo {
//!         PluginInfo::new("hello", "0.1.0", "Says hello to each input")
//!     }
//!     fn run(request: &Request) -> Result<GateResult, GateError> {
//!         let path = request.require_input("paths")?;
//!         let finding = Finding::new("hello", Severity::Info, "hello")
//!             .at(path.to_string_lossy(), None);
//!         Ok(GateResult::from_findings(vec![finding], "said hello"))
//!     }
//! }
//!
//! mlgate_plugin_sdk::export_gate!(Hello);
//! ```

#[cfg(feature = "allowlist")]
pub mod allowlist;
pub mod host;
pub mod notebook;
mod request;
mod types;
pub mod walk;

pub use request::{Input, Request};
pub use types::{fingerprint_of, sort_findings};

/// The bindings generated from `wit/gate.wit`. Plugins rarely need these
/// directly: the SDK re-exports the types and the [`export_gate!`] macro does
/// the wiring.
#[allow(missing_docs, clippy::all)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "gate",
        path: "../../wit",
        pub_export_macro: true,
        export_macro_name: "__export_gate_world",
        default_bindings_module: "mlgate_plugin_sdk::bindings",
    });
}

pub use bindings::mlgate::gate::host::{ByteRange, DigestAlgorithm, LogLevel};
pub use bindings::mlgate::gate::types::{
    Finding, GateError, GateResult, InputSpec, Location, Metric, PluginInfo, Rule, RunContext,
    RunRequest, Severity,
};

/// What a plugin implements. `describe` is static metadata; `run` does the
/// work for one gate invocation.
pub trait Gate {
    /// Name, version, rules, inputs and config schema of the plugin.
    fn describe() -> PluginInfo;
    /// Run the gate on one request.
    fn run(request: &Request) -> Result<GateResult, GateError>;
}

/// Adapter used by [`export_gate!`]: parses the WIT request and calls the gate.
#[doc(hidden)]
pub fn __run<G: Gate>(raw: RunRequest) -> Result<GateResult, GateError> {
    let request = Request::from_wit(raw)?;
    G::run(&request)
}

/// Export a [`Gate`] implementation as the component's `describe` and `run`.
#[macro_export]
macro_rules! export_gate {
    ($gate:ty) => {
        #[doc(hidden)]
        pub struct __MlgateGuest;
        impl $crate::bindings::Guest for __MlgateGuest {
            fn describe() -> $crate::PluginInfo {
                <$gate as $crate::Gate>::describe()
            }
            fn run(
                request: $crate::RunRequest,
            ) -> ::core::result::Result<$crate::GateResult, $crate::GateError> {
                $crate::__run::<$gate>(request)
            }
        }
        $crate::bindings::__export_gate_world!(__MlgateGuest with_types_in $crate::bindings);
    };
}
