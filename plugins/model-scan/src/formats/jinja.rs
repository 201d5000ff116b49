//! Chat templates (GGUF `tokenizer.chat_template*`) read as Jinja: the
//! template is tokenized and parsed by minijinja, and the token stream is
//! checked for the constructs every published template-injection payload
//! needs (CVE-2024-34359 and its variants): attribute access to private or
//! dunder names (`.__globals__`, `['__class__']`, `|attr('__init__')`,
//! `map(attribute='__class__')`), names of process and import machinery
//! reached as attributes (`.os`, `.popen(`), keys and attribute names built
//! at render time from string pieces or character codes, and Python's
//! `str.format` reaching attributes. Text outside tags, comments and
//! string literals are data, so a benign template that mentions
//! `__class__` in prose or in a string is not flagged. A template that
//! does not tokenize or parse is a finding of its own and falls back to a
//! substring check.

use minijinja::machinery::{Token, parse, tokenize};
use minijinja::syntax::SyntaxConfig;

/// Deepest bracket nesting handed to the (recursive) parser.
const MAX_NESTING: usize = 100;
/// Most tokens kept (real chat templates have a few thousand; the tokens
/// and the parser's tree are several times the text's size).
const MAX_TOKENS: usize = 200_000;

/// Attribute names of modules that reach process or import machinery:
/// flagged wherever they are read (`lipsum.__globals__.os`).
const MODULE_ATTRS: &[&str] = &["os", "sys", "subprocess", "builtins", "importlib", "posix"];

/// Methods that run commands or import code: flagged when called
/// (`.popen('id')`), since a data field may share the name.
const CALL_ATTRS: &[&str] = &[
    "popen",
    "system",
    "spawnl",
    "spawnv",
    "execl",
    "execv",
    "execve",
    "check_output",
    "check_call",
    "getoutput",
    "getstatusoutput",
    "import_module",
    "load_module",
    "mro",
];

/// Filters whose string arguments name attributes.
const ATTR_FILTERS: &[&str] = &[
    "attr",
    "map",
    "selectattr",
    "rejectattr",
    "sort",
    "groupby",
    "sum",
    "unique",
    "min",
    "max",
];

/// Fragments the substring fallback looks for (unparsable templates only).
const SUSPICIOUS: &[&str] = &[
    "__class__",
    "__globals__",
    "__subclasses__",
    "__mro__",
    "__base__",
    "__builtins__",
    "__import__",
    "__init__",
    "__dict__",
    "__getattribute__",
    "__reduce__",
    "__code__",
    "os.popen",
    "popen(",
    "subprocess",
    "eval(",
    "exec(",
    "lipsum",
    "cycler",
    "joiner",
    "namespace.__",
    "_templatereference__context",
    "|attr(",
    "| attr(",
    "import os",
    "self._",
    "request.application",
    "config.from",
];

/// What a template check found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Analysis {
    /// Constructs that reach Python internals (deduplicated, in order).
    pub reasons: Vec<String>,
    /// Why the template could not be parsed (then `reasons` come from the
    /// substring fallback).
    pub unparsable: Option<String>,
}

/// Check one template.
pub fn analyze(template: &str) -> Analysis {
    match tokens(template) {
        Ok(toks) => {
            let mut a = Analysis {
                reasons: check(&toks),
                unparsable: None,
            };
            if let Err(e) = parse(template, "<chat_template>", SyntaxConfig::default()) {
                a.unparsable = Some(e.to_string());
            }
            if a.unparsable.is_some() {
                a.reasons.extend(substrings(template));
                dedup(&mut a.reasons);
            }
            a
        }
        Err(e) => Analysis {
            reasons: substrings(template),
            unparsable: Some(e),
        },
    }
}

/// The fallback: suspicious fragments anywhere in the text.
pub fn substrings(template: &str) -> Vec<String> {
    let lower = template.to_ascii_lowercase();
    SUSPICIOUS
        .iter()
        .filter(|s| lower.contains(*s))
        .map(|s| format!("`{s}` (text)"))
        .collect()
}

fn tokens(template: &str) -> Result<Vec<Token<'_>>, String> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    for t in tokenize(template, false, SyntaxConfig::default()) {
        let (t, _) = t.map_err(|e| e.to_string())?;
        match t {
            Token::ParenOpen | Token::BracketOpen | Token::BraceOpen => depth += 1,
            Token::ParenClose | Token::BracketClose | Token::BraceClose => {
                depth = depth.saturating_sub(1)
            }
            Token::TemplateData(_) => continue,
            _ => {}
        }
        if depth > MAX_NESTING {
            return Err(format!("brackets nested deeper than {MAX_NESTING}"));
        }
        if out.len() >= MAX_TOKENS {
            return Err(format!("more than {MAX_TOKENS} tokens"));
        }
        out.push(t);
    }
    Ok(out)
}

fn text<'t>(t: &'t Token<'_>) -> Option<&'t str> {
    match t {
        Token::Str(s) => Some(s),
        Token::String(s) => Some(s),
        _ => None,
    }
}

/// Why an attribute name reaches Python internals, if it does: private
/// and dunder names always, module names always, command and import
/// methods when `called`.
fn bad_attr(name: &str, called: bool) -> Option<String> {
    let bad = name.starts_with('_')
        || MODULE_ATTRS.contains(&name)
        || (called && CALL_ATTRS.contains(&name));
    bad.then(|| format!("attribute `{name}`"))
}

/// A subscript key or attribute-naming argument: private and dunder only
/// (`m['system']` is a message field).
fn bad_key(key: &str) -> Option<String> {
    key.starts_with('_').then(|| format!("attribute `{key}`"))
}

/// Whether `t` ends an expression (so a following `[` subscripts it).
fn ends_expr(t: &Token<'_>) -> bool {
    matches!(
        t,
        Token::Ident(_)
            | Token::Str(_)
            | Token::String(_)
            | Token::BracketClose
            | Token::ParenClose
    )
}

/// The tokens up to the bracket closing the one opened at `open`.
fn group<'t, 'a>(toks: &'t [Token<'a>], open: usize) -> &'t [Token<'a>] {
    let mut depth = 0usize;
    for (i, t) in toks.iter().enumerate().skip(open) {
        match t {
            Token::ParenOpen | Token::BracketOpen | Token::BraceOpen => depth += 1,
            Token::ParenClose | Token::BracketClose | Token::BraceClose => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return &toks[open + 1..i];
                }
            }
            _ => {}
        }
    }
    &toks[(open + 1).min(toks.len())..]
}

/// A key or attribute name built at render time: why it is suspicious.
fn computed_name(inner: &[Token<'_>]) -> Option<String> {
    let pieces: Vec<&str> = inner.iter().filter_map(text).collect();
    if pieces.is_empty() || inner.len() == 1 {
        return None;
    }
    let joined = pieces.concat();
    let filtered = inner.iter().any(|t| matches!(t, Token::Pipe | Token::Mul));
    (joined.contains("__") || joined.starts_with('_') || pieces.contains(&"_") || filtered)
        .then(|| format!("name built at render time from `{joined}`"))
}

fn check(toks: &[Token<'_>]) -> Vec<String> {
    let mut reasons = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        let prev = i.checked_sub(1).map(|p| &toks[p]);
        let next = toks.get(i + 1);
        match t {
            Token::Ident(name) if matches!(prev, Some(Token::Dot)) => {
                reasons.extend(bad_attr(name, matches!(next, Some(Token::ParenOpen))));
                if matches!(*name, "format" | "format_map")
                    && i >= 2
                    && text(&toks[i - 2]).is_some_and(|s| s.contains("__") || s.contains("{0."))
                {
                    reasons.push("`str.format` reaching attributes".into());
                }
            }
            Token::Ident(name)
                if matches!(prev, Some(Token::Pipe))
                    && ATTR_FILTERS.contains(name)
                    && matches!(next, Some(Token::ParenOpen)) =>
            {
                let args = group(toks, i + 1);
                for a in args.iter().filter_map(text) {
                    reasons.extend(bad_key(a));
                }
                if *name == "attr" && !matches!(args, [a] if text(a).is_some()) {
                    reasons.push("`attr` filter with a computed name".into());
                }
            }
            Token::Ident("format")
                if matches!(prev, Some(Token::Pipe))
                    && i >= 2
                    && text(&toks[i - 2]).is_some_and(|s| s.contains("%c")) =>
            {
                reasons.push("string built from character codes".into());
            }
            Token::BracketOpen if prev.is_some_and(ends_expr) => {
                let inner = group(toks, i);
                match inner {
                    [k] => {
                        if let Some(k) = text(k) {
                            reasons.extend(bad_key(k));
                        }
                    }
                    _ => reasons.extend(computed_name(inner)),
                }
            }
            _ => {}
        }
    }
    dedup(&mut reasons);
    reasons
}

fn dedup(v: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    v.retain(|r| seen.insert(r.clone()));
}

#[cfg(test)]
#[path = "jinja_tests.rs"]
mod tests;
