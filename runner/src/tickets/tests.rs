//! Ticket sinks against real HTTP servers on 127.0.0.1: a fake GitHub Issues
//! API (list, get, create, comment; token checked) and a webhook receiver,
//! both able to answer with rate limits (429 `Retry-After`, 403
//! `x-ratelimit-remaining: 0`) and 5xx — including a 502 *after* the issue
//! was created. Whatever the faults, every ticket ends up filed exactly once.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use super::*;
use crate::model::Severity;
use crate::report::sarif::tests::{context, sample};

const TOKEN: &str = "test-token-0123456789";

/// A fault the server answers the next matching request with.
#[derive(Debug, Clone, Copy)]
enum Fault {
    /// 429 with `Retry-After: 0`.
    TooMany,
    /// 403 with `x-ratelimit-remaining: 0` and a reset time of now.
    Exhausted,
    /// Handle the request, then answer 502 (the client cannot know it worked).
    BadGatewayAfter,
    /// 503 without handling it.
    Unavailable,
}

#[derive(Default)]
struct State {
    issues: Vec<Value>,
    comments: Vec<(u64, String)>,
    hooks: Vec<(Option<String>, Value)>,
    faults: VecDeque<(&'static str, Fault)>,
    requests: Vec<String>,
    next_link: String,
}

struct Server {
    url: String,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (state.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(conn) = conn {
                    serve(conn, &s);
                }
            }
        });
        Server {
            url,
            state,
            stop,
            thread: Some(thread),
        }
    }

    fn fault(&self, method: &'static str, fault: Fault) {
        self.state.lock().unwrap().faults.push_back((method, fault));
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.url.trim_start_matches("http://"));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(conn: TcpStream, state: &Mutex<State>) {
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, target) = (
        parts.next().unwrap_or("").to_string(),
        parts.next().unwrap_or("").to_string(),
    );
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let header = |k: &str| headers.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let len: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).unwrap();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut st = state.lock().unwrap();
    st.requests.push(format!("{method} {target}"));
    let fault = match st.faults.front() {
        Some((m, f)) if *m == method => {
            let f = *f;
            st.faults.pop_front();
            Some(f)
        }
        _ => None,
    };
    let (status, extra, reply) = match fault {
        Some(Fault::TooMany) => (
            429,
            "retry-after: 0\r\n".to_string(),
            json!({"message": "slow down"}),
        ),
        Some(Fault::Exhausted) => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            (
                403,
                format!("x-ratelimit-remaining: 0\r\nx-ratelimit-reset: {now}\r\n"),
                json!({"message": "API rate limit exceeded"}),
            )
        }
        Some(Fault::Unavailable) => (503, String::new(), json!({"message": "unavailable"})),
        _ => {
            let (s, r) = handle(
                &mut st,
                &method,
                &target,
                header("authorization"),
                header("idempotency-key"),
                body,
            );
            match fault {
                Some(Fault::BadGatewayAfter) => {
                    (502, String::new(), json!({"message": "bad gateway"}))
                }
                _ => (s, std::mem::take(&mut st.next_link), r),
            }
        }
    };
    drop(st);
    let text = reply.to_string();
    let mut conn = conn;
    let _ = write!(
        conn,
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n{extra}\r\n{text}",
        text.len()
    );
}

fn handle(
    st: &mut State,
    method: &str,
    target: &str,
    auth: Option<String>,
    idem: Option<String>,
    body: Value,
) -> (u16, Value) {
    if target.starts_with("/hook") {
        st.hooks.push((idem, body));
        return (200, json!({"ok": true}));
    }
    if auth.as_deref() != Some(&format!("Bearer {TOKEN}")) {
        return (401, json!({"message": "Bad credentials"}));
    }
    let Some(rest) = target.strip_prefix("/repos/org/repo/issues") else {
        return (404, json!({"message": "Not Found"}));
    };
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match (method, segs.as_slice()) {
        ("GET", []) => {
            let label = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("labels="))
                .unwrap_or("");
            let list: Vec<Value> = st
                .issues
                .iter()
                .filter(|i| {
                    i["state"] == "open"
                        && i["labels"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .any(|l| l["name"] == label)
                })
                .cloned()
                .collect();
            // Pages of at most 30, whatever `per_page` asks, with a `Link`
            // to the next page (as GitHub does past its page cap).
            let page: usize = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("page="))
                .and_then(|p| p.parse().ok())
                .unwrap_or(1);
            let chunk: Vec<Value> = list
                .iter()
                .skip((page - 1) * 30)
                .take(30)
                .cloned()
                .collect();
            let link = if page * 30 < list.len() {
                format!(
                    "link: <http://x/issues?page={}>; rel=\"next\"\r\n",
                    page + 1
                )
            } else {
                String::new()
            };
            st.next_link = link;
            (200, Value::Array(chunk))
        }
        ("POST", []) => {
            let number = st.issues.len() as u64 + 1;
            let labels: Vec<Value> = body["labels"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| json!({"name": l}))
                .collect();
            st.issues.push(json!({"number": number, "state": "open", "title": body["title"], "body": body["body"], "labels": labels}));
            (201, json!({"number": number}))
        }
        ("GET", [n]) => match st
            .issues
            .get(n.parse::<usize>().unwrap_or(0).wrapping_sub(1))
        {
            Some(i) => (200, i.clone()),
            None => (404, json!({"message": "Not Found"})),
        },
        ("POST", [n, "comments"]) => {
            st.comments.push((
                n.parse().unwrap(),
                body["body"].as_str().unwrap_or("").into(),
            ));
            (201, json!({"id": st.comments.len()}))
        }
        _ => (404, json!({"message": "Not Found"})),
    }
}

fn env(vars: &[(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    let vars = vars.to_vec();
    move |name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    }
}

struct Fixture {
    dir: tempfile::TempDir,
    tickets: Vec<Ticket>,
}

fn fixture(per: config::Per) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let (pipeline, mut report) = sample(dir.path());
    // A gate leaked a token into a message: it must not reach a ticket.
    report.gates[1].findings[0].message =
        format!("key {TOKEN} and ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123 in config");
    let graph = crate::graph::build(&pipeline).unwrap();
    let ctx = context(&pipeline, &graph);
    let tickets = ticket::build(
        &report,
        &ctx,
        per,
        Some("abc123"),
        &Redactor::new([TOKEN.to_string()]),
    );
    Fixture { dir, tickets }
}

fn sink(value: Value) -> SinkSpec {
    parse(&[value]).unwrap().remove(0)
}

fn file_with(sink: &SinkSpec, f: &Fixture, vars: &[(&'static str, &'static str)]) -> Outcome {
    let mut ledger = Ledger::load(&Ledger::path_in(f.dir.path())).unwrap();
    let mut out = Outcome::default();
    let lookup = env(vars);
    let e = Env {
        var: &lookup,
        backoff: Duration::from_millis(5),
    };
    file_sink(sink, &f.tickets, f.dir.path(), &mut ledger, &mut out, &e);
    out
}

#[test]
fn ticket_says_what_where_evidence_remediation_and_how_to_reproduce() {
    let f = fixture(config::Per::Gate);
    assert_eq!(f.tickets.len(), 2, "one per failed or errored gate");
    let t = &f.tickets[0];
    assert_eq!(t.gate, "dataset");
    for part in [
        "## What failed",
        "## Where",
        "`examples/demo/mlgate.yaml:9`",
        "## Evidence",
        "## Remediation",
        "Remove the rows, or regenerate",
        "mlgate run examples/demo/mlgate.yaml --only dataset",
        "Commit `abc123`",
    ] {
        assert!(t.body.contains(part), "missing {part}:\n{}", t.body);
    }
    assert!(
        t.body
            .ends_with(&format!("{}\n", ticket::marker(&t.fingerprint)))
    );
    assert!(
        !t.body.contains(TOKEN) && !t.body.contains("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123"),
        "{}",
        t.body
    );
    assert!(f.tickets[1].title.contains("`models` errored"));
    // Same inputs, same fingerprints; per-finding tickets differ per finding.
    assert_eq!(
        fixture(config::Per::Gate).tickets[0].fingerprint,
        t.fingerprint
    );
    let per = fixture(config::Per::Finding(Severity::High)).tickets;
    assert_eq!(per.len(), 13, "1 critical + 12 high");
    assert!(per.iter().all(|x| x.fingerprint != t.fingerprint));
}

#[test]
fn github_sink_creates_once_then_comments_even_without_the_ledger() {
    let server = Server::start();
    let f = fixture(config::Per::Gate);
    let s = sink(
        json!({"sink": "github", "repo": "org/repo", "api_url": server.url, "token_env": "T"}),
    );
    let out = file_with(&s, &f, &[("T", TOKEN)]);
    assert_eq!(out.failed, 0, "{:?}", out.lines);
    let issues = server.state.lock().unwrap().issues.clone();
    assert_eq!(issues.len(), 2);
    assert_eq!(
        issues[0]["labels"],
        json!([{"name": "mlgate"}, {"name": "security"}])
    );
    assert!(!issues[0]["body"].as_str().unwrap().contains(TOKEN));
    // Rerun with the ledger: comments, no new issue.
    let out = file_with(&s, &f, &[("T", TOKEN)]);
    assert_eq!(out.failed, 0, "{:?}", out.lines);
    assert_eq!(server.state.lock().unwrap().issues.len(), 2);
    assert_eq!(server.state.lock().unwrap().comments.len(), 2);
    // Another machine (no ledger): the marker finds the open issues.
    std::fs::remove_file(Ledger::path_in(f.dir.path())).unwrap();
    file_with(&s, &f, &[("T", TOKEN)]);
    assert_eq!(server.state.lock().unwrap().issues.len(), 2);
    assert_eq!(server.state.lock().unwrap().comments.len(), 4);
    // Someone closed issue 1: the failure is back, so a new issue is filed.
    server.state.lock().unwrap().issues[0]["state"] = "closed".into();
    file_with(&s, &f, &[("T", TOKEN)]);
    assert_eq!(server.state.lock().unwrap().issues.len(), 3);
}

#[test]
fn github_sink_survives_rate_limits_and_5xx_without_losing_or_duplicating() {
    let server = Server::start();
    let f = fixture(config::Per::Gate);
    let s = sink(
        json!({"sink": "github", "repo": "org/repo", "api_url": server.url, "token_env": "T"}),
    );
    server.fault("GET", Fault::TooMany);
    server.fault("POST", Fault::BadGatewayAfter); // issue 1 created, answer lost
    server.fault("GET", Fault::Exhausted);
    server.fault("POST", Fault::Unavailable);
    let out = file_with(&s, &f, &[("T", TOKEN)]);
    assert_eq!(out.failed, 0, "{:?}", out.lines);
    let st = server.state.lock().unwrap();
    assert_eq!(
        st.issues.len(),
        2,
        "exactly one issue per ticket: {:?}",
        st.requests
    );
    assert!(st.faults.is_empty());
    let bodies: Vec<&str> = st
        .issues
        .iter()
        .map(|i| i["body"].as_str().unwrap())
        .collect();
    for t in &f.tickets {
        assert_eq!(
            bodies
                .iter()
                .filter(|b| b.contains(&ticket::marker(&t.fingerprint)))
                .count(),
            1
        );
    }
}

#[test]
fn github_sink_without_its_token_files_nothing_and_says_so() {
    let server = Server::start();
    let f = fixture(config::Per::Gate);
    let s = sink(
        json!({"sink": "github", "repo": "org/repo", "api_url": server.url, "token_env": "MISSING"}),
    );
    let out = file_with(&s, &f, &[]);
    assert_eq!(out.failed, 2);
    assert!(
        out.lines[0].contains("$MISSING is not set"),
        "{:?}",
        out.lines
    );
    assert!(server.state.lock().unwrap().requests.is_empty());
}

#[test]
fn cap_on_new_tickets_defers_the_rest_to_the_next_run() {
    let server = Server::start();
    let f = fixture(config::Per::Gate);
    let s = sink(
        json!({"sink": "github", "repo": "org/repo", "api_url": server.url, "token_env": "T", "max_new": 1}),
    );
    let out = file_with(&s, &f, &[("T", TOKEN)]);
    assert!(
        out.lines.iter().any(|l| l.contains("cap of 1 new ticket")),
        "{:?}",
        out.lines
    );
    assert_eq!(server.state.lock().unwrap().issues.len(), 1);
    file_with(&s, &f, &[("T", TOKEN)]);
    assert_eq!(server.state.lock().unwrap().issues.len(), 2);
    assert_eq!(server.state.lock().unwrap().comments.len(), 1);
}

#[test]
fn webhook_posts_json_once_per_ticket_and_run_with_retries() {
    let server = Server::start();
    let f = fixture(config::Per::Gate);
    let s = sink(json!({"sink": "webhook", "url": format!("{}/hook?key=secret", server.url)}));
    server.fault("POST", Fault::Unavailable);
    server.fault("POST", Fault::TooMany);
    let out = file_with(&s, &f, &[]);
    assert_eq!(out.failed, 0, "{:?}", out.lines);
    file_with(&s, &f, &[]);
    let st = server.state.lock().unwrap();
    assert_eq!(st.hooks.len(), 4, "2 tickets x 2 runs");
    assert_eq!(st.hooks[0].1["action"], "opened");
    assert_eq!(st.hooks[2].1["action"], "recurred");
    assert_eq!(st.hooks[2].1["occurrence"], 2);
    assert_eq!(st.hooks[0].1["ticket"]["gate"], "dataset");
    assert_ne!(
        st.hooks[0].0, st.hooks[2].0,
        "a new idempotency key per occurrence"
    );
    // The ledger key drops the query string (it may hold a secret).
    let ledger = std::fs::read_to_string(Ledger::path_in(f.dir.path())).unwrap();
    assert!(!ledger.contains("secret"), "{ledger}");
}

#[test]
fn file_sink_is_idempotent_across_runs() {
    let f = fixture(config::Per::Gate);
    let s = sink(json!({"sink": "file", "path": ".mlgate/tickets"}));
    file_with(&s, &f, &[]);
    file_with(&s, &f, &[]);
    let dir = f.dir.path().join(".mlgate/tickets");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into())
        .collect();
    names.sort();
    assert_eq!(names.len(), 4, "{names:?}");
    let json: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(names.iter().find(|n| n.ends_with(".json")).unwrap()))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(json["occurrences"], 2);
    let md = std::fs::read_to_string(
        dir.join(&names[names.iter().position(|n| n.ends_with(".md")).unwrap()]),
    )
    .unwrap();
    assert!(md.starts_with("# mlgate: "), "{md}");
}

#[test]
fn github_sink_finds_its_open_issue_past_the_first_pages() {
    let server = Server::start();
    let f = fixture(config::Per::Gate);
    let s = sink(
        json!({"sink": "github", "repo": "org/repo", "api_url": server.url, "token_env": "T"}),
    );
    {
        let mut st = server.state.lock().unwrap();
        for n in 1..=75 {
            let body = if n == 70 {
                format!(
                    "older ticket\n{}",
                    ticket::marker(&f.tickets[0].fingerprint)
                )
            } else {
                format!("unrelated {n}")
            };
            st.issues.push(
                json!({"number": n, "state": "open", "title": "x", "body": body,
                "labels": [{"name": "mlgate"}]}),
            );
        }
    }
    let out = file_with(&s, &f, &[("T", TOKEN)]);
    assert_eq!(out.failed, 0, "{:?}", out.lines);
    let st = server.state.lock().unwrap();
    assert_eq!(
        st.comments.iter().filter(|(n, _)| *n == 70).count(),
        1,
        "{:?}",
        st.requests
    );
    assert_eq!(st.issues.len(), 76, "only the other ticket is new");
    assert!(
        st.requests.iter().any(|r| r.contains("page=3")),
        "{:?}",
        st.requests
    );
}
