//! The gate run: load the dataset (and baseline), run the dataset checks and
//! the row detectors, and turn everything into findings, a summary and
//! metrics. Dataset-level failures and kinds over their ceiling are `high`
//! (the default policy fails the gate); each flagged row is `medium`.

use std::collections::BTreeMap;
use std::path::Path;

use mlgate_plugin_sdk::{Finding, GateError, GateResult, Request, Severity};

use crate::checks::{self, Issue};
use crate::config::Config;
use crate::detect::{self, PoisonKind};
use crate::features::FeatureError;
use crate::load::{self, LoadError};
use crate::manifest::{self, Provenance};
use crate::table::Table;

/// Most row findings reported (the host caps a gate at 10 000).
pub const MAX_ROW_FINDINGS: usize = 9000;

fn issue_finding(issue: Issue, path: &str) -> Finding {
    let mut f = Finding::new(issue.rule, issue.severity, issue.message)
        .at(path, None)
        .fingerprint(&[issue.rule, path, &issue.key]);
    f.properties = issue.properties;
    f
}

fn load_table(path: &Path, cfg: &Config) -> Result<Table, LoadError> {
    let format = load::format_of(path, cfg.format.as_deref())?;
    load::load(path, format, &cfg.label_column, cfg.max_rows)
}

fn dataset_error(rule: &'static str, path: &str, message: String) -> Finding {
    Finding::new(rule, Severity::High, message)
        .at(path, None)
        .fingerprint(&[rule, path])
}

/// Run the gate for `request`.
pub fn run(request: &Request) -> Result<GateResult, GateError> {
    let cfg: Config = request.config()?;
    cfg.validate().map_err(GateError::config)?;
    let dataset = request.require_input("dataset")?;
    let path = dataset.to_string_lossy().into_owned();
    let mut findings = Vec::new();

    if let Some(m) = request.input("manifest") {
        match manifest::check(dataset, m).map_err(GateError::input)? {
            Provenance::Match(_) => {}
            Provenance::Mismatch(expected, actual) => findings.push(
                dataset_error(
                    "checksum-mismatch",
                    &path,
                    format!("dataset SHA-256 {actual} differs from the manifest's {expected}"),
                )
                .property("expected_sha256", expected)
                .property("sha256", actual)
                .severity_critical(),
            ),
            Provenance::NoEntry => findings.push(dataset_error(
                "checksum-missing",
                &path,
                "the manifest has no SHA-256 for this dataset".into(),
            )),
        }
    }

    let started = std::time::Instant::now();
    let mut timings: Vec<(&'static str, f64)> = Vec::new();
    let table = match load_table(dataset, &cfg) {
        Ok(t) => t,
        Err(LoadError::Empty) => {
            findings.push(dataset_error(
                "dataset-empty",
                &path,
                LoadError::Empty.to_string(),
            ));
            return Ok(GateResult::from_findings(findings, "dataset is empty"));
        }
        Err(LoadError::Unsupported(m)) => return Err(GateError::config(m)),
        Err(LoadError::Unreadable(m)) => {
            findings.push(dataset_error("dataset-unreadable", &path, m.clone()));
            return Ok(GateResult::from_findings(
                findings,
                format!("dataset unreadable: {m}"),
            ));
        }
    };
    if table.ragged_count > 0 {
        let first: Vec<String> = table
            .ragged_rows
            .iter()
            .take(10)
            .map(|r| r.to_string())
            .collect();
        findings.push(
            Finding::new(
                "malformed-rows",
                Severity::Medium,
                format!(
                    "{} rows have a different number of fields than the header (first: {})",
                    table.ragged_count,
                    first.join(", ")
                ),
            )
            .at(&path, None)
            .fingerprint(&["malformed-rows", &path])
            .property("count", table.ragged_count.to_string()),
        );
    }
    for c in table.columns.iter().filter(|c| c.non_finite > 0) {
        findings.push(
            Finding::new(
                "non-finite-values",
                Severity::Low,
                format!(
                    "column `{}` has {} NaN/inf values (treated as missing)",
                    c.name, c.non_finite
                ),
            )
            .at(&path, None)
            .fingerprint(&["non-finite-values", &path, &c.name])
            .property("column", c.name.clone()),
        );
    }

    if let Some(b) = request.input("baseline") {
        let base = load_table(b, &cfg)
            .map_err(|e| GateError::input(format!("baseline {}: {e}", b.display())))?;
        findings.extend(
            checks::schema(&table, &base, &cfg)
                .into_iter()
                .map(|i| issue_finding(i, &path)),
        );
        if let (Some(l), Some(bl)) = (
            table.column(&cfg.label_column),
            base.column(&cfg.label_column),
        ) && let Some(i) = checks::class_shift(l, bl, &cfg)
        {
            findings.push(issue_finding(i, &path));
        }
        if cfg.drift.enabled {
            findings.extend(
                checks::drift(&table, &base, &cfg)
                    .into_iter()
                    .map(|i| issue_finding(i, &path)),
            );
        }
    }

    timings.push(("load", started.elapsed().as_secs_f64()));
    let mut counts: BTreeMap<PoisonKind, usize> = BTreeMap::new();
    match detect::detect(&table, &cfg) {
        Err(FeatureError::NoLabelColumn(l)) => findings.push(dataset_error(
            "missing-label-column",
            &path,
            format!("label column `{l}` is not in the header (set `label_column`)"),
        )),
        Err(FeatureError::TooManyClasses(k)) => findings.push(dataset_error(
            "too-many-classes",
            &path,
            format!(
                "label column `{}` has {k} distinct values (max_classes {}): not a classification label",
                cfg.label_column, cfg.max_classes
            ),
        )),
        Ok(det) => {
            timings.extend(det.timings.iter().copied());
            for flag in &det.flags {
                *counts.entry(flag.kind).or_default() += 1;
            }
            let mut flags = det.flags;
            flags.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.row.cmp(&b.row)));
            for flag in flags.into_iter().take(MAX_ROW_FINDINGS) {
                let hash = format!("{:016x}", det.row_hashes[flag.row]);
                let mut f = Finding::new(flag.kind.rule(), Severity::Medium, flag.message)
                    .at(&path, None)
                    .fingerprint(&[flag.kind.rule(), &path, &hash])
                    .property("row", flag.row.to_string())
                    .property("kind", flag.kind.as_str())
                    .property("score", format!("{:.4}", flag.score));
                f.properties.extend(flag.evidence);
                findings.push(f);
            }
        }
    }
    let n = table.rows.max(1) as f64;
    let ceilings = &cfg.max_flagged_fraction;
    for (kind, &count) in &counts {
        let ceiling = match kind {
            PoisonKind::LabelFlip => ceilings.label_flip,
            PoisonKind::Outlier => ceilings.outlier,
            PoisonKind::Backdoor => ceilings.backdoor,
            PoisonKind::DuplicateConflict => ceilings.duplicate_conflict,
        };
        let frac = count as f64 / n;
        if frac > ceiling {
            findings.push(
                Finding::new(
                    "flagged-fraction-exceeded",
                    Severity::High,
                    format!(
                        "{count} rows ({:.2}%) flagged as {}: above the ceiling of {:.2}%",
                        frac * 100.0,
                        kind.as_str(),
                        ceiling * 100.0
                    ),
                )
                .at(&path, None)
                .fingerprint(&["flagged-fraction-exceeded", &path, kind.as_str()])
                .property("kind", kind.as_str())
                .property("count", count.to_string())
                .property("fraction", format!("{frac:.5}")),
            );
        }
    }
    let per_kind: Vec<String> = PoisonKind::ALL
        .iter()
        .map(|k| format!("{} {}", counts.get(k).copied().unwrap_or(0), k.as_str()))
        .collect();
    let summary = format!(
        "{} rows x {} columns: flagged {}",
        table.rows,
        table.columns.len(),
        per_kind.join(", ")
    );
    let mut result = GateResult::from_findings(findings, summary)
        .metric("rows", table.rows as f64)
        .metric("columns", table.columns.len() as f64);
    // Wall seconds per phase (load includes the dataset checks).
    for (phase, secs) in timings {
        result = result.metric(format!("seconds_{phase}"), secs);
    }
    for k in PoisonKind::ALL {
        result = result.metric(
            format!("flagged_{}", k.as_str()),
            counts.get(&k).copied().unwrap_or(0) as f64,
        );
    }
    Ok(result)
}

trait Critical {
    fn severity_critical(self) -> Self;
}

impl Critical for Finding {
    fn severity_critical(mut self) -> Self {
        self.severity = Severity::Critical;
        self
    }
}
