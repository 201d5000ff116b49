//! End-to-end tests: the built `mlgate` binary, real plugins, real fixtures.
//! One test binary, modules by theme (ripgrep's layout).

#![allow(dead_code)]

mod advisories;
mod custom_plugins;
mod harness;
mod integrations;
mod outside_tools;
mod pipeline;
mod plugin_data_poisoning;
mod plugin_ml_code;
mod plugin_model_scan;
mod plugin_pip_audit;
mod plugin_provenance;
mod plugin_secrets;
mod plugin_signature;
mod precommit;
mod sandbox;
