//! The pipeline as written: serde structs that mirror the YAML, with
//! `deny_unknown_fields`, before any meaning is checked.
//!
//! Fields whose validity is semantic (stage names, sizes, plugin refs ...)
//! are kept as text here so that `validate` can report every bad one, located,
//! in one pass; serde itself only rejects unknown keys and wrong shapes.
//!
//! ```yaml
//! version: 1
//! name: mlsecops
//! defaults: { fail_on: high, limits: { memory: 512MiB, timeout: 120s } }
//! allow_outside_project: false
//! tickets: [ { kind: file, path: tickets.jsonl } ]
//! gates:
//!   signature:
//!     stage: deployment
//!     plugin: builtin:signature        # or plugins/x.wasm + sha256: <64 hex>
//!     needs: [model-scan]
//!     inputs: { model: models/ }
//!     outputs: { report: out/signature }
//!     with: { algorithm: ed25519 }
//!     limits: { memory: 1GiB, timeout: 5m }
//!     fail_on: medium                   # or never
//!     description: Verifies the release signature
//! ```

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPipeline {
    /// Schema version; must be 1.
    pub version: Option<serde_yaml_ng::Value>,
    /// Pipeline name.
    pub name: Option<String>,
    /// Defaults for every gate.
    pub defaults: Option<RawDefaults>,
    /// Allow inputs and outputs outside the project directory.
    #[serde(default)]
    pub allow_outside_project: bool,
    /// Ticket sinks, validated by the tickets module.
    #[serde(default)]
    pub tickets: Vec<serde_json::Value>,
    /// Gates in file order.
    #[serde(default)]
    pub gates: Ordered<RawGate>,
}

/// `defaults:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDefaults {
    /// Default failure threshold.
    pub fail_on: Option<Text>,
    /// Default limits.
    pub limits: Option<RawLimits>,
}

/// `limits:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    /// A size such as `512MiB`.
    pub memory: Option<Text>,
    /// A duration such as `120s`.
    pub timeout: Option<Text>,
}

/// One entry under `gates:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGate {
    /// `pre-commit`, `training` or `deployment`.
    pub stage: Option<Text>,
    /// `builtin:NAME` or a `.wasm` path.
    pub plugin: Option<Text>,
    /// Pin of a `.wasm` plugin.
    pub sha256: Option<Text>,
    /// Gates that must pass first (a list, or one id).
    #[serde(default, deserialize_with = "one_or_many")]
    pub needs: Vec<Text>,
    /// Input name -> path.
    #[serde(default)]
    pub inputs: Ordered<Text>,
    /// Output name -> directory.
    #[serde(default)]
    pub outputs: Ordered<Text>,
    /// Plugin configuration.
    #[serde(rename = "with")]
    pub config: Option<serde_yaml_ng::Value>,
    /// Per-gate limits.
    pub limits: Option<RawLimits>,
    /// Per-gate failure threshold.
    pub fail_on: Option<Text>,
    /// Free text for humans (accepted and checked to be text; the model
    /// has no place for it yet).
    #[allow(dead_code)]
    pub description: Option<String>,
}

/// A scalar taken as text whatever YAML typed it as (`65536`, `true`,
/// `high`), so that the semantic check, not serde, judges it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a scalar (a string or a number)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A string-keyed mapping that keeps file order and every entry, duplicates
/// included (the span index reports those).
#[derive(Debug)]
pub struct Ordered<T>(pub Vec<(String, T)>);

impl<T> Default for Ordered<T> {
    fn default() -> Self {
        Ordered(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Ordered<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Ordered<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Ordered<T>, E> {
                Ok(Ordered(Vec::new()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered<T>, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<Text, T>()? {
                    out.push((k.0, v));
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

/// A list of scalars, or a single scalar taken as a list of one
/// (`needs: model-scan` means `needs: [model-scan]`).
fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Text>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Vec<Text>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a gate id or a list of gate ids")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Vec<Text>, E> {
            Ok(Vec::new())
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<Text>, E> {
            Ok(vec![Text(v.to_string())])
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Text>, A::Error> {
            let mut out = Vec::new();
            while let Some(item) = seq.next_element::<Text>()? {
                out.push(item);
            }
            Ok(out)
        }
    }
    d.deserialize_any(V)
}
