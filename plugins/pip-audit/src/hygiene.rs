//! Lockfile hygiene: what makes an install unreproducible or hijackable even
//! when no advisory matches. Unpinned requirements, missing hashes, extra
//! indexes (dependency confusion), insecure indexes, direct references that
//! no advisory database can cover, typosquats of popular ML packages and
//! known malicious names.

use mlgate_plugin_sdk::{Finding, Severity};

use crate::config::Config;
use crate::lock::{Format, Lockfile, Requirement, Source};
use crate::names::{edit_distance, normalize};

/// Popular ML / data packages whose near-misses are typosquat suspects.
pub const POPULAR: &[&str] = &[
    "numpy",
    "scipy",
    "pandas",
    "scikit-learn",
    "torch",
    "torchvision",
    "torchaudio",
    "tensorflow",
    "tensorflow-gpu",
    "keras",
    "jaxlib",
    "transformers",
    "tokenizers",
    "datasets",
    "accelerate",
    "diffusers",
    "safetensors",
    "huggingface-hub",
    "xgboost",
    "lightgbm",
    "catboost",
    "matplotlib",
    "seaborn",
    "requests",
    "urllib3",
    "pillow",
    "opencv-python",
    "onnxruntime",
    "mlflow",
    "wandb",
    "pytorch-lightning",
    "lightning",
    "sentencepiece",
    "nltk",
    "spacy",
    "gensim",
    "openai",
    "langchain",
    "pyyaml",
    "protobuf",
    "triton",
    "setuptools",
    "boto3",
    "fastapi",
    "fastai",
    "flask",
    "django",
    "jupyter",
    "notebook",
    "ipython",
    "statsmodels",
    "sympy",
    "networkx",
    "bitsandbytes",
    "peft",
    "einops",
    "timm",
    "deepspeed",
    "vllm",
    "anthropic",
    "cryptography",
];

/// Real packages one edit from a popular name (not typosquats).
const KNOWN_NEIGHBOURS: &[&str] = &[
    "scapy",
    "dataset",
    "tokenizer",
    "torchx",
    "boto",
    "pyaml",
    "wand",
    "openapi",
    "panda",
    "keras2",
    "sympy2",
    "nltk3",
];

/// Names of known malicious uploads (not version-specific).
/// torchtriton: the Dec 2022 dependency-confusion package shadowing PyTorch
/// nightly's own; colourama, jeilyfish, python3-dateutil: removed typosquats.
pub const KNOWN_MALICIOUS: &[&str] = &["torchtriton", "colourama", "jeilyfish", "python3-dateutil"];

/// Rule ids with default severity, summary and help, for `describe()`.
pub const RULES: &[(&str, Severity, &str, &str)] = &[
    (
        "unpinned-requirement",
        Severity::Medium,
        "Requirement is not pinned to one version",
        "Pin an exact version (`name==X`), ideally with a lock tool (pip-compile, uv, poetry).",
    ),
    (
        "missing-hash",
        Severity::Medium,
        "Requirement has no --hash while hash checking is expected",
        "Add `--hash=sha256:…` for every requirement (pip-compile --generate-hashes).",
    ),
    (
        "extra-index-url",
        Severity::High,
        "More than one package index: dependency confusion risk",
        "Use one index (a mirror that proxies PyPI) or list the URL in `trusted_indexes` after review.",
    ),
    (
        "find-links",
        Severity::Low,
        "`--find-links` adds a package source beside the index",
        "Drop --find-links or make sure the location is controlled by you.",
    ),
    (
        "insecure-index",
        Severity::High,
        "Package index over plain HTTP or a trusted host",
        "Use an https:// index and remove --trusted-host.",
    ),
    (
        "direct-reference",
        Severity::Medium,
        "URL or VCS requirement: not auditable",
        "Publish the dependency to your index and pin it, or accept the risk explicitly.",
    ),
    (
        "local-path-requirement",
        Severity::Low,
        "Local path or editable requirement: not auditable",
        "Expected for your own packages; make sure the path is inside the repository.",
    ),
    (
        "typosquat-name",
        Severity::High,
        "Name is one edit away from a popular ML package",
        "Check the spelling; if the package is legitimate add it to `typosquat_allow`.",
    ),
    (
        "known-malicious-package",
        Severity::Critical,
        "Package name of a known malicious upload",
        "Remove it now and rotate any credentials the environment held.",
    ),
    (
        "lockfile-problem",
        Severity::Low,
        "Line or include the parser could not follow",
        "Fix the line; includes must stay inside the input (no URLs, no ../ outside).",
    ),
];

fn finding(
    rule: &str,
    message: String,
    req_file: &str,
    line: Option<u32>,
    relative: &str,
    subject: &str,
) -> Finding {
    let severity = RULES
        .iter()
        .find(|r| r.0 == rule)
        .map_or(Severity::Medium, |r| r.1);
    Finding::new(rule, severity, message)
        .at(req_file, line)
        .fingerprint(&[rule, relative, subject])
}

/// Hygiene findings for one lockfile.
pub fn check(
    lock: &Lockfile,
    config: &Config,
    relative: &dyn Fn(&std::path::Path) -> String,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let constrained: std::collections::HashSet<&str> = lock
        .requirements
        .iter()
        .filter(|r| r.constraint && r.version.is_some())
        .map(|r| r.normalized.as_str())
        .collect();
    let hashes_expected = config.require_hashes
        || (lock.format == Format::Requirements
            && lock.requirements.iter().any(|r| !r.hashes.is_empty()));
    for req in lock.requirements.iter().filter(|r| !r.constraint) {
        let path = req.file.to_string_lossy();
        let rel = relative(&req.file);
        let at = |rule: &str, message: String| {
            finding(rule, message, &path, req.line, &rel, &req.normalized)
        };
        match &req.source {
            Source::Registry(_) => {
                if req.version.is_none() && !constrained.contains(req.normalized.as_str()) {
                    let spec = if req.specifier.is_empty() {
                        "no version".to_string()
                    } else {
                        format!("`{}`", req.specifier)
                    };
                    out.push(at("unpinned-requirement", format!("{} has {spec}: the installed version is not fixed and cannot be audited", req.name)));
                }
                if hashes_expected && req.hashes.is_empty() {
                    let why = if config.require_hashes {
                        "`require_hashes` is set"
                    } else {
                        "other requirements in this file have hashes, so pip will refuse it"
                    };
                    out.push(at(
                        "missing-hash",
                        format!("{} has no --hash ({why})", req.name),
                    ));
                }
            }
            Source::Url(url) | Source::Vcs(url) => out.push(at(
                "direct-reference",
                format!(
                    "{} comes from `{url}`: not auditable against an advisory database",
                    req.name
                ),
            )),
            Source::Path { path: p, editable } => out.push(at(
                "local-path-requirement",
                format!(
                    "{}{} is a local path (`{p}`): not auditable",
                    if *editable { "editable " } else { "" },
                    req.name
                ),
            )),
        }
        out.extend(name_checks(req, config, &path, &rel));
    }
    out.extend(index_checks(lock, config, relative));
    for (file, line, message) in &lock.problems {
        out.push(finding(
            "lockfile-problem",
            message.clone(),
            &file.to_string_lossy(),
            *line,
            &relative(file),
            message,
        ));
    }
    out
}

fn name_checks(req: &Requirement, config: &Config, path: &str, rel: &str) -> Option<Finding> {
    let name = req.normalized.as_str();
    if KNOWN_MALICIOUS.contains(&name) {
        return Some(finding(
            "known-malicious-package",
            format!("{} is the name of a known malicious package", req.name),
            path,
            req.line,
            rel,
            name,
        ));
    }
    let allowed = |n: &str| {
        KNOWN_NEIGHBOURS.contains(&n) || config.typosquat_allow.iter().any(|a| normalize(a) == n)
    };
    if POPULAR.contains(&name) || allowed(name) {
        return None;
    }
    let target = POPULAR
        .iter()
        .find(|p| p.len() >= 5 && edit_distance(name, p, 1) == 1)?;
    Some(finding(
        "typosquat-name",
        format!(
            "{} is one edit away from the popular package `{target}`: check the spelling",
            req.name
        ),
        path,
        req.line,
        rel,
        name,
    ))
}

fn index_checks(
    lock: &Lockfile,
    config: &Config,
    relative: &dyn Fn(&std::path::Path) -> String,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let trusted = |url: &str| {
        config
            .trusted_indexes
            .iter()
            .any(|t| t.trim_end_matches('/') == url.trim_end_matches('/'))
    };
    let sources: Vec<_> = lock.indexes.iter().filter(|i| i.kind == "source").collect();
    for index in &lock.indexes {
        let file = index.file.to_string_lossy();
        let rel = relative(&index.file);
        let at = |rule: &str, message: String| {
            finding(rule, message, &file, index.line, &rel, &index.url)
        };
        if index.url.starts_with("http://") || index.kind == "trusted-host" {
            out.push(at(
                "insecure-index",
                format!("package source `{}` is not verified over HTTPS", index.url),
            ));
        }
        let extra =
            index.kind == "extra-index-url" || (index.kind == "source" && sources.len() > 1);
        if extra && !trusted(&index.url) {
            out.push(at(
                "extra-index-url",
                format!("`{}` is one of several package indexes: a public package of the same name as a private one can win (dependency confusion)", index.url),
            ));
        }
        if index.kind == "find-links" && !trusted(&index.url) {
            out.push(at(
                "find-links",
                format!(
                    "`--find-links {}` adds a package source beside the index",
                    index.url
                ),
            ));
        }
    }
    out
}

#[cfg(test)]
#[path = "hygiene_tests.rs"]
mod tests;
