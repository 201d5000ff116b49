//! Keep secrets out of tickets. Tickets leave the machine (GitHub, webhooks),
//! so every text that goes into one passes through [`Redactor::clean`]: the
//! values of the token variables the sinks use are masked, and so is anything
//! shaped like a well-known credential (GitHub, AWS, Slack, OpenAI-style
//! keys, PEM private keys), whatever a gate put in a message.

/// Prefixes of well-known token formats, each followed by at least 16
/// token characters.
const PREFIXES: &[&str] = &[
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "glpat-",
    "xoxb-",
    "xoxp-",
    "xoxa-",
    "sk-",
    "sk_live_",
    "rk_live_",
    "hf_",
    "AKIA",
    "ASIA",
    "npm_",
    "pypi-",
];

fn token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// Whether `text` as a whole looks like a credential.
pub fn looks_like_secret(text: &str) -> bool {
    PREFIXES.iter().any(|p| {
        text.strip_prefix(p)
            .is_some_and(|rest| rest.len() >= 16 && rest.chars().all(token_char))
    })
}

/// Masks known secret values and credential-shaped words.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    values: Vec<String>,
}

impl Redactor {
    /// A redactor that also masks these exact values (tokens read from the
    /// environment); values shorter than 8 characters are ignored.
    pub fn new(values: impl IntoIterator<Item = String>) -> Redactor {
        Redactor {
            values: values.into_iter().filter(|v| v.len() >= 8).collect(),
        }
    }

    /// `text` with secrets replaced by `[REDACTED]`.
    pub fn clean(&self, text: &str) -> String {
        let mut out = text.to_string();
        for v in &self.values {
            out = out.replace(v.as_str(), "[REDACTED]");
        }
        if out.contains("PRIVATE KEY-----") {
            return "[REDACTED: text contained a private key]".into();
        }
        let mut result = String::with_capacity(out.len());
        let mut word = String::new();
        let flush = |word: &mut String, result: &mut String| {
            if looks_like_secret(word) {
                let keep: String = word.chars().take(4).collect();
                result.push_str(&keep);
                result.push_str("[REDACTED]");
            } else {
                result.push_str(word);
            }
            word.clear();
        };
        for c in out.chars() {
            if token_char(c) {
                word.push(c);
            } else {
                flush(&mut word, &mut result);
                result.push(c);
            }
        }
        flush(&mut word, &mut result);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_token_shapes_and_known_values() {
        let r = Redactor::new(["s3cr3t-value-123".to_string()]);
        let text = "found ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ012345 and AKIAABCDEFGHIJKLMNOP in x; s3cr3t-value-123!";
        let clean = r.clean(text);
        assert!(
            !clean.contains("ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"),
            "{clean}"
        );
        assert!(!clean.contains("AKIAABCDEFGHIJKLMNOP"), "{clean}");
        assert!(!clean.contains("s3cr3t-value-123"), "{clean}");
        assert!(clean.starts_with("found ghp_[REDACTED] and AKIA[REDACTED] in x; [REDACTED]!"));
        assert_eq!(r.clean("sk-short task-force"), "sk-short task-force");
        assert!(
            r.clean("-----BEGIN RSA PRIVATE KEY-----\nMII")
                .starts_with("[REDACTED")
        );
    }
}
