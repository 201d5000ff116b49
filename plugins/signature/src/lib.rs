//! The built-in `signature` gate: verifies, offline and from files, that the
//! model about to ship is exactly the one that was signed by a trusted
//! signer. OpenSSF model signing v1.0 bundles (key, certificate and Sigstore
//! keyless modes) and cosign blob signatures.
//!
//! This file is glue: inputs and config in, [`verify`] does the work. The
//! signer side, [`sign`], is a plain native module for `mlgate sign`.

pub mod bundle;
pub mod compare;
pub mod config;
pub mod cosign;
pub mod keyless;
pub mod keys;
pub mod rekor;
pub mod rekor_body;
pub mod rules;
pub mod scan;
pub mod sct;
pub mod sigalg;
#[cfg(not(target_family = "wasm"))]
pub mod sign;
pub mod statement;
pub mod trusted_root;
pub mod tsa;
pub mod tsa_der;
pub mod tsa_ess;
pub mod verify;
pub mod x509;

use std::io::Read;
use std::path::Path;

use mlgate_plugin_sdk::{Gate, GateError, GateResult, PluginInfo, Request};
use sha2::{Digest as _, Sha256};

use crate::keys::PublicKey;
use crate::verify::{Outcome, Trust};

/// The gate type.
pub struct Signature;

fn read_bounded(path: &Path, max: u64, what: &str) -> Result<Vec<u8>, GateError> {
    let file = std::fs::File::open(path).map_err(|e| GateError::io(path.display(), e))?;
    let mut buf = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut buf)
        .map_err(|e| GateError::io(path.display(), e))?;
    if buf.len() as u64 > max {
        return Err(GateError::input(format!(
            "{}: {what} is larger than {max} bytes",
            path.display()
        )));
    }
    Ok(buf)
}

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Parse an RFC 3339 UTC time (`2030-01-01T00:00:00Z`) to unix seconds.
pub fn parse_time(text: &str) -> Result<u64, GateError> {
    text.parse::<x509_cert::der::DateTime>()
        .map(|t| t.unix_duration().as_secs())
        .map_err(|e| {
            GateError::config(format!(
                "verify_time `{text}` is not an RFC 3339 UTC time (2030-01-01T00:00:00Z): {e}"
            ))
        })
}

/// Build the trust from whichever trust input is declared (exactly one).
fn trust(request: &Request, cfg: &config::Config) -> Result<Trust, GateError> {
    let given: Vec<&str> = ["public_key", "certificate_chain", "trusted_root"]
        .into_iter()
        .filter(|n| request.input(n).is_some())
        .collect();
    let [which] = given.as_slice() else {
        return Err(GateError::input(format!(
            "declare exactly one trust input (public_key, certificate_chain or trusted_root); got {}",
            if given.is_empty() {
                "none".to_string()
            } else {
                given.join(", ")
            }
        )));
    };
    let path = request.require_input(which)?;
    let text = read_bounded(path, 8 << 20, which)?;
    let time = cfg.verify_time.as_deref().map(parse_time).transpose()?;
    match *which {
        "public_key" => {
            let pem = String::from_utf8_lossy(&text);
            PublicKey::from_pem(&pem)
                .map(Trust::Key)
                .map_err(|e| GateError::input(format!("{}: {e}", path.display())))
        }
        "certificate_chain" => Ok(Trust::Certificates {
            pool: x509::pem_pool(&text)
                .map_err(|e| GateError::input(format!("{}: {e}", path.display())))?,
            time: time.unwrap_or_else(now_unix),
        }),
        _ => keyless::KeylessPolicy::new(&text, cfg, time)
            .map(|p| Trust::Keyless(Box::new(p)))
            .map_err(|e| GateError::input(format!("{}: {e}", path.display()))),
    }
}

impl Gate for Signature {
    fn describe() -> PluginInfo {
        let mut info = PluginInfo::new(
            "signature",
            env!("CARGO_PKG_VERSION"),
            "Verifies model signatures offline: OpenSSF model signing v1.0 (key, certificate, Sigstore keyless) and cosign blob signatures",
        )
        .input("model", "The model: a directory or a single file", true)
        .input("signature", "The signature: a Sigstore bundle (model.sig) or a cosign blob signature", true)
        .input("public_key", "Trusted ECDSA public key (PEM) for key mode and cosign", false)
        .input("certificate_chain", "Trusted root (and intermediate) certificates (PEM) for certificate mode", false)
        .input("trusted_root", "Sigstore trusted_root.json for keyless mode (with `identity`/`issuer` config)", false)
        .config_schema(config::SCHEMA);
        for r in rules::ALL {
            info = info.rule(r.id, r.severity, r.summary, r.help);
        }
        info
    }

    fn run(request: &Request) -> Result<GateResult, GateError> {
        let cfg: config::Config = request.config()?;
        let model = request.require_input("model")?;
        let sig_path = request.require_input("signature")?;
        let trust = trust(request, &cfg)?;
        let text = read_bounded(sig_path, bundle::MAX_BUNDLE_BYTES, "the signature")?;
        let sig_name = sig_path.display().to_string();
        let is_json = text.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
        let sigstore = is_json
            && serde_json::from_slice::<serde_json::Value>(&text)
                .is_ok_and(|v| v.get("mediaType").is_some());
        let outcome: Outcome = match (&trust, sigstore) {
            (_, true) => {
                let sig_digest = Sha256::digest(&text);
                verify::verify_model(
                    model,
                    &sig_name,
                    &text,
                    &trust,
                    &cfg.ignore_paths(),
                    Some(sig_digest.as_slice()),
                )?
            }
            (Trust::Key(key), false) => cosign::verify_blob(model, &sig_name, &text, key)?,
            (_, false) => {
                return Err(GateError::input(format!(
                    "{sig_name}: not a Sigstore bundle; a bare cosign signature can only be checked with `public_key`"
                )));
            }
        };
        let summary = if outcome.findings.is_empty() {
            format!(
                "signature verified ({}); {} file(s), {} bytes checked",
                outcome.signer, outcome.stats.files, outcome.stats.bytes
            )
        } else {
            format!(
                "signature verification FAILED: {} problem(s)",
                outcome.findings.len()
            )
        };
        Ok(GateResult::from_findings(outcome.findings, summary)
            .metric("files_checked", outcome.stats.files as f64)
            .metric("bytes_hashed", outcome.stats.bytes as f64))
    }
}

mlgate_plugin_sdk::export_gate!(Signature);
