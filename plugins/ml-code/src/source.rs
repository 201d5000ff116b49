//! Getting Python text ready for the parser: IPython magics and shell lines
//! in notebook cells are blanked (same byte length, so offsets still map to
//! the raw file), a cheap keyword prefilter skips files that cannot contain
//! any rule's callee, and a nesting bound keeps hostile inputs from
//! exhausting the parser's stack.

use regex::Regex;

/// Deepest bracket nesting parsed; real code stays far below.
pub const MAX_NESTING: usize = 100;
/// Longest line parsed (long generated one-liners are skipped).
pub const MAX_LINE: usize = 20_000;

/// Words one of which every flagged call needs somewhere in the file.
pub fn prefilter() -> Regex {
    Regex::new(
        r"pickle|joblib|load|yaml|eval|exec|trust_remote_code|subprocess|system|popen|http://|HTTP://|from_pretrained|shelve|dill",
    )
    .expect("static regex")
}

/// Replace IPython magics (`%x`, `%%x`), shell escapes (`!cmd`) and help
/// lines (`obj?`) with spaces. A `%%` cell magic blanks the whole cell.
pub fn blank_magics(cell: &str) -> String {
    if cell.trim_start().starts_with("%%") {
        return blank(cell);
    }
    let mut out = String::with_capacity(cell.len());
    for line in cell.split_inclusive('\n') {
        let t = line.trim_start();
        let body = t.trim_end();
        if t.starts_with('%') || t.starts_with('!') || (body.ends_with('?') && !body.contains('#'))
        {
            out.push_str(&blank(line));
        } else {
            out.push_str(line);
        }
    }
    out
}

/// Same bytes as spaces, newlines kept.
fn blank(text: &str) -> String {
    text.bytes()
        .map(|b| if b == b'\n' { '\n' } else { ' ' })
        .collect()
}

/// Why a source is not parsed, if it is too deep or has a huge line.
pub fn too_hostile(text: &str) -> Option<String> {
    let mut depth = 0usize;
    let mut max = 0usize;
    for b in text.bytes() {
        match b {
            b'(' | b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if max > MAX_NESTING {
        return Some(format!("bracket nesting {max} is over {MAX_NESTING}"));
    }
    if let Some(len) = text.split('\n').map(str::len).max()
        && len > MAX_LINE
    {
        return Some(format!("a line of {len} bytes is over {MAX_LINE}"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magics_are_blanked_keeping_offsets() {
        let cell = "!pip install torch\n%matplotlib inline\nimport torch\nmodel?\n";
        let out = blank_magics(cell);
        assert_eq!(out.len(), cell.len());
        assert_eq!(out.find("import torch"), cell.find("import torch"));
        assert!(!out.contains("pip") && !out.contains("model"));
        assert!(blank_magics("%%bash\nrm -rf /\n").trim().is_empty());
    }

    #[test]
    fn nesting_bound() {
        assert!(too_hostile(&"(".repeat(500)).is_some());
        assert!(too_hostile("f(g(x))").is_none());
    }
}
