//! Matcher tests: OSV evaluation rules on small records, then the traps the
//! PyPA snapshot's README lists, on the real records.

use super::*;

fn record(json: &str) -> Record {
    serde_json::from_str(json).unwrap()
}

fn affects(rec: &Record, name: &str, version: &str) -> bool {
    evaluate(rec, name, &Installed::new(version)).affected
}

fn events(events: &str) -> Record {
    record(&format!(
        r#"{{"id":"T-1","affected":[{{"package":{{"ecosystem":"PyPI","name":"Demo.Pkg"}},
        "ranges":[{{"type":"ECOSYSTEM","events":{events}}}]}}]}}"#
    ))
}

#[test]
fn introduced_fixed_is_half_open() {
    let r = events(r#"[{"introduced":"1.0"},{"fixed":"2.0"}]"#);
    assert!(!affects(&r, "demo-pkg", "0.9"));
    assert!(affects(&r, "demo-pkg", "1.0"));
    assert!(affects(&r, "demo_pkg", "1.9.9"));
    assert!(
        affects(&r, "demo-pkg", "2.0rc1"),
        "a pre-release of the fix is before it"
    );
    assert!(!affects(&r, "demo-pkg", "2.0"));
    assert!(!affects(&r, "demo-pkg", "2.0.0"), "2.0 == 2.0.0 in PEP 440");
    assert!(!affects(&r, "other", "1.5"));
}

#[test]
fn unsorted_events_are_sorted_first() {
    // Two pairs written in descending order (as ansible/django records are).
    let r = events(r#"[{"introduced":"3.0"},{"fixed":"3.2"},{"introduced":"0"},{"fixed":"2.1"}]"#);
    for (v, want) in [
        ("1.0", true),
        ("2.1", false),
        ("2.5", false),
        ("3.1", true),
        ("3.2", false),
    ] {
        assert_eq!(affects(&r, "demo-pkg", v), want, "{v}");
    }
}

#[test]
fn fixed_equal_to_next_introduced_stays_affected() {
    let r = events(
        r#"[{"introduced":"0"},{"fixed":"1.5"},{"introduced":"2.0"},{"fixed":"2.2"},{"introduced":"1.5"},{"fixed":"1.7"}]"#,
    );
    assert!(affects(&r, "demo-pkg", "1.5"));
    assert!(affects(&r, "demo-pkg", "1.6"));
    assert!(!affects(&r, "demo-pkg", "1.7"));
}

#[test]
fn last_affected_is_inclusive_and_limit_caps() {
    let r = events(r#"[{"introduced":"0"},{"last_affected":"1.11.0"}]"#);
    assert!(affects(&r, "demo-pkg", "1.11"));
    assert!(affects(&r, "demo-pkg", "1.11.0"));
    assert!(!affects(&r, "demo-pkg", "1.11.0.post1"));
    let r = events(r#"[{"introduced":"1.0"},{"limit":"1.5"}]"#);
    assert!(affects(&r, "demo-pkg", "1.4"));
    assert!(!affects(&r, "demo-pkg", "1.5"));
}

#[test]
fn versions_list_compares_as_versions_and_strings_only_when_not_pep440() {
    let r = record(
        r#"{"id":"T-2","affected":[{"package":{"ecosystem":"PyPI","name":"x"},
        "versions":["0.8.0-alpha2","1.0","2.0.0-final"]}]}"#,
    );
    assert!(affects(&r, "x", "0.8.0a2"), "normal form of 0.8.0-alpha2");
    assert!(affects(&r, "x", "1.0.0"));
    assert!(
        affects(&r, "x", "2.0.0-final"),
        "identical non-PEP 440 string"
    );
    assert!(
        !affects(&r, "x", "2.0.0"),
        "non-PEP 440 entry must not match loosely"
    );
    assert!(!affects(&r, "x", "1.0.1"));
}

#[test]
fn non_pep440_event_is_unevaluable_not_a_match() {
    let r = events(r#"[{"introduced":"0"},{"fixed":"2019-09-12"}]"#);
    let out = evaluate(&r, "demo-pkg", &Installed::new("1.0"));
    assert!(!out.affected);
    assert_eq!(out.unevaluable.len(), 1, "{out:?}");
    let out = evaluate(&r, "demo-pkg", &Installed::new("not a version"));
    assert!(!out.affected);
}

#[test]
fn git_ranges_ignored_and_withdrawn_skipped() {
    let r = record(
        r#"{"id":"T-3","affected":[{"package":{"ecosystem":"PyPI","name":"x"},
        "ranges":[{"type":"GIT","repo":"r","events":[{"introduced":"0"},{"fixed":"abc1234"}]}]}]}"#,
    );
    let out = evaluate(&r, "x", &Installed::new("1.0"));
    assert!(!out.affected && out.unevaluable.is_empty());
    let r = record(
        r#"{"id":"T-4","withdrawn":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"PyPI","name":"x"},
        "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]}]}"#,
    );
    assert!(!affects(&r, "x", "1.0"));
}

#[test]
fn fix_versions_above_installed_ascending() {
    let r = events(
        r#"[{"introduced":"0"},{"fixed":"2.3.2"},{"introduced":"0.1"},{"fixed":"2.2.5"},{"fixed":"0.1"}]"#,
    );
    let out = evaluate(&r, "demo-pkg", &Installed::new("0.12.2"));
    assert!(out.affected);
    assert_eq!(out.fix_versions, vec!["2.2.5", "2.3.2"]);
}

/// The real records behind the README's traps.
mod snapshot {
    use super::*;
    use crate::osv::db::tests_support::snapshot_records;

    fn rec(id: &str) -> std::sync::Arc<Record> {
        snapshot_records()
            .iter()
            .find(|r| r.id == id)
            .unwrap_or_else(|| panic!("{id} not in snapshot"))
            .clone()
    }

    #[test]
    fn pyspark_shared_boundary() {
        let r = rec("PYSEC-2022-236");
        assert!(affects(&r, "pyspark", "3.1.1"));
        assert!(affects(&r, "pyspark", "3.1.2"));
        assert!(!affects(&r, "pyspark", "3.1.3"));
        assert!(affects(&r, "pyspark", "3.2.1"));
        assert!(!affects(&r, "pyspark", "3.2.2"));
    }

    #[test]
    fn iotdb_out_of_order_pairs() {
        let r = rec("PYSEC-2022-42972");
        assert!(!affects(&r, "apache-iotdb", "0.12.1"));
        assert!(affects(&r, "apache-iotdb", "0.12.2"));
        assert!(affects(&r, "apache-iotdb", "0.13.0"));
        assert!(!affects(&r, "apache-iotdb", "0.14.0rc1"));
    }

    #[test]
    fn py_last_affected() {
        let r = rec("PYSEC-2022-42969");
        assert!(affects(&r, "py", "1.11.0"));
        assert!(!affects(&r, "py", "1.11.1"));
        assert!(
            evaluate(&r, "py", &Installed::new("1.8.2"))
                .fix_versions
                .is_empty()
        );
    }

    #[test]
    fn steam_date_fix_is_unevaluable() {
        let r = rec("PYSEC-2019-125");
        let out = evaluate(&r, "steam", &Installed::new("0.9.0"));
        assert!(!out.unevaluable.is_empty(), "{out:?}");
    }

    #[test]
    fn gratient_has_only_versions() {
        let r = rec("PYSEC-2024-1");
        let listed = r.affected[0].versions[0].clone();
        assert!(affects(&r, "gratient", &listed));
        assert!(!affects(&r, "gratient", "999.0"));
    }

    #[test]
    fn jw_util_name_is_normalised() {
        let r = snapshot_records()
            .iter()
            .find(|r| {
                r.affected
                    .iter()
                    .any(|a| a.package.as_ref().is_some_and(|p| p.name == "jw.util"))
            })
            .expect("jw.util record")
            .clone();
        let v = &r.affected[0].versions[0];
        assert!(affects(&r, "JW_Util", v));
    }

    #[test]
    fn withdrawn_records_never_match() {
        let withdrawn: Vec<_> = snapshot_records()
            .iter()
            .filter(|r| r.is_withdrawn())
            .collect();
        assert_eq!(withdrawn.len(), 10);
        for r in withdrawn {
            for a in &r.affected {
                let (Some(p), Some(v)) = (&a.package, a.versions.first()) else {
                    continue;
                };
                assert!(!affects(r, &p.name, v), "{}", r.id);
            }
        }
    }
}
