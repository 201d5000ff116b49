//! Gate failure tickets: after a run, each failed or errored gate (or each
//! finding at or above a severity, per sink) becomes a ticket with a stable
//! fingerprint, filed to the pipeline's `tickets:` sinks: a directory of
//! Markdown + JSON (`file`), GitHub Issues (`github`), a JSON POST
//! (`webhook`).
//!
//! Reruns never duplicate: the [`ledger`] records what each sink filed, the
//! file sink rewrites the same files, and the GitHub sink finds the open
//! issue by the fingerprint marker in its body and comments on it. Each sink
//! files at most `max_new` new tickets per run; the rest wait for the next
//! run (nothing is recorded for them, so nothing is lost). `--dry-run` files
//! nothing and lists what it would file. Texts go through [`Redactor`].

pub mod config;
pub mod file;
pub mod github;
pub mod http;
pub mod ledger;
pub mod redact;
pub mod ticket;
pub mod webhook;

use sha2::{Digest, Sha256};

pub use self::config::{SinkKind, SinkSpec, parse};
use self::ledger::Ledger;
pub use self::redact::Redactor;
use self::ticket::Ticket;
use crate::report::Context;
use crate::report::model::RunReport;

/// A stable fingerprint: SHA-256 over the parts, each length-prefixed.
pub fn fingerprint(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    h.update(b"mlgate-fingerprint/v1");
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    hex::encode(h.finalize())
}

/// The ledger key of a sink (no secrets: a webhook's query string is dropped).
pub fn sink_key(sink: &SinkSpec) -> String {
    match &sink.kind {
        SinkKind::File(f) => format!("file:{}", f.path),
        SinkKind::Github(g) => format!("github:{}/{}", g.api_url.trim_end_matches('/'), g.repo),
        SinkKind::Webhook(w) => format!("webhook:{}", w.url.split(['?', '#']).next().unwrap_or("")),
    }
}

fn sink_label(sink: &SinkSpec) -> String {
    match &sink.kind {
        SinkKind::File(f) => format!("file {}", f.path),
        SinkKind::Github(g) => format!("github {}", g.repo),
        SinkKind::Webhook(w) => format!("webhook {}", w.url.split(['?', '#']).next().unwrap_or("")),
    }
}

fn token_env(sink: &SinkSpec) -> Option<&str> {
    match &sink.kind {
        SinkKind::Github(g) => Some(&g.token_env),
        SinkKind::Webhook(w) => w.token_env.as_deref(),
        SinkKind::File(_) => None,
    }
}

/// What filing did, for the user (stderr) and tests.
#[derive(Debug, Default)]
pub struct Outcome {
    /// One line per ticket or problem.
    pub lines: Vec<String>,
    /// Tickets that could not be filed (sink errors).
    pub failed: usize,
}

/// Print what filing did on stderr.
pub fn report_outcome(outcome: Outcome) {
    for line in &outcome.lines {
        eprintln!("tickets: {line}");
    }
    if outcome.failed > 0 {
        eprintln!(
            "warning: {} ticket(s) could not be filed; they will be retried on the next run",
            outcome.failed
        );
    }
}

/// File the tickets of `report` to every sink, or with `dry_run` add what
/// would be filed to the report's skipped side effects.
pub fn after_run(
    sinks: &[SinkSpec],
    report: &mut RunReport,
    ctx: &Context,
    commit: Option<&str>,
    dry_run: bool,
) -> Outcome {
    let mut outcome = Outcome::default();
    if sinks.is_empty() {
        return outcome;
    }
    let secrets = sinks
        .iter()
        .filter_map(token_env)
        .filter_map(|name| std::env::var(name).ok());
    let redactor = Redactor::new(secrets);
    if dry_run {
        for sink in sinks {
            for t in ticket::build(report, ctx, sink.per, commit, &redactor) {
                report.skipped_side_effects.push(format!(
                    "ticket to {}: {}",
                    sink_label(sink),
                    t.title
                ));
            }
        }
        return outcome;
    }
    let Some(pipeline) = ctx.pipeline else {
        return outcome;
    };
    let mut ledger = match Ledger::load(&Ledger::path_in(&pipeline.project_dir)) {
        Ok(l) => l,
        Err(e) => {
            outcome.lines.push(format!("tickets not filed: {e}"));
            outcome.failed += 1;
            return outcome;
        }
    };
    for sink in sinks {
        let tickets = ticket::build(report, ctx, sink.per, commit, &redactor);
        file_sink(
            sink,
            &tickets,
            &pipeline.project_dir,
            &mut ledger,
            &mut outcome,
            &Env::process(),
        );
    }
    outcome
}

/// What the sinks take from the process: environment variables (tokens)
/// and the retry backoff unit. Tests pass their own.
pub struct Env<'a> {
    /// Look up an environment variable.
    pub var: &'a dyn Fn(&str) -> Option<String>,
    /// Backoff unit between retries of 5xx and transport errors.
    pub backoff: std::time::Duration,
}

impl Env<'_> {
    /// The real process environment.
    pub fn process() -> Env<'static> {
        fn var(name: &str) -> Option<String> {
            std::env::var(name).ok()
        }
        Env {
            var: &var,
            backoff: std::time::Duration::from_millis(500),
        }
    }
}

/// File `tickets` to one sink, honouring the ledger and `max_new`.
pub fn file_sink(
    sink: &SinkSpec,
    tickets: &[Ticket],
    project: &std::path::Path,
    ledger: &mut Ledger,
    out: &mut Outcome,
    env: &Env,
) {
    let key = sink_key(sink);
    let label = sink_label(sink);
    let token = match token_env(sink) {
        Some(name) => match (env.var)(name) {
            Some(t) if !t.is_empty() => Some(t),
            _ if matches!(sink.kind, SinkKind::Github(_)) => {
                if !tickets.is_empty() {
                    out.failed += tickets.len();
                    out.lines.push(format!(
                        "{label}: ${name} is not set; {} ticket(s) not filed",
                        tickets.len()
                    ));
                }
                return;
            }
            _ => None,
        },
        None => None,
    };
    let mut new = 0;
    for t in tickets {
        let known = ledger.get(&key, &t.fingerprint).cloned();
        if known.is_none() && new >= sink.max_new {
            out.lines.push(format!(
                "{label}: cap of {} new ticket(s) reached; `{}` waits for the next run",
                sink.max_new, t.title
            ));
            continue;
        }
        let result: Result<(String, bool), String> = match &sink.kind {
            SinkKind::File(f) => file::write(&project.join(&f.path), t)
                .map(|(name, is_new)| (format!("{}/{name}", f.path.trim_end_matches('/')), is_new)),
            SinkKind::Github(g) => {
                let gh = github::Github::new(g, token.as_deref().unwrap_or_default())
                    .with_backoff(env.backoff);
                let number = known
                    .as_ref()
                    .and_then(|k| k.reference.rsplit('/').next()?.parse().ok());
                gh.file(t, number)
                    .map(|f| match f {
                        github::Filed::Created(n) => (n, true),
                        github::Filed::Commented(n) => (n, false),
                    })
                    .map(|(n, is_new)| (format!("{}/issues/{n}", g.repo), is_new))
                    .map_err(|e| e.to_string())
            }
            SinkKind::Webhook(w) => {
                let occurrence = known.as_ref().map(|k| k.occurrences + 1).unwrap_or(1);
                let idem = format!("{}-{occurrence}", &t.fingerprint[..16]);
                let mut client = http::Client::new(webhook::headers(token.as_deref(), Some(&idem)));
                client.backoff = env.backoff;
                webhook::post(&client, &w.url, t, occurrence)
                    .map(|()| (key.clone(), known.is_none()))
                    .map_err(|e| e.to_string())
            }
        };
        match result {
            Ok((reference, is_new)) => {
                if is_new {
                    new += 1;
                }
                if let Err(e) = ledger.record(&key, &t.fingerprint, &reference) {
                    out.lines.push(format!("{label}: {e}"));
                    out.failed += 1;
                }
                out.lines.push(format!(
                    "{label}: {} {reference}: {}",
                    if is_new { "filed" } else { "updated" },
                    t.title
                ));
            }
            Err(e) => {
                out.failed += 1;
                out.lines
                    .push(format!("{label}: could not file `{}`: {e}", t.title));
            }
        }
    }
}

#[cfg(test)]
mod tests;
