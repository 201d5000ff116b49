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

/// Words one of which every flagged call needs somewhere in the file: the
/// module of the callee (`pickle`, `torch`, `yaml`, ...; an alias is bound by
/// an import naming it), the keyword argument a rule reads (`allow_pickle`,
/// `safe_mode`, `trust_remote_code`), the builtin (`eval`, `exec`), the
/// `http://` URL (literal or a module constant) or the hub loader's name.
/// Plain `load` is not one: `json.load` in every other file would defeat it.
pub fn prefilter() -> Regex {
    Regex::new(
        r"pickle|joblib|torch|yaml|eval|exec|trust_remote_code|safe_mode|subprocess|system|popen|(?i:http://)|from_pretrained|_download|shelve|dill",
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

/// Why a source is not parsed, if it is too deep or has a huge line
/// (one pass over the bytes: every analysed file goes through it).
pub fn too_hostile(text: &str) -> Option<String> {
    let (mut depth, mut max) = (0usize, 0usize);
    let (mut line_start, mut longest) = (0usize, 0usize);
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'(' | b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b'\n' => {
                longest = longest.max(i - line_start);
                line_start = i + 1;
            }
            _ => {}
        }
    }
    longest = longest.max(text.len() - line_start);
    if max > MAX_NESTING {
        return Some(format!("bracket nesting {max} is over {MAX_NESTING}"));
    }
    if longest > MAX_LINE {
        return Some(format!("a line of {longest} bytes is over {MAX_LINE}"));
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

    #[test]
    fn line_bound_counts_the_last_line_too() {
        let long = "x".repeat(MAX_LINE + 1);
        assert!(too_hostile(&format!("a = 1\n{long}\nb = 2\n")).is_some());
        assert!(too_hostile(&format!("a = 1\n{long}")).is_some());
        assert!(too_hostile(&"x".repeat(MAX_LINE)).is_none());
    }

    #[test]
    fn prefilter_keeps_every_rule_and_skips_plain_loads() {
        let re = prefilter();
        for code in [
            "import pickle as pk\npk.load(f)",
            "from dill import loads",
            "import shelve",
            "import joblib",
            "from torch import load",
            "np.load(p, allow_pickle=True)",
            "import yaml",
            "eval(x)",
            "exec(code)",
            "m(trust_remote_code=True)",
            "keras.models.load_model(p, safe_mode=False)",
            "import subprocess",
            "os.system(cmd)",
            "os.popen(cmd)",
            "URL = 'HTTP://host/m.bin'",
            "AutoModel.from_pretrained('org/m')",
            "from huggingface_hub import hf_hub_download",
            "from huggingface_hub import snapshot_download",
        ] {
            assert!(re.is_match(code), "{code}");
        }
        assert!(!re.is_match("import json\ncfg = json.load(open(p))\n"));
    }
}
