//! Parsing a provenance manifest: GNU `sha256sum` output (text or `*` binary
//! markers, `#` comments, blank lines, `\`-escaped names, and the BSD `--tag`
//! form), or mlgate's JSON form `{"version":1,"algorithm":"sha256","files":{..}}`.
//! The format is sniffed: a manifest whose first non-blank byte is `{` is JSON.
//!
//! The manifest is the trust anchor, so it is parsed strictly (unlike
//! `sha256sum -c`, which warns and goes on): a malformed line, an entry that
//! escapes the dataset (`..`, an absolute path) or two different digests for
//! one path make the whole manifest [`Invalid`], and the gate reports an error
//! naming every bad line rather than verifying half of what was intended.
//! Paths are normalised: `./a//b` is `a/b`.

use std::collections::BTreeMap;

use mlgate_plugin_sdk::DigestAlgorithm;

/// Largest manifest read, in bytes (about a million entries).
pub const MAX_MANIFEST_BYTES: u64 = 128 * 1024 * 1024;

/// Most problems listed in one error message.
const MAX_PROBLEMS_SHOWN: usize = 10;

/// One expected file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Normalised relative path (`/`-separated, no `.` or `..`).
    pub path: String,
    /// Hash algorithm of `digest`.
    pub algorithm: DigestAlgorithm,
    /// Lower-case hex digest.
    pub digest: String,
    /// 1-based manifest line (0 for the JSON form).
    pub line: u32,
}

/// A parsed manifest: entries sorted by path, one per path.
#[derive(Debug, Clone, Default)]
pub struct Manifest {
    /// The entries, sorted by path.
    pub entries: Vec<Entry>,
    /// `sha256sum` or `json`.
    pub format: &'static str,
}

/// Why a manifest cannot be used: every problem found, with its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// `(line, message)`; line 0 means the manifest as a whole.
    pub problems: Vec<(u32, String)>,
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (line, message)) in self.problems.iter().take(MAX_PROBLEMS_SHOWN).enumerate() {
            let sep = if i == 0 { "" } else { "; " };
            match line {
                0 => write!(f, "{sep}{message}")?,
                n => write!(f, "{sep}line {n}: {message}")?,
            }
        }
        if self.problems.len() > MAX_PROBLEMS_SHOWN {
            write!(f, "; and {} more", self.problems.len() - MAX_PROBLEMS_SHOWN)?;
        }
        Ok(())
    }
}

/// Parse manifest text, sniffing the format.
pub fn parse(text: &str) -> Result<Manifest, Invalid> {
    if text.trim_start().starts_with('{') {
        parse_json(text)
    } else {
        parse_lines(text)
    }
}

fn parse_lines(text: &str) -> Result<Manifest, Invalid> {
    let mut raw = Vec::new();
    let mut problems = Vec::new();
    for (index, line) in text.split('\n').enumerate() {
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        // A CRLF manifest (written on Windows) reads as well.
        let line = line.strip_suffix('\r').unwrap_or(line);
        let line = line.trim_start_matches([' ', '\t']);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match parse_line(line) {
            Ok((algorithm, digest, name)) => match normalise(&name) {
                Ok(path) => raw.push(Entry {
                    path,
                    algorithm,
                    digest,
                    line: number,
                }),
                Err(why) => problems.push((number, why)),
            },
            Err(why) => problems.push((number, why)),
        }
    }
    finish(raw, problems, "sha256sum")
}

/// One non-comment line: `<hex>  <name>`, `<hex> *<name>`, or
/// `ALGO (<name>) = <hex>`, each optionally `\`-prefixed for escapes.
fn parse_line(line: &str) -> Result<(DigestAlgorithm, String, String), String> {
    let (escaped, line) = match line.strip_prefix('\\') {
        Some(rest) => (true, rest),
        None => (false, line),
    };
    let unescape = |name: &str| {
        if escaped {
            unescape(name)
        } else {
            Ok(name.to_string())
        }
    };
    for (tag, algorithm) in [
        ("SHA256 (", DigestAlgorithm::Sha256),
        ("SHA512 (", DigestAlgorithm::Sha512),
        ("BLAKE2b (", DigestAlgorithm::Blake2b512),
    ] {
        if let Some(rest) = line.strip_prefix(tag) {
            let (name, hex) = rest
                .rsplit_once(") = ")
                .ok_or("expected `ALGO (<path>) = <hex>`")?;
            let digest = check_hex(hex, algorithm)?;
            return Ok((algorithm, digest, unescape(name)?));
        }
    }
    let (hex, rest) = line
        .split_once(' ')
        .ok_or("expected `<hex digest>  <path>` (two spaces, or ` *` for binary mode)")?;
    let algorithm = match hex.len() {
        64 => DigestAlgorithm::Sha256,
        128 => DigestAlgorithm::Sha512,
        n => {
            return Err(format!(
                "digest has {n} characters; a SHA-256 digest has 64 hex digits"
            ));
        }
    };
    let digest = check_hex(hex, algorithm)?;
    let name = rest
        .strip_prefix(' ')
        .or_else(|| rest.strip_prefix('*'))
        .ok_or("expected two spaces (text mode) or ` *` (binary mode) after the digest")?;
    Ok((algorithm, digest, unescape(name)?))
}

fn check_hex(hex: &str, algorithm: DigestAlgorithm) -> Result<String, String> {
    let want = match algorithm {
        DigestAlgorithm::Sha256 => 64,
        DigestAlgorithm::Sha512 | DigestAlgorithm::Blake2b512 => 128,
    };
    if hex.len() != want || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "`{}` is not a {want}-digit hex digest",
            hex.chars().take(80).collect::<String>()
        ));
    }
    Ok(hex.to_ascii_lowercase())
}

/// GNU escapes: `\\` is a backslash, `\n` a newline, `\r` a carriage return.
fn unescape(name: &str) -> Result<String, String> {
    let mut out = String::with_capacity(name.len());
    let mut chars = name.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            other => {
                return Err(format!(
                    "bad escape `\\{}` in file name (only \\\\, \\n and \\r exist)",
                    other.map(String::from).unwrap_or_default()
                ));
            }
        }
    }
    Ok(out)
}

/// `./a//b` -> `a/b`; `..`, absolute paths and empty names are refused.
pub fn normalise(name: &str) -> Result<String, String> {
    if name.starts_with('/') {
        return Err(format!(
            "`{name}` is an absolute path; entries must be relative to the dataset"
        ));
    }
    let mut parts = Vec::new();
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(format!("`{name}` escapes the dataset (`..`)")),
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        return Err(format!("`{name}` does not name a file"));
    }
    Ok(parts.join("/"))
}

fn parse_json(text: &str) -> Result<Manifest, Invalid> {
    let whole = |message: String| Invalid {
        problems: vec![(0, message)],
    };
    let doc: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| whole(format!("manifest is not valid JSON: {e}")))?;
    let object = doc
        .as_object()
        .ok_or_else(|| whole("JSON manifest must be an object".into()))?;
    if let Some(key) = object
        .keys()
        .find(|k| !matches!(k.as_str(), "version" | "algorithm" | "files"))
    {
        return Err(whole(format!(
            "unknown key `{key}` (expected `version`, `algorithm`, `files`)"
        )));
    }
    if object.get("version") != Some(&serde_json::Value::from(1)) {
        return Err(whole("JSON manifest needs `\"version\": 1`".into()));
    }
    let algorithm = match object.get("algorithm").and_then(|a| a.as_str()) {
        Some("sha256") => DigestAlgorithm::Sha256,
        Some("sha512") => DigestAlgorithm::Sha512,
        Some("blake2b512") => DigestAlgorithm::Blake2b512,
        other => {
            return Err(whole(format!(
                "`algorithm` is {other:?}; expected \"sha256\", \"sha512\" or \"blake2b512\""
            )));
        }
    };
    let files = object
        .get("files")
        .and_then(|f| f.as_object())
        .ok_or_else(|| whole("`files` must be an object of path -> hex digest".into()))?;
    let mut raw = Vec::new();
    let mut problems = Vec::new();
    for (name, value) in files {
        let checked = value
            .as_str()
            .ok_or_else(|| "digest is not a string".to_string())
            .and_then(|hex| check_hex(hex, algorithm))
            .and_then(|digest| Ok((normalise(name)?, digest)));
        match checked {
            Ok((path, digest)) => raw.push(Entry {
                path,
                algorithm,
                digest,
                line: 0,
            }),
            Err(why) => problems.push((0, format!("files[{name:?}]: {why}"))),
        }
    }
    finish(raw, problems, "json")
}

/// Sort, merge exact duplicates, and refuse conflicting ones.
fn finish(
    raw: Vec<Entry>,
    mut problems: Vec<(u32, String)>,
    format: &'static str,
) -> Result<Manifest, Invalid> {
    let mut by_path: BTreeMap<String, Entry> = BTreeMap::new();
    for entry in raw {
        match by_path.get(&entry.path) {
            Some(first) if first.digest == entry.digest && first.algorithm == entry.algorithm => {}
            Some(first) => problems.push((
                entry.line,
                format!(
                    "`{}` is listed again with a different digest (first at line {})",
                    entry.path, first.line
                ),
            )),
            None => {
                by_path.insert(entry.path.clone(), entry);
            }
        }
    }
    if !problems.is_empty() {
        problems.sort_by_key(|(line, _)| *line);
        return Err(Invalid { problems });
    }
    Ok(Manifest {
        entries: by_path.into_values().collect(),
        format,
    })
}

#[cfg(test)]
#[path = "manifest_tests.rs"]
mod tests;
