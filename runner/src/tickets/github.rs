//! `sink: github`: GitHub Issues over the REST API.
//!
//! For each ticket: if an open issue already carries its fingerprint marker
//! (the ledger's issue first, else the open issues with the sink's first
//! label), comment on it ("still failing"); otherwise create one with the
//! sink's labels. Creating is not idempotent, so after a 5xx or a lost
//! answer the open issues are searched again before any retry: an issue the
//! server created before failing is found, not filed twice.

use serde_json::{Value, json};

use super::config::GithubSink;
use super::http::{Client, HttpError};
use super::ticket::{Ticket, marker};

/// Open issues scanned for a marker (100 per page).
const MAX_PAGES: usize = 10;

/// What happened to a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filed {
    /// A new issue (its number).
    Created(u64),
    /// A comment on an existing open issue.
    Commented(u64),
}

/// A GitHub sink bound to its token.
pub struct Github<'a> {
    cfg: &'a GithubSink,
    client: Client,
}

impl<'a> Github<'a> {
    /// A sink using `token` (read from `cfg.token_env` by the caller).
    pub fn new(cfg: &'a GithubSink, token: &str) -> Github<'a> {
        let client = Client::new(vec![
            ("authorization".into(), format!("Bearer {token}")),
            ("accept".into(), "application/vnd.github+json".into()),
            ("x-github-api-version".into(), "2022-11-28".into()),
        ]);
        Github { cfg, client }
    }

    /// Shorten backoffs (tests).
    pub fn with_backoff(mut self, backoff: std::time::Duration) -> Self {
        self.client.backoff = backoff;
        self
    }

    fn url(&self, path: &str) -> String {
        format!(
            "{}/repos/{}{path}",
            self.cfg.api_url.trim_end_matches('/'),
            self.cfg.repo
        )
    }

    /// Whether issue `number` is open.
    fn is_open(&self, number: u64) -> Result<bool, HttpError> {
        match self
            .client
            .send("GET", &self.url(&format!("/issues/{number}")), None, true)
        {
            Ok(r) => Ok(parse(&r.body)["state"] == "open"),
            Err(HttpError::Status(404 | 410, _)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The open issue carrying `fingerprint`'s marker, if any.
    pub fn find_open(&self, fingerprint: &str) -> Result<Option<u64>, HttpError> {
        let mark = marker(fingerprint);
        let label = &self.cfg.labels[0];
        for page in 1..=MAX_PAGES {
            let url = self.url(&format!(
                "/issues?state=open&labels={}&per_page=100&page={page}",
                encode(label)
            ));
            let reply = self.client.send("GET", &url, None, true)?;
            let list = parse(&reply.body);
            let items = list.as_array().cloned().unwrap_or_default();
            for issue in &items {
                if issue.get("pull_request").is_none()
                    && issue["body"].as_str().is_some_and(|b| b.contains(&mark))
                    && let Some(n) = issue["number"].as_u64()
                {
                    return Ok(Some(n));
                }
            }
            let more = reply
                .link
                .as_deref()
                .is_some_and(|l| l.contains("rel=\"next\""));
            if items.len() < 100 && !more {
                break;
            }
        }
        Ok(None)
    }

    fn comment(&self, number: u64, ticket: &Ticket) -> Result<(), HttpError> {
        let body = format!(
            "Still failing{}.\n\n{}",
            ticket
                .commit
                .as_deref()
                .map(|c| format!(" at commit `{c}`"))
                .unwrap_or_default(),
            ticket.body
        );
        let url = self.url(&format!("/issues/{number}/comments"));
        // Comments are cheap to repeat and harmless if doubled by a retry.
        self.client
            .send(
                "POST",
                &url,
                Some(&json!({ "body": body }).to_string()),
                true,
            )
            .map(|_| ())
    }

    fn create(&self, ticket: &Ticket) -> Result<u64, HttpError> {
        let payload = json!({
            "title": ticket.title,
            "body": ticket.body,
            "labels": self.cfg.labels,
        })
        .to_string();
        let mut last = HttpError::Transport("no attempt".into());
        for attempt in 0..3u32 {
            if attempt > 0 {
                std::thread::sleep(self.client.backoff * attempt);
                // The failed attempt may have created it after all.
                if let Some(n) = self.find_open(&ticket.fingerprint)? {
                    return Ok(n);
                }
            }
            match self
                .client
                .send("POST", &self.url("/issues"), Some(&payload), false)
            {
                Ok(r) => {
                    return parse(&r.body)["number"].as_u64().ok_or_else(|| {
                        HttpError::Status(r.status, "no issue number in reply".into())
                    });
                }
                Err(e @ HttpError::Status(s, _)) if s < 500 => return Err(e),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// File one ticket; `known` is the issue number the ledger has for it.
    pub fn file(&self, ticket: &Ticket, known: Option<u64>) -> Result<Filed, HttpError> {
        let existing = match known {
            Some(n) if self.is_open(n)? => Some(n),
            _ => self.find_open(&ticket.fingerprint)?,
        };
        match existing {
            Some(n) => self.comment(n, ticket).map(|()| Filed::Commented(n)),
            None => self.create(ticket).map(Filed::Created),
        }
    }
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// Percent-encode a query value.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
