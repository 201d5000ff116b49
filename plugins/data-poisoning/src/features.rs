//! The feature matrix the row detectors share: numeric columns standardised
//! (mean/std, clipped to ±10 so one wild value cannot dominate a distance;
//! missing = the mean), low-cardinality text columns one-hot encoded, the
//! label column turned into class ids.

use std::collections::HashMap;

use crate::config::Config;
use crate::table::{Kind, NONE, OTHER, Table};

/// Class id of a row whose label is missing.
pub const NO_LABEL: u32 = u32::MAX;
/// Text columns with at most this many values are one-hot encoded.
const MAX_ONE_HOT: usize = 20;

/// Why features could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeatureError {
    /// The configured label column is not in the header.
    NoLabelColumn(String),
    /// More distinct labels than `max_classes`.
    TooManyClasses(usize),
}

/// One dimension of the matrix.
#[derive(Debug, Clone)]
pub struct Dim {
    /// Index of the source column in the table.
    pub column: usize,
    /// Human name: the column, or `column=value` for a one-hot dimension.
    pub name: String,
}

/// The standardised matrix plus labels.
#[derive(Debug, Clone)]
pub struct Features {
    /// Rows.
    pub n: usize,
    /// Dimensions.
    pub d: usize,
    /// Row-major `n * d`.
    pub x: Vec<f32>,
    /// What each dimension is.
    pub dims: Vec<Dim>,
    /// Class id per row ([`NO_LABEL`] when missing).
    pub labels: Vec<u32>,
    /// Label text per class id.
    pub classes: Vec<String>,
    /// Rows per class id.
    pub class_counts: Vec<usize>,
}

impl Features {
    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.x[i * self.d..(i + 1) * self.d]
    }

    /// Number of classes.
    pub fn k(&self) -> usize {
        self.classes.len()
    }
}

/// Build features from `table` under `cfg`.
pub fn build(table: &Table, cfg: &Config) -> Result<Features, FeatureError> {
    let n = table.rows;
    let label_idx = table
        .columns
        .iter()
        .position(|c| c.name == cfg.label_column)
        .ok_or_else(|| FeatureError::NoLabelColumn(cfg.label_column.clone()))?;
    let label = &table.columns[label_idx];
    let mut class_of: HashMap<u32, u32> = HashMap::new();
    let mut classes = Vec::new();
    let mut labels = vec![NO_LABEL; n];
    for (row, slot) in labels.iter_mut().enumerate() {
        let code = label.codes.get(row).copied().unwrap_or(NONE);
        if code == NONE {
            continue;
        }
        if code == OTHER {
            return Err(FeatureError::TooManyClasses(
                crate::table::MAX_CATEGORIES + 1,
            ));
        }
        let next = class_of.len() as u32;
        let id = *class_of.entry(code).or_insert_with(|| {
            classes.push(label.dictionary[code as usize].clone());
            next
        });
        *slot = id;
    }
    if classes.len() > cfg.max_classes {
        return Err(FeatureError::TooManyClasses(classes.len()));
    }
    let mut class_counts = vec![0usize; classes.len()];
    for &l in labels.iter().filter(|&&l| l != NO_LABEL) {
        class_counts[l as usize] += 1;
    }

    // Columns first (column-major), interleaved into rows at the end.
    let mut cols: Vec<Vec<f32>> = Vec::new();
    let mut dims = Vec::new();
    for (ci, c) in table.columns.iter().enumerate() {
        if ci == label_idx || cfg.ignore_columns.contains(&c.name) {
            continue;
        }
        match c.kind {
            Kind::Numeric => {
                let (mut s, mut s2, mut m) = (0.0f64, 0.0f64, 0usize);
                for &v in c.values.iter().filter(|v| v.is_finite()) {
                    s += v;
                    s2 += v * v;
                    m += 1;
                }
                if m == 0 {
                    continue;
                }
                let mean = s / m as f64;
                let sd = (s2 / m as f64 - mean * mean).max(0.0).sqrt();
                if sd <= 1e-12 * mean.abs().max(1.0) {
                    continue; // constant: carries nothing
                }
                cols.push(
                    c.values
                        .iter()
                        .map(|&v| {
                            if v.is_finite() {
                                ((v - mean) / sd).clamp(-10.0, 10.0) as f32
                            } else {
                                0.0
                            }
                        })
                        .collect(),
                );
                dims.push(Dim {
                    column: ci,
                    name: c.name.clone(),
                });
            }
            Kind::Categorical if c.dictionary.len() <= MAX_ONE_HOT && c.dictionary.len() > 1 => {
                for (code, value) in c.dictionary.iter().enumerate() {
                    cols.push(
                        c.codes
                            .iter()
                            .map(|&k| if k == code as u32 { 1.0 } else { 0.0 })
                            .collect(),
                    );
                    dims.push(Dim {
                        column: ci,
                        name: format!("{}={value}", c.name),
                    });
                }
            }
            _ => {}
        }
    }
    let d = cols.len();
    let mut x = vec![0f32; n * d];
    for (j, col) in cols.iter().enumerate() {
        for (i, &v) in col.iter().enumerate() {
            x[i * d + j] = v;
        }
    }
    Ok(Features {
        n,
        d,
        x,
        dims,
        labels,
        classes,
        class_counts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::TableBuilder;

    #[test]
    fn standardises_encodes_and_labels() {
        let mut b = TableBuilder::new(
            vec![
                "a".into(),
                "c".into(),
                "id".into(),
                "k".into(),
                "label".into(),
            ],
            Some("label"),
        );
        for (a, c, l) in [
            ("1", "x", "p"),
            ("3", "y", "q"),
            ("", "x", "p"),
            ("5", "x", ""),
        ] {
            for (i, v) in [a, c, "7", "same", l].iter().enumerate() {
                b.push_cell(i, v.as_bytes());
            }
            b.end_row();
        }
        let t = b.finish();
        let f = build(&t, &Config::default()).unwrap();
        // a (numeric), c=x, c=y; `id` and `k` are constant.
        assert_eq!(f.d, 3);
        assert_eq!(f.dims[1].name, "c=x");
        assert_eq!(f.classes, vec!["p", "q"]);
        assert_eq!(f.labels, vec![0, 1, 0, NO_LABEL]);
        assert_eq!(f.class_counts, vec![2, 1]);
        assert!((f.row(0)[0] + 1.224_744_9).abs() < 1e-5);
        assert_eq!(f.row(2)[0], 0.0);
    }

    #[test]
    fn missing_label_column_and_too_many_classes() {
        let mut b = TableBuilder::new(vec!["a".into(), "label".into()], Some("label"));
        for i in 0..5 {
            b.push_cell(0, b"1");
            b.push_cell(1, i.to_string().as_bytes());
            b.end_row();
        }
        let t = b.finish();
        let cfg = Config {
            max_classes: 3,
            ..Config::default()
        };
        assert_eq!(
            build(&t, &cfg).unwrap_err(),
            FeatureError::TooManyClasses(5)
        );
        let cfg = Config {
            label_column: "y".into(),
            ..Config::default()
        };
        assert!(matches!(
            build(&t, &cfg),
            Err(FeatureError::NoLabelColumn(_))
        ));
    }
}
