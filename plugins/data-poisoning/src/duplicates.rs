//! Duplicates with conflicting labels: rows whose features are identical
//! (hashed over every feature cell) or nearly so (a kNN neighbour far closer
//! than rows usually are) but whose labels differ. In each such group the
//! label backed by most rows, then by the model's probabilities, is kept;
//! the other rows are flagged, naming the row they copy.

use std::collections::HashMap;

use crate::features::{Features, NO_LABEL};
use crate::knn::Neighbours;

/// A row that duplicates another with a different label.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    /// Row index.
    pub row: usize,
    /// A row of the same group carrying the kept label.
    pub twin: usize,
    /// Whether the features are identical (else nearly so).
    pub exact: bool,
    /// Squared distance to the twin in standardised units.
    pub distance2: f64,
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// Conflicting duplicates. `feature_hash` is one hash per row over all
/// feature cells; `nb` the neighbours of `queries`; `probs` `n x c`.
pub fn find_conflicts(
    f: &Features,
    feature_hash: &[u64],
    nb: &Neighbours,
    queries: &[usize],
    probs: &[f64],
) -> Vec<Conflict> {
    let n = f.n;
    let mut parent: Vec<usize> = (0..n).collect();
    let mut exact_group: HashMap<u64, usize> = HashMap::new();
    for (i, &h) in feature_hash.iter().enumerate() {
        let first = *exact_group.entry(h).or_insert(i);
        if first != i {
            let (a, b) = (find(&mut parent, first), find(&mut parent, i));
            parent[b] = a;
        }
    }
    // Near duplicates: nearest neighbour far closer than the typical one.
    let mut nn: Vec<f32> = (0..queries.len())
        .filter_map(|q| nb.of(q).next().map(|x| x.1))
        .collect();
    if !nn.is_empty() {
        let mid = nn.len() / 2;
        let median = *nn.select_nth_unstable_by(mid, f32::total_cmp).1;
        let eps = (median * 1e-3).min(1e-2 * f.d as f32);
        for (qi, &q) in queries.iter().enumerate() {
            if let Some((r, d)) = nb.of(qi).next()
                && d <= eps
            {
                let (a, b) = (find(&mut parent, q), find(&mut parent, r));
                parent[b] = a;
            }
        }
    }
    let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
    for i in 0..n {
        let root = find(&mut parent, i);
        if root != i || groups.contains_key(&root) {
            groups.entry(root).or_default().push(i);
        } else {
            groups.insert(root, vec![i]);
        }
    }
    let c = f.k();
    let mut out = Vec::new();
    for members in groups.values().filter(|m| m.len() > 1) {
        let mut votes: HashMap<u32, f64> = HashMap::new();
        for &i in members {
            let l = f.labels[i];
            if l == NO_LABEL {
                continue;
            }
            let p = probs.get(i * c + l as usize).copied().unwrap_or(0.0);
            *votes.entry(l).or_default() += 1.0 + p;
        }
        if votes.len() < 2 {
            continue;
        }
        let keep = votes
            .iter()
            .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(&l, _)| l)
            .unwrap_or(NO_LABEL);
        let twin = *members
            .iter()
            .find(|&&i| f.labels[i] == keep)
            .unwrap_or(&members[0]);
        for &i in members {
            if f.labels[i] != keep && f.labels[i] != NO_LABEL {
                let d2: f64 = f
                    .row(i)
                    .iter()
                    .zip(f.row(twin))
                    .map(|(a, b)| ((a - b) as f64).powi(2))
                    .sum();
                out.push(Conflict {
                    row: i,
                    twin,
                    exact: feature_hash[i] == feature_hash[twin],
                    distance2: d2,
                });
            }
        }
    }
    out.sort_by_key(|c| c.row);
    out
}

/// FNV-1a hash per row over the raw feature cells (values and text codes)
/// of `columns`.
pub fn row_hashes(table: &crate::table::Table, columns: &[usize]) -> Vec<u64> {
    let mut h = vec![0xcbf2_9ce4_8422_2325u64; table.rows];
    for &ci in columns {
        let col = &table.columns[ci];
        for (i, hi) in h.iter_mut().enumerate() {
            let v = col.values[i];
            let bits = if v.is_nan() { u64::MAX } else { v.to_bits() };
            let code = col.codes.get(i).copied().unwrap_or(0) as u64;
            for word in [bits, code] {
                *hi ^= word;
                *hi = hi.wrapping_mul(0x0100_0000_01b3);
                *hi ^= *hi >> 29;
            }
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_and_near_copies_with_other_labels() {
        // 30 spread points of class 0/1; row 30 copies row 4 with the other
        // label; row 31 nearly copies row 7 with the other label.
        let mut x: Vec<f32> = Vec::new();
        let mut labels = Vec::new();
        for i in 0..30u32 {
            x.extend([i as f32, ((i * 7) % 11) as f32]);
            labels.push(i % 2);
        }
        x.extend([x[8], x[9]]);
        labels.push(1 - labels[4]);
        x.extend([x[14] + 1e-3, x[15]]);
        labels.push(1 - labels[7]);
        let n = labels.len();
        let f = Features {
            n,
            d: 2,
            x,
            dims: Vec::new(),
            class_counts: vec![16, 16],
            labels,
            classes: vec!["a".into(), "b".into()],
        };
        let mut hashes: Vec<u64> = (0..n as u64).collect();
        hashes[30] = hashes[4];
        let all: Vec<usize> = (0..n).collect();
        let nb = crate::knn::search(&f, &all, &all, 3, &[]);
        // Probabilities agree with the original rows' labels.
        let probs: Vec<f64> = (0..n)
            .flat_map(|i| {
                let t = f.labels[if i == 30 {
                    4
                } else if i == 31 {
                    7
                } else {
                    i
                }];
                if t == 0 { [0.9, 0.1] } else { [0.1, 0.9] }
            })
            .collect();
        let found = find_conflicts(&f, &hashes, &nb, &all, &probs);
        let rows: Vec<(usize, usize, bool)> =
            found.iter().map(|c| (c.row, c.twin, c.exact)).collect();
        assert_eq!(rows, vec![(30, 4, true), (31, 7, false)]);
    }
}
