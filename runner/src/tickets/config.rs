//! The pipeline's `tickets:` list, validated: each entry names a `sink`
//! (`file`, `github`, `webhook`) and that sink's settings, plus what becomes
//! a ticket (`per: gate` or `per: finding` at or above `min_severity`) and a
//! cap on new tickets per run (`max_new`).
//!
//! ```yaml
//! tickets:
//!   - { sink: file, path: .mlgate/tickets }
//!   - { sink: github, repo: org/repo, token_env: GITHUB_TOKEN, labels: [security] }
//!   - { sink: webhook, url: "https://hooks.example/mlgate", token_env: HOOK_TOKEN }
//! ```

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::model::Severity;

/// What one ticket stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Per {
    /// One ticket per failed (or errored) gate.
    Gate,
    /// One ticket per unsuppressed finding at or above a severity.
    Finding(Severity),
}

/// A validated sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkSpec {
    /// Position in the `tickets:` list (for messages and the ledger).
    pub index: usize,
    /// What a ticket stands for.
    pub per: Per,
    /// At most this many new tickets per run (reruns of known ones do not count).
    pub max_new: usize,
    /// Where tickets go.
    pub kind: SinkKind,
}

/// The sink-specific settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SinkKind {
    /// A directory of Markdown + JSON tickets.
    File(FileSink),
    /// GitHub Issues.
    Github(GithubSink),
    /// A JSON POST.
    Webhook(WebhookSink),
}

/// `sink: file`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSink {
    /// Directory, relative to the project directory.
    pub path: String,
}

/// `sink: github`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GithubSink {
    /// `owner/name`.
    pub repo: String,
    /// Environment variable holding the token (never the token itself).
    #[serde(default = "default_token_env")]
    pub token_env: String,
    /// REST API base URL (GitHub Enterprise, or a test server).
    #[serde(default = "default_api_url")]
    pub api_url: String,
    /// Labels of created issues; the first one is also used to list the open
    /// mlgate issues when looking for an existing ticket.
    #[serde(default = "default_labels")]
    pub labels: Vec<String>,
}

/// `sink: webhook`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSink {
    /// `http://` or `https://` URL.
    pub url: String,
    /// Optional environment variable with a bearer token.
    #[serde(default)]
    pub token_env: Option<String>,
}

fn default_token_env() -> String {
    "GITHUB_TOKEN".into()
}
fn default_api_url() -> String {
    "https://api.github.com".into()
}
fn default_labels() -> Vec<String> {
    vec!["mlgate".into(), "security".into()]
}

const COMMON: [&str; 4] = ["sink", "per", "min_severity", "max_new"];

/// Validate the raw `tickets:` entries. Errors name the entry and the fix.
pub fn parse(raw: &[Value]) -> Result<Vec<SinkSpec>, String> {
    raw.iter()
        .enumerate()
        .map(|(i, v)| parse_one(i, v).map_err(|e| format!("tickets[{i}]: {e}")))
        .collect()
}

fn parse_one(index: usize, value: &Value) -> Result<SinkSpec, String> {
    let Some(obj) = value.as_object() else {
        return Err("expected a mapping like `{ sink: file, path: .mlgate/tickets }`".into());
    };
    let sink = obj
        .get("sink")
        .and_then(Value::as_str)
        .ok_or("missing `sink:` (one of file, github, webhook)")?;
    let min_severity = match obj.get("min_severity") {
        None => Severity::High,
        Some(v) => v
            .as_str()
            .and_then(Severity::parse)
            .ok_or("`min_severity` must be info, low, medium, high or critical")?,
    };
    let per = match obj.get("per").map(|v| v.as_str()) {
        None | Some(Some("gate")) => Per::Gate,
        Some(Some("finding")) => Per::Finding(min_severity),
        _ => return Err("`per` must be `gate` or `finding`".into()),
    };
    if per == Per::Gate && obj.contains_key("min_severity") {
        return Err("`min_severity` applies only with `per: finding`".into());
    }
    let max_new = match obj.get("max_new") {
        None => 10,
        Some(v) => v
            .as_u64()
            .filter(|n| *n > 0)
            .ok_or("`max_new` must be a positive integer")? as usize,
    };
    let rest: serde_json::Map<String, Value> = obj
        .iter()
        .filter(|(k, _)| !COMMON.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let kind = match sink {
        "file" => SinkKind::File(settings(sink, rest)?),
        "github" => {
            let g: GithubSink = settings(sink, rest)?;
            let valid = |s: &str| {
                !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            };
            match g.repo.split_once('/') {
                Some((o, n)) if valid(o) && valid(n) => {}
                _ => return Err(format!("github: `repo: {}` is not `owner/name`", g.repo)),
            }
            check_url("github: `api_url`", &g.api_url)?;
            check_env_name("github: `token_env`", &g.token_env)?;
            if g.labels.is_empty() {
                return Err(
                    "github: `labels` must not be empty (the first label finds existing tickets)"
                        .into(),
                );
            }
            SinkKind::Github(g)
        }
        "webhook" => {
            let w: WebhookSink = settings(sink, rest)?;
            check_url("webhook: `url`", &w.url)?;
            if let Some(env) = &w.token_env {
                check_env_name("webhook: `token_env`", env)?;
            }
            SinkKind::Webhook(w)
        }
        other => {
            return Err(format!(
                "unknown sink `{other}` (expected file, github or webhook)"
            ));
        }
    };
    Ok(SinkSpec {
        index,
        per,
        max_new,
        kind,
    })
}

fn settings<T: DeserializeOwned>(
    sink: &str,
    rest: serde_json::Map<String, Value>,
) -> Result<T, String> {
    serde_json::from_value(Value::Object(rest))
        .map_err(|e| format!("{sink}: {e} (common keys: sink, per, min_severity, max_new)"))
}

fn check_url(what: &str, url: &str) -> Result<(), String> {
    if url.starts_with("https://") || url.starts_with("http://") {
        Ok(())
    } else {
        Err(format!(
            "{what} `{url}` must start with https:// or http://"
        ))
    }
}

/// A token belongs in the environment, not in the pipeline: refuse values
/// that look like a token rather than a variable name.
fn check_env_name(what: &str, name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if ok && !super::redact::looks_like_secret(name) {
        Ok(())
    } else {
        Err(format!(
            "{what} must name an environment variable (like GITHUB_TOKEN), never hold the token itself"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_the_three_sinks_with_defaults() {
        let sinks = parse(&[
            json!({"sink": "file", "path": ".mlgate/tickets"}),
            json!({"sink": "github", "repo": "org/repo"}),
            json!({"sink": "webhook", "url": "http://127.0.0.1:9/x", "per": "finding", "min_severity": "critical", "max_new": 3}),
        ])
        .unwrap();
        assert_eq!(sinks[0].per, Per::Gate);
        assert_eq!(sinks[0].max_new, 10);
        let SinkKind::Github(g) = &sinks[1].kind else {
            panic!()
        };
        assert_eq!(g.token_env, "GITHUB_TOKEN");
        assert_eq!(g.api_url, "https://api.github.com");
        assert_eq!(sinks[2].per, Per::Finding(Severity::Critical));
        assert_eq!(sinks[2].max_new, 3);
    }

    #[test]
    fn errors_name_the_entry_and_the_fix() {
        let err = |v: Value| parse(&[json!({"sink": "file", "path": "x"}), v]).unwrap_err();
        assert!(err(json!({"sink": "jira"})).starts_with("tickets[1]: unknown sink `jira`"));
        assert!(err(json!({"path": "x"})).contains("missing `sink:`"));
        assert!(
            err(json!({"sink": "file", "path": "x", "colour": 1}))
                .contains("unknown field `colour`")
        );
        assert!(err(json!({"sink": "github", "repo": "nope"})).contains("not `owner/name`"));
        assert!(err(json!({"sink": "github", "repo": "o/r", "token_env": "ghp_abcdefghijklmnopqrstuvwxyz0123456789"})).contains("never hold the token"));
        assert!(err(json!({"sink": "webhook", "url": "ftp://x"})).contains("https://"));
        assert!(
            err(json!({"sink": "file", "path": "x", "min_severity": "high"}))
                .contains("per: finding")
        );
        assert!(err(json!({"sink": "file", "path": "x", "max_new": 0})).contains("positive"));
        assert!(err(json!("file")).contains("expected a mapping"));
    }
}
