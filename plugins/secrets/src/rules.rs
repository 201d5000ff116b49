//! The rule table: each rule has an id, a default severity, the keywords
//! that must appear in a file before its regex runs (a cheap prefilter, as
//! Gitleaks does), the regex, the capture group holding the secret, and the
//! check that cuts false positives ([`Check`]).

use mlgate_plugin_sdk::Severity;

/// How a candidate match is confirmed (see `checks`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Entropy of the secret at least this many tenths of a bit per byte.
    Entropy(u8),
    /// GitHub classic token CRC32/base62 checksum.
    GithubChecksum,
    /// AWS access key id: base32 body, not an example.
    AwsKeyId,
    /// JWT: JSON header with `alg`, JSON payload.
    Jwt,
    /// PEM private key header followed by a random base64 body.
    PemBody,
    /// Azure storage key: base64 of 64 bytes.
    AzureStorageKey,
    /// Password in a database URL: not a placeholder or template.
    DbPassword,
    /// Generic assignment to a secret-like name (see `generic`).
    Generic,
    /// Fixed format, no further check (Slack webhook URLs).
    Format,
}

/// One detection rule.
#[derive(Debug)]
pub struct RuleDef {
    /// Stable id used in findings, allowlists and SARIF.
    pub id: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// One line: what the rule finds.
    pub summary: &'static str,
    /// How to fix it.
    pub help: &'static str,
    /// Lower-case keywords; the regex runs only if one occurs in the text.
    pub keywords: &'static [&'static str],
    /// The regex (Rust `regex` syntax).
    pub pattern: &'static str,
    /// Capture group of the secret itself.
    pub group: usize,
    /// The confirming check.
    pub check: Check,
}

const ROTATE: &str = "Revoke and rotate the credential now (it is in history once committed), \
then load it from the environment or a secret manager instead of the source.";

/// Id of the generic rule, which yields to every specific rule on overlap.
pub const GENERIC_ID: &str = "generic-secret-assignment";

/// All rules, specific ones first.
pub const RULES: &[RuleDef] = &[
    RuleDef {
        id: "private-key",
        severity: Severity::Critical,
        summary: "PEM or OpenSSH private key",
        help: "Remove the key, revoke it (regenerate the pair) and keep keys in a secret store or an untracked file.",
        keywords: &["private key"],
        pattern: r"-----BEGIN[ A-Z0-9]{0,24}PRIVATE KEY(?: BLOCK)?-----",
        group: 0,
        check: Check::PemBody,
    },
    RuleDef {
        id: "aws-access-key-id",
        severity: Severity::High,
        summary: "AWS access key id",
        help: ROTATE,
        keywords: &["akia", "asia", "abia", "acca"],
        pattern: r"\b((?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})\b",
        group: 1,
        check: Check::AwsKeyId,
    },
    RuleDef {
        id: "aws-secret-access-key",
        severity: Severity::Critical,
        summary: "AWS secret access key",
        help: ROTATE,
        keywords: &["aws"],
        pattern: r#"(?i)aws[a-z0-9_.\-]{0,20}?(?:secret|sk)[a-z0-9_.\-]{0,20}["']?\s*(?:=|:|=>|:=)\s*[rbu]?["']?([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)"#,
        group: 1,
        check: Check::Entropy(40),
    },
    RuleDef {
        id: "gcp-service-account-key",
        severity: Severity::Critical,
        summary: "Google Cloud service-account key (JSON)",
        help: "Delete the key in IAM, create a new one, and use workload identity or a secret manager.",
        keywords: &["private_key_id"],
        pattern: r#""private_key_id"\s*:\s*"([a-f0-9]{40})""#,
        group: 1,
        check: Check::Entropy(30),
    },
    RuleDef {
        id: "gcp-api-key",
        severity: Severity::High,
        summary: "Google Cloud API key",
        help: ROTATE,
        keywords: &["aiza"],
        pattern: r"\b(AIza[0-9A-Za-z_\-]{35})(?:[^0-9A-Za-z_\-]|$)",
        group: 1,
        check: Check::Entropy(35),
    },
    RuleDef {
        id: "azure-storage-key",
        severity: Severity::Critical,
        summary: "Azure storage account key",
        help: ROTATE,
        keywords: &["accountkey"],
        pattern: r"(?i)AccountKey\s*=\s*([A-Za-z0-9+/]{86}==)",
        group: 1,
        check: Check::AzureStorageKey,
    },
    RuleDef {
        id: "azure-client-secret",
        severity: Severity::High,
        summary: "Azure AD (Entra ID) client secret",
        help: ROTATE,
        keywords: &["q~"],
        pattern: r#"(?:^|[\s"'=:>,(`])([A-Za-z0-9_~.\-]{3}\dQ~[A-Za-z0-9_~.\-]{31,34})(?:$|[\s"'<,;)`])"#,
        group: 1,
        check: Check::Entropy(35),
    },
    RuleDef {
        id: "github-token",
        severity: Severity::High,
        summary: "GitHub token (classic format, checksum verified)",
        help: ROTATE,
        keywords: &["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
        pattern: r"\b(gh[pousr]_[A-Za-z0-9]{36})\b",
        group: 1,
        check: Check::GithubChecksum,
    },
    RuleDef {
        id: "github-fine-grained-token",
        severity: Severity::High,
        summary: "GitHub fine-grained personal access token",
        help: ROTATE,
        keywords: &["github_pat_"],
        pattern: r"\b(github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})\b",
        group: 1,
        check: Check::Entropy(40),
    },
    RuleDef {
        id: "gitlab-token",
        severity: Severity::High,
        summary: "GitLab access token",
        help: ROTATE,
        keywords: &["glpat-", "gldt-", "glrt-", "glptt-", "glsoat-", "glcbt-"],
        pattern: r"\b(gl(?:pat|dt|rt|ptt|soat|cbt)-[0-9A-Za-z_\-]{20,64})\b",
        group: 1,
        check: Check::Entropy(35),
    },
    RuleDef {
        id: "huggingface-token",
        severity: Severity::High,
        summary: "Hugging Face access token",
        help: ROTATE,
        keywords: &["hf_", "api_org_"],
        pattern: r"\b((?:hf_|api_org_)[A-Za-z0-9]{34})\b",
        group: 1,
        check: Check::Entropy(35),
    },
    RuleDef {
        id: "openai-api-key",
        severity: Severity::High,
        summary: "OpenAI API key",
        help: ROTATE,
        keywords: &["t3blbkfj"],
        pattern: r"\b(sk-(?:(?:proj|svcacct|admin)-)?[A-Za-z0-9_\-]{20,160}T3BlbkFJ[A-Za-z0-9_\-]{20,160})(?:[^A-Za-z0-9_\-]|$)",
        group: 1,
        check: Check::Entropy(40),
    },
    RuleDef {
        id: "anthropic-api-key",
        severity: Severity::High,
        summary: "Anthropic API key",
        help: ROTATE,
        keywords: &["sk-ant-"],
        pattern: r"\b(sk-ant-(?:api|admin)\d\d-[A-Za-z0-9_\-]{93}AA)(?:[^A-Za-z0-9_\-]|$)",
        group: 1,
        check: Check::Entropy(40),
    },
    RuleDef {
        id: "slack-token",
        severity: Severity::High,
        summary: "Slack bot, user or app token",
        help: ROTATE,
        keywords: &["xox", "xapp-"],
        pattern: r"\b(xox[bpaeor]-\d{8,13}-\d{8,13}(?:-\d{8,13})?-[A-Za-z0-9]{24,34}|xapp-\d-[A-Z0-9]{9,12}-\d{10,13}-[a-f0-9]{64})\b",
        group: 1,
        check: Check::Entropy(30),
    },
    RuleDef {
        id: "slack-webhook",
        severity: Severity::High,
        summary: "Slack incoming webhook URL",
        help: "Revoke the webhook in the Slack app settings and load the URL from a secret store.",
        keywords: &["hooks.slack.com"],
        pattern: r"(https://hooks\.slack\.com/(?:services|workflows|triggers)/T[A-Z0-9]{8,12}/B[A-Z0-9]{8,12}/[A-Za-z0-9]{24})\b",
        group: 1,
        check: Check::Format,
    },
    RuleDef {
        id: "jwt",
        severity: Severity::Medium,
        summary: "JSON Web Token",
        help: "Do not commit bearer tokens; if it is a long-lived token, revoke it.",
        keywords: &["eyj"],
        pattern: r"\b(eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{16,})",
        group: 1,
        check: Check::Jwt,
    },
    RuleDef {
        id: "database-url-password",
        severity: Severity::High,
        summary: "Database URL with an embedded password",
        help: "Change the database password and pass the URL (or the password) through the environment.",
        keywords: &["://"],
        pattern: r#"(?i)\b((?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver|oracle|cockroachdb|clickhouse|snowflake)(?:\+[a-z0-9]+)?)://([^\s:/@"'`<>{}]{1,64}):([^\s@/"'`<>]{1,128})@([A-Za-z0-9.\-_]+)"#,
        group: 3,
        check: Check::DbPassword,
    },
    RuleDef {
        id: GENERIC_ID,
        severity: Severity::Medium,
        summary: "High-entropy value assigned to a secret-like name",
        help: ROTATE,
        keywords: &[
            "secret",
            "token",
            "passw",
            "pwd",
            "api_key",
            "apikey",
            "api-key",
            "access_key",
            "access-key",
            "auth_key",
            "private_key",
            "credential",
        ],
        pattern: r#"(?i)([a-z0-9_.\-]*(?:secret|token|passwd|password|pwd|api[_\-]?key|access[_\-]?key|auth[_\-]?key|private[_\-]?key|credentials?)s?)\b\\?["']?\s*(?:=|:=|:|=>|\?=)\s*(?:[rubf]{0,2}\\?(["'`]))?([^\s"'`;,()\[\]{}<>]{8,200})"#,
        group: 3,
        check: Check::Generic,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_compiles_and_has_lowercase_keywords() {
        for rule in RULES {
            let re = regex::Regex::new(rule.pattern).unwrap_or_else(|e| panic!("{}: {e}", rule.id));
            assert!(re.captures_len() > rule.group, "{}", rule.id);
            assert!(!rule.keywords.is_empty(), "{}", rule.id);
            for k in rule.keywords {
                assert_eq!(*k, k.to_ascii_lowercase(), "{}", rule.id);
            }
        }
    }

    #[test]
    fn rule_ids_are_unique() {
        let mut ids: Vec<_> = RULES.iter().map(|r| r.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), RULES.len());
    }
}
