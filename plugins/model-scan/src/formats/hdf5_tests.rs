//! Tests of the HDF5 attribute reader on files h5py wrote.

use super::*;
use crate::config::Config;
use crate::rules;
use crate::scan::Scanner;

use crate::test_support::fixture;

fn model_config(rel: &str) -> serde_json::Value {
    let blob = Blob::file(fixture(rel)).unwrap();
    let root = root_attributes(&blob, 1 << 20).unwrap_or_else(|e| panic!("{rel}: {e}"));
    assert!(!root.dense, "{rel}");
    let attr = root
        .attrs
        .iter()
        .find(|a| a.name == "model_config")
        .unwrap_or_else(|| panic!("{rel}: no model_config in {:?}", root.attrs));
    serde_json::from_slice(attr.text.as_deref().unwrap()).unwrap()
}

#[test]
fn reads_model_config_in_every_layout_h5py_writes() {
    for rel in [
        "malicious/lambda_legacy.h5",    // vlen string, superblock v0
        "malicious/lambda_fixed.h5",     // fixed-length string
        "malicious/lambda_late_heap.h5", // global heap after the weights
        "malicious/lambda_v3.h5",        // superblock v3, OHDR v2
        "benign/legacy_dense.h5",
        "benign/config_text_in_dataset.h5",
        "malicious/lambda_dense.h5",      // dense storage, leaf B-tree
        "malicious/lambda_dense_many.h5", // two-level B-tree, indirect heap block
        "benign/dense_config_text_in_dataset.h5", // dense, Lambda text in a dataset
        "malicious/lambda_dense_huge.h5", // 90 KB fixed-length string: a huge object
    ] {
        let v = model_config(rel);
        assert_eq!(v["class_name"], "Sequential", "{rel}");
    }
}

#[test]
fn config_far_into_the_file_is_found_and_dataset_text_is_not_config() {
    // a byte search of the first 8 KiB would miss the heap at ~35 KB
    let cfg = Config {
        hdf5_search_bytes: 8 << 10,
        ..Config::default()
    };
    let mut scanner = Scanner::new(&cfg);
    let hits = scanner.scan_file(&fixture("malicious/lambda_late_heap.h5"));
    assert!(
        hits.iter().any(|h| h.rule == rules::KERAS_LAMBDA),
        "{hits:?}"
    );
    let cfg = Config::default();
    let mut scanner = Scanner::new(&cfg);
    let hits = scanner.scan_file(&fixture("benign/config_text_in_dataset.h5"));
    assert!(hits.is_empty(), "{hits:?}");
}

#[test]
fn dense_attributes_are_read_not_searched() {
    // the config's heap object lies after 32 KiB of weights: a byte
    // search of the first 8 KiB misses it, the attribute reader does not;
    // Lambda text in a dataset before it is not config
    let cfg = Config {
        hdf5_search_bytes: 8 << 10,
        ..Config::default()
    };
    let mut scanner = Scanner::new(&cfg);
    for rel in [
        "malicious/lambda_dense.h5",
        "malicious/lambda_dense_many.h5",
    ] {
        let hits = scanner.scan_file(&fixture(rel));
        assert!(
            hits.iter().any(|h| h.rule == rules::KERAS_LAMBDA),
            "{rel}: {hits:?}"
        );
    }
    let hits = scanner.scan_file(&fixture("benign/dense_config_text_in_dataset.h5"));
    assert!(hits.is_empty(), "{hits:?}");
    // a config string over the bound is not read, and the first 8 KiB
    // hold no config: said (medium), not passed silently
    let hits = scanner.scan_file(&fixture("malicious/lambda_dense_huge.h5"));
    assert!(
        hits.iter()
            .any(|h| h.rule == rules::SCAN_LIMIT && h.severity.as_str() == "medium"),
        "{hits:?}"
    );
    // every truncation and single-byte corruption is an error or a
    // fallback, never a panic
    let bytes = std::fs::read(fixture("malicious/lambda_dense_many.h5")).unwrap();
    for at in (0..bytes.len()).step_by(97) {
        let mut bad = bytes.clone();
        bad[at] ^= 0xff;
        let _ = root_attributes(&Blob::mem(bad), 1 << 20);
        let _ = root_attributes(&Blob::mem(bytes[..at].to_vec()), 1 << 20);
    }
}

#[test]
fn truncated_and_corrupt_files_are_errors_not_panics() {
    let bytes = std::fs::read(fixture("malicious/lambda_v3.h5")).unwrap();
    for cut in [9, 40, 200, 400, bytes.len() / 2] {
        let _ = root_attributes(&Blob::mem(bytes[..cut].to_vec()), 1 << 20);
    }
    let mut bad = bytes.clone();
    bad[8] = 9;
    assert!(root_attributes(&Blob::mem(bad), 1 << 20).is_err());
}
