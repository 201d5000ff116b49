//! GGUF (llama.cpp): header sanity (counts and lengths bounded by the file,
//! value types known, tensor infos parseable) and the
//! `tokenizer.chat_template` metadata, a Jinja template that servers such
//! as llama-cpp-python render: constructs that reach Python internals
//! (`.__globals__`, `__subclasses__()`, `|attr('__init__')`, ...) are
//! template injection (CVE-2024-34359), checked on the parsed template by
//! [`super::jinja`]. Tensor data is never read.

use std::io::Read;

use mlgate_plugin_sdk::Severity;

use crate::rules;
use crate::scan::Scanner;
use crate::source::{Blob, BlobReader};

/// Longest template read.
const MAX_TEMPLATE: u64 = 16 << 20;

struct Parser {
    r: BlobReader,
    v1: bool,
}

impl Parser {
    fn u32(&mut self) -> Result<u32, String> {
        let mut b = [0u8; 4];
        self.r
            .read_exact(&mut b)
            .map_err(|_| "truncated".to_string())?;
        Ok(u32::from_le_bytes(b))
    }
    fn u64(&mut self) -> Result<u64, String> {
        if self.v1 {
            return self.u32().map(u64::from);
        }
        let mut b = [0u8; 8];
        self.r
            .read_exact(&mut b)
            .map_err(|_| "truncated".to_string())?;
        Ok(u64::from_le_bytes(b))
    }
    fn skip(&mut self, n: u64) -> Result<(), String> {
        self.r
            .skip(n)
            .map_err(|_| format!("length {n} runs past the end of the file"))
    }
    /// A string: kept when `keep` allows, else skipped.
    fn string(&mut self, keep: u64) -> Result<Option<String>, String> {
        let n = self.u64()?;
        if n > self.r.remaining() {
            return Err(format!("string length {n} runs past the end of the file"));
        }
        if n > keep {
            self.skip(n)?;
            return Ok(None);
        }
        let mut b = vec![0u8; n as usize];
        self.r
            .read_exact(&mut b)
            .map_err(|_| "truncated".to_string())?;
        Ok(Some(String::from_utf8_lossy(&b).into_owned()))
    }
    fn value(&mut self, ty: u32, keep: u64, depth: u32) -> Result<Option<String>, String> {
        let fixed = match ty {
            0 | 1 | 7 => 1,
            2 | 3 => 2,
            4..=6 => 4,
            10..=12 => 8,
            _ => 0,
        };
        if fixed > 0 {
            self.skip(fixed)?;
            return Ok(None);
        }
        match ty {
            8 => self.string(keep),
            9 if depth == 0 => {
                let inner = self.u32()?;
                let n = self.u64()?;
                if n > self.r.remaining() {
                    return Err(format!("array of {n} items runs past the end of the file"));
                }
                for _ in 0..n {
                    self.value(inner, 0, depth + 1)?;
                }
                Ok(None)
            }
            _ => Err(format!("unknown value type {ty}")),
        }
    }
}

/// Parse the header; `(templates, problem)`.
fn parse(blob: &Blob) -> (Vec<(String, Option<String>)>, Option<String>) {
    let mut templates = Vec::new();
    let Ok(r) = blob.open() else {
        return (templates, Some("cannot open".into()));
    };
    let mut p = Parser { r, v1: false };
    let result = (|| -> Result<(), String> {
        p.skip(4)?;
        let version = p.u32()?;
        if !(1..=3).contains(&version) {
            return Err(format!("unknown GGUF version {version}"));
        }
        p.v1 = version == 1;
        let tensors = p.u64()?;
        let kvs = p.u64()?;
        if tensors > p.r.remaining() / 8 || kvs > p.r.remaining() / 8 {
            return Err(format!(
                "counts ({tensors} tensors, {kvs} keys) exceed what the file can hold"
            ));
        }
        for _ in 0..kvs {
            let key = p.string(4096)?.unwrap_or_default();
            let ty = p.u32()?;
            let keep = if key.starts_with("tokenizer.chat_template") {
                MAX_TEMPLATE
            } else {
                0
            };
            let v = p.value(ty, keep, 0)?;
            if keep > 0 && ty == 8 {
                // `None`: longer than the bound, skipped (reported)
                templates.push((key, v));
            }
        }
        for _ in 0..tensors {
            p.string(0)?;
            let dims = p.u32()?;
            if dims > 8 {
                return Err(format!("tensor with {dims} dimensions"));
            }
            for _ in 0..dims {
                p.u64()?;
            }
            p.u32()?;
            p.skip(8)?;
        }
        Ok(())
    })();
    (templates, result.err())
}

/// Scan a GGUF blob.
pub fn scan(scanner: &mut Scanner, blob: &Blob, chain: &mut [String]) -> bool {
    let (templates, problem) = parse(blob);
    for (key, t) in templates {
        let Some(t) = t else {
            scanner.hit(
                rules::SCAN_LIMIT,
                Severity::High,
                chain,
                None,
                format!("GGUF `{key}` is longer than {MAX_TEMPLATE} bytes; not checked"),
                vec![
                    ("format".into(), "gguf".into()),
                    ("key".into(), key.clone()),
                ],
                &format!("{key}:size"),
            );
            continue;
        };
        let a = super::jinja::analyze(&t);
        if let Some(why) = &a.unparsable {
            scanner.hit(
                rules::MALFORMED,
                Severity::Medium,
                chain,
                None,
                format!("GGUF `{key}` does not parse as Jinja ({why}); checked by substring"),
                vec![
                    ("format".into(), "gguf".into()),
                    ("key".into(), key.clone()),
                ],
                &format!("{key}:parse"),
            );
        }
        if !a.reasons.is_empty() {
            scanner.hit(
                rules::GGUF_TEMPLATE,
                Severity::Critical,
                chain,
                None,
                format!(
                    "GGUF `{key}` reaches Python internals: {}",
                    a.reasons.join(", ")
                ),
                vec![
                    ("format".into(), "gguf".into()),
                    ("key".into(), key.clone()),
                ],
                &key,
            );
        }
    }
    if let Some(p) = problem {
        scanner.hit(
            rules::MALFORMED,
            Severity::Medium,
            chain,
            None,
            format!("GGUF header is invalid: {p}"),
            vec![("format".into(), "gguf".into())],
            "gguf",
        );
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_templates_are_reported_not_skipped() {
        // a chat template one byte over the bound, written by hand
        let key = b"tokenizer.chat_template";
        let mut b = b"GGUF".to_vec();
        b.extend(3u32.to_le_bytes());
        b.extend(0u64.to_le_bytes());
        b.extend(1u64.to_le_bytes());
        b.extend((key.len() as u64).to_le_bytes());
        b.extend(key);
        b.extend(8u32.to_le_bytes());
        b.extend((MAX_TEMPLATE + 1).to_le_bytes());
        b.resize(b.len() + MAX_TEMPLATE as usize + 1, b'a');
        let cfg = crate::config::Config::default();
        let mut scanner = Scanner::new(&cfg);
        scanner.scan_blob(&Blob::mem(b), &mut Vec::new(), 0);
        assert!(
            scanner.hits.iter().any(|h| h.rule == rules::SCAN_LIMIT),
            "{:?}",
            scanner.hits
        );
    }

    #[test]
    fn huge_counts_are_rejected() {
        let mut b = b"GGUF".to_vec();
        b.extend(3u32.to_le_bytes());
        b.extend(u64::MAX.to_le_bytes());
        b.extend(1u64.to_le_bytes());
        let (_, problem) = parse(&Blob::mem(b));
        assert!(problem.is_some());
    }
}
