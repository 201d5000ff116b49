//! Confident learning (Northcutt et al., JAIR 2021; cleanlab's
//! `find_label_issues` with `filter_by="prune_by_noise_rate"`): from
//! out-of-sample class probabilities, estimate the joint of given and true
//! labels, then prune, per (given, true) pair, as many rows as that joint
//! predicts, taking those with the largest margin p(true) - p(given).

use crate::features::NO_LABEL;

/// A row found mislabeled.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelIssue {
    /// Row index.
    pub row: usize,
    /// Class the probabilities favour.
    pub suggested: usize,
    /// 1 - p(given label).
    pub score: f64,
}

/// Rows whose given label is likely wrong. `probs` is `labels.len() x c`.
pub fn find_label_issues(probs: &[f64], labels: &[u32], c: usize) -> Vec<LabelIssue> {
    let n = labels.len();
    if c < 2 || probs.len() != n * c {
        return Vec::new();
    }
    let p = |i: usize, j: usize| probs[i * c + j];
    let labelled: Vec<usize> = (0..n).filter(|&i| labels[i] != NO_LABEL).collect();
    // 1. Per-class thresholds: mean self-confidence of each class.
    let mut sums = vec![0.0; c];
    let mut counts = vec![0usize; c];
    for &i in &labelled {
        let l = labels[i] as usize;
        sums[l] += p(i, l);
        counts[l] += 1;
    }
    let thresholds: Vec<f64> = (0..c)
        .map(|j| {
            if counts[j] > 0 {
                sums[j] / counts[j] as f64
            } else {
                1.0
            }
        })
        .collect();
    // 2. Confident joint.
    let mut joint = vec![0.0f64; c * c];
    for &i in &labelled {
        let best = (0..c)
            .filter(|&j| p(i, j) >= thresholds[j] - 1e-12)
            .max_by(|&a, &b| p(i, a).total_cmp(&p(i, b)));
        if let Some(j) = best {
            joint[labels[i] as usize * c + j] += 1.0;
        }
    }
    // 3. Calibrate rows to the given-class counts (sums to the labelled n).
    for g in 0..c {
        let row = &mut joint[g * c..(g + 1) * c];
        let s: f64 = row.iter().sum();
        if s > 0.0 {
            row.iter_mut().for_each(|v| *v *= counts[g] as f64 / s);
        }
    }
    // 4-5. Prune by noise rate: per (given g, true t) take the largest margins.
    let mut flagged = vec![false; n];
    for g in 0..c {
        let members: Vec<usize> = labelled
            .iter()
            .copied()
            .filter(|&i| labels[i] as usize == g)
            .collect();
        // Keep at least one row of each class (cleanlab's min_examples_per_class).
        let mut budget = members.len().saturating_sub(1);
        for t in (0..c).filter(|&t| t != g) {
            let want = (joint[g * c + t].round() as usize).min(budget);
            if want == 0 {
                continue;
            }
            let mut by_margin: Vec<(f64, usize)> =
                members.iter().map(|&i| (p(i, t) - p(i, g), i)).collect();
            by_margin.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            for &(_, i) in by_margin.iter().take(want) {
                flagged[i] = true;
            }
            budget -= want;
        }
    }
    // 6. Never flag a row whose given label is also the predicted one.
    let mut out = Vec::new();
    for &i in &labelled {
        let g = labels[i] as usize;
        let arg = (0..c)
            .max_by(|&a, &b| p(i, a).total_cmp(&p(i, b)))
            .unwrap_or(g);
        if flagged[i] && arg != g {
            out.push(LabelIssue {
                row: i,
                suggested: arg,
                score: 1.0 - p(i, g),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_confidently_wrong_rows_only() {
        // 20 rows of class 0 (p0 high) and 20 of class 1; rows 3 and 25 flipped.
        let mut probs = Vec::new();
        let mut labels = Vec::new();
        for i in 0..40 {
            let truth = if i < 20 { 0 } else { 1 };
            let jitter = (i % 5) as f64 * 0.01;
            let pt = 0.9 - jitter;
            probs.extend(if truth == 0 {
                [pt, 1.0 - pt]
            } else {
                [1.0 - pt, pt]
            });
            let given = if i == 3 || i == 25 { 1 - truth } else { truth };
            labels.push(given);
        }
        // A borderline row: labelled 0, p = 0.55/0.45 (not flagged).
        probs.extend([0.55, 0.45]);
        labels.push(0);
        let issues = find_label_issues(&probs, &labels, 2);
        let rows: Vec<usize> = issues.iter().map(|i| i.row).collect();
        assert_eq!(rows, vec![3, 25]);
        assert_eq!(issues[0].suggested, 0);
        assert!(issues[0].score > 0.8);
    }

    #[test]
    fn degenerate_inputs() {
        assert!(find_label_issues(&[1.0], &[0], 1).is_empty());
        assert!(find_label_issues(&[0.5, 0.5], &[NO_LABEL], 2).is_empty());
    }
}
