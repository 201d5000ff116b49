//! Parquet end to end through the gate: the Parquet copies of the CSV
//! fixtures (`tests/fixtures/data-poisoning/gen_parquet.py`) give the same
//! findings, other types and codecs load to the same values, and broken or
//! hostile files give a clear error, never a panic.

use std::io::BufReader;
use std::path::Path;

use mlgate_plugin_sdk::{GateResult, Request};
use serde_json::json;

use crate::fixture_tests::{fixture, rules, run};
use crate::load::{LoadError, load_csv};
use crate::pq_load::load_parquet;
use crate::table::Kind;

/// Everything of a result but the input path (in fingerprints and locations).
fn comparable(r: &GateResult) -> Vec<String> {
    let mut out: Vec<String> = r
        .findings
        .iter()
        .map(|f| {
            format!(
                "{} {:?} {} {:?}",
                f.rule_id, f.severity, f.message, f.properties
            )
        })
        .collect();
    out.sort();
    out.push(r.summary.clone());
    out
}

/// The Parquet copies of a CSV fixture: SNAPPY, and ZSTD with data pages v1
/// and v2 (dictionary-encoded, several pages per chunk).
fn copies(name: &str) -> [String; 3] {
    [
        format!("parquet/{name}.parquet"),
        format!("parquet/zstd/{name}.parquet"),
        format!("parquet/zstd/{name}.v2.parquet"),
    ]
}

#[test]
fn parquet_and_csv_versions_give_identical_findings() {
    for name in ["clean", "label_flip", "outlier", "backdoor", "duplicate"] {
        let csv = run(json!({}), &[("dataset", &format!("{name}.csv"))]);
        let flagged = csv
            .findings
            .iter()
            .filter(|f| f.get_property("row").is_some());
        assert!(
            name == "clean" || flagged.count() > 0,
            "{name}: nothing to compare"
        );
        for file in copies(name) {
            let pq = run(json!({}), &[("dataset", &file)]);
            assert!(
                !rules(&pq).contains(&"dataset-unreadable"),
                "{file}: {:?}",
                pq.findings
            );
            assert_eq!(comparable(&csv), comparable(&pq), "{file}");
        }
    }
    let csv = run(
        json!({}),
        &[("dataset", "shifted.csv"), ("baseline", "baseline.csv")],
    );
    for (data, base) in copies("shifted").iter().zip(copies("baseline").iter()) {
        let pq = run(json!({}), &[("dataset", data), ("baseline", base)]);
        assert!(
            rules(&pq).contains(&"class-shift"),
            "{data}: {:?}",
            rules(&pq)
        );
        assert_eq!(comparable(&csv), comparable(&pq), "{data}");
    }
}

#[test]
fn dispatch_is_by_magic_not_name() {
    let named_csv = run(json!({}), &[("dataset", "parquet/parquet_named.csv")]);
    let pq = run(json!({}), &[("dataset", "parquet/clean.parquet")]);
    assert_eq!(comparable(&named_csv), comparable(&pq));
    let forced = run(
        json!({"format": "csv"}),
        &[("dataset", "parquet/clean.parquet")],
    );
    assert_eq!(comparable(&forced), comparable(&pq));
}

#[test]
fn gzip_float32_ints_dictionary_text_and_nulls_load_like_the_csv() {
    let p = load_parquet(&fixture("parquet/clean.gzip.parquet"), "label", usize::MAX).unwrap();
    let file = std::fs::File::open(fixture("clean.csv")).unwrap();
    let c = load_csv(BufReader::new(file), "label", usize::MAX).unwrap();
    assert_eq!(p.rows, c.rows);
    let (pf0, cf0) = (p.column("f0").unwrap(), c.column("f0").unwrap());
    assert_eq!(
        pf0.values, cf0.values,
        "float32 widened through its decimal"
    );
    let f1 = p.column("f1").unwrap();
    assert_eq!(f1.missing, c.rows.div_ceil(17));
    let cf1 = &c.column("f1").unwrap().values;
    assert!(
        (0..c.rows)
            .filter(|i| i % 17 != 0)
            .all(|i| f1.values[i] == cf1[i])
    );
    let f2 = p.column("f2").unwrap();
    assert_eq!(f2.kind, Kind::Numeric);
    let cf2 = &c.column("f2").unwrap().values;
    assert!((0..c.rows).all(|i| f2.values[i] == (cf2[i] * 100.0).round()));
    let colour = p.column("colour").unwrap();
    assert_eq!(colour.kind, Kind::Categorical);
    assert_eq!(
        (colour.text(0).as_str(), colour.text(1).as_str()),
        ("red", "green")
    );
    assert_eq!(colour.missing, c.rows / 3);
    let (pl, cl) = (p.column("label").unwrap(), c.column("label").unwrap());
    assert!((0..c.rows).all(|i| pl.text(i) == cl.text(i)));
    let capped = load_parquet(&fixture("parquet/clean.gzip.parquet"), "label", 70).unwrap();
    assert_eq!(capped.rows, 70);
}

/// Two tables hold the same cells (NaN equal to NaN).
fn assert_same_table(a: &crate::table::Table, b: &crate::table::Table, what: &str) {
    assert_eq!(
        (a.rows, a.columns.len()),
        (b.rows, b.columns.len()),
        "{what}"
    );
    for (x, y) in a.columns.iter().zip(&b.columns) {
        let bits =
            |c: &crate::table::Column| c.values.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!((&x.name, x.kind), (&y.name, y.kind), "{what}");
        assert_eq!(bits(x), bits(y), "{what}: {}", x.name);
        assert_eq!(
            (&x.codes, &x.dictionary),
            (&y.codes, &y.dictionary),
            "{what}: {}",
            x.name
        );
        assert_eq!(
            (x.missing, x.non_finite, x.invalid),
            (y.missing, y.non_finite, y.invalid)
        );
    }
}

#[test]
fn zstd_v2_and_plain_pages_with_nulls_load_like_the_gzip_file() {
    let gzip = load_parquet(&fixture("parquet/clean.gzip.parquet"), "label", usize::MAX).unwrap();
    assert!(
        gzip.column("colour").unwrap().missing > 0,
        "nulls to compare"
    );
    for file in [
        "parquet/typed.zstd.v2.parquet",
        "parquet/typed.zstd.plain.parquet",
    ] {
        let zstd = load_parquet(&fixture(file), "label", usize::MAX).unwrap();
        assert_same_table(&gzip, &zstd, file);
    }
    let snappy = load_parquet(&fixture("parquet/clean.parquet"), "label", usize::MAX).unwrap();
    let zstd = load_parquet(&fixture("parquet/clean.zstd.parquet"), "label", usize::MAX).unwrap();
    assert_same_table(&snappy, &zstd, "pyarrow defaults");
}

#[test]
fn broken_and_unsupported_parquet_are_clear() {
    for file in ["parquet/truncated.parquet", "parquet/garbage.parquet"] {
        let r = run(json!({}), &[("dataset", file)]);
        assert_eq!(rules(&r), vec!["dataset-unreadable"], "{file}");
        assert!(
            r.findings[0].message.contains("Parquet"),
            "{}",
            r.findings[0].message
        );
    }
    // An empty file named .parquet is empty, not unreadable.
    let r = run(json!({"format": "parquet"}), &[("dataset", "empty.csv")]);
    assert_eq!(rules(&r), vec!["dataset-empty"]);
    for (file, codec) in [
        ("parquet/clean.lz4.parquet", "LZ4_RAW"),
        ("parquet/clean.brotli.parquet", "BROTLI"),
    ] {
        let p = fixture(file);
        let err = crate::gate::run(&Request::for_test(json!({}), &[("dataset", &p)])).unwrap_err();
        assert!(
            err.message.contains(&format!(
                "compressed with {codec}, which this build does not read"
            )),
            "{file}: {}",
            err.message
        );
    }
}

/// A zigzag varint (Thrift compact i32).
fn zigzag(v: i64) -> Vec<u8> {
    let (mut u, mut out) = (((v << 1) ^ (v >> 63)) as u64, Vec::new());
    loop {
        let b = (u & 0x7f) as u8;
        u >>= 7;
        if u == 0 {
            out.push(b);
            return out;
        }
        out.push(b | 0x80);
    }
}

#[test]
fn a_zstd_file_whose_page_lies_about_its_size_is_unreadable() {
    // The first page (f0's dictionary, right after the magic) starts with
    // its type and its uncompressed size; claim one byte more or less.
    let data = std::fs::read(fixture("parquet/zstd/clean.parquet")).unwrap();
    let h = crate::pq_pages::parse_header(&data[4..]).unwrap();
    let size = zigzag(h.uncompressed);
    let mut at = vec![0x15, 0x04, 0x15];
    at.extend(&size);
    assert_eq!(&data[4..4 + at.len()], &at[..], "header layout");
    for claim in [h.uncompressed - 1, h.uncompressed + 1] {
        let lie = zigzag(claim);
        assert_eq!(lie.len(), size.len());
        let mut bad = data.clone();
        bad[7..7 + lie.len()].copy_from_slice(&lie);
        match load_bytes(&bad, "lie") {
            Err(LoadError::Unreadable(m)) => {
                assert!(m.contains("ZSTD page decompresses to"), "{m}")
            }
            other => panic!("{claim}: {:?}", other.map_err(|e| e.to_string())),
        }
    }
}

/// Load a damaged copy; any outcome but a panic is fine.
fn load_bytes(bytes: &[u8], tag: &str) -> Result<usize, LoadError> {
    let path = std::env::temp_dir().join(format!("mlgate-dp-{}-{tag}.parquet", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    let r = load_parquet(Path::new(&path), "label", usize::MAX).map(|t| t.rows);
    let _ = std::fs::remove_file(&path);
    r
}

#[test]
fn truncated_and_bit_flipped_files_never_panic() {
    for file in [
        "parquet/clean.gzip.parquet",
        "parquet/zstd/clean.parquet",
        "parquet/typed.zstd.v2.parquet",
    ] {
        let data = std::fs::read(fixture(file)).unwrap();
        for cut in (8..data.len()).step_by(173) {
            assert!(
                load_bytes(&data[..cut], "cut").is_err(),
                "{file}: cut at {cut}"
            );
        }
        // Deterministic corruption of single bytes all over the file.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for i in 0..400 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let mut bad = data.clone();
            let at = (state % data.len() as u64) as usize;
            bad[at] ^= 1 << (i % 8);
            let _ = load_bytes(&bad, "flip");
        }
    }
}
