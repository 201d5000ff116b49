//! End-to-end tests: the built `mlgate` binary, real plugins, real fixtures.
//! One test binary, modules by theme (ripgrep's layout).

#![allow(dead_code)]

mod harness;
mod plugin_provenance;
mod plugin_signature;
