//! Dataset-level checks against a trusted baseline: schema drift (columns
//! added, dropped, renamed, retyped, null-rate jumps), class-distribution
//! shift (chi-square significance AND total-variation effect size, so a big
//! dataset does not fail on trivia and a small one still catches a real
//! shift) and per-feature drift (population stability index).

use std::collections::HashMap;

use mlgate_plugin_sdk::Severity;

use crate::config::Config;
use crate::stats::{chi2_sf, quantile_sorted};
use crate::table::{Column, Kind, Table};

/// A dataset-level problem.
#[derive(Debug, Clone)]
pub struct Issue {
    /// Rule id (contains `schema-drift`, `class-shift`, ...).
    pub rule: &'static str,
    /// Severity.
    pub severity: Severity,
    /// Message for people.
    pub message: String,
    /// The stable thing it is about (column, label) for the fingerprint.
    pub key: String,
    /// Evidence.
    pub properties: Vec<(String, String)>,
}

impl Issue {
    fn new(rule: &'static str, severity: Severity, key: &str, message: String) -> Self {
        Issue {
            rule,
            severity,
            message,
            key: key.to_string(),
            properties: Vec::new(),
        }
    }

    fn prop(mut self, k: &str, v: impl ToString) -> Self {
        self.properties.push((k.to_string(), v.to_string()));
        self
    }
}

/// Counts per label text.
pub fn class_counts(label: &Column) -> HashMap<String, u64> {
    let mut counts: HashMap<String, u64> = HashMap::new();
    for row in 0..label.values.len() {
        let t = label.text(row);
        if !t.is_empty() {
            *counts.entry(t).or_default() += 1;
        }
    }
    counts
}

/// Mean and standard deviation of finite values.
fn moments(c: &Column) -> (f64, f64, usize) {
    let (mut n, mut s, mut s2) = (0usize, 0.0, 0.0);
    for &v in c.values.iter().filter(|v| v.is_finite()) {
        n += 1;
        s += v;
        s2 += v * v;
    }
    if n == 0 {
        return (0.0, 0.0, 0);
    }
    let m = s / n as f64;
    (m, (s2 / n as f64 - m * m).max(0.0).sqrt(), n)
}

/// Whether two columns look like the same data under different names.
fn same_data(a: &Column, b: &Column) -> bool {
    if a.kind != b.kind {
        return false;
    }
    match a.kind {
        Kind::Numeric => {
            let (ma, sa, _) = moments(a);
            let (mb, sb, _) = moments(b);
            let scale = sa.max(sb).max(1e-9);
            (ma - mb).abs() < 0.1 * scale && (sa - sb).abs() < 0.1 * scale
        }
        _ => {
            let da: std::collections::HashSet<_> = a.dictionary.iter().collect();
            let db: std::collections::HashSet<_> = b.dictionary.iter().collect();
            let inter = da.intersection(&db).count();
            inter * 10 >= 8 * da.len().max(db.len()).max(1)
        }
    }
}

/// Compare the schema of `data` with `base`.
pub fn schema(data: &Table, base: &Table, cfg: &Config) -> Vec<Issue> {
    let mut out = Vec::new();
    let added: Vec<&Column> = data
        .columns
        .iter()
        .filter(|c| base.column(&c.name).is_none())
        .collect();
    let mut dropped: Vec<&Column> = base
        .columns
        .iter()
        .filter(|c| data.column(&c.name).is_none())
        .collect();
    for a in added {
        if let Some(i) = dropped.iter().position(|d| same_data(a, d)) {
            let d = dropped.remove(i);
            out.push(
                Issue::new(
                    "schema-drift-renamed",
                    Severity::Medium,
                    &a.name,
                    format!("column `{}` looks renamed to `{}`", d.name, a.name),
                )
                .prop("column", &a.name)
                .prop("baseline_column", &d.name),
            );
        } else {
            out.push(
                Issue::new(
                    "schema-drift-added",
                    Severity::Medium,
                    &a.name,
                    format!(
                        "column `{}` ({}) is not in the baseline",
                        a.name,
                        a.kind.as_str()
                    ),
                )
                .prop("column", &a.name),
            );
        }
    }
    for d in dropped {
        out.push(
            Issue::new(
                "schema-drift-dropped",
                Severity::High,
                &d.name,
                format!("baseline column `{}` is missing", d.name),
            )
            .prop("column", &d.name),
        );
    }
    for c in &data.columns {
        let Some(b) = base.column(&c.name) else {
            continue;
        };
        if c.kind != b.kind && c.kind != Kind::Empty && b.kind != Kind::Empty {
            out.push(
                Issue::new(
                    "schema-drift-type",
                    Severity::High,
                    &c.name,
                    format!(
                        "column `{}` changed from {} to {}",
                        c.name,
                        b.kind.as_str(),
                        c.kind.as_str()
                    ),
                )
                .prop("column", &c.name)
                .prop("baseline_kind", b.kind.as_str())
                .prop("kind", c.kind.as_str()),
            );
        }
        let (rn, rb) = (c.null_rate(), b.null_rate());
        if rn - rb > cfg.max_null_rate_increase {
            out.push(
                Issue::new(
                    "schema-drift-null-rate",
                    Severity::High,
                    &c.name,
                    format!(
                        "column `{}` is {:.1}% missing/invalid (baseline {:.1}%)",
                        c.name,
                        rn * 100.0,
                        rb * 100.0
                    ),
                )
                .prop("column", &c.name)
                .prop("null_rate", format!("{rn:.4}"))
                .prop("baseline_null_rate", format!("{rb:.4}")),
            );
        }
    }
    out
}

/// Class-distribution shift of `data` vs `base` (label column of each).
pub fn class_shift(data: &Column, base: &Column, cfg: &Config) -> Option<Issue> {
    let a = class_counts(data);
    let b = class_counts(base);
    let mut labels: Vec<&String> = a.keys().chain(b.keys()).collect();
    labels.sort();
    labels.dedup();
    let na: u64 = a.values().sum();
    let nb: u64 = b.values().sum();
    if labels.len() < 2 || na == 0 || nb == 0 {
        return None;
    }
    let n = (na + nb) as f64;
    let (mut chi2, mut tv) = (0.0, 0.0);
    let mut worst = (0.0f64, String::new());
    for l in &labels {
        let (oa, ob) = (
            *a.get(*l).unwrap_or(&0) as f64,
            *b.get(*l).unwrap_or(&0) as f64,
        );
        let total = oa + ob;
        let (ea, eb) = (total * na as f64 / n, total * nb as f64 / n);
        chi2 += (oa - ea).powi(2) / ea + (ob - eb).powi(2) / eb;
        let d = oa / na as f64 - ob / nb as f64;
        tv += d.abs() / 2.0;
        if d > worst.0 {
            worst = (d, l.to_string());
        }
    }
    let df = (labels.len() - 1) as f64;
    let p = chi2_sf(chi2, df);
    let cramers_v = (chi2 / n).sqrt();
    if p >= cfg.class_shift.alpha || tv < cfg.class_shift.min_effect {
        return None;
    }
    Some(
        Issue::new(
            "class-shift",
            Severity::High,
            "label",
            format!(
                "class distribution shifted from the baseline: total variation {tv:.3}, \
                 Cramér's V {cramers_v:.3}, chi-square {chi2:.1} (df {df}, p = {p:.2e}); \
                 class `{}` grew by {:.1} points",
                worst.1,
                worst.0 * 100.0
            ),
        )
        .prop("total_variation", format!("{tv:.4}"))
        .prop("cramers_v", format!("{cramers_v:.4}"))
        .prop("chi2", format!("{chi2:.3}"))
        .prop("p_value", format!("{p:.3e}"))
        .prop("class", worst.1),
    )
}

/// Population stability index of numeric `data` vs `base` on the baseline's
/// deciles; `None` when either side has too few values.
pub fn psi(data: &[f64], base: &[f64]) -> Option<f64> {
    let mut b: Vec<f64> = base.iter().copied().filter(|v| v.is_finite()).collect();
    let d: Vec<f64> = data.iter().copied().filter(|v| v.is_finite()).collect();
    if b.len() < 20 || d.len() < 20 {
        return None;
    }
    b.sort_by(f64::total_cmp);
    let mut edges: Vec<f64> = (1..10)
        .map(|i| quantile_sorted(&b, i as f64 / 10.0))
        .collect();
    edges.dedup();
    let hist = |xs: &[f64]| {
        let mut h = vec![0.0; edges.len() + 1];
        for &x in xs {
            h[edges.partition_point(|&e| e < x)] += 1.0;
        }
        let n = xs.len() as f64;
        h.iter().map(|c| (c / n).max(1e-4)).collect::<Vec<f64>>()
    };
    let (hb, hd) = (hist(&b), hist(&d));
    Some(
        hb.iter()
            .zip(&hd)
            .map(|(e, a)| (a - e) * (a / e).ln())
            .sum(),
    )
}

/// Drifted numeric features (PSI above the threshold).
pub fn drift(data: &Table, base: &Table, cfg: &Config) -> Vec<Issue> {
    let mut out = Vec::new();
    for c in data.columns.iter().filter(|c| c.kind == Kind::Numeric) {
        if c.name == cfg.label_column || cfg.ignore_columns.contains(&c.name) {
            continue;
        }
        let Some(b) = base.column(&c.name).filter(|b| b.kind == Kind::Numeric) else {
            continue;
        };
        if let Some(v) = psi(&c.values, &b.values)
            && v > cfg.drift.psi
        {
            out.push(
                Issue::new(
                    "feature-drift",
                    Severity::Medium,
                    &c.name,
                    format!(
                        "feature `{}` drifted from the baseline (PSI {v:.3} > {})",
                        c.name, cfg.drift.psi
                    ),
                )
                .prop("column", &c.name)
                .prop("psi", format!("{v:.4}")),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::TableBuilder;

    fn table(names: &[&str], rows: &[Vec<String>]) -> Table {
        let mut b = TableBuilder::new(names.iter().map(|s| s.to_string()).collect(), Some("label"));
        for r in rows {
            for (i, c) in r.iter().enumerate() {
                b.push_cell(i, c.as_bytes());
            }
            b.end_row();
        }
        b.finish()
    }

    fn labels(counts: &[(&str, usize)]) -> Table {
        let rows: Vec<Vec<String>> = counts
            .iter()
            .flat_map(|(l, n)| std::iter::repeat_n(vec![l.to_string()], *n))
            .collect();
        table(&["label"], &rows)
    }

    #[test]
    fn class_shift_needs_significance_and_effect() {
        let cfg = Config::default();
        let base = labels(&[("a", 50_000), ("b", 50_000)]);
        // Tiny effect on a huge set: significant but trivial, so no finding.
        let trivial = labels(&[("a", 51_000), ("b", 49_000)]);
        assert!(class_shift(&trivial.columns[0], &base.columns[0], &cfg).is_none());
        // Small set with a real shift: found.
        let small_base = labels(&[("a", 100), ("b", 100)]);
        let shifted = labels(&[("a", 140), ("b", 60)]);
        let issue = class_shift(&shifted.columns[0], &small_base.columns[0], &cfg).unwrap();
        assert_eq!(issue.rule, "class-shift");
        assert!(issue.message.contains("class `a`"), "{}", issue.message);
        // Small set, small shift: not significant.
        let meh = labels(&[("a", 108), ("b", 92)]);
        assert!(class_shift(&meh.columns[0], &small_base.columns[0], &cfg).is_none());
    }

    #[test]
    fn schema_changes_are_named() {
        let rows = |f: &dyn Fn(usize) -> Vec<String>| (0..50).map(f).collect::<Vec<_>>();
        let base = table(
            &["x", "y", "gone", "label"],
            &rows(&|i| vec![i.to_string(), (i * 2).to_string(), "k".into(), "a".into()]),
        );
        let data = table(
            &["x2", "y", "new", "label"],
            &rows(&|i| {
                let y = if i % 4 == 0 {
                    "".into()
                } else {
                    format!("v{i}")
                };
                vec![i.to_string(), y, "1".into(), "a".into()]
            }),
        );
        let issues = schema(&data, &base, &Config::default());
        let rules: Vec<_> = issues.iter().map(|i| i.rule).collect();
        assert!(rules.contains(&"schema-drift-renamed"), "{rules:?}");
        assert!(rules.contains(&"schema-drift-added"));
        assert!(rules.contains(&"schema-drift-dropped"));
        assert!(rules.contains(&"schema-drift-type"));
        assert!(rules.contains(&"schema-drift-null-rate"));
        let same = schema(&base, &base, &Config::default());
        assert!(same.is_empty());
    }

    #[test]
    fn psi_flags_a_moved_feature_only() {
        let base: Vec<f64> = (0..1000).map(|i| (i % 100) as f64).collect();
        let same: Vec<f64> = (0..1000).map(|i| ((i * 7) % 100) as f64).collect();
        let moved: Vec<f64> = base.iter().map(|v| v + 40.0).collect();
        assert!(psi(&same, &base).unwrap() < 0.05);
        assert!(psi(&moved, &base).unwrap() > 1.0);
    }
}
