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

/// References per tile (two 4-lane vectors).
const RB: usize = 8;
/// Queries per block: each tile is loaded once for this many queries.
const QB: usize = 4;

/// The reference rows in tiles of [`RB`]: `tile, dim, lane` order, so the
/// distance kernel reads each tile's dims contiguously. Lanes past the last
/// reference are zero and never reported.
struct RefTiles {
    m: usize,
    dims: Vec<usize>,
    data: Vec<f32>,
}

impl RefTiles {
    fn new(f: &Features, refs: &[usize], ignore: &[usize]) -> Self {
        let dims: Vec<usize> = (0..f.d).filter(|j| !ignore.contains(j)).collect();
        let m = refs.len();
        let nd = dims.len();
        let tiles = m.div_ceil(RB);
        let mut data = vec![0f32; tiles * nd * RB];
        for (r, &row) in refs.iter().enumerate() {
            let (t, lane) = (r / RB, r % RB);
            let x = f.row(row);
            for (jj, &j) in dims.iter().enumerate() {
                data[(t * nd + jj) * RB + lane] = x[j];
            }
        }
        RefTiles { m, dims, data }
    }
}

/// Squared distances of `Q` queries (`qv[jj][qi]`, dims in tile order)
/// to the [`RB`] references of one tile. Summed dim by dim in f32 from 0,
/// the same order as a plain loop over the dims: results are bit-identical.
#[inline(always)]
fn tile_distances<const Q: usize>(tile: &[f32], qv: &[[f32; Q]]) -> [[f32; RB]; Q] {
    let mut acc = [[0f32; RB]; Q];
    for (col, qd) in tile.chunks_exact(RB).zip(qv) {
        for qi in 0..Q {
            for l in 0..RB {
                let t = col[l] - qd[qi];
                acc[qi][l] += t * t;
            }
        }
    }
    acc
}

/// Keep the `k` smallest (distance, reference position) of one query,
/// sorted: a candidate equal to the current worst does not enter, so ties
/// go to the earlier reference.
#[inline(always)]
fn offer(bi: &mut [u32], bd: &mut [f32], dd: f32, row: u32) {
    let k = bd.len();
    if dd >= bd[k - 1] {
        return;
    }
    let mut p = k - 1;
    while p > 0 && bd[p - 1] > dd {
        bd[p] = bd[p - 1];
        bi[p] = bi[p - 1];
        p -= 1;
    }
    bd[p] = dd;
    bi[p] = row;
}

/// Neighbours of a block of `Q` queries over every tile.
#[cfg_attr(target_family = "wasm", target_feature(enable = "simd128"))]
fn search_block<const Q: usize>(
    f: &Features,
    rt: &RefTiles,
    refs: &[usize],
    block: &[usize],
    idx: &mut [u32],
    dist: &mut [f32],
) {
    let k = idx.len() / Q;
    let nd = rt.dims.len();
    let qv: Vec<[f32; Q]> = rt
        .dims
        .iter()
        .map(|&j| std::array::from_fn(|qi| f.x[block[qi] * f.d + j]))
        .collect();
    for t in 0..rt.m.div_ceil(RB) {
        let tile = &rt.data[t * nd * RB..(t + 1) * nd * RB];
        let acc = tile_distances::<Q>(tile, &qv);
        let base = t * RB;
        let lanes = (rt.m - base).min(RB);
        for qi in 0..Q {
            let (bi, bd) = (
                &mut idx[qi * k..(qi + 1) * k],
                &mut dist[qi * k..(qi + 1) * k],
            );
            for (lane, &dd) in acc[qi][..lanes].iter().enumerate() {
                let r = refs[base + lane];
                if dd < bd[k - 1] && r != block[qi] {
                    offer(bi, bd, dd, r as u32);
                }
            }
        }
    }
}

/// The `k` nearest references of each query row (skipping the query
/// itself), ignoring dims in `ignore`. Ties go to the earlier reference.
/// Queries run in blocks of [`QB`] over tiles of [`RB`] references, so each
/// reference value is loaded once per block and the partial sums stay in
/// registers (about 3x fewer instructions than one query at a time).
pub fn search(
    f: &Features,
    queries: &[usize],
    refs: &[usize],
    k: usize,
    ignore: &[usize],
) -> Neighbours {
    let rt = RefTiles::new(f, refs, ignore);
    let mut idx = vec![u32::MAX; queries.len() * k];
    let mut dist = vec![f32::INFINITY; queries.len() * k];
    let full = queries.len() / QB * QB;
    for (b, block) in queries[..full].chunks_exact(QB).enumerate() {
        let s = b * QB * k..(b + 1) * QB * k;
        search_block::<QB>(f, &rt, refs, block, &mut idx[s.clone()], &mut dist[s]);
        if b % 1024 == 0 {
            mlgate_plugin_sdk::host::progress((b * QB) as u64, queries.len() as u64);
        }
    }
    for (qi, &q) in queries.iter().enumerate().skip(full) {
        let s = qi * k..(qi + 1) * k;
        search_block::<1>(f, &rt, refs, &[q], &mut idx[s.clone()], &mut dist[s]);
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

    /// One query at a time, one reference at a time: the definition the
    /// blocked search must reproduce exactly.
    fn naive(
        f: &Features,
        queries: &[usize],
        refs: &[usize],
        k: usize,
        ignore: &[usize],
    ) -> Neighbours {
        let mut idx = vec![u32::MAX; queries.len() * k];
        let mut dist = vec![f32::INFINITY; queries.len() * k];
        for (qi, &q) in queries.iter().enumerate() {
            for &r in refs {
                let mut dd = 0f32;
                for j in (0..f.d).filter(|j| !ignore.contains(j)) {
                    let t = f.row(r)[j] - f.row(q)[j];
                    dd += t * t;
                }
                if r != q {
                    offer(
                        &mut idx[qi * k..(qi + 1) * k],
                        &mut dist[qi * k..(qi + 1) * k],
                        dd,
                        r as u32,
                    );
                }
            }
        }
        Neighbours { k, idx, dist }
    }

    #[test]
    fn blocked_search_is_bit_identical_to_the_naive_loop() {
        // 203 rows (not a multiple of the tile or block), 7 dims, values on a
        // coarse grid so exact ties and duplicates occur.
        let (n, d) = (203, 7);
        let mut s = 7u64;
        let x: Vec<f32> = (0..n * d)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 33) % 5) as f32 * 0.37 - 0.5
            })
            .collect();
        let f = Features {
            n,
            d,
            x,
            dims: Vec::new(),
            labels: (0..n as u32).map(|i| i % 3).collect(),
            classes: vec!["a".into(), "b".into(), "c".into()],
            class_counts: vec![68, 68, 67],
        };
        let all: Vec<usize> = (0..n).collect();
        let some: Vec<usize> = (0..n).step_by(3).collect();
        for (queries, refs, ignore) in [
            (&all[..], &all[..], vec![]),
            (&all, &some, vec![]),
            (&some, &all, vec![2, 5]),
            (&some[..5], &some[..3], vec![0]),
        ] {
            for k in [1, 4, 10] {
                let a = search(&f, queries, refs, k, &ignore);
                let b = naive(&f, queries, refs, k, &ignore);
                assert_eq!(a.idx, b.idx, "k={k}");
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&a.dist), bits(&b.dist), "k={k}");
            }
        }
    }

    #[test]
    fn reference_sample_is_bounded_and_spread() {
        assert_eq!(reference_rows(100, 20, WORK_BUDGET).len(), 100);
        let r = reference_rows(200_000, 20, WORK_BUDGET);
        assert!(r.len() >= 1024 && r.len() < 5000);
        assert!(*r.last().unwrap() > 190_000);
    }
}
