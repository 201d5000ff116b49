//! A YAML or JSON document as a tree whose every node knows its line.
//!
//! `serde_yaml`-style parsers drop positions; this gate must report the line
//! of each offending value, so it builds its own small tree from
//! `yaml-rust2`'s marked events. JSON is (for our purposes) YAML, so one
//! parser reads both. Aliases are resolved with a node budget (no "billion
//! laughs"), and depth is bounded.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Deepest nesting accepted.
pub const MAX_DEPTH: usize = 64;
/// Most nodes a document may expand to (aliases included).
pub const MAX_NODES: usize = 200_000;

/// One node of the document, with its 1-based line.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// A scalar: its text and whether it was quoted (quoted is always a string).
    Scalar {
        text: String,
        quoted: bool,
        line: u32,
    },
    /// A sequence.
    Seq { items: Vec<Node>, line: u32 },
    /// A mapping, in document order (keys are the scalar text of the key).
    Map {
        entries: Vec<(String, Node)>,
        line: u32,
    },
}

impl Node {
    /// The 1-based line the node starts on.
    pub fn line(&self) -> u32 {
        match self {
            Node::Scalar { line, .. } | Node::Seq { line, .. } | Node::Map { line, .. } => *line,
        }
    }

    /// The value of a plain (unquoted) scalar read as a number, YAML-style
    /// (`1e-3`, `.inf`, `-.inf`, `.nan`, `0x10` are numbers).
    pub fn as_number(&self) -> Option<f64> {
        let Node::Scalar {
            text,
            quoted: false,
            ..
        } = self
        else {
            return None;
        };
        let t = text.trim();
        match t {
            ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Some(f64::INFINITY),
            "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
            ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
            _ => {}
        }
        if let Some(hex) = t.strip_prefix("0x") {
            return i64::from_str_radix(hex, 16).ok().map(|v| v as f64);
        }
        // Rust accepts "inf"/"nan"/"infinity"; YAML does not: those are strings.
        if t.chars()
            .any(|c| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
        {
            return None;
        }
        t.replace('_', "").parse::<f64>().ok()
    }

    /// The text of a scalar (strings, numbers and booleans alike).
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Node::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// Convert to JSON (numbers, booleans and null from plain scalars).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Node::Scalar { text, quoted, .. } => {
                if !quoted {
                    match text.as_str() {
                        "null" | "~" | "" => return Value::Null,
                        "true" | "True" | "TRUE" => return Value::Bool(true),
                        "false" | "False" | "FALSE" => return Value::Bool(false),
                        _ => {}
                    }
                    if let Ok(i) = text.parse::<i64>() {
                        return Value::from(i);
                    }
                    if let Some(n) = self.as_number().and_then(serde_json::Number::from_f64) {
                        return Value::Number(n);
                    }
                }
                Value::String(text.clone())
            }
            Node::Seq { items, .. } => Value::Array(items.iter().map(Node::to_json).collect()),
            Node::Map { entries, .. } => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

/// Parse YAML or JSON text into its first document's tree (`None` for an
/// empty document). The error carries the line.
pub fn parse(text: &str) -> Result<Option<Node>, String> {
    Ok(parse_all(text)?.into_iter().next())
}

/// Parse every document of a YAML stream (`---` separated), in order; the
/// node budget covers the whole stream. The error carries the line.
pub fn parse_all(text: &str) -> Result<Vec<Node>, String> {
    let mut builder = Builder::default();
    Parser::new_from_str(text)
        .load(&mut builder, true)
        .map_err(|e| e.to_string())?;
    if let Some(err) = builder.error {
        return Err(err);
    }
    Ok(builder.roots)
}

/// A container being filled: the node so far and, for a map, the pending key.
#[derive(Debug)]
struct Open {
    node: Node,
    anchor: usize,
    key: Option<String>,
}

#[derive(Debug, Default)]
struct Builder {
    stack: Vec<Open>,
    anchors: HashMap<usize, Node>,
    roots: Vec<Node>,
    nodes: usize,
    error: Option<String>,
}

impl Builder {
    fn fail(&mut self, message: String) {
        if self.error.is_none() {
            self.error = Some(message);
        }
    }

    /// Attach a finished node to its parent (or make it the root).
    /// `weight` is how many new nodes this adds (1, or an alias's size).
    fn push(&mut self, node: Node, anchor: usize, weight: usize) {
        self.nodes += weight;
        if self.nodes > MAX_NODES {
            return self.fail(format!("document expands to more than {MAX_NODES} nodes"));
        }
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        let Some(parent) = self.stack.last_mut() else {
            self.roots.push(node);
            return;
        };
        match &mut parent.node {
            Node::Seq { items, .. } => items.push(node),
            Node::Map { entries, .. } => match parent.key.take() {
                Some(key) => entries.push((key, node)),
                None => match node {
                    Node::Scalar { text, .. } => parent.key = Some(text),
                    other => {
                        let line = other.line();
                        self.fail(format!("line {line}: mapping keys must be scalars"));
                    }
                },
            },
            Node::Scalar { .. } => unreachable!("scalars are never open"),
        }
    }
}

/// Nodes in a subtree (for the alias budget).
fn count(node: &Node) -> usize {
    match node {
        Node::Scalar { .. } => 1,
        Node::Seq { items, .. } => 1 + items.iter().map(count).sum::<usize>(),
        Node::Map { entries, .. } => 1 + entries.iter().map(|(_, v)| count(v)).sum::<usize>(),
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        let line = u32::try_from(mark.line()).unwrap_or(u32::MAX);
        match event {
            Event::Scalar(text, style, anchor, _) => {
                let quoted = !matches!(style, TScalarStyle::Plain);
                self.push(Node::Scalar { text, quoted, line }, anchor, 1);
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if self.stack.len() >= MAX_DEPTH {
                    return self.fail(format!("line {line}: nesting deeper than {MAX_DEPTH}"));
                }
                let node = if matches!(event, Event::SequenceStart(..)) {
                    Node::Seq {
                        items: Vec::new(),
                        line,
                    }
                } else {
                    Node::Map {
                        entries: Vec::new(),
                        line,
                    }
                };
                self.stack.push(Open {
                    node,
                    anchor,
                    key: None,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some(open) = self.stack.pop() {
                    // Its children were counted as they arrived.
                    self.push(open.node, open.anchor, 1);
                }
            }
            Event::Alias(id) => match self.anchors.get(&id).cloned() {
                Some(node) => {
                    let weight = count(&node);
                    self.push(node, 0, weight);
                }
                None => self.fail(format!("line {line}: unknown alias")),
            },
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentStart => {}
            // Anchors do not cross documents.
            Event::DocumentEnd => self.anchors.clear(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(text: &str) -> Node {
        parse(text).unwrap().unwrap()
    }

    fn get<'a>(node: &'a Node, key: &str) -> &'a Node {
        let Node::Map { entries, .. } = node else {
            panic!("not a map")
        };
        &entries.iter().find(|(k, _)| k == key).unwrap().1
    }

    #[test]
    fn yaml_scalars_know_their_lines() {
        let doc = root("# header\nlr: 0.1\noptim:\n  name: adam\n  wd: 1e-4\n");
        assert_eq!(get(&doc, "lr").line(), 2);
        assert_eq!(get(&doc, "lr").as_number(), Some(0.1));
        let optim = get(&doc, "optim");
        assert_eq!(get(optim, "name").line(), 4);
        assert_eq!(get(optim, "wd").as_number(), Some(1e-4));
        assert_eq!(get(optim, "wd").line(), 5);
    }

    #[test]
    fn json_is_read_with_lines_too() {
        let doc = root("{\n  \"lr\": 0.5,\n  \"layers\": [\n    {\"dropout\": 0.9}\n  ]\n}\n");
        assert_eq!(get(&doc, "lr").line(), 2);
        let Node::Seq { items, .. } = get(&doc, "layers") else {
            panic!()
        };
        assert_eq!(get(&items[0], "dropout").line(), 4);
        assert_eq!(get(&items[0], "dropout").as_number(), Some(0.9));
    }

    #[test]
    fn quoted_numbers_are_strings_and_yaml_specials_are_numbers() {
        let doc = root("a: \"0.1\"\nb: .inf\nc: .nan\nd: inf\ne: 1_000\n");
        assert_eq!(get(&doc, "a").as_number(), None);
        assert_eq!(get(&doc, "b").as_number(), Some(f64::INFINITY));
        assert!(get(&doc, "c").as_number().unwrap().is_nan());
        assert_eq!(get(&doc, "d").as_number(), None);
        assert_eq!(get(&doc, "e").as_number(), Some(1000.0));
    }

    #[test]
    fn alias_bombs_and_deep_nesting_are_refused() {
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            let p = i - 1;
            bomb.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert!(parse(&bomb).unwrap_err().contains("nodes"));
        let deep = "[".repeat(1000) + &"]".repeat(1000);
        let err = parse(&deep).unwrap_err();
        assert!(
            err.contains("nesting") || err.contains("recursion"),
            "{err}"
        );
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let err = parse("a: 1\nb: [1, 2\nc: 3\n").unwrap_err();
        assert!(err.contains("line"), "{err}");
    }

    #[test]
    fn converts_to_json() {
        let doc = root("n: 3\nf: 0.5\nb: true\ns: adam\nq: '7'\nz: ~\n");
        assert_eq!(
            doc.to_json(),
            serde_json::json!({"n": 3, "f": 0.5, "b": true, "s": "adam", "q": "7", "z": null})
        );
    }

    #[test]
    fn every_document_of_a_stream_is_read_with_its_lines() {
        let docs = parse_all("a: 1\n---\nb: &x 2\n---\nc: 3\n").unwrap();
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[2].line(), 5);
        // An anchor of one document is unknown in the next.
        assert!(parse_all("a: &x 1\n---\nb: *x\n").is_err());
        assert!(parse_all("").unwrap().is_empty());
    }
}
