//! Cross-validated multinomial logistic regression (softmax), trained with
//! mini-batch Adam and a small L2 penalty: the out-of-fold class
//! probabilities that confident learning needs, the same kind of model as
//! cleanlab's usual logistic-regression baseline. Deterministic (fixed
//! shuffles) so a run is reproducible.

use crate::features::{Features, NO_LABEL};

/// Folds of the cross-validation.
pub const FOLDS: usize = 5;

/// xorshift64* for deterministic shuffles.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn shuffle(&mut self, v: &mut [usize]) {
        for i in (1..v.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}

/// A linear model: `c x (d + 1)` weights (bias last).
struct Model {
    d: usize,
    w: Vec<f32>,
}

impl Model {
    fn probs(&self, x: &[f32], out: &mut [f32]) {
        let d1 = self.d + 1;
        let mut max = f32::NEG_INFINITY;
        for (k, o) in out.iter_mut().enumerate() {
            let w = &self.w[k * d1..(k + 1) * d1];
            let mut z = w[self.d];
            for (a, b) in w.iter().zip(x) {
                z += a * b;
            }
            *o = z;
            max = max.max(z);
        }
        let mut s = 0.0;
        for o in out.iter_mut() {
            *o = (*o - max).exp();
            s += *o;
        }
        out.iter_mut().for_each(|o| *o /= s);
    }
}

fn train(f: &Features, rows: &[usize], seed: u64) -> Model {
    let (c, d) = (f.k(), f.d);
    let d1 = d + 1;
    let mut m = Model {
        d,
        w: vec![0.0; c * d1],
    };
    let (mut m1, mut m2) = (vec![0f32; c * d1], vec![0f32; c * d1]);
    let mut grad = vec![0f32; c * d1];
    let mut p = vec![0f32; c];
    let (lr, b1, b2, l2) = (0.05f32, 0.9f32, 0.999f32, 1e-4f32);
    // About 400k sample-steps per fold (at least two passes): big sets converge
    // in a few passes; small ones get up to 100.
    let epochs = (400_000 / rows.len().max(1)).clamp(2, 100);
    let batch = 64;
    let mut order = rows.to_vec();
    let mut rng = Rng(seed | 1);
    let mut t = 0i32;
    for _ in 0..epochs {
        rng.shuffle(&mut order);
        for chunk in order.chunks(batch) {
            grad.iter_mut().for_each(|g| *g = 0.0);
            for &i in chunk {
                let x = f.row(i);
                m.probs(x, &mut p);
                let y = f.labels[i] as usize;
                for k in 0..c {
                    let e = p[k] - if k == y { 1.0 } else { 0.0 };
                    let g = &mut grad[k * d1..(k + 1) * d1];
                    for (gj, xj) in g.iter_mut().zip(x) {
                        *gj += e * xj;
                    }
                    g[d] += e;
                }
            }
            t += 1;
            let inv = 1.0 / chunk.len() as f32;
            let (c1, c2) = (1.0 - b1.powi(t), 1.0 - b2.powi(t));
            for j in 0..c * d1 {
                let g = grad[j] * inv + l2 * m.w[j];
                m1[j] = b1 * m1[j] + (1.0 - b1) * g;
                m2[j] = b2 * m2[j] + (1.0 - b2) * g * g;
                m.w[j] -= lr * (m1[j] / c1) / ((m2[j] / c2).sqrt() + 1e-7);
            }
        }
    }
    m
}

/// Out-of-fold probabilities (`n x c`, f64) for every row; rows without a
/// label get the probabilities of the fold model that did not see them too.
pub fn cross_val_probs(f: &Features) -> Vec<f64> {
    let (n, c) = (f.n, f.k());
    let mut out = vec![0.0; n * c];
    let labelled: Vec<usize> = (0..n).filter(|&i| f.labels[i] != NO_LABEL).collect();
    if c < 2 || labelled.is_empty() {
        return out;
    }
    let mut shuffled = labelled.clone();
    Rng(0x9e37_79b9_7f4a_7c15).shuffle(&mut shuffled);
    let mut fold_of = vec![0usize; n];
    for (pos, &i) in shuffled.iter().enumerate() {
        fold_of[i] = pos % FOLDS;
    }
    let mut p = vec![0f32; c];
    for fold in 0..FOLDS {
        let train_rows: Vec<usize> = labelled
            .iter()
            .copied()
            .filter(|&i| fold_of[i] != fold)
            .collect();
        let model = train(f, &train_rows, fold as u64 + 1);
        for i in (0..n).filter(|&i| fold_of[i] == fold) {
            model.probs(f.row(i), &mut p);
            for k in 0..c {
                out[i * c + k] = p[k] as f64;
            }
        }
        mlgate_plugin_sdk::host::progress(fold as u64 + 1, FOLDS as u64);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separable_classes_get_confident_out_of_fold_probs() {
        let n = 200;
        let mut x = Vec::new();
        let mut labels = Vec::new();
        for i in 0..n {
            let y = (i % 2) as u32;
            let s = if y == 1 { 1.0 } else { -1.0 };
            x.extend([s * 2.0 + (i % 7) as f32 * 0.1, (i % 5) as f32 * 0.2]);
            labels.push(y);
        }
        let f = Features {
            n,
            d: 2,
            x,
            dims: Vec::new(),
            labels,
            classes: vec!["a".into(), "b".into()],
            class_counts: vec![100, 100],
        };
        let p = cross_val_probs(&f);
        let correct = (0..n)
            .filter(|&i| p[i * 2 + f.labels[i] as usize] > 0.9)
            .count();
        assert!(correct > 190, "{correct}");
        assert!((p[0] + p[1] - 1.0).abs() < 1e-6);
    }
}
