//! k-nearest neighbours by brute force over a reference set, laid out
//! column-major so the distance loop is element-wise (LLVM vectorises it;
//! in Wasm with simd128). Exact when the reference set is every row; for
//! large sets the reference is a deterministic stride sample sized to a
//! work budget, so 200k x 20 stays well under a second of distance work.
//!
//! Neighbours at (near) zero distance are kept in the lists (the duplicate
//! detector needs them) but do not vote in [`class_probs`]: a copy is not
//! independent evidence about a row's label.

use crate::features::Features;

/// Distance evaluations (rows x refs x dims) the default budget allows.
pub const WORK_BUDGET: usize = 3_000_000_000;
/// Squared distance at or below which a neighbour counts as a duplicate.
pub const DUP_EPS2: f32 = 1e-8;

/// The rows used as the reference set for `n` rows of `d` dims.
pub fn reference_rows(n: usize, d: usize, budget: usize) -> Vec<usize> {
    let m = (budget / (n.max(1) * d.max(1))).max(2048).min(n);
    if m >= n {
        return (0..n).collect();
    }
    // Deterministic, evenly spread sample (rows in files are often sorted).
    (0..m).map(|i| i * n / m).collect()
}

/// Neighbour lists: `k` (index, squared distance) per query, nearest first.
#[derive(Debug, Clone)]
pub struct Neighbours {
    /// Neighbours per query.
    pub k: usize,
    /// Row index of each neighbour (`u32::MAX` = none).
    pub idx: Vec<u32>,
    /// Squared distance of each neighbour.
    pub dist: Vec<f32>,
}

impl Neighbours {
    /// Neighbours of query `q` (in query order) as (row, squared distance).
    pub fn of(&self, q: usize) -> impl Iterator<Item = (usize, f32)> + '_ {
        let s = q * self.k;
        self.idx[s..s + self.k]
            .iter()
            .zip(&self.dist[s..s + self.k])
            .filter(|(i, _)| **i != u32::MAX)
            .map(|(&i, &d)| (i as usize, d))
    }
}

/// Column-major copy of the reference rows, without the `ignore` dims.
struct RefMatrix {
    m: usize,
    dims: Vec<usize>,
    data: Vec<f32>,
}

impl RefMatrix {
    fn new(f: &Features, refs: &[usize], ignore: &[usize]) -> Self {
        let dims: Vec<usize> = (0..f.d).filter(|j| !ignore.contains(j)).collect();
        let m = refs.len();
        let mut data = vec![0f32; dims.len() * m];
        for (jj, &j) in dims.iter().enumerate() {
            let col = &mut data[jj * m..(jj + 1) * m];
            for (slot, &r) in col.iter_mut().zip(refs) {
                *slot = f.x[r * f.d + j];
            }
        }
        RefMatrix { m, dims, data }
    }
}

/// `acc[r] += (col[r] - q)^2` for every reference `r`.
#[cfg_attr(target_family = "wasm", target_feature(enable = "simd128"))]
fn accumulate(acc: &mut [f32], col: &[f32], q: f32) {
    for (a, &c) in acc.iter_mut().zip(col) {
        let t = c - q;
        *a += t * t;
    }
}

/// The `k` nearest references of each query row (skipping the query
/// itself), ignoring dims in `ignore`.
pub fn search(
    f: &Features,
    queries: &[usize],
    refs: &[usize],
    k: usize,
    ignore: &[usize],
) -> Neighbours {
    let rm = RefMatrix::new(f, refs, ignore);
    let mut idx = vec![u32::MAX; queries.len() * k];
    let mut dist = vec![f32::INFINITY; queries.len() * k];
    let mut acc = vec![0f32; rm.m];
    for (qi, &q) in queries.iter().enumerate() {
        acc.iter_mut().for_each(|a| *a = 0.0);
        let row = f.row(q);
        for (jj, &j) in rm.dims.iter().enumerate() {
            accumulate(&mut acc, &rm.data[jj * rm.m..(jj + 1) * rm.m], row[j]);
        }
        let bi = &mut idx[qi * k..(qi + 1) * k];
        let bd = &mut dist[qi * k..(qi + 1) * k];
        let mut worst = f32::INFINITY;
        for (r, &dd) in acc.iter().enumerate() {
            if dd >= worst || refs[r] == q {
                continue;
            }
            // Insert into the sorted top-k.
            let mut p = k - 1;
            while p > 0 && bd[p - 1] > dd {
                bd[p] = bd[p - 1];
                bi[p] = bi[p - 1];
                p -= 1;
            }
            bd[p] = dd;
            bi[p] = refs[r] as u32;
            worst = bd[k - 1];
        }
        if qi % 4096 == 0 {
            mlgate_plugin_sdk::host::progress(qi as u64, queries.len() as u64);
        }
    }
    Neighbours { k, idx, dist }
}

/// Out-of-sample class probabilities of each query from its neighbours'
/// labels, smoothed towards the class prior (`alpha` pseudo-counts).
pub fn class_probs(f: &Features, nb: &Neighbours, queries: usize, alpha: f64) -> Vec<f64> {
    let c = f.k();
    let total: usize = f.class_counts.iter().sum();
    let prior: Vec<f64> = f
        .class_counts
        .iter()
        .map(|&n| n as f64 / total.max(1) as f64)
        .collect();
    let mut p = vec![0.0; queries * c];
    for q in 0..queries {
        let out = &mut p[q * c..(q + 1) * c];
        let mut w = 0.0;
        for (r, d2) in nb.of(q) {
            let l = f.labels[r];
            if d2 <= DUP_EPS2 {
                continue;
            }
            if l != crate::features::NO_LABEL {
                out[l as usize] += 1.0;
                w += 1.0;
            }
        }
        for (o, pr) in out.iter_mut().zip(&prior) {
            *o = (*o + alpha * pr) / (w + alpha);
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features(points: &[(f32, f32, u32)]) -> Features {
        Features {
            n: points.len(),
            d: 2,
            x: points.iter().flat_map(|p| [p.0, p.1]).collect(),
            dims: Vec::new(),
            labels: points.iter().map(|p| p.2).collect(),
            classes: vec!["a".into(), "b".into()],
            class_counts: vec![
                points.iter().filter(|p| p.2 == 0).count(),
                points.iter().filter(|p| p.2 == 1).count(),
            ],
        }
    }

    #[test]
    fn exact_neighbours_skip_self_and_duplicates_do_not_vote() {
        let f = features(&[
            (0.0, 0.0, 0),
            (1.0, 0.0, 0),
            (0.0, 0.0, 1),
            (5.0, 5.0, 1),
            (0.0, 2.0, 0),
        ]);
        let all: Vec<usize> = (0..5).collect();
        let nb = search(&f, &all, &all, 2, &[]);
        let first: Vec<_> = nb.of(3).collect();
        assert_eq!(first, vec![(4, 34.0), (1, 41.0)]);
        // Row 2 duplicates row 0: listed, but it does not vote.
        let nb = search(&f, &[0], &all, 2, &[]);
        assert_eq!(nb.of(0).map(|x| x.0).collect::<Vec<_>>(), vec![2, 1]);
        let p = class_probs(&f, &nb, 1, 1.0);
        assert!(p[0] > 0.6, "{p:?}");
        let p = class_probs(&f, &search(&f, &all, &all, 2, &[]), 5, 1.0);
        assert!(p[0] > p[1]);
        assert!((p[0] + p[1] - 1.0).abs() < 1e-9);
    }

    #[test]
    fn reference_sample_is_bounded_and_spread() {
        assert_eq!(reference_rows(100, 20, WORK_BUDGET).len(), 100);
        let r = reference_rows(200_000, 20, WORK_BUDGET);
        assert!(r.len() >= 1024 && r.len() < 5000);
        assert!(*r.last().unwrap() > 190_000);
    }
}
