//! Runs the row-level detectors over one loaded table and merges their
//! verdicts: one [`RowFlag`] per flagged row, of the most specific kind
//! (backdoor > duplicate conflict > outlier > label flip), each with a score
//! and a reason a person can check.

use crate::config::Config;
use crate::features::{self, FeatureError, Features, NO_LABEL};
use crate::table::{Table, format_number};
use crate::{backdoor, confident, duplicates, knn, outliers, softmax};

/// ECOD or kNN-distance scores this many robust SDs above the median row's
/// are outliers.
pub const OUTLIER_Z: f64 = 5.0;

/// The poisoning kinds, in `properties.kind` spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PoisonKind {
    /// A row carrying a backdoor trigger.
    Backdoor,
    /// A (near) copy of another row with another label.
    DuplicateConflict,
    /// A row far from the rest.
    Outlier,
    /// A row whose label is likely wrong.
    LabelFlip,
}

impl PoisonKind {
    /// All kinds in priority order.
    pub const ALL: [PoisonKind; 4] = [
        PoisonKind::Backdoor,
        PoisonKind::DuplicateConflict,
        PoisonKind::Outlier,
        PoisonKind::LabelFlip,
    ];

    /// `properties.kind` value.
    pub fn as_str(self) -> &'static str {
        match self {
            PoisonKind::Backdoor => "backdoor",
            PoisonKind::DuplicateConflict => "duplicate_conflict",
            PoisonKind::Outlier => "outlier",
            PoisonKind::LabelFlip => "label_flip",
        }
    }

    /// Rule id of its row findings.
    pub fn rule(self) -> &'static str {
        match self {
            PoisonKind::Backdoor => "backdoor-trigger",
            PoisonKind::DuplicateConflict => "duplicate-conflict",
            PoisonKind::Outlier => "outlier",
            PoisonKind::LabelFlip => "label-flip",
        }
    }
}

/// One flagged row.
#[derive(Debug, Clone)]
pub struct RowFlag {
    /// 0-based data row.
    pub row: usize,
    /// What it is.
    pub kind: PoisonKind,
    /// Detector score (higher = more suspicious).
    pub score: f64,
    /// Reason for people.
    pub message: String,
    /// Evidence properties.
    pub evidence: Vec<(String, String)>,
}

/// What the detectors found.
#[derive(Debug, Clone, Default)]
pub struct Detection {
    /// One flag per flagged row, by row.
    pub flags: Vec<RowFlag>,
    /// Content hash per row (features + label), for stable fingerprints.
    pub row_hashes: Vec<u64>,
    /// Wall seconds per phase (`features`, `knn`, `softmax`, ...), in order.
    pub timings: Vec<(&'static str, f64)>,
}

/// Wall seconds since `*start`, restarting the clock.
fn lap(start: &mut std::time::Instant) -> f64 {
    let now = std::time::Instant::now();
    let s = (now - *start).as_secs_f64();
    *start = now;
    s
}

fn label_text(f: &Features, row: usize) -> String {
    match f.labels[row] {
        NO_LABEL => String::new(),
        l => f.classes[l as usize].clone(),
    }
}

/// Weight of the kNN probabilities against the softmax ones: the blend
/// (in steps of 1/4) with the lowest out-of-sample log-loss on the given
/// labels, so a linear model on a non-linear problem (or a thin kNN
/// reference sample) does not drag the other down.
pub fn blend_weight(pk: &[f64], pl: &[f64], labels: &[u32], c: usize) -> f64 {
    let mut best = (f64::INFINITY, 0.5);
    for w in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let loss: f64 = labels
            .iter()
            .enumerate()
            .filter(|(_, l)| **l != NO_LABEL)
            .map(|(i, &l)| {
                let j = i * c + l as usize;
                -(w * pk[j] + (1.0 - w) * pl[j]).max(1e-6).ln()
            })
            .sum();
        if loss < best.0 - 1e-9 {
            best = (loss, w);
        }
    }
    best.1
}

/// Rows not to flag as label flips although the blend doubts them: when
/// the blend weight `w` rests on one model alone (kNN weight 0 or 1), a row
/// the other model vouches for (p(label) > 1/2) is spared. One
/// overconfident model (an unregularised fit on a small set) is not enough.
pub fn vouched(pk: &[f64], pl: &[f64], labels: &[u32], c: usize, w: f64) -> Vec<bool> {
    labels
        .iter()
        .enumerate()
        .map(|(i, &l)| {
            let j = i * c + l as usize;
            l != NO_LABEL && ((w == 0.0 && pk[j] > 0.5) || (w == 1.0 && pl[j] > 0.5))
        })
        .collect()
}

/// Run every enabled detector.
pub fn detect(table: &Table, cfg: &Config) -> Result<Detection, FeatureError> {
    let mut clock = std::time::Instant::now();
    let mut timings = Vec::new();
    let f = features::build(table, cfg)?;
    let label_idx = table
        .columns
        .iter()
        .position(|c| c.name == cfg.label_column)
        .unwrap_or(usize::MAX);
    let feature_cols: Vec<usize> = (0..table.columns.len())
        .filter(|&c| c != label_idx && !cfg.ignore_columns.contains(&table.columns[c].name))
        .collect();
    let hashes = duplicates::row_hashes(table, &feature_cols);
    timings.push(("features", lap(&mut clock)));
    let mut flags: Vec<RowFlag> = Vec::new();
    let n = f.n;
    let c = f.k();
    let labelled = f.labels.iter().filter(|&&l| l != NO_LABEL).count();
    let det = &cfg.detectors;
    let supervised = c >= 2 && f.d > 0 && labelled >= 10;
    let all: Vec<usize> = (0..n).collect();
    let refs = knn::reference_rows(n, f.d, knn::WORK_BUDGET);
    let k = det.k.min(refs.len().saturating_sub(1)).max(1);
    let nb = (f.d > 0 && n >= 20).then(|| knn::search(&f, &all, &refs, k, &[]));
    timings.push(("knn", lap(&mut clock)));
    let (probs, error_rate, vouched) = if let (true, Some(nb)) = (supervised, nb.as_ref()) {
        let pk = knn::class_probs(&f, nb, n, 1.0);
        let pl = softmax::cross_val_probs(&f);
        timings.push(("softmax", lap(&mut clock)));
        let w = blend_weight(&pk, &pl, &f.labels, c);
        let probs: Vec<f64> = pk
            .iter()
            .zip(&pl)
            .map(|(a, b)| w * a + (1.0 - w) * b)
            .collect();
        let wrong = (0..n)
            .filter(|&i| f.labels[i] != NO_LABEL)
            .filter(|&i| {
                let p = &pk[i * c..(i + 1) * c];
                let l = f.labels[i] as usize;
                (0..c).any(|j| p[j] > p[l])
            })
            .count();
        let vouched = vouched(&pk, &pl, &f.labels, c, w);
        (probs, wrong as f64 / labelled.max(1) as f64, vouched)
    } else {
        (Vec::new(), 0.0, Vec::new())
    };
    let supervised = supervised && !probs.is_empty();

    if supervised && det.label_flip {
        for issue in confident::find_label_issues(&probs, &f.labels, c) {
            let i = issue.row;
            if vouched[i] {
                continue;
            }
            let nbrs: Vec<String> = nb
                .as_ref()
                .map(|nb| nb.of(i).take(5).map(|(r, _)| r.to_string()).collect())
                .unwrap_or_default();
            let given = label_text(&f, i);
            let suggested = f.classes[issue.suggested].clone();
            let (pg, ps) = (1.0 - issue.score, probs[i * c + issue.suggested]);
            flags.push(RowFlag {
                row: i,
                kind: PoisonKind::LabelFlip,
                score: issue.score,
                message: format!(
                    "row {i} is labelled `{given}` but its nearest rows and a cross-validated \
                     model say `{suggested}` (p({given}) = {pg:.2}, p({suggested}) = {ps:.2}); \
                     nearest rows: {}",
                    nbrs.join(", ")
                ),
                evidence: vec![
                    ("label".into(), given),
                    ("suggested_label".into(), suggested),
                    ("p_label".into(), format!("{pg:.4}")),
                    ("neighbours".into(), nbrs.join(",")),
                ],
            });
        }
    }
    timings.push(("label_flip", lap(&mut clock)));
    if det.outlier {
        let dist = nb.as_ref().map(|nb| outliers::knn_scores(nb, n));
        for o in outliers::find(table, &f, dist.as_deref(), OUTLIER_Z, det.outlier_z) {
            let mut why = Vec::new();
            if o.knn_z > OUTLIER_Z {
                why.push(format!(
                    "its nearest rows are unusually far (distance score {:.1} robust SDs above the typical row)",
                    o.knn_z
                ));
            }
            if o.ecod_z > OUTLIER_Z {
                why.push(format!(
                    "its feature values sit in the far tails (ECOD score {:.1} robust SDs above the typical row)",
                    o.ecod_z
                ));
            }
            why.extend(o.evidence.iter().map(|(name, v, z)| {
                format!(
                    "`{name}` = {} is {z:.1} robust SDs from the median",
                    format_number(*v)
                )
            }));
            let why = why.join("; ");
            let features: Vec<String> = o.evidence.iter().map(|e| e.0.clone()).collect();
            flags.push(RowFlag {
                row: o.row,
                kind: PoisonKind::Outlier,
                score: o.score,
                message: format!("row {} is an outlier: {why}", o.row),
                evidence: vec![
                    ("ecod_z".into(), format!("{:.3}", o.ecod_z)),
                    ("knn_distance_z".into(), format!("{:.3}", o.knn_z)),
                    ("features".into(), features.join(",")),
                ],
            });
        }
    }
    timings.push(("outlier", lap(&mut clock)));
    if supervised && det.duplicate_conflict {
        let nb = nb.as_ref().expect("supervised has neighbours");
        for d in duplicates::find_conflicts(&f, &hashes, nb, &all, &probs) {
            let (given, kept) = (label_text(&f, d.row), label_text(&f, d.twin));
            let how = if d.exact {
                "identical features"
            } else {
                "nearly identical features"
            };
            flags.push(RowFlag {
                row: d.row,
                kind: PoisonKind::DuplicateConflict,
                score: 1.0 / (1.0 + d.distance2),
                message: format!(
                    "row {} copies row {} ({how}) but is labelled `{given}`, not `{kept}`",
                    d.row, d.twin
                ),
                evidence: vec![
                    ("twin_row".into(), d.twin.to_string()),
                    ("label".into(), given),
                    ("twin_label".into(), kept),
                    ("exact".into(), d.exact.to_string()),
                ],
            });
        }
    }
    timings.push(("duplicate_conflict", lap(&mut clock)));
    if supervised && det.backdoor {
        for t in backdoor::find(table, &f, &feature_cols, &refs, k, error_rate) {
            let pattern: Vec<String> = t
                .features
                .iter()
                .map(|(c, v)| format!("`{c}` = {v}"))
                .collect();
            let target = f.classes[t.target as usize].clone();
            for &row in &t.rows {
                flags.push(RowFlag {
                    row,
                    kind: PoisonKind::Backdoor,
                    score: t.score,
                    message: format!(
                        "row {row} carries a likely backdoor trigger {}: {} rows with it are \
                         labelled `{target}`, and {} of them look like another class once the \
                         trigger is left out",
                        pattern.join(" and "),
                        t.carriers,
                        t.rows.len()
                    ),
                    evidence: vec![
                        ("trigger".into(), pattern.join(" and ")),
                        ("target_label".into(), target.clone()),
                        ("trigger_rows".into(), t.carriers.to_string()),
                    ],
                });
            }
        }
    }
    timings.push(("backdoor", lap(&mut clock)));
    // One flag per row: the most specific kind wins.
    flags.sort_by(|a, b| a.row.cmp(&b.row).then(a.kind.cmp(&b.kind)));
    flags.dedup_by_key(|f| f.row);
    let row_hashes = hashes
        .iter()
        .zip(&f.labels)
        .map(|(h, l)| h ^ (*l as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15))
        .collect();
    Ok(Detection {
        flags,
        row_hashes,
        timings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unused_model_vouches_only_when_the_blend_ignores_it() {
        // Row 0: kNN says its label (0.6), softmax says the other class.
        // Row 1: both doubt the label. Row 2: no label.
        let pk = [0.6, 0.4, 0.2, 0.8, 0.5, 0.5];
        let pl = [0.1, 0.9, 0.3, 0.7, 0.5, 0.5];
        let labels = [0, 0, NO_LABEL];
        assert_eq!(vouched(&pk, &pl, &labels, 2, 0.0), [true, false, false]);
        assert_eq!(vouched(&pk, &pl, &labels, 2, 0.5), [false, false, false]);
        // kNN alone: the softmax would have to vouch, and it does not.
        assert_eq!(vouched(&pk, &pl, &labels, 2, 1.0), [false, false, false]);
        assert_eq!(vouched(&pl, &pk, &labels, 2, 1.0), [true, false, false]);
    }
}
