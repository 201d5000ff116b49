//! Helpers shared by the tests on real Sigstore bundles.
#![allow(dead_code)] // each test file uses a part

use std::path::{Path, PathBuf};

use serde_json::Value;

/// A file of `tests/fixtures/signature/real-sigstore` (see its README for
/// where each came from).
pub fn fx(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/signature/real-sigstore")
        .join(p)
}

/// A real-sigstore JSON file, parsed.
pub fn json_of(name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(fx(name)).unwrap()).unwrap()
}
