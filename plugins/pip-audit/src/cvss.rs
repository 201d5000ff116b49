//! CVSS base scores from vector strings, and the mapping of an advisory to a
//! finding severity.
//!
//! OSV's `severity[].score` holds the vector (`CVSS:3.1/AV:N/AC:L/…`,
//! `CVSS:4.0/…`, or a bare v2 `AV:N/AC:L/Au:N/…`), not a number. The scores
//! come from RustSec's `cvss` crate, which implements the v2.0 and v3.x
//! equations and the v4.0 macro-vector tables of the FIRST specifications.

use std::str::FromStr;

use mlgate_plugin_sdk::Severity;

use crate::osv::Record;

/// Base score (0.0–10.0) of a CVSS v2, v3.0, v3.1 or v4.0 vector, `None`
/// when malformed or of an unknown version.
pub fn base_score(vector: &str) -> Option<f64> {
    let vector = vector.trim();
    let parsed = cvss::Cvss::from_str(vector).ok()?;
    // The parser fills absent metrics with defaults; a vector missing a
    // mandatory base metric is malformed, not a low score.
    let required: &[&str] = match parsed {
        cvss::Cvss::CvssV20(_) => &["AV", "AC", "Au", "C", "I", "A"],
        cvss::Cvss::CvssV30(_) | cvss::Cvss::CvssV31(_) => {
            &["AV", "AC", "PR", "UI", "S", "C", "I", "A"]
        }
        cvss::Cvss::CvssV40(_) => &[
            "AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA",
        ],
        _ => return None,
    };
    let present: Vec<&str> = vector
        .split('/')
        .filter_map(|part| part.split_once(':').map(|(key, _)| key))
        .collect();
    if !required.iter().all(|key| present.contains(key)) {
        return None;
    }
    let score = parsed.score();
    (0.0..=10.0).contains(&score).then_some(score)
}

/// Qualitative rating of a base score (CVSS v3.1 table 14; 0.0 → info).
pub fn severity_of_score(score: f64) -> Severity {
    match score {
        s if s >= 9.0 => Severity::Critical,
        s if s >= 7.0 => Severity::High,
        s if s >= 4.0 => Severity::Medium,
        s if s > 0.0 => Severity::Low,
        _ => Severity::Info,
    }
}

/// Severity of an advisory and where it came from: the highest CVSS base
/// score among its vectors (any version), else `database_specific.severity`,
/// else medium.
pub fn advisory_severity(record: &Record) -> (Severity, String) {
    let vectors = record
        .severity
        .iter()
        .chain(record.affected.iter().flat_map(|a| &a.severity));
    let best = vectors
        .filter_map(|s| base_score(&s.score).map(|score| (score, s.score.as_str())))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    if let Some((score, vector)) = best {
        return (
            severity_of_score(score),
            format!("CVSS {score:.1} ({vector})"),
        );
    }
    let specific = record
        .database_specific
        .as_ref()
        .and_then(|d| d.get("severity"))
        .and_then(|s| s.as_str());
    if let Some(text) = specific {
        let sev = match text.to_ascii_uppercase().as_str() {
            "CRITICAL" => Some(Severity::Critical),
            "HIGH" => Some(Severity::High),
            "MODERATE" | "MEDIUM" => Some(Severity::Medium),
            "LOW" => Some(Severity::Low),
            _ => None,
        };
        if let Some(sev) = sev {
            return (sev, format!("database_specific.severity {text}"));
        }
    }
    (Severity::Medium, "no CVSS score in the advisory".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nvd_reference_scores() {
        // Scores as published by NVD for these vectors.
        for (vector, want) in [
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
            ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H", 5.9),
            ("CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
            ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6),
        ] {
            assert_eq!(base_score(vector), Some(want), "{vector}");
        }
    }

    #[test]
    fn v2_and_v4_reference_scores() {
        // FIRST's calculators for these vectors.
        for (vector, want) in [
            ("AV:N/AC:L/Au:N/C:P/I:P/A:P", 7.5),
            ("AV:N/AC:M/Au:N/C:N/I:P/A:N", 4.3),
            (
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                9.3,
            ),
            (
                "CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                8.5,
            ),
        ] {
            assert_eq!(base_score(vector), Some(want), "{vector}");
        }
    }

    #[test]
    fn malformed_vectors_are_none() {
        assert_eq!(base_score("CVSS:3.1/AV:N"), None);
        assert_eq!(base_score("CVSS:4.0/AV:N"), None);
        assert_eq!(base_score("CVSS:9.9/AV:N/AC:L"), None);
        assert_eq!(
            base_score("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
            None
        );
        assert_eq!(base_score("7.5"), None);
        assert_eq!(base_score(""), None);
    }

    #[test]
    fn rating_bands() {
        assert_eq!(severity_of_score(9.8), Severity::Critical);
        assert_eq!(severity_of_score(7.0), Severity::High);
        assert_eq!(severity_of_score(6.9), Severity::Medium);
        assert_eq!(severity_of_score(0.1), Severity::Low);
        assert_eq!(severity_of_score(0.0), Severity::Info);
    }

    #[test]
    fn fallbacks() {
        let r: Record = serde_json::from_str(
            r#"{"id":"G","database_specific":{"severity":"MODERATE"},
            "severity":[{"type":"CVSS_V4","score":"CVSS:4.0/AV:N"}]}"#,
        )
        .unwrap();
        assert_eq!(advisory_severity(&r).0, Severity::Medium);
        let r: Record =
            serde_json::from_str(r#"{"id":"G","database_specific":{"severity":"HIGH"}}"#).unwrap();
        assert_eq!(advisory_severity(&r).0, Severity::High);
        let r: Record = serde_json::from_str(r#"{"id":"P"}"#).unwrap();
        assert_eq!(advisory_severity(&r).0, Severity::Medium);
        // A v4 vector is scored now; the highest score of all vectors wins.
        let r: Record = serde_json::from_str(
            r#"{"id":"G","severity":[
              {"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H"},
              {"type":"CVSS_V4","score":"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}]}"#,
        )
        .unwrap();
        let (sev, why) = advisory_severity(&r);
        assert_eq!(sev, Severity::Critical);
        assert!(why.starts_with("CVSS 9.3 (CVSS:4.0/"), "{why}");
    }
}
