//! The JSON report: [`RunReport`] serialised as is (the contract in
//! DESIGN.md: top-level `status` and `gates`, each gate with `id`, `plugin`,
//! `stage`, `status`, `reason`, `duration_ms`, `findings`).

use super::model::RunReport;

/// Pretty-printed JSON with a trailing newline.
pub fn render(report: &RunReport) -> String {
    let mut text = serde_json::to_string_pretty(report).expect("report serialises");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Severity, Stage};
    use crate::report::model::{Finding, FindingLocation, GateReport, GateStatus, RunStatus};

    #[test]
    fn follows_the_contract() {
        let mut gate =
            GateReport::skipped("g", "builtin:x", Stage::Training, "high".into(), "r".into());
        gate.status = GateStatus::Fail;
        gate.findings.push(Finding {
            rule_id: "rule".into(),
            severity: Severity::High,
            message: "m".into(),
            location: Some(FindingLocation {
                path: "a/b".into(),
                line: Some(3),
                column: None,
                byte_offset: None,
            }),
            fingerprint: "fp".into(),
            properties: [("k".to_string(), "v".to_string())].into(),
        });
        let report = RunReport {
            status: RunStatus::Fail,
            pipeline: "p".into(),
            mlgate_version: "0".into(),
            duration_ms: 1,
            dry_run: false,
            skipped_side_effects: vec![],
            interrupted: false,
            expired_suppressions: vec![],
            git: None,
            gates: vec![gate],
        };
        let v: serde_json::Value = serde_json::from_str(&render(&report)).unwrap();
        assert_eq!(v["status"], "fail");
        let g = &v["gates"][0];
        for key in [
            "id",
            "plugin",
            "stage",
            "status",
            "reason",
            "duration_ms",
            "findings",
        ] {
            assert!(g.get(key).is_some(), "missing {key}");
        }
        assert_eq!(g["stage"], "training");
        let f = &g["findings"][0];
        assert_eq!(f["rule_id"], "rule");
        assert_eq!(f["severity"], "high");
        assert_eq!(f["location"]["path"], "a/b");
        assert_eq!(f["location"]["line"], 3);
        assert_eq!(f["fingerprint"], "fp");
        assert_eq!(f["properties"]["k"], "v");
    }
}
