//! The in-memory dataset: one column per header field, numbers stored
//! columnar as `f64` (NaN = missing), text as dictionary codes.
//!
//! Loaders (`load`) fill a [`TableBuilder`] cell by cell from borrowed bytes,
//! so no cell is copied into its own allocation; [`TableBuilder::finish`]
//! then decides each column's [`Kind`] from what was seen.

use std::collections::HashMap;

/// Most distinct text values kept per column; rarer ones map to [`OTHER`].
pub const MAX_CATEGORIES: usize = 4096;
/// Code of a text value past [`MAX_CATEGORIES`].
pub const OTHER: u32 = u32::MAX;
/// Code of a missing or numeric cell in a column's `codes`.
pub const NONE: u32 = u32::MAX - 1;

/// What a column holds, decided after loading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// At least 90% of its non-missing cells parse as numbers.
    Numeric,
    /// Text values (or too few numbers to call it numeric).
    Categorical,
    /// Every cell is missing.
    Empty,
}

impl Kind {
    /// Lower-case name for messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Numeric => "numeric",
            Kind::Categorical => "categorical",
            Kind::Empty => "empty",
        }
    }
}

/// One column of the dataset.
#[derive(Debug, Clone)]
pub struct Column {
    /// Header name.
    pub name: String,
    /// Numeric kind or not (see [`Kind`]).
    pub kind: Kind,
    /// Value per row; NaN where missing, non-finite or not a number.
    pub values: Vec<f64>,
    /// Dictionary code per row for text cells ([`NONE`] for numbers/missing).
    /// Empty when the column never held text.
    pub codes: Vec<u32>,
    /// Distinct text values, indexed by code.
    pub dictionary: Vec<String>,
    /// Cells that were empty or a null marker (`NA`, `null`, ...).
    pub missing: usize,
    /// Cells that parsed to NaN or +-inf.
    pub non_finite: usize,
    /// Text cells in a numeric column (garbage), treated as missing.
    pub invalid: usize,
}

impl Column {
    /// Fraction of rows that are missing, invalid or non-finite.
    pub fn null_rate(&self) -> f64 {
        let n = self.values.len().max(1) as f64;
        let bad = if self.kind == Kind::Numeric {
            self.missing + self.non_finite + self.invalid
        } else {
            self.missing
        };
        bad as f64 / n
    }

    /// The text of row `row` for a categorical column (numbers are printed).
    pub fn text(&self, row: usize) -> String {
        match self.codes.get(row).copied() {
            Some(OTHER) => "<rare>".to_string(),
            Some(c) if c != NONE => self.dictionary[c as usize].clone(),
            _ if self.values[row].is_nan() => String::new(),
            _ => format_number(self.values[row]),
        }
    }
}

/// Print a number compactly (integers without `.0`).
pub fn format_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.6}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}

/// A loaded dataset.
#[derive(Debug, Clone)]
pub struct Table {
    /// Columns in header order.
    pub columns: Vec<Column>,
    /// Number of data rows (header excluded).
    pub rows: usize,
    /// Data rows whose field count differed from the header's (0-based).
    pub ragged_rows: Vec<usize>,
    /// Total count of ragged rows (the list above is capped).
    pub ragged_count: usize,
}

impl Table {
    /// The column with this name.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// Builder state of one column.
struct ColumnBuilder {
    column: Column,
    lookup: HashMap<Vec<u8>, u32>,
    numeric: usize,
}

/// Fills a [`Table`] cell by cell.
pub struct TableBuilder {
    columns: Vec<ColumnBuilder>,
    rows: usize,
    ragged_rows: Vec<usize>,
    ragged_count: usize,
    /// Column whose text is kept exactly (the label column).
    always_text: Option<usize>,
    /// Name of that column, for columns added later.
    text_name: Option<String>,
}

fn is_null_marker(cell: &[u8]) -> bool {
    matches!(
        cell,
        b"" | b"NA"
            | b"N/A"
            | b"na"
            | b"n/a"
            | b"null"
            | b"NULL"
            | b"Null"
            | b"None"
            | b"none"
            | b"?"
            | b"-"
    )
}

fn trim(mut b: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = b {
        if first.is_ascii_whitespace() {
            b = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = b {
        if last.is_ascii_whitespace() {
            b = rest;
        } else {
            break;
        }
    }
    b
}

impl TableBuilder {
    /// A builder for these header names; `text_column` (the label) keeps its
    /// cells as text even when they look numeric.
    pub fn new(names: Vec<String>, text_column: Option<&str>) -> Self {
        let always_text = text_column.and_then(|t| names.iter().position(|n| n == t));
        TableBuilder {
            columns: names
                .into_iter()
                .map(|name| ColumnBuilder {
                    column: Column {
                        name,
                        kind: Kind::Empty,
                        values: Vec::new(),
                        codes: Vec::new(),
                        dictionary: Vec::new(),
                        missing: 0,
                        non_finite: 0,
                        invalid: 0,
                    },
                    lookup: HashMap::new(),
                    numeric: 0,
                })
                .collect(),
            rows: 0,
            ragged_rows: Vec::new(),
            ragged_count: 0,
            always_text,
            text_name: text_column.map(str::to_string),
        }
    }

    /// Number of columns.
    pub fn width(&self) -> usize {
        self.columns.len()
    }

    /// Rows added so far.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Add a column found after some rows (JSONL keys); earlier rows are missing.
    pub fn add_column(&mut self, name: String) -> usize {
        let mut b = ColumnBuilder {
            column: Column {
                name,
                kind: Kind::Empty,
                values: vec![f64::NAN; self.rows],
                codes: Vec::new(),
                dictionary: Vec::new(),
                missing: self.rows,
                non_finite: 0,
                invalid: 0,
            },
            lookup: HashMap::new(),
            numeric: 0,
        };
        b.column.values.reserve(1024);
        if self.text_name.as_deref() == Some(b.column.name.as_str()) {
            self.always_text = Some(self.columns.len());
        }
        self.columns.push(b);
        self.columns.len() - 1
    }

    /// Mark the current row ragged (field count differs from the header).
    pub fn mark_ragged(&mut self) {
        self.ragged_count += 1;
        if self.ragged_rows.len() < 1000 {
            self.ragged_rows.push(self.rows);
        }
    }

    /// Set cell `col` of the current row from raw bytes.
    pub fn push_cell(&mut self, col: usize, raw: &[u8]) {
        let text_col = self.always_text == Some(col);
        let rows = self.rows;
        let b = &mut self.columns[col];
        let cell = trim(raw);
        if is_null_marker(cell) {
            b.column.missing += 1;
            b.column.values.push(f64::NAN);
            return;
        }
        let parsed = if text_col {
            None
        } else {
            std::str::from_utf8(cell)
                .ok()
                .and_then(|s| s.parse::<f64>().ok())
        };
        match parsed {
            Some(v) if v.is_finite() => {
                b.numeric += 1;
                b.column.values.push(v);
            }
            Some(_) => {
                b.column.non_finite += 1;
                b.column.values.push(f64::NAN);
            }
            None => {
                b.column.values.push(f64::NAN);
                let code = match b.lookup.get(cell) {
                    Some(&c) => c,
                    None if b.column.dictionary.len() < MAX_CATEGORIES => {
                        let c = b.column.dictionary.len() as u32;
                        b.column
                            .dictionary
                            .push(String::from_utf8_lossy(cell).chars().take(200).collect());
                        b.lookup.insert(cell.to_vec(), c);
                        c
                    }
                    None => OTHER,
                };
                if b.column.codes.len() < rows {
                    b.column.codes.resize(rows, NONE);
                }
                b.column.codes.push(code);
            }
        }
    }

    /// Set cell `col` of the current row from a typed number (Parquet): the
    /// label column keeps it as text (`format_number`, so `1` not `1.0`),
    /// other columns take it as is (NaN/inf count as non-finite).
    pub fn push_number(&mut self, col: usize, v: f64) {
        if self.always_text == Some(col) {
            if v.is_finite() {
                self.push_cell(col, format_number(v).as_bytes());
            } else {
                self.push_cell(col, format!("{v}").as_bytes());
            }
            return;
        }
        let b = &mut self.columns[col];
        if v.is_finite() {
            b.numeric += 1;
        } else {
            b.column.non_finite += 1;
        }
        b.column
            .values
            .push(if v.is_finite() { v } else { f64::NAN });
    }

    /// Finish the current row: cells not pushed are missing.
    pub fn end_row(&mut self) {
        self.rows += 1;
        for b in &mut self.columns {
            if b.column.values.len() < self.rows {
                b.column.missing += 1;
                b.column.values.push(f64::NAN);
            }
        }
    }

    /// Decide column kinds and return the table.
    pub fn finish(self) -> Table {
        let rows = self.rows;
        let columns = self
            .columns
            .into_iter()
            .map(|b| {
                let mut c = b.column;
                if !c.codes.is_empty() {
                    c.codes.resize(rows, NONE);
                }
                let text = c.codes.iter().filter(|&&x| x != NONE).count();
                let present = b.numeric + text + c.non_finite;
                c.kind = if present == 0 {
                    Kind::Empty
                } else if (b.numeric + c.non_finite) as f64 >= 0.9 * present as f64 {
                    c.invalid = text;
                    Kind::Numeric
                } else {
                    Kind::Categorical
                };
                c
            })
            .collect();
        Table {
            columns,
            rows,
            ragged_rows: self.ragged_rows,
            ragged_count: self.ragged_count,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_nulls_and_garbage() {
        let mut b = TableBuilder::new(vec!["x".into(), "c".into(), "label".into()], Some("label"));
        let rows: [[&[u8]; 3]; 12] = [
            [b"1.5", b"red", b"1"],
            [b"2", b"blue", b"0"],
            [b"NA", b"red", b"1"],
            [b"inf", b"", b"1"],
            [b"3", b"green", b"0"],
            [b"4", b"red", b"0"],
            [b"5", b"red", b"0"],
            [b"6", b"red", b"0"],
            [b"7", b"red", b"0"],
            [b"8", b"red", b"0"],
            [b"9", b"red", b"0"],
            [b"oops", b"\xff\xfe", b"0"],
        ];
        for r in rows {
            for (i, cell) in r.iter().enumerate() {
                b.push_cell(i, cell);
            }
            b.end_row();
        }
        let t = b.finish();
        assert_eq!(t.rows, 12);
        let x = t.column("x").unwrap();
        assert_eq!(x.kind, Kind::Numeric);
        assert_eq!((x.missing, x.non_finite, x.invalid), (1, 1, 1));
        assert!((x.null_rate() - 3.0 / 12.0).abs() < 1e-12);
        let c = t.column("c").unwrap();
        assert_eq!(c.kind, Kind::Categorical);
        assert_eq!(c.text(11), "\u{fffd}\u{fffd}");
        let l = t.column("label").unwrap();
        assert_eq!(l.kind, Kind::Categorical);
        assert_eq!(l.text(0), "1");
    }

    #[test]
    fn short_rows_are_missing_cells() {
        let mut b = TableBuilder::new(vec!["a".into(), "b".into()], None);
        b.push_cell(0, b"1");
        b.mark_ragged();
        b.end_row();
        let t = b.finish();
        assert_eq!(t.column("b").unwrap().kind, Kind::Empty);
        assert_eq!(t.ragged_rows, vec![0]);
    }
}
