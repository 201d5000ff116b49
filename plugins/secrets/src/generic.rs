//! The generic rule's value heuristics: a value assigned to a secret-like
//! name is reported only if it looks random and is not a reference to a
//! secret kept elsewhere (environment variable, template, path, URL, call).

use crate::checks::{class_count, classes, entropy, is_placeholder};

/// Extensions that make a value a file name, not a secret.
const FILE_SUFFIXES: &[&str] = &[
    ".json", ".txt", ".pem", ".key", ".crt", ".yaml", ".yml", ".env", ".toml", ".py", ".cfg",
    ".ini",
];

/// Names whose values are not secrets even though they contain a keyword
/// (`token_type: Bearer`, `max_tokens`, tokenizer special tokens).
fn ignored_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.ends_with("tokens")
        || n.contains("token_type")
        || n.ends_with("_token_id")
        || [
            "pad_token",
            "eos_token",
            "bos_token",
            "unk_token",
            "sep_token",
            "cls_token",
            "mask_token",
        ]
        .iter()
        .any(|t| n.ends_with(t))
}

/// Decide on `value` assigned to `name`. `literal` tells whether the value is
/// a literal: in quotes (with the closing quote found) or in a dotenv file, where
/// unquoted values are literals too. `next` is the character right after the
/// value. Returns the note for the finding or the drop reason.
pub fn check(name: &str, value: &str, literal: bool, next: Option<char>) -> Result<String, String> {
    if ignored_name(name) {
        return Err("name is not a credential".into());
    }
    let lower = value.to_ascii_lowercase();
    if is_placeholder(value) || lower.contains("password") || lower.contains("secret") {
        return Err("placeholder".into());
    }
    if lower.contains("://")
        || value.starts_with('/')
        || value.starts_with("./")
        || value.starts_with('~')
    {
        return Err("URL or path".into());
    }
    // Stripe test-mode keys (`sk_test_…`, as in Stripe's own docs) reach only a
    // sandbox account that cannot move money; live keys (`sk_live_…`) still count.
    if ["sk_test_", "rk_test_", "pk_test_"]
        .iter()
        .any(|p| value.starts_with(p))
    {
        return Err("Stripe test-mode key".into());
    }
    if FILE_SUFFIXES.iter().any(|s| lower.ends_with(s)) {
        return Err("file name".into());
    }
    if value.starts_with('$')
        || value.starts_with('%')
        || value.contains("${")
        || value.contains("%(")
    {
        return Err("template or variable".into());
    }
    let (lo, up, digit, _) = classes(value);
    // ENV_VAR_NAME or dotted.identifier: a reference, not the value.
    if value.contains('_')
        && !lo
        && value
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err("environment variable name".into());
    }
    if value
        .bytes()
        .all(|b| b.is_ascii_lowercase() || matches!(b, b'_' | b'-' | b'.' | b' '))
    {
        return Err("word-like value".into());
    }
    if !literal {
        if matches!(next, Some('(' | '[' | '.')) {
            return Err("expression".into());
        }
        if !(lo && up && digit) {
            return Err("unquoted value without mixed case and digits".into());
        }
        if value.contains('.')
            && value
                .split('.')
                .all(|p| p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        {
            return Err("dotted identifier".into());
        }
    }
    if class_count(value) < 2 {
        return Err("single character class".into());
    }
    let e = entropy(value);
    // Entropy per byte is bounded by log2(len): scale the bar for short values.
    let bar = (0.8 * (value.len() as f64).log2()).min(3.5);
    if e < bar {
        return Err(format!("entropy {e:.2} < {bar:.2}"));
    }
    Ok(format!("entropy {e:.2}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_quoted_values_pass() {
        assert!(check("DB_PASSWORD", "T7#kq9Lm2x!Pv4", true, Some('"')).is_ok());
        assert!(check("api_key", "9f8Kd02LmQx7Vb3Nz", true, Some('"')).is_ok());
    }

    #[test]
    fn references_and_placeholders_are_dropped() {
        for (name, value, quoted, next) in [
            ("token", "GITHUB_TOKEN", true, Some('"')),
            ("password", "your-password-here", true, Some('"')),
            ("secret_key", "os.environ", false, Some('[')),
            ("token", "get_token_from", false, Some('(')),
            ("password", "${DB_PASSWORD}", true, Some('"')),
            (
                "token_url",
                "https://example.org/oauth/token",
                true,
                Some('"'),
            ),
            (
                "credentials",
                "/run/secrets/credentials.json",
                true,
                Some('"'),
            ),
            ("pad_token", "[PAD]xxxx", true, Some('"')),
            ("max_tokens", "12345678", false, None),
            ("secret", "bert-base-uncased", true, Some('"')),
            ("password", "changeme123", true, Some('"')),
        ] {
            assert!(check(name, value, quoted, next).is_err(), "{name}={value}");
        }
    }

    #[test]
    fn stripe_test_mode_keys_are_not_secrets_but_live_keys_are() {
        assert!(check("api_key", "sk_test_4eC39HqLyjWDarjtT1zdp7dc", true, None).is_err());
        assert!(check("api_key", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", true, None).is_ok());
    }

    #[test]
    fn unquoted_needs_mixed_classes() {
        assert!(check("TOKEN", "a8Kd02LmQx7Vb3Nz", false, None).is_ok());
        assert!(check("TOKEN", "abcdefgh12", false, None).is_err());
    }
}
