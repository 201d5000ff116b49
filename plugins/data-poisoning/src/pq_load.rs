//! Parquet loader (the `parquet` crate's column readers, no Arrow) into a
//! [`Table`].
//!
//! Each row group is read column by column in batches of [`BATCH`] rows and
//! the batch is then handed to the [`TableBuilder`] row by row, so memory is
//! the table plus one batch. Numbers go in as numbers (`f32` through its
//! shortest decimal, so `0.4f32` is `0.4` as in a CSV); text goes through the
//! same cell parser as CSV. Nothing a file claims is allocated unchecked:
//! the footer is bounded by the file, every column chunk must lie inside the
//! file and below [`MAX_CHUNK`], and every page header is checked by
//! [`pq_guard`](crate::pq_guard) before the crate decodes it.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parquet::basic::{Compression, ConvertedType, LogicalType, Type as Physical};
use parquet::column::reader::{ColumnReader, ColumnReaderImpl, get_column_reader};
use parquet::data_type::{ByteArray, DataType};
use parquet::errors::ParquetError;
use parquet::file::metadata::ParquetMetaData;
use parquet::file::reader::{ChunkReader, FileReader, Length};
use parquet::file::serialized_reader::SerializedFileReader;

use crate::load::{LoadError, MAX_COLUMNS, unique_names};
use crate::pq_guard;
use crate::pq_pad::Padded;
use crate::pq_pages::ZstdPages;
use crate::table::{Table, TableBuilder};

/// Rows decoded per column before they are handed to the builder.
pub const BATCH: usize = 4096;
/// Largest column chunk accepted (bytes, compressed).
pub const MAX_CHUNK: u64 = 256 << 20;

/// A Parquet file read by path: every read opens the file anew (WASI has no
/// `try_clone`), and no read reaches past the file's end.
struct PathChunks {
    path: PathBuf,
    len: u64,
}

impl Length for PathChunks {
    fn len(&self) -> u64 {
        self.len
    }
}

impl ChunkReader for PathChunks {
    type T = BufReader<std::io::Take<File>>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        let mut f = File::open(&self.path)?;
        f.seek(SeekFrom::Start(start))?;
        Ok(BufReader::new(f.take(self.len.saturating_sub(start))))
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<bytes::Bytes> {
        let end = start.checked_add(length as u64);
        if end.is_none_or(|e| e > self.len) {
            return Err(ParquetError::EOF(format!(
                "{length} bytes at {start} lie past the end of the file ({} bytes)",
                self.len
            )));
        }
        let mut f = File::open(&self.path)?;
        f.seek(SeekFrom::Start(start))?;
        let mut buf = Vec::with_capacity(length);
        f.take(length as u64).read_to_end(&mut buf)?;
        if buf.len() != length {
            return Err(ParquetError::EOF("the file shrank while being read".into()));
        }
        Ok(buf.into())
    }
}

fn unreadable(e: impl std::fmt::Display) -> LoadError {
    LoadError::Unreadable(format!("Parquet: {e}"))
}

/// True when a file starting with `head` is Parquet (magic `PAR1`; a
/// truncated file without the trailing magic is then a clear Parquet error).
pub fn is_parquet(head: &[u8]) -> bool {
    head.starts_with(b"PAR1")
}

/// One decoded cell of a batch.
enum Cell {
    Null,
    Num(f64),
    Bytes(ByteArray),
}

/// A column being read: its reader, its levels and the current batch.
struct Col {
    reader: ColumnReader,
    max_def: i16,
    /// `10^scale` for decimals, else 1.
    divisor: f64,
    decimal: bool,
    def: Vec<i16>,
    cells: Vec<Cell>,
}

/// Read up to `n` rows of a flat column into `out` (nulls included).
fn read_typed<T: DataType>(
    r: &mut ColumnReaderImpl<T>,
    n: usize,
    max_def: i16,
    def: &mut Vec<i16>,
    out: &mut Vec<Cell>,
    convert: impl Fn(&T::T) -> Cell,
) -> parquet::errors::Result<usize> {
    def.clear();
    let mut values = Vec::new();
    let (records, _, _) = r.read_records(n, Some(def), None, &mut values)?;
    let mut it = values.iter();
    for i in 0..records {
        if max_def > 0 && def.get(i) != Some(&max_def) {
            out.push(Cell::Null);
            continue;
        }
        match it.next() {
            Some(v) => out.push(convert(v)),
            None => return Err(ParquetError::General("fewer values than levels".into())),
        }
    }
    Ok(records)
}

/// An `f32` as the `f64` of its shortest decimal (what a CSV would hold).
fn widen(v: f32) -> f64 {
    if v.is_finite() {
        format!("{v}").parse().unwrap_or(f64::from(v))
    } else {
        f64::from(v)
    }
}

/// A big-endian two's-complement integer (a decimal's unscaled value).
fn be_signed(bytes: &[u8]) -> f64 {
    let Some(&first) = bytes.first() else {
        return 0.0;
    };
    let mut v = if first & 0x80 != 0 { -1.0 } else { 0.0 };
    for &b in bytes {
        v = v * 256.0 + f64::from(b);
    }
    if first & 0x80 != 0 { v + 1.0 } else { v }
}

/// Seconds since 1970 of a legacy INT96 timestamp (nanos of day, Julian day).
fn int96_seconds(d: &[u32]) -> f64 {
    let nanos = (u64::from(d[1]) << 32 | u64::from(d[0])) as f64;
    (f64::from(d[2]) - 2_440_588.0) * 86_400.0 + nanos / 1e9
}

impl Col {
    fn read(&mut self, n: usize) -> parquet::errors::Result<usize> {
        let (m, def, out, k) = (self.max_def, &mut self.def, &mut self.cells, self.divisor);
        match &mut self.reader {
            ColumnReader::BoolColumnReader(r) => {
                read_typed(r, n, m, def, out, |&b| Cell::Num(f64::from(u8::from(b))))
            }
            ColumnReader::Int32ColumnReader(r) => {
                read_typed(r, n, m, def, out, |&v| Cell::Num(f64::from(v) / k))
            }
            ColumnReader::Int64ColumnReader(r) => {
                read_typed(r, n, m, def, out, |&v| Cell::Num(v as f64 / k))
            }
            ColumnReader::Int96ColumnReader(r) => {
                read_typed(r, n, m, def, out, |v| Cell::Num(int96_seconds(v.data())))
            }
            ColumnReader::FloatColumnReader(r) => {
                read_typed(r, n, m, def, out, |&v| Cell::Num(widen(v)))
            }
            ColumnReader::DoubleColumnReader(r) => read_typed(r, n, m, def, out, |&v| Cell::Num(v)),
            ColumnReader::ByteArrayColumnReader(r) => {
                read_typed(r, n, m, def, out, |v| Cell::Bytes(v.clone()))
            }
            ColumnReader::FixedLenByteArrayColumnReader(r) => {
                let decimal = self.decimal;
                read_typed(r, n, m, def, out, |v| {
                    if decimal {
                        Cell::Num(be_signed(v.data()) / k)
                    } else {
                        Cell::Bytes(v.data().to_vec().into())
                    }
                })
            }
        }
    }
}

/// Check what the footer claims before any page is decoded: codecs, chunk
/// ranges, every page header.
fn check_chunks(path: &Path, len: u64, meta: &ParquetMetaData) -> Result<(), LoadError> {
    let mut file = File::open(path).map_err(unreadable)?;
    for rg in meta.row_groups() {
        for cc in rg.columns() {
            let name = cc.column_path().string();
            match cc.compression() {
                Compression::UNCOMPRESSED
                | Compression::SNAPPY
                | Compression::GZIP(_)
                | Compression::ZSTD(_) => {}
                other => {
                    let other = match other {
                        Compression::BROTLI(_) => "BROTLI",
                        Compression::LZ4 => "LZ4",
                        Compression::LZ4_RAW => "LZ4_RAW",
                        _ => "LZO",
                    };
                    return Err(LoadError::Unsupported(format!(
                        "Parquet column `{name}` is compressed with {other}, which this build \
                         does not read (it reads uncompressed, SNAPPY, GZIP and ZSTD): rewrite \
                         the file with one of those (pyarrow: compression=\"zstd\")"
                    )));
                }
            }
            // Not `byte_range()`: it panics on negative offsets.
            let start = cc.dictionary_page_offset().unwrap_or(cc.data_page_offset());
            let (Ok(start), Ok(size)) = (u64::try_from(start), u64::try_from(cc.compressed_size()))
            else {
                return Err(unreadable(format!(
                    "column `{name}`: negative chunk offset or size"
                )));
            };
            if size > MAX_CHUNK || start.checked_add(size).is_none_or(|e| e > len) {
                return Err(unreadable(format!(
                    "column `{name}`: chunk of {size} bytes at {start} is outside the file \
                     ({len} bytes) or larger than {MAX_CHUNK}"
                )));
            }
            pq_guard::check_chunk(&mut file, &name, start, size).map_err(unreadable)?;
        }
    }
    Ok(())
}

/// Load a Parquet file, keeping `label` as text, reading at most `max_rows`.
pub fn load_parquet(path: &Path, label: &str, max_rows: usize) -> Result<Table, LoadError> {
    let len = std::fs::metadata(path).map_err(unreadable)?.len();
    let chunks = PathChunks {
        path: path.to_path_buf(),
        len,
    };
    let reader = SerializedFileReader::new(chunks).map_err(unreadable)?;
    let meta = reader.metadata();
    let schema = meta.file_metadata().schema_descr();
    let descrs = schema.columns();
    if descrs.is_empty() {
        return Err(LoadError::Empty);
    }
    if descrs.len() > MAX_COLUMNS {
        return Err(unreadable(format!(
            "{} columns (more than {MAX_COLUMNS})",
            descrs.len()
        )));
    }
    if let Some(d) = descrs.iter().find(|d| d.max_rep_level() > 0) {
        return Err(unreadable(format!(
            "column `{}` is nested (a list or map); only flat columns are read",
            d.path().string()
        )));
    }
    check_chunks(path, len, meta)?;
    let names = unique_names(descrs.iter().map(|d| d.path().string()));
    let mut builder = TableBuilder::new(names, Some(label));
    for g in 0..reader.num_row_groups() {
        if builder.rows() >= max_rows {
            break;
        }
        let rg = reader.get_row_group(g).map_err(unreadable)?;
        let claimed = usize::try_from(rg.metadata().num_rows()).unwrap_or(0);
        let mut cols = Vec::with_capacity(descrs.len());
        for (i, d) in descrs.iter().enumerate() {
            let decimal = d.converted_type() == ConvertedType::DECIMAL
                || matches!(d.logical_type_ref(), Some(LogicalType::Decimal { .. }));
            let scale = if decimal {
                d.type_scale().clamp(0, 300)
            } else {
                0
            };
            let flba = d.physical_type() == Physical::FIXED_LEN_BYTE_ARRAY;
            let cc = rg.metadata().column(i);
            let reader = if matches!(cc.compression(), Compression::ZSTD(_)) {
                // The crate's own ZSTD codec is the C library: pages come
                // from our reader, decompressed by ruzstd.
                let (start, size) = cc.byte_range();
                let chunks = Arc::new(PathChunks {
                    path: path.to_path_buf(),
                    len,
                });
                let name = d.path().string();
                let pages = ZstdPages::new(chunks, d.physical_type(), start, size, &name);
                get_column_reader(d.clone(), Box::new(pages))
            } else {
                let pages = rg.get_column_page_reader(i).map_err(unreadable)?;
                get_column_reader(d.clone(), Box::new(Padded::new(pages, d.physical_type())))
            };
            cols.push(Col {
                reader,
                max_def: d.max_def_level(),
                divisor: 10f64.powi(scale),
                decimal: decimal && flba,
                def: Vec::new(),
                cells: Vec::new(),
            });
        }
        let mut left = claimed.min(max_rows - builder.rows());
        while left > 0 {
            let want = left.min(BATCH);
            let mut got = None;
            for (col, d) in cols.iter_mut().zip(descrs) {
                col.cells.clear();
                let n = col.read(want).map_err(unreadable)?;
                if n == 0 || got.is_some_and(|g| g != n) {
                    return Err(unreadable(format!(
                        "row group {g}: column `{}` holds fewer rows than the {claimed} claimed",
                        d.path().string()
                    )));
                }
                got = Some(n);
            }
            let n = got.unwrap_or(0);
            for r in 0..n {
                for (i, col) in cols.iter().enumerate() {
                    match &col.cells[r] {
                        Cell::Null => builder.push_cell(i, b""),
                        Cell::Num(v) => builder.push_number(i, *v),
                        Cell::Bytes(b) => builder.push_cell(i, b.data()),
                    }
                }
                builder.end_row();
            }
            left = left.saturating_sub(n);
        }
    }
    Ok(builder.finish())
}
