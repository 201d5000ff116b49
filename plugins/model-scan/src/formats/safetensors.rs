//! SafeTensors: an 8-byte little-endian header length, a JSON header, then
//! the tensor bytes. The header is validated strictly (the rules of the
//! reference `safetensors` crate and more): length bound, JSON object,
//! known dtypes, shape x dtype size equal to the byte span, offsets inside
//! the data, sorted spans with no overlap and no gap, whole buffer indexed,
//! no duplicate names, `__metadata__` strings only. Tensor bytes are never
//! read.

use std::fmt;

use mlgate_plugin_sdk::Severity;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

use crate::rules;
use crate::scan::Scanner;
use crate::source::Blob;

/// The reference implementation's header bound.
pub const MAX_HEADER: u64 = 100_000_000;

/// Header entries in file order, duplicates kept.
struct Entries(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Entries;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Entries, A::Error> {
                let mut v = Vec::new();
                while let Some((k, val)) = m.next_entry::<String, Value>()? {
                    v.push((k, val));
                }
                Ok(Entries(v))
            }
        }
        d.deserialize_map(V)
    }
}

/// Size in bits of a dtype.
fn dtype_bits(dtype: &str) -> Option<u64> {
    Some(match dtype {
        "BOOL" | "U8" | "I8" | "F8_E5M2" | "F8_E4M3" | "F8_E8M0" => 8,
        "I16" | "U16" | "F16" | "BF16" => 16,
        "I32" | "U32" | "F32" => 32,
        "I64" | "U64" | "F64" | "C64" => 64,
        "F4" => 4,
        "F6_E2M3" | "F6_E3M2" => 6,
        _ => return None,
    })
}

/// Validate a header against `data_len` bytes of tensor data; the list of
/// problems (empty when valid).
pub fn validate(header: &[u8], data_len: u64) -> Vec<String> {
    let entries = match serde_json::from_slice::<Entries>(header) {
        Ok(e) => e.0,
        Err(e) => return vec![format!("header is not a JSON object: {e}")],
    };
    let mut problems = Vec::new();
    let mut names = std::collections::HashSet::new();
    let mut spans = Vec::new();
    for (name, v) in &entries {
        if !names.insert(name.as_str()) {
            problems.push(format!("duplicate entry `{name}`"));
        }
        if name == "__metadata__" {
            let ok = v
                .as_object()
                .is_some_and(|m| m.values().all(Value::is_string));
            if !ok {
                problems.push("__metadata__ must map strings to strings".into());
            }
            continue;
        }
        let Some(obj) = v.as_object() else {
            problems.push(format!("`{name}` is not an object"));
            continue;
        };
        if let Some(k) = obj
            .keys()
            .find(|k| !matches!(k.as_str(), "dtype" | "shape" | "data_offsets"))
        {
            problems.push(format!("`{name}` has unknown field `{k}`"));
        }
        let dtype = obj.get("dtype").and_then(Value::as_str).unwrap_or("");
        let Some(bits) = dtype_bits(dtype) else {
            problems.push(format!("`{name}` has unknown dtype `{dtype}`"));
            continue;
        };
        let shape: Option<Vec<u64>> = obj
            .get("shape")
            .and_then(Value::as_array)
            .and_then(|a| a.iter().map(Value::as_u64).collect());
        let offsets: Option<Vec<u64>> = obj
            .get("data_offsets")
            .and_then(Value::as_array)
            .and_then(|a| a.iter().map(Value::as_u64).collect());
        let (Some(shape), Some(offsets)) = (shape, offsets) else {
            problems.push(format!("`{name}` needs integer `shape` and `data_offsets`"));
            continue;
        };
        let [begin, end] = offsets[..] else {
            problems.push(format!("`{name}` data_offsets must have two entries"));
            continue;
        };
        if begin > end || end > data_len {
            problems.push(format!(
                "`{name}` offsets [{begin}, {end}] are outside the {data_len}-byte data"
            ));
            continue;
        }
        let nbits = shape
            .iter()
            .try_fold(1u64, |a, &d| a.checked_mul(d))
            .and_then(|n| n.checked_mul(bits));
        match nbits {
            Some(b) if b % 8 == 0 && b / 8 == end - begin => {}
            _ => problems.push(format!(
                "`{name}` shape {shape:?} x {dtype} does not match its {} bytes",
                end - begin
            )),
        }
        spans.push((begin, end, name.clone()));
    }
    spans.sort();
    let mut cursor = 0u64;
    for (b, e, name) in &spans {
        if *b < cursor {
            problems.push(format!("`{name}` overlaps the previous tensor"));
        } else if *b > cursor {
            problems.push(format!("gap of {} bytes before `{name}`", b - cursor));
        }
        cursor = cursor.max(*e);
    }
    if cursor != data_len && problems.is_empty() {
        problems.push(format!(
            "{} trailing bytes are not indexed by any tensor",
            data_len - cursor
        ));
    }
    problems
}

/// Scan a SafeTensors blob.
pub fn scan(scanner: &mut Scanner, blob: &Blob, chain: &mut [String]) -> bool {
    let head = blob.read_at(0, 8).unwrap_or_default();
    let n = u64::from_le_bytes(head.try_into().unwrap_or([0; 8]));
    let problems = if n > MAX_HEADER {
        vec![format!(
            "header length {n} exceeds the {MAX_HEADER}-byte bound"
        )]
    } else if n > blob.len().saturating_sub(8) {
        vec![format!(
            "header length {n} runs past the end of the {}-byte file",
            blob.len()
        )]
    } else {
        match blob.read_at(8, n as usize) {
            Ok(h) => validate(&h, blob.len() - 8 - n),
            Err(e) => vec![e.to_string()],
        }
    };
    for p in problems.iter().take(20) {
        scanner.hit(
            rules::SAFETENSORS_INVALID,
            Severity::High,
            chain,
            Some(8),
            format!("SafeTensors header is invalid: {p}"),
            vec![("format".into(), "safetensors".into())],
            p,
        );
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_header_passes() {
        let h = br#"{"__metadata__": {"format": "pt"}, "a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}, "b": {"dtype": "I8", "shape": [4], "data_offsets": [16, 20]}}"#;
        assert!(validate(h, 20).is_empty(), "{:?}", validate(h, 20));
    }

    #[test]
    fn invalid_headers_are_named() {
        let dup = br#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}"#;
        assert!(validate(dup, 8).iter().any(|p| p.contains("duplicate")));
        let overlap = br#"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}"#;
        assert!(validate(overlap, 8).iter().any(|p| p.contains("overlaps")));
        let size = br#"{"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}"#;
        assert!(
            validate(size, 8)
                .iter()
                .any(|p| p.contains("does not match"))
        );
        let out = br#"{"a": {"dtype": "F32", "shape": [1000], "data_offsets": [0, 4000]}}"#;
        assert!(validate(out, 8).iter().any(|p| p.contains("outside")));
        assert!(!validate(b"[1]", 0).is_empty());
        let dt = br#"{"a": {"dtype": "PYOBJ", "shape": [1], "data_offsets": [0, 8]}}"#;
        assert!(validate(dt, 8).iter().any(|p| p.contains("dtype")));
    }
}
