//! Outliers: per-feature robust z-scores (distance from the median in units
//! of 1.4826 x MAD) and ECOD (Li et al., TKDE 2022: sum over features of the
//! negative log empirical tail probability, the tail picked by skewness),
//! both thresholded from the data's own statistics, never a contamination
//! rate. A kNN-distance score (rows far from every neighbour) covers points
//! that are unremarkable on each feature alone.

use crate::features::Features;
use crate::table::{Kind, Table};

/// An outlying row.
#[derive(Debug, Clone)]
pub struct Outlier {
    /// Row index.
    pub row: usize,
    /// The larger of the two robust z-scores.
    pub score: f64,
    /// Robust z of the row's ECOD score among all rows.
    pub ecod_z: f64,
    /// Robust z of the row's kNN log distance (NaN without neighbours).
    pub knn_z: f64,
    /// The most outlying features: (column name, value, robust z or tail -log p).
    pub evidence: Vec<(String, f64, f64)>,
}

/// Median and 1.4826 x MAD of finite values.
fn median_mad(values: &[f64]) -> Option<(f64, f64)> {
    let med = crate::stats::median(values)?;
    let dev: Vec<f64> = values
        .iter()
        .filter(|v| v.is_finite())
        .map(|v| (v - med).abs())
        .collect();
    Some((med, 1.4826 * crate::stats::median(&dev)?))
}

/// Per-row ECOD scores over the numeric dimensions of `f`.
pub fn ecod(f: &Features, numeric: &[usize]) -> Vec<f64> {
    let n = f.n;
    let mut score_left = vec![0.0f64; n];
    let mut score_right = vec![0.0f64; n];
    let mut score_auto = vec![0.0f64; n];
    let mut col: Vec<(f32, u32)> = Vec::with_capacity(n);
    let nf = n as f64;
    for &j in numeric {
        col.clear();
        col.extend((0..n).map(|i| (f.x[i * f.d + j], i as u32)));
        let (mut m, mut m2, mut m3) = (0.0f64, 0.0f64, 0.0f64);
        for &(v, _) in &col {
            m += v as f64;
        }
        m /= nf;
        for &(v, _) in &col {
            let t = v as f64 - m;
            m2 += t * t;
            m3 += t * t * t;
        }
        let skew = if m2 > 0.0 {
            (m3 / nf) / (m2 / nf).powf(1.5)
        } else {
            0.0
        };
        col.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        // Ties share counts: left tail #{x <= v}/n, right tail #{x >= v}/n.
        let mut s = 0;
        while s < n {
            let mut e = s;
            while e + 1 < n && col[e + 1].0 == col[s].0 {
                e += 1;
            }
            let l = -((e + 1) as f64 / nf).ln();
            let r = -((n - s) as f64 / nf).ln();
            for &(_, i) in &col[s..=e] {
                let i = i as usize;
                score_left[i] += l;
                score_right[i] += r;
                score_auto[i] += if skew < 0.0 { l } else { r };
            }
            s = e + 1;
        }
    }
    (0..n)
        .map(|i| score_left[i].max(score_right[i]).max(score_auto[i]))
        .collect()
}

/// Robust z-scores `(v - median) / (1.4826 MAD)` of `scores`, the scale
/// floored at `min_scale` (a lattice of equidistant rows has MAD ~ 0).
fn robust_z(scores: &[f64], min_scale: f64) -> Vec<f64> {
    match median_mad(scores) {
        Some((med, mad)) => scores
            .iter()
            .map(|s| (s - med) / mad.max(min_scale))
            .collect(),
        None => vec![0.0; scores.len()],
    }
}

/// Log of the mean distance of each row to its neighbours (NaN if none).
pub fn knn_scores(nb: &crate::knn::Neighbours, n: usize) -> Vec<f64> {
    (0..n)
        .map(|q| {
            let (mut s, mut m) = (0.0, 0usize);
            for (_, d2) in nb.of(q) {
                s += (d2 as f64).sqrt();
                m += 1;
            }
            if m == 0 {
                f64::NAN
            } else {
                (s / m as f64 + 1e-12).ln()
            }
        })
        .collect()
}

/// Rows that are outliers: an ECOD score or a kNN distance (log mean
/// distance to the neighbours) more than `z` robust SDs above the median
/// row's. Features beyond `z_feature` robust SDs are named as evidence.
pub fn find(
    table: &Table,
    f: &Features,
    knn_log_dist: Option<&[f64]>,
    z: f64,
    z_feature: f64,
) -> Vec<Outlier> {
    let numeric: Vec<usize> = (0..f.d)
        .filter(|&j| table.columns[f.dims[j].column].kind == Kind::Numeric)
        .collect();
    if numeric.is_empty() || f.n < 20 {
        return Vec::new();
    }
    let ecod_z = robust_z(&ecod(f, &numeric), 0.5);
    let knn_z = knn_log_dist.map(|d| robust_z(d, 0.1));
    // Per-feature robust statistics on the raw values.
    let stats: Vec<Option<(f64, f64)>> = numeric
        .iter()
        .map(|&j| median_mad(&table.columns[f.dims[j].column].values).filter(|&(_, s)| s > 1e-12))
        .collect();
    let mut out = Vec::new();
    for i in 0..f.n {
        let kz = knn_z.as_ref().map_or(f64::NAN, |k| k[i]);
        let ez = ecod_z[i];
        if !(ez > z || kz > z) {
            continue;
        }
        let mut evidence: Vec<(String, f64, f64)> = Vec::new();
        for (k, &j) in numeric.iter().enumerate() {
            let Some((m, sd)) = stats[k] else { continue };
            let v = table.columns[f.dims[j].column].values[i];
            let rz = (v - m).abs() / sd;
            if rz > z_feature {
                evidence.push((f.dims[j].name.clone(), v, rz));
            }
        }
        evidence.sort_by(|a, b| b.2.total_cmp(&a.2));
        evidence.truncate(3);
        out.push(Outlier {
            row: i,
            score: ez.max(if kz.is_nan() { f64::NEG_INFINITY } else { kz }),
            ecod_z: ez,
            knn_z: kz,
            evidence,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::table::TableBuilder;

    #[test]
    fn far_rows_are_found_and_typical_rows_are_not() {
        let mut b = TableBuilder::new(vec!["a".into(), "b".into(), "label".into()], None);
        let mut seed = 12345u64;
        let mut normal = move || {
            // Sum of 12 uniforms - 6: close enough to N(0, 1).
            (0..12)
                .map(|_| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    (seed >> 11) as f64 / (1u64 << 53) as f64
                })
                .sum::<f64>()
                - 6.0
        };
        for i in 0..400u32 {
            let (a, bb) = (5.0 + normal(), 5.0 + normal());
            let (a, bb) = match i {
                100 => (90.0, 5.0), // one feature far out
                200 => (10.0, 0.0), // 5 SDs out on both features at once
                300 => (5.0, 5.0),  // the centre
                _ => (a, bb),
            };
            b.push_cell(0, a.to_string().as_bytes());
            b.push_cell(1, bb.to_string().as_bytes());
            b.push_cell(2, b"x");
            b.end_row();
        }
        let t = b.finish();
        let f = crate::features::build(&t, &Config::default()).unwrap();
        let all: Vec<usize> = (0..f.n).collect();
        let nb = crate::knn::search(&f, &all, &all, 10, &[]);
        let dist = knn_scores(&nb, f.n);
        let found = find(&t, &f, Some(&dist), 5.0, 8.0);
        let rows: Vec<usize> = found.iter().map(|o| o.row).collect();
        assert!(rows.contains(&100), "{rows:?}");
        assert!(rows.contains(&200) && !rows.contains(&300), "{found:?}");
        assert!(rows.len() <= 4, "{found:?}");
        let far = found.iter().find(|o| o.row == 100).unwrap();
        assert_eq!(far.evidence[0].0, "a");
    }
}
