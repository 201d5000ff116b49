//! mlgate: runs ML-pipeline security gates as sandboxed WebAssembly
//! components. The binary (`main.rs`) is glue over this library:
//!
//! - [`pipeline`] parses and validates YAML into a [`model::Pipeline`] with
//!   located errors ([`diagnostic`]); [`graph`] orders it as a DAG.
//! - [`plugins`] resolves and admits components; [`engine`] compiles and
//!   caches them; [`sandbox`] runs one gate in a wasmtime store;
//!   [`runtime`] ties those together.
//! - [`scheduler`] runs the selected gates in parallel; [`policy`] holds
//!   suppressions; [`report`] renders the result; [`cli`] is the command line.

pub mod advisories;
pub mod cli;
pub mod diagnostic;
pub mod digest;
pub mod engine;
pub mod export;
pub mod git;
pub mod graph;
pub mod manifest;
pub mod model;
pub mod narrow;
pub mod pipeline;
pub mod plugins;
pub mod policy;
pub mod report;
pub mod runtime;
pub mod sandbox;
pub mod sanitize;
pub mod scheduler;
pub mod tickets;
