//! Located configuration errors, rendered the way rustc renders them.
//!
//! Every problem mlgate finds in a user's pipeline or suppressions file (a
//! YAML syntax error, an unknown key, an unknown gate in `needs`, a cycle, a
//! bad size ...) becomes a [`Diagnostic`]: a message, a `file:line:col`, the
//! offending source line with a caret under the offending text, and an
//! optional help line. [`Diagnostics`] is the error type of `pipeline::load`,
//! `graph::build` and `policy::load`; the CLI prints it and exits with status 2.

use std::fmt;
use std::path::{Path, PathBuf};

/// One located error.
///
/// ```text
/// error: unknown gate `model-scn` in `needs`
///   --> pipelines/mlsecops.yaml:12:13
///    |
/// 12 |     needs: [model-scn]
///    |             ^^^^^^^^^
///    = help: known gates: model-scan, signature
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file the error is in, as it should be shown.
    pub file: PathBuf,
    /// 1-based line; 0 when the error has no position in the file.
    pub line: u32,
    /// 1-based column (in characters).
    pub column: u32,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
    /// The text of `line`, shown under the location.
    pub source_line: Option<String>,
    /// How many characters the caret underlines (at least one is drawn).
    pub span_len: usize,
}

impl Diagnostic {
    /// An error about a whole file (no position).
    pub fn file_level(file: impl Into<PathBuf>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: file.into(),
            line: 0,
            column: 0,
            message: message.into(),
            help: None,
            source_line: None,
            span_len: 0,
        }
    }

    /// An error at `line:column` of `file`, underlining `span_len` characters;
    /// the source line is taken from `text` (the whole file).
    pub fn at(
        file: impl Into<PathBuf>,
        text: &str,
        line: u32,
        column: u32,
        span_len: usize,
        message: impl Into<String>,
    ) -> Diagnostic {
        let source_line = (line > 0)
            .then(|| text.lines().nth(line as usize - 1))
            .flatten()
            .map(|l| l.trim_end_matches('\r').to_string());
        Diagnostic {
            file: file.into(),
            line,
            column: column.max(1),
            message: message.into(),
            help: None,
            source_line,
            span_len,
        }
    }

    /// Adds (or replaces) the help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Renders the diagnostic (no trailing newline).
    pub fn render(&self) -> String {
        let mut out = format!("error: {}", self.message);
        let number = self.line.to_string();
        let width = number.len();
        let pad = " ".repeat(width);
        if self.line == 0 {
            out.push_str(&format!("\n{pad}--> {}", self.file.display()));
        } else {
            out.push_str(&format!(
                "\n{pad}--> {}:{}:{}",
                self.file.display(),
                self.line,
                self.column
            ));
        }
        if let (Some(source), true) = (&self.source_line, self.line > 0) {
            let indent: String = source
                .chars()
                .take(self.column as usize - 1)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let carets = "^".repeat(self.span_len.max(1));
            out.push_str(&format!("\n{pad} |"));
            out.push_str(format!("\n{number} | {source}").trim_end());
            out.push_str(&format!("\n{pad} | {indent}{carets}"));
        }
        if let Some(help) = &self.help {
            out.push_str(&format!("\n{pad} = help: {help}"));
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

/// All the errors found in one pass over a file, in file order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// A single error.
    pub fn one(d: Diagnostic) -> Diagnostics {
        Diagnostics(vec![d])
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Sorts by position (stable, so equal positions keep discovery order).
    pub fn sort(&mut self) {
        self.0.sort_by_key(|d| (d.line, d.column));
    }

    /// Shows every file relative to `base` when it lies under it (for
    /// messages independent of where the checkout is).
    pub fn relativize(&mut self, base: &Path) {
        for d in &mut self.0 {
            if let Ok(rel) = d.file.strip_prefix(base) {
                d.file = rel.to_path_buf();
            }
        }
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n\n")?;
            }
            f.write_str(&d.render())?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics::one(d)
    }
}

/// The closest candidate to `word` by edit distance, if it is close enough to
/// be a plausible typo (distance at most a third of the word, at least 1;
/// words under three characters get no suggestion).
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let len = word.chars().count();
    if len < 3 {
        return None; // every short word is "close" to every other
    }
    let limit = (len / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edit distance over characters where swapping two neighbours counts as one
/// edit (optimal string alignment), so `nmae` is one typo from `name`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j - 1] + cost)
                .min(d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

/// `help` text listing the expected words, led by a did-you-mean when one is
/// close: "did you mean `high`? expected one of: info, low, ...".
pub fn expected_help(word: &str, expected: &[&str], noun: &str) -> String {
    let list = expected.join(", ");
    match did_you_mean(word, expected.iter().copied()) {
        Some(s) => format!("did you mean `{s}`? {noun}: {list}"),
        None => format!("{noun}: {list}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_rustc() {
        let text = "a: 1\n".repeat(11) + "    needs: [model-scn]\n";
        let d = Diagnostic::at(
            "pipelines/mlsecops.yaml",
            &text,
            12,
            13,
            9,
            "unknown gate `model-scn` in `needs`",
        )
        .with_help("known gates: model-scan, signature");
        assert_eq!(
            d.render(),
            "error: unknown gate `model-scn` in `needs`\n  --> pipelines/mlsecops.yaml:12:13\n   |\n12 |     needs: [model-scn]\n   |             ^^^^^^^^^\n   = help: known gates: model-scan, signature"
        );
    }

    #[test]
    fn file_level_and_many() {
        let a = Diagnostic::file_level("x.yaml", "cannot read");
        let b = Diagnostic::at("x.yaml", "k: v\n", 1, 1, 1, "bad key");
        let all = Diagnostics(vec![a, b]);
        assert_eq!(
            all.to_string(),
            "error: cannot read\n --> x.yaml\n\nerror: bad key\n --> x.yaml:1:1\n  |\n1 | k: v\n  | ^"
        );
    }

    #[test]
    fn suggests_close_words_only() {
        assert_eq!(did_you_mean("stge", ["stage", "plugin"]), Some("stage"));
        assert_eq!(
            did_you_mean("model-scn", ["model-scan", "signature"]),
            Some("model-scan")
        );
        assert_eq!(did_you_mean("zzz", ["stage", "plugin"]), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("nmae", "name"), 1);
        assert_eq!(did_you_mean("nmae", ["version", "name"]), Some("name"));
    }
}
