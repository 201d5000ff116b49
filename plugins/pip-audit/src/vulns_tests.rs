//! Merging and ignore tests.

use super::*;

fn hit(id: &str, aliases: &[&str], sev: Severity) -> Hit {
    Hit {
        id: id.into(),
        aliases: aliases.iter().map(|s| s.to_string()).collect(),
        fix_versions: vec![],
        severity: (sev, String::new()),
        summary: String::new(),
    }
}

#[test]
fn shared_alias_merges_transitively() {
    let groups = merge(vec![
        hit("PYSEC-2", &["CVE-1"], Severity::Low),
        hit("GHSA-x", &["CVE-2"], Severity::Low),
        hit("PYSEC-1", &["CVE-1", "CVE-2"], Severity::Low),
        hit("PYSEC-9", &["CVE-9"], Severity::Low),
    ]);
    assert_eq!(groups.len(), 2);
    let big = groups.iter().find(|g| g.2.len() == 3).unwrap();
    assert_eq!(big.0, "PYSEC-1", "PYSEC preferred, lowest id");
    assert!(big.1.contains("PYSEC-2") && big.1.contains("GHSA-x") && big.1.contains("CVE-2"));
}

#[test]
fn merged_severity_is_the_highest() {
    let v = vulns_from_hits(
        vec![
            hit("PYSEC-1", &["CVE-1"], Severity::Low),
            hit("GHSA-1", &["CVE-1"], Severity::Critical),
        ],
        "x",
        "1.0",
        "r.txt",
        Some(1),
        "r.txt",
        "osv-database",
    );
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].severity.0, Severity::Critical);
    let f = v[0].clone().into_finding();
    assert_eq!(f.rule_id, "PYSEC-1");
    assert_eq!(f.get_property("aliases"), Some("CVE-1,GHSA-1"));
}

#[test]
fn ignore_matches_any_id_and_expires() {
    let v = vulns_from_hits(
        vec![hit("PYSEC-1", &["CVE-1"], Severity::Low)],
        "x",
        "1.0",
        "r",
        None,
        "r",
        "osv-database",
    );
    let entry = |expires: Option<&str>| IgnoreEntry {
        id: "cve-1".into(),
        reason: "r".into(),
        expires: expires.map(str::to_string),
    };
    let day = dates::parse_day("2025-06-01").unwrap();
    let (kept, expired, ignored) = apply_ignores(v.clone(), &[entry(None)], day);
    assert!(kept.is_empty() && expired.is_empty() && ignored == 1);
    let (kept, expired, _) = apply_ignores(v.clone(), &[entry(Some("2025-06-01"))], day);
    assert_eq!((kept.len(), expired.len()), (1, 1), "expires on that day");
    let (kept, _, _) = apply_ignores(v, &[entry(Some("2025-06-02"))], day);
    assert!(kept.is_empty());
}
