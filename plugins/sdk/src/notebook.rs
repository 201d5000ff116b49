//! Notebooks (`.ipynb`), shared by the gates that read them (`secrets`,
//! `ml-code`): a small JSON walker that decodes every string in the file,
//! records the key each string sits under (so code cells' `source` can be
//! told from outputs and markdown), and remembers, for each decoded byte,
//! its offset in the raw JSON text. Consecutive strings of one array (a cell's `source`, an
//! output's `text`) are joined, as Jupyter joins them, so a key split over
//! source lines is still one text. Findings then point at the line of the
//! raw `.ipynb` (what editors show) and carry the cell index.
//!
//! Hostile input: nesting is bounded, malformed JSON returns `None` (the
//! caller falls back to scanning the raw text) and nothing panics.

/// Deepest nesting followed; a notebook is about 6 levels deep.
const MAX_DEPTH: usize = 64;

/// Decoded text of one string or joined string array.
#[derive(Debug, Default)]
pub struct Segment {
    /// Decoded text.
    pub text: String,
    /// Raw byte offset of each decoded byte (`map.len() == text.len()`).
    pub map: Vec<u32>,
    /// Index of the cell it belongs to, if inside `cells`.
    pub cell: Option<usize>,
    /// The object key the string or array is the value of (`source`, `text`).
    pub key: String,
}

impl Segment {
    /// Raw offset of decoded offset `i`.
    pub fn raw_offset(&self, i: usize) -> usize {
        self.map.get(i).or(self.map.last()).copied().unwrap_or(0) as usize
    }
}

struct Walker<'a> {
    raw: &'a [u8],
    pos: usize,
    out: Vec<Segment>,
}

/// Decode a notebook into text segments, or `None` if it is not JSON.
pub fn segments(raw: &str) -> Option<Vec<Segment>> {
    if raw.len() > u32::MAX as usize {
        return None;
    }
    let mut w = Walker {
        raw: raw.as_bytes(),
        pos: 0,
        out: Vec::new(),
    };
    w.value(0, None, false, "")?;
    w.ws();
    (w.pos == w.raw.len()).then_some(w.out)
}

impl Walker<'_> {
    fn ws(&mut self) {
        while self
            .raw
            .get(self.pos)
            .is_some_and(|b| b.is_ascii_whitespace())
        {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.raw.get(self.pos).copied()
    }

    /// One JSON value. `cells` is true for the top-level `cells` array.
    fn value(&mut self, depth: usize, cell: Option<usize>, cells: bool, key: &str) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.ws();
        match self.peek()? {
            b'{' => self.object(depth, cell),
            b'[' => self.array(depth, cell, cells, key),
            b'"' => {
                let mut seg = Segment {
                    cell,
                    key: key.to_string(),
                    ..Segment::default()
                };
                self.string(Some(&mut seg))?;
                if !skip_key(key) {
                    self.out.push(seg);
                }
                Some(())
            }
            _ => {
                while self
                    .peek()
                    .is_some_and(|b| !matches!(b, b',' | b']' | b'}') && !b.is_ascii_whitespace())
                {
                    self.pos += 1;
                }
                Some(())
            }
        }
    }

    fn object(&mut self, depth: usize, cell: Option<usize>) -> Option<()> {
        self.pos += 1;
        self.ws();
        if self.peek()? == b'}' {
            self.pos += 1;
            return Some(());
        }
        loop {
            self.ws();
            let mut key = Segment::default();
            self.string(Some(&mut key))?;
            self.ws();
            (self.peek()? == b':').then_some(())?;
            self.pos += 1;
            let cells = depth == 0 && key.text == "cells";
            self.value(depth + 1, cell, cells, &key.text)?;
            self.ws();
            match self.peek()? {
                b',' => self.pos += 1,
                b'}' => {
                    self.pos += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    fn array(&mut self, depth: usize, cell: Option<usize>, cells: bool, key: &str) -> Option<()> {
        self.pos += 1;
        let mut joined = Segment {
            cell,
            key: key.to_string(),
            ..Segment::default()
        };
        let mut index = 0;
        loop {
            self.ws();
            match self.peek()? {
                b']' => {
                    self.pos += 1;
                    break;
                }
                b'"' if !cells => {
                    self.string(Some(&mut joined))?;
                }
                _ => {
                    let element_cell = if cells { Some(index) } else { cell };
                    self.value(depth + 1, element_cell, false, key)?;
                }
            }
            index += 1;
            self.ws();
            match self.peek()? {
                b',' => self.pos += 1,
                b']' => {
                    self.pos += 1;
                    break;
                }
                _ => return None,
            }
        }
        if !cells && !skip_key(key) {
            self.out.push(joined);
        }
        Some(())
    }

    /// A JSON string at `pos`, decoded into `seg` (offsets recorded).
    fn string(&mut self, mut seg: Option<&mut Segment>) -> Option<()> {
        (self.peek()? == b'"').then_some(())?;
        self.pos += 1;
        loop {
            let start = self.pos;
            let b = self.peek()?;
            match b {
                b'"' => {
                    self.pos += 1;
                    return Some(());
                }
                b'\\' => {
                    let esc = *self.raw.get(self.pos + 1)?;
                    self.pos += 2;
                    let ch = match esc {
                        b'n' => '\n',
                        b't' => '\t',
                        b'r' => '\r',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'"' | b'\\' | b'/' => esc as char,
                        b'u' => self.unicode()?,
                        _ => return None,
                    };
                    if let Some(s) = seg.as_deref_mut() {
                        push(s, ch, start);
                    }
                }
                _ => {
                    // Copy one UTF-8 character through.
                    let len = utf8_len(b);
                    let bytes = self.raw.get(self.pos..self.pos + len)?;
                    let text = std::str::from_utf8(bytes).ok()?;
                    self.pos += len;
                    if let Some(s) = seg.as_deref_mut() {
                        s.text.push_str(text);
                        s.map.extend(std::iter::repeat_n(start as u32, len));
                    }
                }
            }
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.raw.get(self.pos..self.pos + 4)?;
        let value = u32::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()?;
        self.pos += 4;
        Some(value)
    }

    fn unicode(&mut self) -> Option<char> {
        let hi = self.hex4()?;
        if (0xD800..0xDC00).contains(&hi) && self.raw.get(self.pos..self.pos + 2) == Some(b"\\u") {
            self.pos += 2;
            let lo = self.hex4()?;
            let c = 0x10000 + ((hi - 0xD800) << 10) + (lo.wrapping_sub(0xDC00) & 0x3FF);
            return Some(char::from_u32(c).unwrap_or('\u{FFFD}'));
        }
        Some(char::from_u32(hi).unwrap_or('\u{FFFD}'))
    }
}

fn push(seg: &mut Segment, ch: char, raw: usize) {
    let before = seg.text.len();
    seg.text.push(ch);
    seg.map
        .extend(std::iter::repeat_n(raw as u32, seg.text.len() - before));
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xF7 => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// Code cells' sources: `(cell index, segment)` for every cell whose
/// `cell_type` is `code`.
pub fn code_sources(segments: &[Segment]) -> Vec<&Segment> {
    let code: Vec<usize> = segments
        .iter()
        .filter(|s| s.key == "cell_type" && s.text == "code")
        .filter_map(|s| s.cell)
        .collect();
    segments
        .iter()
        .filter(|s| s.key == "source" && s.cell.is_some_and(|c| code.contains(&c)))
        .collect()
}

/// Outputs that are images or binary blobs are base64 noise, not text.
fn skip_key(key: &str) -> bool {
    key.starts_with("image/") || key == "application/pdf"
}

#[cfg(test)]
mod tests {
    use super::*;

    const NB: &str = r##"{
 "cells": [
  {
   "cell_type": "code",
   "source": [
    "import os\n",
    "key = \"a\u00e9b\"\n"
   ],
   "outputs": [{"output_type": "stream", "text": ["line one\n", "line two\n"]}]
  },
  {"cell_type": "markdown", "source": "# Title"}
 ],
 "metadata": {"kernelspec": {"name": "python3"}}
}"##;

    #[test]
    fn joins_sources_and_maps_offsets() {
        let segs = segments(NB).unwrap();
        let src = segs
            .iter()
            .find(|s| s.text.starts_with("import os"))
            .unwrap();
        assert_eq!(src.cell, Some(0));
        assert_eq!(src.text, "import os\nkey = \"a\u{e9}b\"\n");
        let at = src.text.find("key").unwrap();
        let raw = src.raw_offset(at);
        assert_eq!(&NB[raw..raw + 3], "key");
        let out = segs
            .iter()
            .find(|s| s.text.starts_with("line one"))
            .unwrap();
        assert_eq!(out.cell, Some(0));
        let md = segs.iter().find(|s| s.text == "# Title").unwrap();
        assert_eq!(md.cell, Some(1));
        let code = code_sources(&segs);
        assert_eq!(code.len(), 1);
        assert_eq!(code[0].cell, Some(0));
    }

    #[test]
    fn malformed_and_deep_input_is_refused_without_panic() {
        assert!(segments("{\"cells\": [").is_none());
        assert!(segments(&"[".repeat(10_000)).is_none());
        assert!(segments("\"\\u12").is_none());
        assert!(segments("{\"a\": \"\\ud800\\u0041\"}").is_some());
    }
}
