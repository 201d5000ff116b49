//! Package names: PEP 503 normalisation and the edit distance used by the
//! typosquat check.
//!
//! Every comparison of a lockfile name with an advisory name goes through
//! [`normalize`]: the PyPA data itself holds non-normalised names (`jw.util`).

/// PEP 503 normalised name: lower-case, every run of `-`, `_`, `.` becomes `-`.
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_sep = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_sep {
                out.push('-');
            }
            in_sep = true;
        } else {
            out.extend(c.to_lowercase());
            in_sep = false;
        }
    }
    out
}

/// Whether `name` is a valid PEP 508 project name (ASCII letters, digits,
/// `-_.`, starting and ending with a letter or digit).
pub fn is_valid_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Optimal string alignment distance (Damerau-Levenshtein with adjacent
/// transpositions), stopping early once it exceeds `max`.
pub fn edit_distance(a: &str, b: &str, max: usize) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max {
        return max + 1;
    }
    let width = b.len() + 1;
    let mut prev2 = vec![0usize; width];
    let mut prev: Vec<usize> = (0..width).collect();
    let mut cur = vec![0usize; width];
    for i in 1..=a.len() {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(prev2[j - 2] + 1);
            }
            cur[j] = d;
            row_min = row_min.min(d);
        }
        if row_min > max {
            return max + 1;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep503_normalisation() {
        assert_eq!(normalize("jw.util"), "jw-util");
        assert_eq!(normalize("Friendly-Bard"), "friendly-bard");
        assert_eq!(normalize("FRIENDLY__.-bard"), "friendly-bard");
        assert_eq!(normalize("PyYAML"), "pyyaml");
        assert_eq!(normalize("zope.interface"), "zope-interface");
    }

    #[test]
    fn name_validity() {
        assert!(is_valid_name("scikit-learn"));
        assert!(is_valid_name("a"));
        assert!(!is_valid_name("-a"));
        assert!(!is_valid_name("a b"));
        assert!(!is_valid_name(""));
    }

    #[test]
    fn distance_counts_transpositions() {
        assert_eq!(edit_distance("torch", "troch", 3), 1);
        assert_eq!(edit_distance("numpy", "numpi", 3), 1);
        assert_eq!(edit_distance("pandas", "pandas", 3), 0);
        assert_eq!(edit_distance("requests", "reqeusts", 3), 1);
        assert_eq!(edit_distance("torch", "tensorflow", 1), 2);
        assert_eq!(edit_distance("abc", "", 5), 3);
    }
}
