//! Ingest of a `pip-audit --format json` report made elsewhere. Two layouts:
//! the current `{"dependencies": [...], "fixes": [...]}` and the legacy bare
//! list of dependencies (pip-audit before 2.0). A dependency is either
//! `{name, version, vulns: [{id, fix_versions, aliases?, description?}]}` or
//! `{name, skip_reason}`.

use serde::Deserialize;

use crate::vulns::Hit;

/// One dependency of the report.
#[derive(Debug, Clone, Deserialize)]
pub struct Dependency {
    /// Name (pip-audit canonicalises it; editable paths come out mangled).
    pub name: String,
    /// Audited version; absent when skipped.
    #[serde(default)]
    pub version: Option<String>,
    /// Vulnerabilities found.
    #[serde(default)]
    pub vulns: Vec<ReportVuln>,
    /// Why pip-audit did not audit it.
    #[serde(default)]
    pub skip_reason: Option<String>,
}

/// A vulnerability in the report.
#[derive(Debug, Clone, Deserialize)]
pub struct ReportVuln {
    /// Advisory id.
    pub id: String,
    /// Fixed versions.
    #[serde(default)]
    pub fix_versions: Vec<String>,
    /// Aliases (absent with `--aliases off` and in the legacy layout).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Description (absent with `--desc off`).
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Layout {
    Current { dependencies: Vec<Dependency> },
    Legacy(Vec<Dependency>),
}

/// Parse a report in either layout.
pub fn parse(text: &str) -> Result<Vec<Dependency>, String> {
    match serde_json::from_str::<Layout>(text) {
        Ok(Layout::Current { dependencies }) | Ok(Layout::Legacy(dependencies)) => Ok(dependencies),
        Err(e) => Err(format!(
            "not a pip-audit JSON report (current or legacy layout): {e}"
        )),
    }
}

impl ReportVuln {
    /// As a [`Hit`]; severity from the database record with the same id (or
    /// an alias) when one is given, else medium.
    pub fn to_hit(&self, record: Option<&crate::osv::Record>) -> Hit {
        let severity = match record {
            Some(r) => crate::cvss::advisory_severity(r),
            None => (
                mlgate_plugin_sdk::Severity::Medium,
                "no advisory record to score".into(),
            ),
        };
        let mut aliases = self.aliases.clone();
        if let Some(r) = record {
            aliases.extend(r.aliases.iter().cloned());
        }
        Hit {
            id: self.id.clone(),
            aliases,
            fix_versions: self.fix_versions.clone(),
            severity,
            summary: self
                .description
                .as_deref()
                .map(|d| {
                    d.split(". ")
                        .next()
                        .unwrap_or(d)
                        .chars()
                        .take(200)
                        .collect()
                })
                .or_else(|| record.and_then(|r| r.summary.clone()))
                .unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str) -> String {
        let dir = crate::osv::db::tests_support::snapshot_dir();
        std::fs::read_to_string(dir.join("pip-audit-sample").join(name)).unwrap()
    }

    #[test]
    fn current_layout_real_samples() {
        for name in [
            "pip-audit.default.json",
            "pip-audit.desc-off-aliases-off.json",
            "pip-audit.skip-editable.json",
        ] {
            let deps = parse(&sample(name)).unwrap();
            assert_eq!(deps.len(), 8, "{name}");
            let vulns: usize = deps.iter().map(|d| d.vulns.len()).sum();
            assert_eq!(vulns, 15, "{name}: pip-audit said 15 known vulnerabilities");
            assert_eq!(deps.iter().filter(|d| d.skip_reason.is_some()).count(), 2);
        }
        let deps = parse(&sample("pip-audit.default.json")).unwrap();
        let flask = &deps[0];
        assert_eq!(
            flask.vulns[0].aliases,
            vec!["CVE-2018-1000656", "GHSA-562c-5r94-xh97"]
        );
    }

    #[test]
    fn legacy_layout() {
        let deps = parse(r#"[{"name":"flask","version":"0.5","vulns":[{"id":"PYSEC-2019-179","fix_versions":["1.0"]}]}]"#).unwrap();
        assert_eq!(deps[0].vulns[0].id, "PYSEC-2019-179");
        assert!(parse(r#"{"foo": 1}"#).is_err());
        assert!(parse("[1, 2]").is_err());
    }
}
