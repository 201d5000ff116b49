//! Scanning one text: a keyword prefilter (one case-insensitive
//! Aho-Corasick DFA pass over the text) picks the rules whose keywords
//! occur, only their regexes run, and each candidate goes through its rule's
//! check. Generic hits that overlap a specific rule's hit are dropped, so one
//! secret yields one finding.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex::{Captures, Regex};

use crate::checks;
use crate::generic;
use crate::rules::{Check, GENERIC_ID, RULES, RuleDef};

/// A confirmed secret in a text.
#[derive(Debug, Clone)]
pub struct Hit {
    /// The rule that found it.
    pub rule: &'static RuleDef,
    /// Byte offset of the match in the scanned text.
    pub offset: usize,
    /// Byte range of the secret in the text (for overlap checks).
    pub span: (usize, usize),
    /// The secret itself (never reported; used for fingerprint and redaction).
    pub secret: String,
    /// What vouched for it (`crc32 checksum valid`, `entropy 4.71`, ...).
    pub note: String,
    /// Extra context safe to show (variable name, URL scheme and host).
    pub context: Option<String>,
}

// `Scanner::rules_present` keeps one bit per rule in a u64.
const _: () = assert!(RULES.len() < 64);

/// How a file's unquoted assignment values are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// Source code or config: an unquoted value may be an identifier or an
    /// expression, so it must look random to count.
    Code,
    /// A dotenv file (`.env`, `.env.local`, `prod.env`): `NAME=value` lines
    /// hold literal values, quoted or not.
    Dotenv,
}

impl Syntax {
    /// The syntax of a file, from its name.
    pub fn of_file_name(name: &str) -> Syntax {
        if name == ".env" || name.starts_with(".env.") || name.ends_with(".env") {
            Syntax::Dotenv
        } else {
            Syntax::Code
        }
    }
}

/// Compiled rules. Build once per run (compiling is the slow part).
pub struct Scanner {
    keywords: AhoCorasick,
    /// Rule index of each keyword of `keywords`.
    keyword_rule: Vec<usize>,
    regexes: Vec<Regex>,
}

impl Scanner {
    /// Compile every rule and the keyword prefilter.
    pub fn new() -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let mut words = Vec::new();
        let mut keyword_rule = Vec::new();
        for (index, rule) in RULES.iter().enumerate() {
            for word in rule.keywords {
                words.push(*word);
                keyword_rule.push(index);
            }
        }
        // A DFA: one table lookup per byte, the fastest search without SIMD
        // (the sandbox has none); `Standard` allows overlapping matches.
        let keywords = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&words)?;
        let regexes = RULES
            .iter()
            .map(|r| Regex::new(r.pattern))
            .collect::<Result<_, _>>()?;
        Ok(Scanner {
            keywords,
            keyword_rule,
            regexes,
        })
    }

    /// Bit `i` set when a keyword of `RULES[i]` occurs in `text`.
    pub fn rules_present(&self, text: &str) -> u64 {
        let all = (1u64 << RULES.len()) - 1;
        let mut present = 0u64;
        for m in self.keywords.find_overlapping_iter(text) {
            present |= 1 << self.keyword_rule[m.pattern().as_usize()];
            if present == all {
                break;
            }
        }
        present
    }

    /// All confirmed secrets in `text` (source code or config), in order of offset.
    pub fn scan(&self, text: &str) -> Vec<Hit> {
        self.scan_as(text, Syntax::Code)
    }

    /// All confirmed secrets in `text` read as `syntax`, in order of offset.
    pub fn scan_as(&self, text: &str, syntax: Syntax) -> Vec<Hit> {
        let mut hits = Vec::new();
        let present = self.rules_present(text);
        for (index, rule) in RULES.iter().enumerate() {
            if present & (1 << index) == 0 {
                continue;
            }
            for caps in self.regexes[index].captures_iter(text) {
                if let Some(hit) = confirm(rule, &caps, text, syntax) {
                    hits.push(hit);
                }
            }
        }
        let specific: Vec<(usize, usize)> = hits
            .iter()
            .filter(|h| h.rule.id != GENERIC_ID)
            .map(|h| h.span)
            .collect();
        hits.retain(|h| {
            h.rule.id != GENERIC_ID || !specific.iter().any(|s| s.0 < h.span.1 && h.span.0 < s.1)
        });
        hits.sort_by_key(|h| (h.offset, h.rule.id));
        hits.dedup_by(|a, b| a.rule.id == b.rule.id && a.span == b.span);
        hits
    }
}

/// Apply the rule's check to one regex match.
fn confirm(rule: &'static RuleDef, caps: &Captures<'_>, text: &str, syntax: Syntax) -> Option<Hit> {
    let whole = caps.get(0)?;
    let m = caps.get(rule.group)?;
    // `end`: end of the secret; `after`: where its closing quote should be.
    let (mut value, mut end, after) = (m.as_str(), m.end(), m.end());
    // A JSON-escaped string inside a string (`{\"api_key\": \"...\"}` in a
    // log line): the value runs up to the escaped closing quote.
    if rule.check == Check::Generic
        && let Some(q) = caps.get(2)
        && text[..q.start()].ends_with('\\')
        && let Some(trimmed) = value.strip_suffix('\\')
    {
        value = trimmed;
        end -= 1;
    }
    let mut secret = value.to_string();
    let mut context = None;
    let note = match rule.check {
        Check::Entropy(tenths) => checks::random_enough(value, f64::from(tenths) / 10.0),
        Check::GithubChecksum => checks::github_checksum(value),
        Check::AwsKeyId => {
            let body = &value[4..];
            if body
                .bytes()
                .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
            {
                checks::random_enough(value, 3.0)
            } else {
                Err("not base32".into())
            }
        }
        Check::Jwt => checks::jwt(value),
        Check::PemBody => checks::pem_body(&text[whole.end()..]).map(|body| {
            secret = body;
            "key body present".to_string()
        }),
        Check::AzureStorageKey => checks::azure_storage_key(value),
        Check::DbPassword => {
            let scheme = caps.get(1).map_or("", |m| m.as_str());
            let user = caps.get(2).map_or("", |m| m.as_str());
            let host = caps.get(4).map_or("", |m| m.as_str());
            context = Some(format!("{scheme}://{user}:…@{host}"));
            db_password(user, value, host)
        }
        Check::Generic => {
            let name = caps.get(1).map_or("", |m| m.as_str());
            let quote = caps.get(2).map(|q| q.as_str());
            let next = text[after..].chars().next();
            let quoted = match quote {
                Some(q) => next.map(|c| c.to_string()).as_deref() == Some(q),
                None => false,
            };
            if quote.is_some() && !quoted {
                Err("unterminated quote".into())
            } else {
                context = Some(name.to_string());
                let literal = quoted || syntax == Syntax::Dotenv;
                generic::check(name, value, literal, next)
            }
        }
        Check::Format => {
            if checks::is_placeholder(value) {
                Err("placeholder".into())
            } else {
                Ok("format".into())
            }
        }
    }
    .ok()?;
    Some(Hit {
        rule,
        offset: whole.start(),
        span: (m.start(), end),
        secret,
        note,
        context,
    })
}

/// Passwords that documentation uses, and template markers.
const DB_PLACEHOLDERS: &[&str] = &[
    "password",
    "pass",
    "passwd",
    "pwd",
    "secret",
    "changeme",
    "tiger",
    "mypassword",
    "test",
    "user",
    "username",
    "admin",
    "root",
    "postgres",
    "mysql",
    "redis",
    "guest",
    "example",
];

/// The password of a database URL is a credential unless it is a template,
/// a documentation stand-in or a masked value.
fn db_password(user: &str, password: &str, host: &str) -> Result<String, String> {
    let lower = password.to_ascii_lowercase();
    if DB_PLACEHOLDERS.contains(&lower.as_str()) || password == user {
        return Err("placeholder password".into());
    }
    if password.starts_with(['$', '%', '{', '<', '[', ':'])
        || password.contains("${")
        || password
            .bytes()
            .all(|b| b == b'*' || b == b'x' || b == b'X')
    {
        return Err("template or masked password".into());
    }
    if checks::is_placeholder(password) || host.contains("example") {
        return Err("placeholder".into());
    }
    Ok("password in URL".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(text: &str) -> Vec<&'static str> {
        Scanner::new()
            .unwrap()
            .scan(text)
            .iter()
            .map(|h| h.rule.id)
            .collect()
    }

    #[test]
    fn dotenv_unquoted_values_are_literals() {
        let scanner = Scanner::new().unwrap();
        let line = "DB_PASSWORD=q8v2m7k4x9t3w6z1\n";
        assert!(scanner.scan_as(line, Syntax::Code).is_empty());
        let hits = scanner.scan_as(line, Syntax::Dotenv);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].secret, "q8v2m7k4x9t3w6z1");
        // Still not a secret in a dotenv file: a word, or a reference.
        for text in ["DB_PASSWORD=postgres\n", "API_TOKEN=${VAULT_TOKEN}\n"] {
            assert!(scanner.scan_as(text, Syntax::Dotenv).is_empty(), "{text}");
        }
    }

    #[test]
    fn dotenv_files_are_told_by_name() {
        for name in [".env", ".env.local", "prod.env"] {
            assert_eq!(Syntax::of_file_name(name), Syntax::Dotenv, "{name}");
        }
        for name in ["env.py", "settings.py", ".envrc", "environment.yml"] {
            assert_eq!(Syntax::of_file_name(name), Syntax::Code, "{name}");
        }
    }

    #[test]
    fn prefilter_finds_every_keyword_in_any_case() {
        let scanner = Scanner::new().unwrap();
        assert_eq!(scanner.rules_present("def f(x):\n    return x\n"), 0);
        for (index, rule) in RULES.iter().enumerate() {
            for word in rule.keywords {
                for text in [
                    format!("x = 1\n{word}\n"),
                    format!("a{}b", word.to_ascii_uppercase()),
                ] {
                    let present = scanner.rules_present(&text);
                    assert!(
                        present & (1 << index) != 0,
                        "{} not seen in {text:?}",
                        rule.id
                    );
                }
            }
        }
        // Overlapping keywords of two rules both count.
        let both = scanner.rules_present("\"private_key_id\": 1");
        let id = |name| RULES.iter().position(|r| r.id == name).unwrap();
        assert!(both & (1 << id("gcp-service-account-key")) != 0);
        assert!(both & (1 << id(GENERIC_ID)) != 0);
    }

    #[test]
    fn database_urls() {
        assert_eq!(
            ids("DB = 'postgresql://app:Vq9w2LmX7z@db.internal:5432/app'"),
            ["database-url-password"]
        );
        assert!(ids("postgresql://user:password@localhost/db").is_empty());
        assert!(ids("mysql://app:${DB_PASS}@db/app").is_empty());
        assert!(ids("postgres://scott:tiger@localhost/test").is_empty());
    }

    #[test]
    fn generic_yields_to_specific_rule() {
        let random = "Zq3RkT8vLm2Nw9Xc4Yb7Hs1Pd6Fg0J";
        let token = format!(
            "ghp_{random}{}",
            checks::base62(checks::crc32(random.as_bytes()), 6)
        );
        assert_eq!(
            ids(&format!("GITHUB_TOKEN = \"{token}\"\n")),
            ["github-token"]
        );
    }

    #[test]
    fn generic_assignment_forms() {
        assert_eq!(ids("password = \"T7#kq9Lm2x!Pv4\"\n"), [GENERIC_ID]);
        assert_eq!(ids("{\"api_key\": \"9f8Kd02LmQx7Vb3Nz\"}"), [GENERIC_ID]);
        // The same JSON, escaped inside a JSON string (a log line).
        assert_eq!(
            ids(r#"{"body": "{\"api_key\": \"9f8Kd02LmQx7Vb3Nz\"}"}"#),
            [GENERIC_ID]
        );
        // A backslash inside an unescaped quoted value is not a closing quote.
        assert!(ids(r#"password = "T7kq9Lm2\x!Pv4""#).len() == 1);
        assert!(ids("tokenizer = \"bert-base-uncased\"").is_empty());
        assert!(ids("token = os.environ[\"HF_TOKEN\"]").is_empty());
        assert!(ids("password = \"abc").is_empty());
    }
}
