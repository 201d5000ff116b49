//! What every check needs: the file (for messages), its text and span index
//! (for carets), and the list of errors found so far.

use std::path::Path;

use crate::diagnostic::{Diagnostic, Diagnostics};

use super::spans::{Span, SpanIndex};

/// The error collector of one validation pass.
pub struct Ctx<'a> {
    /// The pipeline file as it is shown in messages.
    pub file: &'a Path,
    /// The file's text.
    pub text: &'a str,
    /// Where everything is.
    pub spans: &'a SpanIndex,
    /// Errors so far.
    pub diags: Vec<Diagnostic>,
}

impl<'a> Ctx<'a> {
    /// A collector for `file`.
    pub fn new(file: &'a Path, text: &'a str, spans: &'a SpanIndex) -> Ctx<'a> {
        Ctx {
            file,
            text,
            spans,
            diags: Vec::new(),
        }
    }

    /// A diagnostic (not yet recorded) at `span`.
    pub fn diag(&self, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic::at(
            self.file,
            self.text,
            span.line,
            span.column,
            span.len,
            message,
        )
    }

    /// Records an error at `span`.
    pub fn error(&mut self, span: Span, message: impl Into<String>, help: Option<String>) {
        let mut d = self.diag(span, message);
        d.help = help;
        self.diags.push(d);
    }

    /// Records an error at the value of `path` (or the nearest thing located).
    pub fn error_at(&mut self, path: &str, message: impl Into<String>, help: Option<String>) {
        let span = self.spans.locate(path);
        self.error(span, message, help);
    }

    /// Records an error at the key of `path` (a mapping entry), falling back
    /// to its value.
    pub fn error_at_key(&mut self, path: &str, message: impl Into<String>, help: Option<String>) {
        let span = self
            .spans
            .key(path)
            .unwrap_or_else(|| self.spans.locate(path));
        self.error(span, message, help);
    }

    /// The errors, in file order, or `Ok` when there are none.
    pub fn finish(self) -> Result<(), Diagnostics> {
        let mut all = Diagnostics(self.diags);
        if all.is_empty() {
            Ok(())
        } else {
            all.sort();
            Err(all)
        }
    }
}
