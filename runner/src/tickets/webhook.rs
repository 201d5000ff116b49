//! `sink: webhook`: POST the ticket as JSON. The payload says whether the
//! ticket is new (`opened`) or known from the ledger (`recurred`), and an
//! `Idempotency-Key` header (fingerprint + occurrence) lets a receiver drop a
//! retried delivery it already processed.

use serde_json::json;

use super::http::{Client, HttpError};
use super::ticket::Ticket;

/// Deliver one ticket; `occurrence` is 1 for a new ticket.
pub fn post(client: &Client, url: &str, ticket: &Ticket, occurrence: u64) -> Result<(), HttpError> {
    let payload = json!({
        "event": "mlgate.ticket",
        "action": if occurrence == 1 { "opened" } else { "recurred" },
        "occurrence": occurrence,
        "ticket": ticket,
    });
    let body = payload.to_string();
    // The key is in the body too, so the same request can be retried as is.
    let _ = client.send("POST", url, Some(&body), true)?;
    Ok(())
}

/// Headers of a webhook client.
pub fn headers(token: Option<&str>, key: Option<&str>) -> Vec<(String, String)> {
    let mut h = Vec::new();
    if let Some(t) = token {
        h.push(("authorization".into(), format!("Bearer {t}")));
    }
    if let Some(k) = key {
        h.push(("idempotency-key".into(), k.to_string()));
    }
    h
}
