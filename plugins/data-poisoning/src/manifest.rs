//! Provenance: the dataset's SHA-256 (hashed natively by the host) against a
//! manifest. A manifest is `sha256sum` output (`HEX  name` lines), a JSON
//! object (`{"sha256": HEX}` or `{"files": {name: HEX}}`), or a bare hex digest.

use std::io::Read;
use std::path::Path;

use mlgate_plugin_sdk::{DigestAlgorithm, host};

/// Largest manifest read (bytes).
const MAX_MANIFEST: u64 = 4 << 20;

/// Outcome of the provenance check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provenance {
    /// The digest matches the manifest.
    Match(String),
    /// The digest differs: (expected, actual).
    Mismatch(String, String),
    /// The manifest names no digest for this file.
    NoEntry,
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The expected SHA-256 for a file named `name` in manifest `text`.
pub fn expected_digest(text: &str, name: &str) -> Option<String> {
    if let Ok(json) = serde_json::from_str::<serde_json::Value>(text) {
        let direct = json.get("sha256").and_then(|v| v.as_str());
        let by_name = json
            .get("files")
            .and_then(|f| f.get(name))
            .and_then(|v| v.as_str().or_else(|| v.get("sha256")?.as_str()));
        return by_name
            .or(direct)
            .map(|s| s.trim_start_matches("sha256:").to_ascii_lowercase())
            .filter(|s| is_hex64(s));
    }
    let mut lone = Vec::new();
    for line in text.lines() {
        let mut parts = line.split_whitespace();
        let Some(hash) = parts.next().map(|h| h.trim_start_matches("sha256:")) else {
            continue;
        };
        if !is_hex64(hash) {
            continue;
        }
        match parts.next().map(|f| f.trim_start_matches('*')) {
            Some(file) if file.rsplit('/').next() == Some(name) => {
                return Some(hash.to_ascii_lowercase());
            }
            Some(_) => {}
            None => lone.push(hash.to_ascii_lowercase()),
        }
    }
    (lone.len() == 1).then(|| lone.remove(0))
}

/// Check `dataset` against `manifest`.
pub fn check(dataset: &Path, manifest: &Path) -> Result<Provenance, String> {
    let mut text = String::new();
    std::fs::File::open(manifest)
        .map_err(|e| format!("{}: {e}", manifest.display()))?
        .take(MAX_MANIFEST)
        .read_to_string(&mut text)
        .map_err(|e| format!("{}: {e}", manifest.display()))?;
    let name = dataset
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let Some(expected) = expected_digest(&text, &name) else {
        return Ok(Provenance::NoEntry);
    };
    let path = dataset.to_string_lossy();
    let actual = host::to_hex(&host::digest(&path, DigestAlgorithm::Sha256)?);
    Ok(if actual == expected {
        Provenance::Match(actual)
    } else {
        Provenance::Mismatch(expected, actual)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn manifest_formats() {
        let sums = format!("{}  other.csv\n{ABC}  data/train.csv\n", "0".repeat(64));
        assert_eq!(expected_digest(&sums, "train.csv").as_deref(), Some(ABC));
        assert_eq!(expected_digest(ABC, "x").as_deref(), Some(ABC));
        let json = format!(r#"{{"files": {{"train.csv": "sha256:{ABC}"}}}}"#);
        assert_eq!(expected_digest(&json, "train.csv").as_deref(), Some(ABC));
        assert_eq!(expected_digest("nothing here", "x"), None);
    }

    #[test]
    fn digest_match_and_mismatch() {
        let dir = std::env::temp_dir().join(format!("dp-manifest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let data = dir.join("train.csv");
        std::fs::write(&data, b"abc").unwrap();
        let m = dir.join("SHA256SUMS");
        std::fs::write(&m, format!("{ABC}  train.csv\n")).unwrap();
        assert_eq!(check(&data, &m).unwrap(), Provenance::Match(ABC.into()));
        std::fs::write(&data, b"abd").unwrap();
        assert!(matches!(
            check(&data, &m).unwrap(),
            Provenance::Mismatch(..)
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
