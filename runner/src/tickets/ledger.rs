//! The local ledger: what each sink has filed, keyed by sink and ticket
//! fingerprint, in `<project>/.mlgate/tickets-ledger.json`. A rerun finds
//! the ticket here (or, for GitHub, by its marker) and updates it instead of
//! filing it again. Written after every successful filing, atomically
//! (write to a temporary file, then rename), so a crash loses nothing filed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One filed ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Where it went: an issue URL/number, a file path, a webhook URL.
    pub reference: String,
    /// When it was first filed (RFC 3339).
    pub first_filed: String,
    /// When it was last updated.
    pub last_updated: String,
    /// How many runs reported it.
    pub occurrences: u64,
}

/// The ledger file.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Ledger {
    /// `sink key` → fingerprint → entry.
    pub sinks: BTreeMap<String, BTreeMap<String, Entry>>,
    #[serde(skip)]
    path: PathBuf,
}

impl Ledger {
    /// The ledger path of a project.
    pub fn path_in(project: &Path) -> PathBuf {
        project.join(".mlgate").join("tickets-ledger.json")
    }

    /// Load (a missing file is an empty ledger; a corrupt one is an error,
    /// since ignoring it would file duplicates).
    pub fn load(path: &Path) -> Result<Ledger, String> {
        let mut ledger = match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str::<Ledger>(&text).map_err(|e| {
                format!(
                    "ticket ledger {} is corrupt ({e}); fix or remove it",
                    path.display()
                )
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ledger::default(),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        ledger.path = path.to_path_buf();
        Ok(ledger)
    }

    /// The entry of a ticket in a sink.
    pub fn get(&self, sink: &str, fingerprint: &str) -> Option<&Entry> {
        self.sinks.get(sink)?.get(fingerprint)
    }

    /// Record a filing or an update, and save.
    pub fn record(&mut self, sink: &str, fingerprint: &str, reference: &str) -> Result<(), String> {
        let now = jiff::Timestamp::now().to_string();
        let entry = self
            .sinks
            .entry(sink.to_string())
            .or_default()
            .entry(fingerprint.to_string())
            .or_insert_with(|| Entry {
                reference: reference.to_string(),
                first_filed: now.clone(),
                last_updated: now.clone(),
                occurrences: 0,
            });
        entry.reference = reference.to_string();
        entry.last_updated = now;
        entry.occurrences += 1;
        self.save()
    }

    fn save(&self) -> Result<(), String> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let tmp = self.path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(self).expect("serialises");
        std::fs::write(&tmp, text + "\n")
            .and_then(|()| std::fs::rename(&tmp, &self.path))
            .map_err(|e| format!("cannot write {}: {e}", self.path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_a_reload_and_count_occurrences() {
        let dir = tempfile::tempdir().unwrap();
        let path = Ledger::path_in(dir.path());
        let mut l = Ledger::load(&path).unwrap();
        l.record("github:o/r", "fp1", "#1").unwrap();
        l.record("github:o/r", "fp1", "#1").unwrap();
        let l = Ledger::load(&path).unwrap();
        assert_eq!(l.get("github:o/r", "fp1").unwrap().occurrences, 2);
        assert!(l.get("file:x", "fp1").is_none());
        std::fs::write(&path, "{not json").unwrap();
        assert!(Ledger::load(&path).unwrap_err().contains("corrupt"));
    }
}
