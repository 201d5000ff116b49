//! `data-poisoning`: the training-stage data gate. Finds rows an attacker
//! slipped into a training set (label flips, outliers, backdoor triggers,
//! conflicting duplicates) and dataset-level tampering (checksum, schema,
//! class shift, feature drift) before a model is trained.
//!
//! This file is glue: the analysis lives in the modules below, each unit
//! tested natively; [`gate::run`] ties them together.

pub mod backdoor;
pub mod checks;
pub mod confident;
pub mod config;
pub mod detect;
pub mod duplicates;
pub mod features;
#[cfg(test)]
mod fixture_tests;
pub mod gate;
pub mod knn;
pub mod load;
pub mod manifest;
pub mod outliers;
pub mod pq_guard;
pub mod pq_load;
pub mod pq_pad;
pub mod pq_pages;
#[cfg(test)]
mod pq_tests;
pub mod pq_zstd;
pub mod softmax;
pub mod stats;
pub mod table;

use mlgate_plugin_sdk::{Gate, GateError, GateResult, PluginInfo, Request, Severity};

/// The `data-poisoning` gate.
pub struct DataPoisoning;

impl Gate for DataPoisoning {
    fn describe() -> PluginInfo {
        let fix_rows = "Inspect the named rows (properties.row is the 0-based data row, header \
                        excluded) against their source; drop or relabel poisoned rows, or \
                        suppress the fingerprint if the row is genuine.";
        PluginInfo::new(
            "data-poisoning",
            env!("CARGO_PKG_VERSION"),
            "Finds poisoned training rows (label flips, outliers, backdoor triggers, conflicting \
             duplicates) and dataset tampering (checksum, schema drift, class shift, feature drift)",
        )
        .input("dataset", "Training data: CSV with a header row, or JSON Lines", true)
        .input("baseline", "A trusted earlier version of the same dataset", false)
        .input("manifest", "SHA-256 manifest (sha256sum format or JSON) naming the dataset", false)
        .rule("label-flip", Severity::Medium, "A row's label disagrees with confident out-of-sample predictions (confident learning)", fix_rows)
        .rule("outlier", Severity::Medium, "A row lies far outside the data (robust z-score or ECOD)", fix_rows)
        .rule("backdoor-trigger", Severity::Medium, "A row carries a rare feature pattern tied to one label whose rows look like another class without it", fix_rows)
        .rule("duplicate-conflict", Severity::Medium, "A row copies another row's features with a different label", fix_rows)
        .rule("flagged-fraction-exceeded", Severity::High, "More rows of one poisoning kind were flagged than `max_flagged_fraction` allows", "Find where the flagged rows came from; fix the data source, or raise the ceiling if the data is known to be noisy.")
        .rule("checksum-mismatch", Severity::Critical, "The dataset's SHA-256 differs from the manifest", "Restore the dataset from its trusted source or regenerate the manifest from a reviewed copy.")
        .rule("checksum-missing", Severity::High, "The manifest has no SHA-256 for the dataset", "Add the dataset's `sha256sum` line to the manifest.")
        .rule("class-shift", Severity::High, "The class distribution moved from the baseline (significant and large)", "Check where new rows of the growing class came from; update the baseline if the change is intended.")
        .rule("schema-drift-added", Severity::Medium, "A column not in the baseline", "Confirm the new column is intended, then update the baseline.")
        .rule("schema-drift-dropped", Severity::High, "A baseline column is missing", "Restore the column or update the baseline.")
        .rule("schema-drift-renamed", Severity::Medium, "A column looks renamed", "Confirm the rename and update the baseline.")
        .rule("schema-drift-type", Severity::High, "A column changed type (numeric/categorical)", "Find the rows with non-numeric values in the column and fix them.")
        .rule("schema-drift-null-rate", Severity::High, "A column has many more missing or invalid values than the baseline", "Find what blanked or corrupted the column's values.")
        .rule("feature-drift", Severity::Medium, "A feature's distribution moved from the baseline (PSI)", "Check the feature's source; update the baseline if the shift is real.")
        .rule("malformed-rows", Severity::Medium, "Rows with a field count different from the header", "Fix the writer that produced the file; quote fields containing the delimiter.")
        .rule("non-finite-values", Severity::Low, "NaN or infinite values", "Impute or drop them before training.")
        .rule("dataset-empty", Severity::High, "The dataset has no header or no bytes", "Point the gate at the real dataset.")
        .rule("dataset-unreadable", Severity::High, "The dataset cannot be parsed", "Re-export the dataset as CSV with a header row or JSON Lines.")
        .rule("missing-label-column", Severity::High, "The label column is not in the header", "Set `label_column` to the name of the label column.")
        .rule("too-many-classes", Severity::High, "The label column has more distinct values than `max_classes`", "Set `label_column` to the class label or raise `max_classes`.")
        .config_schema(config::SCHEMA)
    }

    fn run(request: &Request) -> Result<GateResult, GateError> {
        gate::run(request)
    }
}

mlgate_plugin_sdk::export_gate!(DataPoisoning);
