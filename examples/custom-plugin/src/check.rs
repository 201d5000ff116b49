//! The check itself: find each policy parameter in a training config and
//! compare its value with what is approved. Pure functions over [`Node`]s,
//! so they unit-test without files or a host.

use mlgate_plugin_sdk::Severity;

use crate::doc::Node;
use crate::policy::{Approved, Policy};

/// A value is outside its approved range.
pub const OUT_OF_RANGE: &str = "hparam-out-of-range";
/// A value is not one of the allowed values.
pub const NOT_ALLOWED: &str = "hparam-not-allowed";
/// A value has the wrong type (text where a number is approved, a fraction
/// where an integer is).
pub const WRONG_TYPE: &str = "hparam-wrong-type";
/// A required parameter is absent.
pub const MISSING: &str = "hparam-missing";

/// One value that breaks the policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// Rule id (one of the constants above).
    pub rule: &'static str,
    /// Severity (the parameter's override, else the rule's default).
    pub severity: Severity,
    /// The policy key that matched (`layers.*.dropout`).
    pub parameter: String,
    /// The concrete path in the config (`layers.2.dropout`).
    pub path: String,
    /// The value as written, if present.
    pub value: Option<String>,
    /// 1-based line of the value (of the enclosing mapping when missing).
    pub line: Option<u32>,
    /// What is wrong, for people.
    pub message: String,
}

/// Default severity of each rule.
pub fn default_severity(rule: &str) -> Severity {
    match rule {
        OUT_OF_RANGE | NOT_ALLOWED => Severity::High,
        _ => Severity::Medium,
    }
}

/// Every violation of `policy` in the config tree `root` (under `prefix`, a
/// dotted path, if given).
pub fn check(root: &Node, policy: &Policy, prefix: Option<&str>) -> Vec<Violation> {
    let mut out = Vec::new();
    let base: Vec<(String, &Node)> = match prefix {
        Some(p) => matches(root, &p.split('.').collect::<Vec<_>>(), String::new()),
        None => vec![(String::new(), root)],
    };
    for (key, approved) in &policy.parameters {
        let segments: Vec<&str> = key.split('.').collect();
        let mut found = false;
        for (base_path, base_node) in &base {
            for (path, node) in matches(base_node, &segments, base_path.clone()) {
                found = true;
                if let Some(v) = judge(node, approved) {
                    out.push(violation(v, key, path, Some(node), approved));
                }
            }
        }
        if !found && approved.required {
            let message = format!("required hyperparameter `{key}` is not set");
            let mut v = violation((MISSING, message), key, key.clone(), None, approved);
            v.line = base.first().map(|(_, n)| n.line());
            out.push(v);
        }
    }
    out
}

fn violation(
    (rule, message): (&'static str, String),
    key: &str,
    path: String,
    node: Option<&Node>,
    approved: &Approved,
) -> Violation {
    let message = match &approved.reason {
        Some(reason) => format!("{message} ({reason})"),
        None => message,
    };
    Violation {
        rule,
        severity: approved
            .severity()
            .unwrap_or_else(|| default_severity(rule)),
        parameter: key.to_string(),
        path,
        value: node.map(describe),
        line: node.map(Node::line),
        message,
    }
}

/// The value as a short string for messages.
fn describe(node: &Node) -> String {
    match node {
        Node::Scalar { text, .. } => text.chars().take(80).collect(),
        Node::Seq { .. } => "a list".into(),
        Node::Map { .. } => "a mapping".into(),
    }
}

/// Nodes at a dotted path (`*` = any key or index), with their concrete paths.
fn matches<'a>(node: &'a Node, segments: &[&str], path: String) -> Vec<(String, &'a Node)> {
    let Some((first, rest)) = segments.split_first() else {
        return vec![(path, node)];
    };
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    let mut out = Vec::new();
    match node {
        Node::Map { entries, .. } => {
            for (k, v) in entries {
                if *first == "*" || k == first {
                    out.extend(matches(v, rest, join(k)));
                }
            }
        }
        Node::Seq { items, .. } => {
            for (i, v) in items.iter().enumerate() {
                if *first == "*" || *first == i.to_string() {
                    out.extend(matches(v, rest, join(&i.to_string())));
                }
            }
        }
        Node::Scalar { .. } => {}
    }
    out
}

/// What is wrong with one value, if anything.
fn judge(node: &Node, approved: &Approved) -> Option<(&'static str, String)> {
    if let Some(allowed) = &approved.allowed {
        let value = node.to_json();
        let ok = allowed.iter().any(|a| same(a, &value));
        if !ok {
            let list: Vec<String> = allowed.iter().map(|a| a.to_string()).collect();
            return Some((
                NOT_ALLOWED,
                format!(
                    "`{}` is not one of the approved values [{}]",
                    describe(node),
                    list.join(", ")
                ),
            ));
        }
    }
    if !approved.numeric() {
        return None;
    }
    let Some(x) = node.as_number() else {
        return Some((
            WRONG_TYPE,
            format!("expected a number, found `{}`", describe(node)),
        ));
    };
    if approved.integer && x.fract() != 0.0 {
        return Some((
            WRONG_TYPE,
            format!("expected a whole number, found `{}`", describe(node)),
        ));
    }
    // NaN is in no range: compare so that an incomparable value fails.
    let below = approved
        .min
        .is_some_and(|min| x.partial_cmp(&min).is_none_or(|o| o.is_lt()));
    let above = approved
        .max
        .is_some_and(|max| x.partial_cmp(&max).is_none_or(|o| o.is_gt()));
    if below || above {
        return Some((
            OUT_OF_RANGE,
            format!(
                "`{}` is outside the approved range {}",
                describe(node),
                range_text(approved)
            ),
        ));
    }
    None
}

/// `[min, max]` with `-inf`/`+inf` for open ends.
pub fn range_text(approved: &Approved) -> String {
    let end = |v: Option<f64>, open: &str| v.map_or(open.to_string(), |v| v.to_string());
    format!(
        "[{}, {}]",
        end(approved.min, "-inf"),
        end(approved.max, "+inf")
    )
}

/// JSON equality with numbers compared as numbers (`1` == `1.0`).
fn same(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::parse;

    const POLICY: &str = "parameters:\n  \
        learning_rate: { min: 1.0e-6, max: 1.0e-2 }\n  \
        batch_size: { min: 8, max: 1024, integer: true }\n  \
        optimizer.name: { allowed: [adam, adamw] }\n  \
        layers.*.dropout: { min: 0, max: 0.5 }\n  \
        grad_clip: { max: 10, required: true, severity: low }\n";

    fn run(config: &str) -> Vec<Violation> {
        let root = parse(config).unwrap().unwrap();
        check(&root, &Policy::parse(POLICY).unwrap(), None)
    }

    #[test]
    fn in_range_config_passes() {
        let v = run(
            "learning_rate: 3.0e-4\nbatch_size: 64\noptimizer: { name: adamw }\n\
                     layers: [{dropout: 0.1}, {dropout: 0.5}]\ngrad_clip: 1.0\n",
        );
        assert!(v.is_empty(), "{v:#?}");
    }

    #[test]
    fn each_violation_has_its_rule_and_line() {
        let v = run(
            "learning_rate: 0.5\nbatch_size: 12.5\noptimizer:\n  name: rmsprop\n\
                     layers:\n  - dropout: 0.1\n  - dropout: 0.9\n",
        );
        let got: Vec<(&str, &str, Option<u32>)> = v
            .iter()
            .map(|v| (v.rule, v.path.as_str(), v.line))
            .collect();
        assert!(
            got.contains(&(OUT_OF_RANGE, "learning_rate", Some(1))),
            "{got:?}"
        );
        assert!(
            got.contains(&(WRONG_TYPE, "batch_size", Some(2))),
            "{got:?}"
        );
        assert!(
            got.contains(&(NOT_ALLOWED, "optimizer.name", Some(4))),
            "{got:?}"
        );
        assert!(
            got.contains(&(OUT_OF_RANGE, "layers.1.dropout", Some(7))),
            "{got:?}"
        );
        assert!(got.contains(&(MISSING, "grad_clip", Some(1))), "{got:?}");
        assert_eq!(v.len(), 5, "{got:?}");
        let missing = v.iter().find(|v| v.rule == MISSING).unwrap();
        assert_eq!(missing.severity, Severity::Low);
    }

    #[test]
    fn strings_nan_and_infinity_are_not_in_range() {
        let v = run(
            "learning_rate: '0.001'\nbatch_size: .inf\nlayers: [{dropout: .nan}]\ngrad_clip: 1\n",
        );
        let got: Vec<(&str, &str)> = v.iter().map(|v| (v.path.as_str(), v.rule)).collect();
        assert_eq!(
            got,
            vec![
                ("batch_size", WRONG_TYPE),
                ("layers.0.dropout", OUT_OF_RANGE),
                ("learning_rate", WRONG_TYPE),
            ]
        );
    }

    #[test]
    fn prefix_scopes_the_lookup() {
        let root = parse("model: { learning_rate: 9 }\ntrain:\n  learning_rate: 0.001\n  grad_clip: 1\n  batch_size: 32\n")
            .unwrap()
            .unwrap();
        let v = check(&root, &Policy::parse(POLICY).unwrap(), Some("train"));
        assert!(v.is_empty(), "{v:#?}");
        let v = check(&root, &Policy::parse(POLICY).unwrap(), Some("model"));
        assert!(
            v.iter()
                .any(|v| v.rule == OUT_OF_RANGE && v.path == "model.learning_rate")
        );
    }
}
