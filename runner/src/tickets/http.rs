//! A small HTTP client for the sinks: JSON requests with bounded retries.
//! Rate limits (403/429 with `Retry-After`, or `x-ratelimit-remaining: 0`
//! with `x-ratelimit-reset`) wait as told, up to a cap; 5xx and transport
//! errors back off briefly. A non-idempotent request (creating an issue) is
//! never blindly retried after a 5xx: the caller decides (see `github`).

use std::time::Duration;

/// A response the sinks read.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Body text.
    pub body: String,
    /// `Link` header (pagination).
    pub link: Option<String>,
}

/// What went wrong after retries.
#[derive(Debug)]
pub enum HttpError {
    /// The server answered with an error status.
    Status(u16, String),
    /// No answer (connection refused, timeout, TLS).
    Transport(String),
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HttpError::Status(s, body) => write!(
                f,
                "HTTP {s}: {}",
                body.chars().take(300).collect::<String>()
            ),
            HttpError::Transport(e) => write!(f, "{e}"),
        }
    }
}

/// Attempts per request.
const ATTEMPTS: u32 = 4;
/// Longest rate-limit wait honoured (longer: give up, the ledger keeps the rest for next run).
const MAX_WAIT: Duration = Duration::from_secs(60);

/// JSON-over-HTTP client.
pub struct Client {
    agent: ureq::Agent,
    headers: Vec<(String, String)>,
    /// Backoff unit for 5xx and transport errors.
    pub backoff: Duration,
}

impl Client {
    /// A client sending these headers on every request.
    pub fn new(headers: Vec<(String, String)>) -> Client {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .user_agent(concat!("mlgate/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Client {
            agent,
            headers,
            backoff: Duration::from_millis(500),
        }
    }

    /// Send once; `Ok` for any status.
    fn once(&self, method: &str, url: &str, body: Option<&str>) -> Result<Reply, String> {
        let mut req = ureq::http::Request::builder().method(method).uri(url);
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        let result = match body {
            Some(b) => {
                let req = req
                    .header("content-type", "application/json")
                    .body(b.to_string())
                    .map_err(|e| e.to_string())?;
                self.agent.run(req)
            }
            None => {
                let req = req.body(()).map_err(|e| e.to_string())?;
                self.agent.run(req)
            }
        };
        let mut resp = result.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let link = header("link");
        let wait = rate_limit_wait(status, &header);
        let text = resp
            .body_mut()
            .with_config()
            .limit(16 << 20)
            .read_to_string()
            .unwrap_or_default();
        if let Some(w) = wait {
            return Err(format!("rate-limited:{}", w.as_millis()));
        }
        Ok(Reply {
            status,
            body: text,
            link,
        })
    }

    /// Send with retries. `retry_server_errors` is false for requests that
    /// must not be repeated blindly.
    pub fn send(
        &self,
        method: &str,
        url: &str,
        body: Option<&str>,
        retry_server_errors: bool,
    ) -> Result<Reply, HttpError> {
        let mut last = HttpError::Transport("no attempt".into());
        for attempt in 1..=ATTEMPTS {
            match self.once(method, url, body) {
                Ok(r) if r.status < 400 => return Ok(r),
                Ok(r) if r.status >= 500 && retry_server_errors && attempt < ATTEMPTS => {
                    last = HttpError::Status(r.status, r.body);
                    std::thread::sleep(self.backoff * attempt);
                }
                Ok(r) => return Err(HttpError::Status(r.status, r.body)),
                Err(e) => {
                    if let Some(ms) = e.strip_prefix("rate-limited:") {
                        let wait = Duration::from_millis(ms.parse().unwrap_or(1000));
                        last =
                            HttpError::Status(429, format!("rate limited (retry after {wait:?})"));
                        if wait > MAX_WAIT || attempt == ATTEMPTS {
                            return Err(last);
                        }
                        std::thread::sleep(wait);
                    } else {
                        last = HttpError::Transport(e);
                        if attempt == ATTEMPTS {
                            break;
                        }
                        std::thread::sleep(self.backoff * attempt);
                    }
                }
            }
        }
        Err(last)
    }
}

/// How long a rate-limited response asks to wait, if it is one.
fn rate_limit_wait(status: u16, header: &dyn Fn(&str) -> Option<String>) -> Option<Duration> {
    if status != 403 && status != 429 {
        return None;
    }
    if let Some(secs) = header("retry-after").and_then(|v| v.trim().parse::<u64>().ok()) {
        return Some(Duration::from_secs(secs));
    }
    if header("x-ratelimit-remaining").as_deref() == Some("0") {
        let reset = header("x-ratelimit-reset").and_then(|v| v.trim().parse::<u64>().ok())?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        return Some(Duration::from_secs(reset.saturating_sub(now)));
    }
    // A 429 without headers: GitHub's secondary limits say wait a minute.
    (status == 429).then_some(Duration::from_secs(60))
}
