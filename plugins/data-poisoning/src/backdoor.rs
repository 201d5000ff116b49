//! Backdoor triggers: a feature value (or several, set together) whose rows
//! carry one label far more purely than the class prior, confirmed by those
//! rows looking like *another* class once the trigger features are left out
//! (kNN on the remaining features). A natural association (pixel 5 is dark
//! in most zeros) fails the confirmation: those rows still look like their
//! label without the feature. The confirmation is a binomial test of the
//! mismatches against the kNN's own error rate on the target class.

use crate::features::{Features, NO_LABEL};
use crate::knn;
use crate::table::{Kind, Table};

/// Least rows carrying a candidate trigger.
const MIN_SUPPORT: usize = 3;
/// Least share of a pattern's rows that carry the target label.
const MIN_PURITY: f64 = 0.9;
/// Least share for one value to enter a pattern (the pattern must still
/// reach [`MIN_PURITY`]).
const MIN_ITEM_PURITY: f64 = 0.5;
/// Most values considered (by strength).
const MAX_ITEMS: usize = 4096;
/// Most patterns built from them.
const MAX_PATTERNS: usize = 256;
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

/// -log10 of the p-value a confirmed trigger must beat (after correction).
const MAX_LOG10_P: f64 = 4.0;

/// The multiple-test count for candidates with these carrier counts (Tarone
/// 1990): a candidate with `c` carriers can at best reach p = `base`^c (all
/// carriers mismatched), so candidates too small to ever reach the level are
/// not counted. The least K with at most K candidates able to reach
/// 10^-`level` / K; Bonferroni over K then holds the family-wise level.
fn tarone_tests(carriers: &[usize], base: f64, level: f64) -> usize {
    let best_log10: Vec<f64> = carriers.iter().map(|&c| c as f64 * base.log10()).collect();
    (1..=carriers.len().max(1))
        .find(|&k| {
            let bound = -level - (k as f64).log10();
            best_log10.iter().filter(|&&b| b <= bound).count() <= k
        })
        .unwrap_or(carriers.len().max(1))
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

/// One feature value's rows (all labels, ascending) and their majority label.
struct Item {
    column: usize,
    target: u32,
    rows: Vec<usize>,
    strength: f64,
}

/// Share of `rows` labelled `t`, and whether that is pure enough (and far
/// enough above the class prior) to be a trigger.
fn purity(f: &Features, rows: &[usize], t: u32) -> (usize, f64, bool) {
    let ct = rows.iter().filter(|&&r| f.labels[r] == t).count();
    let purity = ct as f64 / rows.len().max(1) as f64;
    let prior = f.class_counts.get(t as usize).copied().unwrap_or(0) as f64 / f.n.max(1) as f64;
    let pure = t != NO_LABEL && purity >= MIN_PURITY && purity >= prior + 0.5 * (1.0 - prior);
    (ct, purity, pure)
}

/// Feature values shared by at least [`MIN_SUPPORT`] rows of one label
/// making up at least [`MIN_ITEM_PURITY`] of the value's rows. Found by
/// sorting (value, row) pairs per column: no hashing of hostile values.
fn items(table: &Table, f: &Features, feature_cols: &[usize]) -> Vec<Item> {
    let n = f.n;
    let mut out = Vec::new();
    let mut keyed: Vec<(u64, u32)> = Vec::with_capacity(n);
    let mut hist = vec![0usize; f.k()];
    for &col in feature_cols {
        keyed.clear();
        keyed.extend((0..n).filter_map(|row| value_key(table, col, row).map(|k| (k, row as u32))));
        keyed.sort_unstable();
        for run in keyed.chunk_by(|a, b| a.0 == b.0) {
            // A value shared by half the rows is not a rare trigger.
            if run.len() < MIN_SUPPORT || run.len() * 2 >= n {
                continue;
            }
            for &(_, r) in run {
                if let Some(h) = hist.get_mut(f.labels[r as usize] as usize) {
                    *h += 1;
                }
            }
            let mut best = (0usize, NO_LABEL);
            for &(_, r) in run {
                let l = f.labels[r as usize];
                if let Some(&h) = hist.get(l as usize)
                    && (h, u32::MAX - l) > (best.0, u32::MAX - best.1)
                {
                    best = (h, l);
                }
            }
            for &(_, r) in run {
                if let Some(h) = hist.get_mut(f.labels[r as usize] as usize) {
                    *h = 0;
                }
            }
            let (ct, t) = best;
            let prior = f.class_counts.get(t as usize).copied().unwrap_or(0) as f64 / n as f64;
            let share = ct as f64 / run.len() as f64;
            if t == NO_LABEL || ct < MIN_SUPPORT || share < MIN_ITEM_PURITY || share <= prior {
                continue;
            }
            out.push(Item {
                column: col,
                target: t,
                rows: run.iter().map(|&(_, r)| r as usize).collect(),
                strength: ct as f64 * (share / prior.max(1e-9)).ln(),
            });
        }
    }
    out.sort_by(|a, b| b.strength.total_cmp(&a.strength));
    out.truncate(MAX_ITEMS);
    out
}

fn candidates(table: &Table, f: &Features, feature_cols: &[usize]) -> Vec<Candidate> {
    // Merge values over (nearly) the same rows into one multi-feature pattern:
    // its rows are the rows that carry every value. Purity is judged on the
    // pattern, so a trigger value that a few natural rows also hold (and so
    // is impure alone) still counts when its partner value singles out the
    // trigger rows.
    let mut merged: Vec<(f64, Candidate)> = Vec::new();
    for it in items(table, f, feature_cols) {
        let hit = merged.iter().position(|(_, m)| {
            m.target == it.target && {
                let inter = it
                    .rows
                    .iter()
                    .filter(|r| m.rows.binary_search(r).is_ok())
                    .count();
                inter * 2 > it.rows.len().max(m.rows.len())
            }
        });
        match hit {
            Some(h) => {
                let m = &mut merged[h].1;
                m.columns.push(it.column);
                m.rows.retain(|r| it.rows.binary_search(r).is_ok());
            }
            None if merged.len() < MAX_PATTERNS => merged.push((
                it.strength,
                Candidate {
                    columns: vec![it.column],
                    target: it.target,
                    rows: it.rows,
                },
            )),
            None => {}
        }
    }
    let mut out: Vec<(f64, Candidate)> = merged
        .into_iter()
        .filter_map(|(_, mut c)| {
            let (ct, share, pure) = purity(f, &c.rows, c.target);
            c.rows.retain(|&r| f.labels[r] == c.target);
            let prior = f.class_counts[c.target as usize] as f64 / f.n as f64;
            (pure && ct >= MIN_SUPPORT).then(|| (ct as f64 * (share / prior.max(1e-9)).ln(), c))
        })
        .collect();
    out.sort_by(|a, b| b.0.total_cmp(&a.0));
    out.truncate(MAX_CANDIDATES);
    out.into_iter().map(|(_, c)| c).collect()
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
    let base = (error_rate * 2.0).clamp(0.05, 0.5);
    let carriers: Vec<usize> = cands.iter().map(|c| c.rows.len()).collect();
    let tests = tarone_tests(&carriers, base, MAX_LOG10_P) as f64;
    let mut out = Vec::new();
    for mut cand in cands {
        // Every value all carriers share is part of the pattern: a trigger
        // may set a value that natural rows of the target class also hold
        // (too impure to be a candidate alone), and leaving it in would
        // make the carriers look like the target.
        for &col in feature_cols {
            let first = value_key(table, col, cand.rows[0]);
            if first.is_some()
                && !cand.columns.contains(&col)
                && cand.rows.iter().all(|&r| value_key(table, col, r) == first)
            {
                cand.columns.push(col);
            }
        }
        let ignore: Vec<usize> = (0..f.d)
            .filter(|&j| cand.columns.contains(&f.dims[j].column))
            .collect();
        if ignore.len() == f.d {
            continue;
        }
        // Leave the trigger rows out of the reference set: copies of the
        // trigger would vouch for each other.
        let clean_refs: Vec<usize> = refs
            .iter()
            .copied()
            .filter(|r| cand.rows.binary_search(r).is_err())
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
        let log_p = log_binom_tail(cand.rows.len(), mismatched, base);
        let score = -(log_p + tests.ln()) / std::f64::consts::LN_10;
        if mismatched * 2 >= cand.rows.len() && score > MAX_LOG10_P {
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

    #[test]
    fn a_trigger_impure_in_each_value_is_found_as_a_conjunction() {
        // Two clusters; five class-0 rows get f2 = 100.5 and f3 = 200.5 and
        // label 1. One natural class-0 row also holds each value, so each
        // value alone is 5/6 pure (below 0.9); together they single out the
        // five trigger rows.
        let mut csv = String::from("f0,f1,f2,f3,label\n");
        let trig = [3, 11, 19, 27, 35];
        for i in 0..120 {
            let (c, centre) = if i < 60 { (0, 0.0) } else { (1, 5.0) };
            let j = i as f64;
            let (mut f2, mut f3, mut label) = (j * 0.37 % 7.0, j * 0.53 % 9.0, c);
            if trig.contains(&i) {
                (f2, f3, label) = (100.5, 200.5, 1);
            }
            if i == 50 {
                f2 = 100.5;
            }
            if i == 51 {
                f3 = 200.5;
            }
            let (a, b) = (centre + (j * 0.7).sin(), centre + (j * 1.3).cos());
            csv.push_str(&format!("{a},{b},{f2},{f3},{label}\n"));
        }
        let table =
            crate::load::load_csv(std::io::BufReader::new(csv.as_bytes()), "label", usize::MAX)
                .unwrap();
        let f = crate::features::build(&table, &crate::config::Config::default()).unwrap();
        let refs: Vec<usize> = (0..f.n).collect();
        let found = find(&table, &f, &[0, 1, 2, 3], &refs, 5, 0.0);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].rows, trig);
        let names: Vec<&str> = found[0].features.iter().map(|(n, _)| n.as_str()).collect();
        assert!(names.contains(&"f2") && names.contains(&"f3"), "{names:?}");
    }

    #[test]
    fn tarone_counts_only_candidates_that_could_pass() {
        // base 0.1: 3 carriers reach at best 1e-3, never 1e-4; 5 reach 1e-5.
        assert_eq!(tarone_tests(&[3, 3, 3, 3, 5], 0.1, 4.0), 1);
        assert_eq!(tarone_tests(&[5, 6, 3], 0.1, 4.0), 2);
        // Ten strong candidates all count.
        assert_eq!(tarone_tests(&[20; 10], 0.1, 4.0), 10);
        assert_eq!(tarone_tests(&[], 0.1, 4.0), 1);
    }
}
