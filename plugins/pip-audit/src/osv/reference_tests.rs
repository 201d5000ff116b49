//! The matcher against the reference: `tests/fixtures/pip-audit/reference.csv`
//! holds, for 12,000 (package, version) pairs at and around the range
//! boundaries of the PyPA snapshot, the advisory ids that Python's
//! `packaging` (the reference PEP 440 implementation) says affect them
//! (`gen_reference.py` made it). Every pair must agree.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use super::Record;
use super::db::tests_support::snapshot_records;
use super::matcher::{Compiled, Installed};
use crate::names::normalize;

#[test]
fn matcher_agrees_with_packaging_on_every_pair() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/pip-audit"
    );
    let ids: Vec<String> = std::fs::read_to_string(format!("{dir}/reference-ids.txt"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let mut by_name: HashMap<String, Vec<(Arc<Record>, Compiled)>> = HashMap::new();
    for record in snapshot_records() {
        let mut names: Vec<String> = record
            .affected
            .iter()
            .filter_map(|a| a.package.as_ref().map(|p| normalize(&p.name)))
            .collect();
        names.dedup();
        for name in names {
            by_name
                .entry(name)
                .or_default()
                .push((Arc::clone(record), Compiled::new(record)));
        }
    }
    let mut reader = csv::Reader::from_path(format!("{dir}/reference.csv")).unwrap();
    let mut current: HashMap<String, BTreeSet<usize>> = HashMap::new();
    let (mut pairs, mut affected, mut mismatches) = (0, 0, Vec::new());
    for row in reader.records() {
        let row = row.unwrap();
        let (package, version, delta) = (&row[0], &row[1], &row[2]);
        let set = current.entry(package.to_string()).or_default();
        for token in delta.split_whitespace() {
            let n: usize = token[1..].parse().unwrap();
            if token.starts_with('+') {
                set.insert(n);
            } else {
                set.remove(&n);
            }
        }
        let want: BTreeSet<&str> = set.iter().map(|&n| ids[n].as_str()).collect();
        let installed = Installed::new(version);
        let got: BTreeSet<&str> = by_name
            .get(package)
            .map(|records| {
                records
                    .iter()
                    .filter(|(_, c)| c.evaluate(package, &installed).affected)
                    .map(|(r, _)| r.id.as_str())
                    .collect()
            })
            .unwrap_or_default();
        if pairs % 20 == 0 {
            // The one-shot path (lazy `versions` lists) must agree as well.
            let lazy: BTreeSet<&str> = by_name
                .get(package)
                .map(|records| {
                    records
                        .iter()
                        .filter(|(r, _)| super::matcher::evaluate(r, package, &installed).affected)
                        .map(|(r, _)| r.id.as_str())
                        .collect()
                })
                .unwrap_or_default();
            assert_eq!(
                lazy, got,
                "{package} {version}: one-shot and compiled matching differ"
            );
        }
        pairs += 1;
        affected += usize::from(!want.is_empty());
        if got != want {
            mismatches.push(format!(
                "{package} {version}: ours-only {:?}, reference-only {:?}",
                got.difference(&want).collect::<Vec<_>>(),
                want.difference(&got).collect::<Vec<_>>()
            ));
        }
    }
    assert_eq!(pairs, 12_000);
    assert!(
        affected > 5_000,
        "the sample exercises affected pairs ({affected})"
    );
    assert!(
        mismatches.is_empty(),
        "{} of {pairs} pairs differ from packaging:\n{}",
        mismatches.len(),
        mismatches
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
