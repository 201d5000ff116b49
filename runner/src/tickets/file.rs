//! `sink: file`: a directory with one `<fingerprint>.md` and one
//! `<fingerprint>.json` per ticket. Reruns rewrite the same two files
//! (keeping when it was first seen and counting occurrences), so the
//! directory never holds a duplicate.

use std::path::Path;

use serde_json::json;

use super::ticket::Ticket;

/// Write or update a ticket's files; returns the Markdown file's name and
/// whether it is new.
pub fn write(dir: &Path, ticket: &Ticket) -> Result<(String, bool), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let stem = &ticket.fingerprint[..ticket.fingerprint.len().min(16)];
    let md = dir.join(format!("{stem}.md"));
    let js = dir.join(format!("{stem}.json"));
    let now = jiff::Timestamp::now().to_string();
    let previous: Option<serde_json::Value> = std::fs::read_to_string(&js)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    let is_new = previous.is_none();
    let first_seen = previous
        .as_ref()
        .and_then(|p| p["first_seen"].as_str().map(str::to_string))
        .unwrap_or_else(|| now.clone());
    let occurrences = previous
        .as_ref()
        .and_then(|p| p["occurrences"].as_u64())
        .unwrap_or(0)
        + 1;
    let doc = json!({
        "ticket": ticket,
        "first_seen": first_seen,
        "last_seen": now,
        "occurrences": occurrences,
    });
    let markdown = format!(
        "# {}\n\n_First seen {first_seen}, last seen {now}, {occurrences} run(s)._\n\n{}",
        ticket.title, ticket.body
    );
    std::fs::write(&md, markdown)
        .and_then(|()| {
            std::fs::write(
                &js,
                serde_json::to_string_pretty(&doc).expect("serialises") + "\n",
            )
        })
        .map_err(|e| format!("cannot write {}: {e}", md.display()))?;
    Ok((format!("{stem}.md"), is_new))
}
