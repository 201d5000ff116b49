//! Builders and helpers on the WIT types, so plugin code reads as analysis,
//! not as struct plumbing.

use sha2::{Digest, Sha256};

use crate::{
    Finding, GateError, GateResult, InputSpec, Location, Metric, PluginInfo, Rule, Severity,
};

/// A stable fingerprint from parts that identify a finding independently of
/// line numbers (rule id, file, the matched thing). Hex SHA-256, 32 chars.
pub fn fingerprint_of(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hex::encode(&hasher.finalize()[..16])
}

/// Sort findings most severe first, then by path and line, for stable output.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .rank()
            .cmp(&a.severity.rank())
            .then_with(|| location_key(a).cmp(&location_key(b)))
            .then_with(|| a.rule_id.cmp(&b.rule_id))
    });
}

fn location_key(f: &Finding) -> (String, u32) {
    match &f.location {
        Some(l) => (l.path.clone(), l.line.unwrap_or(0)),
        None => (String::new(), 0),
    }
}

impl Severity {
    /// 0 (info) to 4 (critical).
    pub fn rank(self) -> u8 {
        match self {
            Severity::Info => 0,
            Severity::Low => 1,
            Severity::Medium => 2,
            Severity::High => 3,
            Severity::Critical => 4,
        }
    }

    /// Parse `info|low|medium|high|critical` (case-insensitive).
    pub fn parse(text: &str) -> Option<Severity> {
        match text.to_ascii_lowercase().as_str() {
            "info" => Some(Severity::Info),
            "low" => Some(Severity::Low),
            "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }

    /// Lower-case name, as in pipelines and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl Finding {
    /// A finding with no location and a fingerprint derived from the rule id
    /// and message (replace it with [`Finding::fingerprint`] when the message
    /// carries volatile details).
    pub fn new(rule_id: impl Into<String>, severity: Severity, message: impl Into<String>) -> Self {
        let rule_id = rule_id.into();
        let message = message.into();
        Finding {
            fingerprint: String::new(),
            rule_id,
            severity,
            message,
            location: None,
            properties: Vec::new(),
        }
    }

    /// Set the location: a guest path and optional 1-based line.
    pub fn at(mut self, path: impl Into<String>, line: Option<u32>) -> Self {
        self.location = Some(Location {
            path: path.into(),
            line,
            column: None,
            byte_offset: None,
        });
        self
    }

    /// Set the column (1-based) of an existing location.
    pub fn column(mut self, column: u32) -> Self {
        if let Some(location) = self.location.as_mut() {
            location.column = Some(column);
        }
        self
    }

    /// Set the byte offset of an existing location.
    pub fn byte_offset(mut self, offset: u64) -> Self {
        if let Some(location) = self.location.as_mut() {
            location.byte_offset = Some(offset);
        }
        self
    }

    /// Add a key/value property (shown in reports and tickets).
    pub fn property(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.properties.push((key.into(), value.into()));
        self
    }

    /// Set the fingerprint from stable parts (see [`fingerprint_of`]).
    pub fn fingerprint(mut self, parts: &[&str]) -> Self {
        self.fingerprint = fingerprint_of(parts);
        self
    }

    /// The value of a property, if set.
    pub fn get_property(&self, key: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

impl GateResult {
    /// A result with findings (sorted most severe first) and a summary line.
    pub fn from_findings(mut findings: Vec<Finding>, summary: impl Into<String>) -> Self {
        sort_findings(&mut findings);
        GateResult {
            findings,
            summary: summary.into(),
            metrics: Vec::new(),
        }
    }

    /// Add a metric.
    pub fn metric(mut self, name: impl Into<String>, value: f64) -> Self {
        self.metrics.push(Metric {
            name: name.into(),
            value,
        });
        self
    }
}

impl GateError {
    /// An error with a machine-readable code and a message for people.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        GateError {
            code: code.into(),
            message: message.into(),
        }
    }

    /// Bad `with:` config.
    pub fn config(message: impl Into<String>) -> Self {
        Self::new("config", message)
    }

    /// A required input is missing or unreadable.
    pub fn input(message: impl Into<String>) -> Self {
        Self::new("input", message)
    }

    /// An I/O error on a path.
    pub fn io(path: impl std::fmt::Display, err: std::io::Error) -> Self {
        Self::new("io", format!("{path}: {err}"))
    }
}

impl PluginInfo {
    /// Minimal metadata; add rules, inputs and a schema with the builders.
    pub fn new(
        name: impl Into<String>,
        version: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        PluginInfo {
            name: name.into(),
            version: version.into(),
            description: description.into(),
            rules: Vec::new(),
            inputs: Vec::new(),
            config_schema: r#"{"type":"object"}"#.to_string(),
        }
    }

    /// Declare a rule the plugin may report.
    pub fn rule(
        mut self,
        id: impl Into<String>,
        default_severity: Severity,
        summary: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        self.rules.push(Rule {
            id: id.into(),
            default_severity,
            summary: summary.into(),
            help: help.into(),
        });
        self
    }

    /// Declare an input.
    pub fn input(
        mut self,
        name: impl Into<String>,
        description: impl Into<String>,
        required: bool,
    ) -> Self {
        self.inputs.push(InputSpec {
            name: name.into(),
            description: description.into(),
            required,
        });
        self
    }

    /// Set the JSON schema of the config (as JSON text).
    pub fn config_schema(mut self, schema: impl Into<String>) -> Self {
        self.config_schema = schema.into();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_separates_parts() {
        assert_ne!(fingerprint_of(&["ab", "c"]), fingerprint_of(&["a", "bc"]));
        assert_eq!(fingerprint_of(&["a"]), fingerprint_of(&["a"]));
        assert_eq!(fingerprint_of(&["a"]).len(), 32);
    }

    #[test]
    fn findings_sort_most_severe_first() {
        let mut v = vec![
            Finding::new("a", Severity::Low, "x").at("b", Some(2)),
            Finding::new("a", Severity::Critical, "x").at("z", Some(1)),
            Finding::new("a", Severity::Low, "x").at("a", Some(9)),
        ];
        sort_findings(&mut v);
        assert_eq!(v[0].severity, Severity::Critical);
        assert_eq!(v[1].location.as_ref().unwrap().path, "a");
    }

    #[test]
    fn severity_round_trips() {
        for s in ["info", "low", "medium", "high", "critical"] {
            assert_eq!(Severity::parse(s).unwrap().as_str(), s);
        }
        assert!(Severity::parse("severe").is_none());
    }
}
