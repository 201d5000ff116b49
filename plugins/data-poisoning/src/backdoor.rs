//! Backdoor triggers: a feature value (or several, set together) whose rows
//! carry one label far more purely than the class prior, confirmed by those
//! rows looking like *another* class once the trigger features are left out
//! (kNN on the remaining features). A natural association (pixel 5 is dark
//! in most zeros) fails the confirmation: those rows still look like their
//! label without the feature. The confirmation is a binomial test of the
//! mismatches against the kNN's own error rate on the target class.

use std::collections::HashMap;

use crate::features::{Features, NO_LABEL};
use crate::knn;
use crate::table::{Kind, Table};

/// Least rows carrying a candidate trigger.
const MIN_SUPPORT: usize = 3;
/// Least share of a value's rows that carry the target label.
const MIN_PURITY: f64 = 0.9;
/// Most candidates confirmed (by strength).
const MAX_CANDIDATES: usize = 64;

/// A confirmed trigger pattern and its rows.
#[derive(Debug, Clone)]
pub struct Trigger {
    /// (column name, value text) of each trigger feature.
    pub features: Vec<(String, String)>,
    /// Target class id.
    pub target: u32,
    /// How many rows carry the pattern and the target label.
    pub carriers: usize,
    /// The carriers that look like another class without the trigger
    /// (the rows flagged; a carrier that looks like its label is spared).
    pub rows: Vec<usize>,
    /// -log10 p-value of the mismatch count.
    pub score: f64,
}

struct Candidate {
    columns: Vec<usize>,
    target: u32,
    rows: Vec<usize>,
}

fn value_key(table: &Table, col: usize, row: usize) -> Option<u64> {
    let c = &table.columns[col];
    match c.kind {
        Kind::Numeric => c.values[row].is_finite().then(|| c.values[row].to_bits()),
        Kind::Categorical => c
            .codes
            .get(row)
            .copied()
            .filter(|&k| k < u32::MAX - 1)
            .map(u64::from),
        Kind::Empty => None,
    }
}

/// log P(Binomial(n, p) >= k), by summing the tail in log space.
fn log_binom_tail(n: usize, k: usize, p: f64) -> f64 {
    if k == 0 {
        return 0.0;
    }
    let p = p.clamp(1e-9, 1.0 - 1e-9);
    let ln = crate::stats::ln_gamma;
    let term = |i: usize| {
        ln(n as f64 + 1.0) - ln(i as f64 + 1.0) - ln((n - i) as f64 + 1.0)
            + i as f64 * p.ln()
            + (n - i) as f64 * (1.0 - p).ln()
    };
    let terms: Vec<f64> = (k..=n).map(term).collect();
    let max = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    max + terms.iter().map(|t| (t - max).exp()).sum::<f64>().ln()
}

fn candidates(table: &Table, f: &Features, feature_cols: &[usize]) -> Vec<Candidate> {
    let n = f.n;
    let mut found: Vec<(f64, Candidate)> = Vec::new();
    for &col in feature_cols {
        let mut counts: HashMap<u64, u32> = HashMap::new();
        for row in 0..n {
            if let Some(k) = value_key(table, col, row) {
                *counts.entry(k).or_default() += 1;
            }
        }
        // A value shared by half the rows is not a rare trigger.
        counts.retain(|_, c| *c as usize >= MIN_SUPPORT && (*c as usize) * 2 < n);
        if counts.is_empty() {
            continue;
        }
        let mut rows_of: HashMap<u64, Vec<usize>> = HashMap::new();
        for row in 0..n {
            if let Some(k) = value_key(table, col, row)
                && counts.contains_key(&k)
            {
                rows_of.entry(k).or_default().push(row);
            }
        }
        for rows in rows_of.into_values() {
            let mut hist: HashMap<u32, usize> = HashMap::new();
            for &r in &rows {
                *hist.entry(f.labels[r]).or_default() += 1;
            }
            let Some((&t, &ct)) = hist.iter().max_by_key(|(l, c)| (**c, u32::MAX - **l)) else {
                continue;
            };
            let prior = f.class_counts.get(t as usize).copied().unwrap_or(0) as f64 / n as f64;
            let purity = ct as f64 / rows.len() as f64;
            if t == NO_LABEL || purity < MIN_PURITY || purity < prior + 0.5 * (1.0 - prior) {
                continue;
            }
            let strength = ct as f64 * (purity / prior.max(1e-9)).ln();
            let target_rows = rows.into_iter().filter(|&r| f.labels[r] == t).collect();
            found.push((
                strength,
                Candidate {
                    columns: vec![col],
                    target: t,
                    rows: target_rows,
                },
            ));
        }
    }
    found.sort_by(|a, b| b.0.total_cmp(&a.0));
    // Merge candidates over (nearly) the same rows into one multi-feature pattern.
    let mut merged: Vec<Candidate> = Vec::new();
    for (_, c) in found.into_iter() {
        let hit = merged.iter().position(|m| {
            m.target == c.target && {
                let inter = c
                    .rows
                    .iter()
                    .filter(|r| m.rows.binary_search(r).is_ok())
                    .count();
                inter * 2 > c.rows.len().max(m.rows.len())
            }
        });
        match hit {
            Some(h) => {
                let m = &mut merged[h];
                m.columns.push(c.columns[0]);
                m.rows.retain(|r| c.rows.binary_search(r).is_ok());
            }
            None if merged.len() < MAX_CANDIDATES => merged.push(c),
            None => {}
        }
    }
    merged.retain(|m| m.rows.len() >= MIN_SUPPORT);
    merged
}

/// Confirmed triggers. `refs` is the kNN reference set; `error_rate` the
/// share of rows whose kNN prediction disagrees with their label.
pub fn find(
    table: &Table,
    f: &Features,
    feature_cols: &[usize],
    refs: &[usize],
    k: usize,
    error_rate: f64,
) -> Vec<Trigger> {
    let cands = candidates(table, f, feature_cols);
    let tests = cands.len().max(1) as f64;
    let mut out = Vec::new();
    for cand in cands {
        let ignore: Vec<usize> = (0..f.d)
            .filter(|&j| cand.columns.contains(&f.dims[j].column))
            .collect();
        if ignore.len() == f.d {
            continue;
        }
        // Leave the trigger rows out of the reference set: copies of the
        // trigger would vouch for each other.
        let trigger_rows: std::collections::HashSet<usize> = cand.rows.iter().copied().collect();
        let clean_refs: Vec<usize> = refs
            .iter()
            .copied()
            .filter(|r| !trigger_rows.contains(r))
            .collect();
        let nb = knn::search(f, &cand.rows, &clean_refs, k, &ignore);
        let probs = knn::class_probs(f, &nb, cand.rows.len(), 1.0);
        let c = f.k();
        let t = cand.target as usize;
        let mismatched_rows: Vec<usize> = (0..cand.rows.len())
            .filter(|&q| {
                let p = &probs[q * c..(q + 1) * c];
                (0..c).any(|j| j != t && p[j] > p[t])
            })
            .map(|q| cand.rows[q])
            .collect();
        let mismatched = mismatched_rows.len();
        let base = (error_rate * 2.0).clamp(0.05, 0.5);
        let log_p = log_binom_tail(cand.rows.len(), mismatched, base);
        let score = -(log_p + tests.ln()) / std::f64::consts::LN_10;
        if mismatched * 2 >= cand.rows.len() && score > 4.0 {
            out.push(Trigger {
                features: cand
                    .columns
                    .iter()
                    .map(|&col| {
                        (
                            table.columns[col].name.clone(),
                            table.columns[col].text(cand.rows[0]),
                        )
                    })
                    .collect(),
                target: cand.target,
                carriers: cand.rows.len(),
                rows: mismatched_rows,
                score,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binomial_tail() {
        // P(Bin(10, 0.5) >= 8) = 56/1024.
        assert!((log_binom_tail(10, 8, 0.5).exp() - 56.0 / 1024.0).abs() < 1e-9);
        assert_eq!(log_binom_tail(5, 0, 0.3), 0.0);
    }
}
