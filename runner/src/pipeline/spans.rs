//! A span index of a YAML document: which line, column and length every key
//! and value has, by path (`gates.signature.needs[0]`).
//!
//! serde gives us typed data but forgets where it came from; the semantic
//! checks (unknown `needs`, bad sizes, cycles ...) look the offending value up
//! here to point a caret at it. Built from `yaml-rust2`'s event parser, which
//! reports a marker for every event. The index also records duplicate keys,
//! which serde's maps would silently collapse.
//!
//! Paths: mapping entries are joined with `.`, sequence items are `[i]`; the
//! root is the empty path.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, ScanError, TScalarStyle};

/// Where a node is: 1-based line and column, and how many characters it spans
/// on that line (1 for collections and multi-line scalars).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// Characters to underline.
    pub len: usize,
}

/// A key that appears twice in one mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    /// Path of the mapping that holds the key.
    pub parent: String,
    /// The key.
    pub key: String,
    /// The repeated occurrence.
    pub span: Span,
    /// The first occurrence.
    pub first: Span,
}

/// Spans of every key and value in a document.
#[derive(Debug, Default)]
pub struct SpanIndex {
    values: HashMap<String, Span>,
    keys: HashMap<String, Span>,
    /// Keys repeated within one mapping, in document order.
    pub duplicates: Vec<Duplicate>,
}

impl SpanIndex {
    /// Indexes `text`; a syntax error comes back with its marker.
    pub fn parse(text: &str) -> Result<SpanIndex, (Span, String)> {
        let lines: Vec<&str> = text.lines().collect();
        let mut builder = Builder {
            lines: &lines,
            index: SpanIndex::default(),
            stack: Vec::new(),
        };
        let mut parser = Parser::new_from_str(text);
        parser.load(&mut builder, false).map_err(|e: ScanError| {
            let m = e.marker();
            let span = Span {
                line: m.line() as u32,
                column: m.col() as u32 + 1,
                len: 1,
            };
            (span, e.info().to_string())
        })?;
        Ok(builder.index)
    }

    /// The span of the value at `path`.
    pub fn value(&self, path: &str) -> Option<Span> {
        self.values.get(path).copied()
    }

    /// The span of the key that introduces `path` (a mapping entry).
    pub fn key(&self, path: &str) -> Option<Span> {
        self.keys.get(path).copied()
    }

    /// The value at `path`, else its key, else the nearest located ancestor,
    /// else the start of the file: an error always has somewhere to point.
    pub fn locate(&self, path: &str) -> Span {
        let mut p = path;
        loop {
            if let Some(s) = self.value(p).or_else(|| self.key(p)) {
                return s;
            }
            match p.rfind(['.', '[']) {
                Some(i) => p = &p[..i],
                None => {
                    return self.value("").unwrap_or(Span {
                        line: 1,
                        column: 1,
                        len: 1,
                    });
                }
            }
        }
    }

    /// The length of the node that starts at `line:column`, if one does.
    pub fn len_at(&self, line: u32, column: u32) -> Option<usize> {
        self.keys
            .values()
            .chain(self.values.values())
            .find(|s| s.line == line && s.column == column)
            .map(|s| s.len)
    }
}

/// Joins a child segment onto a path.
pub fn child(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

enum Frame {
    Map {
        path: String,
        pending_key: Option<String>,
        seen: HashMap<String, Span>,
    },
    Seq {
        path: String,
        next: usize,
    },
}

struct Builder<'a> {
    lines: &'a [&'a str],
    index: SpanIndex,
    stack: Vec<Frame>,
}

impl Builder<'_> {
    fn span(&self, mark: Marker, scalar: Option<(&str, TScalarStyle)>) -> Span {
        let line = mark.line() as u32;
        let column = mark.col() as u32 + 1;
        let len = match scalar {
            Some((value, TScalarStyle::Plain)) if !value.contains('\n') => value.chars().count(),
            Some((_, TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted)) => {
                self.quoted_len(line, column)
            }
            _ => 1,
        };
        Span {
            line,
            column,
            len: len.max(1),
        }
    }

    /// Length of a quoted scalar including its quotes, read from the source
    /// line (escapes make the value's length differ from the text's).
    fn quoted_len(&self, line: u32, column: u32) -> usize {
        let Some(text) = self.lines.get(line as usize - 1) else {
            return 1;
        };
        let chars: Vec<char> = text.chars().skip(column as usize - 1).collect();
        let Some(&quote) = chars.first() else {
            return 1;
        };
        let mut i = 1;
        while i < chars.len() {
            match chars[i] {
                '\\' if quote == '"' => i += 2,
                '\'' if quote == '\'' && chars.get(i + 1) == Some(&'\'') => i += 2,
                c if c == quote => return i + 1,
                _ => i += 1,
            }
        }
        chars.len()
    }

    /// Registers a node starting at `mark`; returns its path.
    fn node(&mut self, mark: Marker, scalar: Option<(&str, TScalarStyle)>) -> Option<String> {
        let span = self.span(mark, scalar);
        let path = match self.stack.last_mut() {
            None => String::new(),
            Some(Frame::Seq { path, next }) => {
                *next += 1;
                format!("{path}[{}]", *next - 1)
            }
            Some(Frame::Map {
                path,
                pending_key,
                seen,
            }) => match pending_key.take() {
                Some(key) => child(path, &key),
                None => {
                    // This node is a key.
                    let key = scalar.map(|(v, _)| v.to_string()).unwrap_or_default();
                    let full = child(path, &key);
                    if let Some(first) = seen.get(&key) {
                        self.index.duplicates.push(Duplicate {
                            parent: path.clone(),
                            key: key.clone(),
                            span,
                            first: *first,
                        });
                    } else {
                        seen.insert(key.clone(), span);
                        self.index.keys.insert(full, span);
                    }
                    *pending_key = Some(key);
                    return None;
                }
            },
        };
        self.index.values.entry(path.clone()).or_insert(span);
        Some(path)
    }
}

impl MarkedEventReceiver for Builder<'_> {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(value, style, ..) => {
                self.node(mark, Some((&value, style)));
            }
            Event::Alias(_) => {
                self.node(mark, None);
            }
            Event::MappingStart(..) => {
                // A mapping as a key is nonsense in a pipeline; index its
                // contents under the parent so nothing panics.
                let path = self.node(mark, None).unwrap_or_default();
                self.stack.push(Frame::Map {
                    path,
                    pending_key: None,
                    seen: HashMap::new(),
                });
            }
            Event::SequenceStart(..) => {
                let path = self.node(mark, None).unwrap_or_default();
                self.stack.push(Frame::Seq { path, next: 0 });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "version: 1\ngates:\n  sig:\n    needs: [model-scan, 'x y']\n    with: {a: \"q\\\"\"}\n  sig: {}\n";

    #[test]
    fn indexes_keys_values_and_items() {
        let idx = SpanIndex::parse(DOC).unwrap();
        assert_eq!(
            idx.value("version"),
            Some(Span {
                line: 1,
                column: 10,
                len: 1
            })
        );
        assert_eq!(
            idx.key("gates.sig"),
            Some(Span {
                line: 3,
                column: 3,
                len: 3
            })
        );
        assert_eq!(
            idx.value("gates.sig.needs[0]"),
            Some(Span {
                line: 4,
                column: 13,
                len: 10
            })
        );
        assert_eq!(
            idx.value("gates.sig.needs[1]"),
            Some(Span {
                line: 4,
                column: 25,
                len: 5
            })
        );
        assert_eq!(
            idx.value("gates.sig.with.a"),
            Some(Span {
                line: 5,
                column: 15,
                len: 5
            })
        );
        assert_eq!(idx.locate("gates.sig.needs[7]").line, 4);
    }

    #[test]
    fn records_duplicate_keys() {
        let idx = SpanIndex::parse(DOC).unwrap();
        assert_eq!(idx.duplicates.len(), 1);
        let d = &idx.duplicates[0];
        assert_eq!((d.parent.as_str(), d.key.as_str()), ("gates", "sig"));
        assert_eq!((d.span.line, d.first.line), (6, 3));
    }

    #[test]
    fn syntax_error_has_a_marker() {
        let (span, msg) = SpanIndex::parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(span.line >= 1, "{msg}");
    }
}
