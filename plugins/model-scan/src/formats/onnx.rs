//! ONNX: a protobuf `ModelProto`, walked as a stream (tensor bytes are
//! seeked over, never read). Every `TensorProto` reachable from the model
//! (graph initializers, sparse initializers, node attributes, subgraphs,
//! functions, training info) is checked for `external_data` whose
//! `location` leaves the model directory: an absolute path, a drive, `~`,
//! or a `..` component makes `onnx.load` read an arbitrary file.

use std::io::Read;

use mlgate_plugin_sdk::Severity;

use crate::rules;
use crate::scan::Scanner;
use crate::source::{Blob, BlobReader};

#[derive(Clone, Copy, PartialEq)]
enum Msg {
    Model,
    Graph,
    Node,
    Attribute,
    Tensor,
    Sparse,
    Function,
    Training,
    Entry,
}

fn child(msg: Msg, field: u64) -> Option<Msg> {
    use Msg::*;
    Some(match (msg, field) {
        (Model, 7) => Graph,
        (Model, 20) => Training,
        (Model, 25) => Function,
        (Training, 1 | 2) => Graph,
        (Graph, 1) | (Function, 7) => Node,
        (Graph, 5) => Tensor,
        (Graph, 15) => Sparse,
        (Node, 5) => Attribute,
        (Attribute, 5 | 10) | (Sparse, 1 | 2) => Tensor,
        (Attribute, 6 | 11) => Graph,
        (Attribute, 22 | 23) => Sparse,
        (Tensor, 13) => Entry,
        _ => return None,
    })
}

/// External-data references found: `(tensor name, location)`.
#[derive(Debug, Default)]
pub struct Found {
    /// Locations of external data.
    pub locations: Vec<(String, String)>,
    /// Whether the model has a graph.
    pub graph: bool,
}

struct Walker {
    r: BlobReader,
    found: Found,
}

impl Walker {
    fn varint(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..70).step_by(7) {
            let mut b = [0u8; 1];
            self.r
                .read_exact(&mut b)
                .map_err(|_| "truncated varint".to_string())?;
            if shift < 64 {
                v |= ((b[0] & 0x7f) as u64) << shift;
            }
            if b[0] & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("varint too long".into())
    }

    fn text(&mut self, n: u64) -> Result<String, String> {
        let keep = n.min(4096);
        let mut b = vec![0u8; keep as usize];
        self.r
            .read_exact(&mut b)
            .map_err(|_| "truncated string".to_string())?;
        self.r
            .skip(n - keep)
            .map_err(|_| "truncated string".to_string())?;
        Ok(String::from_utf8_lossy(&b).into_owned())
    }

    /// Walk one message ending at `end`; returns `(key, value)` for an
    /// entry message, the tensor name for a tensor.
    fn message(&mut self, msg: Msg, end: u64, depth: u32) -> Result<(String, String), String> {
        if depth > 64 {
            return Err("messages nested too deeply".into());
        }
        let (mut a, mut b) = (String::new(), String::new());
        let mut locations = Vec::new();
        while self.r.pos() < end {
            let key = self.varint()?;
            let (field, wire) = (key >> 3, key & 7);
            if msg == Msg::Model && !(1..=30).contains(&field) {
                return Err(format!("field {field} is not part of an ONNX model"));
            }
            match wire {
                0 => {
                    self.varint()?;
                }
                1 => self.r.skip(8).map_err(|_| "truncated")?,
                5 => self.r.skip(4).map_err(|_| "truncated")?,
                2 => {
                    let n = self.varint()?;
                    let stop = self.r.pos().checked_add(n).filter(|&s| s <= end);
                    let Some(stop) = stop else {
                        return Err(format!("length {n} runs past its message"));
                    };
                    if msg == Msg::Model && field == 7 {
                        self.found.graph = true;
                    }
                    match (msg, field, child(msg, field)) {
                        (Msg::Entry, 1, _) => a = self.text(n)?,
                        (Msg::Entry, 2, _) => b = self.text(n)?,
                        (Msg::Tensor, 8, _) => a = self.text(n)?,
                        (_, _, Some(Msg::Entry)) => {
                            let (k, v) = self.message(Msg::Entry, stop, depth + 1)?;
                            if k == "location" {
                                locations.push(v);
                            }
                        }
                        (_, _, Some(m)) => {
                            self.message(m, stop, depth + 1)?;
                        }
                        _ => self.r.skip(n).map_err(|_| "truncated")?,
                    }
                    if self.r.pos() != stop {
                        return Err("submessage length disagrees with its content".into());
                    }
                }
                w => return Err(format!("wire type {w} is not valid here")),
            }
        }
        for loc in locations {
            self.found.locations.push((a.clone(), loc));
        }
        Ok((a, b))
    }
}

/// Walk a blob as an ONNX model.
pub fn walk(blob: &Blob) -> Result<Found, (Found, String)> {
    let r = blob.open().map_err(|e| (Found::default(), e.to_string()))?;
    let mut w = Walker {
        r,
        found: Found::default(),
    };
    match w.message(Msg::Model, blob.len(), 0) {
        Ok(_) => Ok(w.found),
        Err(e) => Err((w.found, e)),
    }
}

/// Whether an external-data location leaves the model's directory.
pub fn escapes(location: &str) -> bool {
    let l = location.trim();
    l.starts_with('/')
        || l.starts_with('\\')
        || l.starts_with('~')
        || l.contains('\0')
        || l.as_bytes().get(1) == Some(&b':')
        || l.split(['/', '\\']).any(|c| c == "..")
}

/// Scan a blob that may be ONNX; `false` when it is not.
pub fn scan(scanner: &mut Scanner, blob: &Blob, chain: &mut [String]) -> bool {
    let (found, problem) = match walk(blob) {
        Ok(f) if f.graph => (f, None),
        Ok(_) => return false,
        Err((f, e)) if f.graph => (f, Some(e)),
        Err(_) => return false,
    };
    for (tensor, loc) in &found.locations {
        if escapes(loc) {
            scanner.hit(
                rules::ONNX_EXTERNAL,
                Severity::High,
                chain,
                None,
                format!("ONNX tensor `{tensor}` loads external data from `{loc}`, outside the model directory"),
                vec![("format".into(), "onnx".into()), ("location".into(), loc.clone())],
                loc,
            );
        }
    }
    if let Some(p) = problem {
        scanner.hit(
            rules::MALFORMED,
            Severity::Medium,
            chain,
            None,
            format!("ONNX model is malformed: {p}"),
            vec![("format".into(), "onnx".into())],
            "onnx",
        );
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ld(field: u64, body: &[u8]) -> Vec<u8> {
        let mut v = vec![(field << 3 | 2) as u8, body.len() as u8];
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn finds_escaping_external_data() {
        let entry = [ld(1, b"location"), ld(2, b"../../etc/passwd")].concat();
        let tensor = [ld(8, b"w"), ld(13, &entry), vec![14 << 3, 1]].concat();
        let graph = ld(5, &tensor);
        let model = [vec![0x08, 0x07], ld(7, &graph)].concat();
        let found = walk(&Blob::mem(model)).unwrap();
        assert!(found.graph);
        assert_eq!(
            found.locations,
            vec![("w".to_string(), "../../etc/passwd".to_string())]
        );
        assert!(escapes("../../etc/passwd") && escapes("/etc/passwd") && escapes("C:\\x"));
        assert!(!escapes("weights.bin") && !escapes("sub/weights.bin"));
    }

    #[test]
    fn garbage_is_not_onnx() {
        assert!(walk(&Blob::mem(vec![0x08, 0x01, 0xff, 0xff])).is_err());
    }
}
