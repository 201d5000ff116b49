//! Guest text is untrusted: before it reaches a terminal, a CI log, a report
//! or a ticket, terminal escape sequences and control characters are removed
//! and its length is bounded.

/// Remove ANSI/VT escape sequences (CSI, OSC, and two-byte escapes) and C0/C1
/// control characters except `\n` and `\t`; cap at `max_chars` characters
/// (appending `…` when cut).
pub fn clean(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars));
    let mut chars = text.chars().peekable();
    let mut count = 0usize;
    while let Some(c) = chars.next() {
        if c == '\u{1b}' || c == '\u{9b}' {
            skip_escape(c, &mut chars);
            continue;
        }
        if (c.is_control() && c != '\n' && c != '\t') || is_bidi_override(c) {
            continue;
        }
        if count == max_chars {
            out.push('…');
            break;
        }
        out.push(c);
        count += 1;
    }
    out
}

/// [`clean`] for one-line contexts: newlines and tabs become spaces.
pub fn clean_line(text: &str, max_chars: usize) -> String {
    clean(text, max_chars).replace(['\n', '\t'], " ")
}

fn is_bidi_override(c: char) -> bool {
    // Trojan-source style reordering characters.
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn skip_escape(first: char, chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    let kind = if first == '\u{9b}' {
        Some('[')
    } else {
        chars.next()
    };
    match kind {
        // CSI: parameters then one final byte in @..~
        Some('[') => {
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        }
        // OSC, DCS, SOS, PM, APC: until BEL or ST (ESC \)
        Some(']' | 'P' | 'X' | '^' | '_') => {
            while let Some(c) = chars.next() {
                if c == '\u{7}' {
                    break;
                }
                if c == '\u{1b}' {
                    if chars.peek() == Some(&'\\') {
                        chars.next();
                    }
                    break;
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_csi_osc_and_controls() {
        let dirty = "\u{1b}]0;pwned\u{7}\u{1b}[2Jclear \u{1b}[31mred\u{1b}[0m\r\u{8}ok\u{202e}";
        assert_eq!(clean(dirty, 100), "clear redok");
    }

    #[test]
    fn keeps_newlines_and_caps_length() {
        assert_eq!(clean("a\nb\tc", 100), "a\nb\tc");
        assert_eq!(clean("abcdef", 3), "abc…");
        assert_eq!(clean_line("a\nb", 10), "a b");
    }

    #[test]
    fn unterminated_escape_does_not_panic() {
        assert_eq!(clean("x\u{1b}", 10), "x");
        assert_eq!(clean("x\u{1b}]title", 10), "x");
        assert_eq!(clean("x\u{1b}[12", 10), "x");
    }
}
