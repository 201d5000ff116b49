//! The in-toto Statement v1 carrying an OpenSSF model signing v1.0 predicate,
//! turned into a [`Manifest`]: the serialization parameters and the signed
//! resource digests, with the root digest checked against the resources.
//!
//! Format (model_signing `_signing/signing.py`, `Payload`): one subject whose
//! `digest.sha256` is SHA-256 over the concatenated raw resource digests in
//! their listed order; `predicate.serialization` = {method: files|shards,
//! hash_type, allow_symlinks, shard_size?, ignore_paths?};
//! `predicate.resources` = [{name, algorithm, digest (hex)}].

use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::rules;

/// The in-toto statement type.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// The model signing v1.0 predicate type.
pub const PREDICATE_TYPE: &str = "https://model_signing/signature/v1.0";
/// Most resources accepted in one manifest.
pub const MAX_RESOURCES: usize = 1_000_000;

/// Hash function of the resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashKind {
    /// SHA-256 (32 bytes).
    Sha256,
    /// BLAKE2b-512 (64 bytes), Python's `hashlib.blake2b()`.
    Blake2b,
}

impl HashKind {
    /// Digest length in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            HashKind::Sha256 => 32,
            HashKind::Blake2b => 64,
        }
    }

    /// The name model_signing writes in `algorithm` for a whole file.
    pub fn name(self) -> &'static str {
        match self {
            HashKind::Sha256 => "sha256",
            HashKind::Blake2b => "blake2b",
        }
    }
}

/// How the model was cut into resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// One resource per file, named by its path.
    Files,
    /// Fixed-size shards named `path:start:end`.
    Shards {
        /// Shard size in bytes.
        shard_size: u64,
    },
}

/// `predicate.serialization`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Serialization {
    /// files or shards.
    pub method: Method,
    /// Hash of every resource.
    pub hash: HashKind,
    /// Whether the signer followed symlinks.
    pub allow_symlinks: bool,
    /// Model-root-relative paths the signer left out.
    pub ignore_paths: Vec<String>,
}

/// One signed resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// `path` (files) or `path:start:end` (shards).
    pub name: String,
    /// Raw digest.
    pub digest: Vec<u8>,
}

/// What the signature says the model is.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// Subject name (the model directory's or file's name).
    pub model_name: String,
    /// Serialization parameters.
    pub serialization: Serialization,
    /// Resources in listed order.
    pub resources: Vec<Resource>,
}

/// Why a statement was refused: the rule to report and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementError {
    /// Rule id from [`rules`].
    pub rule: &'static str,
    /// What is wrong, for a release engineer.
    pub message: String,
}

fn malformed(message: impl Into<String>) -> StatementError {
    StatementError {
        rule: rules::BUNDLE_INVALID,
        message: message.into(),
    }
}

fn unsupported(message: impl Into<String>) -> StatementError {
    StatementError {
        rule: rules::UNSUPPORTED,
        message: message.into(),
    }
}

fn text<'a>(v: &'a Value, key: &str) -> Result<&'a str, StatementError> {
    v.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| malformed(format!("the statement has no string `{key}`")))
}

/// Parse and check an in-toto payload (the DSSE payload bytes).
pub fn parse(payload: &[u8]) -> Result<Manifest, StatementError> {
    let st: Value = serde_json::from_slice(payload)
        .map_err(|e| malformed(format!("the DSSE payload is not JSON: {e}")))?;
    let kind = text(&st, "_type")?;
    if kind != STATEMENT_TYPE {
        return Err(unsupported(format!(
            "statement type `{kind}` is not {STATEMENT_TYPE}"
        )));
    }
    let predicate_type = text(&st, "predicateType")?;
    if predicate_type != PREDICATE_TYPE {
        return Err(unsupported(format!(
            "predicate type `{predicate_type}` is not {PREDICATE_TYPE} (pre-1.0 model signatures must be re-signed)"
        )));
    }
    let subjects = st
        .get("subject")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed("the statement has no `subject` list"))?;
    let [subject] = subjects.as_slice() else {
        return Err(malformed(format!(
            "expected exactly one subject, found {}",
            subjects.len()
        )));
    };
    let model_name = text(subject, "name")?.to_string();
    let root_hex = subject
        .get("digest")
        .and_then(|d| d.get("sha256"))
        .and_then(Value::as_str)
        .ok_or_else(|| malformed("the subject has no `digest.sha256`"))?;
    let root = hex::decode(root_hex)
        .ok()
        .filter(|d| d.len() == 32)
        .ok_or_else(|| malformed(format!("subject digest `{root_hex}` is not SHA-256 hex")))?;
    let predicate = st
        .get("predicate")
        .ok_or_else(|| malformed("the statement has no `predicate`"))?;
    let serialization = parse_serialization(
        predicate
            .get("serialization")
            .ok_or_else(|| malformed("the predicate has no `serialization`"))?,
    )?;
    let list = predicate
        .get("resources")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed("the predicate has no `resources` list"))?;
    if list.len() > MAX_RESOURCES {
        return Err(unsupported(format!(
            "{} resources exceed the limit of {MAX_RESOURCES}",
            list.len()
        )));
    }
    let expected_alg = match serialization.method {
        Method::Files => serialization.hash.name().to_string(),
        Method::Shards { shard_size } => {
            format!("{}-sharded-{shard_size}", serialization.hash.name())
        }
    };
    let mut resources = Vec::with_capacity(list.len());
    let mut hasher = Sha256::new();
    for r in list {
        let name = text(r, "name")?.to_string();
        let alg = text(r, "algorithm")?;
        if alg != expected_alg {
            return Err(unsupported(format!(
                "resource `{name}` uses algorithm `{alg}`, but the serialization says `{expected_alg}`"
            )));
        }
        let hex_digest = text(r, "digest")?;
        let digest = hex::decode(hex_digest)
            .ok()
            .filter(|d| d.len() == serialization.hash.digest_len())
            .ok_or_else(|| malformed(format!("resource `{name}` has a malformed {alg} digest")))?;
        hasher.update(&digest);
        resources.push(Resource { name, digest });
    }
    if hasher.finalize().as_slice() != root.as_slice() {
        return Err(StatementError {
            rule: rules::MANIFEST_INCONSISTENT,
            message: format!(
                "the signed root digest {root_hex} does not match the {} listed resource digests",
                resources.len()
            ),
        });
    }
    Ok(Manifest {
        model_name,
        serialization,
        resources,
    })
}

fn parse_serialization(s: &Value) -> Result<Serialization, StatementError> {
    let hash = match text(s, "hash_type")? {
        "sha256" => HashKind::Sha256,
        "blake2" | "blake2b" => HashKind::Blake2b,
        other => {
            return Err(unsupported(format!(
                "hash type `{other}` is not supported (sha256, blake2b)"
            )));
        }
    };
    let method = match text(s, "method")? {
        "files" => Method::Files,
        "shards" => {
            let size = s
                .get("shard_size")
                .ok_or_else(|| malformed("shards without `shard_size`"))?;
            // model_signing writes the size through protobuf JSON, as a float.
            let shard_size = size
                .as_u64()
                .or_else(|| {
                    size.as_f64()
                        .filter(|f| f.fract() == 0.0 && *f >= 1.0 && *f < 9.0e15)
                        .map(|f| f as u64)
                })
                .filter(|n| *n > 0)
                .ok_or_else(|| malformed(format!("shard_size {size} is not a positive integer")))?;
            Method::Shards { shard_size }
        }
        other => {
            return Err(unsupported(format!(
                "serialization method `{other}` is not supported (files, shards)"
            )));
        }
    };
    let allow_symlinks = match s.get("allow_symlinks") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(t)) if t == "true" || t == "false" => t == "true",
        None => false,
        Some(other) => {
            return Err(malformed(format!(
                "allow_symlinks {other} is not a boolean"
            )));
        }
    };
    let ignore_paths = match s.get("ignore_paths") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| malformed("ignore_paths holds a non-string"))?,
        Some(_) => return Err(malformed("ignore_paths is not a list")),
    };
    Ok(Serialization {
        method,
        hash,
        allow_symlinks,
        ignore_paths,
    })
}

/// Build the in-toto statement for a manifest (the signer's side). The root
/// digest is computed here, over the resources in the given order.
pub fn to_statement(m: &Manifest) -> Value {
    let mut hasher = Sha256::new();
    for r in &m.resources {
        hasher.update(&r.digest);
    }
    let alg = match m.serialization.method {
        Method::Files => m.serialization.hash.name().to_string(),
        Method::Shards { shard_size } => {
            format!("{}-sharded-{shard_size}", m.serialization.hash.name())
        }
    };
    let mut ser = serde_json::json!({
        "method": match m.serialization.method { Method::Files => "files", Method::Shards { .. } => "shards" },
        "hash_type": match m.serialization.hash { HashKind::Sha256 => "sha256", HashKind::Blake2b => "blake2" },
        "allow_symlinks": m.serialization.allow_symlinks,
    });
    if let Method::Shards { shard_size } = m.serialization.method {
        ser["shard_size"] = shard_size.into();
    }
    if !m.serialization.ignore_paths.is_empty() {
        ser["ignore_paths"] = m.serialization.ignore_paths.clone().into();
    }
    let resources: Vec<Value> = m
        .resources
        .iter()
        .map(|r| serde_json::json!({"name": r.name, "algorithm": alg, "digest": hex::encode(&r.digest)}))
        .collect();
    serde_json::json!({
        "_type": STATEMENT_TYPE,
        "subject": [{"name": m.model_name, "digest": {"sha256": hex::encode(hasher.finalize())}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {"serialization": ser, "resources": resources},
    })
}

#[cfg(test)]
#[path = "statement_tests.rs"]
mod tests;
