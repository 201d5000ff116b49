//! CVSS v3.0/v3.1 base scores from vector strings, and the mapping of an
//! advisory to a finding severity.
//!
//! OSV's `severity[].score` holds the vector (`CVSS:3.1/AV:N/AC:L/…`), not a
//! number, so the base score is computed with the formulas of the CVSS v3.1
//! specification (section 7.1, with its `Roundup`). CVSS v4 vectors need the
//! v4 macro-vector lookup tables and are not scored here: such records fall
//! back to `database_specific.severity` (GHSA's `LOW|MODERATE|HIGH|CRITICAL`)
//! and then to `medium`.

use mlgate_plugin_sdk::Severity;

use crate::osv::Record;

/// Base score (0.0–10.0) of a CVSS v3.x vector, `None` when malformed.
pub fn base_score_v3(vector: &str) -> Option<f64> {
    let mut parts = vector.trim().split('/');
    let head = parts.next()?;
    if head != "CVSS:3.1" && head != "CVSS:3.0" {
        return None;
    }
    let (mut av, mut ac, mut pr, mut ui, mut s, mut c, mut i, mut a) =
        (None, None, None, None, None, None, None, None);
    for part in parts {
        let (key, value) = part.split_once(':')?;
        let slot = match key {
            "AV" => &mut av,
            "AC" => &mut ac,
            "PR" => &mut pr,
            "UI" => &mut ui,
            "S" => &mut s,
            "C" => &mut c,
            "I" => &mut i,
            "A" => &mut a,
            _ => continue, // temporal / environmental metrics do not change the base
        };
        *slot = Some(value);
    }
    let changed = match s? {
        "U" => false,
        "C" => true,
        _ => return None,
    };
    let av = match av? {
        "N" => 0.85,
        "A" => 0.62,
        "L" => 0.55,
        "P" => 0.2,
        _ => return None,
    };
    let ac = match ac? {
        "L" => 0.77,
        "H" => 0.44,
        _ => return None,
    };
    let pr = match (pr?, changed) {
        ("N", _) => 0.85,
        ("L", false) => 0.62,
        ("L", true) => 0.68,
        ("H", false) => 0.27,
        ("H", true) => 0.5,
        _ => return None,
    };
    let ui = match ui? {
        "N" => 0.85,
        "R" => 0.62,
        _ => return None,
    };
    let cia = |m: Option<&str>| match m? {
        "H" => Some(0.56),
        "L" => Some(0.22),
        "N" => Some(0.0),
        _ => None,
    };
    let iss = 1.0 - (1.0 - cia(c)?) * (1.0 - cia(i)?) * (1.0 - cia(a)?);
    let impact = if changed {
        7.52 * (iss - 0.029) - 3.25 * (iss - 0.02f64).powi(15)
    } else {
        6.42 * iss
    };
    if impact <= 0.0 {
        return Some(0.0);
    }
    let exploitability = 8.22 * av * ac * pr * ui;
    let raw = if changed {
        1.08 * (impact + exploitability)
    } else {
        impact + exploitability
    };
    Some(roundup(raw.min(10.0)))
}

/// CVSS v3.1 `Roundup`: smallest one-decimal number >= x, robust to float noise.
fn roundup(x: f64) -> f64 {
    let scaled = (x * 100_000.0).round() as i64;
    if scaled % 10_000 == 0 {
        scaled as f64 / 100_000.0
    } else {
        ((scaled / 10_000) + 1) as f64 / 10.0
    }
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

/// Severity of an advisory and where it came from: the highest CVSS v3 base
/// score among its vectors, else `database_specific.severity`, else medium.
pub fn advisory_severity(record: &Record) -> (Severity, String) {
    let vectors = record
        .severity
        .iter()
        .chain(record.affected.iter().flat_map(|a| &a.severity));
    let best = vectors
        .filter_map(|s| base_score_v3(&s.score).map(|score| (score, s.score.as_str())))
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
    (Severity::Medium, "no CVSS v3 score in the advisory".into())
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
            assert_eq!(base_score_v3(vector), Some(want), "{vector}");
        }
    }

    #[test]
    fn malformed_vectors_are_none() {
        assert_eq!(base_score_v3("CVSS:3.1/AV:N"), None);
        assert_eq!(
            base_score_v3("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"),
            None
        );
        assert_eq!(
            base_score_v3("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
            None
        );
        assert_eq!(base_score_v3("7.5"), None);
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
    }
}
