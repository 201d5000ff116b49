//! `data-poisoning`: the training-stage data gate. Finds rows an attacker
//! slipped into a training set (label flips, outliers, backdoor triggers,
//! conflicting duplicates) and dataset-level tampering (checksum, schema,
//! class shift, feature drift) before a model is trained.
//!
//! This file is glue: the analysis lives in the modules below, each unit
//! tested natively.

pub mod checks;
pub mod config;
pub mod load;
pub mod manifest;
pub mod stats;
pub mod table;
