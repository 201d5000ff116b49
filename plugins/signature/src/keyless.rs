//! Sigstore keyless verification against a `trusted_root.json`.

use crate::bundle::Bundle;
use crate::config::Config;
use crate::rules;
use crate::x509::{ChainError, Leaf};

/// The trusted root and the identity policy.
#[derive(Debug, Clone, Default)]
pub struct KeylessPolicy {}

impl KeylessPolicy {
    /// Build from the trusted root JSON and the config.
    pub fn new(_root: &[u8], _cfg: &Config, _time: Option<u64>) -> Result<Self, String> {
        Ok(KeylessPolicy {})
    }
}

/// Verify the keyless material of `b`.
pub fn verify(_b: &Bundle, _policy: &KeylessPolicy, _signed: &[u8]) -> Result<Leaf, ChainError> {
    Err(ChainError {
        rule: rules::UNSUPPORTED,
        message: "Sigstore keyless verification is not available in this build".into(),
    })
}
