//! Streaming loaders: CSV with a header row and JSON Lines, into a [`Table`]
//! (Parquet is in [`pq_load`](crate::pq_load)), and the choice between them.
//!
//! Both read through a buffered reader and hand borrowed cell bytes to the
//! [`TableBuilder`]; nothing is held per cell but its parsed value. Every
//! count a hostile file controls (rows, columns, classes, line length) is
//! bounded. A file that starts with the Parquet magic (`PAR1`) is read as
//! Parquet whatever its name.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use crate::table::{Table, TableBuilder};

/// Most columns accepted.
pub const MAX_COLUMNS: usize = 4096;
/// Longest JSON line accepted (bytes).
pub const MAX_LINE: usize = 64 << 20;

/// File formats the gate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated (or `;`/tab, sniffed from the header) with a header.
    Csv,
    /// One JSON object per line.
    Jsonl,
    /// Apache Parquet (flat columns; uncompressed, SNAPPY or GZIP).
    Parquet,
}

/// Why a dataset could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    /// No header / no bytes at all.
    Empty,
    /// The file cannot be read or parsed as the format at all.
    Unreadable(String),
    /// A format this build does not read.
    Unsupported(String),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Empty => write!(f, "the dataset is empty (no header row)"),
            LoadError::Unreadable(m) | LoadError::Unsupported(m) => write!(f, "{m}"),
        }
    }
}

/// The format for a path: explicit `format` config wins, else the extension.
pub fn format_of(path: &Path, configured: Option<&str>) -> Result<Format, LoadError> {
    let ext = configured.map(str::to_ascii_lowercase).unwrap_or_else(|| {
        path.extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default()
    });
    match ext.as_str() {
        "jsonl" | "ndjson" | "json" => Ok(Format::Jsonl),
        "parquet" | "pq" => Ok(Format::Parquet),
        _ => Ok(Format::Csv),
    }
}

/// True when the file at `path` starts with the Parquet magic.
fn has_parquet_magic(path: &Path) -> std::io::Result<bool> {
    let mut head = Vec::with_capacity(4);
    std::fs::File::open(path)?.take(4).read_to_end(&mut head)?;
    Ok(crate::pq_load::is_parquet(&head))
}

/// Load `path` in `format`, keeping `label` as text, reading at most `max_rows`.
/// The Parquet magic overrides `format`; a file said to be Parquet without
/// the magic is unreadable.
pub fn load(path: &Path, format: Format, label: &str, max_rows: usize) -> Result<Table, LoadError> {
    let magic = has_parquet_magic(path)
        .map_err(|e| LoadError::Unreadable(format!("{}: {e}", path.display())))?;
    if magic {
        return crate::pq_load::load_parquet(path, label, max_rows);
    }
    let file = std::fs::File::open(path)
        .map_err(|e| LoadError::Unreadable(format!("{}: {e}", path.display())))?;
    let reader = BufReader::with_capacity(1 << 20, file);
    match format {
        Format::Csv => load_csv(reader, label, max_rows),
        Format::Jsonl => load_jsonl(reader, label, max_rows),
        Format::Parquet if std::fs::metadata(path).is_ok_and(|m| m.len() == 0) => {
            Err(LoadError::Empty)
        }
        Format::Parquet => Err(LoadError::Unreadable(
            "not a Parquet file (it does not start with the `PAR1` magic)".into(),
        )),
    }
}

fn sniff_delimiter(header: &[u8]) -> u8 {
    let count = |d: u8| header.iter().filter(|&&b| b == d).count();
    [b',', b'\t', b';', b'|']
        .into_iter()
        .max_by_key(|&d| (count(d), d == b','))
        .unwrap_or(b',')
}

/// Load CSV with a header row from any reader.
pub fn load_csv<R: Read>(
    mut reader: BufReader<R>,
    label: &str,
    max_rows: usize,
) -> Result<Table, LoadError> {
    let peek = reader
        .fill_buf()
        .map_err(|e| LoadError::Unreadable(e.to_string()))?;
    if peek.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(LoadError::Empty);
    }
    let first_line = peek.split(|&b| b == b'\n').next().unwrap_or(peek);
    let delimiter = sniff_delimiter(first_line);
    let mut csv = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(reader);
    let header = csv
        .byte_headers()
        .map_err(|e| LoadError::Unreadable(format!("CSV header: {e}")))?
        .clone();
    if header.is_empty() {
        return Err(LoadError::Empty);
    }
    if header.len() > MAX_COLUMNS {
        return Err(LoadError::Unreadable(format!(
            "{} columns (more than {MAX_COLUMNS})",
            header.len()
        )));
    }
    let names = unique_names(
        header
            .iter()
            .map(|h| String::from_utf8_lossy(h).trim().to_string()),
    );
    let width = names.len();
    let mut builder = TableBuilder::new(names, Some(label));
    let mut record = csv::ByteRecord::new();
    loop {
        match csv.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                return Err(LoadError::Unreadable(format!(
                    "CSV data row {}: {e}",
                    builder.rows()
                )));
            }
        }
        if builder.rows() >= max_rows {
            break;
        }
        if record.len() != width {
            builder.mark_ragged();
        }
        for (i, cell) in record.iter().take(width).enumerate() {
            builder.push_cell(i, cell);
        }
        builder.end_row();
    }
    Ok(builder.finish())
}

/// Make header names unique (`a`, `a` -> `a`, `a.1`) and non-empty.
pub fn unique_names(names: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, mut name) in names.enumerate() {
        if name.is_empty() {
            name = format!("column_{i}");
        }
        let base = name.clone();
        let mut k = 1;
        while out.contains(&name) {
            name = format!("{base}.{k}");
            k += 1;
        }
        out.push(name);
    }
    out
}

/// Load JSON Lines (one object per line; keys become columns in first-seen order).
pub fn load_jsonl<R: Read>(
    mut reader: BufReader<R>,
    label: &str,
    max_rows: usize,
) -> Result<Table, LoadError> {
    let mut builder = TableBuilder::new(Vec::new(), Some(label));
    let mut index: std::collections::HashMap<String, usize> = Default::default();
    let mut line = Vec::new();
    let mut line_no = 0usize;
    let mut cell = Vec::new();
    loop {
        line.clear();
        let n = (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| LoadError::Unreadable(e.to_string()))?;
        if n == 0 || builder.rows() >= max_rows {
            break;
        }
        line_no += 1;
        if line.len() > MAX_LINE {
            return Err(LoadError::Unreadable(format!(
                "JSONL line {line_no} is longer than {MAX_LINE} bytes"
            )));
        }
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        let object: serde_json::Map<String, serde_json::Value> = match serde_json::from_slice(&line)
        {
            Ok(o) => o,
            Err(_) => {
                // A line that is not an object is a ragged row of missing cells.
                builder.mark_ragged();
                builder.end_row();
                continue;
            }
        };
        for (key, value) in object {
            let col = match index.get(&key) {
                Some(&c) => c,
                None if builder.width() < MAX_COLUMNS => {
                    let c = builder.add_column(key.clone());
                    index.insert(key, c);
                    c
                }
                None => continue,
            };
            cell.clear();
            match value {
                serde_json::Value::Null => {}
                serde_json::Value::String(s) => cell.extend_from_slice(s.as_bytes()),
                serde_json::Value::Bool(b) => cell.push(if b { b'1' } else { b'0' }),
                other => cell.extend_from_slice(other.to_string().as_bytes()),
            }
            builder.push_cell(col, &cell);
        }
        builder.end_row();
    }
    if builder.width() == 0 {
        return Err(LoadError::Empty);
    }
    Ok(builder.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::Kind;

    fn csv(text: &[u8]) -> Result<Table, LoadError> {
        load_csv(BufReader::new(text), "label", usize::MAX)
    }

    #[test]
    fn csv_with_ragged_rows_and_garbage() {
        let t = csv(b"a,b,label\n1,2,x\n3\n5,6,y,extra\n7,\xff,x\n").unwrap();
        assert_eq!(t.rows, 4);
        assert_eq!(t.ragged_rows, vec![1, 2]);
        assert_eq!(t.column("a").unwrap().kind, Kind::Numeric);
        assert_eq!(t.column("label").unwrap().text(2), "y");
    }

    #[test]
    fn semicolon_and_duplicate_headers() {
        let t = csv(b"a;a;;label\n1;2;3;k\n").unwrap();
        let names: Vec<_> = t.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["a", "a.1", "column_2", "label"]);
    }

    #[test]
    fn empty_inputs() {
        assert_eq!(csv(b"").unwrap_err(), LoadError::Empty);
        assert_eq!(csv(b"  \n").unwrap_err(), LoadError::Empty);
        let t = csv(b"a,label\n").unwrap();
        assert_eq!(t.rows, 0);
        let j = load_jsonl(BufReader::new(&b""[..]), "label", 10);
        assert_eq!(j.unwrap_err(), LoadError::Empty);
    }

    #[test]
    fn huge_field_is_loaded_not_trapped() {
        let mut data = b"a,label\n".to_vec();
        data.extend(std::iter::repeat_n(b'z', 10 << 20));
        data.extend_from_slice(b",x\n1,y\n");
        let t = csv(&data).unwrap();
        assert_eq!(t.rows, 2);
        assert_eq!(t.column("a").unwrap().kind, Kind::Categorical);
    }

    #[test]
    fn jsonl_keys_nulls_and_bad_lines() {
        let text = br#"{"x": 1, "label": "a"}
{"x": null, "label": 2, "y": true}
not json
{"x": 2.5, "label": "a", "y": false}
"#;
        let t = load_jsonl(BufReader::new(&text[..]), "label", usize::MAX).unwrap();
        assert_eq!(t.rows, 4);
        assert_eq!(t.ragged_count, 1);
        let x = t.column("x").unwrap();
        assert_eq!(x.kind, Kind::Numeric);
        assert_eq!(x.missing, 2);
        assert_eq!(t.column("label").unwrap().text(1), "2");
        assert_eq!(t.column("y").unwrap().values[3], 0.0);
    }

    #[test]
    fn format_by_extension_or_config() {
        assert_eq!(
            format_of(Path::new("d.parquet"), None).unwrap(),
            Format::Parquet
        );
        assert_eq!(
            format_of(Path::new("d.txt"), Some("jsonl")).unwrap(),
            Format::Jsonl
        );
    }

    #[test]
    fn max_rows_bounds_the_load() {
        let t = load_csv(BufReader::new(&b"a\n1\n2\n3\n"[..]), "label", 2).unwrap();
        assert_eq!(t.rows, 2);
    }
}
